"""The scan on SQLite and PostgreSQL: the right stage on the right day, exactly once, outages caught up."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from domain.policy import ReminderPolicy
from domain.rules import DEFAULT_STAGES, parse_stages
from domain.vocabulary import LinkProof, Payer
from storage import members as store
from storage.crypto import Cipher
from storage.models import Member, Reminder
from storage.scan import ScanResult, scan
from tests.outbox_fixtures import synthetic_fields

POLICY = ReminderPolicy(stages=parse_stages(DEFAULT_STAGES))
ZONES = {"73": ZoneInfo("Asia/Makassar")}
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def add_member(
    session: Session, cipher: Cipher, index: int, covered_until: date | None, *, now: datetime = T0, **extra: object
) -> Member:
    address = store.get_or_create_address(session=session, channel="telegram", external_id=f"s{index}", now=now)
    assert address.id is not None
    fields = synthetic_fields(index, covered_until, **extra)
    nik = f"731206010180{9000 + index:04d}"
    return store.create_member(
        session=session, cipher=cipher, nik=nik, fields=fields, address_id=address.id, now=now, proof=LinkProof.STAFF
    )


def run_scan(engine: Engine, day: date) -> ScanResult:
    with Session(engine) as session:
        result = scan(session=session, today=day, policy=POLICY, zones=ZONES, now=_noon(day))
        session.commit()
    return result


def _noon(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=4)


def reminders(engine: Engine) -> list[tuple[int, int, str, str]]:
    with Session(engine) as session:
        rows = session.exec(select(Reminder).order_by(col(Reminder.member_id), col(Reminder.stage_rank))).all()
        return [(r.member_id, r.cycle, r.stage, r.status) for r in rows]


def test_stage_on_its_day_exactly_once(engine: Engine, cipher: Cipher) -> None:
    with Session(engine) as session:
        member = add_member(session, cipher, 1, date(2026, 11, 30))
        session.commit()
        member_id = member.id
    assert run_scan(engine, date(2026, 12, 7)).created == 0
    assert run_scan(engine, date(2026, 12, 8)).created == 1
    assert run_scan(engine, date(2026, 12, 8)).created == 0  # twice the same day: nothing new
    assert reminders(engine) == [(member_id, 202612, "H-7", "pending")]
    with Session(engine) as session:
        row = session.exec(select(Reminder)).one()
    # 08:00 WITA on the stage day; superseded at 08:00 WITA on the next stage's day (H-1).
    assert row.send_after == datetime(2026, 12, 8, 0, 0, tzinfo=UTC)
    assert row.expires_at == datetime(2026, 12, 14, 0, 0, tzinfo=UTC)
    assert row.zone == "Asia/Makassar"


def test_a_ten_day_outage_sends_one_reminder_not_ten(engine: Engine, cipher: Cipher) -> None:
    with Session(engine) as session:
        for index in range(5):
            add_member(session, cipher, index, date(2026, 11, 30))
        session.commit()
    run_scan(engine, date(2026, 12, 5))
    result = run_scan(engine, date(2026, 12, 15))  # down from the 6th to the 14th: H-7 and H-1 passed unseen
    assert (result.created, result.skipped) == (5, 5)
    rows = reminders(engine)
    assert {(stage, status) for _, _, stage, status in rows} == {("H-7", "skipped"), ("H-1", "pending")}
    assert sum(1 for row in rows if row[3] == "pending") == 5
    for day in range(16, 22):
        assert run_scan(engine, date(2026, 12, day)).created == 0
    assert run_scan(engine, date(2026, 12, 22)).created == 5  # H+7


def test_first_scan_ever_sends_the_current_stage(engine: Engine, cipher: Cipher) -> None:
    with Session(engine) as session:
        add_member(session, cipher, 1, date(2026, 10, 31))  # November unpaid: H+7 was 22 November
        session.commit()
    result = run_scan(engine, date(2026, 11, 25))
    assert (result.created, result.skipped) == (1, 0)
    assert [row[2:] for row in reminders(engine)] == [("H+7", "pending")]


def test_who_gets_nothing(engine: Engine, cipher: Cipher) -> None:
    with Session(engine) as session:
        add_member(session, cipher, 1, date(2026, 11, 30), opted_out=True)
        add_member(session, cipher, 2, None, bpjs_status="not_registered", needs_enrolment=True)
        add_member(session, cipher, 3, date(2026, 12, 31))  # already paid December
        add_member(session, cipher, 4, date(2026, 11, 30), kecamatan_code="74.01.01")  # outside the area's zones
        session.commit()
    assert run_scan(engine, date(2026, 12, 8)).created == 0


@pytest.mark.parametrize(
    ("payer", "asked"),
    [
        (Payer.SELF, True),
        (Payer.FAMILY, True),
        (Payer.SPONSOR, True),  # a person pays: they are asked, on their chat (the outbox picks it)
        (Payer.INSTITUTION, False),  # CSR, Baznas, an OPD: a monthly statement to the office instead
        (Payer.REGIONAL_GOVERNMENT, False),  # APBD: an imam of Pakareso is never told to pay
        (Payer.CENTRAL_GOVERNMENT, False),
        (Payer.VILLAGE_FUND, False),
    ],
)
def test_who_pays_decides_who_is_asked(engine: Engine, cipher: Cipher, payer: Payer, asked: bool) -> None:
    with Session(engine) as session:
        add_member(session, cipher, 1, date(2026, 11, 30), payer=payer)
        session.commit()
    assert run_scan(engine, date(2026, 12, 8)).created == (1 if asked else 0)


def test_member_registered_after_a_stage_gets_it_at_the_next_scan(engine: Engine, cipher: Cipher) -> None:
    with Session(engine) as session:
        add_member(session, cipher, 1, date(2026, 11, 30))
        session.commit()
    assert run_scan(engine, date(2026, 12, 8)).created == 1
    late = datetime(2026, 12, 9, 1, 0, tzinfo=UTC)
    with Session(engine) as session:
        add_member(session, cipher, 2, date(2026, 11, 30), now=late)
        session.commit()
    assert run_scan(engine, date(2026, 12, 9)).created == 1
    assert [row[2] for row in reminders(engine)] == ["H-7", "H-7"]


def test_cycles_across_the_year_end(engine: Engine, cipher: Cipher) -> None:
    with Session(engine) as session:
        add_member(session, cipher, 1, date(2026, 12, 31))
        add_member(session, cipher, 2, date(2026, 10, 31))
        session.commit()
    # Member 2 (November unpaid) is first seen on 7 January: of its stages, H+7@2 (22 December) is the current one.
    first = run_scan(engine, date(2027, 1, 7))
    assert (first.created, first.skipped) == (1, 0)
    # Member 1: H-7 of January 2027; member 2: H-7 of January too, with November and December in arrears.
    assert run_scan(engine, date(2027, 1, 8)).created == 2
    assert [row[1:] for row in reminders(engine)] == [
        (202701, "H-7", "pending"),
        (202611, "H+7@2", "pending"),
        (202611, "H-7@3", "pending"),
    ]
    last = run_scan(engine, date(2027, 1, 16))  # member 2: L0, the lapse day (H-1@3, L-1 skipped); member 1: H-1
    assert (last.created, last.skipped) == (2, 2)


def test_a_cycle_long_past_its_last_stage_creates_nothing(engine: Engine, cipher: Cipher) -> None:
    with Session(engine) as session:
        add_member(session, cipher, 1, date(2026, 7, 31))  # August unpaid: lapsed 16 October, L0 + 7 days long gone
        session.commit()
    assert run_scan(engine, date(2026, 12, 8)).created == 0


def test_rerunning_a_past_day_never_adds_an_earlier_stage(engine: Engine, cipher: Cipher) -> None:
    with Session(engine) as session:
        add_member(session, cipher, 1, date(2026, 11, 30))
        session.commit()
    assert run_scan(engine, date(2026, 12, 15)).created == 1  # H-1 (14 December), still current
    assert run_scan(engine, date(2026, 12, 12)).created == 0  # `scan --date` for a day gone by: H-7 is stale
    assert [row[2:] for row in reminders(engine)] == [("H-1", "pending")]


def test_a_sunday_deadline_lapses_after_the_monday(engine: Engine, cipher: Cipher) -> None:
    # Covered until 31 August 2026: September, October and November unpaid. November's 15th is a Sunday, so the
    # membership is not lapsed on Monday 16 November (the effective deadline) but from Tuesday 17 November.
    with Session(engine) as session:
        member = add_member(session, cipher, 1, date(2026, 8, 31))
        session.commit()
        member_id = member.id
    run_scan(engine, date(2026, 11, 15))
    run_scan(engine, date(2026, 11, 16))
    assert [r for r in reminders(engine) if r[2] == "L0"] == []
    run_scan(engine, date(2026, 11, 17))
    assert reminders(engine)[-1] == (member_id, 202609, "L0", "pending")
