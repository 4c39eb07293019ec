"""Coverage numbers per kecamatan, and the daily snapshots their trend is drawn from.

A million members are counted by grouping on (kecamatan, covered-until, opted out): a few thousand groups, each
classified once with the same rules the reminders use, instead of a million rows brought into Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session

from scheduler.rules import ContributionMonth, Standing, coverage, lapse_date
from scheduler.scan import ReminderPolicy
from storage import stats as queries

DUE_SOON = timedelta(days=7)
COUNTS = ("members", "active", "due_soon", "arrears_1", "arrears_2", "lapsed_month", "unreachable", "opted_out")


@dataclass(slots=True)
class AreaStats:
    kecamatan: str
    members: int = 0
    active: int = 0  # protected today (paid up, or in arrears but not yet lapsed)
    due_soon: int = 0  # paid up, next contribution due within 7 days
    arrears_1: int = 0
    arrears_2: int = 0
    lapsed_month: int = 0  # lapsed this calendar month
    unreachable: int = 0  # no working chat
    opted_out: int = 0

    def add(self, other: AreaStats) -> None:
        for name in COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def coverage(self) -> float:
        return self.active / self.members if self.members else 0.0


def compute(*, session: Session, today: date, policy: ReminderPolicy, codes: Sequence[str] | None) -> list[AreaStats]:
    """Today's numbers per kecamatan of the area (None: everywhere), by kecamatan code."""
    found: dict[str, AreaStats] = {}
    standing: dict[date | None, tuple[Standing, int, date | None, date | None]] = {}
    for kecamatan, covered_until, opted_out, count in queries.member_groups(session=session, codes=codes):
        stats = found.setdefault(kecamatan, AreaStats(kecamatan))
        if covered_until not in standing:
            standing[covered_until] = _classify(covered_until, today, policy)
        state, unpaid, due, lapsed_on = standing[covered_until]
        stats.members += count
        stats.opted_out += count if opted_out else 0
        stats.active += count if state in (Standing.ACTIVE, Standing.ARREARS) else 0
        stats.due_soon += count if state == Standing.ACTIVE and due is not None and due - today <= DUE_SOON else 0
        stats.arrears_1 += count if state == Standing.ARREARS and unpaid == 1 else 0
        stats.arrears_2 += count if state == Standing.ARREARS and unpaid == 2 else 0
        this_month = lapsed_on is not None and (lapsed_on.year, lapsed_on.month) == (today.year, today.month)
        stats.lapsed_month += count if state == Standing.LAPSED and this_month else 0
    for kecamatan, count in queries.unreachable_counts(session=session, codes=codes).items():
        found.setdefault(kecamatan, AreaStats(kecamatan)).unreachable = count
    return [found[code] for code in sorted(found)]


def _classify(
    covered_until: date | None, today: date, policy: ReminderPolicy
) -> tuple[Standing, int, date | None, date | None]:
    """Standing, unpaid months, next due date, and the day it lapsed (or will)."""
    cover = coverage(covered_until, today, due_day=policy.due_day, lapse_after=policy.lapse_after)
    lapsed_on = None
    if covered_until is not None:
        lapsed_on = lapse_date(ContributionMonth.of(covered_until).plus(1), policy.due_day, policy.lapse_after)
    return cover.standing, cover.months_unpaid, cover.due, lapsed_on


def total(stats: Sequence[AreaStats]) -> AreaStats:
    whole = AreaStats("")
    for one in stats:
        whole.add(one)
    return whole


def take_snapshot(*, session: Session, today: date, policy: ReminderPolicy) -> int:
    """Store today's numbers for every kecamatan (again: replaced). Returns how many kecamatan."""
    stats = compute(session=session, today=today, policy=policy, codes=None)
    counts = {one.kecamatan: {name: getattr(one, name) for name in COUNTS} for one in stats}
    queries.save_snapshot(session=session, day=today, counts=counts)
    return len(stats)


def trend(*, session: Session, today: date, kecamatan: Sequence[str] | None, weeks: int = 12) -> list[AreaStats]:
    """Coverage at the end of each of the last `weeks` weeks (the newest snapshot in each), summed over the
    kecamatan (None: all); weeks without a snapshot are left out. `kecamatan` is the AreaStats label: the week's
    last day, as ISO text."""
    since = today - timedelta(weeks=weeks) + timedelta(days=1)
    by_day: dict[date, AreaStats] = {}
    for snap in queries.snapshots(session=session, since=since, until=today, kecamatan=kecamatan):
        summed = by_day.setdefault(snap.day, AreaStats(snap.day.isoformat()))
        summed.add(AreaStats("", **{name: getattr(snap, name) for name in COUNTS}))
    weekly: dict[int, date] = {}
    for day in sorted(by_day):
        weekly[(today - day).days // 7] = day  # the newest day of each week back from today
    return [by_day[weekly[week]] for week in sorted(weekly, reverse=True)]
