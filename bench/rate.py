"""Share of a channel's rate limit achieved: the real dispatcher and sender (TelegramSender with
python-telegram-bot, or WhatsAppSender with the twilio client) against a local stand-in that answers 429 whenever more
than `limit` messages arrive within one second."""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, literal, update
from sqlmodel import Session
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.channels.telegram import TelegramSender
from bot.channels.whatsapp import WhatsAppSender, twilio_client
from bot.dialogs.core import Reply
from domain.delivery import Sender
from domain.policy import ReminderPolicy
from domain.rules import DEFAULT_STAGES, parse_stages
from domain.tariffs import default_tariffs
from scheduler.dispatch import Dispatcher, DispatchStats
from scheduler.messages import ReminderRenderer
from storage.crypto import Cipher, new_encryption_key, new_lookup_key
from storage.db import make_engine, migrate
from storage.models import Address
from storage.scan import scan
from tests.fake_telegram import TOKEN, FakeTelegram, Served, fake_app, free_port
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM, FakeTwilio
from tests.outbox_fixtures import bulk_members

POLICY = ReminderPolicy(stages=parse_stages(DEFAULT_STAGES))


async def bench_rate(sends: int, limit: float, channel: str = "telegram") -> None:
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'rate.db'}")
        migrate(engine)
        cipher = Cipher(encryption_keys=[new_encryption_key()], lookup_key=new_lookup_key())
        morning = datetime(2026, 12, 8, 1, 0, tzinfo=UTC)
        with Session(engine) as session:
            bulk_members(session, cipher, sends, covered_until=date(2026, 11, 30))
            scan(
                session=session,
                today=date(2026, 12, 8),
                policy=POLICY,
                zones={"73": ZoneInfo("Asia/Makassar")},
                now=morning,
            )
            session.commit()
        if channel == "whatsapp":
            stats, elapsed, refused, sender_rate = await _whatsapp(engine, cipher, morning, sends, limit)
        else:
            stats, elapsed, refused, sender_rate = await _telegram(engine, cipher, morning, limit)
        engine.dispose()
    rate = stats.sent / elapsed
    print(f"channel                 {channel}")
    print(f"sends                   {stats.sent:,} reminders to {stats.messages:,} chats in {elapsed:.1f} s")
    print(f"achieved rate           {rate:.2f} msg/s of {limit:.0f} allowed = {rate / limit:.1%}")
    print(f"429 answers             {refused} (throttled attempts seen by the dispatcher: {stats.throttled})")
    print(f"sender limit            {sender_rate} msg/s")


async def _drain(dispatcher: Dispatcher[Reply], morning: datetime) -> tuple[DispatchStats, float]:
    started = time.perf_counter()
    stats = await dispatcher.drain(morning)
    while stats.retried:  # a 429 was answered: send what waited, as the next dispatch tick would
        more = await dispatcher.drain(morning + timedelta(seconds=time.perf_counter() - started + 5))
        stats.add(more)
        stats.retried = more.retried
    return stats, time.perf_counter() - started


def _dispatcher(engine: Engine, cipher: Cipher, channel: str, sender: Sender[Reply]) -> Dispatcher[Reply]:
    renderer = ReminderRenderer(cipher, default_tariffs(), POLICY, "BRILink", "penyuluh desa")
    return Dispatcher(engine=engine, senders={channel: sender}, render=renderer, policy=POLICY, worker="rate")


async def _telegram(
    engine: Engine, cipher: Cipher, morning: datetime, limit: float
) -> tuple[DispatchStats, float, int, float]:
    fake = FakeTelegram(port=free_port(), per_second=limit)
    async with Served(fake_app(fake), fake.port):
        request = HTTPXRequest(connection_pool_size=64)
        async with Bot(TOKEN, base_url=fake.base_url, request=request) as bot:
            sender = TelegramSender(bot)  # the production default: 29 messages a second
            stats, elapsed = await _drain(_dispatcher(engine, cipher, "telegram", sender), morning)
    return stats, elapsed, fake.refused_429, sender.per_second


async def _whatsapp(
    engine: Engine, cipher: Cipher, morning: datetime, sends: int, limit: float
) -> tuple[DispatchStats, float, int, float]:
    with Session(engine) as session:  # the same members, on WhatsApp only
        number = literal("+62812").concat(Address.external_id)  # fixture chat ids have 8 digits: +62812xxxxxxxx
        session.execute(update(Address).values(channel="whatsapp", external_id=number))
        session.commit()
    fake = FakeTwilio(port=free_port(), per_second=limit)
    async with Served(fake.app(), fake.port):
        client = twilio_client(ACCOUNT_SID, AUTH_TOKEN, fake.base_url)
        sender = WhatsAppSender(  # the production default: 78 messages a second
            client,
            from_number=FROM,
            templates={"reminder": "HXbench"},
            status_callback="https://example.org/s",
            clock=lambda: morning,
        )
        stats, elapsed = await _drain(_dispatcher(engine, cipher, "whatsapp", sender), morning)
        await sender.close()
    return stats, elapsed, fake.refused_429, sender.per_second
