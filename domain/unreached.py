"""Who the bot could not reach — the one definition the officers' list, the digest and the escalation all use.

A member is on an officer's list when their contribution cycle is open (due within 7 days, overdue, or lapsed within
the last 30 days) and the bot has no working way to them (never linked, blocked, opted out, or the last reminder
failed), or they neither paid nor answered by H+7 after a reminder reached them; and always when they asked for help,
when they are waiting to be enrolled in BPJS ("belum terdaftar"), when they are BPJS members whose last paid month
is unknown ("Tidak ingat", or a branch's row without a month): no reminder can be timed for them until the branch's
data or the officer gives that month; or when the branch's data contradicts their own payment report.

Members an office pays for from a budget (`BILLED_PAYERS`) are never chased for payment: their office gets the
monthly statement (domain/statements.py). They are listed only for help, enrolment, an unknown month or a report
that does not match, without an amount to collect.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import NamedTuple

from domain.policy import ReminderPolicy, cycle_key
from domain.rules import ContributionMonth, months_due, stage_of
from domain.vocabulary import BILLED_PAYERS, FollowUpOutcome, ReminderStatus

# From this stage on, a member a reminder reached who neither paid nor answered is on the list ("sejak 7 hari lewat
# batas bayar": the reason's text names it from here).
NO_ANSWER_STAGE = stage_of("H+7")
NO_ANSWER_AFTER = timedelta(days=NO_ANSWER_STAGE.offset)
CONTACTED_FOR = timedelta(days=7)  # "Sudah dihubungi" takes a member off the list for a week


class Reason(StrEnum):
    """Most pressing first: the list shows one reason per member."""

    HELP = "help"
    # The branch's data names another person or number than the chat that registered them, or another chat claims
    # their NIK: the chats see nothing until the officer says whose they are.
    REGISTRATION_MISMATCH = "registration_mismatch"
    ENROLMENT = "enrolment"
    UNKNOWN_MONTH = "unknown_month"
    REPORT_MISMATCH = "report_mismatch"  # the branch's month contradicts the member's own "sudah bayar"
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


@dataclass(frozen=True, slots=True)
class Cycle:
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
    ) -> Cycle:
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
            (policy.lapse_date(first) - today).days,
            months_due(first, today, policy.due_day),
        )


def reason_for(member: Candidate, cycle: Cycle, today: date) -> Reason | None:
    if member.asked_help:
        return Reason.HELP
    if member.registration_mismatch and member.waiting_chats:  # no chat waits any more: nothing to settle
        return Reason.REGISTRATION_MISMATCH
    if member.covered_until is None:
        # The facts bring a member without a covered-until date only when they asked for help, wait to be enrolled,
        # or are BPJS members whose last paid month is unknown.
        return Reason.ENROLMENT if member.needs_enrolment else Reason.UNKNOWN_MONTH
    if member.report_mismatch:
        return Reason.REPORT_MISMATCH
    if member.billed or not cycle.is_open or cycle.chase_from is None:
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


def handled(follow_ups: list[RecordedFollowUp], cycle: int | None, today: date) -> bool:
    """An officer already dealt with this: any outcome for the current cycle; "contacted" only for a week."""
    for follow_up in follow_ups:
        if follow_up.outcome == FollowUpOutcome.CONTACTED:
            if follow_up.at.date() >= today - CONTACTED_FOR:
                return True
        elif follow_up.cycle == cycle:
            return True
    return False


class Attempt(NamedTuple):
    """A reminder that was actually tried."""

    cycle: int
    stage: str
    status: str
    sent_at: datetime | None


class Candidate(NamedTuple):
    """What the definition and the list need of a member (the columns `member_cost` reads included). Flat, one row
    of the query as it comes: a province's 200,000 are made in one pass."""

    id: int
    full_name: str
    desa_code: str
    phone: str | None
    nik_encrypted: str
    covered_until: date | None
    needs_enrolment: bool
    asked_help: bool
    opted_out: bool
    occupation: str
    payer: str
    declared_income: int
    with_jht: bool
    report_mismatch: bool  # the branch's data contradicted their own report (set by the import)
    registration_mismatch: bool  # chats wait for the officer's word on whose they are
    # Their chats: how many work, how many do not, and when they last wrote.
    active: int
    unreachable: int
    last_inbound_at: datetime | None
    # The newest tried reminder since the oldest open cycle (all None: none).
    attempt_cycle: int | None
    attempt_stage: str | None
    attempt_status: str | None
    attempt_sent_at: datetime | None
    followed_up: bool  # an officer recorded an outcome since `since`
    listed_since: date | None  # on the officers' lists without a break since (None: not on the listing clock)
    # Without a phone number, what still links to them: a WhatsApp chat's number (E.164), how many Telegram chats.
    whatsapp_chat: str | None = None
    telegram_chats: int = 0
    waiting_chats: bool = False  # chats registered or claimed them that may not see them yet

    @property
    def billed(self) -> bool:
        """Paid by an office from a budget: never asked to pay, never chased for payment."""
        return self.payer in BILLED_PAYERS

    @property
    def attempt(self) -> Attempt | None:
        if self.attempt_cycle is None or self.attempt_stage is None or self.attempt_status is None:
            return None
        return Attempt(self.attempt_cycle, self.attempt_stage, self.attempt_status, self.attempt_sent_at)


class RecordedFollowUp(NamedTuple):
    """An officer's recorded outcome."""

    outcome: str
    cycle: int | None
    at: datetime
