"""Offices that pay from a budget (SQLite and PostgreSQL): their staff chats, the monthly statement (message and
XLSX) exactly once per office and month, and the follow-up when the branch's data still shows the month unpaid."""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlmodel import Session, col, select

from bot import app
from bot.__main__ import main
from bot.dialogs.core import Reply
from bot.settings import Settings
from bot.texts import long_date, rupiah, t
from domain.delivery import SendResult, Target, Unreachable
from domain.policy import ReminderPolicy
from domain.regions import sulawesi_selatan
from domain.rules import DEFAULT_STAGES, ContributionMonth, parse_stages
from domain.statements import Billed, StatementKind, bill
from domain.tariffs import default_tariffs
from domain.vocabulary import Payer, SponsorKind
from files import xlsx
from scheduler.statements import StatementStats, send_statements
from service import statements
from service.conversations import Conversations
from storage.crypto import Cipher
from storage.db import make_engine
from storage.models import Address, AuditEntry, Member, PayerStatement, Sponsor, SponsorChat
from storage.scan import scan
from storage.sponsors import create_sponsor
from tests.scheduler.test_scan import ZONES, add_member
from tests.service.test_conversation_db import Person
from tests.service.test_import import sheet_of
from tests.service.test_reminder_replies import Inbox

POLICY = ReminderPolicy(stages=parse_stages(DEFAULT_STAGES))
STATEMENT_DAY = date(2026, 12, 8)  # seven days before 15 December
FOLLOW_UP_DAY = date(2026, 12, 22)  # a week after it
NOW = datetime(2026, 12, 7, 23, 0, tzinfo=UTC)  # 07:00 WITA on the 8th


def in_sidrap(
    session: Session,
    cipher: Cipher,
    index: int,
    covered: date | None,
    *,
    payer: str = "self",
    occupation: str = "petani",
) -> Member:
    """A member in Wanio, Panca Lautang (Sidenreng Rappang)."""
    wanio = "73.14.01.2004"
    return add_member(
        session, cipher, index, covered, payer=payer, occupation=occupation, kecamatan_code=wanio[:8], desa_code=wanio
    )


def group(count: int, months: str, each: int) -> str:
    """A line of the message: how many members owe these months, at how much each."""
    return t("statement.group", count=count, months=months, amount=rupiah(each), subtotal=rupiah(count * each))


def setup_for(conversations: Conversations) -> statements.Setup:
    return statements.Setup(conversations.cipher, conversations.regions, POLICY, default_tariffs(), days_before=7)


def office(conversations: Conversations, name: str, payer: Payer, codes: list[str], *chats: str) -> int:
    """An office whose staff bound these chats through its invitation link."""
    with Session(conversations.engine) as session:
        kind = SponsorKind.INSTITUTION if payer == Payer.INSTITUTION else SponsorKind.PUBLIC
        sponsor = create_sponsor(session=session, name=name, now=NOW, kind=kind, payer=payer, codes=codes)
        code, office_id = sponsor.invite_code, sponsor.id or 0
        session.commit()
    for chat in chats:
        said = Person(conversations, chat).say(f"/start {code}")
        assert [r.text for r in said] == [t("invitation.sponsor", name=name), t("sponsor.office", name=name)]
    return office_id


def send(conversations: Conversations, inbox: Inbox, day: date) -> StatementStats:
    moment = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(hours=1)  # 07:00 WITA
    setup = setup_for(conversations)
    return asyncio.run(
        send_statements(engine=conversations.engine, setup=setup, senders={"telegram": inbox}, today=day, now=moment)
    )


def sheet_rows(content: bytes) -> list[tuple[object, ...]]:
    return [tuple(row) for row in sheet_of(content).iter_rows(values_only=True)]


