"""Data functions for sponsors. The caller owns the transaction."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlmodel import Session, col, select

from storage.models import Member, Sponsor


def create_sponsor(*, session: Session, name: str, now: datetime) -> Sponsor:
    """A sponsor with a fresh invitation code, to be sent as the deep link t.me/<bot>?start=<code>."""
    sponsor = Sponsor(name=name, invite_code=f"sp_{secrets.token_urlsafe(12)}", created_at=now)
    session.add(sponsor)
    session.flush()
    return sponsor


def sponsor_by_code(*, session: Session, code: str) -> Sponsor | None:
    return session.exec(select(Sponsor).where(Sponsor.invite_code == code)).first()


def sponsor_of_address(*, session: Session, address_id: int) -> Sponsor | None:
    return session.exec(select(Sponsor).where(Sponsor.address_id == address_id)).first()


def sponsored_member_ids(*, session: Session, address_id: int) -> set[int]:
    """Members whose contributions are paid by the sponsor bound to this chat."""
    rows = session.exec(
        select(Member.id)
        .join(Sponsor, col(Sponsor.id) == col(Member.sponsor_id))
        .where(Sponsor.address_id == address_id)
    ).all()
    return {member_id for member_id in rows if member_id is not None}
