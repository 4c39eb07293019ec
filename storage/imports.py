"""Importing the branch's member spreadsheet: compare (new / updated / unchanged), stage until the admin confirms,
then apply a slice at a time (upsert by NIK), reconciling what members reported paying with what the branch
recorded. The caller owns the transaction; each slice is meant to be its own.

The branch's data is the truth: a row's month sets both `covered_until` and `branch_until`, even below what the
member reported ("Sudah bayar"), so reminders resume; a report beyond it is marked (`report_mismatch_at`) for the
officers' list, and an import that reaches the reported month clears the mark and verifies the payments it covers.
What a row does not state is left as stored (`Row.fields`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlmodel import Session, col, select

from domain.identity import same_person_name
from domain.member_rows import Plan, Row
from domain.policy import month_of
from domain.vocabulary import Payer, PaymentSource
from storage import members as store
from storage.crypto import Cipher
from storage.models import ImportBatch, Member, Payment
from storage.officers import in_area

_CHUNK = 5000
SLICE = 2000  # rows a transaction when applying: short enough not to hold up the bot's other writers on SQLite


@dataclass(slots=True)
class Applied:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    confirmed: int = 0  # self-reported payments the branch's data confirms
    flagged: int = 0  # members whose own report goes beyond the branch's month: marked for the officer
    refused: int = 0  # new members without a readable payer (registered elsewhere between preview and apply)
    contradicted: int = 0  # registered from a chat, the branch's data names another person or number: to the officer


def existing(session: Session, cipher: Cipher, niks: Iterable[str]) -> dict[str, Member]:
    """Members already registered, by NIK (found through the lookup hash)."""
    by_hash = {cipher.lookup_hash(nik): nik for nik in niks}
    hashes = list(by_hash)
    found: dict[str, Member] = {}
    for start in range(0, len(hashes), _CHUNK):
        chunk = hashes[start : start + _CHUNK]
        for member in session.exec(select(Member).where(col(Member.nik_hash).in_(chunk))):
            found[by_hash[member.nik_hash]] = member
    return found


def plan(session: Session, cipher: Cipher, rows: Sequence[Row]) -> Plan:
    """What importing `rows` would do, without doing it."""
    known = existing(session, cipher, (row.nik for row in rows))
    reports = _self_reported(session, [member.id or 0 for member in known.values()])
    refused = frozenset(row.nik for row in rows if row.nik not in known and row.unknown_payer)
    updated = mismatched = 0
    for row in rows:
        member = known.get(row.nik)
        if member is None:
            continue
        reported = _reported(member, reports.get(member.id or 0, []))
        updated += bool(_changes(member, row, reported, _PLANNED))
        mismatched += _beyond(reported, row.branch_until)
    return Plan(len(rows) - len(known) - len(refused), updated, len(known) - updated, mismatched, refused)


_PLANNED = datetime(2000, 1, 1, tzinfo=UTC)  # a plan only counts changes: any time stands for "now"


def _changes(member: Member, row: Row, reported: date | None, now: datetime) -> dict[str, object]:
    """The columns the row changes; with the branch's month, the mark of a report beyond it set or cleared."""
    wanted = row.fields()
    if wanted.get("payer", member.payer) not in (member.payer, Payer.SPONSOR):
        wanted["sponsor_name"] = None  # a sponsor's name belongs to a sponsor: another payer replaces it
    if row.branch_until is not None:
        beyond = _beyond(reported, row.branch_until)
        wanted["report_mismatch_at"] = (member.report_mismatch_at or now) if beyond else None
    return {key: value for key, value in wanted.items() if getattr(member, key) != value}


def _reported(member: Member, reports: Sequence[Payment]) -> date | None:
    """The furthest month the member said they paid: `reported_until`, or (recorded before it existed) the end of
    their unverified self-reported payments."""
    ends = [_paid_through(p) for p in reports]
    return max([day for day in (member.reported_until, *ends) if day is not None], default=None)


def _paid_through(payment: Payment) -> date:
    return month_of(payment.first_cycle).plus(payment.months - 1).last_day


def _beyond(reported: date | None, branch: date | None) -> bool:
    return reported is not None and branch is not None and reported > branch


def stage(
    *, session: Session, cipher: Cipher, token: str, address_id: int, filename: str, rows: Sequence[Row], now: datetime
) -> None:
    """Keep the rows, sealed a slice at a time (each slice then opens only its own rows)."""
    slices = [_seal(cipher, rows[start : start + SLICE]) for start in range(0, len(rows), SLICE)]
    session.add(
        ImportBatch(
            token=token,
            address_id=address_id,
            filename=filename[:100],
            total=len(rows),
            rows_sealed=json.dumps(slices),
            created_at=now,
        )
    )


def _seal(cipher: Cipher, rows: Sequence[Row]) -> str:
    return cipher.encrypt(json.dumps([asdict(row) for row in rows], default=str, separators=(",", ":")))


def set_status(*, session: Session, token: str, address_id: int, status: str) -> ImportBatch | None:
    """Confirm or cancel a staged batch of this chat's; None when there is none (or it is no longer staged)."""
    batch = session.get(ImportBatch, token)
    if batch is None or batch.address_id != address_id or batch.status != "staged":
        return None
    batch.status = status
    session.add(batch)
    return batch


def confirmed(*, session: Session) -> list[str]:
    return list(session.exec(select(ImportBatch.token).where(col(ImportBatch.status) == "confirmed")).all())


