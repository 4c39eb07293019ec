"""What `sipakainge why` reads about one member: their chats, reminders with their last attempt, payments."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, or_, select

from storage.models import Address, DeliveryAttempt, Member, MemberAddress, Payment, Reminder, Sponsor


def members_matching(session: Session, *, nik_hash: str | None, phone: str | None, kpj: str | None) -> list[Member]:
    """Members with this NIK (by its lookup hash), this phone (E.164) or this KPJ; any given one matches."""
    conditions = []
    if nik_hash:
        conditions.append(col(Member.nik_hash) == nik_hash)
    if phone:
        conditions.append(col(Member.phone) == phone)
    if kpj:
        conditions.append(col(Member.kpj) == kpj)
    if not conditions:
        return []
    return list(session.exec(select(Member).where(or_(*conditions)).order_by(col(Member.id))).all())


def addresses_of(session: Session, member_id: int) -> Sequence[Address]:
    return session.exec(
        select(Address)
        .join(MemberAddress, col(MemberAddress.address_id) == col(Address.id))
        .where(col(MemberAddress.member_id) == member_id)
    ).all()


def reminders_of(session: Session, member_id: int) -> list[tuple[Reminder, DeliveryAttempt | None]]:
    """Every reminder of the member in order, with its newest delivery attempt."""
    reminders = session.exec(
        select(Reminder)
        .where(col(Reminder.member_id) == member_id)
        .order_by(col(Reminder.cycle), col(Reminder.stage_rank))
    ).all()
    return [
        (
            reminder,
            session.exec(
                select(DeliveryAttempt)
                .where(col(DeliveryAttempt.reminder_id) == reminder.id)
                .order_by(col(DeliveryAttempt.id).desc())
            ).first(),
        )
        for reminder in reminders
    ]


def payments_of(session: Session, member_id: int) -> Sequence[Payment]:
    return session.exec(select(Payment).where(col(Payment.member_id) == member_id).order_by(col(Payment.id))).all()


def sponsor_name(session: Session, sponsor_id: int | None) -> str | None:
    sponsor = session.get(Sponsor, sponsor_id) if sponsor_id is not None else None
    return sponsor.name if sponsor is not None else None
