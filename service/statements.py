"""The monthly statements of the offices that pay for members, and their follow-ups after the deadline: which are due
today, each claimed for its office and month and audited in one transaction, its message and file made after the
commit. Sending them is the scheduler's (`scheduler/statements.py`)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine
from sqlmodel import Session

from bot.dialogs.core import Attachment, Reply, Template
from bot.texts import long_date, month_year, pay_by, rupiah, t
from domain.delivery import Target
from domain.identity import mask_nik
from domain.policy import ReminderPolicy, cycle_key
from domain.regions import RegionIndex
from domain.rules import ContributionMonth
from domain.statements import Billed, Statement, StatementKind, bill, follow_up_month, paid_through, statement_month
from domain.tariffs import Tariffs
from files import statement as statement_file
from files import xlsx
from storage import audit, sponsors
from storage import statements as claimed
from storage.crypto import Cipher
from storage.models import Member

GROUPS_SHOWN = 8  # kinds of (months, amount) a message lists; the file has every member
_TEXTS = {StatementKind.STATEMENT: "statement.text", StatementKind.FOLLOW_UP: "statement.follow_up"}
_FILES = {StatementKind.STATEMENT: "statement.file", StatementKind.FOLLOW_UP: "statement.follow_up_file"}


@dataclass(frozen=True, slots=True)
class Setup:
    """What statements are made with: the service's keys, regions, rules and tariffs, and the statement's lead."""

    cipher: Cipher
    regions: RegionIndex
    policy: ReminderPolicy
    tariffs: Tariffs
    days_before: int


@dataclass(frozen=True, slots=True)
class Prepared:
    """An office's statement (or follow-up), to be sent to each of its staff chats."""

    office: str
    kind: StatementKind
    chats: tuple[Target, ...]
    statement: Statement


def due_today(engine: Engine, setup: Setup, *, channels: Collection[str], today: date, now: datetime) -> list[Prepared]:
    """The statements and follow-ups due today to offices with a staff chat on these channels, each claimed in this
    transaction: an office already served this month (by this process or another) is left out, as is one with
    nothing to say (then a later day of the window looks again)."""
    due = _due(today, setup)
    if due is None:
        return []
    kind, month = due
    prepared = []
    with Session(engine) as session:
        served = claimed.served(session=session, cycle=cycle_key(month), kind=kind)
        for office in sponsors.offices(session=session, channels=channels):
            if office.id in served:
                continue  # checked first: an office's members are read and their NIKs masked only once a month
            rows = sponsors.office_members(session=session, office_id=office.id, payer=office.payer, codes=office.codes)
            members = [_billed(row, setup.cipher) for row in rows]
            found = bill(members, month, today, policy=setup.policy, tariffs=setup.tariffs)
            if kind == StatementKind.FOLLOW_UP:
                found = found.still_unpaid()
            if not found.empty and _claim(session, office.id, kind, found, now):
                prepared.append(Prepared(office.name, kind, tuple(office.chats), found))
        session.commit()
    return prepared


def _due(today: date, setup: Setup) -> tuple[StatementKind, ContributionMonth] | None:
    """What goes out today, if anything: the windows of a month's statement and of its follow-up never overlap."""
    month = statement_month(today, days_before=setup.days_before, policy=setup.policy)
    if month is not None:
        return StatementKind.STATEMENT, month
    month = follow_up_month(today, days_before=setup.days_before, policy=setup.policy)
    return None if month is None else (StatementKind.FOLLOW_UP, month)


def _claim(session: Session, office_id: int, kind: StatementKind, found: Statement, now: datetime) -> bool:
    cycle = cycle_key(found.month)
    count, total = len(found.owing), found.total
    if not claimed.claim(
        session=session, sponsor_id=office_id, cycle=cycle, kind=kind, members=count, total=total, now=now
    ):
        return False
    detail, subject = f"{cycle}: {count} members, total {total}", f"sponsor:{office_id}"
    audit.audit(session=session, actor="system", action=f"payer.{kind}", now=now, subject=subject, detail=detail)
    return True


def message(prepared: Prepared, setup: Setup) -> Reply:
    """The statement as its staff read it: the members summed up by months owed and amount, the total and the
    deadline, with the file of every member; on WhatsApp outside the 24 hours, its approved template."""
    found, office = prepared.statement, prepared.office
    month = month_year(found.month.year, found.month.month)
    count = len(found.owing) + (len(found.lapsed) if prepared.kind == StatementKind.FOLLOW_UP else 0)
    text = t(
        _TEXTS[prepared.kind],
        office=office,
        month=month,
        groups=_groups(found),
        count=count,
        total=rupiah(found.total),
        due=pay_by(found.due),
        day=long_date(found.due),  # the follow-up names the deadline gone by, without asking to pay by it
        notes=_notes(found, setup.policy),
    )
    content = statement_file.workbook(found, setup.regions)
    attachment = Attachment(t(_FILES[prepared.kind], month=str(found.month)), xlsx.MEDIA_TYPE, content)
    template = Template(f"payer_{prepared.kind}", (office, month, str(count), rupiah(found.total)))
    return Reply(text, template=template, attachment=attachment)


def _groups(found: Statement) -> str:
    groups = found.groups()
    lines = [
        t(
            "statement.group",
            count=group.count,
            months=statement_file.months_text(group.first, group.months),
            amount=rupiah(group.amount),
            subtotal=rupiah(group.amount * group.count),
        )
        for group in groups[:GROUPS_SHOWN]
    ]
    rest = sum(group.count for group in groups[GROUPS_SHOWN:])
    if rest:
        lines.append(t("statement.more", count=rest))
    return "\n".join(lines) or t("statement.none_owing")


def _notes(found: Statement, policy: ReminderPolicy) -> str:
    notes = []
    if found.lapsed:
        notes.append(t("statement.lapsed", count=len(found.lapsed), months=policy.lapse_after))
    if found.unknown:
        notes.append(t("statement.unknown", count=len(found.unknown)))
    return "".join(f"\n\n{note}" for note in notes)


def _billed(member: Member, cipher: Cipher) -> Billed:
    assert member.id is not None
    return Billed(
        member_id=member.id,
        full_name=member.full_name,
        desa_code=member.desa_code,
        kpj=member.kpj,
        masked_nik=mask_nik(cipher.decrypt(member.nik_encrypted)),
        occupation=member.occupation,
        payer=member.payer,
        declared_income=member.declared_income,
        with_jht=member.with_jht,
        paid_through=paid_through(member.covered_until, member.branch_until, member.reported_until),
    )
