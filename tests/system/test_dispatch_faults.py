"""Issue 16's dispatch faults, for real, on PostgreSQL against the Bot API stand-in: a `sipakainge run` killed with
SIGKILL, or stopped with SIGTERM (what `systemctl restart` sends), mid-dispatch of 2,000 reminders, then restarted;
and the Bot API hung for 30 s (no answers, connections kept open) in the middle of a dispatch. Every reminder reaches
its chat; a kill repeats at most the sends in flight, a SIGTERM none; a hang repeats at most its uncertain sends."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, update
from sqlmodel import Session, col, select
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.channels.telegram import TelegramSender
from bot.dialogs.core import Reply
from scheduler.dispatch import Dispatcher, DispatchStats
from storage.models import Address, DeliveryAttempt, Reminder
from tests.fake_telegram import TOKEN, FakeTelegram
from tests.outbox_fixtures import bulk_members
from tests.scheduler.test_dispatch import POLICY
from tests.system.processes import due_now, run_env, start
from tests.system.test_scale_out import CIPHER

REMINDERS = 2_000
IN_FLIGHT = 64  # the dispatcher's default: sends on the wire at once, so the most a kill can leave unrecorded


def _due(engine: Engine, count: int, now: datetime) -> list[int]:
    """`count` members paid far ahead (a process's own scan adds nothing), each with one reminder due now."""
    with Session(engine) as session:
        ids = bulk_members(session, CIPHER, count, covered_until=date(2030, 12, 31), encrypt=False)
        rows = due_now(ids, now)
        session.execute(insert(Reminder), rows)
        session.commit()
    return [10_000_000 + i for i in range(count)]


def _run(db_url: str, telegram: FakeTelegram, tmp_path: Path) -> subprocess.Popen[bytes]:
    """A real `sipakainge run`, long-polling the stand-in, dispatching every half second at 200 messages a second."""
    env = run_env(
        db_url,
        telegram.base_url,
        tmp_path,
        TELEGRAM_WEBHOOK_URL="",
        TELEGRAM_PER_SECOND="200",
        SEND_WINDOW="00:00-23:59",
        QUIET_PERIODS="",
        DISPATCH_EVERY_SECONDS="0.5",
    )
    return start(env, tmp_path)


def _arrived(telegram: FakeTelegram) -> Counter[int]:
    """Messages each chat received (a stand-in call is a message Telegram accepted)."""
    return Counter(int(c.params["chat_id"]) for c in telegram.calls if c.method == "sendMessage")


async def _until(
    done: Callable[[], bool], seconds: float, what: str, run: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        assert run is None or run.poll() is None, f"sipakainge run exited with {run.returncode} before {what}"
        assert time.monotonic() < deadline, f"not {what} after {seconds} s"
        await asyncio.sleep(0.05)


def _uncertain(engine: Engine) -> Counter[int]:
    """Uncertain sends by chat: a busy machine can make the stand-in answer after the client's 5 s read timeout, and
    each such send goes once more (at most one duplicate each, the guarantee of point 2)."""
    with Session(engine) as session:
        rows = session.exec(
            select(Address.external_id)
            .join(Reminder, col(Reminder.address_id) == col(Address.id))
            .join(DeliveryAttempt, col(DeliveryAttempt.reminder_id) == col(Reminder.id))
            .where(col(DeliveryAttempt.outcome) == "uncertain")
        ).all()
    return Counter(int(chat) for chat in rows)


def _settled(engine: Engine) -> bool:
    """Every reminder sent, or pending only as an uncertain send waiting its back-off for the one re-send (its chat
    was reached: the test does not wait the 2 minutes out)."""
    with Session(engine) as session:
        rows = session.exec(select(Reminder.status, Reminder.reason)).all()
    return all(status == "sent" or (status == "pending" and reason == "uncertain") for status, reason in rows)


def _status(engine: Engine) -> Counter[str]:
    with Session(engine) as session:
        return Counter(session.exec(select(Reminder.status)).all())


async def _finish(db_url: str, telegram: FakeTelegram, tmp_path: Path, chats: list[int]) -> None:
    """The restart: a new process sends whatever is left, then is stopped cleanly."""
    run = _run(db_url, telegram, tmp_path)
    try:
        await _until(lambda: all(_arrived(telegram)[c] for c in chats), 300, "every chat reached", run)
    finally:
        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=60) == 0


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_kill_9_mid_dispatch_repeats_at_most_the_sends_in_flight(
    db_url: str, engine: Engine, telegram: FakeTelegram, tmp_path: Path
) -> None:
    chats = _due(engine, REMINDERS, datetime.now(UTC))
    run = _run(db_url, telegram, tmp_path)
    try:
        await _until(lambda: len(telegram.calls) >= 300, 120, "300 sent", run)
    finally:
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=30)
    assert run.returncode == -signal.SIGKILL
    at_kill = _arrived(telegram)
    with Session(engine) as session:
        recorded = len(session.exec(select(Reminder.id).where(col(Reminder.status) == "sent")).all())
        # The lease runs out (5 minutes, as for a process that died): its claims are due again.
        session.execute(
            update(Reminder)
            .where(col(Reminder.status) == "claimed")
            .values(claimed_at=datetime.now(UTC) - timedelta(minutes=6))
        )
        session.commit()
    assert 0 < sum(at_kill.values()) < REMINDERS  # killed mid-dispatch
    assert sum(at_kill.values()) - recorded <= IN_FLIGHT  # what reached Telegram but is not recorded: in flight only
    await _finish(db_url, telegram, tmp_path, chats)
    arrived, uncertain = _arrived(telegram), _uncertain(engine)
    # Repeats of the kill: messages out at the kill that went again, beyond what an uncertain send explains.
    repeated = [c for c in chats if arrived[c] > 1 + uncertain[c]]
    print(  # the report's figures
        f"kill -9: sent {sum(arrived.values())}, lost {sum(not arrived[c] for c in chats)}, duplicated "
        f"{sum(arrived[c] - 1 for c in chats if arrived[c] > 1)} ({len(repeated)} by the kill, "
        f"{sum(uncertain.values())} uncertain sends)"
    )
    assert all(arrived[c] >= 1 for c in chats)  # none lost
    assert all(arrived[c] <= 2 + uncertain[c] for c in chats)
    # Repeats of the kill are the sends in flight at most (some reached the stand-in just after the snapshot).
    assert len(repeated) <= IN_FLIGHT
    assert len(repeated) <= IN_FLIGHT
    assert _settled(engine)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_sigterm_mid_dispatch_exits_0_and_repeats_nothing(
    db_url: str, engine: Engine, telegram: FakeTelegram, tmp_path: Path
) -> None:
    chats = _due(engine, REMINDERS, datetime.now(UTC))
    run = _run(db_url, telegram, tmp_path)
    try:
        await _until(lambda: len(telegram.calls) >= 300, 120, "300 sent", run)
    finally:
        run.send_signal(signal.SIGTERM)
        exit_code = run.wait(timeout=60)
    assert exit_code == 0
    at_stop = _arrived(telegram)
    assert 0 < sum(at_stop.values()) < REMINDERS  # stopped mid-dispatch
    statuses, out = _status(engine), sum(at_stop.values())
    # Nothing stays claimed: the rest is pending again, for the restart at once. Everything that reached Telegram is
    # recorded sent, but for a send whose answer did not come back in time (uncertain: pending, to go once more).
    assert set(statuses) <= {"sent", "pending"}
    assert statuses["sent"] + statuses["pending"] == REMINDERS
    assert 0 <= out - statuses["sent"] <= sum(_uncertain(engine).values())
    await _finish(db_url, telegram, tmp_path, chats)
    arrived, uncertain = _arrived(telegram), _uncertain(engine)
    print(
        f"SIGTERM: sent {sum(arrived.values())}, lost {sum(not arrived[c] for c in chats)}, duplicated "
        f"{sum(arrived[c] - 1 for c in chats if arrived[c] > 1)} ({sum(uncertain.values())} uncertain sends)"
    )
    assert all(arrived[c] >= 1 for c in chats)  # none lost
    # The stop repeats nothing: a chat got more than one message only for an uncertain send, one more for each.
    assert all(arrived[c] <= 1 + uncertain[c] for c in chats)
    assert _settled(engine)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_bot_api_hung_30_seconds_loses_nothing(
    db_url: str, engine: Engine, telegram: FakeTelegram, tmp_path: Path
) -> None:
    """The Bot API stops answering for 30 s in the middle of 1,200 reminders, keeping the connections open: the sends
    time out (uncertain), and each goes once more after its back-off. The clock is the dispatcher's own: the passes
    after the hang are its later ticks."""
    count = 1_200
    now = datetime.now(UTC)
    chats = _due(engine, count, now)
    # The sizes `sipakainge run` gives its bot (ApplicationBuilder), and PTB's own 5 s read timeout.
    request = HTTPXRequest(connection_pool_size=256, read_timeout=5.0)
    total = DispatchStats()
    async with Bot(TOKEN, base_url=telegram.base_url, request=request) as bot:
        dispatcher: Dispatcher[Reply] = Dispatcher(
            engine=engine,
            senders={"telegram": TelegramSender(bot, per_second=200)},
            render=lambda batch: Reply(",".join(str(r.id) for r, _ in batch.items)),
            policy=replace(POLICY, window_start=dt_time(0), window_end=dt_time(23, 59)),
            worker="hung",
        )
        first = asyncio.create_task(dispatcher.drain(now))
        await _until(lambda: len(telegram.calls) >= 300, 60, "300 sent")
        telegram.hang_until = time.monotonic() + 30
        total.add(await first)
        for _ in range(30):  # the dispatch job's later ticks, each a few minutes on
            if all(_arrived(telegram)[c] for c in chats) and _status(engine) == {"sent": count}:
                break  # everyone reached, and no uncertain send left waiting for its one re-send
            now += timedelta(minutes=3)
            total.add(await dispatcher.drain(now))
    arrived = _arrived(telegram)
    duplicated = sum(n - 1 for n in arrived.values() if n > 1)
    print(f"hung 30 s: sent {sum(arrived.values())}, lost 0, duplicated {duplicated}, uncertain {total.uncertain}")
    assert telegram.hung > 0
    assert total.uncertain > 0  # the hang was met mid-dispatch
    assert all(arrived[c] >= 1 for c in chats)  # none lost
    assert duplicated <= total.uncertain  # at most one duplicate per uncertain send
    assert _status(engine) == {"sent": count}
