"""Who pays decides who the officers chase (SQLite and PostgreSQL): a member an office pays for from a budget is never
chased for payment, but is listed for help, enrolment, an unknown month, or a report the branch's data contradicts."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, delete, update
from sqlmodel import Session, col

from bot.texts import t
from domain.policy import ReminderPolicy
from domain.rules import DEFAULT_STAGES, parse_stages
from domain.tariffs import default_tariffs
from domain.unreached import Reason
from domain.vocabulary import BILLED_PAYERS, Payer
from service.unreached import unreached
from storage.crypto import Cipher
from storage.models import Address, Member, MemberAddress
from tests.scheduler.test_scan import add_member
from tests.scheduler.test_unreached import remind

POLICY = ReminderPolicy(stages=parse_stages(DEFAULT_STAGES))
TODAY = date(2026, 12, 22)  # H+7 of December 2026
HELP = datetime(2026, 12, 10, tzinfo=UTC)
DONRI = "73.12.06"


def listed(engine: Engine) -> dict[str, tuple[Reason, int | None, int, int]]:
    with Session(engine) as session:
        found = unreached(session=session, codes=[DONRI], today=TODAY, policy=POLICY, tariffs=default_tariffs())
    return {u.member.full_name: (u.reason, u.days_left, u.months_due, u.amount_due) for u in found}


def test_an_imam_paid_from_the_apbd_is_not_chased_for_payment(engine: Engine, cipher: Cipher) -> None:
    """The issue's "Why": the officer's list chased an APBD-paid imam the bot could not reach, for Rp16.800."""
    with Session(engine) as session:
        apbd = Payer.REGIONAL_GOVERNMENT
        imam = add_member(session, cipher, 1, date(2026, 11, 30), payer=apbd, occupation="pegawai_syara")
        farmer = add_member(session, cipher, 2, date(2026, 11, 30), occupation="pegawai_syara")  # pays himself
        session.execute(delete(MemberAddress).where(col(MemberAddress.member_id).in_([imam.id, farmer.id])))
        session.commit()
    assert listed(engine) == {"Peserta 2": (Reason.NO_CHANNEL, 56, 1, 8_400)}


@pytest.mark.parametrize("payer", sorted(BILLED_PAYERS))
def test_a_billed_member_is_listed_for_help_but_never_for_payment(engine: Engine, cipher: Cipher, payer: str) -> None:
    with Session(engine) as session:
        ids = [
            add_member(session, cipher, 1, date(2026, 10, 31), payer=payer).id,  # blocked
            add_member(session, cipher, 2, date(2026, 11, 30), payer=payer).id,  # reminder failed
            add_member(session, cipher, 3, date(2026, 11, 30), payer=payer).id,  # no answer by H+7
            add_member(session, cipher, 4, date(2026, 11, 30), payer=payer, opted_out=True).id,
            add_member(session, cipher, 5, date(2026, 11, 30), payer=payer, help_requested_at=HELP).id,
            add_member(session, cipher, 6, None, payer=payer, bpjs_status="not_registered", needs_enrolment=True).id,
            add_member(session, cipher, 7, None, payer=payer).id,  # "Tidak ingat"
        ]
        session.flush()
        remind(session, ids[1] or 0, "failed")
        remind(session, ids[2] or 0, "delivered")
        session.execute(update(Address).where(col(Address.external_id) == "s1").values(status="unreachable"))
        session.commit()
    assert listed(engine) == {
        "Peserta 5": (Reason.HELP, None, 0, 0),  # nothing to collect from them: the office is billed
        "Peserta 6": (Reason.ENROLMENT, None, 0, 0),
        "Peserta 7": (Reason.UNKNOWN_MONTH, None, 0, 0),
    }


def test_a_report_the_branchs_data_contradicts_goes_to_the_officer(engine: Engine, cipher: Cipher) -> None:
    flagged = datetime(2026, 12, 20, tzinfo=UTC)
    with Session(engine) as session:
        # The import took the branch's September over the member's own "paid to December": two months behind.
        first = add_member(session, cipher, 1, date(2026, 9, 30))
        # Lapsed long ago by the branch's data, outside every open cycle: listed all the same.
        second = add_member(session, cipher, 2, date(2026, 5, 31))
        third = add_member(session, cipher, 3, date(2026, 9, 30), payer=Payer.VILLAGE_FUND)
        fourth = add_member(session, cipher, 4, date(2026, 9, 30), help_requested_at=HELP)
        add_member(session, cipher, 5, date(2026, 12, 31))  # no contradiction: not listed
        flagged_ids = [first.id, second.id, third.id, fourth.id]
        session.execute(update(Member).where(col(Member.id).in_(flagged_ids)).values(report_mismatch_at=flagged))
        session.commit()
    found = listed(engine)
    assert found == {
        "Peserta 1": (Reason.REPORT_MISMATCH, -6, 3, 25_200),  # lapsed 16 December; October to December owed
        "Peserta 2": (Reason.REPORT_MISMATCH, None, 0, 0),
        "Peserta 3": (Reason.REPORT_MISMATCH, None, 0, 0),
        "Peserta 4": (Reason.HELP, -6, 3, 25_200),  # asking for help comes first
    }
    assert t(f"officer.reason.{Reason.REPORT_MISMATCH}") == "laporan bayar belum cocok dengan data BPJS"
