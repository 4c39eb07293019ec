"""Issue 16 points 1 and 2 on SQLite and PostgreSQL: each result committed as soon as it is known, a graceful stop
that puts unsent claims back, and uncertain sends sent once more unless the chat showed they arrived."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select
from telegram.error import NetworkError, TimedOut

from bot.channels.telegram import _unanswered
from bot.texts import t
from bot.texts.words import reason_words
from domain.delivery import RetryLater, SendResult, Sent, Target, Uncertain
from scheduler.dispatch import Dispatcher
from storage.crypto import Cipher
from storage.models import Address, Reminder
from tests.scheduler.test_dispatch import MORNING, POLICY, FakeSender, prepare, render


@dataclass
class Gated:
    """Answers at once, except for the chats in `held`: those wait until `opened` is set."""

    held: set[str] = field(default_factory=set)
    hold_all: bool = False
    opened: asyncio.Event = field(default_factory=asyncio.Event)
    waiting: int = 0
    sent: list[str] = field(default_factory=list)
    channel: str = "telegram"
    per_second: float = 0.0
    per_chat_seconds: float = 0.0

    async def send(self, target: Target, message: str) -> SendResult:
        if self.hold_all or target.external_id in self.held:
            self.waiting += 1
            await self.opened.wait()
        self.sent.append(target.external_id)
        return Sent(provider_id="m")


def _rows(engine: Engine) -> list[Reminder]:
    with Session(engine) as session:
        return list(session.exec(select(Reminder).order_by(col(Reminder.id))).all())


async def _until(done: Callable[[], bool], seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)


async def test_a_result_is_committed_while_other_sends_are_still_on_the_wire(engine: Engine, cipher: Cipher) -> None:
    prepare(engine, cipher, 20)
    sender = Gated(held={"10000000"})  # the first member's chat does not answer yet
    dispatcher: Dispatcher[str] = Dispatcher(
        engine=engine, senders={"telegram": sender}, render=render, policy=POLICY, worker="w"
    )
    running = asyncio.create_task(dispatcher.run_once(MORNING))
    # The 19 answered are recorded sent while the 20th is still waiting for its answer.
    await _until(lambda: [r.status for r in _rows(engine)].count("sent") == 19)
    assert [r.status for r in _rows(engine)].count("claimed") == 1
    sender.opened.set()
    stats = await running
    assert stats.sent == 20
    assert {r.status for r in _rows(engine)} == {"sent"}


async def test_stop_lets_sends_on_the_wire_finish_and_puts_the_rest_back(engine: Engine, cipher: Cipher) -> None:
    prepare(engine, cipher, 10)
    sender = Gated(hold_all=True)
    dispatcher: Dispatcher[str] = Dispatcher(
        engine=engine, senders={"telegram": sender}, render=render, policy=POLICY, worker="w", in_flight=3
    )
    running = asyncio.create_task(dispatcher.run_once(MORNING))
    await _until(lambda: sender.waiting == 3)  # three on the wire, seven waiting their turn
    dispatcher.stop()
    sender.opened.set()
    stats = await running
    assert (stats.sent, stats.released) == (3, 7)
    rows = _rows(engine)
    assert sorted(r.status for r in rows) == ["pending"] * 7 + ["sent"] * 3
    assert all(r.claimed_by is None and r.attempts == 0 for r in rows if r.status == "pending")
    assert len(sender.sent) == 3
    assert (await dispatcher.drain(MORNING)).claimed == 0  # a stopped dispatcher claims nothing more


async def test_a_send_still_unanswered_after_the_grace_is_uncertain(engine: Engine, cipher: Cipher) -> None:
    prepare(engine, cipher, 2)
    sender = Gated(hold_all=True)  # never answers
    dispatcher: Dispatcher[str] = Dispatcher(
        engine=engine, senders={"telegram": sender}, render=render, policy=POLICY, worker="w", stop_grace=0.2
    )
    running = asyncio.create_task(dispatcher.run_once(MORNING))
    await _until(lambda: sender.waiting == 2)
    dispatcher.stop()
    stats = await asyncio.wait_for(running, 30)
    assert stats.uncertain == 2
    assert {(r.status, r.reason) for r in _rows(engine)} == {("pending", "uncertain")}


async def test_an_uncertain_send_goes_once_more_after_the_back_off(engine: Engine, cipher: Cipher) -> None:
    prepare(engine, cipher, 1)
    sender = FakeSender(script=[Uncertain("timed out: Timed out")])
    dispatcher: Dispatcher[str] = Dispatcher(
        engine=engine, senders={"telegram": sender}, render=render, policy=POLICY, worker="w"
    )
    first = await dispatcher.drain(MORNING)
    assert (first.uncertain, first.sent) == (1, 0)
    [row] = _rows(engine)
    assert (row.status, row.reason, row.uncertain_at) == ("pending", "uncertain", MORNING)
    assert reason_words(row.reason) == t("words.reminder_reason.uncertain")  # what `why` shows
    assert (await dispatcher.drain(MORNING + timedelta(minutes=1))).claimed == 0  # the back-off first
    again = await dispatcher.drain(MORNING + timedelta(minutes=3))
    assert again.sent == 1
    assert len(sender.sent) == 2  # once more, and only once
    [row] = _rows(engine)
    assert (row.status, row.reason) == ("sent", "resent")
    assert reason_words(row.reason) == t("words.reminder_reason.resent")


async def test_an_uncertain_send_its_chat_answered_is_not_sent_again(engine: Engine, cipher: Cipher) -> None:
    prepare(engine, cipher, 1)
    sender = FakeSender(script=[Uncertain("network: httpx.ReadError")])
    dispatcher: Dispatcher[str] = Dispatcher(
        engine=engine, senders={"telegram": sender}, render=render, policy=POLICY, worker="w"
    )
    await dispatcher.drain(MORNING)
    with Session(engine) as session:  # the member writes to the bot: the message reached them
        session.execute(update(Address).values(last_inbound_at=MORNING + timedelta(minutes=1)))
        session.commit()
    stats = await dispatcher.drain(MORNING + timedelta(minutes=3))
    assert (stats.confirmed, stats.sent) == (1, 0)
    assert len(sender.sent) == 1
    [row] = _rows(engine)
    assert (row.status, row.reason) == ("sent", "arrived:reply")
    assert reason_words(row.reason) == t("words.reminder_reason.arrived")


def _caused(error: TimedOut | NetworkError, cause: Exception) -> TimedOut | NetworkError:
    error.__cause__ = cause
    return error


def test_telegram_no_answer_is_uncertain_only_once_the_request_may_have_left() -> None:
    never_left = [
        _caused(TimedOut(), httpx.PoolTimeout("pool")),
        _caused(TimedOut(), httpx.ConnectTimeout("connect")),
        _caused(NetworkError("httpx.ConnectError"), httpx.ConnectError("refused")),
    ]
    may_have_arrived = [
        _caused(TimedOut(), httpx.ReadTimeout("read")),
        _caused(TimedOut(), httpx.WriteTimeout("write")),
        _caused(NetworkError("httpx.RemoteProtocolError"), httpx.RemoteProtocolError("closed")),
        _caused(NetworkError("httpx.ReadError"), httpx.ReadError("reset")),
    ]
    assert all(isinstance(_unanswered(e, "x"), RetryLater) for e in never_left)
    assert all(isinstance(_unanswered(e, "x"), Uncertain) for e in may_have_arrived)


async def test_whatsapp_no_answer_is_uncertain_only_once_the_request_may_have_left() -> None:
    from datetime import UTC, datetime
    from types import SimpleNamespace
    from typing import Any

    import aiohttp

    from bot.channels.whatsapp import WhatsAppSender
    from bot.dialogs.core import Reply

    now = datetime(2026, 12, 8, 1, 30, tzinfo=UTC)

    def sender_raising(error: BaseException) -> WhatsAppSender:
        async def create_async(**_: Any) -> None:
            raise error

        client: Any = SimpleNamespace(messages=SimpleNamespace(create_async=create_async))
        return WhatsAppSender(client, from_number="+6281200000001", templates={}, status_callback="", clock=lambda: now)

    chat = Target(1, "whatsapp", "+6281200000002", None, last_inbound_at=now)  # inside the 24 hours: free text
    refused = aiohttp.ClientConnectorError(SimpleNamespace(ssl=None, host="h", port=443), OSError("refused"))  # type: ignore[arg-type]
    assert isinstance(await sender_raising(refused).send(chat, Reply("x")), RetryLater)
    for lost in (TimeoutError(), aiohttp.ServerDisconnectedError()):
        assert isinstance(await sender_raising(lost).send(chat, Reply("x")), Uncertain)
