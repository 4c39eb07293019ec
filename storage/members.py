"""Data functions for addresses, members, consent and audit. The caller owns the transaction: none commits."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, delete, func, or_, true, tuple_, update
from sqlmodel import Session, col, select

from domain.vocabulary import Channel, ConsentDecision, LinkProof
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
    NikAttempt,
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


# The one rule of who sees a member: a proven link the branch has not contradicted. Every query that lets a chat
# see a member's data or sends it their reminders joins MemberAddress with this.
def sees(link: type[MemberAddress]) -> ColumnElement[bool]:
    return and_(col(link.proof).is_not(None), col(link.suspended_at).is_(None))


SEES = sees(MemberAddress)
NUMBER_PROOFS = (LinkProof.NUMBER, LinkProof.CONTACT)


def members_of_address(*, session: Session, address_id: int) -> Sequence[Member]:
    """The members this chat sees (proven, not suspended links)."""
    return session.exec(
        select(Member)
        .join(MemberAddress, col(MemberAddress.member_id) == col(Member.id))
        .where(MemberAddress.address_id == address_id, SEES)
        .order_by(col(Member.id))
    ).all()


def waiting_of_address(*, session: Session, address_id: int) -> int:
    """How many members this chat registered or claimed but may not see yet (not proven, or suspended)."""
    return session.exec(select(func.count()).where(col(MemberAddress.address_id) == address_id, ~SEES)).one()


def proof_for(address: Address, phone: str | None) -> tuple[LinkProof | None, str | None]:
    """What a registration from this chat with this phone number (None: the member has none) proves: a WhatsApp
    chat holds its number, a Telegram chat the number its user shared as their own contact, the terminal is the
    operator's. A chat proves a member with its own number, or with none; a typed number of anyone else, nothing."""
    if address.channel == Channel.CONSOLE:
        return LinkProof.TERMINAL, None
    held = {Channel.WHATSAPP: address.external_id, Channel.TELEGRAM: address.verified_phone}.get(
        Channel(address.channel)
    )
    if held is None or phone not in (None, held):
        return None, None
    return (LinkProof.NUMBER if address.channel == Channel.WHATSAPP else LinkProof.CONTACT), held


def member_by_nik(*, session: Session, nik_hash: str) -> Member | None:
    return session.exec(select(Member).where(Member.nik_hash == nik_hash)).first()


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
    proof: LinkProof | None = None,
) -> Member:
    """`proof`: how the chat was shown to be theirs when that is known otherwise (data made elsewhere: the demo's,
    the tests'); else what registering from this chat with this number proves (`proof_for`)."""
    member = new_member(cipher=cipher, nik=nik, fields=fields, now=now)
    session.add(member)
    session.flush()
    assert member.id is not None
    if address_id is not None:  # an officer's door-to-door registration is not linked to the officer's chat
        address = session.get(Address, address_id)
        assert address is not None
        derived, proof_phone = proof_for(address, member.phone)
        link = MemberAddress(member_id=member.id, address_id=address_id, created_at=now, self_registered=True)
        link.proof, link.proof_phone = proof or derived, proof_phone
        session.add(link)
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
    link = session.get(MemberAddress, (member_id, address.id))
    if link is None:
        link = MemberAddress(member_id=member_id, address_id=address.id, created_at=now)
    # The number on the member's record is the member's: its chat is proven by being that number.
    link.proof, link.proof_phone, link.suspended_at = LinkProof.NUMBER, phone, None
    session.add(link)


def phone_changed(*, session: Session, member: Member, old_phone: str | None, now: datetime) -> None:
    """The member's number changed (their own /ubah, an officer's "Nomor salah", the branch's data): links proven by
    the old number end at once, so whoever holds the old SIM sees nothing, and the new number is linked, so the
    next reminder goes there. Links proven otherwise (an officer, the terminal) and unproven ones stay."""
    assert member.id is not None
    if old_phone and old_phone != member.phone:
        end_links_of_numbers(session=session, old_phones={member.id: old_phone})
    if member.phone:
        link_phone_address(session=session, member_id=member.id, phone=member.phone, now=now)


