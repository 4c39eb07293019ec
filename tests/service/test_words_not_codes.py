"""People's words, not codes: a real reminder timeline (scan, dispatch, a self-reported payment, the monthly cap) on
SQLite, read back as officers, admins and operators read it — the officer's list and its file, `why`, `/peserta`,
and the command line's scan and dispatch — without a stage code or an English state."""

from __future__ import annotations

import asyncio
import io
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlmodel import Session

from bot import app
from bot.__main__ import main
from bot.settings import Settings
from bot.texts import long_date, t
from bot.texts.words import reason_words, stage_words, status_words
from domain.policy import ReminderPolicy
from domain.regions import RegionIndex
from domain.rules import DEFAULT_STAGES, ContributionMonth, parse_stages
from domain.tariffs import default_tariffs
from domain.vocabulary import LinkProof, OfficerRole, PaymentSource
from files import officer_list
from scheduler.dispatch import Dispatcher
from service import why
from service.conversations import Conversations
from service.daily import scan_once
from service.unreached import area_lists
from storage.crypto import Cipher
from storage.db import make_engine, migrate
from storage.models import Address, Member, MemberAddress
from storage.officers import create_officer
from storage.payments import record_payment
from tests.scheduler.test_dispatch import ZONES, FakeSender, render
from tests.scheduler.test_scan import add_member
from tests.service.test_conversation_db import Person, officer_desk

# At most two reminders a month: December's H+7 (the 22nd) comes third and is skipped for the cap.
POLICY = ReminderPolicy(stages=parse_stages(DEFAULT_STAGES), per_month=2)
TODAY = date(2026, 12, 22)  # H+7 of December for members covered until 30 November
NOW = datetime(2026, 12, 22, 2, 0, tzinfo=UTC)
CODE = re.compile(r"\b[HL][+-]?\d+\b|@\d")  # H-7, H0, L-1, H-1@2
ENGLISH = re.compile(
    r"\b(pending|claimed|sent|delivered|read|failed|skipped|cancelled|active|unreachable|self_report|telegram|"
    r"whatsapp|cap|superseded|paid|opted_out)\b"
)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """SQLite only: the words do not depend on the database."""
    url = f"sqlite:///{tmp_path / 'words.db'}"
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    return url


def _morning(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 1, 30, tzinfo=UTC)  # 09:30 WITA


def timeline(conversations: Conversations, cipher: Cipher) -> dict[str, int]:
    """Two members covered until November: December's H-7 and H-1 reach Peserta 1, who never answers; Peserta 2
    reports December paid before H-1. Peserta 1 also has a WhatsApp chat that stopped working."""
    engine = conversations.engine
    with Session(engine) as session:
        ids = {
            name: add_member(session, cipher, i, date(2026, 11, 30)).id or 0 for i, name in ((1, "quiet"), (2, "paid"))
        }
        session.commit()
    sender = FakeSender()
    dispatcher = Dispatcher(engine=engine, senders={"telegram": sender}, render=render, policy=POLICY, worker="w")
    for day in (date(2026, 12, 8), date(2026, 12, 14), TODAY):
        scan_once(engine=engine, policy=POLICY, zones=ZONES, today=day, now=_morning(day))
        if day == date(2026, 12, 14):
            with Session(engine) as session:
                member = session.get(Member, ids["paid"])
                assert member is not None
                first = ContributionMonth(2026, 12)
                record_payment(
                    session=session,
                    tariffs=default_tariffs(),
                    member=member,
                    first=first,
                    months=1,
                    source=PaymentSource.SELF_REPORT,
                    now=_morning(day),
                )
                session.commit()
        asyncio.run(dispatcher.drain(_morning(day)))
    with Session(engine) as session:
        dead = Address(channel="whatsapp", external_id="+6281200009001", status="unreachable", created_at=NOW)
        session.add(dead)
        session.flush()
        session.add(
            MemberAddress(member_id=ids["quiet"], address_id=dead.id or 0, created_at=NOW, proof=LinkProof.STAFF)
        )
        session.commit()
    return ids


