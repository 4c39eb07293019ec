"""Importing the branch's spreadsheet as branches write it, through the real service and database (SQLite and
PostgreSQL): what a file does not say is never erased, headers as branches spell them, payer, occupation, programs
and income read forgivingly (what cannot be read is named in the preview), and the branch's month is the truth."""

from __future__ import annotations

import dataclasses
import io
from datetime import UTC, date, datetime

import pytest
from openpyxl import Workbook
from sqlmodel import Session, col, select

from bot.texts import t
from domain.policy import ReminderPolicy
from domain.regions import RegionIndex
from domain.rules import DEFAULT_STAGES, ContributionMonth, parse_stages
from domain.tariffs import default_tariffs, member_cost
from domain.vocabulary import Occupation, Payer, PaymentSource
from service import why
from service.conversations import Conversations
from storage.crypto import Cipher
from storage.models import Member, Payment, Reminder
from storage.payments import record_payment
from tests.scheduler.test_scan import add_member, run_scan
from tests.service.test_admin import ADMIN_CHAT
from tests.service.test_conversation_db import Person
from tests.service.test_import import apply_confirmed, send_file, sheet_of

NIK = "731206010180{:04d}"  # fake: Donri-Donri, born 1 January 1980
NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
POLICY = ReminderPolicy(stages=parse_stages(DEFAULT_STAGES))
STORED = {  # what member 1 has before any import: a religious worker paid from the regency's budget
    "phone": "+6281200000001",
    "kpj": "12345678901",
    "covered_until": date(2026, 10, 31),
    "branch_until": date(2026, 10, 31),
    "payer": Payer.REGIONAL_GOVERNMENT.value,
    "occupation": Occupation.PEGAWAI_SYARA.value,
    "with_jht": True,
    "declared_income": 1_500_000,
}


@pytest.fixture
def service(conversations: Conversations) -> Conversations:
    config = dataclasses.replace(conversations.config, admins=frozenset({f"telegram:{ADMIN_CHAT}"}))
    return dataclasses.replace(conversations, config=config)