def end_links_of_numbers(*, session: Session, old_phones: Mapping[int, str]) -> None:
    """Remove the links proven by each member's old number."""
    pairs = list(old_phones.items())
    for start in range(0, len(pairs), 2000):
        session.execute(
            delete(MemberAddress).where(
                col(MemberAddress.proof).in_(NUMBER_PROOFS),
                tuple_(col(MemberAddress.member_id), col(MemberAddress.proof_phone)).in_(pairs[start : start + 2000]),
            )
        )


def prove_by_contact(*, session: Session, address: Address, phone: str) -> int:
    """A Telegram user shared their own contact: the chat holds `phone`. Its links to members with that phone are
    proven (a suspended one too: the number is the one on the member's record), and those to members without a
    phone; returns how many it sees now."""
    assert address.id is not None
    address.verified_phone = phone
    session.add(address)
    # Its own number, or none: a member without a phone is theirs by the chat (as `proof_for` says).
    matching = select(Member.id).where(or_(col(Member.phone) == phone, col(Member.phone).is_(None)))
    session.execute(
        update(MemberAddress)
        .where(col(MemberAddress.address_id) == address.id, col(MemberAddress.member_id).in_(matching), ~SEES)
        .values(proof=LinkProof.CONTACT, proof_phone=phone, suspended_at=None)
    )
    return len(members_of_address(session=session, address_id=address.id))


def waiting_with_phone(*, session: Session, address_id: int, phone: str) -> int:
    """How many of the members waiting on this chat have `phone` on their record (what sharing it would prove)."""
    return session.exec(
        select(func.count())
        .select_from(MemberAddress)
        .join(Member, col(Member.id) == col(MemberAddress.member_id))
        .where(
            col(MemberAddress.address_id) == address_id,
            ~SEES,
            or_(col(Member.phone) == phone, col(Member.phone).is_(None)),
        )
    ).one()


def claim(*, session: Session, member: Member, address: Address, now: datetime) -> bool:
    """A chat holding the number on a member's record says the NIK is theirs: it is linked, proven by that number,
    and the links of whoever registered the NIK from elsewhere (not proven by that number) end. False when the
    chat does not hold the number."""
    assert member.id is not None
    assert address.id is not None
    proof, proof_phone = proof_for(address, member.phone)
    if proof not in NUMBER_PROOFS:
        return False
    session.execute(
        delete(MemberAddress).where(
            col(MemberAddress.member_id) == member.id,
            col(MemberAddress.self_registered),
            or_(col(MemberAddress.proof_phone).is_(None), col(MemberAddress.proof_phone) != member.phone),
        )
    )
    link = session.get(MemberAddress, (member.id, address.id))
    if link is None:
        link = MemberAddress(member_id=member.id, address_id=address.id, created_at=now)
    link.proof, link.proof_phone, link.suspended_at = proof, proof_phone, None
    session.add(link)
    return True


def wait_for_officer(*, session: Session, member: Member, address_id: int, now: datetime) -> None:
    """A chat that cannot prove a taken NIK is theirs asks the officer: it waits, linked but seeing nothing, and the
    member is on the officer's list until they confirm (or end) the waiting chats."""
    assert member.id is not None
    if session.get(MemberAddress, (member.id, address_id)) is None:
        session.add(MemberAddress(member_id=member.id, address_id=address_id, created_at=now, self_registered=True))
    member.registration_mismatch_at = member.registration_mismatch_at or now
    session.add(member)


def settle_waiting(*, session: Session, member: Member, confirmed: bool, now: datetime) -> None:
    """An officer's word on the chats waiting for this member: confirmed (proven by staff) or not theirs (ended)."""
    assert member.id is not None
    waiting = and_(col(MemberAddress.member_id) == member.id, ~SEES)
    if confirmed:
        session.execute(update(MemberAddress).where(waiting).values(proof=LinkProof.STAFF, suspended_at=None))
    else:
        session.execute(delete(MemberAddress).where(waiting))
    member.registration_mismatch_at, member.updated_at = None, now
    session.add(member)


