"""The dispatcher: due outbox rows → one message per chat → the channel's Sender, under its rate limits.

It knows nothing of texts or channels: the bot gives it a `render` function and one `Sender` per channel. Every
attempt and its result is committed as soon as it is known; a row claimed by a dispatcher that dies is claimed again
after a lease, and a dispatcher stopped gracefully puts back what it had claimed but not sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from domain.delivery import (
    BUSY_HOLD,
    UNCERTAIN_BACKOFF,
    Failed,
    RetryLater,
    Sender,
    SendResult,
    Sent,
    Target,
    Uncertain,
    Unreachable,
)
from domain.policy import ReminderPolicy, local_moment
from domain.rules import quiet_until
from domain.vocabulary import BROADCAST_STAGE, ReminderStatus
from service import dispatch as dispatching
from service.dispatch import Claimed
from storage.models import Member, Reminder
from storage.outbox import BUSY, ReminderUpdate

M = TypeVar("M")
T = TypeVar("T")

UNCERTAIN = "uncertain"  # a pending reminder's reason while its uncertain send waits to go again


@dataclass(frozen=True, slots=True)
class Batch:
    """Everything due for one chat in this pass: a family phone gets one message listing each person."""

    target: Target
    items: tuple[tuple[Reminder, Member], ...]
    now: datetime
    note_for: str | None = None  # a note to a member that their sponsor was reminded (not the reminder itself)


class RateLimiter:
    """Spaces sends evenly at `per_second` overall and `per_key_seconds` apart per chat; a 429 pauses everything.

    Even spacing alone is not enough: if the event loop stalls, sends whose slots passed start together and crowd the
    next second. So starts are also counted over a sliding second, and a send waits while that second is full.
    """

    def __init__(self, per_second: float, per_key_seconds: float) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.per_second = per_second
        self.per_key = per_key_seconds
        self._next = 0.0
        self._next_by_key: dict[str, float] = {}
        self._starts: deque[float] = deque()

    async def wait(self, key: str) -> None:
        now = time.monotonic()
        slot = max(now, self._next, self._next_by_key.get(key, 0.0))
        self._next = slot + self.interval
        self._next_by_key[key] = slot + self.per_key
        if slot > now:
            await asyncio.sleep(slot - now)
        if self.per_second <= 0:
            return
        while True:
            now = time.monotonic()
            while self._starts and self._starts[0] <= now - 1.0:
                self._starts.popleft()
            if len(self._starts) < self.per_second:
                self._starts.append(now)
                return
            await asyncio.sleep(self._starts[0] + 1.0 - now)

    def pause(self, seconds: float) -> None:
        self._next = max(self._next, time.monotonic() + seconds)

    @property
    def last_start(self) -> float:
        """When the latest send was let through (monotonic clock)."""
        return self._starts[-1] if self._starts else 0.0


@dataclass(slots=True)
class DispatchStats:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    unreachable: int = 0
    deferred: int = 0
    expired: int = 0
    messages: int = 0
    throttled: int = 0
    uncertain: int = 0  # sends the channel never answered: sent once more after a back-off
    confirmed: int = 0  # uncertain sends their chat answered since: they arrived, not sent again
    released: int = 0  # claimed but not sent when the dispatcher was stopped: pending again at once

    def add(self, other: DispatchStats) -> None:
        for name in self.__slots__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


# A graceful stop (SIGTERM) lets sends already on the wire finish for this long: the Bot API client gives up after
# its own timeouts (5 s to connect, 5 s to read) well before; a send still unanswered then is recorded as uncertain.
STOP_GRACE = 15.0
# How long the writer keeps trying to commit known results while the database is unreachable (sends wait meanwhile).
RECORD_PATIENCE = 120.0


@dataclass(slots=True)
class _Pass:
    """One pass's working state: what was claimed, the counts, and what is recorded at its start (held back)."""

    now: datetime
    claimed: Claimed
    stats: DispatchStats
    updates: list[ReminderUpdate] = field(default_factory=list)
    unreachable: set[int] = field(default_factory=set)  # address ids

    def targets(self, member_id: int) -> list[Target]:
        return self.claimed.targets.get(member_id, [])


_Outcome = tuple[list[ReminderUpdate], list[ReminderUpdate], set[int]]  # updates, notes, unreachable address ids


