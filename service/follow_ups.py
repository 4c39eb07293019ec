"""An officer's outcome for a member of their list: what happened when they went to see them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.dialogs.core import RecordFollowUp
from domain.policy import cycle_key
from domain.rules import ContributionMonth
from domain.vocabulary import CHAT_OUTCOMES, FollowUpOutcome, PaymentSource
from storage import members as store
from storage import officers, outbox
from storage.models import FollowUp, Member
from storage.payments import record_payment

if TYPE_CHECKING:
    from service.effect_context import EffectContext, Handled


def record(ctx: EffectContext, effect: RecordFollowUp) -> Handled:
    """Recorded only for a member inside this chat's officer's area (anything else is not audited either)."""
    officer = ctx.readers.staff.officer()
    member = ctx.session.get(Member, effect.member_id)
    if officer is None or officer.id is None or member is None or member.id is None:
        return None, []
    if not officers.covers(session=ctx.session, officer_id=officer.id, member=member):
        return None, []
    _record(ctx, effect, officer.id, member, member.id)
    return ("officer.outcome", effect.member_id, effect.outcome), []


def _record(ctx: EffectContext, effect: RecordFollowUp, officer_id: int, member: Member, member_id: int) -> None:
    """The follow-up itself, and what its outcome means: paid months, no more reminders, or a new number."""
    session, now = ctx.session, ctx.now
    first_unpaid = ContributionMonth.of(member.covered_until).plus(1) if member.covered_until else None
    cycle = cycle_key(first_unpaid) if first_unpaid else None
    session.add(FollowUp(member_id=member_id, officer_id=officer_id, outcome=effect.outcome, at=now, cycle=cycle))
    member.help_requested_at, member.updated_at = None, now
    if effect.outcome == FollowUpOutcome.PAID and effect.months and first_unpaid is not None:
        record_payment(
            session=session,
            tariffs=ctx.tariffs,
            member=member,
            first=first_unpaid,
            months=effect.months,
            source=PaymentSource.OFFICER,
            now=now,
        )
    elif effect.outcome in {FollowUpOutcome.MOVED_OR_DIED, FollowUpOutcome.REFUSED}:
        member.opted_out = True
        outbox.cancel_pending(session=session, member_id=member_id, before_cycle=999999, reason=effect.outcome)
    elif effect.outcome == FollowUpOutcome.WRONG_NUMBER and effect.phone:
        old_phone, member.phone = member.phone, effect.phone
        session.add(member)
        store.phone_changed(session=session, member=member, old_phone=old_phone, now=now)
    elif effect.outcome in CHAT_OUTCOMES:
        confirmed = effect.outcome == FollowUpOutcome.CHATS_CONFIRMED
        store.settle_waiting(session=session, member=member, confirmed=confirmed, now=now)
    session.add(member)
