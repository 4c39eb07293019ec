"""Data functions for staff (officers, coordinators, admins), their areas, invitations and digests. The caller owns
the transaction."""

from __future__ import annotations

import secrets
from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import ColumnElement, delete, func, or_, true
from sqlmodel import Session, col, select

from domain.regions import inside
from domain.vocabulary import AddressStatus, OfficerRole
from storage.db import upsert_insert
from storage.models import Address, Member, Officer, OfficerArea, OfficerDigest


def create_officer(
    *,
    session: Session,
    name: str,
    phone: str | None,
    codes: Iterable[str],
    now: datetime,
    role: OfficerRole = OfficerRole.OFFICER,
) -> Officer:
    """An officer with an area and a fresh one-time invitation code (the deep link t.me/<bot>?start=<code>)."""
    code = f"of_{secrets.token_urlsafe(12)}"
    officer = Officer(name=name, phone=phone, invite_code=code, invite_issued_at=now, created_at=now, role=role)
    session.add(officer)
    session.flush()
    assert officer.id is not None
    for code in sorted(set(codes)):
        session.add(OfficerArea(officer_id=officer.id, code=code))
    return officer


def officer_by_code(*, session: Session, code: str, issued_after: datetime) -> Officer | None:
    """The active officer a code invites, if it was issued after `issued_after` (older codes have expired)."""
    query = select(Officer).where(
        Officer.invite_code == code, col(Officer.active), col(Officer.invite_issued_at) > issued_after
    )
    return session.exec(query).first()


def bind_officer(*, session: Session, code: str, address_id: int, issued_after: datetime) -> Officer | None:
    """Bind the officer's chat; the code works once, and only until it expires."""
    officer = officer_by_code(session=session, code=code, issued_after=issued_after)
    if officer is not None:
        officer.address_id, officer.invite_code, officer.invite_issued_at = address_id, None, None
        session.add(officer)
    return officer


def pending_invitation(*, session: Session, code: str) -> Officer | None:
    """The active officer a code was issued to, expired or not (to revoke or renew it)."""
    return session.exec(select(Officer).where(Officer.invite_code == code, col(Officer.active))).first()


def officer_of_address(*, session: Session, address_id: int) -> Officer | None:
    """The staff record (officer, coordinator or admin) bound to this chat."""
    return session.exec(select(Officer).where(Officer.address_id == address_id, col(Officer.active))).first()


def area_codes(*, session: Session, officer_id: int) -> list[str]:
    return list(session.exec(select(OfficerArea.code).where(OfficerArea.officer_id == officer_id)).all())


def in_area(codes: Iterable[str]) -> ColumnElement[bool]:
    """Members living in the area: a desa code names one village, a kecamatan code all of its villages."""
    wanted = list(codes)
    return or_(col(Member.desa_code).in_(wanted), col(Member.kecamatan_code).in_(wanted))


def officers_for_desa(*, session: Session, desa_code: str) -> list[Officer]:
    """A member's officers: those covering their desa, or its whole kecamatan."""
    kecamatan = desa_code.rsplit(".", 1)[0]
    return list(
        session.exec(
            select(Officer)
            .join(OfficerArea, col(OfficerArea.officer_id) == col(Officer.id))
            .where(col(OfficerArea.code).in_([desa_code, kecamatan]), col(Officer.active))
            .order_by(col(Officer.id))
            .distinct()
        ).all()
    )


def contacts_by_area(*, session: Session) -> dict[str, list[tuple[str, str | None]]]:
    """Active officers (not coordinators) by each code they cover, as (name, phone), longest-serving first."""
    found: dict[str, list[tuple[str, str | None]]] = {}
    for code, name, phone in session.exec(
        select(OfficerArea.code, Officer.name, Officer.phone)
        .join(Officer, col(Officer.id) == col(OfficerArea.officer_id))
        .where(col(Officer.active), col(Officer.role) == OfficerRole.OFFICER)
        .order_by(col(Officer.id))
    ).all():
        found.setdefault(code, []).append((name, phone))
    return found


def covers(*, session: Session, officer_id: int, member: Member) -> bool:
    """Whether the member lives in the officer's area (their desa, or its kecamatan)."""
    codes = set(area_codes(session=session, officer_id=officer_id))
    return member.desa_code in codes or member.kecamatan_code in codes


class Briefed(NamedTuple):
    """An officer to brief, with their chat and area, looked up for all officers at once."""

    officer: Officer
    address: Address
    codes: list[str]


