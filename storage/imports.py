"""Importing the branch's member spreadsheet: compare (new / updated / unchanged), stage until the admin confirms,
then apply a slice at a time (upsert by NIK), reconciling what members reported paying with what the branch
recorded. The caller owns the transaction; each slice is meant to be its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from domain.member_rows import Plan, Row
from domain.vocabulary import Occupation, PaymentSource
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
    flagged: int = 0  # self-reported payments it does not (yet): the officer checks


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
    known = existing(session, cipher, (row.nik for row in rows))
    updated = sum(1 for row in rows if row.nik in known and _changes(known[row.nik], row))
    return Plan(len(rows) - len(known), updated, len(known) - updated)


def _changes(member: Member, row: Row) -> dict[str, object]:
    wanted = row.fields()
    return {key: value for key, value in wanted.items() if getattr(member, key) != value}


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
    birth_date, covered = date.fromisoformat(item["birth_date"]), item["covered_until"]
    covered_until = date.fromisoformat(covered) if covered else None
    return Row(**item | {"birth_date": birth_date, "covered_until": covered_until})


def _apply(session: Session, cipher: Cipher, rows: Sequence[Row], applied: Applied, now: datetime) -> None:
    known = existing(session, cipher, (row.nik for row in rows))
    self_reports = _self_reported(session, [member.id or 0 for member in known.values()])
    created: list[tuple[Member, Row]] = []
    phones: dict[int, str] = {}  # members to link to a WhatsApp number: new ones, and changed numbers
    for row in rows:
        member = known.get(row.nik)
        if member is None:
            fields = row.fields() | {"occupation": Occupation.LAINNYA, "period_months": 1}
            created.append((store.new_member(cipher=cipher, nik=row.nik, fields=fields, now=now), row))
            continue
        changes = _changes(member, row)
        branch, reported = row.covered_until, member.covered_until
        if "covered_until" in changes and branch is not None and reported is not None and branch < reported:
            del changes["covered_until"]  # the member reported more than the branch has seen: the officer checks
        _reconcile(session, member, self_reports.get(member.id or 0, []), branch, applied, now)
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


def _reconcile(  # noqa: PLR0917 (a private helper of _apply)
    session: Session, member: Member, reported: Sequence[Payment], branch: date | None, applied: Applied, now: datetime
) -> None:
    """Self-reported payments the branch's data covers become verified; the others are flagged for the officer
    (the member's list entry says they need help) and keep the coverage the member reported."""
    if branch is None:
        return
    for payment in reported:
        first = date(payment.first_cycle // 100, payment.first_cycle % 100, 1)
        months_in = (branch.year - first.year) * 12 + branch.month - first.month + 1
        if months_in >= payment.months:
            payment.verified = True
            session.add(payment)
            applied.confirmed += 1
        else:
            member.help_requested_at = member.help_requested_at or now
            session.add(member)
            applied.flagged += 1


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
            m.phone,
            m.kecamatan_code,
            m.desa_code,
            m.kpj,
            m.covered_until,
            m.payer,
        )
        for m in session.exec(query)
    ]
