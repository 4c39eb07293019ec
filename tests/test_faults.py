"""Faults, for real: a dispatcher process killed with SIGKILL in the middle of sending, then a restart (PostgreSQL,
the several-process deployment) — nothing lost, only messages in flight at the kill may go out twice; and a Bot API
answering bursts of 429 and 5xx — everything delivered in the end, never above the rate."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from telegram import Bot

from bot.conversation import Conversations
from scheduler.dispatch import Dispatcher, SendResult, Sent
from storage.crypto import Cipher
from storage.db import make_engine
from storage.models import Reminder
from storage.reminders import Target
from tests.fake_telegram import TOKEN, FakeTelegram
from tests.test_dispatch import MORNING, POLICY, prepare, render, statuses
from tests.test_telegram_reminders import MORNING as TELEGRAM_MORNING
from tests.test_telegram_reminders import register, reminders_for

REMINDERS = 3_000


class Journal:
    """A sender that writes every message it sends to a file before reporting it sent (flushed each time, so the
    file survives a SIGKILL): the phones' view of what arrived."""

    channel = "telegram"
    per_second = 0.0
    per_chat_seconds = 0.0

    def __init__(self, path: str, pause: float) -> None:
        self.file = Path(path).open("a", encoding="utf-8")  # noqa: SIM115 (open for the process's life)
        self.pause = pause

    async def send(self, target: Target, message: str) -> SendResult:
        self.file.write(message + "\n")
        self.file.flush()
        os.fsync(self.file.fileno())
        if self.pause:
            await asyncio.sleep(self.pause)  # a slow channel: the kill lands mid-dispatch
        return Sent(provider_id="m")


def _dispatch(url: str, journal: str, worker: str, pause: float, now_offset: float) -> None:
    import asyncio
    from datetime import timedelta

    engine = make_engine(url)
    dispatcher: Dispatcher[str] = Dispatcher(
        engine=engine, senders={"telegram": Journal(journal, pause)}, render=render, policy=POLICY, worker=worker,
        batch_size=200,
    )  # fmt: skip
    asyncio.run(dispatcher.drain(MORNING + timedelta(seconds=now_offset)))
    engine.dispose()


def _sent(journal: Path) -> list[int]:
    return [int(i) for line in journal.read_text().splitlines() if line for i in line.split(",")]


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_kill_9_during_dispatch_then_restart_loses_nothing(
    engine: Engine, cipher: Cipher, db_url: str, tmp_path: Path
) -> None:
    prepare(engine, cipher, REMINDERS)
    journal = tmp_path / "phones.txt"
    context = multiprocessing.get_context("spawn")
    first = context.Process(target=_dispatch, args=(db_url, str(journal), "first", 0.002, 0))
    first.start()
    deadline = time.monotonic() + 60
    while (not journal.exists() or len(journal.read_text().splitlines()) < 400) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert first.pid is not None
    os.kill(first.pid, signal.SIGKILL)  # mid-dispatch: some claimed rows sent, some not, some not yet recorded
    first.join(timeout=30)
    assert first.exitcode == -signal.SIGKILL
    before = _sent(journal)
    assert 0 < len(before) < REMINDERS
    with Session(engine) as session:
        claimed = session.exec(select(Reminder).where(col(Reminder.status) == "claimed")).all()
    assert claimed  # the killed process left claims behind
    # The restart, after the dead process's lease (5 minutes) has run out.
    second = context.Process(target=_dispatch, args=(db_url, str(journal), "second", 0.0, 6 * 60))
    second.start()
    second.join(timeout=120)
    assert second.exitcode == 0
    sent = _sent(journal)
    assert set(sent) == set(range(min(sent), min(sent) + REMINDERS))  # every reminder reached its phone
    twice = [i for i in set(sent) if sent.count(i) > 1]
    in_flight = {r.id for r in claimed if r.id in set(before)}
    assert set(twice) <= in_flight  # duplicates only for messages in flight at the kill
    assert len(twice) <= 200  # at most one claimed batch
    assert statuses(engine) == {"sent": REMINDERS}


async def test_bursts_of_429_and_5xx_are_waited_out_under_the_limit(
    telegram: FakeTelegram, conversations: Conversations, cipher: Cipher
) -> None:
    chats = range(601, 641)
    for chat_id in chats:
        register(conversations, chat_id, f"73120615068{chat_id - 600:05d}")
    telegram.per_second = 30  # the stand-in refuses with 429 whatever goes above Telegram's rate
    telegram.throttle_next, telegram.fail_next = 5, 12  # and a burst of each, on top
    async with Bot(TOKEN, base_url=telegram.base_url) as bot:
        dispatcher = reminders_for(conversations, bot, cipher)
        now = TELEGRAM_MORNING
        for _ in range(40):  # the dispatch job every few seconds; retries wait their backoff
            await dispatcher.drain(now)
            if all(telegram.messages(chat) for chat in chats):
                break
            now += timedelta(minutes=1)
    assert [len(telegram.messages(chat)) for chat in chats] == [1] * len(chats)  # everyone, once
    assert telegram.refused_429 == 5  # only the injected ones: the dispatcher itself never went above the rate
    with Session(conversations.engine) as session:
        assert {r.status for r in session.exec(select(Reminder)).all()} == {"sent"}