def officers_to_brief(*, session: Session) -> list[Briefed]:
    """Active officers whose chat is bound and reachable, with their areas (two queries, not two per officer)."""
    bound = session.exec(
        select(Officer, Address)
        .join(Address, col(Address.id) == col(Officer.address_id))
        .where(col(Officer.active), col(Officer.role) != OfficerRole.ADMIN, col(Address.status) == AddressStatus.ACTIVE)
        .order_by(col(Officer.id))
    ).all()
    codes: dict[int, list[str]] = {}
    for officer_id, code in session.exec(select(OfficerArea.officer_id, OfficerArea.code)):
        codes.setdefault(officer_id, []).append(code)
    return [Briefed(officer, address, codes.get(officer.id or 0, [])) for officer, address in bound]


def claim_digests(*, session: Session, officer_ids: Sequence[int], day: date) -> set[int]:
    """Reserve today's digest for these officers; returns those it got (the others were sent, or are being sent,
    elsewhere)."""
    if not officer_ids:
        return set()
    rows = [{"officer_id": officer_id, "day": day, "items": 0} for officer_id in officer_ids]
    statement = upsert_insert(session)(OfficerDigest).values(rows).on_conflict_do_nothing()
    return set(session.connection().execute(statement.returning(col(OfficerDigest.officer_id))).scalars())


def members_in_area(*, session: Session, codes: Iterable[str]) -> Sequence[Member]:
    return session.exec(select(Member).where(in_area(codes)).order_by(col(Member.full_name))).all()


def search_area(
    *, session: Session, codes: Iterable[str] | None, nik_hash: str | None, kpj: str | None, name: str, limit: int = 10
) -> Sequence[Member]:
    """Members of the area (None: everywhere) found by NIK (its lookup hash), KPJ, or part of the name."""
    wanted = []
    if nik_hash:
        wanted.append(col(Member.nik_hash) == nik_hash)
    if kpj:
        wanted.append(col(Member.kpj) == kpj)
    if name:
        wanted.append(func.lower(col(Member.full_name)).contains(name.lower()))
    if not wanted:
        return []
    return session.exec(
        select(Member)
        .where(true() if codes is None else in_area(codes), or_(*wanted))
        .order_by(col(Member.full_name))
        .limit(limit)
    ).all()


def staff_of_chat(*, session: Session, channel: str, external_id: str) -> Officer | None:
    """The staff record bound to the chat at this channel address, if any (looked up without creating the address)."""
    query = (
        select(Officer)
        .join(Address, col(Officer.address_id) == col(Address.id))
        .where(Address.channel == channel, Address.external_id == external_id, col(Officer.active))
    )
    return session.exec(query).first()


class Staff(NamedTuple):
    officer: Officer
    codes: list[str]


def staff(
    *, session: Session, within: Sequence[str] | None = None, roles: Collection[OfficerRole] | None = None
) -> list[Staff]:
    """Active staff with their areas; `within`: only those working inside these kecamatan/desa codes; `roles`: only
    those of these roles (a coordinator manages officers, never another coordinator or an admin)."""
    query = select(Officer).where(col(Officer.active))
    if roles is not None:
        query = query.where(col(Officer.role).in_([role.value for role in roles]))
    found = session.exec(query.order_by(col(Officer.id))).all()
    areas: dict[int, list[str]] = {}
    for officer_id, code in session.exec(select(OfficerArea.officer_id, OfficerArea.code)):
        areas.setdefault(officer_id, []).append(code)
    listed = [Staff(officer, sorted(areas.get(officer.id or 0, []))) for officer in found]
    if within is None:
        return listed
    return [one for one in listed if one.codes and all(inside(code, within) for code in one.codes)]


def set_areas(*, session: Session, officer_id: int, codes: Sequence[str]) -> None:
    session.execute(delete(OfficerArea).where(col(OfficerArea.officer_id) == officer_id))
    for code in sorted(set(codes)):
        session.add(OfficerArea(officer_id=officer_id, code=code))


def new_invitation(officer: Officer, now: datetime) -> str:
    """A fresh one-time code, valid from `now`; the chat it binds replaces the old one (a new phone)."""
    officer.invite_code, officer.invite_issued_at = f"of_{secrets.token_urlsafe(12)}", now
    return officer.invite_code


def revoke_invitation(officer: Officer) -> bool:
    """The officer's pending code no longer works; False when there was none."""
    pending = officer.invite_code is not None
    officer.invite_code, officer.invite_issued_at = None, None
    return pending


def deactivate(officer: Officer) -> None:
    officer.active, officer.address_id = False, None
    revoke_invitation(officer)


def set_role(officer: Officer, role: OfficerRole) -> None:
    officer.role = role
