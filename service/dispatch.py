"""The dispatcher's transactions: claim the due rows (with their members and where to reach them), then record what
became of them as each result is known. No transaction is held open across a send."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from domain.delivery import Target
from storage import outbox
from storage.controls import paused
from storage.models import Member, Reminder
from storage.outbox import ReminderUpdate


@dataclass(frozen=True, slots=True)
class Claimed:
    """A pass's due reminders, claimed under a lease, with their members and each member's chats."""

    reminders: list[Reminder] = field(default_factory=list)
    members: dict[int, Member] = field(default_factory=dict)
    targets: dict[int, list[Target]] = field(default_factory=dict)


def claim(engine: Engine, *, now: datetime, worker: str, limit: int, lease: timedelta, busy_for: timedelta) -> Claimed:
    """Claim up to `limit` due reminders in one transaction; nothing while an admin has paused sending (/jeda: the
    rows wait until /lanjut, or expire)."""
    with Session(engine, expire_on_commit=False) as session:
        if paused(session=session):
            return Claimed()
        claimed = outbox.claim_due(session=session, now=now, worker=worker, limit=limit, lease=lease)
        member_ids = {r.member_id for r in claimed}
        members = outbox.members_by_id(session=session, member_ids=member_ids) if claimed else {}
        targets = outbox.targets(session=session, member_ids=member_ids, busy_for=busy_for) if claimed else {}
        session.commit()
    return Claimed(claimed, members, targets)


def record(
    engine: Engine,
    *,
    updates: Sequence[ReminderUpdate],
    notes: Sequence[ReminderUpdate],
    unreachable: Collection[int],
) -> None:
    """Reminders' new states, the notes sent about them, and the chats found unreachable: one transaction (the
    results known so far, committed before the dispatcher lets more sends go)."""
    with Session(engine) as session:
        outbox.record_updates(session=session, updates=updates, notes=notes)
        outbox.mark_unreachable(session=session, address_ids=unreachable)
        session.commit()