class _Writer:
    """Commits results as soon as they are known, in one transaction at a time: whatever finished while the previous
    commit ran goes in the next (bench/outcomes.py: a commit per message is the database's pace, not the channel's).
    A sender waits for its result's commit before its slot is free, so never more than `in_flight` sent messages
    are unrecorded — what a kill -9 can make go out twice."""

    def __init__(self, record: Callable[[_Outcome], None]) -> None:
        self._record = record
        self._queue: list[tuple[_Outcome, asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def commit(
        self,
        updates: list[ReminderUpdate],
        notes: list[ReminderUpdate] | None = None,
        unreachable: set[int] | None = None,
    ) -> None:
        if not updates and not notes and not unreachable:
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append(((updates, notes or [], unreachable or set()), done))
        self._wake.set()
        if self._task is None:
            self._task = asyncio.create_task(self._run())
        await done

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            taken, self._queue = self._queue, []
            merged: _Outcome = ([], [], set())
            for (updates, notes, unreachable), _ in taken:
                merged[0].extend(updates)
                merged[1].extend(notes)
                merged[2].update(unreachable)
            try:
                await self._patiently(merged)
            except (Exception, asyncio.CancelledError) as error:
                failure = error if isinstance(error, Exception) else RuntimeError("the dispatch pass ended")
                for _, done in taken:
                    done.set_exception(failure)
                if isinstance(error, asyncio.CancelledError):
                    raise
                continue
            for _, done in taken:
                done.set_result(None)

    async def _patiently(self, outcome: _Outcome) -> None:
        """The database gone for a while (a restart, a failover) must not lose results already known."""
        give_up = time.monotonic() + RECORD_PATIENCE
        while True:
            try:
                await asyncio.to_thread(self._record, outcome)
                return
            except DBAPIError:
                if time.monotonic() > give_up:
                    raise
                await asyncio.sleep(1.0)

    async def close(self) -> None:
        """The pass is over (or failed): no sender may wait for a commit that will not come."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for _, done in self._queue:
            if not done.done():
                done.set_exception(RuntimeError("the dispatch pass ended before this result was committed"))
        self._queue = []


async def _unless(event: asyncio.Event, work: Awaitable[T]) -> tuple[bool, T | None]:
    """`work`'s result, unless `event` is set first (then `work` is cancelled): (finished, result)."""
    task = asyncio.ensure_future(work)
    if event.is_set():
        task.cancel()
        return False, None
    stopper = asyncio.ensure_future(event.wait())
    try:
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
    if task.done():
        return True, task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return False, None


@dataclass
class Dispatcher(Generic[M]):
    engine: Engine
    senders: Mapping[str, Sender[M]]
    render: Callable[[Batch], M]
    policy: ReminderPolicy
    worker: str
    batch_size: int = 500
    lease: timedelta = timedelta(minutes=5)
    max_attempts: int = 6
    busy_for: timedelta = BUSY_HOLD
    in_flight: int = 64
    limiters: dict[str, RateLimiter] = field(default_factory=dict)
    stop_grace: float = STOP_GRACE
    uncertain_backoff: timedelta = UNCERTAIN_BACKOFF
    _stopping: bool = field(default=False, init=False)
    _stop: asyncio.Event | None = field(default=None, init=False)  # the running pass's: stop claiming and sending
    _give_up: asyncio.Event | None = field(default=None, init=False)  # the grace is over: stop waiting for answers
    _running: set[asyncio.Future[None]] = field(default_factory=set, init=False)  # one per pass under way

    def __post_init__(self) -> None:
        for channel, sender in self.senders.items():
            self.limiters.setdefault(channel, RateLimiter(sender.per_second, sender.per_chat_seconds))

    def stop(self) -> None:
        """Stop gracefully (SIGTERM): claim nothing more, let sends on the wire finish (up to `stop_grace` seconds),
        record them, and put what was claimed but not sent back to pending for another process or the restart."""
        if self._stopping:
            return
        self._stopping = True
        if self._stop is not None:
            self._stop.set()
        give_up = self._give_up
        if give_up is not None:
            asyncio.get_running_loop().call_later(self.stop_grace, give_up.set)

    @property
    def stopping(self) -> bool:
        return self._stopping

    async def stopped(self) -> None:
        """Wait until no pass is running (after `stop`, it ends within the grace and a commit)."""
        if self._running:
            await asyncio.wait(set(self._running))

    async def run_once(self, now: datetime) -> DispatchStats:
        """Claim one batch of due reminders and deal with each of them; each result is committed as it is known."""
        if self._stopping:
            return DispatchStats()
        running: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._running.add(running)
        self._stop, self._give_up = stop, give_up = asyncio.Event(), asyncio.Event()
        writer = _Writer(self._record)
        try:
            return await self._pass(now, writer, stop, give_up)
        finally:
            await writer.close()
            self._running.discard(running)
            running.set_result(None)

    async def _pass(self, now: datetime, writer: _Writer, stop: asyncio.Event, give_up: asyncio.Event) -> DispatchStats:
        claimed = await asyncio.to_thread(self._claim, now)
        work = _Pass(now, claimed, DispatchStats(claimed=len(claimed.reminders)))
        batches = self._batches(work)
        await writer.commit(work.updates)  # held back, cancelled, confirmed: known before anything is sent
        gate = asyncio.Semaphore(self.in_flight)
        unsent: list[ReminderUpdate] = []

        async def deliver(batch: Batch) -> None:
            async with gate:  # held until the result is committed
                limiter = self.limiters[batch.target.channel]
                if not (await _unless(stop, limiter.wait(batch.target.external_id)))[0]:
                    unsent.extend(self._release(reminder, now) for reminder, _ in batch.items)
                    return
                results, unreachable = await self._send(batch, work, give_up)
                await writer.commit(results, unreachable=unreachable)
                if batch.target.sponsor is not None and not stop.is_set():
                    await writer.commit([], notes=await self._notify_members(batch, results, work))

        await asyncio.gather(*(deliver(batch) for batch in batches))
        await writer.commit(unsent)
        work.stats.released += len(unsent)
        return work.stats

    async def drain(self, now: datetime, *, max_passes: int = 10_000) -> DispatchStats:
        """Run passes until nothing due is left, or until stopped (the CLI's `dispatch --once`, tests, benchmarks)."""
        total = DispatchStats()
        for _ in range(max_passes):
            if self._stopping:
                break
            stats = await self.run_once(now)
            total.add(stats)
            if stats.claimed == 0:
                break
        return total

    # --- steps ---

    def _claim(self, now: datetime) -> Claimed:
        return dispatching.claim(
            self.engine, now=now, worker=self.worker, limit=self.batch_size, lease=self.lease, busy_for=self.busy_for
        )

    def _record(self, outcome: _Outcome) -> None:
        updates, notes, unreachable = outcome
        dispatching.record(self.engine, updates=updates, notes=notes, unreachable=unreachable)

    def _batches(self, work: _Pass) -> list[Batch]:
        """What goes out now, by chat, and broadcasts apart from reminders: a family phone gets one message of each
        kind. The rest is cancelled or held back from this pass (its update is kept for the record)."""
        grouped: dict[tuple[int, bool], list[tuple[Reminder, Member]]] = {}
        chosen: dict[int, Target] = {}
        for reminder in work.claimed.reminders:
            member = work.claimed.members.get(reminder.member_id)
            broadcast = reminder.stage == BROADCAST_STAGE
            options = work.targets(reminder.member_id)
            # News goes to the member's own chat, never to whoever pays for them.
            target = self._target([t for t in options if t.sponsor is None] if broadcast else options)
            held = self._held(reminder, member, target, work)
            if held is not None:
                work.updates.append(held)
                continue
            assert member is not None  # _held cancels the reminder otherwise
            assert target is not None  # and fails it
            chosen[target.address_id] = target
            grouped.setdefault((target.address_id, broadcast), []).append((reminder, member))
        return [Batch(chosen[address_id], tuple(items), work.now) for (address_id, _), items in grouped.items()]

    def _held(
        self, reminder: Reminder, member: Member | None, target: Target | None, work: _Pass
    ) -> ReminderUpdate | None:
        """Cancelled (the member was deleted or opted out), or held back and counted, when not sent in this pass."""
        if member is None or member.opted_out:
            reason = "deleted" if member is None else "opted_out"
            return self._update(reminder, work.now, ReminderStatus.CANCELLED, reason=reason)
        held = self._arrived(reminder, work) or self._hold(reminder, target, work.now)
        if held is not None:
            work.stats.expired += held.status is ReminderStatus.SKIPPED
            work.stats.deferred += held.status is ReminderStatus.PENDING
            work.stats.failed += held.status is ReminderStatus.FAILED
        return held

    def _arrived(self, reminder: Reminder, work: _Pass) -> ReminderUpdate | None:
        """An uncertain send whose chat has written since: the message did arrive, so it is not sent again."""
        if reminder.uncertain_at is None or reminder.reason != UNCERTAIN:
            return None
        chat = next((t for t in work.targets(reminder.member_id) if t.address_id == reminder.address_id), None)
        if chat is None or chat.last_inbound_at is None or chat.last_inbound_at <= reminder.uncertain_at:
            return None
        work.stats.confirmed += 1
        return self._update(reminder, work.now, ReminderStatus.SENT, reason="arrived:reply", target=chat)

    def _release(self, reminder: Reminder, now: datetime) -> ReminderUpdate:
        """Claimed but not sent (the dispatcher is stopping): pending again, for whoever claims next."""
        return self._update(reminder, now, ReminderStatus.PENDING, reason=reminder.reason)

    def _target(self, options: list[Target]) -> Target | None:
        usable = [t for t in options if t.channel in self.senders]
        return usable[0] if usable else None

    def _hold(self, reminder: Reminder, target: Target | None, now: datetime) -> ReminderUpdate | None:
        """Why this reminder is not sent in this pass, if it is not."""
        if reminder.expires_at <= now:
            return self._update(reminder, now, ReminderStatus.SKIPPED, reason="expired")
        later = self._not_now(reminder, now)
        if later is not None:
            return later
        if target is None:
            return self._update(reminder, now, ReminderStatus.FAILED, reason="no_channel")
        if target.busy_until is not None and target.busy_until > now:
            # The person is in the middle of a conversation: do not interrupt, try again when it has gone quiet.
            return self._update(reminder, now, ReminderStatus.PENDING, send_after=target.busy_until, reason=BUSY)
        return None

    def _not_now(self, reminder: Reminder, now: datetime) -> ReminderUpdate | None:
        """Outside the sending hours or in a quiet period, where the reminder's member lives: wait until they end."""
        zone = ZoneInfo(reminder.zone)
        local = now.astimezone(zone)
        if not self.policy.window_start <= local.time() < self.policy.window_end:
            day = local.date() if local.time() < self.policy.window_start else local.date() + timedelta(days=1)
            opens = local_moment(day, self.policy.window_start, zone)
            return self._update(reminder, now, ReminderStatus.PENDING, send_after=opens, reason="outside_window")
        quiet_end = quiet_until(self.policy.quiet, local)
        if quiet_end is not None:
            return self._update(reminder, now, ReminderStatus.PENDING, send_after=quiet_end, reason="quiet_period")
        return None

    async def _send(self, batch: Batch, work: _Pass, give_up: asyncio.Event) -> tuple[list[ReminderUpdate], set[int]]:
        """Send the batch's message (its turn under the rate limit taken): each reminder's new state, and the chat if
        it proved unreachable."""
        target = batch.target
        sender = self.senders[target.channel]
        message = self.render(batch)
        try:
            answered, result = await _unless(give_up, sender.send(target, message))
        except Exception as bug:  # a sender bug must not lose the batch: retry it later
            answered, result = True, RetryLater(error=f"{type(bug).__name__}: {bug}")
        if not answered or result is None:  # stopping, and the channel did not answer within the grace
            result = Uncertain("stopped before the channel answered")
        work.stats.messages += 1
        unreachable: set[int] = set()
        return [self._after(reminder, result, target, work, unreachable) for reminder, _ in batch.items], unreachable

    def _after(
        self, reminder: Reminder, result: SendResult, target: Target, work: _Pass, unreachable: set[int]
    ) -> ReminderUpdate:
        """The reminder's new state once its message went out (or did not), counted."""
        stats = work.stats
        match result:
            case Sent(provider_id=provider_id):
                stats.sent += 1
                return self._update(
                    reminder,
                    work.now,
                    ReminderStatus.SENT,
                    attempt="sent",
                    provider_message_id=provider_id,
                    target=target,
                    # A send again after an uncertain one: if both arrived, this one is the one duplicate.
                    reason="resent" if reminder.uncertain_at is not None else "",
                )
            case Uncertain(error=error):
                stats.uncertain += 1
                update = self._uncertain(reminder, work.now, error, target)
                stats.failed += update.status is ReminderStatus.FAILED
                return update
            case RetryLater(error=error, after=after):
                if after is not None:
                    self.limiters[target.channel].pause(after)
                    stats.throttled += 1
                update = self._retry(reminder, work.now, error, after, target)
                stats.retried += update.status is ReminderStatus.PENDING
                stats.failed += update.status is ReminderStatus.FAILED
                return update
            case Unreachable(error=error):
                stats.unreachable += 1
                unreachable.add(target.address_id)
                return self._fall_back(reminder, error, target, work)
            case Failed(error=error):
                stats.failed += 1
                return self._update(
                    reminder,
                    work.now,
                    ReminderStatus.FAILED,
                    attempt="failed",
                    error=error,
                    reason="refused",
                    target=target,
                )

    def _fall_back(self, reminder: Reminder, error: str, target: Target, work: _Pass) -> ReminderUpdate:
        """Another channel of the member (Telegram blocked → WhatsApp) takes over at once; with none left the
        reminder fails, and the member goes on the officer's list."""
        others = [
            t
            for t in work.targets(reminder.member_id)
            if t.channel in self.senders and t.address_id != target.address_id
        ]
        status = ReminderStatus.PENDING if others else ReminderStatus.FAILED
        reason = f"fallback:{others[0].channel}" if others else "unreachable"
        return self._update(
            reminder, work.now, status, attempt="unreachable", error=error, reason=reason, target=target
        )

    def _uncertain(self, reminder: Reminder, now: datetime, error: str, target: Target) -> ReminderUpdate:
        """Nobody knows whether it arrived: sent once more after a back-off, unless its chat writes meanwhile
        (`_arrived`). Each uncertain send causes at most that one duplicate; none is lost."""
        retry_at = now + self.uncertain_backoff
        if retry_at >= reminder.expires_at:
            return self._update(
                reminder,
                now,
                ReminderStatus.FAILED,
                attempt="uncertain",
                error=error,
                reason="gave_up",
                target=target,
                uncertain_at=now,
            )
        return self._update(
            reminder,
            now,
            ReminderStatus.PENDING,
            send_after=retry_at,
            attempt="uncertain",
            error=error,
            reason=UNCERTAIN,
            target=target,
            uncertain_at=now,
        )

    def _retry(
        self, reminder: Reminder, now: datetime, error: str, after: float | None, target: Target
    ) -> ReminderUpdate:
        attempts = reminder.attempts + 1
        delay = after if after is not None else min(30 * 2**reminder.attempts, 3600)
        retry_at = now + timedelta(seconds=delay)
        if attempts >= self.max_attempts or retry_at >= reminder.expires_at:
            return self._update(
                reminder, now, ReminderStatus.FAILED, attempt="error", error=error, reason="gave_up", target=target
            )
        return self._update(
            reminder, now, ReminderStatus.PENDING, send_after=retry_at, attempt="retry", error=error, target=target
        )

    async def _notify_members(self, batch: Batch, results: list[ReminderUpdate], work: _Pass) -> list[ReminderUpdate]:
        """Tell each sponsored member, on their own chat, that whoever pays for them was reminded."""
        sent = {update.reminder_id for update in results if update.status is ReminderStatus.SENT}
        notes = []
        for reminder, member in batch.items:
            own = self._target([t for t in work.targets(member.id or 0) if t.sponsor is None])
            if reminder.id not in sent or own is None:
                continue
            notes.append(await self._note(batch, reminder, member, own))
        return notes

    async def _note(self, batch: Batch, reminder: Reminder, member: Member, own: Target) -> ReminderUpdate:
        note = Batch(own, ((reminder, member),), batch.now, note_for=batch.target.sponsor)
        await self.limiters[own.channel].wait(own.external_id)
        try:
            result = await self.senders[own.channel].send(own, self.render(note))
        except Exception as bug:  # a note is best effort: record and move on
            result = Failed(f"{type(bug).__name__}: {bug}")
        attempt = "sent" if isinstance(result, Sent) else "failed"
        error = "" if isinstance(result, Sent) else getattr(result, "error", "")
        return self._update(reminder, batch.now, ReminderStatus.SENT, attempt=attempt, error=error, target=own)

    @staticmethod
    def _update(
        reminder: Reminder,
        now: datetime,
        status: ReminderStatus,
        *,
        send_after: datetime | None = None,
        attempt: str = "",
        error: str = "",
        reason: str = "",
        target: Target | None = None,
        provider_message_id: str | None = None,
        uncertain_at: datetime | None = None,
    ) -> ReminderUpdate:
        assert reminder.id is not None
        return ReminderUpdate(
            reminder_id=reminder.id,
            status=status,
            at=now,
            send_after=send_after or reminder.send_after,
            attempts=reminder.attempts + (1 if attempt else 0),
            channel=target.channel if target else "",
            attempt=attempt,
            error=error,
            address_id=target.address_id if target else reminder.address_id,
            provider_message_id=provider_message_id,
            reason=reason,
            uncertain_at=uncertain_at or reminder.uncertain_at,
        )
