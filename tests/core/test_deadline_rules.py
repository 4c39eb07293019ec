"""The deadline a message names, the schedule of a run of unpaid months, and the default stages against the cap."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.settings import Settings, national_holidays
from bot.texts import month_span, pay_by
from domain.policy import ReminderPolicy
from domain.rules import (
    DEFAULT_STAGES,
    ContributionMonth,
    StageKind,
    next_deadline,
    ordered_stages,
    parse_stages,
    stage_of,
    stated_deadline,
)
from domain.workdays import WorkCalendar

M = ContributionMonth
CALENDAR = WorkCalendar(national_holidays(range(2026, 2030)))


def test_one_wording_with_the_year() -> None:
    assert pay_by(date(2026, 12, 15)) == "paling lambat Selasa, 15 Desember 2026"
    assert month_span(M(2026, 12), M(2026, 12)) == "Desember 2026"
    assert month_span(M(2026, 10), M(2026, 12)) == "Oktober–Desember 2026"
    assert month_span(M(2026, 12), M(2027, 1)) == "Desember 2026–Januari 2027"


@pytest.mark.parametrize(
    ("month", "today", "named"),
    [
        (M(2026, 11), date(2026, 11, 8), date(2026, 11, 15)),  # the advice is the 15th, even on a Sunday
        (M(2026, 11), date(2026, 11, 15), date(2026, 11, 15)),
        (M(2026, 11), date(2026, 11, 16), date(2026, 11, 16)),  # the 15th has passed, Monday has not
        (M(2027, 3), date(2027, 3, 14), date(2027, 3, 15)),  # 15 March 2027 is cuti bersama Idul Fitri
        (M(2027, 3), date(2027, 3, 16), date(2027, 3, 16)),
        (M(2026, 12), date(2026, 12, 14), date(2026, 12, 15)),
    ],
)
def test_the_deadline_named_is_never_a_day_gone_by(month: ContributionMonth, today: date, named: date) -> None:
    assert stated_deadline(month, today, workdays=CALENDAR) == named


@pytest.mark.parametrize(
    ("first_unpaid", "today", "named"),
    [
        (M(2026, 12), date(2026, 12, 8), date(2026, 12, 15)),  # before the due day: the month's 15th
        (M(2026, 12), date(2026, 12, 15), date(2026, 12, 15)),  # on it
        (M(2026, 12), date(2026, 12, 16), date(2027, 2, 15)),  # after it: the last month's 15th
        (M(2026, 12), date(2027, 1, 14), date(2027, 2, 15)),
        (M(2026, 9), date(2026, 11, 16), date(2026, 11, 16)),  # the last day, after a Sunday 15th
        (M(2027, 1), date(2027, 2, 1), date(2027, 3, 15)),  # Idul Fitri's cuti bersama: the advice stays
    ],
)
def test_the_deadline_that_still_matters(first_unpaid: ContributionMonth, today: date, named: date) -> None:
    assert next_deadline(first_unpaid, today, workdays=CALENDAR) == named
    policy = ReminderPolicy(stages=parse_stages(DEFAULT_STAGES), workdays=CALENDAR)
    assert policy.next_deadline(first_unpaid, today) == named


def test_a_run_of_unpaid_months_repeats_the_due_day_stages_and_always_ends_with_the_last_day() -> None:
    stages = parse_stages("H-7,H+7,L0")  # L-1 not listed: it is there all the same
    schedule = ordered_stages(stages, M(2026, 9), workdays=CALENDAR)
    assert [(day, stage.code, stage.kind) for day, stage in schedule] == [
        (date(2026, 9, 8), "H-7", StageKind.DUE),
        (date(2026, 9, 22), "H+7", StageKind.OVERDUE),
        (date(2026, 10, 8), "H-7@2", StageKind.DUE),
        (date(2026, 10, 22), "H+7@2", StageKind.OVERDUE),
        (date(2026, 11, 8), "H-7@3", StageKind.DUE),
        (date(2026, 11, 16), "L-1", StageKind.LAST_DAY),  # 15 November is a Sunday; H+7@3 would be after the lapse
        (date(2026, 11, 17), "L0", StageKind.LAPSED),
    ]
    assert stage_of("H-7@3") == schedule[4][1]
    assert stage_of("H-7@3").about(M(2026, 9)) == M(2026, 11)


def test_two_stages_on_one_day_are_one_reminder() -> None:
    # 15 February 2027 is a Monday: the last month's H0 is the last day itself.
    schedule = ordered_stages(parse_stages("H0,L-1,L0"), M(2026, 12), workdays=CALENDAR)
    assert [(day, stage.code) for day, stage in schedule][-3:] == [
        (date(2027, 1, 15), "H0@2"),
        (date(2027, 2, 15), "L-1"),
        (date(2027, 2, 16), "L0"),
    ]


@pytest.mark.parametrize("first", [M(2026, 1).plus(n) for n in range(36)], ids=str)
def test_the_default_stages_never_exceed_four_a_month(first: ContributionMonth) -> None:
    """The README's promise: with the holiday calendar, no first unpaid month from January 2026 to December 2028
    gives a member more than four default reminders in any calendar month, so the cap never has to skip one."""
    schedule = ordered_stages(parse_stages(DEFAULT_STAGES), first, workdays=CALENDAR)
    per_month = Counter((day.year, day.month) for day, _ in schedule)
    assert max(per_month.values()) <= ReminderPolicy(stages=()).per_month


@pytest.mark.parametrize("text", ["H-28", "H-30,L0"])
def test_a_stage_before_the_previous_months_due_date_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="previous month"):
        parse_stages(text)


def test_the_example_env_documents_the_defaults() -> None:
    example = (Path(__file__).resolve().parents[2] / ".env.example").read_text()
    documented = dict(re.findall(r"^([A-Z_]+)=(.*)$", example, re.MULTILINE))
    settings = Settings(_env_file=None)
    assert documented["REMINDER_STAGES"] == DEFAULT_STAGES == settings.reminder_stages
    assert int(documented["REMINDERS_PER_MONTH"]) == settings.reminders_per_month
    with pytest.raises(ValidationError, match="REMINDERS_PER_MONTH"):
        Settings(_env_file=None, reminders_per_month=1)
