"""/impor and /ekspor through the real service and database (SQLite and PostgreSQL): a branch's spreadsheet with
the errors Excel makes, preview then confirm, idempotent re-import, reconciliation, export round trip, bad files."""

from __future__ import annotations

import dataclasses
import io
import zipfile
from datetime import UTC, date, datetime

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlmodel import Session, col, select

from bot.dialogs.core import Incoming, Reply
from bot.texts import t
from domain.rules import ContributionMonth
from domain.tariffs import default_tariffs
from domain.vocabulary import OfficerRole, PaymentSource
from files import member_sheet
from scheduler.imports import run_imports
from service.conversations import Conversations
from storage import imports
from storage.crypto import Cipher
from storage.models import Address, AuditEntry, ImportBatch, Member, Payment
from storage.payments import record_payment
from tests.scheduler.test_scan import add_member
from tests.service.test_admin import ADMIN_CHAT, staff_chat
from tests.service.test_conversation_db import Person
from tests.service.test_reminder_replies import Inbox

HEADER = ["No.", "No KTP", "Nama Lengkap", "No. KPJ", "No HP", "Desa/Kel", "Kec.", "Iuran Terakhir", "Program",
          "Sumber Iuran"]  # fmt: skip
NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
# Fake NIKs (serial 9xxx) of Donri-Donri people born 1 January 1980; member 1 and 2 are registered already.
NIK = "731206010180{:04d}"


@pytest.fixture
def service(conversations: Conversations) -> Conversations:
    config = dataclasses.replace(conversations.config, admins=frozenset({f"telegram:{ADMIN_CHAT}"}))
    return dataclasses.replace(conversations, config=config)


