"""`sipakainge why <NIK|KPJ|phone>`: one member's reminder timeline, for an admin answering "why (not) me?"."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine
from sqlmodel import Session, col, or_, select

from bot.texts import long_date, month_year, pay_by, short_date, t
from domain.identity import Nik, mask_nik, parse_kpj, parse_nik, parse_phone
from domain.policy import ReminderPolicy, month_of
from domain.regions import RegionIndex
from domain.rules import ContributionMonth, ordered_stages
from domain.vocabulary import BROADCAST_STAGE
from storage.crypto import Cipher
from storage.models import Address, DeliveryAttempt, Member, MemberAddress, Payment, Reminder


def find_members(session: Session, cipher: Cipher, regions: RegionIndex, query: str, today: date) -> list[Member]:
    """By NIK (lookup hash), by phone (E.164), or by KPJ."""
    nik = parse_nik(query, regions=regions, today=today)
    phone = parse_phone(query)
    kpj = parse_kpj(query)
    conditions = []
    if isinstance(nik, Nik):
        conditions.append(col(Member.nik_hash) == cipher.lookup_hash(nik.value))
    if phone.startswith("+"):
        conditions.append(col(Member.phone) == phone)
    if kpj:
        conditions.append(col(Member.kpj) == kpj)
    if not conditions:
        return []
    return list(session.exec(select(Member).where(or_(*conditions)).order_by(col(Member.id))).all())


def timeline(session: Session, cipher: Cipher, member: Member, policy: ReminderPolicy, today: date) -> list[str]:
    """Who, coverage, every reminder with its fate, payments, and the next planned reminder."""
    assert member.id is not None
    nik = mask_nik(cipher.decrypt(member.nik_encrypted))
    until = short_date(member.covered_until) if member.covered_until else "-"
    opted_out = t("why.yes") if member.opted_out else t("why.no")
    lines = [
        t("why.member", name=member.full_name, nik=nik, id=member.id),
        t("why.covered", until=until, opted_out=opted_out),
    ]
    addresses = session.exec(
        select(Address)
        .join(MemberAddress, col(MemberAddress.address_id) == col(Address.id))
        .where(col(MemberAddress.member_id) == member.id)
    ).all()
    lines += [t("why.address", channel=a.channel, status=a.status) for a in addresses] or [t("why.no_address")]
    reminders = session.exec(
        select(Reminder)
        .where(col(Reminder.member_id) == member.id)
        .order_by(col(Reminder.cycle), col(Reminder.stage_rank))
    ).all()
    for reminder in reminders:
        broadcast = reminder.stage == BROADCAST_STAGE  # its cycle is the broadcast's number, not a month
        month = month_of(reminder.cycle) if not broadcast else None
        last = session.exec(
            select(DeliveryAttempt)
            .where(col(DeliveryAttempt.reminder_id) == reminder.id)
            .order_by(col(DeliveryAttempt.id).desc())
        ).first()
        lines.append(
            t(
                "why.reminder",
                month=month_year(month.year, month.month) if month else t("why.broadcast", id=reminder.cycle),
                stage=reminder.stage,
                status=reminder.status,
                reason=reminder.reason or "-",
                attempts=reminder.attempts,
                error=last.error if last and last.error else "-",
            )
        )
    for payment in session.exec(select(Payment).where(col(Payment.member_id) == member.id)).all():
        first = month_of(payment.first_cycle)
        paid_from = month_year(first.year, first.month)
        verified = t("why.yes") if payment.verified else t("why.no")
        lines.append(t("why.payment", months=payment.months, month=paid_from, source=payment.source, verified=verified))
    lines.append(_next_deadline(member, policy, today))
    lines.append(_next_planned(member, policy, today))
    return lines


def _next_deadline(member: Member, policy: ReminderPolicy, today: date) -> str:
    """The deadline that still matters, in the reminders' words; since when, once lapsed."""
    if member.covered_until is None:
        return t("why.deadline_none")
    first = ContributionMonth.of(member.covered_until).plus(1)
    lapses = policy.lapse_date(first)
    if today >= lapses:
        return t("why.lapsed", since=long_date(lapses))
    return t("why.deadline", deadline=pay_by(policy.next_deadline(first, today)))


def _next_planned(member: Member, policy: ReminderPolicy, today: date) -> str:
    if member.opted_out or member.covered_until is None:
        return t("why.next_none")
    month = ContributionMonth.of(member.covered_until).plus(1)
    for day, stage in ordered_stages(
        policy.stages, month, due_day=policy.due_day, lapse_after=policy.lapse_after, workdays=policy.workdays
    ):
        if day > today:
            return t("why.next", stage=stage.code, day=long_date(day), month=month_year(month.year, month.month))
    return t("why.next_none")  # the cycle has run its course: the member has lapsed


def timelines(
    engine: Engine, cipher: Cipher, regions: RegionIndex, policy: ReminderPolicy, *, query: str, today: date
) -> list[list[str]]:
    """`sipakainge why`: the timeline of each member the query finds (none: empty)."""
    with Session(engine) as session:
        found = find_members(session, cipher, regions, query, today)
        return [timeline(session, cipher, member, policy, today) for member in found]
