"""The words of a branch's spreadsheet, read as a person reads them: payers, occupations, programs, incomes and
headers written every way branches write them; what cannot be read is told apart from what is blank."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from bot.dialogs.admin import preview
from bot.texts import programs, t
from domain.member_rows import Plan, RowCheck, RowError, RowProblem, Sheet, SheetRow, income_of, jht_of, payer_of
from domain.occupations import OCCUPATION_WORDS, occupation_of
from domain.regions import sulawesi_selatan
from domain.tariffs import default_tariffs
from domain.vocabulary import Occupation, Payer
from files.member_sheet import PAYER_EXPORT, column_of

TODAY = date(2026, 11, 23)
NIK = "7312060101809101"  # fake: Donri-Donri, born 1 January 1980


@pytest.mark.parametrize(
    ("text", "payer"),
    [("APBD", Payer.REGIONAL_GOVERNMENT), ("APBD Kab. Sidrap", Payer.REGIONAL_GOVERNMENT),
     ("Pemkab Soppeng", Payer.REGIONAL_GOVERNMENT), ("Pemda", Payer.REGIONAL_GOVERNMENT),
     ("Pemerintah Daerah", Payer.REGIONAL_GOVERNMENT), ("PEMERINTAH KABUPATEN SOPPENG", Payer.REGIONAL_GOVERNMENT),
     ("Dinas Sosial", Payer.REGIONAL_GOVERNMENT), ("APBD Provinsi Sulsel", Payer.REGIONAL_GOVERNMENT),
     ("APBN", Payer.CENTRAL_GOVERNMENT), ("Pemerintah Pusat", Payer.CENTRAL_GOVERNMENT),
     ("Dana Desa", Payer.VILLAGE_FUND), ("DD", Payer.VILLAGE_FUND), ("ADD", Payer.VILLAGE_FUND),
     ("Alokasi Dana Desa", Payer.VILLAGE_FUND), ("APBDes Donri Donri", Payer.VILLAGE_FUND),
     ("Donatur", Payer.SPONSOR), ("Kejaksaan Negeri Soppeng", Payer.SPONSOR), ("Kejari Sidrap", Payer.SPONSOR),
     ("Jaksa (Satu Adhyaksa Menanggung Satu Petani)", Payer.SPONSOR),
     ("CSR PT Semen Tonasa", Payer.INSTITUTION), ("CSR", Payer.INSTITUTION), ("Baznas", Payer.INSTITUTION),
     ("Baznas Kabupaten Sidrap", Payer.INSTITUTION), ("Bank Mandiri", Payer.INSTITUTION),
     ("Mandiri", Payer.SELF), ("Sendiri", Payer.SELF), ("bayar sendiri", Payer.SELF), ("MANDRI", Payer.SELF),
     ("Keluarga", Payer.FAMILY), ("Anak", Payer.FAMILY)],
)  # fmt: skip
def test_a_payer_written_any_way_a_branch_writes_it(text: str, payer: Payer) -> None:
    assert payer_of(text) == payer


@pytest.mark.parametrize(
    "text",
    ["Belum jelas", "APBD/Mandiri", "Donatur atau Keluarga", "-", "?", "Kabupaten", "Pak Kades pribadi", "Kades"],
)
def test_a_payer_it_cannot_tell(text: str) -> None:
    assert payer_of(text) is None  # never "self" by default: the preview names it


@pytest.mark.parametrize(
    ("text", "occupation"),
    [("tani", Occupation.PETANI), ("Petani", Occupation.PETANI), ("bertani", Occupation.PETANI),
     ("Petani Sawah", Occupation.PETANI), ("PETANI/PEKEBUN", Occupation.PETANI), ("pekebun", Occupation.PEKEBUN),
     ("Peternak", Occupation.PETERNAK), ("Nelayan", Occupation.NELAYAN), ("NELAYAN/PERIKANAN", Occupation.NELAYAN),
     ("Buruh Tani", Occupation.BURUH_TANI), ("BURUH TANI/PERKEBUNAN", Occupation.BURUH_TANI),
     ("ojek", Occupation.PENGEMUDI), ("Tukang Ojek", Occupation.PENGEMUDI), ("ojol", Occupation.PENGEMUDI),
     ("sopir", Occupation.PENGEMUDI), ("Supir Angkot", Occupation.PENGEMUDI), ("Pengemudi", Occupation.PENGEMUDI),
     ("Kurir", Occupation.PENGEMUDI), ("imam", Occupation.PEGAWAI_SYARA), ("Imam Masjid", Occupation.PEGAWAI_SYARA),
     ("Pegawai Syara'", Occupation.PEGAWAI_SYARA), ("Guru Mengaji", Occupation.PEGAWAI_SYARA),
     ("khatib", Occupation.PEGAWAI_SYARA), ("Bilal", Occupation.PEGAWAI_SYARA), ("Pedagang", Occupation.PEDAGANG),
     ("pedangang", Occupation.PEDAGANG), ("Wiraswasta", Occupation.LAINNYA), ("Lain-lain", Occupation.LAINNYA)],
)  # fmt: skip
def test_an_occupation_written_any_way(text: str, occupation: Occupation) -> None:
    assert occupation_of(text) == occupation


@pytest.mark.parametrize("text", ["Tukang Batu", "Petani/Ojek", "IRT", "-"])
def test_an_occupation_it_cannot_tell(text: str) -> None:
    assert occupation_of(text) is None


def test_every_occupation_has_words_and_its_own_label_reads_back() -> None:
    assert set(OCCUPATION_WORDS.values()) == set(Occupation)
    for occupation in Occupation:  # the export writes the dialog's labels: an export must import again
        assert occupation_of(t(f"option.occupation.{occupation}")) == occupation


def test_every_payer_the_export_writes_reads_back() -> None:
    assert set(PAYER_EXPORT) == set(Payer)
    for payer, word in PAYER_EXPORT.items():
        assert payer_of(word) == payer


@pytest.mark.parametrize(
    ("text", "jht"),
    [("JKK, JKM", False), ("JKK+JKM", False), ("jkk-jkm", False), ("JKKJKM", False), ("JKK, JKM, JHT", True),
     ("JKK JKM JHT", True), ("JKK+JKM+JHT", True), ("JHT", True), ("JKK, JKM (tanpa JHT)", False),
     ("Jaminan Kecelakaan Kerja, Jaminan Kematian, Jaminan Hari Tua", True)],
)  # fmt: skip
def test_programs(text: str, jht: bool) -> None:
    assert jht_of(text) is jht


def test_programs_it_cannot_read_and_the_export_words() -> None:
    assert jht_of("SUTASOMA") is None  # a scheme's name, not its programs
    assert jht_of(programs(with_jht=True)) is True
    assert jht_of(programs(with_jht=False)) is False


@pytest.mark.parametrize(
    ("cell", "amount"),
    [(1_500_000, 1_500_000), (1_500_000.0, 1_500_000), ("1500000", 1_500_000), ("Rp1.500.000", 1_500_000),
     ("Rp 1.500.000,00", 1_500_000), ("Rp1.500.000,-", 1_500_000), ("1,500,000", 1_500_000), ("1,5 jt", 1_500_000),
     ("1.5 juta", 1_500_000), ("2jt", 2_000_000), ("1500 rb", 1_500_000), ("Rp 1.200.000/bulan", 1_200_000),
     ("'1000000", 1_000_000)],
)  # fmt: skip
def test_an_income_written_any_way(cell: object, amount: int) -> None:
    assert income_of(cell) == amount


@pytest.mark.parametrize(("cell", "read"), [(None, None), ("", None), ("  ", None), ("satu juta", False),
                                            ("-500", False), (-1, False), ("1.2.3 jt", False)])  # fmt: skip
def test_an_income_blank_or_unreadable(cell: object, read: object) -> None:
    assert income_of(cell) is read


def checked(**cells: object) -> SheetRow | RowError:
    values = {"nik": NIK, "nama": "Wa Ode", "desa": "Donri Donri", "kecamatan": "Donri-Donri"} | cells
    return RowCheck(sulawesi_selatan(), ("73.12",), TODAY).row(5, values)


def test_what_a_row_cannot_read_is_a_warning_and_left_unsaid() -> None:
    row = checked(sumber="Belum jelas", pekerjaan="Tukang Batu", program="SUTASOMA", penghasilan="banyak")
    assert isinstance(row, SheetRow)
    member = row.member
    assert (member.payer, member.occupation, member.with_jht, member.declared_income) == (None, None, None, None)
    assert member.unknown_payer
    assert [(w.column, w.reason, w.value) for w in row.warnings] == [
        ("sumber", RowProblem.PAYER_UNKNOWN, "Belum jelas"),
        ("pekerjaan", RowProblem.OCCUPATION_UNKNOWN, "Tukang Batu"),
        ("program", RowProblem.PROGRAM_UNKNOWN, "SUTASOMA"),
        ("penghasilan", RowProblem.INCOME_UNREADABLE, "banyak"),
    ]
    assert "payer" not in member.fields()  # a registered member's payer is not touched
    assert member.new_fields()["occupation"] == Occupation.LAINNYA


def test_an_income_below_the_minimum_is_raised_to_it_with_a_warning() -> None:
    row = checked(penghasilan="Rp750.000")
    assert isinstance(row, SheetRow)
    assert row.member.declared_income == default_tariffs().income.minimum  # what BPJS bills a BPU member at the least
    assert [(w.reason, w.value) for w in row.warnings] == [(RowProblem.INCOME_RAISED, "750000")]


def test_blank_cells_say_nothing() -> None:
    row = checked(hp="", kpj=None, bulan=" ", sumber="", pekerjaan=None, program="", penghasilan="")
    assert isinstance(row, SheetRow)
    assert row.warnings == ()
    assert set(row.member.fields()) == {"full_name", "birth_date", "sex", "kecamatan_code", "desa_code"}
    new = row.member.new_fields()
    assert (new["payer"], new["occupation"], new["with_jht"], new["declared_income"]) == (
        Payer.SELF, Occupation.LAINNYA, False, default_tariffs().income.minimum)  # fmt: skip
    assert (new["bpjs_status"], new["needs_enrolment"]) == ("not_registered", True)


@pytest.mark.parametrize(
    ("header", "key"),
    [("NIK", "nik"), ("NIK KTP", "nik"), ("No. KTP", "nik"), ("Nama Lengkap", "nama"), ("NAMA PESERTA", "nama"),
     ("Nama Sesuai KTP", "nama"), ("No. KPJ", "kpj"), ("NO HP/WA", "hp"), ("No. HP / WA", "hp"),
     ("Nomor WhatsApp", "hp"), ("Desa/Kel", "desa"), ("Nama Desa", "desa"), ("Kec.", "kecamatan"),
     ("BLN TERAKHIR BAYAR", "bulan"), ("Bulan Terakhir Bayar", "bulan"), ("Bulan Iuran Terakhir", "bulan"),
     ("Iuran s/d", None), ("Lunas s/d Bulan", "bulan"), ("Pekerjaan", "pekerjaan"), ("Jenis Pekerjaan", "pekerjaan"),
     ("Mata Pencaharian", "pekerjaan"), ("Program", "program"), ("Program yang Diikuti", "program"),
     ("Penghasilan", "penghasilan"), ("Upah yang dilaporkan", "penghasilan"), ("Penghasilan per Bulan (Rp)",
     "penghasilan"), ("Sumber Iuran", "sumber"), ("Pembayar", "sumber"), ("Dibayar Oleh", "sumber"),
     ("Sumber Dana", "sumber"),
     ("Alamat", None), ("Tgl Lahir", None), ("Jenis Kelamin", None), ("No KK", None), ("Iuran per Bulan", None),
     ("Keterangan", None), ("", None), (None, None)],
)  # fmt: skip
def test_headers_as_branches_write_them(header: object, key: str | None) -> None:
    assert column_of(header) == key


def test_the_preview_of_the_oddest_file_is_one_telegram_message() -> None:
    kinds = [("sumber", RowProblem.PAYER_UNKNOWN), ("pekerjaan", RowProblem.OCCUPATION_UNKNOWN),
             ("program", RowProblem.PROGRAM_UNKNOWN), ("penghasilan", RowProblem.INCOME_UNREADABLE),
             ("penghasilan", RowProblem.INCOME_RAISED)]  # fmt: skip
    odd = [
        RowError(line, column, reason, value=f"{'x' * 55} {line}") for line in range(2, 40) for column, reason in kinds
    ]
    row = checked()
    assert isinstance(row, SheetRow)
    sheet = Sheet((replace(row, warnings=tuple(odd)),), (), unread=tuple(f"Kolom Tambahan {i} " * 4 for i in range(30)))
    text = preview("x" * 100, sheet, Plan(1, 0, 0, mismatched=5))
    assert len(text) < 4096
    assert t("admin.import_more", count=35) in text  # 38 distinct values of each kind, 3 named
    assert t("admin.import_more", count=20) in text  # 30 columns not read, 10 named
