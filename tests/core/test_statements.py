"""What an office that pays from a budget owes, and when its statement and follow-up go out: pure."""

from __future__ import annotations

from datetime import date

import pytest

from domain.policy import ReminderPolicy
from domain.rules import DEFAULT_STAGES, ContributionMonth, Standing, parse_stages
from domain.statements import Billed, bill, follow_up_month, next_statement_day, paid_through, statement_month
from domain.tariffs import default_tariffs
from domain.workdays import WorkCalendar

POLICY = ReminderPolicy(stages=parse_stages(DEFAULT_STAGES))
DECEMBER, JANUARY = ContributionMonth(2026, 12), ContributionMonth(2027, 1)


@pytest.mark.parametrize(
    ("today", "month"),
    [
        (date(2026, 12, 7), None),  # eight days before the 15th: not yet
        (date(2026, 12, 8), DECEMBER),  # seven days before
        (date(2026, 12, 15), DECEMBER),  # the deadline itself
        (date(2026, 12, 16), None),  # past it: the follow-up's turn
        (date(2027, 1, 8), JANUARY),
    ],
)
def test_the_statement_goes_out_from_seven_days_before_the_15th_to_the_deadline(
    today: date, month: ContributionMonth | None
) -> None:
    assert statement_month(today, days_before=7, policy=POLICY) == month


def test_a_long_lead_reaches_into_the_month_before() -> None:
    assert statement_month(date(2026, 12, 26), days_before=20, policy=POLICY) == JANUARY
    assert next_statement_day(date(2026, 11, 23), days_before=25, policy=POLICY) == date(2026, 12, 21)
    assert next_statement_day(date(2026, 11, 23), days_before=7, policy=POLICY) == date(2026, 12, 8)
    assert next_statement_day(date(2026, 12, 8), days_before=7, policy=POLICY) == date(2026, 12, 8)


def test_a_sunday_deadline_keeps_the_statement_window_open_to_the_monday() -> None:
    # 15 November 2026 is a Sunday: the effective deadline is Monday the 16th.
    assert statement_month(date(2026, 11, 16), days_before=7, policy=POLICY) == ContributionMonth(2026, 11)
    holiday = ReminderPolicy(stages=POLICY.stages, workdays=WorkCalendar(frozenset({date(2026, 12, 15)})))
    assert statement_month(date(2026, 12, 16), days_before=7, policy=holiday) == DECEMBER


@pytest.mark.parametrize(
    ("today", "month"),
    [
        (date(2026, 12, 21), None),  # six days after the deadline
        (date(2026, 12, 22), DECEMBER),  # a week after it
        (date(2027, 1, 7), DECEMBER),  # still catching up after an outage
        (date(2027, 1, 8), None),  # January's statement carries December's arrears from now on
        (date(2026, 11, 23), ContributionMonth(2026, 11)),  # a week after Monday 16 November
        (date(2026, 11, 22), None),
    ],
)
def test_the_follow_up_comes_a_week_after_the_effective_deadline(today: date, month: ContributionMonth | None) -> None:
    assert follow_up_month(today, days_before=7, policy=POLICY) == month


def test_a_lead_outside_one_to_25_days_is_refused() -> None:
    with pytest.raises(ValueError, match="1 to 25"):
        statement_month(date(2026, 12, 8), days_before=0, policy=POLICY)


def test_a_members_own_report_beyond_the_branchs_month_does_not_count_as_paid() -> None:
    branch, reported = date(2026, 9, 30), date(2026, 12, 31)
    assert paid_through(reported, branch, reported) == branch  # only the member says so
    assert paid_through(date(2026, 10, 31), branch, None) == date(2026, 10, 31)  # a verified payment moved it
    assert paid_through(branch, branch, reported) == branch  # the import took the branch's month
    assert paid_through(None, None, None) is None


def member(index: int, paid: date | None, *, payer: str = "regional_government", occupation: str = "petani") -> Billed:
    masked = "7314********9001"
    return Billed(index, f"Peserta {index}", "73.14.01.2004", None, masked, occupation, payer, 1_000_000, False, paid)


def test_each_member_owes_the_months_up_to_the_statements_month_at_each_months_tariff() -> None:
    members = [
        member(1, date(2026, 11, 30)),
        member(2, date(2026, 9, 30)),  # October and November overdue: three months to save the membership
        member(3, date(2026, 12, 31)),  # paid ahead: not on it
        member(4, date(2026, 8, 31)),  # September to November unpaid: lapsed on 17 November
        member(5, None),
        member(6, date(2026, 11, 30), payer="institution"),  # a company's CSR: PP 50/2025 halves it
    ]
    found = bill(members, DECEMBER, date(2026, 12, 8), policy=POLICY, tariffs=default_tariffs())
    owing = {line.member.member_id: (line.first, line.months, line.amount, line.standing) for line in found.owing}
    assert owing == {
        1: (DECEMBER, 1, 16_800, Standing.ACTIVE),
        2: (ContributionMonth(2026, 10), 3, 50_400, Standing.ARREARS),
        6: (DECEMBER, 1, 8_400, Standing.ACTIVE),
    }
    assert found.total == 75_600
    assert [line.member.member_id for line in found.lapsed] == [4]
    assert [line.member.member_id for line in found.unknown] == [5]
    assert [(g.months, g.amount, g.count) for g in found.groups()] == [(1, 8_400, 1), (1, 16_800, 1), (3, 50_400, 1)]
    assert found.due == date(2026, 12, 15)
    follow_up = found.still_unpaid()
    assert (len(follow_up.owing), len(follow_up.lapsed), follow_up.unknown) == (3, 1, ())
