"""Admin commands through the real service and database (SQLite and PostgreSQL): roles, scope, refusals, audit."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from sqlmodel import Session, col, select

from bot.dialogs import admin
from bot.texts import t
from domain.vocabulary import OfficerRole
from service.conversations import Conversations
from storage.crypto import Cipher
from storage.models import AuditEntry, Officer, OfficerArea, Payment
from storage.officers import create_officer
from tests.scheduler.test_scan import add_member
from tests.service.test_conversation_db import Person

ADMIN_CHAT = "900"
# Every admin command with arguments that would do something if the caller were allowed to.
EVERY_COMMAND = {
    "petugas": "tambah Andi; 73.12.06",
    "peserta": "Peserta 1",
    "bayar": "7312060101809001 1",
    "sambung": "7312060101809001 benar",
    "jeda": "",
    "lanjut": "",
    "audit": "",
    "impor": "",
    "ekspor": "",
    "statistik": "",
    "siaran": "Donri-Donri: Kantor tutup besok",
}


@pytest.fixture
def service(conversations: Conversations) -> Conversations:
    """The service with one admin named in the settings (Telegram chat 900)."""
    config = dataclasses.replace(
        conversations.config, admins=frozenset({f"telegram:{ADMIN_CHAT}"}), bot_username="sipakainge_bot"
    )
    return dataclasses.replace(conversations, config=config)


def staff_chat(service: Conversations, chat: str, role: OfficerRole, codes: list[str]) -> Person:
    with Session(service.engine) as session:
        code = create_officer(
            session=session, name=f"Staf {chat}", phone=None, codes=codes, now=Person(service, chat).now, role=role
        ).invite_code
        session.commit()
    person = Person(service, chat)
    person.say(f"/start {code}")
    return person


def audit(service: Conversations, action: str) -> list[AuditEntry]:
    with Session(service.engine) as session:
        return list(session.exec(select(AuditEntry).where(col(AuditEntry.action) == action)).all())


def test_every_admin_command_is_refused_to_members_officers_and_strangers(
    service: Conversations, cipher: Cipher
) -> None:
    assert set(EVERY_COMMAND) == set(admin.COMMANDS)
    with Session(service.engine) as session:
        add_member(session, cipher, 1, date(2026, 10, 31))
        session.commit()
    stranger = Person(service, "700")
    member = Person(service, "701")
    member.register_until_summary()
    member.say("1")  # saved: a member now
    officer = staff_chat(service, "702", OfficerRole.OFFICER, ["73.12.06"])
    for person in (stranger, member, officer):
        for command, args in EVERY_COMMAND.items():
            [reply] = person.say(f"/{command} {args}".strip())[:1]
            assert reply.text.startswith(t("command.unknown"))  # the same answer as a command that does not exist
    refused = audit(service, "admin.refused")
    assert len(refused) == 3 * len(EVERY_COMMAND)
    assert {entry.detail for entry in refused} == set(EVERY_COMMAND)
    with Session(service.engine) as session:  # and nothing happened
        assert session.exec(select(Officer).where(col(Officer.name) == "Andi")).first() is None
        assert session.exec(select(Payment)).all() == []


def test_coordinators_may_not_pause_or_read_the_audit(service: Conversations) -> None:
    coordinator = staff_chat(service, "703", OfficerRole.COORDINATOR, ["73.12.06"])
    unknown = coordinator.say("/tidakada")
    for command in ("jeda", "lanjut", "audit"):
        assert coordinator.say(f"/{command}") == unknown
    assert len(audit(service, "admin.refused")) == 3


def test_help_lists_exactly_the_commands_of_the_role(service: Conversations) -> None:
    admin_help = Person(service, ADMIN_CHAT).say("/bantuan")[0].text
    coordinator_help = staff_chat(service, "703", OfficerRole.COORDINATOR, ["73.12.06"]).say("/bantuan")[0].text
    officer_help = staff_chat(service, "702", OfficerRole.OFFICER, ["73.12.06"]).say("/bantuan")[0].text
    member_help = Person(service, "701").say("/bantuan")[0].text
    for command, roles in admin.COMMANDS.items():
        assert (f"/{command}" in admin_help) == (OfficerRole.ADMIN in roles)
        assert (f"/{command}" in coordinator_help) == (OfficerRole.COORDINATOR in roles)
        assert f"/{command} " not in officer_help
        assert f"/{command} " not in member_help
    assert "/eskalasi" in coordinator_help
    assert "/eskalasi" not in admin_help


def test_admin_adds_an_officer_who_binds_with_the_invitation(service: Conversations) -> None:
    boss = Person(service, ADMIN_CHAT)
    replies = boss.say("/petugas tambah Andi Baso; 73.12.06.2002")
    invitation = replies[-1].text
    assert "https://t.me/sipakainge_bot?start=of_" in invitation
    code = invitation.split("start=")[1].split()[0]
    new_officer = Person(service, "710")
    assert t("invitation.officer", name="Andi Baso") in new_officer.say(f"/start {code}")[0].text
    listing = boss.say("/petugas")[0].text
    assert "Andi Baso · penyuluh · Donri Donri · terhubung" in listing
    with Session(service.engine) as session:
        officer = session.exec(select(Officer).where(col(Officer.name) == "Andi Baso")).one()
    boss.say(f"/petugas wilayah #{officer.id} 73.12.06")
    boss.say(f"/petugas peran #{officer.id} koordinator")
    reinvite = boss.say(f"/petugas undangan #{officer.id}")[-1].text
    assert "start=of_" in reinvite
    assert code not in reinvite
    boss.say(f"/petugas nonaktif #{officer.id}")
    with Session(service.engine) as session:
        changed = session.get(Officer, officer.id)
        areas = session.exec(select(OfficerArea.code).where(col(OfficerArea.officer_id) == officer.id)).all()
    assert changed is not None
    assert (changed.role, changed.active, changed.address_id, list(areas)) == ("coordinator", False, None, ["73.12.06"])
    changes = ("staff.add", "staff.areas", "staff.role", "staff.invite", "staff.deactivate")
    assert [len(audit(service, action)) for action in changes] == [1, 1, 1, 1, 1]


def test_bad_staff_commands_get_clear_answers_and_change_nothing(service: Conversations) -> None:
    boss = Person(service, ADMIN_CHAT)
    assert boss.say("/petugas tambah Andi")[0].text == t("admin.add_usage")
    assert boss.say("/petugas tambah Andi; 99.99")[0].text == t("admin.area_unknown", codes="99.99")
    assert boss.say("/petugas tambah Andi; 73.12.06; ketua")[0].text == t("admin.role_unknown")
    assert boss.say("/petugas peran #999 admin")[0].text == t("admin.staff_unknown")
    assert boss.say("/petugas pecat #1")[0].text == t("admin.staff_usage")
    with Session(service.engine) as session:
        assert session.exec(select(Officer)).all() == []


def test_a_coordinator_manages_only_officers_of_their_area(service: Conversations) -> None:
    coordinator = staff_chat(service, "703", OfficerRole.COORDINATOR, ["73.12.06"])
    staff_chat(service, "704", OfficerRole.OFFICER, ["73.12.01"])  # another kecamatan's officer
    assert "Staf 704" not in coordinator.say("/petugas")[0].text
    with Session(service.engine) as session:
        other = session.exec(select(Officer).where(col(Officer.name) == "Staf 704")).one()
    assert coordinator.say(f"/petugas nonaktif #{other.id}")[0].text == t("admin.staff_unknown")
    assert coordinator.say("/petugas tambah Budi; 73.12.01")[0].text == t("admin.area_outside")
    assert coordinator.say("/petugas tambah Budi; 73.12.06; admin")[0].text == t("admin.role_admin_only")
    added = coordinator.say("/petugas tambah Budi; 73.12.06.2002")
    assert "/start of_" in added[-1].text
    with Session(service.engine) as session:
        still = session.get(Officer, other.id)
        assert still is not None
        assert still.active
        assert session.exec(select(Officer).where(col(Officer.name) == "Budi")).one().role == "officer"


def test_member_lookup_is_masked_and_scoped(service: Conversations, cipher: Cipher) -> None:
    with Session(service.engine) as session:
        add_member(session, cipher, 1, date(2026, 10, 31))
        add_member(session, cipher, 2, date(2026, 10, 31), kecamatan_code="73.12.01", desa_code="73.12.01.2003")
        session.commit()
    found = Person(service, ADMIN_CHAT).say("/peserta 7312060101809001")[0].text
    assert "Peserta 1" in found
    assert "7312060101809001" not in found
    assert "7312********9001" in found
    coordinator = staff_chat(service, "703", OfficerRole.COORDINATOR, ["73.12.06"])
    assert "Peserta 1" in coordinator.say("/peserta peserta")[0].text
    assert coordinator.say("/peserta 7312060101809002")[0].text == t("admin.lookup_none")  # outside their area
    assert coordinator.say("/peserta ab")[0].text == t("admin.lookup_usage")


def test_a_verified_payment_moves_coverage_and_is_audited(service: Conversations, cipher: Cipher) -> None:
    with Session(service.engine) as session:
        member_id = add_member(session, cipher, 1, date(2026, 10, 31)).id
        session.commit()
    boss = Person(service, ADMIN_CHAT)
    assert boss.say("/bayar 7312060101809001 13")[0].text == t("admin.pay_usage", most=12)
    assert boss.say("/bayar 123 3")[0].text == t("admin.pay_usage", most=12)
    said = boss.say("/bayar 7312060101809001 3")[0].text
    assert said == t("admin.paid", name="Peserta 1", nik="7312********9001", months=3)
    with Session(service.engine) as session:
        [payment] = session.exec(select(Payment)).all()
        member = session.exec(select(AuditEntry).where(col(AuditEntry.action) == "payment.verified")).one()
    recorded = (payment.member_id, payment.first_cycle, payment.months, payment.verified, payment.source)
    assert recorded == (member_id, 202611, 3, True, "admin")
    assert member.subject == f"member:{member_id}"


def test_pause_and_resume_are_recorded(service: Conversations) -> None:
    boss = Person(service, ADMIN_CHAT)
    assert boss.say("/jeda")[0].text == t("admin.paused")
    assert boss.say("/lanjut")[0].text == t("admin.resumed")
    lines = boss.say("/audit")[0].text
    assert "service.resume" in lines
    assert "service.pause" in lines
    assert lines.index("service.resume") < lines.index("service.pause")  # newest first
