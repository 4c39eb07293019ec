"""The list spreadsheet, read back with openpyxl: values, types, and hostile names kept as plain text."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from files.xlsx import cells, workbook

HOSTILE = ['=HYPERLINK("http://evil.example","klik")', "+62-1", "-1+1", "@SUM(A1)", "<b>&amp;</b>", "nul\x00 bel\x07"]


def test_a_workbook_reads_back_with_its_types() -> None:
    rows: list[list[str | int]] = [[n, name, 16_800] for n, name in enumerate(HOSTILE, start=1)]
    content = workbook("Daftar <1>", ["No", "Nama", "Jumlah (Rp)"], [cells(row) for row in rows])
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    assert sheet.title == "Daftar <1>"
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == ("No", "Nama", "Jumlah (Rp)")
    assert sheet["A1"].font.b  # the header is bold
    assert [row[1] for row in values[1:]] == [*HOSTILE[:-1], "nul bel"]  # control characters dropped, nothing else
    assert [row[0] for row in values[1:]] == list(range(1, len(HOSTILE) + 1))
    for cell in sheet["B"][1:]:
        assert cell.data_type == "s"  # text, never a formula, whatever the name starts with
    assert sheet["C2"].data_type == "n"


def test_columns_past_z() -> None:
    header = [f"K{i}" for i in range(30)]
    sheet = load_workbook(io.BytesIO(workbook("S", header, [cells(list(range(30)))]))).active
    assert sheet is not None
    assert sheet["AD1"].value == "K29"
    assert sheet["AD2"].value == 29