def test_the_officer_list_says_the_stage_in_words(
    conversations: Conversations, cipher: Cipher, regions: RegionIndex
) -> None:
    timeline(conversations, cipher)
    desk = officer_desk(conversations, "officer-1", now=NOW)
    listing = desk.say("/daftar")[0].text
    line = listing[listing.index("Peserta 1") :]
    assert "belum bayar dan belum menjawab sejak 7 hari lewat batas bayar" in line
    assert "terakhir: pengingat sehari sebelum batas bayar, 14 Desember 2026 (terkirim)" in line
    assert "H+7" not in listing
    assert not CODE.search(listing)
    assert "Peserta 2" not in listing  # reported paid
    with Session(conversations.engine) as session:
        lists = area_lists(
            session, ["73.12.06"], TODAY, policy=POLICY, tariffs=default_tariffs(), cipher=conversations.cipher
        )
    book = load_workbook(io.BytesIO(officer_list.workbook(lists.for_codes(["73.12.06"]), regions)))
    header, *rows = list(book.active.iter_rows(values_only=True))  # type: ignore[union-attr]
    [row] = [dict(zip(header, row, strict=True)) for row in rows]
    assert row["Alasan"] == "belum bayar dan belum menjawab sejak 7 hari lewat batas bayar"
    assert row["Terakhir dihubungi bot"] == "pengingat sehari sebelum batas bayar, 14 Desember 2026 (terkirim)"


def test_why_and_peserta_speak_indonesian_end_to_end(
    conversations: Conversations, cipher: Cipher, regions: RegionIndex
) -> None:
    timeline(conversations, cipher)
    quiet, paid = "7312060101809001", "7312060101809002"
    [lines] = why.timelines(conversations.engine, cipher, regions, POLICY, query=quiet, today=TODAY)
    said = "\n".join(lines)
    assert "Alamat chat: Telegram (aktif)" in lines
    assert "Alamat chat: WhatsApp (tidak dapat dihubungi)" in lines
    month = "iuran Desember 2026"
    assert f"Pengingat 7 hari sebelum batas bayar ({month}): terkirim · alasan: -" in said
    skipped = f"Pengingat 7 hari lewat batas bayar ({month}): dilewati · alasan: {reason_words('cap:2')}"
    assert skipped in said
    assert reason_words("cap:2") == "sudah 2 pengingat bulan ini (batas per bulan)"
    assert "berhenti pengingat: tidak" in said
    [other] = why.timelines(conversations.engine, cipher, regions, POLICY, query=paid, today=TODAY)
    reported = "\n".join(other)
    assert "Pembayaran: 1 bulan mulai Desember 2026 (laporan peserta, terverifikasi: tidak)" in other
    assert f"Pengingat sehari sebelum batas bayar ({month}): dibatalkan · alasan: iuran sudah dibayar" in reported

    # /peserta in an admin's chat: the same timeline.
    with Session(conversations.engine) as session:
        admin = create_officer(session=session, name="Admin", phone=None, codes=[], now=NOW, role=OfficerRole.ADMIN)
        invite = admin.invite_code
        session.commit()
    desk = Person(conversations, "admin-1")
    desk.now = NOW
    desk.say(f"/start {invite}")
    shown = "\n".join(reply.text for reply in desk.say(f"/peserta {quiet}"))
    assert "Alamat chat: WhatsApp (tidak dapat dihubungi)" in shown
    for text in (said, reported, shown):
        assert not CODE.search(text), CODE.findall(text)
        assert not ENGLISH.search(text), ENGLISH.findall(text)


@pytest.fixture
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    return tmp_path


def test_scan_and_dispatch_report_in_indonesian(
    isolated: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate"]) == 0
    assert capsys.readouterr().out.strip() == t("cli.migrated")
    settings = Settings()
    engine = app.build_engine(settings)
    with Session(engine) as session:
        add_member(session, app.build_cipher(settings), 1, date(2026, 11, 30))
        session.commit()
    monkeypatch.setattr(app, "utc_now", lambda: _morning(date(2026, 12, 8)))
    assert main(["scan", "--date", "2026-12-08"]) == 0
    out = capsys.readouterr().out
    assert out.strip() == t("cli.scan", day=long_date(date(2026, 12, 8)), created=1, skipped=0)
    assert main(["dispatch", "--once", "--print"]) == 0
    out = capsys.readouterr().out
    reminder, _, stats = out.strip().rpartition("\n\n")
    assert out.startswith("\n[telegram s1]\n")  # the reminder starts on a line of its own
    assert "Peserta 1" in reminder
    assert stats == t("cli.previewed", claimed=1, messages=1)  # --print records nothing (test_dispatch_command)
    assert not ENGLISH.search(stats)


def test_the_demo_prints_words_not_python(isolated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--members", "30", "--days", "40", "--database", str(isolated / "demo.db")]) == 0
    out = capsys.readouterr().out
    assert "{" not in out  # no dict or set printed raw
    assert "}" not in out
    assert t("demo.answer.waiting") in out
    assert stage_words("H-7") in out  # the tally's rows: stages in words
    assert status_words("sent") in out  # its columns: states in words
    tally = out[out.index(t("demo.stage")) : out.index(t("demo.officer_title"))]
    assert not CODE.search(tally), CODE.findall(tally)
    assert not ENGLISH.search(tally), ENGLISH.findall(tally)
