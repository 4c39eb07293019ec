"""The dispatcher on SQLite and PostgreSQL with a hand-written fake sender: once, in the window, under faults."""

from __future__ import annotations

import multiprocessing
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from domain.delivery import Failed, RetryLater, SendResult, Sent, Target, Unreachable
from domain.policy import ReminderPolicy
from domain.rules import DEFAULT_STAGES, parse_quiet_periods, parse_stages
from scheduler.dispatch import Batch, Dispatcher
from storage import outbox
from storage.controls import set_paused
from storage.crypto import Cipher
from storage.db import make_engine
from storage.models import Address, Conversation, DeliveryAttempt, Reminder
from storage.scan import scan
from tests.outbox_fixtures import bulk_members

POLICY = ReminderPolicy(stages=parse_stages(DEFAULT_STAGES))
ZONES = {"73": ZoneInfo("Asia/Makassar")}
H7_DAY = date(2026, 12, 8)  # H-7 of December 2026 for members covered until 30 November
MORNING = datetime(2026, 12, 8, 1, 30, tzinfo=UTC)  # 09:30 WITA


def render(batch: Batch) -> str:
    return ",".join(str(reminder.id) for reminder, _ in batch.items)


@dataclass
class FakeSender:
    """Records what it is asked to send; answers from a script, then with success."""

    channel: str = "telegram"
    per_second: float = 0.0
    per_chat_seconds: float = 0.0
    script: list[SendResult] = field(default_factory=list)
    sent: list[tuple[str, str]] = field(default_factory=list)

    async def send(self, target: Target, message: str) -> SendResult:
        self.sent.append((target.external_id, message))
        return self.script.pop(0) if self.script else Sent(provider_id=f"m{len(self.sent)}")


def prepare(engine: Engine, cipher: Cipher, count: int, *, per_address: int = 1) -> None:
    with Session(engine) as session:
        bulk_members(session, cipher, count, covered_until=date(2026, 11, 30), per_address=per_address)
        scan(session=session, today=H7_DAY, policy=POLICY, zones=ZONES, now=MORNING)
        session.commit()


def dispatcher(engine: Engine, sender: FakeSender, worker: str = "w1") -> Dispatcher[str]:
    return Dispatcher(engine=engine, senders={"telegram": sender}, render=render, policy=POLICY, worker=worker)


