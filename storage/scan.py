"""The scan: rules + today → reminder rows, set-based and idempotent.

A stage's day depends only on the contribution month (the cycle), so for each cycle the members who owe it are
exactly those covered until the end of the month before. One `INSERT … SELECT … ON CONFLICT DO NOTHING` per
(cycle, stage, time zone) creates every row at once; the unique key (member, cycle, stage) makes a second run, or a
second machine, create nothing.

A cycle is a run of unpaid months from the member's first unpaid month (`domain.rules.ordered_stages`): its own
stages, the next months' due-day stages for a member in arrears (one message with the arrears), the last day a
payment keeps the membership active (L-1) and the lapse day. Only the latest stage a cycle has reached is ever
created as pending: after an outage the stages it jumped over are recorded as skipped, never sent late. A stage that
would give a member more than `per_month` reminders in a calendar month is recorded as skipped too (`cap:4`), except
the last-day reminder and the lapse notice, for which room is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, CursorResult, and_, case, exists, false, func, literal, select
from sqlmodel import Session, col

from domain.policy import ReminderPolicy, cycle_key, local_moment
from domain.rules import ContributionMonth, Stage, ordered_stages
from domain.vocabulary import BILLED_PAYERS, BROADCAST_STAGE, BpjsStatus, ReminderStatus
from storage.db import upsert_insert
from storage.models import Member, Reminder, ScanRun


@dataclass(frozen=True, slots=True)
class ScanResult:
    day: date
    created: int
    skipped: int


def scan(
    *,
    session: Session,
    today: date,
    policy: ReminderPolicy,
    zones: dict[str, ZoneInfo],
    now: datetime,
) -> ScanResult:
    """Create today's reminders. `zones` maps province codes of the service area to their time zone."""
    last_day: date | None = session.execute(select(func.max(ScanRun.day)).where(col(ScanRun.day) < today)).scalar()
    last_run_at: datetime | None = None
    if last_day is not None:
        last_run_at = session.execute(select(func.max(ScanRun.ran_at))).scalar()
    this_month = ContributionMonth.of(today)
    created = skipped = 0
    for offset in range(-(policy.lapse_after + 2), 2):
        month = this_month.plus(offset)
        ordered = ordered_stages(
            policy.stages, month, due_day=policy.due_day, lapse_after=policy.lapse_after, workdays=policy.workdays
        )
        reached = [(rank, day, stage) for rank, (day, stage) in enumerate(ordered) if day <= today]
        if not reached:
            continue
        rank, day, current = reached[-1]
        expires_day = ordered[rank + 1][0] if rank + 1 < len(ordered) else day + timedelta(days=7)
        if expires_day <= today:
            continue  # the cycle's last stage has run its course: nothing current to send
        newly_reached = last_day is None or day > last_day
        for province, zone in zones.items():
            owing = _owing(month, province)
            if newly_reached:
                who = owing
            elif last_run_at is not None:
                # The stage was reached earlier: only members who registered or changed since the last scan lack it.
                who = and_(owing, col(Member.updated_at) >= last_run_at)
            else:
                continue

            inserts = _CycleInserts(session, cycle_key(month), zone, policy.window_start, now)
            capped = None if current.priority else _over_cap(ordered, day, policy.per_month, zone)
            pending, over_cap = inserts.add_current(
                who,
                current,
                rank=rank,
                day=day,
                expires=expires_day,
                capped=capped,
                cap_reason=f"cap:{policy.per_month}",
            )
            created, skipped = created + pending, skipped + over_cap
            if last_day is None:
                continue
            for earlier_rank, earlier_day, earlier in reached[:-1]:
                if earlier_day > last_day:
                    skipped += inserts.skip(owing, earlier, earlier_rank, earlier_day, f"superseded:{current.code}")
    _record_run(session, today, now, created, skipped)
    return ScanResult(today, created, skipped)


def _record_run(session: Session, today: date, now: datetime, created: int, skipped: int) -> None:
    """The day's scan run (a second run the same day adds its counts to the first's)."""
    run = session.get(ScanRun, today)
    if run is None:
        session.add(ScanRun(day=today, ran_at=now, created=created, skipped=skipped))
    else:
        run.ran_at, run.created, run.skipped = now, run.created + created, run.skipped + skipped
        session.add(run)


def _owing(month: ContributionMonth, province: str) -> ColumnElement[bool]:
    """Members whose first unpaid month is `month`, in one province, who want reminders and pay for themselves (or
    have a person pay): an office that pays from a budget gets a monthly statement instead (service/statements)."""
    return and_(
        col(Member.covered_until) == month.plus(-1).last_day,
        col(Member.opted_out) == false(),
        col(Member.payer).not_in(list(BILLED_PAYERS)),
        col(Member.bpjs_status) == BpjsStatus.MEMBER,
        col(Member.kecamatan_code).startswith(province),
    )


# What counts against the monthly cap: reminders sent or still to be sent (not skipped, cancelled or failed).
_COUNTED = (ReminderStatus.PENDING, ReminderStatus.CLAIMED, ReminderStatus.SENT, ReminderStatus.DELIVERED,
            ReminderStatus.READ)  # fmt: skip