def branch_file() -> bytes:
    """As a branch exports it, with what Excel does to such files."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Data peserta BPU SUTASOMA"])  # a title row above the header
    sheet.append(HEADER)
    rows: list[list[object]] = [
        [1, NIK.format(9001), "Peserta 1", "", "", "Donri Donri", "Donri-Donri", "10/2026", "SUTASOMA", "mandiri"],
        [2, NIK.format(9002), "Peserta 2 Baru", "12345678901", 81200009002, "Donri Donri", "Donri-Donri",
         datetime(2026, 10, 31), "SUTASOMA", "Mandiri"],  # noqa: DTZ001 (Excel dates have no zone)  # a changed name; a phone that lost its 0
        [3, NIK.format(9003), "Siti Aminah", "", "0812-0000-9003", "Donri Donri", "", "Okt 2026", "SUTASOMA", "Pemda"],
        [4, NIK.format(9004), "Baso Tang", "", "", "73.12.06.2002", "", "31/10/2026", "", ""],
        [5, NIK.format(9005), "La Tahang", "", "", "Donri Donri", "Donri-Donri", 46296, "", ""],  # a date serial
        [6, 7312060101809000, "Angka Ilmiah", "", "", "Donri Donri", "", "10/2026", "", ""],
        [7, NIK.format(9007), "=HYPERLINK(\"http://x\")", "", "", "Donri Donri", "", "10/2026", "", ""],
        [8, NIK.format(9008), "Desa Salah", "", "", "Kampung Antah", "Donri-Donri", "10/2026", "", ""],
        [9, NIK.format(9003), "Siti Lagi", "", "", "Donri Donri", "", "10/2026", "", ""],  # the same NIK again
        [10, "12345", "NIK Pendek", "", "", "Donri Donri", "", "10/2026", "", ""],
        [11, NIK.format(9011), "Bulan Aneh", "", "", "Donri Donri", "", "bulan lalu", "", ""],
        [],  # an empty row is skipped
    ]  # fmt: skip
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def seed(service: Conversations, cipher: Cipher) -> None:
    with Session(service.engine) as session:
        october = date(2026, 10, 31)
        add_member(session, cipher, 1, october, branch_until=october)  # the same as in the file
        add_member(session, cipher, 2, october, branch_until=october)
        session.commit()


def sheet_of(content: bytes) -> Worksheet:
    sheet = load_workbook(io.BytesIO(content)).active
    assert isinstance(sheet, Worksheet)
    return sheet


def send_file(person: Person, name: str, content: bytes) -> list[Reply]:
    return person.say(Incoming.file(name, content))


async def apply_confirmed(service: Conversations) -> Inbox:
    inbox = Inbox()
    await run_imports(service, {"telegram": inbox}, lambda: NOW)
    return inbox


def members(service: Conversations) -> dict[str, Member]:
    with Session(service.engine) as session:
        return {m.full_name: m for m in session.exec(select(Member)).all()}


async def test_a_branch_spreadsheet_is_checked_previewed_then_applied(service: Conversations, cipher: Cipher) -> None:
    seed(service, cipher)
    admin = Person(service, ADMIN_CHAT)
    [preview] = send_file(admin, "sutasoma.xlsx", branch_file())
    expected = t("admin.import_preview", filename="sutasoma.xlsx", new=3, updated=1, unchanged=1, invalid=6, skipped="",
                 notes="")  # fmt: skip
    assert preview.text.startswith(expected.split("\n")[0])
    assert "• baru: 3" in preview.text
    assert "• berubah: 1" in preview.text
    assert "• tidak valid: 6" in preview.text
    assert preview.attachment is not None
    errors = list(sheet_of(preview.attachment.content).iter_rows(values_only=True))
    assert errors[0] == tuple(t("sheet.error_header").split("|"))
    assert [(line, column) for line, column, _ in errors[1:]] == [
        (3, "Program"), (4, "Program"), (5, "Program"),  # "SUTASOMA" is a scheme's name, not JKK/JKM/JHT: imported
        (8, "NIK"), (9, "Nama"), (10, "Desa/Kelurahan"), (11, "NIK"), (12, "NIK"), (13, "Bulan Iuran Terakhir")
    ]  # fmt: skip
    assert errors[1][2] == t("sheet.program_unknown", value="SUTASOMA")
    errors = [errors[0], *errors[4:]]
    assert errors[1][2] == t("sheet.scientific")
    assert errors[2][2] == t("sheet.formula")
    assert errors[4][2] == t("sheet.duplicate_nik", line=5)
    assert "Peserta 2 Baru" not in members(service)  # nothing changed before "Lanjutkan"
    assert admin.tap(t("admin.import_go"))[0].text == t("admin.import_started", total=5)
    inbox = await apply_confirmed(service)
    done = inbox.received[-1]
    assert done == (
        ADMIN_CHAT,
        Reply(t("admin.import_done", created=3, updated=1, unchanged=1, confirmed=0, flagged=0)),
    )
    found = members(service)
    assert {"Peserta 1", "Peserta 2 Baru", "Siti Aminah", "Baso Tang", "La Tahang"} <= set(found)
    assert found["Peserta 2 Baru"].phone == "+6281200009002"
    assert found["Peserta 2 Baru"].kpj == "12345678901"
    assert found["Siti Aminah"].payer == "regional_government"
    assert found["La Tahang"].covered_until == date(2026, 10, 31)  # serial 46296 = 31 October 2026
    assert found["Baso Tang"].covered_until == date(2026, 10, 31)
    with Session(service.engine) as session:
        whatsapp = session.exec(select(Address).where(col(Address.external_id) == "+6281200009003")).first()
        batch = session.exec(select(ImportBatch)).one()
        actions = [e.action for e in session.exec(select(AuditEntry).order_by(col(AuditEntry.id))).all()]
    assert whatsapp is not None  # reachable on WhatsApp at the number the branch has
    assert (batch.status, batch.applied, batch.rows_sealed) == ("done", 5, "")  # no NIKs kept once applied
    assert actions[-2:] == ["import.stage", "import.confirm"]
    # The same file again changes nothing.
    [again] = send_file(admin, "sutasoma.xlsx", branch_file())
    assert "• baru: 0" in again.text
    assert "• berubah: 0" in again.text
    assert "• tidak berubah: 5" in again.text


async def test_cancel_and_stale_previews_change_nothing(service: Conversations, cipher: Cipher) -> None:
    admin = Person(service, ADMIN_CHAT)
    send_file(admin, "sutasoma.xlsx", branch_file())
    assert admin.tap(t("admin.import_cancel"))[0].text == t("admin.import_cancelled")
    assert admin.say(Incoming.choice("imp:go:0123456789abcdef01234567"))[0].text == t("admin.import_stale")
    assert (await apply_confirmed(service)).received == []
    assert members(service) == {}


async def test_self_reported_payments_are_reconciled(service: Conversations, cipher: Cipher) -> None:
    seed(service, cipher)
    with Session(service.engine) as session:
        found = session.exec(select(Member).order_by(col(Member.id))).all()
        ids = [m.id or 0 for m in found]
        for member, months in zip(found, (1, 3), strict=True):  # both said "sudah bayar" from November
            record_payment(
                session=session,
                tariffs=default_tariffs(),
                member=member,
                first=ContributionMonth(2026, 11),
                months=months,
                source=PaymentSource.SELF_REPORT,
                now=NOW,
            )
        session.commit()
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["NIK", "Nama", "Desa", "Bulan Iuran Terakhir"])
    sheet.append([NIK.format(9001), "Peserta 1", "Donri Donri", "11/2026"])  # the branch saw November
    sheet.append([NIK.format(9002), "Peserta 2", "Donri Donri", "11/2026"])  # but not December and January
    buffer = io.BytesIO()
    book.save(buffer)
    admin = Person(service, ADMIN_CHAT)
    send_file(admin, "bayar.xlsx", buffer.getvalue())
    admin.tap(t("admin.import_go"))
    inbox = await apply_confirmed(service)
    # Both now carry the branch's month; the second also the mark of a report beyond it.
    done = t("admin.import_done", created=0, updated=2, unchanged=0, confirmed=1, flagged=1)
    assert inbox.received[-1][1].text == done
    with Session(service.engine) as session:
        verified = {p.member_id: p.verified for p in session.exec(select(Payment)).all()}
        second = session.get(Member, ids[1])
    assert verified == {ids[0]: True, ids[1]: False}
    assert second is not None
    assert second.report_mismatch_at is not None  # on the officer's list: the report does not match the branch's
    assert second.covered_until == date(2026, 11, 30)  # the branch's month: reminders for December resume
    assert second.reported_until == date(2027, 1, 31)  # what the member said stays on record, to be checked


def test_export_round_trips_through_import(service: Conversations, cipher: Cipher) -> None:
    seed(service, cipher)
    with Session(service.engine) as session:
        add_member(session, cipher, 3, date(2026, 10, 31), full_name='=HYPERLINK("http://x","klik")')
        session.commit()
    admin = Person(service, ADMIN_CHAT)
    [exported] = admin.say("/ekspor")
    assert exported.text == t("admin.exported", count=3)
    assert exported.attachment is not None
    rows = list(sheet_of(exported.attachment.content).iter_rows(values_only=True))
    assert rows[0][:3] == ("NIK", "Nama", "KPJ")
    assert [row[0] for row in rows[1:]] == [NIK.format(9003), NIK.format(9001), NIK.format(9002)]  # by name
    formula_cell = sheet_of(exported.attachment.content)["B2"]
    assert formula_cell.data_type == "s"  # text, never a formula
    [preview] = send_file(admin, "peserta.xlsx", exported.attachment.content)
    # The name that looks like a formula comes back as one and is refused: nothing is silently changed.
    assert "• baru: 0" in preview.text
    assert "• berubah: 0" in preview.text
    assert "• tidak berubah: 2" in preview.text
    assert (admin.say("/ekspor Donri-Donri menunggak")[0].text) == t("admin.exported", count=3)
    assert admin.say("/ekspor Kecamatan Antah")[0].text == t("admin.export_usage")
    with Session(service.engine) as session:
        exports = session.exec(select(AuditEntry).where(col(AuditEntry.action) == "member.export")).all()
    assert [e.detail for e in exports] == ["3 members", "3 members Donri-Donri menunggak"]


def zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (300 * 2**20))
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("data.pdf", b"%PDF-1.4", "sheet.wrong_type"),
        ("data.xlsx", b"not a zip at all", "sheet.unreadable"),
        ("data.csv", b"Tanggal;Keterangan\n1;2\n", "sheet.no_header"),
    ],
)
def test_unusable_files_get_a_clear_answer(service: Conversations, name: str, content: bytes, reason: str) -> None:
    [reply] = send_file(Person(service, ADMIN_CHAT), name, content)
    expected = t(reason, columns="NIK, Nama, Desa/Kelurahan") if reason == "sheet.no_header" else t(reason)
    assert reply.text == t("admin.import_unusable", reason=expected)


def test_a_zip_bomb_is_refused_before_it_is_opened(service: Conversations) -> None:
    bomb = zip_bomb()
    assert len(bomb) < 2**20  # small to send, 300 MB unpacked
    [reply] = send_file(Person(service, ADMIN_CHAT), "besar.xlsx", bomb)
    assert reply.text == t("admin.import_unusable", reason=t("sheet.suspicious"))


def test_semicolon_csv_from_indonesian_excel(service: Conversations) -> None:
    csv = f"NIK;Nama;Desa;Kecamatan;Bulan Iuran Terakhir\n{NIK.format(9020)};Wa Ode;Donri Donri;Donri-Donri;10/2026\n"
    [preview] = send_file(Person(service, ADMIN_CHAT), "data.csv", csv.encode("cp1252"))
    assert "• baru: 1" in preview.text


BRANCH_HEADER = ["NO", "NIK", "NAMA PESERTA", "DESA/KELURAHAN", "KECAMATAN", "NO HP", "BULAN IURAN TERAKHIR"]


def branch_style_file(totals: str = "Jumlah") -> bytes:
    """As branches write them by hand: a merged title over the table, the header in row 3, a column-number row, NIKs
    with an apostrophe, spaces or as numbers, months as dates and short text, a blank row and a totals row."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["DAFTAR PESERTA BPU DESA DONRI DONRI KECAMATAN DONRI-DONRI TAHUN 2026"])
    sheet.merge_cells("A1:G1")  # a merged title cell
    sheet.append([])
    sheet.append(BRANCH_HEADER)
    sheet.append(["(1)", "(2)", "(3)", "(4)", "(5)", "(6)", "(7)"])  # the columns numbered, as forms do
    rows: list[list[object]] = [
        [1, f"'{NIK.format(9001)}", "Peserta 1", "Donri Donri", "Donri-Donri", "", "Okt-26"],  # unchanged
        [2, "7312 0601 0180 9002", "Peserta 2", "Donri Donri", "Donri-Donri", "", "Des-26"],  # updated: December
        [3, f" '{NIK.format(9103)} ", "Apostrof Spasi", "Donri Donri", "Donri-Donri", "", "Jun-26"],
        [4, int(NIK.format(9104)), "Angka Utuh", "Donri Donri", "Donri-Donri", "'081200009104", "Agu-26"],
        [5, NIK.format(9105), "Tanggal", "Donri Donri", "Donri-Donri", "", datetime(2026, 9, 1)],  # noqa: DTZ001
        [],  # a blank row inside the table
        [6, NIK.format(9106), "Garis Miring", "Donri Donri", "Donri-Donri", "", "10/2026"],
        [7, NIK.format(9107), "Nama Bulan", "Donri Donri", "Donri-Donri", "", "Oktober 2026"],
        [8, NIK.format(9108), "Singkat", "Donri Donri", "Donri-Donri", "", "okt 2026"],
        [9, NIK.format(9109), "Iso", "Donri Donri", "Donri-Donri", "", "2026-10"],
        [10, NIK.format(9110), "Inggris", "Donri Donri", "Donri-Donri", "", "Aug-26"],
        [11, 7312060101809120, "Angka Hilang", "Donri Donri", "Donri-Donri", "", "Okt-26"],  # lost its last digit
        [totals, None, None, None, None, None, "=COUNTA(B5:B16)"],
        [], [], [None, None, None, None, None, None, None],  # empty rows under the table are not counted
    ]  # fmt: skip
    for row in rows:
        sheet.append(row)
    sheet.merge_cells(f"A{sheet.max_row - 3}:F{sheet.max_row - 3}")  # the totals label across the columns
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("totals", ["Jumlah", "Total", "TOTAL"])
async def test_a_branch_style_spreadsheet_is_read_as_a_person_reads_it(
    service: Conversations, cipher: Cipher, totals: str
) -> None:
    seed(service, cipher)  # members 1 and 2, covered until October 2026
    admin = Person(service, ADMIN_CHAT)
    [preview] = send_file(admin, "donri.xlsx", branch_style_file(totals))
    skipped = t("admin.import_skipped", count=2)
    expected = t("admin.import_preview", filename="donri.xlsx", new=8, updated=1, unchanged=1, invalid=1,
                 skipped=f"{skipped}\n", notes="")  # fmt: skip
    assert preview.text == expected
    assert "• dilewati: 2" in preview.text
    assert preview.attachment is not None
    errors = list(sheet_of(preview.attachment.content).iter_rows(values_only=True))
    assert errors[1:] == [(16, "NIK", t("sheet.scientific"))]
    admin.tap(t("admin.import_go"))
    await apply_confirmed(service)
    found = members(service)
    covered = {name: m.covered_until for name, m in found.items()}
    assert covered == {
        "Peserta 1": date(2026, 10, 31), "Peserta 2": date(2026, 12, 31), "Apostrof Spasi": date(2026, 6, 30),
        "Angka Utuh": date(2026, 8, 31), "Tanggal": date(2026, 9, 30), "Garis Miring": date(2026, 10, 31),
        "Nama Bulan": date(2026, 10, 31), "Singkat": date(2026, 10, 31), "Iso": date(2026, 10, 31),
        "Inggris": date(2026, 8, 31),
    }  # fmt: skip
    niks = {name: cipher.decrypt(m.nik_encrypted) for name, m in found.items()}
    assert niks["Apostrof Spasi"] == NIK.format(9103)
    assert niks["Angka Utuh"] == NIK.format(9104)
    assert niks["Peserta 2"] == NIK.format(9002)
    assert found["Angka Utuh"].phone == "+6281200009104"


