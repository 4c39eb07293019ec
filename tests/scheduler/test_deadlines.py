"""(last paid month, day) → the stage created, the day it goes out (quiet days), and its deadline words — on SQLite
and PostgreSQL, through the real scan, dispatcher and renderer, under the Indonesian holiday calendar.

The deadline is said one way ("paling lambat <hari>, <tanggal>"): the month's 15th before and on its due day; after
it, the last day a payment still keeps the membership active, as that month's 15th (or, once the 15th has passed on a
Sunday or holiday, the working day that is still left); at the lapse, guidance and no payment asked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.dialogs.core import Reply
from bot.settings import national_holidays
from domain.delivery import SendResult, Sent, Target
from domain.policy import ReminderPolicy
from domain.rules import DEFAULT_STAGES, holiday_quiet_periods, parse_stages
from domain.tariffs import default_tariffs
from domain.vocabulary import LinkProof
from domain.workdays import WorkCalendar
from scheduler.dispatch import Dispatcher
from scheduler.messages import ReminderRenderer
from storage.crypto import Cipher
from storage.models import Reminder
from storage.scan import ScanResult, scan
from tests.scheduler.test_scan import add_member

WITA = ZoneInfo("Asia/Makassar")
ZONES = {"73": WITA}
CALENDAR = WorkCalendar(national_holidays(range(2026, 2029)))
POLICY = ReminderPolicy(stages=parse_stages(DEFAULT_STAGES), workdays=CALENDAR, quiet=holiday_quiet_periods(CALENDAR))
OFFICER = ("Andi Penyuluh", "+6281200000009")
T0 = datetime(2026, 1, 5, tzinfo=UTC)


@dataclass
class Inbox:
    channel: str = "telegram"
    per_second: float = 0.0
    per_chat_seconds: float = 0.0
    received: list[tuple[date, Reply]] = field(default_factory=list)
    today: date = date(2026, 1, 1)

    async def send(self, target: Target, message: Reply) -> SendResult:
        self.received.append((self.today, message))
        return Sent(provider_id=f"m{len(self.received)}")


def eight_am(day: date) -> datetime:
    return datetime.combine(day, time(8, 0), tzinfo=WITA).astimezone(UTC)


def renderer(cipher: Cipher, policy: ReminderPolicy = POLICY) -> ReminderRenderer:
    return ReminderRenderer(
        cipher, default_tariffs(), policy, "BRILink", "hubungi penyuluh desa", officers=lambda _: OFFICER
    )


async def first_message(engine: Engine, cipher: Cipher, day: date, policy: ReminderPolicy = POLICY) -> Inbox:
    """Dispatch at 08:00 of each day from `day` on until something goes out (quiet days hold reminders back)."""
    inbox = Inbox()
    dispatcher = Dispatcher(
        engine=engine, senders={"telegram": inbox}, render=renderer(cipher, policy), policy=policy, worker="t"
    )
    for offset in range(8):
        inbox.today = day + timedelta(days=offset)
        await dispatcher.drain(eight_am(inbox.today))
        if inbox.received:
            break
    return inbox


@dataclass(frozen=True)
class Case:
    covered_until: date
    scanned: date
    stage: str
    sent_on: date
    says: tuple[str, ...]
    never: tuple[str, ...] = ()


PAYABLE = ("Bayar dengan menyebutkan NIK di: BRILink",)
CASES = {
    "H-7: the month's 15th": Case(
        date(2026, 11, 30),
        date(2026, 12, 8),
        "H-7",
        date(2026, 12, 8),
        ("iuran bulan Desember 2026 sebesar Rp8.400, paling lambat Selasa, 15 Desember 2026.", *PAYABLE),
    ),
    "H-1: the same words": Case(
        date(2026, 11, 30),
        date(2026, 12, 14),
        "H-1",
        date(2026, 12, 14),
        ("iuran bulan Desember 2026 sebesar Rp8.400, paling lambat Selasa, 15 Desember 2026.",),
    ),
    "H+7: the last day that keeps the membership, two months on": Case(
        date(2026, 11, 30),
        date(2026, 12, 22),
        "H+7",
        date(2026, 12, 22),
        (
            "iuran 1 bulan (Desember 2026) belum dibayar: Rp8.400. Agar kepesertaan tetap aktif, mohon dibayar "
            "paling lambat Senin, 15 Februari 2027.",
        ),
        ("15 Desember",),
    ),
    "Christmas 2026: first seen on the cuti bersama, sent on Saturday 26": Case(
        date(2026, 11, 30),
        date(2026, 12, 24),
        "H+7",
        date(2026, 12, 26),
        ("iuran 1 bulan (Desember 2026) belum dibayar: Rp8.400", "paling lambat Senin, 15 Februari 2027."),
    ),
    "the discount's end: January's own H-7 with December in arrears": Case(
        date(2026, 11, 30),
        date(2027, 1, 8),
        "H-7@2",
        date(2027, 1, 8),
        (
            "iuran bulan Januari 2027 sebesar Rp16.800, paling lambat Jumat, 15 Januari 2027. Iuran 1 bulan "
            "sebelumnya (Desember 2026) juga belum dibayar: Rp8.400. Jumlah semuanya Rp25.200.",
        ),
    ),
    "15 Nov 2026 is a Sunday: the last month's H-1 advises the 15th": Case(
        date(2026, 8, 31),
        date(2026, 11, 14),
        "H-1@3",
        date(2026, 11, 14),
        (
            "iuran bulan November 2026 sebesar Rp8.400, paling lambat Minggu, 15 November 2026. Iuran 2 bulan "
            "sebelumnya (September–Oktober 2026) juga belum dibayar: Rp16.800. Jumlah semuanya Rp25.200. Jika "
            "sampai batas itu belum dibayar, kepesertaan menjadi nonaktif.",
        ),
    ),
    "Monday 16 Nov 2026, 08:00: the last day, not a lapse": Case(
        date(2026, 8, 31),
        date(2026, 11, 16),
        "L-1",
        date(2026, 11, 16),
        (
            "hari ini batas terakhir agar kepesertaan tidak nonaktif. Iuran 3 bulan (September–November 2026) "
            "belum dibayar: Rp25.200, mohon dibayar paling lambat Senin, 16 November 2026.",
            *PAYABLE,
        ),
        ("nonaktif sejak", "Minggu, 15 November"),
    ),
    "Tuesday 17 Nov 2026: lapsed, guidance and no payment asked": Case(
        date(2026, 8, 31),
        date(2026, 11, 17),
        "L0",
        date(2026, 11, 17),
        (
            "iuran 3 bulan (September–November 2026) belum tercatat dibayar sampai batas terakhir, Senin, 16 "
            "November 2026, sehingga kepesertaan kemungkinan sudah nonaktif sejak Selasa, 17 November 2026.",
            "hubungi penyuluh Bapak/Ibu, Andi Penyuluh (+62 812-0000-0009), atau BPJS Ketenagakerjaan di 175",
            "kantor cabang BPJS Ketenagakerjaan",
        ),
        ("paling lambat", "Bayar dengan", "mohon dibayar"),
    ),
    "Idul Fitri 2027: H-7 on Nyepi waits out the holidays to Saturday 13 March": Case(
        date(2027, 2, 28),
        date(2027, 3, 8),
        "H-7",
        date(2027, 3, 13),
        ("iuran bulan Maret 2027 sebesar Rp16.800, paling lambat Senin, 15 Maret 2027.",),
    ),
    "Idul Fitri 2027: 15 March is cuti bersama, the last day is Tuesday 16": Case(
        date(2026, 12, 31),
        date(2027, 3, 16),
        "L-1",
        date(2027, 3, 16),
        (
            "Iuran 3 bulan (Januari–Maret 2027) belum dibayar: Rp50.400, mohon dibayar paling lambat Selasa, 16 "
            "Maret 2027.",
        ),
        ("nonaktif sejak",),
    ),
    "Idul Fitri 2026: H+7 on its second day waits to Wednesday 25 March": Case(
        date(2026, 2, 28),
        date(2026, 3, 22),
        "H+7",
        date(2026, 3, 25),
        (
            "iuran 1 bulan (Maret 2026) belum dibayar: Rp16.800. Agar kepesertaan tetap aktif, mohon dibayar "
            "paling lambat Jumat, 15 Mei 2026.",
        ),
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
async def test_the_stage_its_day_and_its_deadline_words(engine: Engine, cipher: Cipher, case: Case) -> None:
    with Session(engine) as session:
        add_member(session, cipher, 1, case.covered_until, now=T0)
        session.commit()
    with Session(engine) as session:
        scan(session=session, today=case.scanned, policy=POLICY, zones=ZONES, now=eight_am(case.scanned))
        session.commit()
        stages = session.exec(select(Reminder.stage).where(col(Reminder.status) == "pending")).all()
    assert stages == [case.stage]
    inbox = await first_message(engine, cipher, case.scanned)
    [(sent_on, message)] = inbox.received
    assert sent_on == case.sent_on
    for words in case.says:
        assert words in message.text
    for words in case.never:
        assert words not in message.text


# --- silence when it matters most ---


def daily_scans(engine: Engine, first: date, last: date, policy: ReminderPolicy = POLICY) -> list[ScanResult]:
    results, day = [], first
    while day <= last:
        with Session(engine) as session:
            now = eight_am(day) - timedelta(hours=2)
            results.append(scan(session=session, today=day, policy=policy, zones=ZONES, now=now))
            session.commit()
        day += timedelta(days=1)
    return results


def timeline(engine: Engine) -> list[tuple[date, str, str, str]]:
    """(local day, stage, status, reason) of every reminder, in order."""
    with Session(engine) as session:
        rows = session.exec(
            select(Reminder).order_by(col(Reminder.send_after), col(Reminder.cycle), col(Reminder.stage_rank))
        ).all()
    return [(r.send_after.astimezone(WITA).date(), r.stage, r.status, r.reason) for r in rows]


def test_a_member_who_never_pays_hears_every_month_and_on_the_last_day(engine: Engine, cipher: Cipher) -> None:
    # December 2026 unpaid, then January and February 2027: non-active from Tuesday 16 February 2027.
    with Session(engine) as session:
        add_member(session, cipher, 1, date(2026, 11, 30), now=T0)
        session.commit()
    daily_scans(engine, date(2026, 12, 1), date(2027, 2, 28))
    assert [(day, stage) for day, stage, status, _ in timeline(engine) if status == "pending"] == [
        (date(2026, 12, 8), "H-7"),
        (date(2026, 12, 14), "H-1"),
        (date(2026, 12, 22), "H+7"),
        (date(2027, 1, 8), "H-7@2"),  # January's own stages, with December in arrears
        (date(2027, 1, 14), "H-1@2"),
        (date(2027, 1, 22), "H+7@2"),
        (date(2027, 2, 8), "H-7@3"),
        (date(2027, 2, 14), "H-1@3"),
        (date(2027, 2, 15), "L-1"),  # the last day a payment keeps the membership active
        (date(2027, 2, 16), "L0"),
    ]
    assert [row for row in timeline(engine) if row[2] != "pending"] == []  # nothing skipped: the default fits the cap


async def test_a_family_phone_gets_its_arrears_and_the_months_own_reminder_in_one_message(
    engine: Engine, cipher: Cipher
) -> None:
    from storage import members as store
    from tests.outbox_fixtures import synthetic_fields

    with Session(engine) as session:
        address = store.get_or_create_address(session=session, channel="telegram", external_id="family", now=T0)
        assert address.id is not None
        for index, covered in ((1, date(2026, 11, 30)), (2, date(2026, 10, 31))):
            fields = synthetic_fields(index, covered, full_name=f"Peserta {index}")
            nik = f"731206010180{9000 + index:04d}"
            store.create_member(
                session=session,
                cipher=cipher,
                nik=nik,
                fields=fields,
                address_id=address.id,
                now=T0,
                proof=LinkProof.STAFF,
            )
        session.commit()
    daily_scans(engine, date(2026, 12, 8), date(2026, 12, 8))
    inbox = await first_message(engine, cipher, date(2026, 12, 8))
    [(_, message)] = inbox.received
    assert "Peserta 1 (NIK 7312********9001): iuran bulan Desember 2026 sebesar Rp8.400, paling lambat" in message.text
    assert (
        "Peserta 2 (NIK 7312********9002): iuran bulan Desember 2026 sebesar Rp8.400, paling lambat Selasa, 15 "
        "Desember 2026. Iuran 1 bulan sebelumnya (November 2026) juga belum dibayar: Rp8.400. Jumlah semuanya "
        "Rp16.800." in message.text
    )


# --- at most N reminders a member a month ---

BUSY = ReminderPolicy(stages=parse_stages("H-7,H-5,H-3,H-1,H0,H+7,L-1,L0"), workdays=CALENDAR, per_month=4)


def test_the_monthly_cap_skips_with_a_reason_and_keeps_room_for_the_last_day(engine: Engine, cipher: Cipher) -> None:
    with Session(engine) as session:
        add_member(session, cipher, 1, date(2026, 11, 30), now=T0)
        session.commit()
    results = daily_scans(engine, date(2026, 12, 1), date(2027, 2, 28), BUSY)
    rows = timeline(engine)
    by_month: dict[tuple[int, int], list[str]] = {}
    for day, stage, status, _ in rows:
        if status == "pending":
            by_month.setdefault((day.year, day.month), []).append(stage)
    assert by_month == {
        (2026, 12): ["H-7", "H-5", "H-3", "H-1"],
        (2027, 1): ["H-7@2", "H-5@2", "H-3@2", "H-1@2"],
        (2027, 2): ["H-7@3", "H-5@3", "L-1", "L0"],  # room kept for the last day (15 Feb) and the lapse (16 Feb)
    }
    capped = [(day, stage) for day, stage, status, reason in rows if (status, reason) == ("skipped", "cap:4")]
    assert capped == [
        (date(2026, 12, 15), "H0"),
        (date(2026, 12, 22), "H+7"),
        (date(2027, 1, 15), "H0@2"),
        (date(2027, 1, 22), "H+7@2"),
        (date(2027, 2, 12), "H-3@3"),
        (date(2027, 2, 14), "H-1@3"),
    ]
    assert [row for row in rows if row[2] == "skipped" and row[3] != "cap:4"] == []  # H0@3 is L-1's day: one row
    assert (sum(r.created for r in results), sum(r.skipped for r in results)) == (12, 6)  # the scan's own counts
    again = daily_scans(engine, date(2027, 2, 14), date(2027, 2, 16), BUSY)  # the same days again: nothing new
    assert timeline(engine) == rows
    assert [(r.created, r.skipped) for r in again] == [(0, 0)] * 3


def test_the_cap_counts_a_members_reminders_of_another_cycle_this_month(engine: Engine, cipher: Cipher) -> None:
    from storage.models import Member

    policy = ReminderPolicy(stages=parse_stages(DEFAULT_STAGES), workdays=CALENDAR, per_month=2)
    with Session(engine) as session:
        member = add_member(session, cipher, 1, date(2026, 10, 31), now=T0)  # November unpaid
        session.commit()
        member_id = member.id
    daily_scans(engine, date(2026, 12, 1), date(2026, 12, 9), policy)  # 8 Dec: H-7@2 of the November cycle
    with Session(engine) as session:  # 10 Dec: November is paid; December is now the first unpaid month
        paid = session.get(Member, member_id)
        assert paid is not None
        paid.covered_until, paid.updated_at = date(2026, 11, 30), eight_am(date(2026, 12, 10))
        session.add(paid)
        session.commit()
    daily_scans(engine, date(2026, 12, 10), date(2026, 12, 31), policy)
    assert [(stage, status, reason) for _, stage, status, reason in timeline(engine)] == [
        ("H+7", "pending", ""),  # November's cycle, 22 November: current at the first scan (1 December)
        ("H-7@2", "pending", ""),  # November's cycle, 8 December
        ("H-7", "pending", ""),  # December's cycle (its stage of 8 December), current when the payment came
        ("H-1", "skipped", "cap:2"),
        ("H+7", "skipped", "cap:2"),
    ]


async def test_fourteen_days_before_the_lapse_names_the_last_day_not_a_wrong_count(
    engine: Engine, cipher: Cipher
) -> None:
    """L-14 used to say the protection stops "karena iuran 2 bulan belum dibayar", when it takes three."""
    policy = ReminderPolicy(stages=parse_stages("H-7,L-14,L-1,L0"), workdays=CALENDAR)
    with Session(engine) as session:
        add_member(session, cipher, 1, date(2026, 9, 30), now=T0)  # October unpaid: lapses on 16 December
        session.commit()
    daily_scans(engine, date(2026, 12, 2), date(2026, 12, 2), policy)
    inbox = await first_message(engine, cipher, date(2026, 12, 2), policy)
    [(_, message)] = inbox.received
    assert (
        "iuran 2 bulan (Oktober–November 2026) belum dibayar: Rp16.800. Agar kepesertaan tetap aktif, mohon dibayar "
        "paling lambat Selasa, 15 Desember 2026." in message.text
    )
    assert "karena iuran 2 bulan" not in message.text
