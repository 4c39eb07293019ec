"""LOG_LEVEL=DEBUG through the real configure_logging and its real handler: a registration, a Telegram conversation
over the real python-telegram-bot client (whose requests httpx logs with the token in the URL), a CSV import, a
reminder sent and one refused, and an officer's outcome. Every line written is scanned for NIKs in any grouping,
phone numbers, the member's name, the bot token and the secrets."""

from __future__ import annotations

import dataclasses
import io
import logging
import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from telegram.ext import Application

from bot.app import configure_logging
from bot.dialogs.core import Incoming
from bot.settings import Settings
from bot.texts import t
from scheduler.imports import run_imports
from service.conversations import Conversations
from storage.crypto import Cipher
from tests.channels.test_telegram_reminders import MORNING, register, reminders_for
from tests.fake_telegram import TOKEN, FakeTelegram
from tests.service.test_admin import ADMIN_CHAT
from tests.service.test_conversation_db import Person, officer_desk
from tests.service.test_reminder_replies import Inbox

WEBHOOK_SECRET = "webhook-secret-for-the-log-test-0123456789"
TWILIO_TOKEN = "twilio-auth-token-for-the-log-test"
NIKS = ("7312061506809001", "7312061506809002", "7312061506809005")
# Phones as digits after the country code or leading 0; any spaces, dashes or dots between them are ignored below.
PHONES = ("81200001234", "81200001235", "81200007777")
NAMES = ("La Baco", "Wa Ode Sitti")
# The generic shapes (tests/service/test_logs), on the raw text.
NIK_SHAPE = re.compile(r"(?<!\d)(?:\d{4}[\s.\-]?){3}\d{4}(?!\d)|(?<!\d)\d{6}[\s.\-]\d{6}[\s.\-]\d{4}")
PHONE_SHAPE = re.compile(r"(?<!\d)(?:\+?62|0)[\s-]?8[\d\s-]{7,13}\d(?!\d)")
CAPPED = ("telegram", "httpx", "httpcore", "sqlalchemy", "alembic")


@pytest.fixture
def log_level() -> str:
    return "DEBUG"


@pytest.fixture
def written_log(monkeypatch: pytest.MonkeyPatch, log_level: str) -> Iterator[io.StringIO]:
    """The root logger as a fresh process has it (no handlers), configured by the real configure_logging at
    `log_level`, its handler writing to a buffer instead of stderr; everything restored afterwards."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, {name: logging.getLogger(name).level for name in CAPPED})
    buffer = io.StringIO()
    monkeypatch.setattr(sys, "stderr", buffer)
    root.handlers.clear()
    settings = Settings(
        _env_file=None,
        log_level=log_level,
        telegram_bot_token=TOKEN,
        telegram_webhook_secret=WEBHOOK_SECRET,
        twilio_auth_token=TWILIO_TOKEN,
    )
    configure_logging(settings)
    yield buffer
    for handler in root.handlers:
        handler.flush()
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    for name, level in saved[2].items():
        logging.getLogger(name).setLevel(level)


@pytest.mark.parametrize("log_level", ["WARNING"])
def test_library_caps_never_lower_the_configured_level(written_log: io.StringIO) -> None:
    for name in CAPPED:
        logging.getLogger(f"{name}.child").info("chatter from %s", name)
    logging.getLogger("telegram.ext").warning("kept")
    assert "chatter" not in written_log.getvalue()
    assert "WARNING telegram.ext: kept" in written_log.getvalue()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # logging does not depend on the database
async def test_debug_logs_carry_no_personal_data_or_secret(
    written_log: io.StringIO,
    telegram: FakeTelegram,
    polling_bot: Application,  # type: ignore[type-arg]
    conversations: Conversations,
    cipher: Cipher,
) -> None:
    config = dataclasses.replace(conversations.config, admins=frozenset({f"telegram:{ADMIN_CHAT}"}))
    service = dataclasses.replace(conversations, config=config)
    await polling_bot.bot.set_webhook("https://bot.example.id/telegram", secret_token=WEBHOOK_SECRET)
    # A registration (La Baco, 7312061506809001, 081200001234), then the member reads it over the real client.
    register(service, 701, NIKS[0])
    telegram.text(701, "/status")
    assert "La Baco" in (await telegram.wait_for(701, 1))[-1]
    # Someone types a NIK, grouped, and a name into the bot.
    telegram.text(702, "/start")
    await telegram.wait_for(702, 1)
    telegram.text(702, "7312 0615 0680 9002 La Baco 0812-0000-1235")
    await telegram.wait_for(702, 2)
    # An import of a small CSV.
    admin = Person(service, ADMIN_CHAT)
    csv = "NIK;Nama;No HP;Desa;Kecamatan;Bulan Iuran Terakhir\n"
    csv += f"{NIKS[2]};Wa Ode Sitti;0812-0000-1235;Pesse;Donri-Donri;10/2026\n"
    assert "• baru: 1" in admin.say(Incoming.file("data.csv", csv.encode()))[0].text
    admin.tap(t("admin.import_go"))
    await run_imports(service, {"telegram": Inbox()}, lambda: datetime(2026, 11, 23, 3, 0, tzinfo=UTC))
    # A reminder sent over the real client, and one refused (the second member blocked the bot).
    register(service, 703, NIKS[1])
    telegram.blocked.add(703)
    dispatcher = reminders_for(service, polling_bot.bot, cipher)
    stats = await dispatcher.drain(MORNING)
    assert (stats.sent, stats.unreachable) == (1, 1)
    # The officer's outcome for the member no longer reachable: a new number.
    desk = officer_desk(service, "officer-1", now=MORNING + timedelta(days=14))
    desk.say("/daftar")
    desk.tap("La Baco")
    desk.tap("Nomor salah / ganti nomor")
    done = t("officer.done.wrong_number", name="La Baco", phone="+62 812-0000-7777")
    assert desk.say("0812-0000-7777")[0].text == done

    written = written_log.getvalue()
    joined = re.sub(r"[\s.\-_/()]", "", written)  # NIKs and phones in any grouping
    leaks = [value for value in NIKS + PHONES if value in joined]
    leaks += [name for name in NAMES if name in written]
    leaks += [secret for secret in (TOKEN, TOKEN.split(":")[1], WEBHOOK_SECRET, TWILIO_TOKEN) if secret in written]
    leaks += NIK_SHAPE.findall(written) + PHONE_SHAPE.findall(written)
    assert not leaks, [line for line in written.splitlines() if any(leak in line for leak in leaks)][:20]
    # The scan read real output: DEBUG lines of our own code and the libraries' requests, their token masked.
    assert " DEBUG " in written
    assert "HTTP Request: POST" in written
    assert "bot<secret>/sendMessage" in written
