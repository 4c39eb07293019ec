"""The demo's database work (`sipakainge demo`): writing its synthetic members, adding its officer, and the counts it
shows. Each is one transaction."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, func, select

from domain.vocabulary import Channel, LinkProof
from storage import members as store
from storage.crypto import Cipher
from storage.models import Address, Member, Payment, Reminder
from storage.officers import create_officer

CHAT_PREFIX = "demo-"  # the synthetic people's WhatsApp chats


@dataclass(frozen=True, slots=True)
class Person:
    """A synthetic member, reached on the WhatsApp chat `demo-<phone_of>` (a family phone is shared)."""

    nik: str
    fields: Mapping[str, object]
    phone_of: int


@dataclass(frozen=True, slots=True)
class Tally:
    """What the simulated days left behind."""

    reminders: list[tuple[str, str]]  # (stage, status) of every reminder
    payments: int  # payment reports (a family phone's one answer may report for several members)
    payers: int  # members with at least one report
    lapsed: int
    opted_out: int
    helped: int


@dataclass(frozen=True, slots=True)
class Overview:
    members: int
    per_kabupaten: Counter[str]  # members by kabupaten code
    sample_nik: str  # one NIK as stored (sealed)


def seed(engine: Engine, *, cipher: Cipher, people: Iterable[Person], now: datetime) -> None:
    """Write the synthetic members and their chats, all in one transaction."""
    with Session(engine) as session:
        for person in people:
            address = store.get_or_create_address(
                session=session, channel=Channel.WHATSAPP, external_id=f"{CHAT_PREFIX}{person.phone_of}", now=now
            )
            assert address.id is not None
            # Synthetic people, their chats as proven as an officer's word would make them.
            store.create_member(
                session=session,
                cipher=cipher,
                nik=person.nik,
                fields=person.fields,
                address_id=address.id,
                now=now,
                proof=LinkProof.STAFF,
            )
        session.commit()


def chats(engine: Engine) -> list[str]:
    """The synthetic people's chats."""
    with Session(engine) as session:
        query = select(Address.external_id).where(col(Address.external_id).startswith(CHAT_PREFIX))
        return list(session.exec(query).all())


def add_officer(engine: Engine, *, name: str, codes: list[str], now: datetime) -> str:
    """An officer for the area's codes; their invitation code."""
    with Session(engine) as session:
        officer = create_officer(session=session, name=name, phone=None, codes=codes, now=now)
        invite = officer.invite_code or ""
        session.commit()
    return invite


def tally(engine: Engine) -> Tally:
    with Session(engine) as session:
        reminders = session.exec(select(Reminder.stage, Reminder.status)).all()
        payments = session.exec(select(func.count()).select_from(Payment)).one()
        payers = session.exec(select(func.count(func.distinct(Payment.member_id)))).one()
        lapsed = session.exec(select(func.count()).select_from(Member).where(col(Member.lapsed_on).is_not(None))).one()
        opted_out = session.exec(select(func.count()).select_from(Member).where(col(Member.opted_out))).one()
        helped = session.exec(
            select(func.count()).select_from(Member).where(col(Member.help_requested_at).is_not(None))
        ).one()
    return Tally([(stage, status) for stage, status in reminders], payments, payers, lapsed, opted_out, helped)


def overview(engine: Engine) -> Overview:
    with Session(engine) as session:
        total = session.exec(select(func.count()).select_from(Member)).one()
        per_kabupaten = Counter(code[:5] for code in session.exec(select(Member.kecamatan_code)).all())
        sample = session.exec(select(Member.nik_encrypted)).first() or ""
    return Overview(total, per_kabupaten, sample)