def two_offices(conversations: Conversations, cipher: Cipher) -> tuple[dict[str, Reply], int, int]:
    """Sidrap's regency (APBD) and a company's CSR in Soppeng, with their members and some who are not theirs; the
    statements they received on the statement day, and their ids."""
    with Session(conversations.engine) as session:
        apbd, csr = Payer.REGIONAL_GOVERNMENT, Payer.INSTITUTION
        in_sidrap(session, cipher, 1, date(2026, 11, 30), payer=apbd, occupation="pegawai_syara")
        in_sidrap(session, cipher, 2, date(2026, 10, 31), payer=apbd)  # November in arrears
        in_sidrap(session, cipher, 3, date(2026, 12, 31), payer=apbd)  # paid ahead
        in_sidrap(session, cipher, 4, date(2026, 8, 31), payer=apbd)  # lapsed on 17 November
        in_sidrap(session, cipher, 5, None, payer=apbd)  # last paid month unknown
        in_sidrap(session, cipher, 6, date(2026, 11, 30))  # pays for himself: reminded, not billed
        add_member(session, cipher, 7, date(2026, 11, 30), payer=apbd)  # Soppeng's APBD, not Sidrap's
        in_sidrap(session, cipher, 8, date(2026, 11, 30), payer=Payer.VILLAGE_FUND)  # the desa pays
        add_member(session, cipher, 11, date(2026, 11, 30), payer=csr)
        add_member(session, cipher, 12, date(2026, 10, 31), payer=csr)
        linked = in_sidrap(session, cipher, 13, date(2026, 11, 30), payer=csr)  # outside its area, linked to it
        session.commit()
        linked_id = linked.id
    regency = office(conversations, "Pemkab Sidenreng Rappang", Payer.REGIONAL_GOVERNMENT, ["73.14"], "8001")
    company = office(conversations, "CSR PT Tani Makmur", Payer.INSTITUTION, ["73.12"], "8002")
    with Session(conversations.engine) as session:
        session.execute(update(Member).where(col(Member.id) == linked_id).values(sponsor_id=company))
        session.commit()
    inbox = Inbox()
    stats = send(conversations, inbox, STATEMENT_DAY)
    assert (stats.offices, stats.sent, stats.failed) == (2, 2, 0)
    return dict(inbox.received), regency, company


def test_an_apbd_office_is_billed_its_members_months_undiscounted(conversations: Conversations, cipher: Cipher) -> None:
    received, regency, _ = two_offices(conversations, cipher)
    # APBD is never halved by PP 50/2025, neither December nor November.
    text = received["8001"].text
    assert group(1, "Desember 2026", 16_800) in text
    span = t("statement.months_span", span="November–Desember 2026", count=2)
    assert group(1, span, 33_600) in text
    assert "Jumlah: 2 peserta, total Rp50.400. Mohon dibayarkan paling lambat Selasa, 15 Desember 2026." in text
    assert t("statement.lapsed", count=1, months=3) in text
    assert t("statement.unknown", count=1) in text
    attachment = received["8001"].attachment
    assert attachment is not None
    assert (attachment.filename, attachment.media_type) == ("rekap-iuran-2026-12.xlsx", xlsx.MEDIA_TYPE)
    header, *rows, total = sheet_rows(attachment.content)
    assert header == tuple(t("statement.sheet_header").split("|"))
    assert [(row[1], row[5], row[6], row[7]) for row in rows] == [
        ("Peserta 1", "Desember 2026", 1, 16_800),
        ("Peserta 2", span, 2, 33_600),
        ("Peserta 4", "", "", ""),  # lapsed: nothing the office can pay this month, only the note
        ("Peserta 5", "", "", ""),  # last paid month unknown
    ]
    assert rows[0][2] == "Wanio"
    assert rows[0][3] == "7312********9001"  # masked, as on the officers' lists
    assert rows[2][8] == t("statement.standing.lapsed")
    assert (total[1], total[7]) == (t("statement.sheet_total", count=2), 50_400)
    template = received["8001"].template
    assert template is not None
    assert (template.kind, template.variables) == (
        "payer_statement",
        ("Pemkab Sidenreng Rappang", "Desember 2026", "2", "Rp50.400"),
    )
    with Session(conversations.engine) as session:
        claimed = session.exec(select(PayerStatement).where(col(PayerStatement.sponsor_id) == regency)).one()
        audited = session.exec(select(AuditEntry).where(col(AuditEntry.action) == "payer.statement")).all()
    assert (claimed.cycle, claimed.kind, claimed.members, claimed.total) == (202612, "statement", 2, 50_400)
    assert f"sponsor:{regency}" in {a.subject for a in audited}


def test_a_csr_office_is_billed_at_the_discounted_tariff(conversations: Conversations, cipher: Cipher) -> None:
    received, _, company = two_offices(conversations, cipher)
    # Halved for December 2026 (PP 50/2025), and the member linked to it from another kabupaten included.
    text = received["8002"].text
    assert group(2, "Desember 2026", 8_400) in text
    span = t("statement.months_span", span="November–Desember 2026", count=2)
    assert group(1, span, 16_800) in text
    assert "Jumlah: 3 peserta, total Rp33.600." in text
    assert t("statement.unknown", count=1) not in text
    with Session(conversations.engine) as session:
        claimed = session.exec(select(PayerStatement).where(col(PayerStatement.sponsor_id) == company)).one()
    assert (claimed.members, claimed.total) == (3, 33_600)