def apply_slice(*, session: Session, cipher: Cipher, token: str, now: datetime) -> ImportBatch | None:
    """Apply the next slice of a confirmed batch (locked against a second process); None if there is none."""
    batch = session.exec(select(ImportBatch).where(col(ImportBatch.token) == token).with_for_update()).first()
    if batch is None or batch.status != "confirmed":
        return None
    sealed = json.loads(batch.rows_sealed)[batch.applied // SLICE]
    rows = [_row(item) for item in json.loads(cipher.decrypt(sealed))]
    applied = Applied(**json.loads(batch.summary)) if batch.summary else Applied()
    _apply(session, cipher, rows, applied, now)
    batch.applied += len(rows)
    batch.summary = json.dumps(asdict(applied))
    if batch.applied >= batch.total:
        batch.status, batch.rows_sealed = "done", ""  # the NIKs are not kept once applied
    session.add(batch)
    return batch


def _row(item: dict[str, Any]) -> Row:
    days = {key: date.fromisoformat(item[key]) if item[key] else None for key in ("covered_until", "branch_until")}
    return Row(**item | days | {"birth_date": date.fromisoformat(item["birth_date"])})


def _apply(session: Session, cipher: Cipher, rows: Sequence[Row], applied: Applied, now: datetime) -> None:
    known = existing(session, cipher, (row.nik for row in rows))
    self_reports = _self_reported(session, [member.id or 0 for member in known.values()])
    # The branch's first word on members a chat registered itself: it confirms the registration or contradicts it.
    fresh = store.self_registered(session=session, member_ids=[member.id or 0 for member in known.values()])
    agrees: dict[int, bool] = {}
    created: list[tuple[Member, Row]] = []
    phones: dict[int, str] = {}  # members to link to a WhatsApp number: new ones, and changed numbers
    old_phones: dict[int, str] = {}  # the numbers changed ones had
    for row in rows:
        member = known.get(row.nik)
        if member is None:
            if row.unknown_payer:
                applied.refused += 1
                continue
            created.append((store.new_member(cipher=cipher, nik=row.nik, fields=row.new_fields(), now=now), row))
            continue
        if member.id in fresh:
            same_phone = row.phone is None or row.phone == member.phone
            agrees[member.id or 0] = same_phone and same_person_name(member.full_name, row.full_name)
        reports = self_reports.get(member.id or 0, [])
        reported = _reported(member, reports)
        changes = _changes(member, row, reported, now)
        if row.branch_until is not None:
            applied.confirmed += _confirm(session, reports, row.branch_until)
            applied.flagged += _beyond(reported, row.branch_until)
        if "phone" in changes and member.phone:
            old_phones[member.id or 0] = member.phone
        if changes:
            store.update_member(session=session, cipher=cipher, member=member, fields=changes, now=now)
            applied.updated += 1
        else:
            applied.unchanged += 1
        if "phone" in changes and row.phone:
            phones[member.id or 0] = row.phone
    session.add_all([member for member, _ in created])
    session.flush()  # one batched INSERT for the slice's new members
    applied.created += len(created)
    numbers = {member.id or 0: member.phone for member in known.values() if member.id in agrees}
    store.branch_contradicts(session=session, agrees=agrees, phones=numbers, now=now)
    applied.contradicted += sum(not agreed for agreed in agrees.values())
    # A changed number: the links proven by the old one end before the new one is linked.
    store.end_links_of_numbers(session=session, old_phones=old_phones)
    phones |= {member.id or 0: row.phone for member, row in created if row.phone}
    store.link_phones(session=session, phones=phones, now=now)


def _self_reported(session: Session, member_ids: Sequence[int]) -> dict[int, list[Payment]]:
    """Unverified self-reported payments of these members (one query a few thousand members)."""
    found: dict[int, list[Payment]] = {}
    for start in range(0, len(member_ids), _CHUNK):
        for payment in session.exec(
            select(Payment).where(
                col(Payment.member_id).in_(member_ids[start : start + _CHUNK]),
                col(Payment.source) == PaymentSource.SELF_REPORT,
                col(Payment.verified).is_(False),
            )
        ):
            found.setdefault(payment.member_id, []).append(payment)
    return found


def _confirm(session: Session, reported: Sequence[Payment], branch: date) -> int:
    """Verify the self-reported payments the branch's month covers; how many."""
    confirmed = [p for p in reported if _paid_through(p) <= branch]
    for payment in confirmed:
        payment.verified = True
        session.add(payment)
    return len(confirmed)


def export_rows(*, session: Session, cipher: Cipher, codes: Sequence[str] | None) -> list[Row]:
    """Members of the area (None: everywhere) as spreadsheet rows, by kecamatan, desa and name."""
    query = select(Member).order_by(col(Member.kecamatan_code), col(Member.desa_code), col(Member.full_name))
    if codes is not None:
        query = query.where(in_area(codes))
    return [
        Row(
            cipher.decrypt(m.nik_encrypted),
            m.full_name,
            m.birth_date,
            m.sex,
            m.kecamatan_code,
            m.desa_code,
            phone=m.phone,
            kpj=m.kpj,
            covered_until=m.covered_until,
            branch_until=m.branch_until,
            payer=m.payer,
            sponsor_name=m.sponsor_name,
            occupation=m.occupation,
            with_jht=m.with_jht,
            declared_income=m.declared_income,
        )
        for m in session.exec(query)
    ]
