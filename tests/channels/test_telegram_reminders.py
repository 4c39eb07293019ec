"""Reminders over the real python-telegram-bot client and a local Bot API stand-in: 429, 403, and the buttons."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select
from telegram import Bot
from telegram.ext import Application

from bot.channels.telegram import TelegramSender
from bot.dialogs.core import Reply
from domain.policy import ReminderPolicy
from domain.rules import DEFAULT_STAGES, parse_stages
from domain.tariffs import default_tariffs
from scheduler.dispatch import Dispatcher
from scheduler.messages import ReminderRenderer
from service.conversations import Conversations
from storage.crypto import Cipher
from storage.models import Address, Member, Reminder
from storage.scan import scan
from tests.fake_telegram import TOKEN, FakeTelegram
from tests.service.test_conversation_db import Person

POLICY = ReminderPolicy(stages=parse_stages(DEFAULT_STAGES))
ZONES = {"73": ZoneInfo("Asia/Makassar")}
MORNING = datetime(2026, 12, 8, 1, 0, tzinfo=UTC)


def register(conversations: Conversations, chat_id: int, nik: str) -> None:
    person = Person(conversations, str(chat_id))
    person.register_until_summary(last_paid="11/2026", nik=nik)
    person.tap("Benar, simpan")
    person.tap("Selesai")


def reminders_for(conversations: Conversations, bot: Bot, cipher: Cipher) -> Dispatcher[Reply]:
    with Session(conversations.engine) as session:
        scan(session=session, today=date(2026, 12, 8), policy=POLICY, zones=ZONES, now=MORNING)
        session.commit()
    renderer = ReminderRenderer(cipher, default_tariffs(), POLICY, "BRILink atau Alfamart", "penyuluh desa")
    sender = TelegramSender(bot)
    return Dispatcher(
        engine=conversations.engine, senders={"telegram": sender}, render=renderer, policy=POLICY, worker="t"
    )


async def test_429_is_waited_out_and_blocked_chats_become_unreachable(
    telegram: FakeTelegram, conversations: Conversations, cipher: Cipher
) -> None:
    for chat_id, nik in ((501, "7312061506809001"), (502, "7312061506809002"), (503, "7312061506809003")):
        register(conversations, chat_id, nik)
    telegram.blocked.add(502)
    telegram.missing.add(503)
    telegram.throttle_next = 1  # the first message meets a 429 with retry_after = 1
    async with Bot(TOKEN, base_url=telegram.base_url) as bot:
        dispatcher = reminders_for(conversations, bot, cipher)
        first = await dispatcher.run_once(MORNING)
        assert (first.claimed, first.throttled, first.unreachable) == (3, 1, 2)
        assert (await dispatcher.drain(MORNING + timedelta(seconds=2))).sent == 1
    assert telegram.refused_429 == 1
    assert len(telegram.messages(501)) == 1
    with Session(conversations.engine) as session:
        unreachable = session.exec(select(Address.external_id).where(col(Address.status) == "unreachable")).all()
        reasons = sorted(session.exec(select(Reminder.status, Reminder.reason)).all())
    assert sorted(unreachable) == ["502", "503"]
    assert reasons == [("failed", "unreachable"), ("failed", "unreachable"), ("sent", "")]


async def test_reminder_buttons_from_the_real_client(
    telegram: FakeTelegram,
    polling_bot: Application,  # type: ignore[type-arg]
    conversations: Conversations,
    cipher: Cipher,
) -> None:
    chat = 601
    register(conversations, chat, "7312061506809004")
    dispatcher = reminders_for(conversations, polling_bot.bot, cipher)
    assert (await dispatcher.drain(MORNING)).sent == 1
    reminder = telegram.messages(chat)[-1]
    assert "Rp8.400" in reminder.params["text"]
    buttons = [b["text"] for row in json.loads(reminder.params["reply_markup"])["inline_keyboard"] for b in row]
    assert buttons == ["Sudah bayar", "Minta bantuan penyuluh", "Berhenti pengingat"]
    telegram.press(chat, "Sudah bayar")
    await telegram.wait_for(chat, 2)
    telegram.press(chat, "6 bulan")
    texts = await telegram.wait_for(chat, 3)
    assert "sampai Mei 2027 sudah dicatat" in texts[-1]  # a report, to be checked: not "terlindungi" as a fact
    with Session(conversations.engine) as session:
        assert session.exec(select(col(Member.covered_until))).one() == date(2027, 5, 31)
