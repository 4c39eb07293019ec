"""Data functions for sponsors: a person who pays (one chat), and offices that pay from a budget (several staff chats,
a payer and an area). The caller owns the transaction."""

from __future__ import annotations

import secrets
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import ColumnElement, delete, false, or_
from sqlmodel import Session, col, select

from domain.delivery import Target
from domain.vocabulary import BILLED_PAYERS, AddressStatus, BpjsStatus, SponsorKind
from storage.db import upsert_insert
from storage.models import Address, Member, Sponsor, SponsorChat


def create_sponsor(
    *,
    session: Session,
    name: str,
    now: datetime,
    kind: SponsorKind = SponsorKind.PERSON,
    payer: str | None = None,
    codes: Sequence[str] = (),
) -> Sponsor:
    """A sponsor with a fresh invitation code, to be sent as the deep link t.me/<bot>?start=<code>. An office's code
    stays valid: each of its staff binds their own chat with it."""
    sponsor = Sponsor(
        name=name,
        kind=kind,
        payer=payer,
        area=",".join(codes),
        invite_code=f"sp_{secrets.token_urlsafe(12)}",
        invite_issued_at=now,
        created_at=now,
    )
    session.add(sponsor)
    session.flush()
    return sponsor


def sponsor_by_code(*, session: Session, code: str, issued_after: datetime | None) -> Sponsor | None:
    """The sponsor a code invites, if it was issued after `issued_after` (older or revoked codes do not work; None:
    any, to revoke or renew it)."""
    query = select(Sponsor).where(Sponsor.invite_code == code)
    if issued_after is not None:
        query = query.where(col(Sponsor.invite_issued_at) > issued_after)
    return session.exec(query).first()


def new_invitation(sponsor: Sponsor, now: datetime) -> str:
    """A fresh code in place of the old one (which stops working), valid from `now`; chats bound stay bound."""
    sponsor.invite_code, sponsor.invite_issued_at = f"sp_{secrets.token_urlsafe(12)}", now
    return sponsor.invite_code


def revoke_invitation(sponsor: Sponsor) -> bool:
    """The sponsor's code no longer binds a chat (chats already bound stay); False when it was revoked already."""
    pending = sponsor.invite_issued_at is not None
    sponsor.invite_issued_at = None
    return pending


def bind(*, session: Session, sponsor: Sponsor, address_id: int, now: datetime) -> None:
    """Bind a chat: a person's replaces their old one (a new phone); an office's is one more of its staff chats."""
    if sponsor.kind == SponsorKind.PERSON:
        sponsor.address_id = address_id
        session.add(sponsor)
        return
    chat = {"sponsor_id": sponsor.id, "address_id": address_id, "created_at": now}
    session.execute(upsert_insert(session)(SponsorChat).values(chat).on_conflict_do_nothing())


def unbind(*, session: Session, sponsor: Sponsor, address_id: int) -> None:
    """This chat no longer receives the sponsor's reminders or the office's statements."""
    if sponsor.address_id == address_id:
        sponsor.address_id = None
        session.add(sponsor)
    session.execute(
        delete(SponsorChat).where(col(SponsorChat.sponsor_id) == sponsor.id, col(SponsorChat.address_id) == address_id)
    )


def sponsor_of_address(*, session: Session, address_id: int) -> Sponsor | None:
    """The person this chat is, or the office it is a staff chat of (a person's chat is `Sponsor.address_id`)."""
    staff = select(SponsorChat.sponsor_id).where(SponsorChat.address_id == address_id)
    office = (col(Sponsor.kind) != SponsorKind.PERSON) & col(Sponsor.id).in_(staff)
    query = select(Sponsor).where(or_(col(Sponsor.address_id) == address_id, office))
    return session.exec(query.order_by(col(Sponsor.id))).first()


def sponsored_member_ids(*, session: Session, address_id: int) -> set[int]:
    """Members whose contributions are paid by the sponsor bound to this chat."""
    rows = session.exec(
        select(Member.id)
        .join(Sponsor, col(Sponsor.id) == col(Member.sponsor_id))
        .where(Sponsor.address_id == address_id)
    ).all()
    return {member_id for member_id in rows if member_id is not None}


class Office(NamedTuple):
    """An office that pays for members, with the staff chats its statements go to (oldest first)."""

    id: int
    name: str
    payer: str | None
    codes: list[str]
    chats: list[Target]


def offices(*, session: Session, channels: Collection[str]) -> list[Office]:
    """Every office with at least one working staff chat on these channels, in id order: two processes claiming
    statements side by side then take the offices' rows in the same order, so neither waits on the other in a cycle."""
    rows = session.exec(
        select(Sponsor, Address)
        .join(SponsorChat, col(SponsorChat.sponsor_id) == col(Sponsor.id))
        .join(Address, col(Address.id) == col(SponsorChat.address_id))
        .where(
            col(Sponsor.kind) != SponsorKind.PERSON,
            col(Address.status) == AddressStatus.ACTIVE,
            col(Address.channel).in_(list(channels)),
        )
        .order_by(col(Sponsor.id), col(SponsorChat.created_at), col(Address.id))
    ).all()
    found: dict[int, Office] = {}
    for sponsor, address in rows:
        assert sponsor.id is not None
        assert address.id is not None
        office = found.get(sponsor.id)
        if office is None:
            office = found[sponsor.id] = Office(sponsor.id, sponsor.name, sponsor.payer, area_codes(sponsor), [])
        target = Target(address.id, address.channel, address.external_id, None, last_inbound_at=address.last_inbound_at)
        office.chats.append(target)
    return list(found.values())


def area_codes(sponsor: Sponsor) -> list[str]:
    return [code for code in sponsor.area.split(",") if code]


def office_members(*, session: Session, office_id: int, payer: str | None, codes: Sequence[str]) -> list[Member]:
    """The BPJS members an office pays for: those linked to it, and those of its payer in its area linked to no one
    else. Only billed payers: a member who pays for themselves is reminded, never billed to an office as well."""
    by_area = (
        (col(Member.sponsor_id).is_(None)) & (col(Member.payer) == payer) & _in_area(codes)
        if payer and codes
        else false()
    )
    query = select(Member).where(
        col(Member.bpjs_status) == BpjsStatus.MEMBER,
        col(Member.payer).in_(list(BILLED_PAYERS)),
        or_(col(Member.sponsor_id) == office_id, by_area),
    )
    return list(session.exec(query.order_by(col(Member.id))).all())


def _in_area(codes: Sequence[str]) -> ColumnElement[bool]:
    """Members living in the area: a desa code names one village, a kecamatan code its villages, a kabupaten (or
    province) code its kecamatan."""
    wider = [col(Member.kecamatan_code).startswith(f"{code}.") for code in codes if code.count(".") < 2]
    return or_(col(Member.desa_code).in_(list(codes)), col(Member.kecamatan_code).in_(list(codes)), *wider)
