"""The audit log: who did what to whom, and who saw which members. Column names only, never personal data."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import insert
from sqlmodel import Session, col, select

from storage.models import AuditEntry


def recent_audit(*, session: Session, limit: int = 15) -> Sequence[AuditEntry]:
    return session.exec(select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(limit)).all()


def audit(*, session: Session, actor: str, action: str, now: datetime, subject: str = "", detail: str = "") -> None:
    session.add(AuditEntry(at=now, actor=actor, action=action, subject=subject, detail=detail[:500]))


class Viewed(NamedTuple):
    """A view of members' personal data: who (the chat), the subject (the staff chat), which members (ids only), and
    why (the command or list that showed them)."""

    actor: str
    subject: str
    member_ids: Sequence[int]
    why: str = ""


_IDS_PER_ENTRY = 36  # 36 ids of up to 12 digits, their commas and a command's name ("eskalasi: ") fit 500 characters


def audit_viewed(*, session: Session, views: Sequence[Viewed], now: datetime) -> None:
    """Who saw which members and why: one entry per slice of ids that fits the detail column ("cari: 12,40"), all in
    one statement (a whole list sent as a file runs to hundreds; a batch of digests to thousands)."""
    rows = [
        {
            "at": now,
            "actor": view.actor,
            "action": "officer.view",
            "subject": view.subject,
            "detail": (f"{view.why}: " if view.why else "")
            + ",".join(map(str, view.member_ids[i : i + _IDS_PER_ENTRY])),
        }
        for view in views
        for i in range(0, len(view.member_ids), _IDS_PER_ENTRY)
    ]
    if rows:  # Core: the ORM bulk path cost ~1 ms a digest
        session.connection().execute(insert(AuditEntry), rows)
