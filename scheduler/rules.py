"""Contribution calendar rules, pure: which month is owed next, when it is due, and how far behind a member is."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from enum import StrEnum


@dataclass(frozen=True, order=True, slots=True)
class ContributionMonth:
    year: int
    month: int

    @classmethod
    def of(cls, day: date) -> ContributionMonth:
        return cls(day.year, day.month)

    def plus(self, months: int) -> ContributionMonth:
        index = self.year * 12 + (self.month - 1) + months
        return ContributionMonth(index // 12, index % 12 + 1)

    def minus(self, other: ContributionMonth) -> int:
        """Whole months from `other` to `self`."""
        return (self.year - other.year) * 12 + (self.month - other.month)

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def due_date(self, due_day: int = 15) -> date:
        """The contribution for a month is due on `due_day` of that month (clamped to the month's length)."""
        return date(self.year, self.month, min(due_day, calendar.monthrange(self.year, self.month)[1]))

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


class Standing(StrEnum):
    ACTIVE = "active"
    ARREARS = "arrears"
    LAPSED = "lapsed"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Coverage:
    standing: Standing
    next_month: ContributionMonth | None
    due: date | None
    months_unpaid: int


def coverage(covered_until: date | None, today: date, *, due_day: int = 15, lapse_after: int = 3) -> Coverage:
    """Where a member stands today: the first unpaid month, its due date, and unpaid months already due.

    A month counts as unpaid once its due date has passed; after `lapse_after` such months in a row the
    membership is non-active (nonaktif).
    """
    if covered_until is None:
        return Coverage(Standing.UNKNOWN, None, None, 0)
    next_month = ContributionMonth.of(covered_until).plus(1)
    unpaid = 0
    month = next_month
    while month.due_date(due_day) < today:
        unpaid += 1
        month = month.plus(1)
    if unpaid >= lapse_after:
        standing = Standing.LAPSED
    elif unpaid > 0:
        standing = Standing.ARREARS
    else:
        standing = Standing.ACTIVE
    return Coverage(standing, next_month, next_month.due_date(due_day), unpaid)