def test_each_office_gets_one_statement_a_month_whatever_restarts_or_processes(
    conversations: Conversations, cipher: Cipher
) -> None:
    with Session(conversations.engine) as session:
        in_sidrap(session, cipher, 1, date(2026, 11, 30), payer=Payer.REGIONAL_GOVERNMENT)
        in_sidrap(session, cipher, 2, date(2026, 11, 30), payer=Payer.VILLAGE_FUND)
        session.commit()
    office(conversations, "Pemkab Sidenreng Rappang", Payer.REGIONAL_GOVERNMENT, ["73.14"], "8001")
    office(conversations, "Pemdes Wanio", Payer.VILLAGE_FUND, ["73.14.01.2004"], "8002")
    assert send(conversations, Inbox(), date(2026, 12, 7)).offices == 0  # not yet
    # Two processes at the same moment: each office is served by one of them.
    setup, found = setup_for(conversations), []

    def process() -> None:
        found.extend(
            statements.due_today(conversations.engine, setup, channels={"telegram"}, today=STATEMENT_DAY, now=NOW)
        )

    threads = [threading.Thread(target=process) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(p.office for p in found) == ["Pemdes Wanio", "Pemkab Sidenreng Rappang"]
    inbox = Inbox()
    assert send(conversations, inbox, STATEMENT_DAY).offices == 0  # a restart the same day
    assert send(conversations, inbox, date(2026, 12, 9)).offices == 0  # the next day of the window
    assert inbox.received == []
    with Session(conversations.engine) as session:
        session.execute(update(Member).values(covered_until=date(2026, 12, 31)))
        session.commit()
    january = send(conversations, inbox, date(2027, 1, 8))
    assert (january.offices, january.sent) == (2, 2)  # a new month, a new statement each
    assert all("Januari 2027" in reply.text for _, reply in inbox.received)


class Blocked(Inbox):
    """A phone that has blocked the bot for one chat."""

    async def send(self, target: Target, message: Reply) -> SendResult:
        if target.external_id == "8003":
            return Unreachable("forbidden: bot was blocked by the user")
        return await super().send(target, message)


def test_every_staff_chat_of_the_office_gets_it(conversations: Conversations, cipher: Cipher) -> None:
    with Session(conversations.engine) as session:
        in_sidrap(session, cipher, 1, date(2026, 11, 30), payer=Payer.REGIONAL_GOVERNMENT)
        session.commit()
    regency = office(
        conversations,
        "Pemkab Sidenreng Rappang",
        Payer.REGIONAL_GOVERNMENT,
        ["73.14"],
        "8001",
        "8002",
        "8003",
        "8004",
        "8001",
    )
    staff = Person(conversations, "8004")
    assert staff.say("BERHENTI")[0].text == t("sponsor.unbound")  # this one left the office
    with Session(conversations.engine) as session:
        chats = session.exec(select(SponsorChat.address_id).where(col(SponsorChat.sponsor_id) == regency)).all()
        sponsor = session.get(Sponsor, regency)
        assert sponsor is not None
        assert sponsor.address_id is None  # an office has no one chat: its staff chats are SponsorChat rows
    assert len(chats) == 3  # 8001 bound twice counts once
    inbox = Blocked()
    stats = send(conversations, inbox, STATEMENT_DAY)
    assert (stats.offices, stats.sent, stats.failed) == (1, 2, 1)
    assert sorted(chat for chat, _ in inbox.received) == ["8001", "8002"]
    assert inbox.received[0][1] == inbox.received[1][1]


def test_the_follow_up_lists_only_the_members_still_unpaid_and_only_when_there_are_any(
    conversations: Conversations, cipher: Cipher
) -> None:
    with Session(conversations.engine) as session:
        apbd = Payer.REGIONAL_GOVERNMENT
        unpaid = in_sidrap(session, cipher, 1, date(2026, 11, 30), payer=apbd)
        in_sidrap(session, cipher, 2, date(2026, 11, 30), payer=apbd)
        in_sidrap(session, cipher, 3, date(2026, 11, 30), payer=Payer.VILLAGE_FUND)
        # A member's own "sudah bayar" beyond the branch's month is not the branch's data.
        reported = in_sidrap(session, cipher, 4, date(2026, 12, 31), payer=apbd)
        reported.branch_until, reported.reported_until = date(2026, 11, 30), date(2026, 12, 31)
        session.add(reported)
        session.commit()
        unpaid_id = unpaid.id
    office(conversations, "Pemkab Sidenreng Rappang", Payer.REGIONAL_GOVERNMENT, ["73.14"], "8001")
    office(conversations, "Pemdes Wanio", Payer.VILLAGE_FUND, ["73.14.01.2004"], "8002")
    inbox = Inbox()
    assert send(conversations, inbox, STATEMENT_DAY).offices == 2
    # By the follow-up, the branch's data shows member 2 and the desa's member paid; member 1 is still unpaid.
    with Session(conversations.engine) as session:
        others = col(Member.id) != unpaid_id, col(Member.full_name) != "Peserta 4"
        paid = date(2026, 12, 31)
        session.execute(update(Member).where(*others).values(covered_until=paid, branch_until=paid))
        session.commit()
    inbox.received.clear()
    assert send(conversations, inbox, date(2026, 12, 21)).offices == 0  # six days after the deadline: not yet
    stats = send(conversations, inbox, FOLLOW_UP_DAY)
    assert (stats.offices, stats.sent) == (1, 1)  # the desa paid everything: nothing to follow up
    [(chat, reply)] = inbox.received
    assert chat == "8001"
    assert reply.text.startswith("Yth. Pemkab Sidenreng Rappang,")
    assert "iuran bulan Desember 2026 untuk 2 peserta" in reply.text
    assert f"(batas pembayaran {long_date(date(2026, 12, 15))} sudah lewat)" in reply.text
    assert group(2, "Desember 2026", 16_800) in reply.text
    assert f"Total yang belum tercatat: {rupiah(33_600)}." in reply.text
    assert reply.attachment is not None
    assert reply.attachment.filename == "belum-lunas-2026-12.xlsx"
    assert [row[1] for row in sheet_rows(reply.attachment.content)[1:-1]] == ["Peserta 1", "Peserta 4"]
    assert reply.template is not None
    assert reply.template.kind == "payer_follow_up"
    assert send(conversations, inbox, date(2026, 12, 23)).offices == 0  # once
    assert len(inbox.received) == 1


def test_an_imam_paid_from_the_apbd_is_never_asked_and_his_regency_is_billed(
    conversations: Conversations, cipher: Cipher
) -> None:
    """The issue's "Why": an APBD-paid imam got "Rp16.800 … mohon dibayar"; now the regency gets his statement."""
    with Session(conversations.engine) as session:
        in_sidrap(session, cipher, 1, date(2026, 11, 30), payer=Payer.REGIONAL_GOVERNMENT, occupation="pegawai_syara")
        assert scan(session=session, today=STATEMENT_DAY, policy=POLICY, zones=ZONES, now=NOW).created == 0
        session.commit()
    office(conversations, "Pemkab Sidenreng Rappang", Payer.REGIONAL_GOVERNMENT, ["73.14"], "8001")
    inbox = Inbox()
    send(conversations, inbox, STATEMENT_DAY)
    assert [chat for chat, _ in inbox.received] == ["8001"]  # not his chat, s1
    assert "Jumlah: 1 peserta, total Rp16.800." in inbox.received[0][1].text


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "")
    return tmp_path


