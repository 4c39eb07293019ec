"""Who the bot could not reach — the one definition the officers' list, the digest and the escalation all use.

A member is on an officer's list when their contribution cycle is open (due within 7 days, overdue, or lapsed within
the last 30 days) and the bot has no working way to them (never linked, blocked, opted out, or the last reminder
failed), or they neither paid nor answered by H+7 after a reminder reached them; and always when they asked for help,
or when they are waiting to be enrolled in BPJS ("belum terdaftar").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import NamedTuple

from sqlmodel import Session

from scheduler.payments import member_cost
from scheduler.rules import ContributionMonth, lapse_date, months_due, open_cycles
from scheduler.scan import ReminderPolicy, cycle_key
from scheduler.tariffs import Tariffs
from storage import unreached as storage
from storage.models import FollowUpOutcome, ReminderStatus
from storage.unreached import Attempt, Candidate, Outcome

NO_ANSWER_AFTER = timedelta(days=7)  # H+7
CONTACTED_FOR = timedelta(days=7)  # "Sudah dihubungi" takes a member off the list for a week


class Reason(StrEnum):
    """Most pressing first: the list shows one reason per member."""

    HELP = "help"
    ENROLMENT = "enrolment"
    OPTED_OUT = "opted_out"
    BLOCKED = "blocked"
    NO_CHANNEL = "no_channel"
    FAILED = "failed"
    NO_ANSWER = "no_answer"


class Unreached(NamedTuple):
    """One member on the lists. A named tuple: a province lists 150,000 at once, and a frozen dataclass costs
    several times as much to make."""

    member: Candidate
    reason: Reason
    days_left: int | None  # before the membership lapses (negative: lapsed that many days ago)
    months_due: int
    amount_due: int
    last_attempt: Attempt | None


def unreached(
    *, session: Session, codes: list[str] | None, today: date, policy: ReminderPolicy, tariffs: Tariffs
) -> list[Unreached]:
    """The area's (None: everyone's) unreached members, most urgent first (fewest days before lapse), then by desa
    and name."""
    earliest, latest = open_cycles(today, due_day=policy.due_day, lapse_after=policy.lapse_after)
    known = storage.facts(
        session=session,
        codes=codes,
        covered_from=earliest.plus(-1).last_day,
        covered_to=latest.plus(-1).last_day,
        first_cycle=cycle_key(earliest),
        since=datetime.combine(earliest.plus(-1).first_day, time(0), tzinfo=UTC),
    )
    cycles: dict[date | None, _Cycle] = {}  # a few distinct months for a province: decided once each
    costs: dict[tuple[str, str, int, bool, ContributionMonth, int], int] = {}
    found = []
    for member in known.candidates:
        cycle = cycles.get(member.covered_until)
        if cycle is None:
            cycle = cycles[member.covered_until] = _Cycle.of(member.covered_until, earliest, latest, today, policy)
        reason = _reason(member, cycle, today)
        if reason is None or (member.followed_up and _handled(known.follow_ups[member.id], cycle.key, today)):
            continue
        amount = 0
        if cycle.first_unpaid is not None and cycle.months:
            key = (member.occupation, member.payer, member.declared_income, member.with_jht, cycle.first_unpaid,
                   cycle.months)  # fmt: skip
            if (amount := costs.get(key, -1)) < 0:
                amount = costs[key] = member_cost(tariffs, member, cycle.first_unpaid, cycle.months)
        found.append(Unreached(member, reason, cycle.days_left, cycle.months, amount, member.attempt))
    found.sort(key=lambda u: (u.days_left is None, u.days_left or 0, u.member.desa_code, u.member.full_name))
    return found


@dataclass(frozen=True, slots=True)
class _Cycle:
    """What a covered-until date means today: the first unpaid month and, when its cycle is open, the deadline."""

    first_unpaid: ContributionMonth | None
    key: int | None  # the first unpaid month as YYYYMM
    is_open: bool
    chase_from: date | None  # H+7: from then on a delivered reminder without an answer counts as unanswered
    days_left: int | None
    months: int

    @classmethod
    def of(
        cls,
        covered_until: date | None,
        earliest: ContributionMonth,
        latest: ContributionMonth,
        today: date,
        policy: ReminderPolicy,
    ) -> _Cycle:
        if covered_until is None:
            return cls(None, None, False, None, None, 0)
        first = ContributionMonth.of(covered_until).plus(1)
        if not earliest <= first <= latest:
            return cls(first, cycle_key(first), False, None, None, 0)
        return cls(
            first,
            cycle_key(first),
            True,
            first.due_date(policy.due_day) + NO_ANSWER_AFTER,
            (lapse_date(first, policy.due_day, policy.lapse_after) - today).days,
            months_due(first, today, policy.due_day),
        )


def _reason(member: Candidate, cycle: _Cycle, today: date) -> Reason | None:
    if member.asked_help:
        return Reason.HELP
    if member.needs_enrolment and member.covered_until is None:
        return Reason.ENROLMENT
    if not cycle.is_open or cycle.chase_from is None:
        return None
    if member.opted_out:
        return Reason.OPTED_OUT
    if member.active == 0:
        return Reason.BLOCKED if member.unreachable else Reason.NO_CHANNEL
    if member.attempt_cycle != cycle.key:
        return None  # not reminded yet this cycle: nothing to chase
    if member.attempt_status == ReminderStatus.FAILED:
        return Reason.FAILED
    sent_at = member.attempt_sent_at
    if sent_at is None or today < cycle.chase_from:
        return None
    answered = member.last_inbound_at is not None and member.last_inbound_at > sent_at
    return None if answered else Reason.NO_ANSWER


def _handled(follow_ups: list[Outcome], cycle: int | None, today: date) -> bool:
    """An officer already dealt with this: any outcome for the current cycle; "contacted" only for a week."""
    for follow_up in follow_ups:
        if follow_up.outcome == FollowUpOutcome.CONTACTED:
            if follow_up.at.date() >= today - CONTACTED_FOR:
                return True
        elif follow_up.cycle == cycle:
            return True
    return False
