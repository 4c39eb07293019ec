"""Answers to a reminder: bound to the reminder, working mid-dialog, scoped to the chat; then on real databases."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from bot.dialogs.core import DialogConfig, Incoming, RecordPayment, ReminderView, Reply, RequestHelp, SetOptOut
from bot.dialogs.state import Step
from bot.texts import t
from domain.delivery import SendResult, Sent, Target
from domain.policy import ReminderPolicy
from domain.regions import RegionIndex
from domain.rules import DEFAULT_STAGES, parse_stages
from domain.tariffs import default_tariffs
from domain.vocabulary import OfficerRole
from scheduler.dispatch import Dispatcher
from scheduler.messages import ReminderRenderer
from service.conversations import Conversations
from service.directory import OfficerDirectory
from storage.crypto import Cipher
from storage.models import Member, Payment, Reminder
from storage.officers import create_officer
from storage.scan import scan
from tests.dialog_driver import Chat
from tests.scheduler.test_scan import T0, add_member
from tests.service.test_conversation_db import Person

REMINDER = ReminderView(
    id=41, member_id=1, member_name="La Baco", cycle=202612, covered_until=date(2026, 11, 30), member_sex="L"
)


@pytest.fixture
def chat(dialog_config: DialogConfig, regions: RegionIndex) -> Chat:
    chat = Chat(dialog_config, regions)
    chat.register()
    chat.press("Selesai")
    chat.lookups.reminders.append(REMINDER)
    return chat


def test_paid_asks_how_many_months_then_records_it(chat: Chat) -> None:
    chat.send(Incoming.choice("rem:41:paid"))
    assert chat.last.text == t("reminder_reply.how_many", name="Bapak La Baco", month="Desember 2026")
    assert [c.label for c in chat.last.choices] == ["1 bulan", "3 bulan", "6 bulan", "12 bulan"]
    chat.press("3 bulan")
    assert chat.effects[-1] == RecordPayment(member_id=1, cycle=202612, months=3)
    assert chat.last.text == t("reminder_reply.thanks", name="Bapak La Baco", until="Februari 2027")
    assert "terlindungi" not in chat.last.text  # a report, checked later against BPJS's data: not a fact
    assert "dicocokkan dengan data BPJS" in chat.last.text


def test_reminder_buttons_work_in_the_middle_of_another_dialog(chat: Chat) -> None:
    chat.send("/ubah")
    chat.press("Nama")
    chat.send(Incoming.choice("rem:41:help"))
    assert chat.effects[-1] == RequestHelp(member_id=1)
    assert chat.replies[0].text == t("reminder_reply.help", name="Bapak La Baco")
    assert chat.step == Step.NAME  # and the name question again
    assert chat.last.text == t("ask.name")


@pytest.mark.parametrize("forged", ["rem:999:paid", "rem:41:paid:13", "rem:41:delete", "rem:x:paid", "rem:41:paid:3:1"])
def test_forged_or_foreign_reminder_answers_change_nothing(chat: Chat, forged: str) -> None:
    effects = len(chat.effects)
    chat.send(Incoming.choice(forged))
    assert chat.last.text.startswith(t("invalid.stale_choice"))
    assert len(chat.effects) == effects


@pytest.mark.parametrize(("typed", "stopped"), [("BERHENTI", True), ("stop", True), ("Mulai", False)])
def test_keywords_stop_and_resume_everyone_on_the_phone(chat: Chat, typed: str, stopped: bool) -> None:
    chat.send(typed)
    assert chat.effects[-1] == SetOptOut(member_ids=(1,), opted_out=stopped)


def test_typed_sudah_bayar_answers_the_latest_reminder(chat: Chat) -> None:
    chat.send("sudah bayar")
    assert chat.last.text.startswith("Terima kasih. Iuran Bapak La Baco dibayar untuk berapa bulan")
    chat.send("12")
    assert chat.effects[-1] == RecordPayment(member_id=1, cycle=202612, months=12)


def test_already_paid_is_acknowledged(chat: Chat) -> None:
    chat.lookups.reminders = [ReminderView(41, 1, "La Baco", 202612, date(2026, 12, 31))]  # sex not known
    chat.send(Incoming.choice("rem:41:paid"))
    assert chat.last.text == t("reminder_reply.already", name="Bapak/Ibu La Baco", until="Desember 2026")


# --- on the databases, from the scan to the button ---


@dataclass
class Inbox:
    """A sender that keeps the rendered messages, as a phone would."""

    channel: str = "telegram"
    per_second: float = 0.0
    per_chat_seconds: float = 0.0
    received: list[tuple[str, Reply]] = field(default_factory=list)

    async def send(self, target: Target, message: Reply) -> SendResult:
        self.received.append((target.external_id, message))
        return Sent(provider_id=str(len(self.received)))


POLICY = ReminderPolicy(stages=parse_stages(DEFAULT_STAGES))
ZONES = {"73": ZoneInfo("Asia/Makassar")}


async def test_paying_from_the_reminder_cancels_the_cycle(conversations: Conversations, cipher: Cipher) -> None:
    farmer = Person(conversations, "9001")
    farmer.register_until_summary(last_paid="11/2026")
    farmer.tap("Benar, simpan")
    engine = conversations.engine
    morning = datetime(2026, 12, 8, 1, 0, tzinfo=UTC)
    with Session(engine) as session:
        assert scan(session=session, today=date(2026, 12, 8), policy=POLICY, zones=ZONES, now=morning).created == 1
        session.commit()
    inbox = Inbox()
    renderer = ReminderRenderer(cipher, default_tariffs(), POLICY, "BRILink, Alfamart", "penyuluh desa")
    dispatcher = Dispatcher(engine=engine, senders={"telegram": inbox}, render=renderer, policy=POLICY, worker="t")
    assert (await dispatcher.drain(morning)).sent == 1
    [(chat_id, message)] = inbox.received
    assert chat_id == "9001"
    assert "iuran bulan Desember 2026 sebesar Rp8.400, paling lambat Selasa, 15 Desember 2026" in message.text
    assert "Jika membayar 3 bulan sekaligus (sampai Februari 2027): Rp42.000" in message.text  # 8,400 + 2 × 16,800
    assert "7312********9001" in message.text

    farmer.replies = [message]
    farmer.tap("Sudah bayar")
    farmer.tap("3 bulan")
    assert "sampai Februari 2027 sudah dicatat" in farmer.replies[0].text
    with Session(engine) as session:
        member = session.exec(select(Member)).one()
        assert member.covered_until == date(2027, 2, 28)
        payment = session.exec(select(Payment)).one()
        assert (payment.months, payment.amount, payment.verified, payment.source) == (3, 42_000, False, "self_report")
        later = scan(
            session=session, today=date(2026, 12, 12), policy=POLICY, zones=ZONES, now=morning + timedelta(days=4)
        )
        session.commit()
    assert later.created == 0  # nobody is reminded of a month they say they paid


async def test_opting_out_cancels_what_is_queued(conversations: Conversations, cipher: Cipher) -> None:
    farmer = Person(conversations, "9002")
    farmer.register_until_summary(last_paid="11/2026")
    farmer.tap("Benar, simpan")
    with Session(conversations.engine) as session:
        scan(
            session=session, today=date(2026, 12, 8), policy=POLICY, zones=ZONES, now=datetime(2026, 12, 8, tzinfo=UTC)
        )
        session.commit()
    farmer.say("BERHENTI")
    assert farmer.replies[0].text == t("reminder_reply.stopped")
    with Session(conversations.engine) as session:
        assert session.exec(select(Reminder.status, Reminder.reason)).one() == ("cancelled", "opted_out")
        assert session.exec(select(Member.opted_out)).one() is True


async def test_a_reminder_names_the_members_own_officer(conversations: Conversations, cipher: Cipher) -> None:
    engine = conversations.engine
    with Session(engine) as session:
        add_member(session, cipher, 1, date(2026, 11, 30))  # Donri Donri, kecamatan Donri Donri
        add_member(session, cipher, 2, date(2026, 11, 30), kecamatan_code="73.12.01", desa_code="73.12.01.2003")
        create_officer(
            session=session,
            name="Koordinator Donri",
            phone="+6281200000009",
            codes=["73.12.06"],
            now=T0,
            role=OfficerRole.COORDINATOR,
        )
        session.commit()
    clock = [0.0]
    directory = OfficerDirectory(engine, ttl=60, clock=lambda: clock[0])
    assert directory("73.12.06.2002") is None  # read now: nobody but a coordinator, who is not named to members
    with Session(engine) as session:
        create_officer(session=session, name="Penyuluh Donri", phone="+6281200000001", codes=["73.12.06"], now=T0)
        session.commit()
    assert directory("73.12.06.2002") is None  # not reread yet
    clock[0] = 61
    assert directory("73.12.06.2002") == ("Penyuluh Donri", "+6281200000001")  # by the kecamatan
    morning = datetime(2026, 12, 8, 1, 0, tzinfo=UTC)
    with Session(engine) as session:
        scan(session=session, today=date(2026, 12, 8), policy=POLICY, zones=ZONES, now=morning)
        session.commit()
    inbox = Inbox()
    renderer = ReminderRenderer(cipher, default_tariffs(), POLICY, "BRILink", "hubungi BPJS di 175", officers=directory)
    dispatcher = Dispatcher(engine=engine, senders={"telegram": inbox}, render=renderer, policy=POLICY, worker="t")
    assert (await dispatcher.drain(morning)).sent == 2
    texts = dict(inbox.received)
    assert t("reminder.contact_officer_phone", name="Penyuluh Donri", phone="+62 812-0000-0001") in texts["s1"].text
    assert "Koordinator" not in texts["s1"].text
    assert "hubungi BPJS di 175" in texts["s2"].text  # no officer in Marioriwawo: the configured contact