def workbook(header: list[str], *rows: list[object]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def seed_stored(service: Conversations, cipher: Cipher) -> int:
    with Session(service.engine) as session:
        extra: dict[str, object] = {key: value for key, value in STORED.items() if key != "covered_until"}
        member = add_member(session, cipher, 1, date(2026, 10, 31), now=NOW, **extra)
        session.commit()
        assert member.id is not None
        return member.id


def stored_fields(service: Conversations, member_id: int) -> dict[str, object]:
    with Session(service.engine) as session:
        member = session.get(Member, member_id)
        assert member is not None
        return {key: getattr(member, key) for key in STORED}


def said_paid(session: Session, member: Member, first: ContributionMonth, months: int) -> None:
    """ "Sudah bayar" from the member's chat: a self-report, as the reminder's buttons record it."""
    record_payment(session=session, tariffs=default_tariffs(), member=member, first=first, months=months,
                   source=PaymentSource.SELF_REPORT, now=NOW)  # fmt: skip


async def import_file(service: Conversations, content: bytes, name: str = "cabang.xlsx") -> str:
    """Send the file as the admin, confirm, apply; the preview's text."""
    admin = Person(service, ADMIN_CHAT)
    [preview] = send_file(admin, name, content)
    if preview.choices:
        admin.tap(t("admin.import_go"))
        await apply_confirmed(service)
    return preview.text


# --- what a file does not say is never erased ---


async def test_a_file_without_those_columns_erases_nothing(service: Conversations, cipher: Cipher) -> None:
    member_id = seed_stored(service, cipher)
    content = workbook(["NIK", "Nama", "Desa"], [NIK.format(9001), "Peserta 1", "Donri Donri"])
    preview = await import_file(service, content)
    assert "• berubah: 0" in preview
    assert "• tidak berubah: 1" in preview
    assert stored_fields(service, member_id) == STORED


async def test_blank_cells_erase_nothing(service: Conversations, cipher: Cipher) -> None:
    member_id = seed_stored(service, cipher)
    header = ["NIK", "Nama", "Desa", "No HP", "KPJ", "Bulan Iuran Terakhir", "Sumber Iuran", "Pekerjaan", "Program",
              "Penghasilan"]  # fmt: skip
    content = workbook(header, [NIK.format(9001), "Peserta 1", "Donri Donri", "", None, " ", "", None, "", ""])
    preview = await import_file(service, content)
    assert "• berubah: 0" in preview
    assert "• tidak valid: 0" in preview
    assert stored_fields(service, member_id) == STORED
    with Session(service.engine) as session:
        member = session.get(Member, member_id)
        assert member is not None
        assert (member.bpjs_status, member.needs_enrolment) == ("member", False)  # still a member: nothing said


async def test_a_payer_it_cannot_read_is_named_and_changes_nothing(service: Conversations, cipher: Cipher) -> None:
    member_id = seed_stored(service, cipher)
    header = ["NIK", "Nama", "Desa", "Sumber Iuran"]
    content = workbook(
        header,
        [NIK.format(9001), "Peserta 1", "Donri Donri", "Belum jelas"],  # registered: keeps the regency as payer
        [NIK.format(9102), "Baru Satu", "Donri Donri", "Belum jelas"],  # new: not let in as "self" by default
        [NIK.format(9103), "Baru Dua", "Donri Donri", "Mandiri"],
    )
    admin = Person(service, ADMIN_CHAT)
    [preview] = send_file(admin, "cabang.xlsx", content)
    assert "• baru: 1" in preview.text
    assert "• tidak valid: 1" in preview.text
    listed = t("admin.import_value", value="Belum jelas", count=2)
    assert listed == '"Belum jelas" (2 baris)'
    assert t("admin.import_note.payer_unknown", values=listed) in preview.text
    assert preview.attachment is not None
    errors = list(sheet_of(preview.attachment.content).iter_rows(values_only=True))[1:]
    assert (2, "Sumber Iuran", t("sheet.payer_unknown", value="Belum jelas")) in errors
    assert (3, "Sumber Iuran", t("sheet.payer_new", value="Belum jelas")) in errors
    admin.tap(t("admin.import_go"))
    await apply_confirmed(service)
    assert stored_fields(service, member_id)["payer"] == Payer.REGIONAL_GOVERNMENT
    with Session(service.engine) as session:
        names = set(session.exec(select(Member.full_name)).all())
    assert names == {"Peserta 1", "Baru Dua"}


# --- headers as branches write them ---

BRANCH_HEADER = ["NO", "NIK KTP", "NAMA PESERTA", "DESA/KEL", "KEC.", "NO HP/WA", "BLN TERAKHIR BAYAR",
                 "Jenis Pekerjaan", "Program", "Penghasilan", "Pembayar", "Alamat", "Tgl Lahir"]  # fmt: skip


async def test_headers_as_branches_write_them(service: Conversations, cipher: Cipher) -> None:
    content = workbook(
        BRANCH_HEADER,
        [1, NIK.format(9101), "Baso Ojek", "Donri Donri", "Donri-Donri", "0812-0000-9101", "Okt-26", "Tukang Ojek",
         "JKK, JKM", "Rp1.500.000", "Mandiri", "Dusun 1", "01-01-1980"],
        [2, NIK.format(9102), "Imam Masjid", "Donri Donri", "Donri-Donri", "", "Sep-26", "Imam", "JKK+JKM+JHT",
         "1,2 jt", "APBD Kab. Soppeng", "Dusun 2", ""],
    )  # fmt: skip
    preview = await import_file(service, content)
    assert "• baru: 2" in preview
    assert "• tidak valid: 0" in preview
    assert t("admin.import_unread", columns="Alamat, Tgl Lahir") in preview
    with Session(service.engine) as session:
        found = {m.full_name: m for m in session.exec(select(Member)).all()}
    ojek, imam = found["Baso Ojek"], found["Imam Masjid"]
    assert (ojek.phone, ojek.covered_until, ojek.branch_until) == ("+6281200009101", date(2026, 10, 31),
                                                                  date(2026, 10, 31))  # fmt: skip
    assert (ojek.occupation, ojek.payer, ojek.with_jht, ojek.declared_income) == ("pengemudi", "self", False, 1_500_000)
    assert (imam.occupation, imam.payer, imam.with_jht, imam.declared_income) == (
        "pegawai_syara", "regional_government", True, 1_200_000)  # fmt: skip


async def test_an_ojek_driver_from_the_file_gets_the_transport_discount(service: Conversations) -> None:
    content = workbook(
        ["NIK", "Nama", "Desa", "Pekerjaan", "Sumber Iuran"],
        [NIK.format(9101), "Baso Ojek", "Donri Donri", "ojol", "Sendiri"],
        [NIK.format(9102), "La Tani", "Donri Donri", "Petani Sawah", "Sendiri"],
    )
    await import_file(service, content)
    with Session(service.engine) as session:
        found = {m.full_name: m for m in session.exec(select(Member)).all()}
    january = ContributionMonth(2027, 1)
    # PP 50/2025: transport workers' JKK + JKM halved through March 2027, everyone else's through December 2026.
    assert member_cost(default_tariffs(), found["Baso Ojek"], january, 3) == 3 * 8_400
    assert member_cost(default_tariffs(), found["La Tani"], january, 1) == 16_800


async def test_the_program_column_is_read(service: Conversations, cipher: Cipher) -> None:
    member_id = seed_stored(service, cipher)  # with JHT
    await import_file(service, workbook(["NIK", "Nama", "Desa", "Program"], [NIK.format(9001), "Peserta 1",
                                                                             "Donri Donri", "JKK, JKM"]))  # fmt: skip
    assert stored_fields(service, member_id)["with_jht"] is False


# --- the branch's data is the truth ---


async def test_a_self_report_beyond_the_branch_month_does_not_silence_reminders(
    service: Conversations, cipher: Cipher
) -> None:
    # The chat said 12/2026 ("Sudah bayar", three months from October); the branch's file says 09/2026.
    with Session(service.engine) as session:
        member = add_member(session, cipher, 1, date(2026, 9, 30))
        said_paid(session, member, ContributionMonth(2026, 10), 3)
        session.commit()
        member_id = member.id
    assert run_scan(service.engine, date(2026, 11, 22)).created == 0  # as reported: nothing to remind
    content = workbook(["NIK", "Nama", "Desa", "Bulan Iuran Terakhir"], [NIK.format(9001), "Peserta 1", "Donri Donri",
                                                                         "09/2026"])  # fmt: skip
    preview = await import_file(service, content)
    assert t("admin.import_mismatched", count=1) in preview
    with Session(service.engine) as session:
        found = session.get(Member, member_id)
        assert found is not None
        assert (found.covered_until, found.branch_until, found.reported_until) == (
            date(2026, 9, 30), date(2026, 9, 30), date(2026, 12, 31))  # fmt: skip
        assert found.report_mismatch_at is not None  # on the officers' list: the report does not match
        payment = session.exec(select(Payment)).one()
        assert payment.verified is False
    assert run_scan(service.engine, date(2026, 11, 23)).created == 1  # two months behind: reminded again
    with Session(service.engine) as session:
        assert session.exec(select(Reminder.member_id)).all() == [member_id]
    # The branch catches up with the report: the mark goes, the payment is confirmed.
    content = workbook(["NIK", "Nama", "Desa", "Bulan Iuran Terakhir"], [NIK.format(9001), "Peserta 1", "Donri Donri",
                                                                         "12/2026"])  # fmt: skip
    preview = await import_file(service, content)
    assert t("admin.import_mismatched", count=1) not in preview
    with Session(service.engine) as session:
        found = session.get(Member, member_id)
        assert found is not None
        assert (found.covered_until, found.report_mismatch_at) == (date(2026, 12, 31), None)
        assert session.exec(select(col(Payment.verified))).one() is True


async def test_sudah_bayar_never_lowers_the_branch_month(service: Conversations, cipher: Cipher) -> None:
    with Session(service.engine) as session:
        member = add_member(session, cipher, 1, date(2026, 12, 31), branch_until=date(2026, 12, 31))
        # A late report of October: already inside what the branch has.
        said_paid(session, member, ContributionMonth(2026, 10), 1)
        session.commit()
        assert (member.covered_until, member.branch_until, member.reported_until) == (
            date(2026, 12, 31), date(2026, 12, 31), date(2026, 10, 31))  # fmt: skip


# --- the export writes all of it, and reads back as the same members ---


def test_the_export_reimports_to_the_same_members(service: Conversations, cipher: Cipher) -> None:
    payers, occupations = list(Payer), list(Occupation)
    with Session(service.engine) as session:
        for index in range(max(len(payers), len(occupations))):
            month = date(2026, 9, 30) if index % 2 else date(2026, 10, 31)
            add_member(
                session,
                cipher,
                index + 1,
                month,
                now=NOW,
                branch_until=month,
                payer=payers[index % len(payers)].value,
                occupation=occupations[index % len(occupations)].value,
                with_jht=bool(index % 2),
                declared_income=1_000_000 + 250_000 * index,
                phone=f"+62812000090{index:02d}",
            )
        marked = add_member(  # a report the branch contradicts, already marked: the export does not clear it
            session,
            cipher,
            40,
            date(2026, 9, 30),
            now=NOW,
            branch_until=date(2026, 9, 30),
            reported_until=date(2026, 12, 31),
            report_mismatch_at=NOW,
        )
        session.commit()
        marked_id = marked.id
    admin = Person(service, ADMIN_CHAT)
    [exported] = admin.say("/ekspor")
    assert exported.attachment is not None
    rows = list(sheet_of(exported.attachment.content).iter_rows(values_only=True))
    assert rows[0] == ("NIK", "Nama", "KPJ", "No HP", "Desa/Kelurahan", "Kecamatan", "Bulan Iuran Terakhir", "Program",
                       "Sumber Iuran", "Pekerjaan", "Penghasilan", t("sheet.column.laporan"))  # fmt: skip
    by_name = {row[1]: row for row in rows[1:]}
    assert by_name["Peserta 2"][7:11] == ("JKK, JKM, JHT", t("sheet.payer.family"), t("option.occupation.pekebun"),
                                          1_250_000)  # fmt: skip
    assert by_name["Peserta 5"][8] == "APBD"
    assert by_name["Peserta 40"][6] == "09/2026"  # the branch's month; the member's own report is not exported as it
    [preview] = send_file(admin, "peserta.xlsx", exported.attachment.content)
    count = len(rows) - 1
    assert "• berubah: 0" in preview.text
    assert f"• tidak berubah: {count}" in preview.text
    assert "• tidak valid: 0" in preview.text
    assert t("admin.import_mismatched", count=1) in preview.text  # still a contradiction, still marked
    assert preview.attachment is None  # nothing the import could not read
    with Session(service.engine) as session:
        member = session.get(Member, marked_id)
        assert member is not None
        assert member.report_mismatch_at is not None


def test_a_report_beyond_the_branch_is_exported_apart_and_never_read_as_the_branchs(
    service: Conversations, cipher: Cipher
) -> None:
    with Session(service.engine) as session:
        member = add_member(session, cipher, 1, date(2026, 9, 30), now=NOW, branch_until=date(2026, 9, 30))
        said_paid(session, member, ContributionMonth(2026, 10), 3)  # October–December, after the branch's file
        session.commit()
    admin = Person(service, ADMIN_CHAT)
    [exported] = admin.say("/ekspor")
    assert exported.attachment is not None
    [row] = list(sheet_of(exported.attachment.content).iter_rows(values_only=True))[1:]
    assert (row[6], row[11]) == ("09/2026", "12/2026")
    [preview] = send_file(admin, "peserta.xlsx", exported.attachment.content)
    # Re-imported, the branch's month is the branch's again: the report is marked for checking, not verified.
    assert t("admin.import_mismatched", count=1) in preview.text
    assert t("admin.import_unread", columns=t("sheet.column.laporan")) not in preview.text


async def test_a_new_members_income_below_the_minimum_is_raised_and_said(service: Conversations) -> None:
    content = workbook(["NIK", "Nama", "Desa", "Penghasilan"], [NIK.format(9101), "Wa Ode", "Donri Donri", "500000"],
                       [NIK.format(9102), "La Baco", "Donri Donri", "Rp 2.000.000"])  # fmt: skip
    preview = await import_file(service, content)
    values = t("admin.import_value", value="500000", count=1)
    assert t("admin.import_note.income_raised", values=values, minimum="Rp1.000.000") in preview
    with Session(service.engine) as session:
        incomes = {m.full_name: m.declared_income for m in session.exec(select(Member)).all()}
    assert incomes == {"Wa Ode": 1_000_000, "La Baco": 2_000_000}


def test_peserta_says_who_pays_the_programs_and_the_income(service: Conversations, cipher: Cipher) -> None:
    seed_stored(service, cipher)
    with Session(service.engine) as session:
        member = session.exec(select(Member)).one()
        member.reported_until, member.report_mismatch_at = date(2026, 12, 31), NOW
        session.add(member)
        session.commit()
    found = Person(service, ADMIN_CHAT).say(f"/peserta {NIK.format(9001)}")[0].text
    pays = t("why.programs", programs="JKK, JKM, JHT", income="Rp1.500.000",
             occupation=t("option.occupation.pegawai_syara"))  # fmt: skip
    assert pays in found
    assert t("why.payer", payer=t("option.payer.regional_government"), asked=t("why.asked_office")) in found
    assert "Pemerintah daerah (APBD)" in found
    assert t("why.branch", branch="Oktober 2026", reported="Desember 2026") in found
    assert t("why.mismatch", since="23 November 2026") in found


async def test_a_sponsor_named_in_the_file_is_kept_shown_exported_and_reimported_unchanged(
    service: Conversations, cipher: Cipher, regions: RegionIndex
) -> None:
    """ "Kejaksaan Negeri Sidrap" is a sponsor and the sponsor's name; a name the dialog gave goes out as
    "Donatur (…)"; a bare "Donatur" or a blank cell later erases neither."""
    with Session(service.engine) as session:
        add_member(session, cipher, 2, date(2026, 10, 31), now=NOW, payer=Payer.SPONSOR, sponsor_name="H. Andi")
        session.commit()
    header = ["NIK", "Nama", "Desa", "Sumber Iuran"]
    content = workbook(header, [NIK.format(9101), "Wa Ode", "Donri Donri", "Kejaksaan Negeri Sidrap"],
                       [NIK.format(9102), "La Baco", "Donri Donri", "Donatur"])  # fmt: skip
    await import_file(service, content)

    def sponsors() -> dict[str, tuple[str, str | None]]:
        with Session(service.engine) as session:
            return {m.full_name: (m.payer, m.sponsor_name) for m in session.exec(select(Member)).all()}

    named = {"Peserta 2": (Payer.SPONSOR, "H. Andi"), "Wa Ode": (Payer.SPONSOR, "Kejaksaan Negeri Sidrap")}
    assert sponsors() == named | {"La Baco": (Payer.SPONSOR, None)}
    [lines] = why.timelines(service.engine, cipher, regions, POLICY, query=NIK.format(9101), today=NOW.date())
    assert f"{t('option.payer.sponsor')} — Kejaksaan Negeri Sidrap" in "\n".join(lines)
    admin = Person(service, ADMIN_CHAT)
    [exported] = admin.say("/ekspor")
    assert exported.attachment is not None
    rows = list(sheet_of(exported.attachment.content).iter_rows(values_only=True))
    payers = {row[1]: row[8] for row in rows[1:]}
    label = t("sheet.payer.sponsor")
    assert payers == {"Peserta 2": f"{label} (H. Andi)", "Wa Ode": "Kejaksaan Negeri Sidrap", "La Baco": label}
    [preview] = send_file(admin, "peserta.xlsx", exported.attachment.content)
    assert "• berubah: 0" in preview.text
    assert "• tidak berubah: 3" in preview.text
    admin.tap(t("admin.import_go"))
    await apply_confirmed(service)
    # A file that names no sponsor, or says nothing of who pays, keeps the names.
    later = workbook(header, [NIK.format(9101), "Wa Ode", "Donri Donri", "Donatur"],
                     [NIK.format(9002), "Peserta 2", "Donri Donri", ""])  # fmt: skip
    await import_file(service, later)
    assert sponsors() == named | {"La Baco": (Payer.SPONSOR, None)}
