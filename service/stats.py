"""Coverage numbers per kecamatan, and the daily snapshots their trend is drawn from.

A million members are counted by grouping on (kecamatan, covered-until, opted out): a few thousand groups, each
classified once with the same rules the reminders use, instead of a million rows brought into Python.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, timedelta

from sqlmodel import Session

from domain.policy import ReminderPolicy
from domain.rules import Standing
from domain.stats import COUNTS, DUE_SOON, AreaStats, classify
from storage import stats as queries


def compute(
    *,
    session: Session,
    today: date,
    policy: ReminderPolicy,
    codes: Sequence[str] | None,
    channels: Collection[str] | None = None,
) -> list[AreaStats]:
    """Today's numbers per kecamatan of the area (None: everywhere), by kecamatan code; unreachable: no working chat
    on `channels`, the ones the deployment sends on (None: every one)."""
    found: dict[str, AreaStats] = {}
    standing: dict[date | None, tuple[Standing, int, date | None, date | None]] = {}
    for kecamatan, covered_until, opted_out, count in queries.member_groups(session=session, codes=codes):
        stats = found.setdefault(kecamatan, AreaStats(kecamatan))
        if covered_until not in standing:
            standing[covered_until] = classify(covered_until, today, policy)
        state, unpaid, due, lapsed_on = standing[covered_until]
        stats.members += count
        stats.opted_out += count if opted_out else 0
        stats.active += count if state in (Standing.ACTIVE, Standing.ARREARS) else 0
        stats.due_soon += count if state == Standing.ACTIVE and due is not None and due - today <= DUE_SOON else 0
        stats.arrears_1 += count if state == Standing.ARREARS and unpaid == 1 else 0
        stats.arrears_2 += count if state == Standing.ARREARS and unpaid == 2 else 0
        this_month = lapsed_on is not None and (lapsed_on.year, lapsed_on.month) == (today.year, today.month)
        stats.lapsed_month += count if state == Standing.LAPSED and this_month else 0
    for kecamatan, count in queries.unreachable_counts(session=session, codes=codes, channels=channels).items():
        found.setdefault(kecamatan, AreaStats(kecamatan)).unreachable = count
    return [found[code] for code in sorted(found)]


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
