"""`sipakainge why` and `/peserta <NIK>`: who pays and so who is asked, the programs, the next deadline."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Engine
from sqlmodel import Session

from domain.policy import ReminderPolicy
from domain.regions import RegionIndex
from domain.rules import DEFAULT_STAGES, parse_stages
from domain.vocabulary import LinkProof
from service import why
from storage import members as store
from storage.crypto import Cipher
from storage.models import Sponsor
from tests.outbox_fixtures import synthetic_fields

POLICY = ReminderPolicy(stages=parse_stages(DEFAULT_STAGES))
TODAY = date(2026, 12, 1)
NOW = datetime(2026, 12, 1, 2, tzinfo=UTC)


def _add(engine: Engine, cipher: Cipher, index: int, **extra: object) -> str:
    nik = f"731206010180{9000 + index:04d}"
    with Session(engine) as session:
        address = store.get_or_create_address(session=session, channel="telegram", external_id=f"w{index}", now=NOW)
        assert address.id is not None
        fields = synthetic_fields(index, date(2026, 11, 30))
        member = store.create_member(
            session=session,
            cipher=cipher,
            nik=nik,
            fields=fields,
            address_id=address.id,
            now=NOW,
            proof=LinkProof.STAFF,
        )
        for name, value in extra.items():  # set directly: some of these columns have no dialog path yet
            setattr(member, name, value)
        session.add(member)
        session.commit()
    return nik


def _lines(engine: Engine, cipher: Cipher, regions: RegionIndex, nik: str) -> list[str]:
    [lines] = why.timelines(engine, cipher, regions, POLICY, query=nik, today=TODAY)
    return lines


def test_a_self_paying_jht_member_shows_programs_amount_and_deadline(
    engine: Engine, cipher: Cipher, regions: RegionIndex
) -> None:
    lines = _lines(engine, cipher, regions, _add(engine, cipher, 1, with_jht=True))
    assert "Pembayar iuran: Sendiri · yang diingatkan: chat peserta" in lines
    assert "Program: JKK, JKM, JHT · penghasilan yang dilaporkan: Rp1.000.000 · pekerjaan: Petani" in lines
    # December 2026: JKK + JKM halved by PP 50/2025 (Rp8.400), JHT in full (Rp20.000).
    assert "Iuran berikutnya: Desember 2026, Rp28.400" in lines
    assert "Batas bayar berikutnya: paling lambat Selasa, 15 Desember 2026" in lines
    assert (
        lines[-1] == "Pengingat berikutnya: 7 hari sebelum batas bayar, Selasa, 8 Desember 2026 (iuran Desember 2026)"
    )


def test_an_apbd_paid_imam_is_not_asked_and_has_no_planned_reminder(
    engine: Engine, cipher: Cipher, regions: RegionIndex
) -> None:
    with Session(engine) as session:
        office = Sponsor(name="Pemkab Sidenreng Rappang", invite_code="sp_test_why", kind="public", created_at=NOW)
        session.add(office)
        session.commit()
        office_id = office.id
    nik = _add(engine, cipher, 2, payer="regional_government", occupation="pegawai_syara", sponsor_id=office_id)
    lines = _lines(engine, cipher, regions, nik)
    assert (
        "Pembayar iuran: Pemerintah daerah (APBD) — Pemkab Sidenreng Rappang · yang diingatkan: tidak ada; "
        "kantor pembayar menerima tagihan bulanan"
    ) in lines
    assert "Iuran berikutnya: Desember 2026, Rp16.800" in lines  # paid from the APBD: no relief
    assert lines[-1] == "Pengingat berikutnya: tidak ada yang direncanakan"
