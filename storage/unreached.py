"""The facts the officers' list is decided from, fetched in bulk. The decision itself is in domain/unreached.py.

Plain rows in named tuples, not ORM objects or dataclasses: the daily digests decide this for a whole province at
once, and building hundreds of thousands of heavier objects would cost more than the decision itself.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Date, and_, case, delete, exists, func, literal, or_, text, true
from sqlalchemy import select as sa_select  # sqlmodel's overloads stop at four columns
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from domain.unreached import Candidate, RecordedFollowUp
from domain.vocabulary import AddressStatus, BpjsStatus, Channel, ReminderStatus
from storage.db import id_rows, upsert_insert
from storage.members import SEES, sees
from storage.models import Address, FollowUp, Listing, Member, MemberAddress, Reminder
from storage.officers import in_area

Waiting = aliased(MemberAddress)
SEES_WAITING = sees(Waiting)


class Facts(NamedTuple):
    candidates: list[Candidate]
    follow_ups: dict[int, list[RecordedFollowUp]]  # by member id


_MEMBER_COLUMNS = [getattr(Member, name) for name in Candidate._fields[: Candidate._fields.index("asked_help")]]
_MORE_MEMBER_FIELDS = ("opted_out", "occupation", "payer", "declared_income", "with_jht")
_MORE_MEMBER_COLUMNS = [getattr(Member, name) for name in _MORE_MEMBER_FIELDS]
_ATTEMPT_COLUMNS = [getattr(Reminder, name) for name in ("cycle", "stage", "status", "sent_at")]
TRIED = [  # reminder states that count as an attempt to reach someone
    ReminderStatus.SENT,
    ReminderStatus.DELIVERED,
    ReminderStatus.READ,
    ReminderStatus.FAILED,
]
_CHUNK = 5000  # ids per IN list: well under SQLite's 32,766 parameters


def facts(
    *,
    session: Session,
    codes: Iterable[str] | None,
    covered_from: date,
    covered_to: date,
    first_cycle: int,
    since: datetime,
    channels: Collection[str] | None = None,
) -> Facts:
    """Members of the area (None: everywhere) with an open cycle, who asked for help, who wait to be enrolled, whose
    last paid month is unknown, or whose own payment report the branch's data contradicts — with their channels
    (and what links to those without a phone), latest tried reminder and officers' outcomes.

    One pass, one row a member: each member joined to their newest tried reminder and to their chats, which GROUP
    BY folds. Officers' outcomes are then read by id, for the members that have any.
    """
    wanted = or_(
        col(Member.covered_until).between(covered_from, covered_to),
        col(Member.help_requested_at).is_not(None),
        col(Member.needs_enrolment),
        and_(col(Member.covered_until).is_(None), col(Member.bpjs_status) == BpjsStatus.MEMBER),  # month unknown
        col(Member.report_mismatch_at).is_not(None),
        col(Member.registration_mismatch_at).is_not(None),
    )
    postgresql = session.get_bind().dialect.name == "postgresql"
    attempt, joined = _newest_attempts(first_cycle, postgresql=postgresql)
    handled = exists().where(col(FollowUp.member_id) == col(Member.id), col(FollowUp.at) >= since)
    # A chat on a channel this deployment does not send on (not in `channels`; None: every one) is not working.
    status: Any = col(Address.status)  # the column, or (below) a CASE over it
    if channels is not None:
        status = case((col(Address.channel).in_(list(channels)), status), else_=literal(AddressStatus.UNREACHABLE))
    chats = [  # NULL status: no chat at all (the outer join's empty row), counted in neither
        func.sum(case((status == AddressStatus.ACTIVE, 1), else_=0)),
        func.sum(case((status != AddressStatus.ACTIVE, 1), else_=0)),
        func.max(col(Address.last_inbound_at)),
    ]
    channel = col(Address.channel)
    links = [  # for a member without a phone: the officer can still call the WhatsApp chat's number
        func.max(case((channel == Channel.WHATSAPP, col(Address.external_id)))),
        func.sum(case((channel == Channel.TELEGRAM, 1), else_=0)),
        # Chats waiting for the officer's word (unproven or suspended links): the outcomes to settle them.
        exists().where(col(Waiting.member_id) == col(Member.id), ~SEES_WAITING),
    ]
    query = (
        sa_select(
            *_MEMBER_COLUMNS,
            col(Member.help_requested_at).is_not(None),
            *_MORE_MEMBER_COLUMNS,
            col(Member.report_mismatch_at).is_not(None),
            col(Member.registration_mismatch_at).is_not(None),
            *chats,
            *attempt,
            handled,
            col(Listing.since),
            *links,
        )
        .select_from(Member)
        .outerjoin(*joined)
        .outerjoin(Listing, col(Listing.member_id) == col(Member.id))
        .outerjoin(MemberAddress, and_(col(MemberAddress.member_id) == col(Member.id), SEES))
        .outerjoin(Address, col(Address.id) == col(MemberAddress.address_id))
        .where(wanted if codes is None else and_(in_area(codes), wanted))
        .group_by(col(Member.id), *attempt, col(Listing.since))  # the member's other columns depend on its key
    )
    if postgresql:
        # A province's 200,000 candidates: at the default 4 MB the joins and the sort spill to disk.
        session.connection().execute(text("SET LOCAL work_mem = '64MB'"))
        session.connection().execute(text("SET LOCAL jit = off"))  # compiling it cost more than it saved
    # Core rows, not the ORM's row processing (which doubled the time), fetched in slices: row by row, the driver's
    # fetchone alone took a second; all at once, the rows and the candidates made of them would be in memory together.
    result = session.connection().execute(query)
    candidates = [Candidate._make(row) for rows in result.partitions(_CHUNK) for row in rows]
    return Facts(candidates, _follow_ups(session, [c.id for c in candidates if c.followed_up], since))


def _newest_attempts(first_cycle: int, *, postgresql: bool) -> tuple[list[Any], tuple[Any, ColumnElement[bool]]]:
    """The columns of each member's newest tried reminder since `first_cycle`, and the outer join that brings it.

    PostgreSQL ranks the tried reminders in one pass (a window over a sort: a quarter faster for a province than
    probing the index once per member); SQLite does not push the join into such a window, so there each member's
    newest is found by a per-member subquery, an index probe.
    """
    if postgresql:
        newest_first = (col(Reminder.cycle).desc(), col(Reminder.stage_rank).desc())
        place = func.row_number().over(partition_by=col(Reminder.member_id), order_by=newest_first)
        ranked = (
            sa_select(col(Reminder.member_id), *_ATTEMPT_COLUMNS, place.label("place"))
            .where(col(Reminder.cycle) >= first_cycle, col(Reminder.status).in_(TRIED))
            .subquery()
        )
        newest = and_(ranked.c.member_id == col(Member.id), ranked.c.place == 1)
        return [ranked.c[column.key] for column in _ATTEMPT_COLUMNS], (ranked, newest)
    other = aliased(Reminder)  # the subquery's own reminder table, not the joined one
    probe = (
        select(col(other.id))
        .where(col(other.member_id) == col(Member.id), col(other.cycle) >= first_cycle, col(other.status).in_(TRIED))
        .order_by(col(other.cycle).desc(), col(other.stage_rank).desc())
        .limit(1)
        .correlate(Member)
        .scalar_subquery()
    )
    return list(_ATTEMPT_COLUMNS), (Reminder, col(Reminder.id) == probe)


def _follow_ups(session: Session, member_ids: list[int], since: datetime) -> dict[int, list[RecordedFollowUp]]:
    found: dict[int, list[RecordedFollowUp]] = {}
    for start in range(0, len(member_ids), _CHUNK):
        chunk = member_ids[start : start + _CHUNK]
        rows = session.execute(
            select(col(FollowUp.member_id), col(FollowUp.outcome), col(FollowUp.cycle), col(FollowUp.at)).where(
                col(FollowUp.member_id).in_(chunk), col(FollowUp.at) >= since
            )
        )
        for member_id, outcome, cycle, at in rows:
            found.setdefault(member_id, []).append(RecordedFollowUp(outcome, cycle, at))
    return found


def track(*, session: Session, member_ids: Collection[int], today: date) -> None:
    """Bring the listing up to today's lists: newcomers start their clock today, members no longer listed leave it."""
    existing = {row[0] for row in session.execute(select(col(Listing.member_id)))}
    gone = [member_id for member_id in existing if member_id not in member_ids]
    for start in range(0, len(gone), _CHUNK):
        session.execute(delete(Listing).where(col(Listing.member_id).in_(gone[start : start + _CHUNK])))
    new = [member_id for member_id in member_ids if member_id not in existing]
    if new:  # one statement: a first day lists 150,000 members
        # WHERE true: without it SQLite would read the ON of ON CONFLICT as a join condition.
        rows = id_rows(session, new).add_columns(literal(today, Date)).where(true())
        insert = upsert_insert(session)(Listing).from_select(["member_id", "since"], rows)
        session.connection().execute(insert.on_conflict_do_nothing())
