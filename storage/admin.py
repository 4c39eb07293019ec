"""Data functions behind the admin commands: staff, the service-wide pause, the audit trail. The caller owns the
transaction."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import delete
from sqlmodel import Session, col, select

from storage.models import AuditEntry, Control, Officer, OfficerArea, OfficerRole

PAUSED = "paused"


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


def inside(code: str, area: Sequence[str]) -> bool:
    """Whether a kecamatan or desa code lies in an area given as kecamatan and/or desa codes."""
    return any(code == a or code.startswith(f"{a}.") for a in area)


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


def paused(*, session: Session) -> bool:
    row = session.get(Control, PAUSED)
    return row is not None and row.value == "1"


def set_paused(*, session: Session, value: bool, now: datetime) -> None:
    row = session.get(Control, PAUSED) or Control(key=PAUSED, value="0", updated_at=now)
    row.value, row.updated_at = ("1" if value else "0"), now
    session.add(row)


def recent_audit(*, session: Session, limit: int = 15) -> Sequence[AuditEntry]:
    return session.exec(select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(limit)).all()
