"""What a channel's webhook writes besides the conversation: the first sight of a provider's message id (a retried
or replayed webhook is answered once), delivery reports for sent reminders, and files published for a channel to
fetch by URL. Each is one short transaction.

The inbox (issue 16 point 3): an update or message is stored before its channel is answered, then processed in order
per chat, exactly once, by whichever process is free (`InboxWorker`; storage/inbox.py has the rules)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from storage import inbox, media, outbox
from storage.crypto import Cipher
from storage.models import MediaFile

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3  # a message whose step keeps failing (the database down, a bug) is given up after this many tries
RETRY_AFTER = timedelta(seconds=5)


def first_sight(engine: Engine, *, sid: str, now: datetime) -> bool:
    """Record an inbound message id; False when it was seen before (a retry or a replay)."""
    with Session(engine) as session:
        first = outbox.first_delivery(session=session, sid=sid, now=now)
        session.commit()
    return first


def record_status(engine: Engine, *, sid: str, status: str, error: str, now: datetime) -> None:
    """A channel's delivery report for a message we sent (states only move forward)."""
    with Session(engine) as session:
        outbox.record_delivery(session=session, provider_message_id=sid, status=status, error=error, now=now)
        session.commit()


def publish_media(
    engine: Engine, *, filename: str, media_type: str, content: bytes, now: datetime, keep: timedelta
) -> str:
    """Keep a file for `keep` under a new unguessable token (expired ones go); returns the token."""
    with Session(engine) as session:
        token = media.publish(
            session=session, filename=filename, media_type=media_type, content=content, now=now, keep=keep
        )
        session.commit()
    return token


def fetch_media(engine: Engine, *, token: str, now: datetime) -> MediaFile | None:
    """The file published under `token`, unless it has expired."""
    with Session(engine) as session:
        return media.fetch(session=session, token=token, now=now)


@dataclass(frozen=True, slots=True)
class Stored:
    entry_id: int
    claimed: bool  # leased to the caller, who may answer it at once


def claim_token(holder: str) -> str:
    """A lease's own name: the holder (a process) and a nonce, so that two claims of one process never pass for one
    (a step whose lease ran out cannot commit, even when its own process took the row again)."""
    return f"{holder[:31]}:{secrets.token_hex(4)}"


def chat_key(cipher: Cipher, channel: str, external_id: str) -> str:
    """A chat's name in the inbox: keyed, so the table holds no phone number or chat id in clear."""
    return cipher.lookup_hash(f"{channel}:{external_id}")


def receive(
    engine: Engine,
    cipher: Cipher,
    *,
    channel: str,
    external_id: str,
    key: str,
    sequence: int,
    payload: str,
    now: datetime,
    claim: str | None = None,
    lease: timedelta = timedelta(seconds=30),
) -> Stored | None:
    """Store an update or message durably (committed before the caller acknowledges it); None for a key seen
    before. With `claim` (a worker token), lease it at once when it is first in its chat."""
    with Session(engine) as session:
        chat = chat_key(cipher, channel, external_id)
        entry = inbox.store(
            session=session,
            channel=channel,
            chat=chat,
            key=key,
            sequence=sequence,
            payload=cipher.encrypt(payload),
            now=now,
        )
        if entry is None:
            session.commit()
            return None
        claimed = claim is not None and inbox.claim_stored(
            session=session, entry=entry, now=now, token=claim, lease=lease
        )
        assert entry.id is not None
        stored = Stored(entry.id, claimed)
        session.commit()
    return stored


@dataclass(slots=True)
class Step:
    """Given to `Conversations.handle` as `within`: marks the row processed in the dialog step's own transaction,
    so a step is committed exactly when its row is."""

    entry_id: int
    token: str
    lease: timedelta
    done: bool = False

    def __call__(self, session: Session) -> None:
        inbox.mark_processed(
            session=session, entry_id=self.entry_id, token=self.token, now=datetime.now(UTC), lease=self.lease
        )
        self.done = True


def finish(engine: Engine, *, entry_id: int, token: str) -> None:
    with Session(engine) as session:
        inbox.finish(session=session, entry_id=entry_id, token=token)
        session.commit()


def release(engine: Engine, *, entry_id: int, token: str, retry_at: datetime) -> None:
    with Session(engine) as session:
        inbox.release(session=session, entry_id=entry_id, token=token, retry_at=retry_at)
        session.commit()


@dataclass(frozen=True, slots=True)
class Claimed:
    entry_id: int
    channel: str
    payload: str
    attempts: int


def claim(
    engine: Engine, cipher: Cipher, *, channels: tuple[str, ...], token: str, lease: timedelta, now: datetime
) -> Claimed | None:
    with Session(engine) as session:
        entry = inbox.claim_next(session=session, now=now, token=token, lease=lease, channels=channels)
        if entry is None:
            session.commit()
            return None
        assert entry.id is not None
        claimed = Claimed(entry.id, entry.channel, cipher.decrypt(entry.payload), entry.attempts)
        session.commit()
    return claimed


# A channel's processing of one stored row: runs the dialog step with `within=step` and sends its answer; returns
# whether the step was committed (step.done), False when it failed and should be tried again.
Handler = Callable[[str, Step], Awaitable[None]]


@dataclass
class InboxWorker:
    """Takes stored rows, one per chat at a time, in each chat's order, and has its channel process and answer them.
    Several run side by side in every process; woken at once by a webhook of this process, and every `poll` seconds
    for rows stored by other processes or left by a dead one (their lease ran out)."""

    engine: Engine
    cipher: Cipher
    handlers: Mapping[str, Handler]
    token: str
    lease: timedelta = timedelta(seconds=30)
    tasks: int = 4
    poll: float = 0.5
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _stopping: bool = False

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        await asyncio.gather(*(self._loop() for _ in range(self.tasks)))

    async def stop(self, task: asyncio.Task[None], grace: float = 10.0) -> None:
        """Take nothing more; let the messages being processed finish and be answered (for at most `grace`)."""
        self._stopping = True
        self._wake.set()
        try:
            await asyncio.wait_for(task, grace)
        except TimeoutError:  # cancelled: a step not yet committed is taken again after its lease
            log.warning("inbox: stopped with messages still being processed")

    async def _loop(self) -> None:
        while not self._stopping:
            try:
                worked = await self.run_one()
            except Exception:  # the database away for a moment: try again later, never stop the loop
                log.exception("inbox: could not take a message")
                worked = False
            if not worked and not self._stopping:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll)

    async def run_one(self) -> bool:
        """Process one row if one is free; False when none is."""
        channels, token = tuple(self.handlers), claim_token(self.token)
        now = datetime.now(UTC)
        got = await asyncio.to_thread(
            claim, self.engine, self.cipher, channels=channels, token=token, lease=self.lease, now=now
        )
        if got is None:
            return False
        step = Step(got.entry_id, token, self.lease)
        try:
            await self.handlers[got.channel](got.payload, step)
        except inbox.LeaseLost:
            log.warning("inbox: message %s was taken by another process (lease ran out)", got.entry_id)
            return True
        except Exception:
            log.exception("inbox: error while processing message %s", got.entry_id)
        if step.done or got.attempts >= MAX_ATTEMPTS:
            if not step.done:
                log.error("inbox: message %s given up after %s attempts", got.entry_id, got.attempts)
            await asyncio.to_thread(finish, self.engine, entry_id=got.entry_id, token=token)
        else:
            retry_at = datetime.now(UTC) + RETRY_AFTER
            await asyncio.to_thread(release, self.engine, entry_id=got.entry_id, token=token, retry_at=retry_at)
        return True
