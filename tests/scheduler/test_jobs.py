"""Scheduling: one scan leader on PostgreSQL, lapse marking, the APScheduler jobs, and the operations commands."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, col, select

from bot.__main__ import main
from domain.policy import ReminderPolicy
from domain.rules import DEFAULT_STAGES, parse_stages
from scheduler.jobs import build_scheduler
from service.daily import mark_lapses, scan_once
from storage.crypto import Cipher
from storage.db import SCAN_LOCK
from storage.models import Member
from tests.scheduler.test_scan import add_member

POLICY = ReminderPolicy(stages=parse_stages(DEFAULT_STAGES))
ZONES = {"73": ZoneInfo("Asia/Makassar")}
NOW = datetime(2026, 12, 8, 1, 0, tzinfo=UTC)


def test_a_sunday_deadline_is_not_a_lapse_on_the_monday(engine: Engine, cipher: Cipher) -> None:
    with Session(engine) as session:
        add_member(session, cipher, 1, date(2026, 8, 31))  # 3 unpaid months: November's 15th is a Sunday
        session.commit()
    assert mark_lapses(engine=engine, policy=POLICY, today=date(2026, 11, 16)) == 0  # Monday: the deadline itself
    assert mark_lapses(engine=engine, policy=POLICY, today=date(2026, 11, 17)) == 1
    with Session(engine) as session:
        lapsed = session.exec(select(Member).where(col(Member.lapsed_on).is_not(None))).one()
        assert lapsed.lapsed_on == date(2026, 11, 17)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_only_one_process_leads_the_scan(engine: Engine, cipher: Cipher) -> None:
    with Session(engine) as session:
        add_member(session, cipher, 1, date(2026, 11, 30))
        session.commit()
    with engine.connect() as other:  # another process holds the lead
        other.execute(text("SELECT pg_advisory_lock(:key)"), {"key": SCAN_LOCK})
        assert scan_once(engine=engine, policy=POLICY, zones=ZONES, today=date(2026, 12, 8), now=NOW) is None
        other.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": SCAN_LOCK})
    result = scan_once(engine=engine, policy=POLICY, zones=ZONES, today=date(2026, 12, 8), now=NOW)
    assert result is not None
    assert result.created == 1


def test_lapses_are_marked_on_the_lapse_day_and_cleared_by_payment(engine: Engine, cipher: Cipher) -> None:
    with Session(engine) as session:
        add_member(session, cipher, 1, date(2026, 10, 31))  # November unpaid: non-active from 16 January 2027
        add_member(session, cipher, 2, date(2026, 12, 31))
        session.commit()
    assert mark_lapses(engine=engine, policy=POLICY, today=date(2027, 1, 15)) == 0
    assert mark_lapses(engine=engine, policy=POLICY, today=date(2027, 1, 16)) == 1
    assert mark_lapses(engine=engine, policy=POLICY, today=date(2027, 1, 17)) == 0  # already marked
    with Session(engine) as session:
        lapsed = session.exec(select(Member).where(col(Member.lapsed_on).is_not(None))).one()
        assert (lapsed.full_name, lapsed.lapsed_on) == ("Peserta 1", date(2027, 1, 16))
        lapsed.covered_until = date(2027, 1, 31)
        session.add(lapsed)
        session.commit()
    mark_lapses(engine=engine, policy=POLICY, today=date(2027, 1, 20))
    with Session(engine) as session:
        assert session.exec(select(Member).where(col(Member.lapsed_on).is_not(None))).all() == []


async def test_scheduler_runs_the_scan_at_start_and_dispatch_repeatedly() -> None:
    calls: dict[str, int] = {"scan": 0, "dispatch": 0, "lapses": 0}

    def counter(name: str):  # type: ignore[no-untyped-def]
        async def job() -> None:
            calls[name] += 1

        return job

    scheduler = build_scheduler(
        zone=ZoneInfo("Asia/Makassar"),
        scan_at=time(6, 0),
        dispatch_every=0.05,
        on_scan=counter("scan"),
        on_dispatch=counter("dispatch"),
        on_lapses=counter("lapses"),
        now=datetime.now(UTC),
    )
    scheduler.start()
    await asyncio.sleep(0.4)
    scheduler.shutdown(wait=False)
    assert calls["scan"] == 1  # caught up at start-up, next at 06:00 WITA
    assert calls["lapses"] == 1
    assert calls["dispatch"] >= 3
    for job in scheduler.get_jobs():
        assert (job.coalesce, job.max_instances) == (True, 1)


def test_operations_commands(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'ops.db'}")
    assert main(["demo", "--members", "0", "--days", "0", "--database", str(tmp_path / "ops.db")]) == 0
    capsys.readouterr()
    assert main(["scan", "--date", "2026-11-23"]) == 0
    day = "Senin, 23 November 2026"
    assert capsys.readouterr().out.strip() == f"{day}: 1 pengingat dibuat, 0 dilewati."  # La Baco, November H+7
    assert main(["scan", "--date", "2026-11-23"]) == 0
    assert capsys.readouterr().out.strip() == f"{day}: 0 pengingat dibuat, 0 dilewati."
    assert main(["why", "7312 0615 0680 9001"]) == 0
    report = capsys.readouterr().out
    assert "La Baco (NIK 7312********9001)" in report
    assert "Pengingat 7 hari lewat batas bayar (iuran November 2026): menunggu dikirim" in report
    later = "7 hari sebelum batas bayar (bulan tunggakan ke-2)"  # H-7@2
    assert f"Pengingat berikutnya: {later}, Selasa, 8 Desember 2026 (iuran November 2026)" in report
    assert "Batas bayar berikutnya: paling lambat Jumat, 15 Januari 2027" in report  # November unpaid: January's
    assert main(["why", "0812-9999-0000"]) == 1
    with pytest.raises(SystemExit, match="TELEGRAM_BOT_TOKEN"):
        main(["dispatch", "--once"])


def test_officer_add(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'ops.db'}")
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "")
    assert main(["officer-add", "--name", "Penyuluh Donri", "--area", "73.12.06,73.12.01.2003"]) == 0
    out = capsys.readouterr().out
    assert "Donri-Donri, Gattareng" in out
    assert "(TELEGRAM_BOT_USERNAME belum diisi)" in out  # never another deployment's bot
    assert "t.me/" not in out
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "pakareso_sidrap_bot")
    assert main(["officer-add", "--name", "Penyuluh Donri", "--area", "73.12.06"]) == 0
    assert "https://t.me/pakareso_sidrap_bot?start=of_" in capsys.readouterr().out
    assert main(["officer-add", "--name", "X", "--area", "73.99.99"]) == 2
    assert main(["officer-add", "--name", "X", "--area", "73.12.06", "--phone", "0411 123456"]) == 2
