"""Data functions behind the admin commands: staff, the service-wide pause, the audit trail. The caller owns the
transaction."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import NamedTuple

from sqlalchemy import delete
from sqlmodel import Session, col, select

from domain.regions import inside
from domain.vocabulary import OfficerRole
from storage.models import Officer, OfficerArea


class Staff(NamedTuple):
    officer: Officer
    codes: list[str]


def staff(*, session: Session, within: Sequence[str] | None = None) -> list[Staff]:
    """Active staff with their areas; `within`: only those working inside these kecamatan/desa codes."""
    found = session.exec(select(Officer).where(col(Officer.active)).order_by(col(Officer.id))).all()
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


def new_invitation(officer: Officer) -> str:
    """A fresh one-time code; the chat it binds replaces the old one (a new phone)."""
    officer.invite_code = f"of_{secrets.token_urlsafe(12)}"
    return officer.invite_code


def deactivate(officer: Officer) -> None:
    officer.active, officer.address_id, officer.invite_code = False, None, None


def set_role(officer: Officer, role: OfficerRole) -> None:
    officer.role = role
