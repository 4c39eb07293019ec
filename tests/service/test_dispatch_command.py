"""`sipakainge dispatch --once` sends through every configured channel, as `run` does; `--print` shows each message
with its channel and address and records nothing (issue 16, point 5). SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from bot import app
from bot.__main__ import main
from bot.settings import Settings
from domain.vocabulary import Channel, ReminderStatus
from storage.crypto import Cipher
from storage.models import Address, DeliveryAttempt, MemberAddress, Reminder
from storage.scan import scan
from tests.fake_telegram import TOKEN, FakeTelegram, Served, fake_app, free_port
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM, FakeTwilio
from tests.outbox_fixtures import bulk_members
from tests.scheduler.test_dispatch import H7_DAY, MORNING, POLICY, ZONES

WHATSAPP_NUMBER = "+6281200000101"
TELEGRAM_CHAT = 10_000_000  # bulk_members' first chat


@pytest.fixture
def deployment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, db_url: str, engine: Engine) -> Engine:
    """Two members due their H-7 reminder: one on Telegram only, one on WhatsApp only (who wrote an hour ago)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("DEV_SECRETS_FILE", str(tmp_path / "keys.json"))
    monkeypatch.setattr(app, "utc_now", lambda: MORNING)
    with Session(engine) as session:
        ids = bulk_members(session, app.build_cipher(Settings()), 2, covered_until=date(2026, 11, 30))
        link = session.exec(select(MemberAddress).where(col(MemberAddress.member_id) == ids[1])).one()
        session.execute(
            update(Address)
            .where(col(Address.id) == link.address_id)
            .values(channel=Channel.WHATSAPP, external_id=WHATSAPP_NUMBER, last_inbound_at=MORNING - timedelta(hours=1))
        )
        scan(session=session, today=H7_DAY, policy=POLICY, zones=ZONES, now=MORNING)
        session.commit()
    return engine


def _channels(monkeypatch: pytest.MonkeyPatch, telegram: FakeTelegram, twilio: FakeTwilio) -> None:
    for key, value in {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": telegram.base_url,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_WHATSAPP_FROM": FROM,
        "TWILIO_PUBLIC_URL": "https://sipakainge.example.org",
        "TWILIO_API_BASE_URL": twilio.base_url,
    }.items():
        monkeypatch.setenv(key, value)


def _reminders(engine: Engine) -> list[Reminder]:
    with Session(engine) as session:
        return list(session.exec(select(Reminder).order_by(col(Reminder.id))).all())


async def test_dispatch_once_sends_whatsapp_too(deployment: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: Telegram only, and the WhatsApp-only member's reminder `failed · no_channel`."""
    telegram, twilio = FakeTelegram(port=free_port()), FakeTwilio(port=free_port())
    _channels(monkeypatch, telegram, twilio)
    async with Served(fake_app(telegram), telegram.port), Served(twilio.app(), twilio.port):
        assert await asyncio.to_thread(main, ["dispatch", "--once"]) == 0
    assert len(telegram.texts(TELEGRAM_CHAT)) == 1
    assert len(twilio.sent_to(WHATSAPP_NUMBER)) == 1
    assert [(r.status, r.reason) for r in _reminders(deployment)] == [(ReminderStatus.SENT, "")] * 2


async def test_dispatch_once_with_whatsapp_only(deployment: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """A WhatsApp-only deployment (no Telegram token): before, refused outright."""
    telegram, twilio = FakeTelegram(port=free_port()), FakeTwilio(port=free_port())
    _channels(monkeypatch, telegram, twilio)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "")
    async with Served(twilio.app(), twilio.port):
        assert await asyncio.to_thread(main, ["dispatch", "--once"]) == 0
    assert len(twilio.sent_to(WHATSAPP_NUMBER)) == 1
    states = {r.status for r in _reminders(deployment)}
    assert ReminderStatus.SENT in states  # the WhatsApp member's; the Telegram one has no configured channel


def test_dispatch_once_without_any_channel_refuses(deployment: Engine) -> None:
    with pytest.raises(SystemExit, match="TELEGRAM_BOT_TOKEN"):
        main(["dispatch", "--once"])
    assert {r.status for r in _reminders(deployment)} == {ReminderStatus.PENDING}


async def test_print_shows_every_message_and_records_nothing(
    deployment: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: each printed reminder was recorded `sent` (and the WhatsApp one `failed · no_channel`)."""
    telegram, twilio = FakeTelegram(port=free_port()), FakeTwilio(port=free_port())
    _channels(monkeypatch, telegram, twilio)
    before = [(r.id, r.status, r.send_after, r.attempts, r.reason) for r in _reminders(deployment)]
    for _ in range(2):  # nothing recorded: the second run prints the same
        assert await asyncio.to_thread(main, ["dispatch", "--once", "--print"]) == 0
        out = capsys.readouterr().out
        assert f"[telegram {TELEGRAM_CHAT}]" in out
        assert f"[whatsapp {WHATSAPP_NUMBER}]" in out
        assert out.rstrip().endswith("semuanya tetap menunggu.")
        after = [(r.id, r.status, r.send_after, r.attempts, r.reason) for r in _reminders(deployment)]
        assert after == before
        assert all(r.claimed_by is None and r.sent_at is None for r in _reminders(deployment))
    assert telegram.texts(TELEGRAM_CHAT) == []  # printed, never sent
    assert twilio.messages == []
    with Session(deployment) as session:
        assert session.exec(select(DeliveryAttempt)).all() == []


def test_the_configured_channels_reach_the_counts(
    deployment: Engine, monkeypatch: pytest.MonkeyPatch, cipher: Cipher
) -> None:
    """What /statistik, the broadcast preview and the officers' lists count as reachable: the channels configured."""
    telegram, twilio = FakeTelegram(port=free_port()), FakeTwilio(port=free_port())
    _channels(monkeypatch, telegram, twilio)
    both = app.build_conversations(Settings(), deployment, cipher).config.channels
    assert both == {Channel.TELEGRAM, Channel.WHATSAPP}
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "")
    assert app.build_conversations(Settings(), deployment, cipher).config.channels == {Channel.TELEGRAM}
