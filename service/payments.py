"""Payments told to the bot: a member's (or their sponsor's) own report, and one an admin checked against the
branch's records."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.dialogs.core import RecordPayment, RecordVerifiedPayment
from domain.policy import cycle_key, month_of
from domain.regions import inside
from domain.rules import ContributionMonth
from domain.vocabulary import PaymentSource
from service.members import denied
from storage.models import Member
from storage.payments import record_payment

if TYPE_CHECKING:
    from service.effect_context import EffectContext, Handled


def record(ctx: EffectContext, effect: RecordPayment) -> Handled:
    """A self-report, from the member's own chat or their sponsor's: provisional until the branch's data confirms it."""
    member_id, cycle, months = effect.member_id, effect.cycle, effect.months
    if member_id not in ctx.readers.chat.answerable():
        return denied(member_id)
    row = ctx.session.get(Member, member_id)
    assert row is not None
    record_payment(
        session=ctx.session,
        tariffs=ctx.tariffs,
        member=row,
        first=month_of(cycle),
        months=months,
        source=PaymentSource.SELF_REPORT,
        now=ctx.now,
    )
    return ("payment.self_report", member_id, f"{cycle}+{months}"), []


def record_verified(ctx: EffectContext, effect: RecordVerifiedPayment) -> Handled:
    """The months after the member's coverage (this month's first, if none), for a member inside the staff area."""
    member_id, months = effect.member_id, effect.months
    scope = ctx.readers.staff.scope()
    member = ctx.session.get(Member, member_id)
    if member is None or not (scope is None or inside(member.desa_code, scope)):
        return ("payment.denied", member_id, ""), []
    after_coverage = ContributionMonth.of(member.covered_until).plus(1) if member.covered_until else None
    first = after_coverage or ContributionMonth(ctx.today.year, ctx.today.month)
    payment = record_payment(
        session=ctx.session,
        tariffs=ctx.tariffs,
        member=member,
        first=first,
        months=months,
        source=PaymentSource.ADMIN,
        now=ctx.now,
    )
    payment.verified = True
    ctx.session.add(payment)
    return ("payment.verified", member_id, f"{cycle_key(first)}+{months}"), []
