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

from sqlmodel import Session

from scheduler.payments import member_cost
from scheduler.rules import ContributionMonth, lapse_date, months_due, open_cycles
from scheduler.scan import ReminderPolicy, cycle_key, month_of
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


@dataclass(frozen=True, slots=True)
class Unreached:
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
    found = []
    for member in known.candidates:
        first_unpaid = ContributionMonth.of(member.covered_until).plus(1) if member.covered_until else None
        in_open_cycle = first_unpaid is not None and earliest <= first_unpaid <= latest
        attempt = known.attempts.get(member.attempt_id) if member.attempt_id is not None else None
        reason = _reason(member, in_open_cycle, first_unpaid, attempt, today, policy)
        if reason is None or (member.followed_up and _handled(known.follow_ups[member.id], first_unpaid, today)):
            continue
        days_left = months = amount = None
        if first_unpaid is not None and in_open_cycle:
            days_left = (lapse_date(first_unpaid, policy.due_day, policy.lapse_after) - today).days
            months = months_due(first_unpaid, today, policy.due_day)
            amount = member_cost(tariffs, member, first_unpaid, months) if months else 0
        found.append(Unreached(member, reason, days_left, months or 0, amount or 0, attempt))
    found.sort(key=lambda u: (u.days_left is None, u.days_left or 0, u.member.desa_code, u.member.full_name))
    return found


def _reason(  # noqa: PLR0917 (private, called once)
    member: Candidate,
    in_open_cycle: bool,
    first_unpaid: ContributionMonth | None,
    attempt: Attempt | None,
    today: date,
    policy: ReminderPolicy,
) -> Reason | None:
    if member.help_requested_at is not None:
        return Reason.HELP
    if member.needs_enrolment and member.covered_until is None:
        return Reason.ENROLMENT
    if not in_open_cycle or first_unpaid is None:
        return None
    if member.opted_out:
        return Reason.OPTED_OUT
    if member.active == 0:
        return Reason.BLOCKED if member.unreachable else Reason.NO_CHANNEL
    this_cycle = attempt if attempt is not None and month_of(attempt.cycle) == first_unpaid else None
    if this_cycle is not None and this_cycle.status == ReminderStatus.FAILED:
        return Reason.FAILED
    if this_cycle is None or this_cycle.sent_at is None:
        return None  # not reminded yet this cycle: nothing to chase
    if today < first_unpaid.due_date(policy.due_day) + NO_ANSWER_AFTER:
        return None
    answered = member.last_inbound_at is not None and member.last_inbound_at > this_cycle.sent_at
    return None if answered else Reason.NO_ANSWER


def _handled(follow_ups: list[Outcome], first_unpaid: ContributionMonth | None, today: date) -> bool:
    """An officer already dealt with this: any outcome for the current cycle; "contacted" only for a week."""
    cycle = cycle_key(first_unpaid) if first_unpaid is not None else None
    for follow_up in follow_ups:
        if follow_up.outcome == FollowUpOutcome.CONTACTED:
            if follow_up.at.date() >= today - CONTACTED_FOR:
                return True
        elif follow_up.cycle == cycle:
            return True
    return False
