"""No phone or someone else's phone through the real service, on SQLite and PostgreSQL (issue 14, point 4): whose
number it is is stored and shown; without a number the registering chat gets the reminders, and a member an
officer registered door to door is on that officer's list as "tanpa nomor HP"; the column's migration."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

from alembic import command
from openpyxl import load_workbook
from sqlalchemy import Engine, inspect
from sqlmodel import Session, col, select

from bot.channels.whatsapp import incoming_from_text
from bot.dialogs.core import Incoming
from bot.texts import speaking, t
from domain.policy import ReminderPolicy
from domain.regions import RegionIndex
from domain.rules import DEFAULT_STAGES, parse_stages
from domain.tariffs import default_tariffs
from domain.vocabulary import Channel, PhoneOwner
from files.officer_list import workbook
from scheduler.dispatch import Dispatcher
from scheduler.messages import ReminderRenderer
from service.conversations import Conversations
from service.unreached import area_lists
from storage.crypto import Cipher
from storage.db import alembic_config
from storage.members import SEES
from storage.models import Address, Member, MemberAddress
from storage.scan import scan
from tests.dialog_driver import HAPPY_PATH
from tests.service.test_conversation_db import Person, officer_desk
from tests.service.test_reminder_replies import Inbox

POLICY = ReminderPolicy(stages=parse_stages(DEFAULT_STAGES))
DAUGHTER = "+6281200005555"  # her WhatsApp number, and the number she gives for her father


def answers(**overrides: str) -> list[str]:
    """The registration's answers, with some changed; a None-like "-" drops one (no owner without a phone)."""
    return [overrides.get(name, answer) for name, answer in HAPPY_PATH if overrides.get(name) != "-"]


def chats_of(session: Session, member_id: int | None) -> list[tuple[str, str]]:
    rows = session.exec(
        select(Address.channel, Address.external_id)
        .join(MemberAddress, col(MemberAddress.address_id) == col(Address.id))
        .where(col(MemberAddress.member_id) == member_id, SEES)  # the chats that see them
        .order_by(col(Address.id))
    ).all()
    return [(channel, external_id) for channel, external_id in rows]


def test_a_daughter_registers_her_father_on_whatsapp_with_her_own_number(conversations: Conversations) -> None:
    daughter = Person(conversations, DAUGHTER, channel="whatsapp")
    daughter.say(incoming_from_text("DAFTAR"))
    for answer in answers(name="La Tahang", phone="0812 0000 5555", phone_owner="anak saya"):
        daughter.say(incoming_from_text(answer))
    assert "Nomor HP: +62 812-0000-5555 (milik anak)" in daughter.replies[-1].text
    daughter.say(incoming_from_text("1"))  # "Benar, simpan"
    with Session(conversations.engine) as session:
        father = session.exec(select(Member)).one()
        assert (father.phone, father.phone_owner) == (DAUGHTER, PhoneOwner.CHILD)
        assert chats_of(session, father.id) == [("whatsapp", DAUGHTER)]  # her chat is the number: one address
    daughter.say(incoming_from_text("2"))  # "Selesai"
    [status] = daughter.say(incoming_from_text("STATUS"))
    assert "Nomor HP: +62 812-0000-5555 (milik anak)" in status.text


def test_on_telegram_her_shared_contact_still_asks_whose(conversations: Conversations) -> None:
    daughter = Person(conversations, "7001")
    daughter.say("/start")
    for name, answer in HAPPY_PATH:
        if name == "phone":
            daughter.say(Incoming.contact("6281200005555", is_sender=True))
        else:
            daughter.say(t("option.phone_owner.child") if name == "phone_owner" else answer)
    daughter.tap("Benar, simpan")
    with Session(conversations.engine) as session:
        father = session.exec(select(Member)).one()
    assert (father.phone, father.phone_owner) == (DAUGHTER, PhoneOwner.CHILD)


async def test_registered_from_a_chat_without_a_phone_that_chat_gets_the_reminders(
    conversations: Conversations, cipher: Cipher
) -> None:
    farmer = Person(conversations, "7002")
    farmer.say("/start")
    for answer in answers(phone="tidak punya hp", phone_owner="-", last_paid="11/2026"):
        farmer.say(answer)
    assert t("field.no_phone") in farmer.replies[-1].text.splitlines()
    [saved] = farmer.tap("Benar, simpan")
    assert t("saved.no_phone_here", name="Bapak La Baco") in saved.text
    # A Telegram chat proves itself by its user's own contact (any number: the member has none).
    assert t("saved.unproven", name="Bapak La Baco") in saved.text
    assert saved.request_contact
    with Session(conversations.engine) as session:
        assert chats_of(session, session.exec(select(Member)).one().id) == []
    farmer.say(Incoming.contact("6281200007002", is_sender=True))
    with Session(conversations.engine) as session:
        member = session.exec(select(Member)).one()
        assert (member.phone, member.phone_owner) == (None, None)
        assert chats_of(session, member.id) == [("telegram", "7002")]
    morning = datetime(2026, 12, 8, 1, 0, tzinfo=UTC)  # H-7 of December
    with Session(conversations.engine) as session:
        scan(session=session, today=date(2026, 12, 8), policy=POLICY, zones={"73": conversations.zone}, now=morning)
        session.commit()
    inbox = Inbox()
    renderer = ReminderRenderer(cipher, default_tariffs(), POLICY, "BRILink", "penyuluh desa")
    dispatcher = Dispatcher(
        engine=conversations.engine, senders={"telegram": inbox}, render=renderer, policy=POLICY, worker="t"
    )
    await dispatcher.drain(morning)
    assert [chat for chat, _ in inbox.received] == ["7002"]


