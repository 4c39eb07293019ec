"""Data functions for the reminder outbox: claim, look up targets, record outcomes. The caller owns the transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, insert, or_, true, update
from sqlmodel import Session, col, func, select

from domain.delivery import Target
from domain.vocabulary import BROADCAST_STAGE, AddressStatus, ReminderStatus
from storage.db import upsert_insert
from storage.members import SEES
from storage.models import (
    Address,
    Conversation,
    DeliveryAttempt,
    InboundMessage,
    Member,
    MemberAddress,
    Reminder,
    Sponsor,
)


def claim_due(*, session: Session, now: datetime, worker: str, limit: int, lease: timedelta) -> list[Reminder]:
    """Take up to `limit` due reminders for this worker. Rows claimed by a worker that died (lease expired) are due
    again. On PostgreSQL, SKIP LOCKED lets any number of dispatchers claim side by side without waiting."""
    due = or_(
        (col(Reminder.status) == ReminderStatus.PENDING) & (col(Reminder.send_after) <= now),
        (col(Reminder.status) == ReminderStatus.CLAIMED) & (col(Reminder.claimed_at) < now - lease),
    )
    query = select(Reminder).where(due).order_by(col(Reminder.send_after), col(Reminder.id)).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list(session.exec(query).all())
    if rows:
        session.execute(
            update(Reminder)
            .where(col(Reminder.id).in_([r.id for r in rows]))
            .values(status=ReminderStatus.CLAIMED, claimed_by=worker, claimed_at=now)
        )
        for row in rows:
            row.status, row.claimed_by, row.claimed_at = ReminderStatus.CLAIMED, worker, now
    return rows


BUSY = "busy"  # a held reminder's reason while its member is mid-dialog


def targets(*, session: Session, member_ids: Iterable[int], busy_for: timedelta) -> dict[int, list[Target]]:
    """Each member's reachable addresses, oldest link first; busy for `busy_for` after the last message while a
    question is open (a dialog at rest holds nothing back)."""
    mid_dialog = and_(col(Conversation.address_id) == col(Address.id), ~col(Conversation.resting))
    rows = session.exec(
        select(MemberAddress.member_id, Address, Conversation.updated_at)
        .join(Address, col(Address.id) == col(MemberAddress.address_id))
        .join(Conversation, mid_dialog, isouter=True)
        .where(col(MemberAddress.member_id).in_(list(member_ids)), col(Address.status) == AddressStatus.ACTIVE, SEES)
        .order_by(col(MemberAddress.created_at), col(Address.id))
    ).all()
    found: dict[int, list[Target]] = {}
    # Whoever pays gets the reminder first; the member's own chats stay as the fallback.
    sponsored = session.exec(
        select(Member.id, Sponsor.name, Address)
        .join(Sponsor, col(Sponsor.id) == col(Member.sponsor_id))
        .join(Address, col(Address.id) == col(Sponsor.address_id))
        .where(
            col(Member.id).in_(list(member_ids)),
            col(Member.payer) == "sponsor",
            col(Address.status) == AddressStatus.ACTIVE,
        )
    ).all()
    for member_id, name, address in sponsored:
        assert member_id is not None
        assert address.id is not None
        target = Target(
            address.id,
            address.channel,
            address.external_id,
            None,
            sponsor=name,
            last_inbound_at=address.last_inbound_at,
        )
        found.setdefault(member_id, []).append(target)
    for member_id, address, chatted_at in rows:
        assert address.id is not None
        busy = chatted_at + busy_for if chatted_at is not None else None
        target = Target(address.id, address.channel, address.external_id, busy, last_inbound_at=address.last_inbound_at)
        found.setdefault(member_id, []).append(target)
    return found


def release_busy(*, session: Session, address_id: int, now: datetime) -> None:
    """The dialog on this chat has ended: its members' reminders held back as busy are due now, not when the hold
    would have run out. Driven by the member (the reminder's unique key leads with it): a few rows, never a scan."""
    members = select(MemberAddress.member_id).where(MemberAddress.address_id == address_id)
    session.execute(
        update(Reminder)
        .where(
            col(Reminder.member_id).in_(members),
            col(Reminder.status) == ReminderStatus.PENDING,
            col(Reminder.reason) == BUSY,
            col(Reminder.send_after) > now,
        )
        .values(send_after=now)
    )


def members_by_id(*, session: Session, member_ids: Iterable[int]) -> dict[int, Member]:
    rows = session.exec(select(Member).where(col(Member.id).in_(list(member_ids)))).all()
    return {row.id: row for row in rows if row.id is not None}


@dataclass(frozen=True, slots=True)
class ReminderUpdate:
    """A reminder's new state after a dispatch pass, with every column it sets, so all go out as one executemany."""

    reminder_id: int
    status: ReminderStatus
    at: datetime
    send_after: datetime
    attempts: int
    channel: str = ""
    attempt: str = ""  # what happened on the wire; empty when nothing was sent (released, expired, no channel)
    error: str = ""
    address_id: int | None = None
    provider_message_id: str | None = None
    reason: str = ""
    uncertain_at: datetime | None = None  # the newest send whose outcome was unknown (kept until it is resolved)


def record_updates(
    *, session: Session, updates: Sequence[ReminderUpdate], notes: Sequence[ReminderUpdate] = ()
) -> None:
    """Write many updates at once: each reminder's new state, and an attempt row for each try on the wire.
    `notes` are messages sent about a reminder (to a sponsored member): attempts only, the state is unchanged."""
    note_rows = [
        {
            "reminder_id": o.reminder_id,
            "at": o.at,
            "channel": o.channel,
            "outcome": f"note_{o.attempt}",
            "error": o.error[:200],
        }
        for o in notes
    ]
    if note_rows:
        session.execute(insert(DeliveryAttempt), note_rows)
    if not updates:
        return
    session.execute(
        update(Reminder),
        [
            {
                "id": o.reminder_id,
                "status": o.status,
                "send_after": o.send_after,
                "attempts": o.attempts,
                "address_id": o.address_id,
                "provider_message_id": o.provider_message_id,
                "reason": o.reason[:120],
                "claimed_by": None,
                "sent_at": o.at if o.status is ReminderStatus.SENT else None,
                "uncertain_at": o.uncertain_at,
            }
            for o in updates
        ],
    )
    attempts = [
        {"reminder_id": o.reminder_id, "at": o.at, "channel": o.channel, "outcome": o.attempt, "error": o.error[:200]}
        for o in updates
        if o.attempt
    ]
    if attempts:
        session.execute(insert(DeliveryAttempt), attempts)


def mark_unreachable(*, session: Session, address_ids: Iterable[int]) -> None:
    ids = list(address_ids)
    if ids:
        session.execute(update(Address).where(col(Address.id).in_(ids)).values(status=AddressStatus.UNREACHABLE))


ALL_CYCLES = 999999


def cancel_pending(*, session: Session, member_id: int, before_cycle: int, reason: str) -> int:
    """Cancel a member's unsent reminders for cycles that are now paid (`before_cycle` 999999: everything, the
    broadcasts included — a member who opts out gets nothing more)."""
    everything = before_cycle >= ALL_CYCLES
    result = session.execute(
        update(Reminder)
        .where(
            col(Reminder.member_id) == member_id,
            col(Reminder.cycle) < before_cycle,
            col(Reminder.status).in_([ReminderStatus.PENDING, ReminderStatus.CLAIMED]),
            true() if everything else col(Reminder.stage) != BROADCAST_STAGE,  # a payment does not cancel news
        )
        .values(status=ReminderStatus.CANCELLED, reason=reason)
        .execution_options(preserve_rowcount=True)
    )
    return max(result.rowcount or 0, 0)  # type: ignore[attr-defined]


def reminder_of_address(*, session: Session, address_id: int, reminder_id: int) -> tuple[Reminder, Member] | None:
    """A reminder of one of the address's members, or of a member the address's sponsor pays for."""
    query = (
        select(Reminder, Member)
        .join(Member, col(Member.id) == col(Reminder.member_id))
        .join(MemberAddress, and_(col(MemberAddress.member_id) == col(Member.id), SEES), isouter=True)
        .join(Sponsor, col(Sponsor.id) == col(Member.sponsor_id), isouter=True)
        .where(
            col(Reminder.id) == reminder_id,
            col(Reminder.stage) != BROADCAST_STAGE,  # a broadcast has nothing to answer
            or_(col(MemberAddress.address_id) == address_id, col(Sponsor.address_id) == address_id),
        )
    )
    row = session.exec(query.limit(1)).first()
    return (row[0], row[1]) if row else None


def first_delivery(*, session: Session, sid: str, now: datetime) -> bool:
    """Record an inbound message id; False when it was seen before (a retry or a replay)."""
    statement = upsert_insert(session)(InboundMessage).values(sid=sid, received_at=now).on_conflict_do_nothing()
    result = session.connection().execute(statement.execution_options(preserve_rowcount=True))
    return bool(result.rowcount)


_PROGRESS = {
    ReminderStatus.SENT: 1,
    ReminderStatus.DELIVERED: 2,
    ReminderStatus.READ: 3,
}


def record_delivery(*, session: Session, provider_message_id: str, status: str, error: str, now: datetime) -> bool:
    """A channel's delivery report for a sent reminder. States only move forward (reports may arrive out of order);
    a failure after sending is recorded with its error code. False when no reminder carries that id."""
    reminder = session.exec(select(Reminder).where(col(Reminder.provider_message_id) == provider_message_id)).first()
    if reminder is None:
        return False
    mapped = {"delivered": ReminderStatus.DELIVERED, "read": ReminderStatus.READ}.get(status)
    if status in {"undelivered", "failed"} and error == "63016" and reminder.address_id is not None:
        # Free text outside the 24-hour window: the window is closed, so the next try goes as a template.
        address = session.get(Address, reminder.address_id)
        if address is not None:
            address.last_inbound_at = None
            session.add(address)
        reminder.status, reminder.send_after, reminder.reason = ReminderStatus.PENDING, now, "63016:template"
    elif status in {"undelivered", "failed"}:
        reminder.status, reminder.reason = ReminderStatus.FAILED, f"{status}:{error}"[:120]
    elif mapped is not None and _PROGRESS.get(ReminderStatus(reminder.status), 0) < _PROGRESS[mapped]:
        reminder.status = mapped
        if mapped is ReminderStatus.DELIVERED:
            reminder.delivered_at = now
    session.add(reminder)
    assert reminder.id is not None
    session.add(
        # The column holds 16 characters: "status_undelivered" is kept as "status_undeliver" (PostgreSQL refuses more).
        DeliveryAttempt(
            reminder_id=reminder.id, at=now, channel="whatsapp", outcome=f"status_{status}"[:16], error=error[:200]
        )
    )
    return True


def latest_sent_to_address(*, session: Session, address_id: int) -> list[tuple[Reminder, Member]]:
    """The reminders of the newest message sent to this address (one message may carry several)."""
    sent = [ReminderStatus.SENT, ReminderStatus.DELIVERED, ReminderStatus.READ]
    newest = session.execute(
        select(func.max(Reminder.sent_at)).where(
            col(Reminder.address_id) == address_id,
            col(Reminder.status).in_(sent),
            col(Reminder.stage) != BROADCAST_STAGE,  # a typed "1" after a broadcast still answers the reminder
        )
    ).scalar()
    if newest is None:
        return []
    rows = session.exec(
        select(Reminder, Member)
        .join(Member, col(Member.id) == col(Reminder.member_id))
        .where(
            col(Reminder.address_id) == address_id,
            col(Reminder.sent_at) == newest,
            col(Reminder.status).in_(sent),
            col(Reminder.stage) != BROADCAST_STAGE,
        )
        .order_by(col(Reminder.id))
    ).all()
    return [(reminder, member) for reminder, member in rows]
