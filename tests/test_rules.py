"""Contribution calendar: next month owed, due date, standing — across month and year ends."""

from __future__ import annotations

from datetime import date

import pytest

from scheduler.rules import ContributionMonth, Standing, coverage


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (ContributionMonth(2026, 11), 1, ContributionMonth(2026, 12)),
        (ContributionMonth(2026, 12), 1, ContributionMonth(2027, 1)),
        (ContributionMonth(2027, 1), -1, ContributionMonth(2026, 12)),
        (ContributionMonth(2026, 3), 12, ContributionMonth(2027, 3)),
    ],
)
def test_month_arithmetic(start: ContributionMonth, months: int, expected: ContributionMonth) -> None:
    assert start.plus(months) == expected
    assert expected.minus(start) == months


def test_due_day_is_clamped_to_short_months() -> None:
    assert ContributionMonth(2027, 2).due_date(31) == date(2027, 2, 28)
    assert ContributionMonth(2026, 12).last_day == date(2026, 12, 31)


@pytest.mark.parametrize(
    ("covered_until", "today", "standing", "next_month", "unpaid"),
    [
        (date(2026, 11, 30), date(2026, 11, 23), Standing.ACTIVE, ContributionMonth(2026, 12), 0),
        (date(2026, 10, 31), date(2026, 11, 15), Standing.ACTIVE, ContributionMonth(2026, 11), 0),  # due today
        (date(2026, 10, 31), date(2026, 11, 16), Standing.ARREARS, ContributionMonth(2026, 11), 1),
        (date(2026, 11, 30), date(2027, 1, 16), Standing.ARREARS, ContributionMonth(2026, 12), 2),
        (date(2026, 10, 31), date(2027, 1, 16), Standing.LAPSED, ContributionMonth(2026, 11), 3),
        (date(2026, 12, 31), date(2027, 1, 1), Standing.ACTIVE, ContributionMonth(2027, 1), 0),
    ],
)
def test_coverage(
    covered_until: date, today: date, standing: Standing, next_month: ContributionMonth, unpaid: int
) -> None:
    result = coverage(covered_until, today)
    assert (result.standing, result.next_month, result.months_unpaid) == (standing, next_month, unpaid)
    assert result.due == next_month.due_date(15)


def test_unknown_coverage() -> None:
    assert coverage(None, date(2026, 11, 23)).standing is Standing.UNKNOWN
