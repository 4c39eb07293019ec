"""The members' own effects: registering, correcting, deleting, consent, opting out, asking for help, and the
audit of who saw whose data."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.dialogs.core import (
    AskOfficerAboutNik,
    ClaimNik,
    DeleteMember,
    NikTyped,
    ProvePhone,
    RecordConsent,
    RequestHelp,
    SaveMember,
    SetOptOut,
    SettleChats,
    UpdateMember,
    ViewedMembers,
)
from domain.vocabulary import Channel, ConsentDecision
from storage import audit as audit_log
from storage import members as store
from storage import outbox
from storage.models import Address, Member

if TYPE_CHECKING:
    from service.effect_context import EffectContext, Handled


def record_consent(ctx: EffectContext, effect: RecordConsent) -> Handled:
    decision = ConsentDecision.GRANTED if effect.granted else ConsentDecision.REFUSED
    version = ctx.config.consent_version
    store.record_consent(
        session=ctx.session, address_id=ctx.address_id, decision=decision, version=version, now=ctx.now
    )
    return None, []


def save(ctx: EffectContext, effect: SaveMember) -> Handled:
    # Registered door to door by an officer: reachable at their own number, never at the officer's chat.
    behalf = effect.on_behalf and ctx.readers.staff.officer() is not None
    session, fields = ctx.session, effect.fields
    member = store.create_member(
        session=session,
        cipher=ctx.cipher,
        nik=str(fields["nik"]),
        fields=fields,
        address_id=None if behalf else ctx.address_id,
        now=ctx.now,
    )
    assert member.id is not None
    store.link_consent(session=session, address_id=ctx.address_id, member_id=member.id)
    if member.phone:
        store.link_phone_address(session=session, member_id=member.id, phone=member.phone, now=ctx.now)
    return ("member.register_by_officer" if behalf else "member.register", member.id, ""), []


def update(ctx: EffectContext, effect: UpdateMember) -> Handled:
    if effect.member_id not in ctx.readers.chat.owned():
        return denied(effect.member_id)
    row = ctx.session.get(Member, effect.member_id)
    assert row is not None
    old_phone = row.phone
    changed = store.update_member(session=ctx.session, cipher=ctx.cipher, member=row, fields=effect.fields, now=ctx.now)
    if "phone" in changed:
        store.phone_changed(session=ctx.session, member=row, old_phone=old_phone, now=ctx.now)
    return ("member.update", effect.member_id, ",".join(changed)), []


def prove_phone(ctx: EffectContext, effect: ProvePhone) -> Handled:
    address = ctx.session.get(Address, ctx.address_id)
    if address is None or address.channel != Channel.TELEGRAM:  # only Telegram says a contact is the sender's own
        return None, []
    store.prove_by_contact(session=ctx.session, address=address, phone=effect.phone)
    return ("chat.proved_contact", ctx.address_id, ""), []


def settle_chats(ctx: EffectContext, effect: SettleChats) -> Handled:
    """Only an admin (the dialog offers it to no one else; checked again here)."""
    member = ctx.session.get(Member, effect.member_id)
    if not ctx.readers.staff.is_admin() or member is None:
        return ("admin.denied", effect.member_id, "sambung"), []
    store.settle_waiting(session=ctx.session, member=member, confirmed=effect.confirmed, now=ctx.now)
    return ("member.chats_confirmed" if effect.confirmed else "member.chats_refused", effect.member_id, ""), []


def nik_typed(ctx: EffectContext, effect: NikTyped) -> Handled:
    store.record_nik_attempt(session=ctx.session, address_id=ctx.address_id, now=ctx.now)
    return None, []


def claim(ctx: EffectContext, effect: ClaimNik) -> Handled:
    member, address = _taken(ctx, effect.nik), ctx.session.get(Address, ctx.address_id)
    if member is None or member.id is None or address is None:
        return ("chat.claim_refused", ctx.address_id, ""), []
    if not store.claim(session=ctx.session, member=member, address=address, now=ctx.now):
        return ("chat.claim_refused", ctx.address_id, ""), []
    return ("member.claimed", member.id, ""), []


def ask_officer(ctx: EffectContext, effect: AskOfficerAboutNik) -> Handled:
    member = _taken(ctx, effect.nik)
    if member is None or member.id is None:
        return None, []
    store.wait_for_officer(session=ctx.session, member=member, address_id=ctx.address_id, now=ctx.now)
    return ("member.claim_to_officer", member.id, ""), []


def _taken(ctx: EffectContext, nik: str) -> Member | None:
    return store.member_by_nik(session=ctx.session, nik_hash=ctx.cipher.lookup_hash(nik))


def delete(ctx: EffectContext, effect: DeleteMember) -> Handled:
    if effect.member_id not in ctx.readers.chat.owned():
        return denied(effect.member_id)
    store.delete_member(session=ctx.session, member_id=effect.member_id)
    return ("member.delete", effect.member_id, ""), []


def request_help(ctx: EffectContext, effect: RequestHelp) -> Handled:
    if effect.member_id not in ctx.readers.chat.answerable():
        return denied(effect.member_id)
    row = ctx.session.get(Member, effect.member_id)
    assert row is not None
    row.help_requested_at = ctx.now
    ctx.session.add(row)
    return ("member.help_requested", effect.member_id, ""), []


def set_opt_out(ctx: EffectContext, effect: SetOptOut) -> Handled:
    """Only this chat's own members; each one audited."""
    session, opted_out = ctx.session, effect.opted_out
    for member_id in set(effect.member_ids) & ctx.readers.chat.owned():
        row = session.get(Member, member_id)
        assert row is not None
        row.opted_out, row.updated_at = opted_out, ctx.now
        session.add(row)
        if opted_out:  # processing stops at once: nothing already queued goes out
            outbox.cancel_pending(session=session, member_id=member_id, before_cycle=999999, reason="opted_out")
        action = "member.opt_out" if opted_out else "member.opt_in"
        audit_log.audit(session=session, actor=ctx.actor, action=action, subject=f"member:{member_id}", now=ctx.now)
    return None, []


def viewed(ctx: EffectContext, effect: ViewedMembers) -> Handled:
    audit_log.audit_viewed(session=ctx.session, views=[viewed_entry(effect, ctx.channel, ctx.address_id)], now=ctx.now)
    return None, []


def viewed_entry(effect: ViewedMembers, channel: str, address_id: int) -> audit_log.Viewed:
    """Who saw which members and why, as `audit_viewed` records it."""
    return audit_log.Viewed(f"{channel}:{address_id}", f"officer:{address_id}", effect.member_ids, effect.why)


def denied(member_id: int) -> Handled:
    """The dialog only offers this chat's members; anything else is tampering or a race. Refused quietly."""
    return ("member.denied", member_id, ""), []
