"""Every view of members' personal data by staff is audited (SQLite and PostgreSQL): who (the chat, or the command
line), which members (ids only — never a NIK, phone number or name) and why (the command or list that showed them).
One test per view: /peserta, /cari, /daftar, the morning digest, /eskalasi, /ekspor, `sipakainge export` and
`sipakainge why`."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from domain.vocabulary import OfficerRole
from scheduler.digest import send_digests
from service import imports, why
from service.conversations import Conversations
from storage.crypto import Cipher
from storage.models import AuditEntry, Member
from storage.officers import create_officer
from tests.scheduler.test_scan import POLICY, add_member
from tests.service.test_conversation_db import Person
from tests.service.test_officer_flow import NOW, setting
from tests.service.test_reminder_replies import Inbox

ADMIN_CHAT = "950"


@pytest.fixture
def service(conversations: Conversations) -> Conversations:
    config = dataclasses.replace(conversations.config, admins=frozenset({f"telegram:{ADMIN_CHAT}"}))
    return dataclasses.replace(conversations, config=config)


def _entries(service: Conversations, action: str) -> list[AuditEntry]:
    with Session(service.engine) as session:
        return list(session.exec(select(AuditEntry).where(col(AuditEntry.action) == action)).all())


def _no_personal_data(service: Conversations, entries: list[AuditEntry]) -> None:
    """Nothing a member could be recognised by is in the entries: their NIKs, phone numbers and names."""
    with Session(service.engine) as session:
        members = session.exec(select(Member)).all()
        said = [service.cipher.decrypt(m.nik_encrypted) for m in members]
        said += [m.phone or "+620000" for m in members] + [m.full_name for m in members]
    for entry in entries:
        written = f"{entry.actor} {entry.subject} {entry.detail}"
        assert not any(value in written for value in said), written


def _viewed(service: Conversations, why_: str) -> list[AuditEntry]:
    return [e for e in _entries(service, "officer.view") if e.detail.startswith(f"{why_}: ")]


def _ids(entry: AuditEntry) -> set[int]:
    return {int(i) for i in entry.detail.partition(": ")[2].split(",")}


def test_peserta_is_audited(service: Conversations, cipher: Cipher) -> None:
    with Session(service.engine) as session:
        member_id = add_member(session, cipher, 1, date(2026, 10, 31)).id
        session.commit()
    boss = Person(service, ADMIN_CHAT)
    assert "Peserta 1" in boss.say("/peserta 7312060101809001")[0].text
    [entry] = _viewed(service, "peserta")
    assert entry.actor.startswith("telegram:")
    assert _ids(entry) == {member_id}
    boss.say("/peserta 7312060101809099")  # nobody found: nothing seen, nothing written
    assert len(_viewed(service, "peserta")) == 1
    _no_personal_data(service, _entries(service, "officer.view"))


def test_cari_is_audited(conversations: Conversations, cipher: Cipher) -> None:
    desk, ids = setting(conversations, cipher)
    assert "Peserta 1" in desk.say("/cari Peserta 1")[0].text
    [entry] = _viewed(conversations, "cari")
    assert _ids(entry) == {ids["blocked"]}
    _no_personal_data(conversations, [entry])


def test_the_officers_list_command_is_audited(conversations: Conversations, cipher: Cipher) -> None:
    desk, ids = setting(conversations, cipher)
    assert "Peserta 2" in desk.say("/daftar")[0].text
    [entry] = _viewed(conversations, "daftar")
    assert _ids(entry) == {ids["blocked"], ids["no_channel"]}
    _no_personal_data(conversations, [entry])


async def test_the_morning_digest_is_audited(conversations: Conversations, cipher: Cipher) -> None:
    _, ids = setting(conversations, cipher)
    inbox = Inbox()
    sent = await send_digests(conversations=conversations, senders={"telegram": inbox}, today=NOW.date(), now=NOW)
    assert sent.sent == 1
    [entry] = _viewed(conversations, "digest")
    assert _ids(entry) == {ids["blocked"], ids["no_channel"]}
    _no_personal_data(conversations, [entry])


async def test_the_coordinators_escalation_list_is_audited(conversations: Conversations, cipher: Cipher) -> None:
    _, ids = setting(conversations, cipher)
    await send_digests(conversations=conversations, senders={"telegram": Inbox()}, today=NOW.date(), now=NOW)
    later = NOW + timedelta(days=8)  # on the list a week without an outcome
    with Session(conversations.engine) as session:
        code = create_officer(
            session=session, name="Koordinator", phone=None, codes=["73.12.06"], now=later, role=OfficerRole.COORDINATOR
        ).invite_code
        session.commit()
    coordinator = Person(conversations, "coordinator-1")
    coordinator.now = later
    coordinator.say(f"/start {code}")
    assert "Peserta 1" in coordinator.say("/eskalasi")[0].text
    [entry] = _viewed(conversations, "eskalasi")
    assert ids["blocked"] in _ids(entry)
    _no_personal_data(conversations, [entry])


def test_the_chats_export_is_audited(service: Conversations, cipher: Cipher) -> None:
    with Session(service.engine) as session:
        add_member(session, cipher, 1, date(2026, 10, 31))
        session.commit()
    Person(service, ADMIN_CHAT).say("/ekspor")
    [entry] = _entries(service, "member.export")
    assert (entry.actor.startswith("telegram:"), entry.detail) == (True, "1 members")
    _no_personal_data(service, [entry])


def test_the_command_lines_export_and_why_are_audited(service: Conversations, cipher: Cipher) -> None:
    with Session(service.engine) as session:
        member_id = add_member(session, cipher, 1, date(2026, 10, 31)).id
        session.commit()
    now = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    imports.export_sheet(service.engine, cipher, service.regions, kecamatan=None, now=now)
    [export] = _entries(service, "member.export")
    assert (export.actor, export.detail) == ("cli", "1 members")
    [lines] = why.timelines(
        service.engine, cipher, service.regions, POLICY, query="7312060101809001", today=now.date(), now=now
    )
    assert lines
    [entry] = _viewed(service, "why")
    assert (entry.actor, _ids(entry)) == ("cli", {member_id})
    _no_personal_data(service, [export, entry])
