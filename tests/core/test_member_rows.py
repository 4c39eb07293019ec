"""The pure row checking of an import, as branches write their spreadsheets: NIKs with an apostrophe, spaces or as
numbers; months as dates and short text; totals, blank and column-number rows told apart from members."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from domain import member_rows
from domain.member_rows import (
    RowCheck,
    RowError,
    RowProblem,
    SheetRow,
    is_blank,
    is_column_numbers,
    is_totals,
    last_month,
)
from domain.regions import sulawesi_selatan
from domain.rules import ContributionMonth, parse_month
from domain.vocabulary import Payer

TODAY = date(2026, 11, 23)
NIK = "7312060101809101"  # fake: Donri-Donri, born 1 January 1980, serial 9101
OCTOBER = ContributionMonth(2026, 10)


@pytest.mark.parametrize(
    "text",
    ["10/2026", "10-2026", "Okt-26", "okt-26", "OKT-26", "Oct-26", "Okt 2026", "okt 2026", "Oktober 2026",
     "oktober-2026", "October 2026", "Okt/26", "Okt. 2026", "Okt.26", "2026-10", "2026/10"],
)  # fmt: skip
def test_a_month_written_any_way_a_branch_writes_it(text: str) -> None:
    assert parse_month(text) == OCTOBER


@pytest.mark.parametrize(
    ("text", "month"),
    [("Jun-26", ContributionMonth(2026, 6)), ("Agu-26", ContributionMonth(2026, 8)),
     ("Aug-26", ContributionMonth(2026, 8)), ("Agustus 2026", ContributionMonth(2026, 8)),
     ("Mei-27", ContributionMonth(2027, 5)), ("Des 2026", ContributionMonth(2026, 12))],
)  # fmt: skip
def test_short_month_names_in_indonesian_and_english(text: str, month: ContributionMonth) -> None:
    assert parse_month(text) == month


@pytest.mark.parametrize("text", ["bulan lalu", "13/2026", "Okt", "2026", "xyz-26", ""])
def test_what_is_not_a_month(text: str) -> None:
    assert parse_month(text) is None


@pytest.mark.parametrize(
    "cell",
    [datetime(2026, 10, 1), date(2026, 10, 31), 46296, "31/10/2026", "2026-10-31", "'10/2026", " Okt-26 "],  # noqa: DTZ001
)
def test_a_month_cell(cell: object) -> None:
    assert last_month(cell) == OCTOBER


def check_nik(cell: object) -> SheetRow | RowError:
    values = {"nik": cell, "nama": "Wa Ode", "desa": "Donri Donri", "kecamatan": "Donri-Donri", "bulan": "Okt-26"}
    return RowCheck(sulawesi_selatan(), ("73.12",), TODAY).row(5, values)


@pytest.mark.parametrize(
    "cell",
    [NIK, f"'{NIK}", f" '{NIK} ", f"\u2019{NIK}", "7312 0601 0180 9101", "'7312 0601 0180 9101",
     "7312\u00a006010180 9101", int(NIK), float(NIK)],
)  # fmt: skip
def test_a_nik_written_any_way_a_branch_writes_it(cell: object) -> None:
    row = check_nik(cell)
    assert isinstance(row, SheetRow)
    assert row.member.nik == NIK
    assert row.member.covered_until == date(2026, 10, 31)


@pytest.mark.parametrize("cell", [7312060101809100, 7.31206e15, "7,31206E+15"])
def test_a_nik_excel_turned_into_a_number_lost_its_last_digit(cell: object) -> None:
    # Excel keeps 15 significant digits: the 16th becomes 0. A number that ends in 0 may have lost it.
    assert check_nik(cell) == RowError(5, "nik", RowProblem.SCIENTIFIC)


@pytest.mark.parametrize(
    "cells",
    [("Jumlah", None, None, 105), ("", "JUMLAH", "", "", 105), ("TOTAL",), ("Total", "=COUNTA(B4:B200)"),
     (None, "Jumlah Peserta", None), ("Grand Total", 200), ("Sub Total",), ("Subtotal", 12)],
)  # fmt: skip
def test_a_totals_row(cells: tuple[object, ...]) -> None:
    assert is_totals(cells)


@pytest.mark.parametrize(
    "cells",
    [(1, NIK, "Jumlah Wati", "Donri Donri"), (1, "Totalia", "Donri Donri"), (), (None, "", None),
     (1, f"'{NIK}", "Total"), ("Peserta", "Jumlahnya")],
)  # fmt: skip
def test_a_member_row_is_not_a_totals_row(cells: tuple[object, ...]) -> None:
    assert not is_totals(cells)


def test_blank_and_column_number_rows() -> None:
    assert is_blank({"nik": None, "nama": " ", "desa": ""})
    assert not is_blank({"nik": None, "nama": "Wa Ode", "desa": ""})
    assert is_column_numbers((1, 2, 3, 4, None, 6))
    assert is_column_numbers(("(1)", "(2)", "(3)", "(4)"))
    assert is_column_numbers(("1", "2", "3"))
    assert not is_column_numbers((1, NIK, "Wa Ode"))
    assert not is_column_numbers((1, None, None))
    assert not is_column_numbers(())


def check_payer(cell: str) -> tuple[str | None, str | None]:
    values = {"nik": NIK, "nama": "Wa Ode", "desa": "Donri Donri", "kecamatan": "Donri-Donri", "sumber": cell}
    row = RowCheck(sulawesi_selatan(), ("73.12",), TODAY).row(5, values)
    assert isinstance(row, SheetRow)
    return row.member.payer, row.member.sponsor_name


@pytest.mark.parametrize(
    ("cell", "sponsor"),
    [("Kejaksaan Negeri Sidrap", "Kejaksaan Negeri Sidrap"), ("  Kejari   Sidrap ", "Kejari Sidrap"),
     ("Donatur (H. Andi)", "H. Andi"), ("Donatur (Pak Kades)", "Pak Kades"), ("Donatur", None),
     ("Hamba Allah", None), ("kejaksaan", None), ("Dermawaan", None)],
)  # fmt: skip
def test_a_sponsor_payer_keeps_the_name_the_cell_gives(cell: str, sponsor: str | None) -> None:
    assert check_payer(cell) == (Payer.SPONSOR, sponsor)


@pytest.mark.parametrize("cell", ["CSR PT Semen Tonasa", "Baznas Kabupaten Sidrap", "APBD Kab. Sidrap", "Mandiri"])
def test_only_a_sponsor_has_a_sponsor_name(cell: str) -> None:
    payer, sponsor = check_payer(cell)
    assert payer is not None
    assert payer != Payer.SPONSOR
    assert sponsor is None


def test_a_label_with_another_payer_inside_is_not_a_sponsor_s_name() -> None:
    assert check_payer("Kejari (APBD)") == (None, None)  # two payers: not read, as before


@pytest.mark.parametrize("name", ["Kejaksaan Negeri Sidrap", "H. Andi", "Jaksa Andi Mappe", "H. Andi (Bone)"])
def test_a_sponsor_s_name_as_exported_reads_back_the_same(name: str) -> None:
    assert check_payer(member_rows.sponsor_cell(name, "Donatur")) == (Payer.SPONSOR, name)