def branch_contradicts(
    *, session: Session, agrees: Mapping[int, bool], phones: Mapping[int, str | None], now: datetime
) -> None:
    """The branch's first word on self-registered members (an import). `agrees[member]`: whether its data agrees with
    the registration (`phones`: the number the branch records). Agreeing: the registration stands (the branch's
    later changes are ordinary). Contradicting:
    the registering chats are suspended, unless proven by the very number the branch records, and the member goes
    to the officer ("data pendaftaran berbeda dengan data BPJS")."""
    confirmed = [member_id for member_id, agreed in agrees.items() if agreed]
    for start in range(0, len(confirmed), 5000):
        session.execute(
            update(MemberAddress)
            .where(
                col(MemberAddress.member_id).in_(confirmed[start : start + 5000]), col(MemberAddress.self_registered)
            )
            .values(self_registered=False)
        )
    for member_id, agreed in agrees.items():
        if agreed:
            continue
        phone = phones.get(member_id)
        # Spelled out: NOT over a NULL proof would be NULL in SQL, and the unproven link would stay.
        not_by_that_number = or_(
            col(MemberAddress.proof).is_(None),
            col(MemberAddress.proof).not_in(NUMBER_PROOFS),
            col(MemberAddress.proof_phone).is_(None),
            col(MemberAddress.proof_phone) != phone,
        )
        session.execute(
            update(MemberAddress)
            .where(
                col(MemberAddress.member_id) == member_id,
                col(MemberAddress.self_registered),
                col(MemberAddress.suspended_at).is_(None),
                not_by_that_number if phone else true(),
            )
            .values(suspended_at=now, self_registered=False)
        )
        session.execute(
            update(Member)
            .where(col(Member.id) == member_id, col(Member.registration_mismatch_at).is_(None))
            .values(registration_mismatch_at=now)
        )


def self_registered(*, session: Session, member_ids: Sequence[int]) -> set[int]:
    """Which of these members were registered by a chat the branch has not spoken about yet."""
    found: set[int] = set()
    for start in range(0, len(member_ids), 5000):
        found |= set(
            session.exec(
                select(MemberAddress.member_id).where(
                    col(MemberAddress.member_id).in_(member_ids[start : start + 5000]),
                    col(MemberAddress.self_registered),
                    col(MemberAddress.suspended_at).is_(None),
                )
            ).all()
        )
    return found


def nik_attempts(*, session: Session, address_id: int, since: datetime) -> int:
    """NIKs this chat typed since then; older ones are dropped (they no longer count)."""
    session.execute(delete(NikAttempt).where(col(NikAttempt.address_id) == address_id, col(NikAttempt.at) < since))
    return session.exec(select(func.count()).where(col(NikAttempt.address_id) == address_id)).one()


def record_nik_attempt(*, session: Session, address_id: int, now: datetime) -> None:
    session.add(NikAttempt(address_id=address_id, at=now))


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
        {
            "member_id": member_id,
            "address_id": address_of[phone],
            "created_at": now,
            "proof": LinkProof.NUMBER,
            "proof_phone": phone,
            "self_registered": False,
        }
        for member_id, phone in phones.items()
    ]
    for start in range(0, len(links), 5000):
        statement = insert(MemberAddress).values(links[start : start + 5000])
        excluded = statement.excluded
        # The number on the member's record proves its chat, whatever that chat's link was before.
        session.execute(
            statement.on_conflict_do_update(
                index_elements=[col(MemberAddress.member_id), col(MemberAddress.address_id)],
                set_={"proof": excluded.proof, "proof_phone": excluded.proof_phone, "suspended_at": None},
            )
        )


def link_members_by_phone(*, session: Session, address: Address, now: datetime) -> None:
    """A WhatsApp message proves its sender holds the number: link members registered with it."""
    assert address.id is not None
    proven = select(MemberAddress.member_id).where(col(MemberAddress.address_id) == address.id, SEES)
    for member_id in session.exec(
        select(Member.id).where(col(Member.phone) == address.external_id, col(Member.id).not_in(proven))
    ).all():
        if member_id is not None:
            link_phone_address(session=session, member_id=member_id, phone=address.external_id, now=now)


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
