"""Issue 13's table on both databases: (payer, occupation, programs, income, last paid month, day) → who is
addressed, the amount the reminder states, and its deadline words — through the real scan, dispatcher and renderer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from domain.policy import ReminderPolicy
from domain.rules import DEFAULT_STAGES, parse_stages
from domain.tariffs import default_tariffs
from domain.vocabulary import LinkProof, Occupation, Payer
from scheduler.dispatch import Dispatcher
from scheduler.messages import ReminderRenderer
from storage import members as store
from storage.crypto import Cipher
from storage.models import Sponsor
from storage.scan import scan
from tests.outbox_fixtures import synthetic_fields
from tests.service.test_reminder_replies import Inbox

POLICY = ReminderPolicy(stages=parse_stages(DEFAULT_STAGES))
ZONE = ZoneInfo("Asia/Makassar")
NIK = "7312060101809101"


@dataclass(frozen=True, slots=True)
class Case:
    payer: Payer
    occupation: Occupation
    with_jht: bool
    income: int
    covered_until: date
    day: date  # an H-7 stage day: the 8th
    addressed: str | None  # "member", "sponsor", or None (an office's statement instead)
    amount: str = ""
    deadline: str = ""


DEC = date(2026, 11, 30)  # paid through November: December 2026 is owed
JAN = date(2026, 12, 31)  # paid through December: January 2027 is owed
CASES = {
    "farmer, PP 50/2025 month": Case(Payer.SELF, Occupation.PETANI, False, 1_000_000, DEC, date(2026, 12, 8),
                                     "member", "Rp8.400", "paling lambat Selasa, 15 Desember 2026"),
    "farmer with JHT": Case(Payer.SELF, Occupation.PETANI, True, 1_000_000, DEC, date(2026, 12, 8),
                            "member", "Rp28.400", "paling lambat Selasa, 15 Desember 2026"),
    "JHT above the minimum": Case(Payer.FAMILY, Occupation.NELAYAN, True, 2_000_000, DEC, date(2026, 12, 8),
                                  "member", "Rp53.400", "paling lambat Selasa, 15 Desember 2026"),
    "farmer after the relief": Case(Payer.SELF, Occupation.PETANI, False, 1_000_000, JAN, date(2027, 1, 8),
                                    "member", "Rp16.800", "paling lambat Jumat, 15 Januari 2027"),
    "ojek driver, relief to March 2027": Case(Payer.FAMILY, Occupation.PENGEMUDI, False, 1_000_000, JAN,
                                              date(2027, 1, 8), "member", "Rp8.400",
                                              "paling lambat Jumat, 15 Januari 2027"),
    "a prosecutor pays": Case(Payer.SPONSOR, Occupation.PETANI, False, 1_000_000, DEC, date(2026, 12, 8),
                              "sponsor", "Rp8.400", "paling lambat Selasa, 15 Desember 2026"),
    "imam paid from the APBD": Case(Payer.REGIONAL_GOVERNMENT, Occupation.PEGAWAI_SYARA, False, 1_000_000, DEC,
                                    date(2026, 12, 8), None),
    "APBN": Case(Payer.CENTRAL_GOVERNMENT, Occupation.PETANI, False, 1_000_000, DEC, date(2026, 12, 8), None),
    "Dana Desa": Case(Payer.VILLAGE_FUND, Occupation.PETANI, False, 1_000_000, DEC, date(2026, 12, 8), None),
    "CSR": Case(Payer.INSTITUTION, Occupation.NELAYAN, True, 1_000_000, DEC, date(2026, 12, 8), None),
}  # fmt: skip


def _seed(engine: Engine, cipher: Cipher, case: Case, now: datetime) -> None:
    with Session(engine) as session:
        own = store.get_or_create_address(session=session, channel="telegram", external_id="member", now=now)
        sponsor_chat = store.get_or_create_address(session=session, channel="telegram", external_id="sponsor", now=now)
        sponsor = Sponsor(name="Kejaksaan Negeri Soppeng", invite_code="sp_case", address_id=sponsor_chat.id,
                          created_at=now)  # fmt: skip
        session.add(sponsor)
        session.flush()
        fields = synthetic_fields(1, case.covered_until, payer=case.payer, occupation=case.occupation,
                                  with_jht=case.with_jht, declared_income=case.income)  # fmt: skip
        member = store.create_member(
            session=session, cipher=cipher, nik=NIK, fields=fields, address_id=own.id, now=now, proof=LinkProof.STAFF
        )
        member.sponsor_id = sponsor.id if case.payer in {Payer.SPONSOR, Payer.REGIONAL_GOVERNMENT} else None
        session.add(member)
        session.commit()


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
async def test_who_is_addressed_the_amount_and_the_deadline(engine: Engine, cipher: Cipher, case: Case) -> None:
    morning = datetime.combine(case.day, time(8, 30), tzinfo=ZONE).astimezone(UTC)
    _seed(engine, cipher, case, morning)
    with Session(engine) as session:
        scan(session=session, today=case.day, policy=POLICY, zones={"73": ZONE}, now=morning)
        session.commit()
    inbox = Inbox()
    renderer = ReminderRenderer(cipher, default_tariffs(), POLICY, "BRILink", "penyuluh desa")
    dispatcher = Dispatcher(engine=engine, senders={"telegram": inbox}, render=renderer, policy=POLICY, worker="t")
    await dispatcher.drain(morning)
    reminders = [(chat, reply.text) for chat, reply in inbox.received if "sebesar" in reply.text]
    if case.addressed is None:
        assert inbox.received == []  # never asked to pay: the office gets the month's statement instead
        return
    [(chat, text)] = reminders
    assert chat == case.addressed
    assert f"sebesar {case.amount}" in text
    assert case.deadline in text
