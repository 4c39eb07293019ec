"""The effective deadline and the holiday quiet days: a 15th on a Sunday or a national holiday (from the `holidays`
package's Indonesia calendar, cuti bersama included) moves the lapse, not the advice."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.settings import national_holidays
from domain.rules import ContributionMonth, coverage, holiday_quiet_periods, lapse_date, quiet_until
from domain.workdays import WorkCalendar

CALENDAR = WorkCalendar(national_holidays(range(2026, 2028)))
WITA = ZoneInfo("Asia/Makassar")


@pytest.mark.parametrize(
    ("due", "deadline"),
    [
        (date(2026, 11, 15), date(2026, 11, 16)),  # a Sunday → Monday
        (date(2026, 2, 15), date(2026, 2, 18)),  # Sunday, then cuti bersama and Imlek (16, 17 Feb)
        (date(2026, 3, 15), date(2026, 3, 16)),  # a Sunday
        (date(2027, 8, 15), date(2027, 8, 16)),  # a Sunday and Maulid Nabi
        (date(2027, 3, 15), date(2027, 3, 16)),  # cuti bersama Idul Fitri 2027 (a Monday)
        (date(2027, 3, 10), date(2027, 3, 13)),  # Idul Fitri 2027 (estimated): 10, 11, then cuti bersama 12 Mar
        (date(2026, 12, 25), date(2026, 12, 26)),  # Christmas 2026 (a Friday); Saturday is a working day
        (date(2026, 12, 24), date(2026, 12, 26)),  # cuti bersama Christmas 2026
        (date(2026, 12, 15), date(2026, 12, 15)),  # a Tuesday: unchanged
        (date(2026, 8, 15), date(2026, 8, 15)),  # a Saturday: unchanged
    ],
)
def test_the_effective_deadline_is_the_next_working_day(due: date, deadline: date) -> None:
    assert CALENDAR.deadline(due) == deadline


@pytest.mark.parametrize(
    ("first_unpaid", "lapses"),
    [
        (ContributionMonth(2026, 9), date(2026, 11, 17)),  # third unpaid month November: Sunday 15th, Monday passes
        (ContributionMonth(2027, 6), date(2027, 8, 17)),  # August 2027: Sunday 15th and Maulid Nabi
        (ContributionMonth(2027, 1), date(2027, 3, 17)),  # March 2027: the 15th is cuti bersama Idul Fitri
        (ContributionMonth(2026, 10), date(2026, 12, 16)),  # December 2026: a Tuesday, unchanged
    ],
)
def test_the_lapse_counts_from_the_effective_deadline(first_unpaid: ContributionMonth, lapses: date) -> None:
    assert lapse_date(first_unpaid, workdays=CALENDAR) == lapses


@pytest.mark.parametrize(
    ("today", "standing", "unpaid"),
    [
        (date(2026, 11, 16), "arrears", 2),  # Monday 16 Nov 08:00: the deadline is today, not yet lapsed
        (date(2026, 11, 17), "lapsed", 3),
    ],
)
def test_no_lapse_before_the_next_working_day_has_passed(today: date, standing: str, unpaid: int) -> None:
    found = coverage(date(2026, 8, 31), today, workdays=CALENDAR)
    assert (found.standing, found.months_unpaid) == (standing, unpaid)
    assert found.due == date(2026, 9, 15)  # the advice stays the 15th


def test_sundays_count_without_a_holiday_list() -> None:
    assert WorkCalendar().deadline(date(2026, 11, 15)) == date(2026, 11, 16)
    assert lapse_date(ContributionMonth(2026, 9)) == date(2026, 11, 17)


@pytest.mark.parametrize(
    ("local", "until"),
    [
        # Idul Fitri 2026 with its cuti bersama: 18–24 March, one quiet stretch; H+7 of February fell on the 22nd.
        (datetime(2026, 3, 22, 8, 0, tzinfo=WITA), datetime(2026, 3, 25, 0, 0, tzinfo=WITA)),
        (datetime(2026, 12, 24, 9, 0, tzinfo=WITA), datetime(2026, 12, 26, 0, 0, tzinfo=WITA)),  # Christmas 2026
        (datetime(2027, 3, 10, 8, 0, tzinfo=WITA), datetime(2027, 3, 13, 0, 0, tzinfo=WITA)),  # Idul Fitri 2027
        (datetime(2026, 3, 25, 8, 0, tzinfo=WITA), None),
    ],
)
def test_holidays_are_quiet_days(local: datetime, until: datetime | None) -> None:
    assert quiet_until(holiday_quiet_periods(CALENDAR), local) == until


def test_extra_days_join_the_calendar() -> None:
    extra = WorkCalendar(CALENDAR.holidays | {date(2026, 11, 16)})
    assert extra.deadline(date(2026, 11, 15)) == date(2026, 11, 17)