def test_a_branch_style_csv_from_indonesian_excel(service: Conversations) -> None:
    csv = (
        "DAFTAR PESERTA BPU;;;\n;;;\nNIK;Nama;Desa;Bulan Iuran Terakhir\n"
        f"'{NIK.format(9021)};Wa Ode;Donri Donri;Jun-26\n;;;\n{NIK.format(9022)};La Baco;Donri Donri;Agu-26\n"
        "JUMLAH;2;;\n;;;\n"
    )
    [preview] = send_file(Person(service, ADMIN_CHAT), "data.csv", csv.encode("cp1252"))
    assert "• baru: 2" in preview.text
    assert "• tidak valid: 0" in preview.text
    assert t("admin.import_skipped", count=2) in preview.text


def test_without_totals_or_blank_rows_the_preview_says_nothing_of_them(service: Conversations) -> None:
    [preview] = send_file(Person(service, ADMIN_CHAT), "sutasoma.xlsx", branch_file())
    assert "dilewati" not in preview.text


def test_files_from_anyone_but_an_admin_are_not_read(service: Conversations) -> None:
    [reply] = send_file(Person(service, "701"), "data.xlsx", branch_file())
    assert reply.text.startswith(t("invalid.unsupported"))
    with Session(service.engine) as session:
        assert session.exec(select(ImportBatch)).all() == []


