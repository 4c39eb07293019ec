"""What an office that pays for members from a budget owes for a month — the one definition its monthly statement, the
statement's file and the follow-up after the deadline all use.

Members whose payer is billed (`vocabulary.BILLED_PAYERS`: an institution, the APBD, the APBN, a desa's Dana Desa) are
never asked to pay. Their office gets one statement a month, from `days_before` days before the due date (the 15th)
until the effective deadline: each member with the months they owe up to that month (arrears included) and what those
cost at each month's own tariff. A week after the effective deadline it gets a follow-up listing the members the
branch's data still shows unpaid for the month, when there are any.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from domain.policy import ReminderPolicy
from domain.rules import ContributionMonth, Standing, deadline
from domain.tariffs import Tariffs, member_cost

# A week after the effective deadline, as the officers' H+7: the branch's data has had time to show the payment.
FOLLOW_UP_AFTER = timedelta(days=7)
DAYS_BEFORE = range(1, 26)  # a statement lead that keeps every month's window apart from the next one's


class StatementKind(StrEnum):
    STATEMENT = "statement"
    FOLLOW_UP = "follow_up"


@dataclass(frozen=True, slots=True)
class Billed:
    """A member an office pays for, as the statement needs them (`paid_through`: see `paid_through`)."""

    member_id: int
    full_name: str
    desa_code: str
    kpj: str | None
    masked_nik: str
    occupation: str
    payer: str
    declared_income: int
    with_jht: bool
    paid_through: date | None


def paid_through(covered_until: date | None, branch_until: date | None, reported_until: date | None) -> date | None:
    """The last day paid as the branch's data shows it: the coverage, except a stretch beyond the branch's month that
    rests only on a member's own report (provisional until the branch confirms it)."""
    provisional = (
        covered_until is not None
        and branch_until is not None
        and reported_until is not None
        and branch_until < covered_until <= reported_until
    )
    return branch_until if provisional else covered_until


@dataclass(frozen=True, slots=True)
class Line:
    """One member on a statement: the months owed from `first` (None: the last paid month is unknown)."""

    member: Billed
    standing: Standing
    first: ContributionMonth | None
    months: int
    amount: int


@dataclass(frozen=True, slots=True)
class Group:
    """Members who owe the same months and the same amount each: how the message sums the statement up."""

    first: ContributionMonth
    months: int
    amount: int
    count: int


@dataclass(frozen=True, slots=True)
class Statement:
    """An office's bill for `month`: the members who owe (in the total), and the ones it cannot bill — lapsed (the
    membership must be reactivated first) or with an unknown last paid month."""

    month: ContributionMonth
    due: date  # the advice: the month's due date
    owing: tuple[Line, ...]
    lapsed: tuple[Line, ...] = ()
    unknown: tuple[Line, ...] = ()

    @property
    def total(self) -> int:
        return sum(line.amount for line in self.owing)

    @property
    def lines(self) -> tuple[Line, ...]:
        """Every member on it, as its file lists them."""
        return self.owing + self.lapsed + self.unknown

    @property
    def empty(self) -> bool:
        return not self.lines

    def groups(self) -> list[Group]:
        """The owing members by (months owed, amount each): the most common first, then the fewest months."""
        counted = Counter((line.first, line.months, line.amount) for line in self.owing)
        found = [Group(first, months, amount, n) for (first, months, amount), n in counted.items() if first is not None]
        return sorted(found, key=lambda group: (-group.count, group.months, group.amount))

    def still_unpaid(self) -> Statement:
        """The follow-up's part: the members it bills or found lapsed; an unknown month says nothing of this one."""
        return Statement(self.month, self.due, self.owing, self.lapsed)


def bill(
    members: list[Billed], month: ContributionMonth, today: date, *, policy: ReminderPolicy, tariffs: Tariffs
) -> Statement:
    """The statement for `month`: every member not paid through it, the months they owe up to it and their cost."""
    owing, lapsed, unknown = [], [], []
    for member in sorted(members, key=lambda m: (m.desa_code, m.full_name, m.member_id)):
        if member.paid_through is None:
            unknown.append(Line(member, Standing.UNKNOWN, None, 0, 0))
            continue
        first = ContributionMonth.of(member.paid_through).plus(1)
        if first > month:
            continue  # paid ahead
        standing = policy.coverage(member.paid_through, today).standing
        months = month.minus(first) + 1
        if standing == Standing.LAPSED:
            lapsed.append(Line(member, standing, first, months, 0))
        else:
            owing.append(Line(member, standing, first, months, member_cost(tariffs, member, first, months)))
    return Statement(month, month.due_date(policy.due_day), tuple(owing), tuple(lapsed), tuple(unknown))


def statement_month(today: date, *, days_before: int, policy: ReminderPolicy) -> ContributionMonth | None:
    """The month whose statement goes out today: from `days_before` days before its due date to its effective
    deadline (after a restart or an outage, the days left of that window still send it)."""
    if days_before not in DAYS_BEFORE:
        raise ValueError(f"a statement goes out 1 to 25 days before the due date, not {days_before}")
    for month in (ContributionMonth.of(today).plus(offset) for offset in (1, 0)):
        if _statement_day(month, days_before, policy) <= today <= _deadline(month, policy):
            return month
    return None


def next_statement_day(today: date, *, days_before: int, policy: ReminderPolicy) -> date:
    """The first day from `today` on that a month's statement goes out."""
    months = (ContributionMonth.of(today).plus(offset) for offset in (0, 1, 2))
    return next(day for month in months if (day := _statement_day(month, days_before, policy)) >= today)


def follow_up_month(today: date, *, days_before: int, policy: ReminderPolicy) -> ContributionMonth | None:
    """The month whose follow-up goes out today: from a week after its effective deadline until the next month's
    statement, which carries its arrears from then on."""
    for month in (ContributionMonth.of(today).plus(offset) for offset in (0, -1)):
        start = _deadline(month, policy) + FOLLOW_UP_AFTER
        if start <= today < _statement_day(month.plus(1), days_before, policy):
            return month
    return None


def _statement_day(month: ContributionMonth, days_before: int, policy: ReminderPolicy) -> date:
    return month.due_date(policy.due_day) - timedelta(days=days_before)


def _deadline(month: ContributionMonth, policy: ReminderPolicy) -> date:
    return deadline(month, policy.due_day, policy.workdays)
