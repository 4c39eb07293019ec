"""Data functions for addresses, members, consent and audit. The caller owns the transaction: none commits."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from domain.vocabulary import Channel, ConsentDecision
from storage.crypto import Cipher
from storage.db import upsert_insert
from storage.models import (
    Address,
    ConsentRecord,
    Conversation,
    DeliveryAttempt,
    Listing,
    Member,
    MemberAddress,
    Officer,
    Reminder,
    Sponsor,
)

MEMBER_COLUMNS = frozenset(
    {
        "full_name",
        "birth_date",
        "sex",
        "phone",
        "phone_owner",
        "kecamatan_code",
        "desa_code",
        "occupation",
        "bpjs_status",
        "kpj",
        "covered_until",
        "needs_enrolment",
        "payer",
        "sponsor_name",
        "declared_income",
        "with_jht",
        "period_months",
        "opted_out",
        "help_requested_at",
        "branch_until",
        "reported_until",
        "report_mismatch_at",
    }
)


def get_or_create_address(*, session: Session, channel: str, external_id: str, now: datetime) -> Address:
    """The address, created if new. Race-safe: two transactions creating the same one both end up with it."""
    query = select(Address).where(Address.channel == channel, Address.external_id == external_id)
    address = session.exec(query).first()
    if address is None:
        values = {"channel": channel, "external_id": external_id, "status": "active", "created_at": now}
        session.execute(upsert_insert(session)(Address).values(**values).on_conflict_do_nothing())
        address = session.exec(query).one()
    return address


def lock_conversation(*, session: Session, address_id: int) -> Conversation | None:
    """The address's conversation row, locked until commit so two processes never interleave one chat."""
    return session.exec(select(Conversation).where(Conversation.address_id == address_id).with_for_update()).first()


def lock_conversations(*, session: Session, address_ids: Sequence[int]) -> Sequence[Conversation]:
    """Several addresses' conversation rows, locked until commit (a batch of officers' digests)."""
    if not address_ids:
        return []
    query = select(Conversation).where(col(Conversation.address_id).in_(address_ids)).with_for_update()
    return session.exec(query).all()


def save_conversations(*, session: Session, states: Mapping[int, str], resting: Collection[int], now: datetime) -> None:
    """Write the sealed states of several addresses (one message's, or a batch of officers' digests) in one upsert;
    `resting`: the addresses whose dialog is at rest."""
    if not states:
        return
    rows = [
        {"address_id": address_id, "state": state, "updated_at": now, "resting": address_id in resting}
        for address_id, state in states.items()
    ]
    statement = upsert_insert(session)(Conversation).values(rows)
    excluded = statement.excluded
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[col(Conversation.address_id)],
            set_={"state": excluded.state, "updated_at": excluded.updated_at, "resting": excluded.resting},
        )
    )


def members_of_address(*, session: Session, address_id: int) -> Sequence[Member]:
    return session.exec(
        select(Member)
        .join(MemberAddress, col(MemberAddress.member_id) == col(Member.id))
        .where(MemberAddress.address_id == address_id)
        .order_by(col(Member.id))
    ).all()


def nik_registered(*, session: Session, nik_hash: str, except_member: int | None = None) -> bool:
    query = select(Member.id).where(Member.nik_hash == nik_hash)
    if except_member is not None:
        query = query.where(Member.id != except_member)
    return session.exec(query).first() is not None


def new_member(*, cipher: Cipher, nik: str, fields: Mapping[str, object], now: datetime) -> Member:
    """A member row, not yet added: the NIK sealed and hashed, the other columns from `fields`."""
    values = {key: value for key, value in fields.items() if key in MEMBER_COLUMNS}
    return Member.model_validate(
        {**values, "nik_encrypted": cipher.encrypt(nik), "nik_hash": cipher.lookup_hash(nik)}
        | {"created_at": now, "updated_at": now}
    )


def create_member(
    *,
    session: Session,
    cipher: Cipher,
    nik: str,
    fields: Mapping[str, object],
    address_id: int | None,
    now: datetime,
) -> Member:
    member = new_member(cipher=cipher, nik=nik, fields=fields, now=now)
    session.add(member)
    session.flush()
    assert member.id is not None
    if address_id is not None:  # an officer's door-to-door registration is not linked to the officer's chat
        session.add(MemberAddress(member_id=member.id, address_id=address_id, created_at=now))
    return member


def update_member(
    *, session: Session, cipher: Cipher, member: Member, fields: Mapping[str, object], now: datetime
) -> list[str]:
    """Apply changes; returns the names of the columns that changed (for the audit log, without values)."""
    changed: list[str] = []
    for key, value in fields.items():
        if key == "nik":
            assert isinstance(value, str)
            if cipher.lookup_hash(value) != member.nik_hash:
                member.nik_encrypted = cipher.encrypt(value)
                member.nik_hash = cipher.lookup_hash(value)
                changed.append("nik")
        elif key in MEMBER_COLUMNS and getattr(member, key) != value:
            setattr(member, key, value)
            changed.append(key)
    if changed:
        member.updated_at = now
        session.add(member)
    return changed


