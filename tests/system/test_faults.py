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
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select
from telegram import Bot

from domain.delivery import SendResult, Sent, Target
from scheduler.dispatch import Dispatcher
from service.conversations import Conversations
from storage.crypto import Cipher
from storage.db import make_engine
from storage.models import Reminder
from tests.channels.test_telegram_reminders import MORNING as TELEGRAM_MORNING
from tests.channels.test_telegram_reminders import register, reminders_for
from tests.fake_telegram import TOKEN, FakeTelegram
from tests.scheduler.test_dispatch import MORNING, POLICY, prepare, render, statuses

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

    def close(self) -> None:
        self.file.close()


def _dispatch(url: str, journal: str, worker: str, pause: float, now_offset: float) -> None:
    import asyncio
    from datetime import timedelta

    engine = make_engine(url)
    dispatcher: Dispatcher[str] = Dispatcher(
        engine=engine,
        senders={"telegram": Journal(journal, pause)},
        render=render,
        policy=POLICY,
        worker=worker,
        batch_size=200,
    )
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


class Cable:
    """A TCP proxy on 127.0.0.1 in front of PostgreSQL that can be unplugged: every connection through it dropped,
    new ones refused, as when the database restarts or the network between goes away."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.plugged = True
        self.links: set[asyncio.StreamWriter] = set()
        self.handlers: set[asyncio.Task[None]] = set()
        self.server: asyncio.Server | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        port: int = self.server.sockets[0].getsockname()[1]
        return port

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.plugged:
            writer.close()
            return
        handler = asyncio.current_task()
        assert handler is not None
        self.handlers.add(handler)
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        self.links |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True)
        self.handlers.discard(handler)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()
            self.links.discard(writer)

    def unplug(self) -> None:
        self.plugged = False
        for writer in list(self.links):
            writer.transport.abort()
        self.links.clear()

    def plug(self) -> None:
        self.plugged = True

    async def stop(self) -> None:
        """No more connections, every link dropped and its pipes ended: nothing left open after the test."""
        assert self.server is not None
        self.server.close()
        self.unplug()
        await asyncio.gather(*self.handlers, return_exceptions=True)
        await self.server.wait_closed()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_postgresql_gone_for_30_seconds_mid_run_loses_nothing(
    engine: Engine, cipher: Cipher, db_url: str, tmp_path: Path
) -> None:
    prepare(engine, cipher, 1_000)
    cable = Cable(make_url(db_url).port or 5432)
    proxied = make_url(db_url).set(host="127.0.0.1", port=await cable.start())
    through = make_engine(
        proxied.render_as_string(hide_password=False), pool_timeout=2, connect_args={"connect_timeout": 2}
    )
    journal = tmp_path / "phones.txt"
    phones = Journal(str(journal), 0.001)
    dispatcher: Dispatcher[str] = Dispatcher(
        engine=through, senders={"telegram": phones}, render=render, policy=POLICY, worker="w", batch_size=100
    )
    now, failed_ticks, outage_over, unplugged_at, plugged_at = MORNING, 0, 0.0, 0.0, 0.0
    started = time.monotonic()
    while statuses(engine).get("sent", 0) < 1_000 and time.monotonic() - started < 120:
        if cable.plugged and journal.exists() and len(journal.read_text().splitlines()) >= 300 and not outage_over:
            cable.unplug()  # mid-run: claims made, some sent, some not yet recorded
            unplugged_at = time.monotonic()
            outage_over = unplugged_at + 30
            # Plugged back by the clock, not by this loop: a pass keeps its known results until the database is back.
            asyncio.get_running_loop().call_later(30, cable.plug)
        if cable.plugged and outage_over and not plugged_at:
            plugged_at = time.monotonic()
        try:
            await dispatcher.run_once(now)  # what the scheduler's dispatch job does every few seconds
        except OperationalError:
            failed_ticks += 1  # the job fails while the database is away; the scheduler runs it again
            await asyncio.sleep(0.5)
        now += timedelta(seconds=20)  # the clock moves on: claims of the broken pass expire after their lease
    through.dispose()
    await cable.stop()
    phones.close()
    assert failed_ticks > 0  # the outage really happened mid-run
    assert plugged_at - unplugged_at >= 30
    sent = _sent(journal)
    assert set(sent) == set(range(min(sent), min(sent) + 1_000))  # nothing lost
    assert len(sent) - len(set(sent)) <= 100  # duplicates: at most the one batch in flight when it went away
    assert statuses(engine) == {"sent": 1_000}
