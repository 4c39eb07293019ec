"""Bulk synthetic members for outbox tests and benchmarks: fake NIKs (serial 9xxx) and numbers, fast inserts."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import insert
from sqlmodel import Session, col, select

from storage.crypto import Cipher
from storage.models import Address, Member, MemberAddress

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def synthetic_fields(index: int, covered_until: date | None, **extra: object) -> dict[str, object]:
    """A member's columns (all but the NIK), for a farmer in Donri-Donri who pays for themselves."""
    return {
        "full_name": f"Peserta {index}",
        "birth_date": date(1980, 1, 1),
        "sex": "L",
        "kecamatan_code": "73.12.06",
        "desa_code": "73.12.06.2002",
        "occupation": "petani",
        "bpjs_status": "member",
        "covered_until": covered_until,
        "needs_enrolment": False,
        "payer": "self",
        "period_months": 1,
        "declared_income": 1_000_000,
        "with_jht": False,
        "opted_out": False,
        **extra,
    }


def bulk_members(
    session: Session,
    cipher: Cipher,
    count: int,
    *,
    covered_until: date,
    per_address: int = 1,
    start: int = 0,
    encrypt: bool = True,
) -> list[int]:
    """Insert `count` members (several per address when `per_address` > 1); returns their ids."""
    addresses = [
        {"channel": "telegram", "external_id": str(10_000_000 + start + i), "status": "active", "created_at": T0}
        for i in range(0, count, per_address)
    ]
    session.execute(insert(Address), addresses)
    address_ids = session.exec(
        select(Address.id)
        .where(col(Address.external_id).in_([a["external_id"] for a in addresses]))
        .order_by(col(Address.id))
    ).all()
    sample = cipher.encrypt("7312060101809000")
    members = []
    for i in range(count):
        nik = f"7312060101{80 + (start + i) // 10_000 % 20:02d}{9000 + (start + i) % 1000:04d}{start + i}"
        members.append(
            synthetic_fields(
                start + i,
                covered_until,
                nik_encrypted=cipher.encrypt(nik[:16]) if encrypt else sample,
                nik_hash=f"{start + i:064d}",
                created_at=T0,
                updated_at=T0,
            )
        )
    session.execute(insert(Member), members)
    member_ids = list(
        session.exec(
            select(Member.id).where(col(Member.nik_hash).in_([m["nik_hash"] for m in members])).order_by(col(Member.id))
        ).all()
    )
    links = [
        {"member_id": member_id, "address_id": address_ids[index // per_address], "created_at": T0, "proof": "staff"}
        for index, member_id in enumerate(member_ids)
    ]
    session.execute(insert(MemberAddress), links)
    return [m for m in member_ids if m is not None]
