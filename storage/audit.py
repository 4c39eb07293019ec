"""The audit log: who did what to whom, and who saw which members. Column names only, never personal data."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert
from sqlmodel import Session, col, select

from storage.models import AuditEntry


def recent_audit(*, session: Session, limit: int = 15) -> Sequence[AuditEntry]:
    return session.exec(select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(limit)).all()


def audit(*, session: Session, actor: str, action: str, now: datetime, subject: str = "", detail: str = "") -> None:
    session.add(AuditEntry(at=now, actor=actor, action=action, subject=subject, detail=detail[:500]))


def audit_viewed(*, session: Session, views: Sequence[tuple[str, str, Sequence[int]]], now: datetime) -> None:
    """Who saw which members, given as (actor, subject, member ids): one entry per slice of ids that fits the detail
    column, all in one statement (a whole list sent as a file runs to hundreds; a batch of digests to thousands)."""
    rows = [
        {
            "at": now,
            "actor": actor,
            "action": "officer.view",
            "subject": subject,
            "detail": ",".join(map(str, member_ids[i : i + 40])),
        }
        for actor, subject, member_ids in views
        for i in range(0, len(member_ids), 40)  # 40 ids of up to 12 digits and their commas fit 500 characters
    ]
    if rows:  # Core: the ORM bulk path cost ~1 ms a digest
        session.connection().execute(insert(AuditEntry), rows)