def statuses(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        found: dict[str, int] = {}
        for row in session.exec(select(Reminder)).all():
            found[row.status] = found.get(row.status, 0) + 1
        return found


async def test_each_reminder_is_sent_once_and_recorded(engine: Engine, cipher: Cipher) -> None:
    prepare(engine, cipher, 30)
    sender = FakeSender()
    stats = await dispatcher(engine, sender).drain(MORNING)
    assert (stats.claimed, stats.sent, stats.messages) == (30, 30, 30)
    assert statuses(engine) == {"sent": 30}
    sent_ids = [int(i) for _, message in sender.sent for i in message.split(",")]
    assert sorted(sent_ids) == sorted(set(sent_ids))
    assert (await dispatcher(engine, sender).drain(MORNING)).claimed == 0
    with Session(engine) as session:
        assert len(session.exec(select(DeliveryAttempt)).all()) == 30
        row = session.exec(select(Reminder)).first()
        assert row is not None
        assert (row.sent_at, row.attempts, row.provider_message_id is not None) == (MORNING, 1, True)


async def test_a_family_phone_gets_one_message_for_everyone(engine: Engine, cipher: Cipher) -> None:
    prepare(engine, cipher, 6, per_address=3)
    sender = FakeSender()
    stats = await dispatcher(engine, sender).drain(MORNING)
    assert (stats.sent, stats.messages) == (6, 2)
    assert sorted(len(message.split(",")) for _, message in sender.sent) == [3, 3]


async def test_nothing_goes_out_at_night(engine: Engine, cipher: Cipher) -> None:
    prepare(engine, cipher, 3)
    night = datetime(2026, 12, 8, 13, 0, tzinfo=UTC)  # 21:00 WITA
    sender = FakeSender()
    stats = await dispatcher(engine, sender).run_once(night)
    assert (stats.deferred, sender.sent) == (3, [])
    with Session(engine) as session:
        assert {r.send_after for r in session.exec(select(Reminder)).all()} == {datetime(2026, 12, 9, 0, 0, tzinfo=UTC)}
    assert (await dispatcher(engine, sender).drain(datetime(2026, 12, 9, 0, 0, tzinfo=UTC))).sent == 3


async def test_a_superseded_reminder_is_not_sent_late(engine: Engine, cipher: Cipher) -> None:
    prepare(engine, cipher, 2)
    sender = FakeSender()
    stats = await dispatcher(engine, sender).drain(datetime(2026, 12, 14, 2, 0, tzinfo=UTC))  # H-1 has come
    assert (stats.expired, sender.sent) == (2, [])
    assert statuses(engine) == {"skipped": 2}


async def test_people_chatting_right_now_are_not_interrupted(engine: Engine, cipher: Cipher) -> None:
    prepare(engine, cipher, 1)
    with Session(engine) as session:
        address = session.exec(select(Address)).one()
        session.add(Conversation(address_id=address.id or 0, state="x", updated_at=MORNING - timedelta(minutes=2)))
        session.commit()
    sender = FakeSender()
    assert (await dispatcher(engine, sender).run_once(MORNING)).deferred == 1
    assert (await dispatcher(engine, sender).drain(MORNING + timedelta(minutes=9))).sent == 1


async def test_transient_errors_retry_with_backoff_then_give_up(engine: Engine, cipher: Cipher) -> None:
    prepare(engine, cipher, 1)
    sender = FakeSender(script=[RetryLater("502 Bad Gateway")])
    first = await dispatcher(engine, sender).run_once(MORNING)
    assert first.retried == 1
    assert (await dispatcher(engine, sender).run_once(MORNING + timedelta(seconds=10))).claimed == 0  # backing off
    assert (await dispatcher(engine, sender).drain(MORNING + timedelta(seconds=31))).sent == 1

    with Session(engine) as session:
        session.execute(update(Reminder).values(status="pending", attempts=0, send_after=MORNING))
        session.commit()
    broken = FakeSender(script=[RetryLater("timeout")] * 10)
    moment = MORNING
    for _ in range(6):
        await dispatcher(engine, broken).run_once(moment)
        moment += timedelta(hours=1)
    assert statuses(engine) == {"failed": 1}
    assert len(broken.sent) == 6


async def test_rate_limited_by_the_channel_waits_as_told(engine: Engine, cipher: Cipher) -> None:
    prepare(engine, cipher, 1)
    sender = FakeSender(script=[RetryLater("429", after=7)])
    stats = await dispatcher(engine, sender).run_once(MORNING)
    assert (stats.throttled, stats.retried) == (1, 1)
    with Session(engine) as session:
        assert session.exec(select(Reminder)).one().send_after == MORNING + timedelta(seconds=7)


async def test_blocked_chats_become_unreachable(engine: Engine, cipher: Cipher) -> None:
    prepare(engine, cipher, 2)
    sender = FakeSender(script=[Unreachable("forbidden: bot was blocked by the user"), Failed("bad request")])
    stats = await dispatcher(engine, sender).drain(MORNING)
    assert (stats.unreachable, stats.failed) == (1, 1)
    with Session(engine) as session:
        assert sorted(a.status for a in session.exec(select(Address)).all()) == ["active", "unreachable"]
        reasons = sorted(r.reason for r in session.exec(select(Reminder)).all())
    assert reasons == ["refused", "unreachable"]


async def test_no_working_channel_is_recorded_for_the_officer(engine: Engine, cipher: Cipher) -> None:
    prepare(engine, cipher, 1)
    with Session(engine) as session:
        session.execute(update(Address).values(status="unreachable"))
        session.commit()
    assert (await dispatcher(engine, FakeSender()).drain(MORNING)).failed == 1
    with Session(engine) as session:
        assert session.exec(select(Reminder.reason)).one() == "no_channel"


async def test_a_crash_between_claim_and_send_loses_nothing(engine: Engine, cipher: Cipher) -> None:
    prepare(engine, cipher, 5)
    with Session(engine) as session:  # a dispatcher claims, then dies before sending
        claimed = outbox.claim_due(session=session, now=MORNING, worker="dead", limit=100, lease=timedelta(minutes=5))
        session.commit()
    assert len(claimed) == 5
    sender = FakeSender()
    assert (await dispatcher(engine, sender, "w2").drain(MORNING + timedelta(minutes=1))).claimed == 0
    assert (await dispatcher(engine, sender, "w2").drain(MORNING + timedelta(minutes=6))).sent == 5
    assert statuses(engine) == {"sent": 5}


def _dispatch_process(url: str, worker: str, out: str, ready: Any) -> None:
    """A whole dispatcher process: its own engine, its own fake sender writing what it sent to a file."""
    import asyncio

    engine = make_engine(url)
    sender = FakeSender()
    ready.wait(timeout=60)  # both processes start dispatching together, however long each took to start
    asyncio.run(dispatcher(engine, sender, worker).drain(MORNING))
    Path(out).write_text("\n".join(message for _, message in sender.sent))
    engine.dispose()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # several dispatchers: the PostgreSQL deployment
def test_two_dispatcher_processes_send_each_reminder_exactly_once(
    engine: Engine, cipher: Cipher, db_url: str, tmp_path: Path
) -> None:
    assert engine.dialect.name == "postgresql"
    prepare(engine, cipher, 2_400)
    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(2)
    outputs = [tmp_path / f"w{i}.txt" for i in range(2)]
    workers = [
        context.Process(target=_dispatch_process, args=(db_url, f"w{i}", str(out), ready))
        for i, out in enumerate(outputs)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    sent = [int(i) for out in outputs for line in out.read_text().splitlines() for i in line.split(",")]
    per_worker = [len(out.read_text().splitlines()) for out in outputs]
    assert len(sent) == len(set(sent)) == 2_400
    assert min(per_worker) > 0  # both really took part
    assert statuses(engine) == {"sent": 2_400}
    with Session(engine) as session:
        workers_seen = {r.claimed_by for r in session.exec(select(Reminder).where(col(Reminder.status) == "sent"))}
    assert workers_seen == {None}


async def test_quiet_periods_hold_reminders_until_they_end(engine: Engine, cipher: Cipher) -> None:
    prepare(engine, cipher, 1)
    quiet = ReminderPolicy(stages=POLICY.stages, quiet=parse_quiet_periods("Sel 09:00-10:00"))  # 8 Dec is a Tuesday
    sender = FakeSender()
    held = Dispatcher(engine=engine, senders={"telegram": sender}, render=render, policy=quiet, worker="q")
    assert (await held.run_once(MORNING)).deferred == 1
    with Session(engine) as session:
        assert session.exec(select(Reminder.send_after)).one() == datetime(2026, 12, 8, 2, 0, tzinfo=UTC)
    assert (await held.drain(datetime(2026, 12, 8, 2, 0, tzinfo=UTC))).sent == 1


async def test_rate_limiter_never_starts_more_than_the_limit_in_any_second() -> None:
    import asyncio
    import time

    from scheduler.dispatch import RateLimiter

    limiter = RateLimiter(per_second=20, per_key_seconds=0)
    starts: list[float] = []

    async def send(index: int) -> None:
        await limiter.wait(str(index))
        starts.append(limiter.last_start)  # the limiter's own decision time, not a later reading of the clock
        if index == 5:
            time.sleep(0.2)  # noqa: ASYNC251 — the event loop stalls: sends whose slots passed start together

    await asyncio.gather(*(send(i) for i in range(45)))
    starts.sort()
    busiest = max(sum(1 for s in starts if first <= s < first + 1.0) for first in starts)
    assert busiest <= 20
    assert len(starts) == 45


async def test_nothing_goes_out_while_an_admin_has_paused_reminders(engine: Engine, cipher: Cipher) -> None:
    prepare(engine, cipher, 5)
    sender = FakeSender()
    with Session(engine) as session:
        set_paused(session=session, value=True, now=MORNING)
        session.commit()
    assert (await dispatcher(engine, sender).drain(MORNING)).claimed == 0
    assert sender.sent == []
    assert statuses(engine) == {"pending": 5}
    with Session(engine) as session:
        set_paused(session=session, value=False, now=MORNING)
        session.commit()
    assert (await dispatcher(engine, sender).drain(MORNING)).sent == 5
