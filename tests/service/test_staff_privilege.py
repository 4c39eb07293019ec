"""Least privilege for staff (SQLite and PostgreSQL): a coordinator acts only on officers inside their area — never
on another coordinator or an admin, whatever the chat sends — while an admin keeps full power."""

from __future__ import annotations

from sqlmodel import Session, col, select

from bot.dialogs.core import ChangeStaff
from bot.texts import t
from domain.vocabulary import OfficerRole
from service.conversations import Conversations
from storage.models import AuditEntry, Officer
from tests.service.test_admin import ADMIN_CHAT, service, staff_chat
from tests.service.test_conversation_db import Person
from tests.service.test_effects import _apply

__all__ = ["service"]  # the fixture, used by name

AREA = ["73.12.06"]


def _officer(service: Conversations, name: str) -> Officer:
    with Session(service.engine) as session:
        return session.exec(select(Officer).where(col(Officer.name) == name)).one()


def test_a_coordinator_cannot_reinvite_move_or_deactivate_a_peer_or_an_admin(service: Conversations) -> None:
    coordinator = staff_chat(service, "801", OfficerRole.COORDINATOR, AREA)
    staff_chat(service, "802", OfficerRole.COORDINATOR, AREA)  # the same area: the takeover target
    staff_chat(service, "803", OfficerRole.ADMIN, AREA)  # an admin who happens to have an area inside it
    staff_chat(service, "804", OfficerRole.OFFICER, AREA)
    peer, boss, officer = (_officer(service, f"Staf {chat}") for chat in ("802", "803", "804"))
    listing = coordinator.say("/petugas")[0].text
    assert "Staf 804" in listing
    assert "Staf 802" not in listing
    assert "Staf 803" not in listing
    for target in (peer, boss):
        for verb in ("undangan", "nonaktif", "wilayah", "peran"):
            args = {"wilayah": " 73.12.06.2002", "peran": " penyuluh"}.get(verb, "")
            assert coordinator.say(f"/petugas {verb} #{target.id}{args}")[0].text == t("admin.staff_unknown")
    for before in (peer, boss):
        after = _officer(service, before.name)
        assert (after.active, after.address_id, after.invite_code, after.role) == (
            True,
            before.address_id,
            None,
            before.role,
        )
    # Officers of the area stay the coordinator's to manage.
    assert "start=of_" in coordinator.say(f"/petugas undangan #{officer.id}")[-1].text


def test_a_forged_change_against_a_coordinator_writes_nothing_and_is_audited(service: Conversations) -> None:
    staff_chat(service, "811", OfficerRole.COORDINATOR, AREA)
    staff_chat(service, "812", OfficerRole.COORDINATOR, AREA)
    peer = _officer(service, "Staf 812")
    assert peer.id is not None
    for action in ("invite", "deactivate"):
        assert _apply(service, "811", ChangeStaff(peer.id, action)) == []
    after = _officer(service, "Staf 812")
    assert (after.active, after.invite_code, after.address_id) == (True, None, peer.address_id)
    with Session(service.engine) as session:
        denied = session.exec(select(AuditEntry).where(col(AuditEntry.action) == "admin.denied")).all()
    assert [entry.detail for entry in denied] == ["ChangeStaff", "ChangeStaff"]


def test_an_admin_still_manages_coordinators_and_admins(service: Conversations) -> None:
    staff_chat(service, "821", OfficerRole.COORDINATOR, AREA)
    staff_chat(service, "822", OfficerRole.ADMIN, [])
    coordinator, other_admin = _officer(service, "Staf 821"), _officer(service, "Staf 822")
    boss = Person(service, ADMIN_CHAT)
    assert "start=of_" in boss.say(f"/petugas undangan #{coordinator.id}")[-1].text
    assert boss.say(f"/petugas nonaktif #{other_admin.id}")[0].text == t("admin.deactivated", name="Staf 822")
    assert not _officer(service, "Staf 822").active
