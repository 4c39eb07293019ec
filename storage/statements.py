"""Statements already sent to offices that pay for members: one per (office, month, kind), whatever restarts or how
many processes. The caller owns the transaction."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from storage.db import upsert_insert
from storage.models import PayerStatement


def served(*, session: Session, cycle: int, kind: str) -> set[int]:
    """The offices that already got this month's statement (or follow-up)."""
    query = select(PayerStatement.sponsor_id).where(
        col(PayerStatement.cycle) == cycle, col(PayerStatement.kind) == kind
    )
    return set(session.exec(query).all())


def claim(*, session: Session, sponsor_id: int, cycle: int, kind: str, members: int, total: int, now: datetime) -> bool:
    """Reserve this office's statement (or follow-up) for the month; False when it was sent, or is being sent,
    elsewhere. On PostgreSQL a second process's claim waits for the first one's commit, then finds the row."""
    row = PayerStatement(sponsor_id=sponsor_id, cycle=cycle, kind=kind, members=members, total=total, created_at=now)
    statement = upsert_insert(session)(PayerStatement).values(row.model_dump()).on_conflict_do_nothing()
    result = session.connection().execute(statement.execution_options(preserve_rowcount=True))
    return bool(result.rowcount)
