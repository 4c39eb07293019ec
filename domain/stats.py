"""Coverage arithmetic per kecamatan: what counts as active, due soon, in arrears or lapsed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from domain.policy import ReminderPolicy
from domain.rules import ContributionMonth, Standing

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


def classify(
    covered_until: date | None, today: date, policy: ReminderPolicy
) -> tuple[Standing, int, date | None, date | None]:
    """Standing, unpaid months, next due date, and the day it lapsed (or will)."""
    cover = policy.coverage(covered_until, today)
    lapsed_on = None
    if covered_until is not None:
        lapsed_on = policy.lapse_date(ContributionMonth.of(covered_until).plus(1))
    return cover.standing, cover.months_unpaid, cover.due, lapsed_on


def total(stats: Sequence[AreaStats]) -> AreaStats:
    whole = AreaStats("")
    for one in stats:
        whole.add(one)
    return whole
