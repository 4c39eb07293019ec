"""The facts the officers' list is decided from, fetched in bulk. The decision itself is in scheduler/unreached.py.

Plain rows in named tuples, not ORM objects or dataclasses: the daily digests decide this for a whole province at
once, and building hundreds of thousands of heavier objects would cost more than the decision itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import and_, exists, func, or_
from sqlalchemy import select as sa_select  # sqlmodel's overloads stop at four columns
from sqlmodel import Session, col, select

from storage.models import Address, AddressStatus, FollowUp, Member, MemberAddress, Reminder, ReminderStatus
from storage.officers import in_area


class Candidate(NamedTuple):
    """What the definition and the list need of a member (the columns `member_cost` reads included)."""

    id: int
    full_name: str
    desa_code: str
    phone: str | None
    nik_encrypted: str
    covered_until: date | None
    needs_enrolment: bool
    help_requested_at: datetime | None
    opted_out: bool
    occupation: str
    payer: str
    declared_income: int
    with_jht: bool
    # Their chats: how many work, how many do not, and when they last wrote.
    active: int
    unreachable: int
    last_inbound_at: datetime | None
    attempt_id: int | None  # the newest tried reminder since the oldest open cycle
    followed_up: bool  # an officer recorded an outcome since `since`


class Attempt(NamedTuple):
    """A reminder that was actually tried."""

    cycle: int
    stage: str
    status: str
    sent_at: datetime | None


class Outcome(NamedTuple):
    """An officer's recorded outcome."""

    outcome: str
    cycle: int | None
    at: datetime


class Facts(NamedTuple):
    candidates: list[Candidate]
    attempts: dict[int, Attempt]  # by reminder id
    follow_ups: dict[int, list[Outcome]]  # by member id


_MEMBER_COLUMNS = [getattr(Member, name) for name in Candidate._fields[: Candidate._fields.index("active")]]
_TRIED = [ReminderStatus.SENT, ReminderStatus.DELIVERED, ReminderStatus.READ, ReminderStatus.FAILED]
_CHUNK = 5000  # ids per IN list: well under SQLite's 32,766 parameters


def facts(
    *,
    session: Session,
    codes: Iterable[str] | None,
    covered_from: date,
    covered_to: date,
    first_cycle: int,
    since: datetime,
) -> Facts:
    """Members of the area (None: everywhere) with an open cycle, who asked for help, or who wait to be enrolled —
    with their channels, latest tried reminder and officers' outcomes.

    One pass over the members with per-member subqueries (index probes on both databases): a join per fact would
    repeat the member scan for each. Attempts and outcomes are then read by id, for the few members that have them.
    """
    wanted = or_(
        col(Member.covered_until).between(covered_from, covered_to),
        col(Member.help_requested_at).is_not(None),
        col(Member.needs_enrolment),
    )
    linked = (
        select(func.count())
        .select_from(MemberAddress)
        .join(Address, col(Address.id) == col(MemberAddress.address_id))
        .where(col(MemberAddress.member_id) == col(Member.id))
    )
    active = linked.where(col(Address.status) == AddressStatus.ACTIVE).scalar_subquery()
    unreachable = linked.where(col(Address.status) != AddressStatus.ACTIVE).scalar_subquery()
    inbound = (
        select(func.max(col(Address.last_inbound_at)))
        .join(MemberAddress, col(Address.id) == col(MemberAddress.address_id))
        .where(col(MemberAddress.member_id) == col(Member.id))
        .scalar_subquery()
    )
    attempt = (
        select(col(Reminder.id))
        .where(
            col(Reminder.member_id) == col(Member.id),
            col(Reminder.cycle) >= first_cycle,
            col(Reminder.status).in_(_TRIED),
        )
        .order_by(col(Reminder.cycle).desc(), col(Reminder.stage_rank).desc())
        .limit(1)
        .scalar_subquery()
    )
    handled = exists().where(col(FollowUp.member_id) == col(Member.id), col(FollowUp.at) >= since)
    query = sa_select(*_MEMBER_COLUMNS, active, unreachable, inbound, attempt, handled).where(
        wanted if codes is None else and_(in_area(codes), wanted)
    )
    candidates = [Candidate._make(row) for row in session.execute(query)]
    return Facts(
        candidates,
        _attempts(session, [c.attempt_id for c in candidates if c.attempt_id is not None]),
        _follow_ups(session, [c.id for c in candidates if c.followed_up], since),
    )


def _attempts(session: Session, reminder_ids: list[int]) -> dict[int, Attempt]:
    found: dict[int, Attempt] = {}
    for start in range(0, len(reminder_ids), _CHUNK):
        chunk = reminder_ids[start : start + _CHUNK]
        rows = session.execute(
            select(col(Reminder.id), col(Reminder.cycle), col(Reminder.stage), col(Reminder.status))
            .add_columns(col(Reminder.sent_at))
            .where(col(Reminder.id).in_(chunk))
        )
        for reminder_id, cycle, stage, status, sent_at in rows:
            found[reminder_id] = Attempt(cycle, stage, status, sent_at)
    return found


def _follow_ups(session: Session, member_ids: list[int], since: datetime) -> dict[int, list[Outcome]]:
    found: dict[int, list[Outcome]] = {}
    for start in range(0, len(member_ids), _CHUNK):
        chunk = member_ids[start : start + _CHUNK]
        rows = session.execute(
            select(col(FollowUp.member_id), col(FollowUp.outcome), col(FollowUp.cycle), col(FollowUp.at)).where(
                col(FollowUp.member_id).in_(chunk), col(FollowUp.at) >= since
            )
        )
        for member_id, outcome, cycle, at in rows:
            found.setdefault(member_id, []).append(Outcome(outcome, cycle, at))
    return found
