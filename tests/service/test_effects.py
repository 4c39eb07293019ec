"""The effect handlers (SQLite and PostgreSQL): one for every effect, and every write checked again against the chat
it comes from — a forged or stale effect writes nothing and is audited as refused."""

from __future__ import annotations

import typing
from datetime import UTC, date, datetime

from sqlmodel import Session, col, select

from bot.dialogs.core import (
    AddStaff,
    ChangeStaff,
    DecideImport,
    DeleteMember,
    Effect,
    RecordPayment,
    RecordVerifiedPayment,
    Reply,
    RequestHelp,
    SetPaused,
    StageBroadcast,
    UpdateMember,
)
from domain.vocabulary import OfficerRole
from service.conversations import Conversations
from service.effect_context import EffectContext
from service.effects import HANDLERS, apply
from service.readers import Readers
from storage import members as store
from storage.models import AuditEntry, Broadcast, Member, Officer, Payment
from storage.officers import create_officer
from tests.scheduler.test_scan import add_member

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def test_every_effect_has_its_handler() -> None:
    assert set(HANDLERS) == set(typing.get_args(Effect))


def _apply(service: Conversations, external_id: str, effect: Effect) -> list[Reply]:
    """Write one effect as if the dialog of this Telegram chat had asked for it."""
    with Session(service.engine) as session:
        address = store.get_or_create_address(session=session, channel="telegram", external_id=external_id, now=NOW)
        assert address.id is not None
        readers = Readers.of(session, service, address.id, service.today(NOW), who=f"telegram:{external_id}")
        ctx = EffectContext.of(session, service, readers, address_id=address.id, channel="telegram", now=NOW)
        said = apply(ctx, effect)
        session.commit()
    return said


def _audited(service: Conversations) -> list[tuple[str, str, str]]:
    with Session(service.engine) as session:
        entries = session.exec(select(AuditEntry).order_by(col(AuditEntry.id))).all()
        return [(e.action, e.subject, e.detail) for e in entries]


def test_effects_forged_by_a_stranger_write_nothing_and_are_audited(conversations: Conversations) -> None:
    with Session(conversations.engine) as session:
        member = add_member(session, conversations.cipher, 1, date(2026, 9, 30))  # registered from another chat
        session.commit()
        member_id = member.id
    assert member_id is not None
    forged: list[Effect] = [
        UpdateMember(member_id, {"full_name": "Orang Lain"}),
        DeleteMember(member_id),
        RecordPayment(member_id, 202610, 3),
        RequestHelp(member_id),
        AddStaff("Andi", ("73.12.06",), "officer"),
        ChangeStaff(1, "deactivate"),
        SetPaused(True),
        RecordVerifiedPayment(member_id, 2),
        DecideImport("token", go=True),  # not an admin: nothing at all, not even an audit entry
        StageBroadcast("token", "kecamatan=73.12.06", "Halo"),
    ]
    for effect in forged:
        assert _apply(conversations, "stranger", effect) == []
    denied = [("member.denied", f"member:{member_id}", "")] * 4
    admin = [("admin.denied", "admin:0", kind) for kind in ("AddStaff", "ChangeStaff", "SetPaused")]
    assert _audited(conversations) == [*denied, *admin, ("payment.denied", f"member:{member_id}", "")]
    with Session(conversations.engine) as session:
        kept = session.get(Member, member_id)
        assert kept is not None
        assert (kept.full_name, kept.help_requested_at) == ("Peserta 1", None)
        assert session.exec(select(Payment)).all() == []
        assert session.exec(select(Officer)).all() == []
        assert session.exec(select(Broadcast)).all() == []


def test_a_coordinator_changes_staff_only_inside_their_area_and_never_roles(conversations: Conversations) -> None:
    with Session(conversations.engine) as session:
        coordinator = create_officer(
            session=session, name="Koordinator", phone=None, codes=["73.12.06"], now=NOW, role=OfficerRole.COORDINATOR
        )
        officer = create_officer(session=session, name="Penyuluh", phone=None, codes=["73.12.06.2002"], now=NOW)
        elsewhere = create_officer(session=session, name="Lain", phone=None, codes=["73.14.01"], now=NOW)
        address = store.get_or_create_address(session=session, channel="telegram", external_id="koor", now=NOW)
        coordinator.address_id = address.id
        session.commit()
        officer_id, elsewhere_id = officer.id or 0, elsewhere.id or 0
    for effect in [
        ChangeStaff(officer_id, "role", role="admin"),
        ChangeStaff(officer_id, "areas", codes=("73.14.01",)),
        ChangeStaff(elsewhere_id, "deactivate"),
        ChangeStaff(officer_id, "areas", codes=("73.12.06.2003",)),
    ]:
        _apply(conversations, "koor", effect)
    assert _audited(conversations) == [
        ("staff.denied", f"staff:{officer_id}", "role"),
        ("staff.denied", f"staff:{officer_id}", "areas"),
        ("admin.denied", "admin:0", "ChangeStaff"),
        ("staff.areas", f"staff:{officer_id}", "73.12.06.2003"),
    ]
