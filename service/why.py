"""`sipakainge why <NIK|KPJ|phone>`: one member's reminder timeline, for an admin answering "why (not) me?"."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Engine
from sqlmodel import Session

from bot.texts import long_date, month_year, pay_by, programs, rupiah, short_date, t
from bot.texts.words import (
    address_words,
    channel_words,
    reason_words,
    source_words,
    stage_words,
    status_words,
    yes_no,
)
from domain.identity import KpjProblem, Nik, mask_nik, parse_kpj, parse_nik, parse_phone
from domain.policy import ReminderPolicy, month_of
from domain.regions import RegionIndex
from domain.rules import ContributionMonth, ordered_stages
from domain.tariffs import Tariffs, default_tariffs, member_cost
from domain.vocabulary import BILLED_PAYERS, BROADCAST_STAGE, Payer
from storage import audit as audit_log
from storage import why as store
from storage.crypto import Cipher
from storage.models import Member

CLI_ACTOR = "cli"  # who the audit log says looked a member up from the command line


def find_members(session: Session, cipher: Cipher, regions: RegionIndex, query: str, today: date) -> list[Member]:
    """By NIK (lookup hash), by phone (E.164), or by KPJ."""
    nik = parse_nik(query, regions=regions, today=today)
    phone = parse_phone(query)
    kpj = parse_kpj(query)
    return store.members_matching(
        session,
        nik_hash=cipher.lookup_hash(nik.value) if isinstance(nik, Nik) else None,
        phone=phone if phone.startswith("+") else None,
        kpj=None if isinstance(kpj, KpjProblem) else kpj,
    )


def timeline(
    session: Session,
    cipher: Cipher,
    member: Member,
    policy: ReminderPolicy,
    today: date,
    *,
    tariffs: Tariffs | None = None,
) -> list[str]:
    """Who, who pays and what for, coverage and the next deadline, every reminder with its fate, payments, and the
    next planned reminder."""
    assert member.id is not None
    nik = mask_nik(cipher.decrypt(member.nik_encrypted))
    until = short_date(member.covered_until) if member.covered_until else "-"
    opted_out = yes_no(member.opted_out)
    lines = [
        t("why.member", name=member.full_name, nik=nik, id=member.id),
        _payer(session, member),
        *_programs(member, policy, today, tariffs or default_tariffs()),
        _next_deadline(member, policy, today),
        t("why.covered", until=until, opted_out=opted_out),
        *_branch(member),
    ]
    addresses = store.addresses_of(session, member.id)
    lines += [
        t("why.address", channel=channel_words(a.channel), status=address_words(a.status)) for a in addresses
    ] or [t("why.no_address")]
    for reminder, last in store.reminders_of(session, member.id):
        if reminder.stage == BROADCAST_STAGE:  # its cycle is the broadcast's number, not a month
            what = t("why.broadcast", id=reminder.cycle)
        else:
            month = month_of(reminder.cycle)
            what = t("why.stage", stage=stage_words(reminder.stage), month=month_year(month.year, month.month))
        lines.append(
            t(
                "why.reminder",
                what=what,
                status=status_words(reminder.status),
                reason=reason_words(reminder.reason, reminder.status),
                attempts=reminder.attempts,
                error=last.error if last and last.error else "-",
            )
        )
    for payment in store.payments_of(session, member.id):
        first = month_of(payment.first_cycle)
        paid_from = month_year(first.year, first.month)
        source, verified = source_words(payment.source), yes_no(payment.verified)
        lines.append(t("why.payment", months=payment.months, month=paid_from, source=source, verified=verified))
    lines.append(_next_planned(member, policy, today))
    return lines


def _payer(session: Session, member: Member) -> str:
    """Who pays, and so who is asked: the member's chats, the person who pays for them, or an office's statement."""
    who = t(f"option.payer.{member.payer}")
    sponsor = store.sponsor_name(session, member.sponsor_id)
    if sponsor or member.sponsor_name:  # the linked sponsor, else the name the dialog or the branch's file gave
        who = f"{who} — {sponsor or member.sponsor_name}"
    if member.payer in BILLED_PAYERS:
        asked = t("why.asked_office")
    elif member.payer == Payer.SPONSOR and sponsor:
        asked = t("why.asked_sponsor", sponsor=sponsor)
    else:
        asked = t("why.asked_member")
    return t("why.payer", payer=who, asked=asked)


def _programs(member: Member, policy: ReminderPolicy, today: date, tariffs: Tariffs) -> list[str]:
    """The programs, the declared income, and what the next unpaid month costs."""
    lines = [
        t(
            "why.programs",
            programs=programs(with_jht=member.with_jht),
            income=rupiah(member.declared_income),
            occupation=t(f"option.occupation.{member.occupation}"),
        )
    ]
    standing = policy.coverage(member.covered_until, today)
    if standing.next_month is not None and standing.due is not None:
        month = standing.next_month
        lines.append(
            t(
                "why.next_month",
                month=month_year(month.year, month.month),
                amount=rupiah(member_cost(tariffs, member, month, 1)),
            )
        )
    return lines


def _branch(member: Member) -> list[str]:
    """The branch's month against the member's own report, and whether they contradict each other."""
    lines = []
    if member.branch_until is not None or member.reported_until is not None:
        branch, reported = member.branch_until, member.reported_until
        lines.append(t("why.branch", branch=_month(branch), reported=_month(reported)))
    if member.report_mismatch_at is not None:
        lines.append(t("why.mismatch", since=short_date(member.report_mismatch_at.date())))
    return lines


def _month(day: date | None) -> str:
    return month_year(day.year, day.month) if day else "-"


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
    if member.opted_out or member.covered_until is None or member.payer in BILLED_PAYERS:
        return t("why.next_none")
    month = ContributionMonth.of(member.covered_until).plus(1)
    for day, stage in ordered_stages(
        policy.stages, month, due_day=policy.due_day, lapse_after=policy.lapse_after, workdays=policy.workdays
    ):
        if day > today:
            return t(
                "why.next", stage=stage_words(stage), day=long_date(day), month=month_year(month.year, month.month)
            )
    return t("why.next_none")  # the cycle has run its course: the member has lapsed


def timelines(
    engine: Engine,
    cipher: Cipher,
    regions: RegionIndex,
    policy: ReminderPolicy,
    *,
    query: str,
    today: date,
    tariffs: Tariffs | None = None,
    now: datetime | None = None,
) -> list[list[str]]:
    """`sipakainge why`: the timeline of each member the query finds (none: empty); the view is audited (the member
    ids, never the query)."""
    with Session(engine) as session:
        found = find_members(session, cipher, regions, query, today)
        shown = [timeline(session, cipher, member, policy, today, tariffs=tariffs) for member in found]
        if found:
            viewed = audit_log.Viewed(CLI_ACTOR, CLI_ACTOR, [member.id or 0 for member in found], "why")
            audit_log.audit_viewed(session=session, views=[viewed], now=now or datetime.now(UTC))
            session.commit()
        return shown
