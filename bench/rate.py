"""Share of Telegram's rate limit achieved: the real dispatcher and TelegramSender against a local stand-in that
answers 429 whenever more than `limit` messages arrive within one second."""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import Session
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.channels.telegram import TelegramSender
from bot.reminders import ReminderRenderer
from scheduler.dispatch import Dispatcher
from scheduler.rules import DEFAULT_STAGES, parse_stages
from scheduler.scan import ReminderPolicy, scan
from scheduler.tariffs import default_tariffs
from storage.crypto import Cipher, new_encryption_key, new_lookup_key
from storage.db import make_engine, migrate
from tests.fake_telegram import TOKEN, FakeTelegram, Served, fake_app, free_port
from tests.outbox_fixtures import bulk_members

POLICY = ReminderPolicy(stages=parse_stages(DEFAULT_STAGES))


async def bench_rate(sends: int, limit: float) -> None:
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
        fake = FakeTelegram(port=free_port(), per_second=limit)
        async with Served(fake_app(fake), fake.port):
            request = HTTPXRequest(connection_pool_size=64)
            async with Bot(TOKEN, base_url=fake.base_url, request=request) as bot:
                sender = TelegramSender(bot)  # the production default: 29 messages a second
                renderer = ReminderRenderer(cipher, default_tariffs(), POLICY, "BRILink", "penyuluh desa")
                dispatcher = Dispatcher(
                    engine=engine, senders={"telegram": sender}, render=renderer, policy=POLICY, worker="rate"
                )
                started = time.perf_counter()
                stats = await dispatcher.drain(morning)
                while stats.retried:  # a 429 was answered: send what waited, as the next dispatch tick would
                    later = morning + timedelta(seconds=time.perf_counter() - started + 5)
                    more = await dispatcher.drain(later)
                    stats.add(more)
                    stats.retried = more.retried
                elapsed = time.perf_counter() - started
        engine.dispose()
    rate = stats.sent / elapsed
    print(f"sends                   {stats.sent:,} reminders to {stats.messages:,} chats in {elapsed:.1f} s")
    print(f"achieved rate           {rate:.2f} msg/s of {limit:.0f} allowed = {rate / limit:.1%}")
    print(f"429 answers             {fake.refused_429} (throttled attempts seen by the dispatcher: {stats.throttled})")
    print(f"sender limit            {sender.per_second} msg/s")