def test_an_officer_registers_a_member_without_a_phone_who_is_then_on_their_list(
    conversations: Conversations,
) -> None:
    now = datetime(2026, 12, 22, 2, 0, tzinfo=UTC)  # H+7 of December: November paid, December not
    desk = officer_desk(conversations, "officer-7", now=now)
    desk.say("/peserta_baru")
    for answer in answers(phone="lewati", phone_owner="-", last_paid="11/2026"):
        desk.say(answer)
    assert t("field.no_phone_unreached") in desk.replies[-1].text.splitlines()
    [saved] = desk.tap("Benar, simpan")
    assert saved.text.startswith(t("saved.no_phone_unreached", name="Bapak La Baco"))
    desk.tap("Selesai")
    with Session(conversations.engine) as session:
        member = session.exec(select(Member)).one()
        assert member.phone is None
        assert chats_of(session, member.id) == []  # neither the officer's chat nor any number
    listing = desk.say("/daftar")[0].text
    [line] = [line for line in listing.splitlines() if "La Baco" in line]
    assert f"La Baco · {t('officer.no_phone')} ·" in line
    assert t("officer.reason.no_channel") in listing
    assert "kunjungi langsung" in t("officer.reason.no_channel")


def test_the_phone_owner_migration_goes_down_and_up_again(engine: Engine) -> None:
    config = alembic_config(engine)
    command.downgrade(config, "0015")
    assert "phone_owner" not in {c["name"] for c in inspect(engine).get_columns("member")}
    command.upgrade(config, "head")
    assert "phone_owner" in {c["name"] for c in inspect(engine).get_columns("member")}


def listed_line(desk: Person, name: str) -> str:
    [line] = [line for line in desk.say("/daftar")[0].text.splitlines() if name in line]
    return line


def test_registered_from_whatsapp_without_a_phone_the_officer_sees_that_chat_s_number(
    conversations: Conversations, cipher: Cipher, regions: RegionIndex
) -> None:
    """ "tanpa nomor HP" tells an officer to visit; the WhatsApp chat the member registered from is a number to call,
    and a Telegram chat is a way too. Listed for an unknown last paid month, on the chat list and in its file."""
    now = datetime(2026, 12, 22, 2, 0, tzinfo=UTC)
    farmer = Person(conversations, "+6281200009101", channel="whatsapp")
    farmer.now = now
    farmer.say(incoming_from_text("DAFTAR"))
    for answer in answers(phone="tidak punya hp", phone_owner="-", last_paid=t("option.last_paid_unknown")):
        farmer.say(incoming_from_text(answer))
    assert t("field.no_phone") in farmer.replies[-1].text.splitlines()
    [saved] = farmer.say(incoming_from_text("1"))  # "Benar, simpan"
    with speaking(Channel.WHATSAPP):
        assert t("saved.no_phone_here", name="Bapak La Baco") in saved.text
    teller = Person(conversations, "7003")
    teller.now = now
    teller.say("/start")
    for answer in answers(
        name="Wa Ode", nik="7312064506809002", phone="tidak punya hp", phone_owner="-", last_paid="Tidak ingat"
    ):
        teller.say(answer)
    teller.tap("Benar, simpan")
    teller.say(Incoming.contact("6281200007003", is_sender=True))  # the chat proven: test_proven_links
    with Session(conversations.engine) as session:
        members = session.exec(select(Member).order_by(col(Member.id))).all()
        assert [(m.phone, m.covered_until) for m in members] == [(None, None), (None, None)]
        assert chats_of(session, members[0].id) == [("whatsapp", "+6281200009101")]
    desk = officer_desk(conversations, "officer-8", now=now)
    whatsapp = t("officer.whatsapp_chat", phone="+62 812-0000-9101")
    assert f"La Baco · {whatsapp} ·" in listed_line(desk, "La Baco")
    assert f"Wa Ode · {t('officer.telegram_chat')} ·" in listed_line(desk, "Wa Ode")
    assert t("officer.no_phone") not in desk.replies[-1].text
    with Session(conversations.engine) as session:
        lists = area_lists(session, ["73.12.06"], now.date(), policy=POLICY, tariffs=default_tariffs(), cipher=cipher)
    sheet = load_workbook(io.BytesIO(workbook(lists.for_codes(["73.12.06"]), regions))).active
    assert sheet is not None
    phones = {row[1]: row[3] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert phones == {"La Baco": whatsapp, "Wa Ode": t("officer.telegram_chat")}


def test_door_to_door_without_a_phone_is_still_to_be_visited(conversations: Conversations) -> None:
    now = datetime(2026, 12, 22, 2, 0, tzinfo=UTC)
    desk = officer_desk(conversations, "officer-8", now=now)
    desk.say("/peserta_baru")
    for answer in answers(phone="lewati", phone_owner="-", last_paid=t("option.last_paid_unknown")):
        desk.say(answer)
    desk.tap("Benar, simpan")
    desk.tap("Selesai")
    assert f"La Baco · {t('officer.no_phone')} ·" in listed_line(desk, "La Baco")
