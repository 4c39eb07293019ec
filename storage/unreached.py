"""The facts the officers' list is decided from, fetched in bulk. The decision itself is in scheduler/unreached.py."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import or_
from sqlmodel import Session, col, select

from storage.models import Address, AddressStatus, FollowUp, Member, MemberAddress, Reminder, ReminderStatus
from storage.officers import in_area


def candidates(*, session: Session, codes: Iterable[str], covered_from: date, covered_to: date) -> Sequence[Member]:
    """Members of the area with an open cycle, who asked for help, or who wait to be enrolled."""
    return session.exec(
        select(Member)
        .where(
            in_area(codes),
            or_(
                col(Member.covered_until).between(covered_from, covered_to),
                col(Member.help_requested_at).is_not(None),
                col(Member.needs_enrolment),
            ),
        )
        .order_by(col(Member.id))
    ).all()


@dataclass(frozen=True, slots=True)
class Channels:
    active: int
    unreachable: int
    last_inbound_at: datetime | None


def channels(*, session: Session, member_ids: Sequence[int]) -> dict[int, Channels]:
    found: dict[int, Channels] = {}
    for member_id, status, inbound in session.exec(
        select(MemberAddress.member_id, Address.status, Address.last_inbound_at)
        .join(Address, col(Address.id) == col(MemberAddress.address_id))
        .where(col(MemberAddress.member_id).in_(member_ids))
    ).all():
        old = found.get(member_id, Channels(0, 0, None))
        newest = max((t for t in (old.last_inbound_at, inbound) if t is not None), default=None)
        found[member_id] = Channels(
            old.active + (status == AddressStatus.ACTIVE), old.unreachable + (status != AddressStatus.ACTIVE), newest
        )
    return found


def latest_reminders(*, session: Session, member_ids: Sequence[int]) -> dict[int, Reminder]:
    """Each member's newest reminder that was actually tried (not skipped or cancelled)."""
    tried = [ReminderStatus.SENT, ReminderStatus.DELIVERED, ReminderStatus.READ, ReminderStatus.FAILED]
    found: dict[int, Reminder] = {}
    for reminder in session.exec(
        select(Reminder)
        .where(col(Reminder.member_id).in_(member_ids), col(Reminder.status).in_(tried))
        .order_by(col(Reminder.cycle), col(Reminder.stage_rank))
    ).all():
        found[reminder.member_id] = reminder
    return found


def follow_ups(*, session: Session, member_ids: Sequence[int], since: datetime) -> dict[int, list[FollowUp]]:
    """Officers' recorded outcomes since `since`, per member."""
    found: dict[int, list[FollowUp]] = {}
    for follow_up in session.exec(
        select(FollowUp).where(col(FollowUp.member_id).in_(member_ids), col(FollowUp.at) >= since)
    ).all():
        found.setdefault(follow_up.member_id, []).append(follow_up)
    return found