def _over_cap(ordered: list[tuple[date, Stage]], day: date, cap: int, zone: ZoneInfo) -> ColumnElement[bool]:
    """Members who have had, or will have, `cap` reminders in the calendar month of `day` if this stage were sent:
    their reminders of the month so far plus the cycle's last-day and lapse reminders still to come in it.

    A cycle's own stages are the same for all its members, so unless they alone reach the cap, only a member whose
    first unpaid month changed this month (a payment, an import: `updated_at`) can have reminders of another cycle
    in it, and only those are counted (a few rows, not a million).
    """
    month = ContributionMonth.of(day)
    in_month = [(d, s) for d, s in ordered if ContributionMonth.of(d) == month]
    earlier = sum(1 for d, _ in in_month if d < day)
    reserved = sum(1 for d, s in in_month if d > day and s.priority)
    start = local_moment(month.first_day, time(0), zone)
    end = local_moment(month.plus(1).first_day, time(0), zone)
    used = (
        select(func.count())
        .where(
            col(Reminder.member_id) == col(Member.id),
            col(Reminder.send_after) >= start,
            col(Reminder.send_after) < end,
            col(Reminder.status).in_(_COUNTED),
            col(Reminder.stage) != BROADCAST_STAGE,  # news from an admin is not a reminder
        )
        .scalar_subquery()
    )
    over = used + reserved >= cap
    if earlier + reserved < cap:
        return and_(col(Member.updated_at) >= start, over)
    return over


def _later_stage_exists(session: Session, cycle: int, rank: int) -> bool:
    query = select(col(Reminder.id)).where(col(Reminder.cycle) == cycle, col(Reminder.stage_rank) > rank).limit(1)
    return session.execute(query).first() is not None


@dataclass(frozen=True, slots=True)
class _CycleInserts:
    """Inserts of one cycle's stages in one time zone."""

    session: Session
    cycle: int
    zone: ZoneInfo
    window_start: time
    now: datetime

    def skip(self, who: ColumnElement[bool], stage: Stage, rank: int, day: date, reason: str) -> int:
        """Record a stage as skipped for the members `who` selects; the unique key skips those who already have it."""
        columns = (literal(str(ReminderStatus.SKIPPED)), literal(self._at(day), type_=self._moment), literal(reason))
        return max(self._insert(who, stage, rank, day, columns).rowcount or 0, 0)

    def add_current(
        self,
        who: ColumnElement[bool],
        stage: Stage,
        *,
        rank: int,
        day: date,
        expires: date,
        capped: ColumnElement[bool] | None,
        cap_reason: str,
    ) -> tuple[int, int]:
        """Insert the cycle's current stage as pending, or for the members `capped` selects as skipped (over the
        monthly cap), in one pass over the members; returns (pending, skipped). A pending stage is not created for a
        member who already has a later stage (a rerun of a past day)."""
        if _later_stage_exists(self.session, self.cycle, rank):
            # Only then the anti-join: on a normal day no later stage exists, and leaving it out keeps the plan a
            # plain index scan (with stale statistics PostgreSQL may run it as a nested loop over the table being
            # filled).
            later = exists().where(
                col(Reminder.member_id) == col(Member.id),
                col(Reminder.cycle) == self.cycle,
                col(Reminder.stage_rank) > rank,
            )
            who = and_(who, ~later)
        moment = self._moment
        pending = (literal(str(ReminderStatus.PENDING)), literal(self._at(expires), type_=moment), literal(""))
        if capped is None:
            return max(self._insert(who, stage, rank, day, pending).rowcount or 0, 0), 0
        skipped = (literal(str(ReminderStatus.SKIPPED)), literal(self._at(day), type_=moment), literal(cap_reason))
        columns = tuple(case((capped, over), else_=under) for over, under in zip(skipped, pending, strict=True))
        # The row count cannot tell the two apart, and returning a status for each row costs more than the insert's
        # member scan: the skipped ones are counted before and after instead, on the (status, send_after) index.
        before = self._capped(stage, day, cap_reason)
        inserted = max(self._insert(who, stage, rank, day, columns).rowcount or 0, 0)
        over_cap = self._capped(stage, day, cap_reason) - before
        return inserted - over_cap, over_cap

    def _capped(self, stage: Stage, day: date, reason: str) -> int:
        """This cycle's rows of `stage` skipped for the cap."""
        query = select(func.count()).where(
            col(Reminder.status) == ReminderStatus.SKIPPED,
            col(Reminder.send_after) == self._at(day),
            col(Reminder.cycle) == self.cycle,
            col(Reminder.stage) == stage.code,
            col(Reminder.reason) == reason,
        )
        return int(self.session.execute(query).scalar_one())

    @property
    def _moment(self) -> Any:
        return Reminder.__table__.c.send_after.type  # type: ignore[attr-defined]

    def _at(self, day: date) -> datetime:
        return local_moment(day, self.window_start, self.zone)

    def _insert(
        self,
        who: ColumnElement[bool],
        stage: Stage,
        rank: int,
        day: date,
        outcome: tuple[ColumnElement[Any], ...],  # status, expires_at, reason
    ) -> CursorResult[Any]:
        status, expires_at, reason = outcome
        rows = select(
            col(Member.id),
            literal(self.cycle),
            literal(stage.code),
            literal(rank),
            status,
            literal(self._at(day), type_=self._moment),
            expires_at,
            literal(str(self.zone)),
            literal(0),
            reason,
            literal(self.now, type_=self._moment),
        ).where(who)
        columns = [
            "member_id",
            "cycle",
            "stage",
            "stage_rank",
            "status",
            "send_after",
            "expires_at",
            "zone",
            "attempts",
            "reason",
            "created_at",
        ]
        statement = upsert_insert(self.session)(Reminder).from_select(columns, rows).on_conflict_do_nothing()
        # SQLAlchemy only keeps the driver's row count for an INSERT when asked to.
        return self.session.connection().execute(statement.execution_options(preserve_rowcount=True))
