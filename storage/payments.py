"""Recording a payment: coverage moves forward and the paid cycles' unsent reminders are cancelled at once.

A payment told to the bot (by the member, their sponsor, an officer or an admin) is a report, not the branch's data:
it moves `reported_until` and, provisionally, `covered_until`, and never touches `branch_until`. The next import
confirms it or marks the contradiction (storage.imports)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from domain.policy import cycle_key
from domain.rules import ContributionMonth
from domain.tariffs import Tariffs, member_cost
from domain.vocabulary import PaymentSource
from storage import outbox
from storage.models import Member, Payment


def record_payment(
    *,
    session: Session,
    tariffs: Tariffs,
    member: Member,
    first: ContributionMonth,
    months: int,
    source: PaymentSource,
    now: datetime,
) -> Payment:
    """Record `months` months paid from `first`. A self-report is provisional (unverified) until the branch's data
    confirms it, but it already stops the reminders: nobody should be chased for a payment they say they made.
    Coverage only moves forward, so a late report of a month the branch has already seen lowers nothing."""
    assert member.id is not None
    paid_through = first.plus(months - 1).last_day
    if member.reported_until is None or paid_through > member.reported_until:
        member.reported_until = paid_through
    if member.covered_until is None or paid_through > member.covered_until:
        member.covered_until = paid_through
    member.updated_at = now
    session.add(member)
    payment = Payment(
        member_id=member.id,
        first_cycle=cycle_key(first),
        months=months,
        amount=member_cost(tariffs, member, first, months),
        source=source,
        verified=source is not PaymentSource.SELF_REPORT,
        reported_at=now,
    )
    session.add(payment)
    outbox.cancel_pending(
        session=session, member_id=member.id, before_cycle=cycle_key(first.plus(months)), reason="paid"
    )
    return payment
