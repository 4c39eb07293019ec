"""Programs and declared income on both databases: what the chat records is what the reminder charges, and /ubah of
one field leaves the others as they were."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from domain.policy import ReminderPolicy
from domain.rules import DEFAULT_STAGES, parse_stages
from domain.tariffs import default_tariffs
from scheduler.dispatch import Dispatcher
from scheduler.messages import ReminderRenderer
from service.conversations import Conversations
from storage.crypto import Cipher
from storage.models import Member
from storage.scan import scan
from tests.service.test_conversation_db import Person
from tests.service.test_reminder_replies import Inbox

POLICY = ReminderPolicy(stages=parse_stages(DEFAULT_STAGES))
ZONES = {"73": ZoneInfo("Asia/Makassar")}
JHT = "Ya, ikut JHT (+Rp20.000/bulan)"


def member(conversations: Conversations) -> Member:
    with Session(conversations.engine) as session:
        return session.exec(select(Member)).one()


async def test_a_jht_member_is_reminded_of_the_amount_with_jht(conversations: Conversations, cipher: Cipher) -> None:
    farmer = Person(conversations, "7001")
    farmer.register_until_summary(last_paid="11/2026", programs=JHT)
    assert "Iuran per bulan: Rp28.400 (untuk Desember 2026)" in farmer.replies[-1].text
    farmer.tap("Benar, simpan")
    saved = member(conversations)
    assert (saved.with_jht, saved.declared_income) == (True, 1_000_000)

    morning = datetime(2026, 12, 8, 1, 0, tzinfo=UTC)
    with Session(conversations.engine) as session:
        assert scan(session=session, today=date(2026, 12, 8), policy=POLICY, zones=ZONES, now=morning).created == 1
        session.commit()
    inbox = Inbox()
    renderer = ReminderRenderer(cipher, default_tariffs(), POLICY, "BRILink", "penyuluh desa")
    dispatcher = Dispatcher(
        engine=conversations.engine, senders={"telegram": inbox}, render=renderer, policy=POLICY, worker="t"
    )
    assert (await dispatcher.drain(morning)).sent == 1
    [(_, message)] = inbox.received
    # December 2026: JKK + JKM halved (8,400) + JHT 20,000; January and February 2027: 16,800 + 20,000 each.
    assert "iuran bulan Desember 2026 sebesar Rp28.400" in message.text
    assert "Jika membayar 3 bulan sekaligus (sampai Februari 2027): Rp102.000" in message.text


def test_ubah_income_then_programs_keeps_everything_else(conversations: Conversations) -> None:
    farmer = Person(conversations, "7002")
    farmer.register_until_summary(payer="Keluarga", programs=JHT)
    farmer.tap("Benar, simpan")
    farmer.tap("Selesai")
    before = member(conversations)

    farmer.say("/ubah")
    farmer.tap("Penghasilan")
    farmer.say("2 juta")
    after = member(conversations)
    assert after.declared_income == 2_000_000
    kept = ("with_jht", "kpj", "covered_until", "payer", "period_months", "occupation", "bpjs_status")
    assert [getattr(after, name) for name in kept] == [getattr(before, name) for name in kept]

    farmer.say("/ubah")
    farmer.tap("Program (JHT)")
    farmer.tap("Tidak, JKK + JKM saja")
    last = member(conversations)
    assert (last.with_jht, last.declared_income) == (False, 2_000_000)
    assert (last.kpj, last.covered_until, last.payer) == (before.kpj, before.covered_until, "family")