def delete_member(*, session: Session, member_id: int) -> None:
    """Remove a member, their links, reminders and delivery attempts; consent records keep only that a decision
    was made."""
    reminder_ids = select(Reminder.id).where(col(Reminder.member_id) == member_id)
    session.exec(delete(DeliveryAttempt).where(col(DeliveryAttempt.reminder_id).in_(reminder_ids)))
    session.exec(delete(Reminder).where(col(Reminder.member_id) == member_id))
    session.exec(delete(Listing).where(col(Listing.member_id) == member_id))
    # A WhatsApp address is the member's phone number: it goes too, with its conversation, unless someone else
    # (another member on a family phone, an officer, a sponsor) still uses it.
    linked = session.exec(select(MemberAddress.address_id).where(col(MemberAddress.member_id) == member_id)).all()
    session.exec(delete(MemberAddress).where(col(MemberAddress.member_id) == member_id))
    for address_id in linked:
        _forget_number(session, address_id)
    member = session.get(Member, member_id)
    if member is not None:
        session.delete(member)


def address_exists(*, session: Session, address_id: int) -> bool:
    session.flush()  # a deletion still pending counts
    return session.exec(select(Address.id).where(col(Address.id) == address_id)).first() is not None


def number_of_address(*, session: Session, address_id: int) -> str | None:
    """The phone number a chat is (a WhatsApp address is its E.164 number); None for Telegram and the terminal."""
    address = session.get(Address, address_id)
    return address.external_id if address is not None and address.channel == Channel.WHATSAPP else None


def _forget_number(session: Session, address_id: int) -> None:
    address = session.get(Address, address_id)
    if address is None or address.channel != "whatsapp":
        return
    still_used = (
        session.exec(select(MemberAddress).where(col(MemberAddress.address_id) == address_id)).first()
        or session.exec(select(Officer).where(col(Officer.address_id) == address_id)).first()
        or session.exec(select(Sponsor).where(col(Sponsor.address_id) == address_id)).first()
    )
    if still_used is None:
        session.delete(address)  # its conversation and consent records go with it (ON DELETE CASCADE)


def record_consent(
    *, session: Session, address_id: int, decision: ConsentDecision, version: str, now: datetime
) -> ConsentRecord:
    record = ConsentRecord(address_id=address_id, consent_version=version, decision=decision, at=now)
    session.add(record)
    return record


def link_consent(*, session: Session, address_id: int, member_id: int) -> None:
    """Attach the address's latest unlinked 'granted' record to the member it was given for."""
    record = session.exec(
        select(ConsentRecord)
        .where(
            ConsentRecord.address_id == address_id,
            ConsentRecord.decision == ConsentDecision.GRANTED,
            col(ConsentRecord.member_id).is_(None),
        )
        .order_by(col(ConsentRecord.id).desc())
    ).first()
    if record is not None:
        record.member_id = member_id
        session.add(record)


def link_phone_address(*, session: Session, member_id: int, phone: str, now: datetime) -> None:
    """Make the member reachable on WhatsApp at their phone number (templates need no earlier message)."""
    address = get_or_create_address(session=session, channel="whatsapp", external_id=phone, now=now)
    assert address.id is not None
    if session.get(MemberAddress, (member_id, address.id)) is None:
        session.add(MemberAddress(member_id=member_id, address_id=address.id, created_at=now))


def link_phones(*, session: Session, phones: Mapping[int, str], now: datetime) -> None:
    """`link_phone_address` for many members at once (an import): a few statements instead of three per member."""
    if not phones:
        return
    insert = upsert_insert(session)
    numbers = sorted(set(phones.values()))
    for start in range(0, len(numbers), 5000):
        rows = [
            {"channel": "whatsapp", "external_id": n, "status": "active", "created_at": now}
            for n in numbers[start : start + 5000]
        ]
        session.execute(insert(Address).values(rows).on_conflict_do_nothing())
    address_of: dict[str, int] = {}
    for start in range(0, len(numbers), 5000):
        found = session.execute(
            select(col(Address.external_id), col(Address.id)).where(
                col(Address.channel) == "whatsapp", col(Address.external_id).in_(numbers[start : start + 5000])
            )
        )
        address_of.update({row[0]: row[1] for row in found})
    links = [
        {"member_id": member_id, "address_id": address_of[phone], "created_at": now}
        for member_id, phone in phones.items()
    ]
    for start in range(0, len(links), 5000):
        session.execute(insert(MemberAddress).values(links[start : start + 5000]).on_conflict_do_nothing())


def link_members_by_phone(*, session: Session, address: Address, now: datetime) -> None:
    """A WhatsApp message proves its sender holds the number: link members registered with it."""
    assert address.id is not None
    linked = select(MemberAddress.member_id).where(col(MemberAddress.address_id) == address.id)
    for member_id in session.exec(
        select(Member.id).where(col(Member.phone) == address.external_id, col(Member.id).not_in(linked))
    ).all():
        if member_id is not None:
            session.add(MemberAddress(member_id=member_id, address_id=address.id, created_at=now))


def mark_lapsed(*, session: Session, covered_until_at_most: date, today: date) -> int:
    """Mark as lapsed today the members covered no later than the cutoff; clear the mark of those who paid since."""
    lapsed = session.execute(
        update(Member)
        .where(col(Member.covered_until) <= covered_until_at_most, col(Member.lapsed_on).is_(None))
        .values(lapsed_on=today)
        .execution_options(preserve_rowcount=True)
    )
    session.execute(
        update(Member)
        .where(col(Member.covered_until) > covered_until_at_most, col(Member.lapsed_on).is_not(None))
        .values(lapsed_on=None)
    )
    return max(lapsed.rowcount or 0, 0)  # type: ignore[attr-defined]