def test_an_office_is_created_from_the_command_line(cli: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["payer", "add", "Pemkab Sidenreng Rappang", "--payer", "regional_government", "--area", "73.14"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Kantor pembayar Pemkab Sidenreng Rappang (APBD): Kabupaten Sidenreng Rappang" in out
    assert "(TELEGRAM_BOT_USERNAME belum diisi)" in out
    code = out.split("/start ")[1].split("'")[0]
    assert code.startswith("sp_")
    assert (
        main([*args[:2], "Baznas Soppeng", "--payer", "institution", "--area", "73.12", "--bot", "pakareso_bot"]) == 0
    )
    assert "Telegram: https://t.me/pakareso_bot?start=sp_" in capsys.readouterr().out
    assert main([*args[:2], "X", "--payer", "regional_government", "--area", "73.99"]) == 2
    assert t("cli.payer_area_unknown", codes="73.99") in capsys.readouterr().out
    assert main([*args[:2], "X", "--payer", "regional_government", "--area", "73.71"]) == 2  # Makassar
    assert "Di luar wilayah layanan" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main([*args[:2], "X", "--payer", "self"])  # reminded, never billed to an office
    engine = make_engine(f"sqlite:///{cli / 'cli.db'}")
    with Session(engine) as session:
        rows = session.exec(select(Sponsor).order_by(col(Sponsor.id))).all()
        assert [(r.name, r.kind, r.payer, r.area, r.invite_code == code) for r in rows] == [
            ("Pemkab Sidenreng Rappang", "public", "regional_government", "73.14", True),
            ("Baznas Soppeng", "institution", "institution", "73.12", False),
        ]
        assert session.exec(select(Address)).all() == []
    engine.dispose()


def test_the_demo_shows_a_regencys_statement_for_its_apbd_members(
    cli: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--members", "60", "--days", "0", "--database", str(cli / "data" / "demo.db")]) == 0
    out = capsys.readouterr().out.split("== Kantor yang membayar iuran (APBD Sidenreng Rappang): rekap 8 Desember 2026")
    assert len(out) == 2
    shown = out[1]
    assert t("sponsor.office", name="Pemkab Sidenreng Rappang") in shown
    assert "rekap iuran BPJS Ketenagakerjaan bulan Desember 2026 untuk peserta yang iurannya dibayar oleh" in shown
    assert "Mohon dibayarkan paling lambat Selasa, 15 Desember 2026." in shown
    written = cli / "data" / "rekap-iuran-2026-12.xlsx"
    assert f"(Berkas Excel rekap disimpan di {written})" in shown
    count = int(shown.split("Jumlah: ")[1].split(" peserta")[0])
    rows = sheet_rows(written.read_bytes())[1:-1]
    assert count == sum(1 for row in rows if row[7])  # every member the total counts is a row with an amount
    assert count > 0


async def test_the_statements_run_every_day_at_the_digests_hour(
    conversations: Conversations, cli: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(database_url=str(conversations.engine.url), digest_at="07:30")
    dispatcher = app.build_dispatcher(settings, conversations.engine, conversations.cipher, {})
    scheduler = app.start_jobs(settings, conversations, dispatcher)
    try:
        for other in scheduler.get_jobs():
            if other.id != "statements":
                other.remove()  # the scan and the lapses run at start-up: not in this test
        job = scheduler.get_job("statements")
        assert job is not None
        assert {field.name: str(field) for field in job.trigger.fields if field.name in {"hour", "minute"}} == {
            "hour": "7",
            "minute": "30",
        }
        with caplog.at_level(logging.INFO, logger="bot.app"):
            await job.func()  # nothing bound on these channels: nothing sent, and no error
        assert "payer statements: StatementStats(offices=0, sent=0, failed=0)" in caplog.text
    finally:
        scheduler.shutdown(wait=False)


def test_a_statement_with_many_kinds_of_members_still_fits_one_whatsapp_message(cipher: Cipher) -> None:
    paid = [date(2026, 11, 30), date(2026, 10, 31), date(2026, 9, 30)]
    kinds = itertools.product(paid, ("petani", "pengemudi"), (1_000_000, 3_000_000), (False, True))
    members = [
        Billed(n, "Peserta", "73.14.01.2004", None, "7314********9001", occupation, "institution", income, jht, p)
        for n, (p, occupation, income, jht) in enumerate(kinds)
    ]
    members += [Billed(90, "Peserta", "73.14.01.2004", None, "", "petani", "institution", 1_000_000, False, None)]
    found = bill(members, ContributionMonth(2026, 12), STATEMENT_DAY, policy=POLICY, tariffs=default_tariffs())
    name = "Dinas Sosial Pemberdayaan Masyarakat dan Desa Kabupaten Sidenreng Rappang, Provinsi Sulawesi Selatan"
    assert len(name) == 100  # the longest an office's name may be
    setup = statements.Setup(cipher, sulawesi_selatan(), POLICY, default_tariffs(), days_before=7)
    reply = statements.message(statements.Prepared(name, StatementKind.STATEMENT, (), found), setup)
    assert len(found.groups()) > statements.GROUPS_SHOWN
    assert t("statement.more", count=8) in reply.text  # the rest are in the file
    assert len(reply.text) < 1600  # WhatsApp's limit for one message