def test_a_coordinator_exports_only_their_area(service: Conversations, cipher: Cipher) -> None:
    seed(service, cipher)  # two members in Donri-Donri
    coordinator = staff_chat(service, "703", OfficerRole.COORDINATOR, ["73.12.01"])  # Marioriwawo
    assert coordinator.say("/ekspor Donri-Donri")[0].text == t("admin.exported", count=0)
    assert coordinator.say("/ekspor")[0].text == t("admin.exported", count=0)
    assert Person(service, ADMIN_CHAT).say("/ekspor Donri-Donri")[0].text == t("admin.exported", count=2)


async def test_a_large_import_reports_progress(
    service: Conversations, cipher: Cipher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "SLICE", 2)  # five rows in three slices, as 100,000 would be in fifty
    admin = Person(service, ADMIN_CHAT)
    send_file(admin, "sutasoma.xlsx", branch_file())
    admin.tap(t("admin.import_go"))
    told = [reply.text for _, reply in (await apply_confirmed(service)).received]
    assert told == [
        t("admin.import_progress", done=2, total=5),
        t("admin.import_progress", done=4, total=5),
        t("admin.import_done", created=5, updated=0, unchanged=0, confirmed=0, flagged=0),
    ]
    assert len(members(service)) == 5


def test_a_csv_with_stray_carriage_returns_is_read_not_crashed_on(service: Conversations) -> None:
    # Found by the fuzzer: a carriage return inside an unquoted field made the csv module raise.
    content = b"NIK;Nama;Desa\r\n7312060101809020;Wa\rOde;Donri Donri\n"
    [reply] = send_file(Person(service, ADMIN_CHAT), "data.csv", content)
    # The stray return ends the line, as Excel would show it: two broken rows, each reported, nothing imported.
    assert "• tidak valid: 2" in reply.text
    assert reply.text.endswith(t("admin.import_nothing"))


def test_an_oversized_file_is_refused_without_reading_it(service: Conversations) -> None:
    # Telegram says how big a document is before it is fetched; one over the limit is not fetched at all.
    too_big = Incoming.file("besar.xlsx", b"", size=member_sheet.MAX_BYTES + 1)
    [reply] = Person(service, ADMIN_CHAT).say(too_big)
    assert reply.text == t("admin.import_unusable", reason=t("sheet.too_big", mb=member_sheet.MAX_BYTES // 2**20))
