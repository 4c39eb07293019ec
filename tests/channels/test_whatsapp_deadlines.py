"""WhatsApp templates carry the deadline that still matters, at the HTTP boundary: the real twilio client against
the local Twilio stand-in, outside the 24 hours (a Content Template is required there)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from bot.channels.whatsapp import WhatsAppSender, twilio_client
from domain.policy import ReminderPolicy
from domain.rules import DEFAULT_STAGES, parse_stages
from domain.tariffs import default_tariffs
from scheduler.dispatch import Dispatcher
from scheduler.messages import ReminderRenderer
from service.conversations import Conversations
from storage.crypto import Cipher
from storage.scan import scan
from tests.fake_telegram import Served, free_port
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM, FakeTwilio
from tests.service.test_conversation_db import Person

NUMBER = "+6281200001234"  # La Baco's phone in the registration the tests walk through
WITA = ZoneInfo("Asia/Makassar")
POLICY = ReminderPolicy(stages=parse_stages(DEFAULT_STAGES))
TEMPLATES = {"reminder": "HXreminder0000", "reminder_lapsed": "HXlapsed0000", "reminder_note": "HXnote0000"}


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    fake = FakeTwilio(port=free_port())
    async with Served(fake.app(), fake.port):
        yield fake


Case = tuple[str, date, str, dict[str, str]]  # last month paid, the day, the template, its variables


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(
            (
                "11/2026",
                date(2026, 12, 22),
                "HXreminder0000",
                {
                    "1": "Bapak La Baco",
                    "2": "Desember 2026",
                    "3": "Rp8.400",
                    "4": "paling lambat Senin, 15 Februari 2027",
                },
            ),
            id="H+7: the last day a payment keeps the membership, not December's 15th",
        ),
        pytest.param(
            (
                "10/2026",
                date(2026, 12, 8),
                "HXreminder0000",
                {
                    "1": "Bapak La Baco",
                    "2": "November–Desember 2026",
                    "3": "Rp16.800",
                    "4": "paling lambat Selasa, 15 Desember 2026",
                },
            ),
            id="December's own H-7 with November in arrears",
        ),
        pytest.param(
            (
                "08/2026",
                date(2026, 11, 16),
                "HXreminder0000",
                {
                    "1": "Bapak La Baco",
                    "2": "September–November 2026",
                    "3": "Rp25.200",
                    "4": "paling lambat Senin, 16 November 2026",
                },
            ),
            id="the last day after a Sunday 15th",
        ),
        pytest.param(
            (
                "08/2026",
                date(2026, 11, 17),
                "HXlapsed0000",
                {
                    "1": "Bapak La Baco",
                    "2": "Selasa, 17 November 2026",
                    "3": "hubungi penyuluh Bapak/Ibu, Andi Penyuluh (+62 812-0000-0009), atau BPJS Ketenagakerjaan "
                    "di 175",
                },
            ),
            id="the lapse day: guidance, no amount and no past deadline",
        ),
    ],
)
async def test_the_template_carries_the_deadline_that_still_matters(
    twilio: FakeTwilio,
    conversations: Conversations,
    cipher: Cipher,
    case: Case,
) -> None:
    last_paid, day, content, variables = case
    farmer = Person(conversations, "8101")  # registered on Telegram: the WhatsApp window is closed
    farmer.now = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
    farmer.register_until_summary(last_paid=last_paid)
    farmer.tap("Benar, simpan")
    morning = datetime.combine(day, time(8, 0), tzinfo=WITA).astimezone(UTC)
    with Session(conversations.engine) as session:
        scan(session=session, today=day, policy=POLICY, zones={"73": WITA}, now=morning)
        session.commit()
    sender = WhatsAppSender(
        twilio_client(ACCOUNT_SID, AUTH_TOKEN, twilio.base_url),
        from_number=FROM,
        templates=TEMPLATES,
        status_callback="https://sipakainge.example.org/twilio/status",
        clock=lambda: morning,
    )
    officer = ("Andi Penyuluh", "+6281200000009")
    renderer = ReminderRenderer(
        cipher, default_tariffs(), POLICY, "BRILink", "penyuluh desa", officers=lambda _: officer
    )
    dispatcher = Dispatcher(
        engine=conversations.engine, senders={"whatsapp": sender}, render=renderer, policy=POLICY, worker="wa"
    )
    try:
        assert (await dispatcher.drain(morning)).sent == 1
    finally:
        await sender.close()
    [message] = twilio.sent_to(NUMBER)
    assert (message["ContentSid"], json.loads(message["ContentVariables"])) == (content, variables)
