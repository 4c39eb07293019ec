"""Staff: officers, coordinators and admins, their invitations and areas; sponsors binding their chats; the
service-wide pause; and the audit of commands refused. Every write is checked again against the caller's role and
area (the dialog's view of them could be forged or stale)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy import Engine
from sqlmodel import Session

from bot.dialogs.core import AcceptInvitation, AddStaff, ChangeStaff, Refused, Reply, SetPaused, UnbindSponsor
from bot.texts import t
from domain.regions import inside
from domain.vocabulary import BILLED_PAYERS, PUBLIC_PAYERS, OfficerRole, Payer, SponsorKind
from service.readers import MANAGED_BY_COORDINATORS
from storage import audit as audit_log
from storage import controls, officers, sponsors
from storage.models import Officer, Sponsor

if TYPE_CHECKING:
    from service.effect_context import EffectContext, Handled


def create_officer(
    session: Session, *, name: str, phone: str | None, codes: Sequence[str], role: OfficerRole, now: datetime
) -> Officer:
    """A new officer, coordinator or admin with their area and a one-time invitation code (the chat's /petugas and
    `sipakainge officer-add` alike)."""
    return officers.create_officer(session=session, name=name, phone=phone, codes=codes, now=now, role=role)


def add_officer(
    engine: Engine, *, name: str, phone: str | None, codes: Sequence[str], role: OfficerRole, now: datetime
) -> str:
    """`create_officer` in a transaction of its own; returns the invitation code."""
    with Session(engine) as session:
        officer = create_officer(session, name=name, phone=phone, codes=codes, role=role, now=now)
        code = officer.invite_code
        session.commit()
    assert code is not None  # a new officer always has one
    return code


def add(ctx: EffectContext, effect: AddStaff) -> Handled:
    """An admin adds anyone anywhere; a coordinator only officers inside their area."""
    scope, codes = ctx.readers.staff.scope(), effect.codes
    within = bool(codes) and all(inside(c, scope or []) for c in codes)
    if not (scope is None or (effect.role in MANAGED_BY_COORDINATORS and within)):
        return _admin_denied(effect)
    role = OfficerRole(effect.role)
    added = create_officer(ctx.session, name=effect.name, phone=None, codes=codes, role=role, now=ctx.now)
    return ("staff.add", added.id or 0, effect.role), [
        invitation(added, ctx.config.bot_username, ctx.config.invite_days)
    ]


def change(ctx: EffectContext, effect: ChangeStaff) -> Handled:
    """`areas`, `role` (an admin's alone), `deactivate`, `invite` or `revoke`, for someone this chat may manage."""
    officer_id, action = effect.officer_id, effect.action
    if officer_id not in {line.id for line in ctx.readers.staff.manageable()}:
        return _admin_denied(effect)
    row = ctx.session.get(Officer, officer_id)
    assert row is not None
    if ctx.readers.staff.scope() is not None and row.role not in MANAGED_BY_COORDINATORS:  # checked again
        return _admin_denied(effect)
    said = _change(ctx, row, effect)
    if said is None:
        return ("staff.denied", officer_id, action), []
    ctx.session.add(row)
    return (f"staff.{action}", officer_id, effect.role or ",".join(effect.codes)), said


def _change(ctx: EffectContext, row: Officer, effect: ChangeStaff) -> list[Reply] | None:
    """Make the change; what to say about it, or None when this chat may not."""
    scope = ctx.readers.staff.scope()
    if effect.action == "areas" and (scope is None or all(inside(c, scope) for c in effect.codes)):
        officers.set_areas(session=ctx.session, officer_id=effect.officer_id, codes=effect.codes)
    elif effect.action == "role" and scope is None:
        officers.set_role(row, OfficerRole(effect.role))
    elif effect.action == "deactivate":
        officers.deactivate(row)
    elif effect.action == "invite":
        officers.new_invitation(row, ctx.now)
        return [invitation(row, ctx.config.bot_username, ctx.config.invite_days)]
    elif effect.action == "revoke":
        revoked = officers.revoke_invitation(row)
        return [Reply(t("invite.revoked" if revoked else "invite.none_pending", name=row.name))]
    else:
        return None
    return []


def set_paused(ctx: EffectContext, effect: SetPaused) -> Handled:
    if ctx.readers.staff.scope() is not None:
        return _admin_denied(effect)
    controls.set_paused(session=ctx.session, value=effect.paused, now=ctx.now)
    return ("service.pause" if effect.paused else "service.resume", 0, ""), []


def refused(ctx: EffectContext, effect: Refused) -> Handled:
    return ("admin.refused", 0, effect.command[:40]), []


def accept_invitation(ctx: EffectContext, effect: AcceptInvitation) -> Handled:
    """Bind this chat to the officer (`of_…`) or sponsor the code was made for; an unknown code binds nothing."""
    since = ctx.readers.chat.invitations_since  # what the dialog was told, so both agree on an expired code
    if effect.code.startswith("of_"):
        officer = officers.bind_officer(
            session=ctx.session, code=effect.code, address_id=ctx.address_id, issued_after=since
        )
        return (("officer.bind", officer.id or 0, "") if officer is not None else None), []
    sponsor = sponsors.sponsor_by_code(session=ctx.session, code=effect.code, issued_after=since)
    if sponsor is None:
        return None, []
    # A person's new phone takes over from the old one; an office's staff chats are added side by side.
    sponsors.bind(session=ctx.session, sponsor=sponsor, address_id=ctx.address_id, now=ctx.now)
    person = sponsor.kind == SponsorKind.PERSON
    said = [Reply(t("sponsor.person") if person else t("sponsor.office", name=sponsor.name))]
    return ("sponsor.bind", sponsor.id or 0, sponsor.kind), said


def unbind_sponsor(ctx: EffectContext, effect: UnbindSponsor) -> Handled:
    sponsor = sponsors.sponsor_of_address(session=ctx.session, address_id=ctx.address_id)
    if sponsor is None:
        return None, []
    sponsors.unbind(session=ctx.session, sponsor=sponsor, address_id=ctx.address_id)
    return ("sponsor.unbind", sponsor.id or 0, ""), []


def add_office(engine: Engine, *, name: str, payer: Payer, codes: Sequence[str], now: datetime) -> str:
    """An office that pays for members from a budget (`payer`: an institution or public money), paying for that
    payer's members living in `codes`; returns its invitation code, which each of its staff may use."""
    if payer not in BILLED_PAYERS:
        raise ValueError(f"{payer} is reminded, not billed: an office pays from a budget")
    kind = SponsorKind.PUBLIC if payer in PUBLIC_PAYERS else SponsorKind.INSTITUTION
    with Session(engine) as session:
        office = sponsors.create_sponsor(session=session, name=name, now=now, kind=kind, payer=payer, codes=codes)
        code = office.invite_code
        session.commit()
    return code


def invitation_link(code: str, bot_username: str) -> str:
    """The Telegram deep link that accepts an invitation code; empty when the bot's username is not configured."""
    return f"https://t.me/{bot_username}?start={code}" if bot_username else ""


def invitation(officer: Officer, bot_username: str, days: int) -> Reply:
    """The reply that hands over an invitation code (and the deep link, when the bot's name is known)."""
    code = officer.invite_code or ""
    link = invitation_link(code, bot_username)
    return Reply(t("admin.invitation", name=officer.name, code=code, link=link, days=days).strip())


class Invitation(NamedTuple):
    """Whom a code invites (`sipakainge invitation`): an officer's or a sponsor's, their name, and the code now."""

    kind: str  # "officer" | "sponsor"
    name: str
    code: str


def renew_invitation(engine: Engine, *, code: str, now: datetime) -> Invitation | None:
    """A fresh code, valid from `now`, in place of `code` (expired or not), which stops working; None when `code`
    is no pending officer's or sponsor's code. Audited."""
    with Session(engine) as session:
        found = _invited(session, code)
        if found is None:
            return None
        fresh = (
            officers.new_invitation(found, now) if isinstance(found, Officer) else sponsors.new_invitation(found, now)
        )
        renewed = _record(session, found, "invite", now)
        session.commit()
    return renewed._replace(code=fresh)


def revoke_invitation(engine: Engine, *, code: str, now: datetime) -> Invitation | None:
    """`code` stops working at once (chats already bound stay bound); None when it is no pending code. Audited."""
    with Session(engine) as session:
        found = _invited(session, code)
        if found is None:
            return None
        if isinstance(found, Officer):
            officers.revoke_invitation(found)
        else:
            sponsors.revoke_invitation(found)
        revoked = _record(session, found, "revoke", now)
        session.commit()
    return revoked


def _invited(session: Session, code: str) -> Officer | Sponsor | None:
    if code.startswith("of_"):
        return officers.pending_invitation(session=session, code=code)
    if code.startswith("sp_"):
        return sponsors.sponsor_by_code(session=session, code=code, issued_after=None)
    return None


def _record(session: Session, found: Officer | Sponsor, action: str, now: datetime) -> Invitation:
    """Audit a change of invitation made from the command line (the record's id, never the code)."""
    kind, prefix = ("officer", "staff") if isinstance(found, Officer) else ("sponsor", "sponsor")
    audit_log.audit(session=session, actor="cli", action=f"{prefix}.{action}", subject=f"{prefix}:{found.id}", now=now)
    session.add(found)
    return Invitation(kind, found.name, found.invite_code or "")


def _admin_denied(effect: AddStaff | ChangeStaff | SetPaused) -> Handled:
    return ("admin.denied", 0, type(effect).__name__), []
