"""The branch's member spreadsheet as a file: reading it (XLSX or CSV, as branches export them) into cells by column
for `domain.member_rows` to check, and writing members back out in the same columns, so an export can be imported
again; the error file of an import.

Above the table there may be a title (merged across the columns, or not), blank lines and subtitles: the header is
the first of the top ten rows that names the required columns. Under it, a row numbering the columns is passed over;
totals rows and blank rows inside the table are passed over and counted (`Sheet.skipped`), as a person counts them;
the empty rows a spreadsheet keeps under its table are not counted.

A file that cannot be read at all gets its reason in Indonesian, never an exception: not XLSX or CSV, damaged, too
big, no header row, a zip bomb posing as XLSX (refused before it is opened).
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from openpyxl import load_workbook

from bot.texts import t
from domain.member_rows import (
    MAX_BYTES,
    Row,
    RowError,
    Sheet,
    check,
    is_blank,
    is_column_numbers,
    is_totals,
    normal,
)
from domain.regions import RegionIndex
from domain.vocabulary import Payer
from files import xlsx

__all__ = ["COLUMNS", "HEADERS", "MAX_BYTES", "error_file", "export", "read"]

MAX_ROWS = 200_000
MAX_UNPACKED = 200 * 2**20  # an XLSX is a zip: refuse one that unpacks to more than this…
MAX_RATIO = 150  # …or whose parts shrank suspiciously well (a zip bomb)

# Column key → the header names branches use for it, normalised (lower case, letters and digits only).
COLUMNS: dict[str, tuple[str, ...]] = {
    "nik": ("nik", "noktp", "nomorktp", "nomorindukkependudukan", "niktk"),
    "nama": ("nama", "namalengkap", "namapeserta", "namatk", "namatenagakerja"),
    "kpj": ("kpj", "nokpj", "nomorkpj", "nokartu"),
    "hp": ("nohp", "nomorhp", "hp", "telepon", "notelepon", "notelp", "nowa", "nomorwa", "handphone"),
    "desa": ("desa", "kelurahan", "desakelurahan", "desakel", "kelurahandesa"),
    "kecamatan": ("kecamatan", "kec"),
    "bulan": (
        "bulaniuranterakhir",
        "iuranterakhir",
        "bulanterakhir",
        "terakhirbayar",
        "bulanbayarterakhir",
        "blthiuranterakhir",
        "periodeterakhir",
    ),
    "program": ("program", "namaprogram"),
    "sumber": ("sumberiuran", "sumberdana", "pembayar", "pembayariuran"),
}
REQUIRED = ("nik", "nama", "desa")
HEADERS = {key: t(f"sheet.column.{key}") for key in COLUMNS}  # what an export writes (and an import then reads)
PAYER_EXPORT = {Payer.SELF: "mandiri", Payer.FAMILY: "keluarga", Payer.REGIONAL_GOVERNMENT: "pemda",
                Payer.SPONSOR: "sponsor"}  # fmt: skip


def read(
    filename: str, content: bytes, *, regions: RegionIndex, area: Sequence[str], today: date, size: int = 0
) -> Sheet:
    """Check every row of an XLSX or CSV file against the service `area`. `size`: as sent, when not downloaded."""
    return replace(
        _read(filename, content, regions=regions, area=area, today=today, size=size),
        fingerprint=hashlib.sha256(content).hexdigest(),
    )


def _read(filename: str, content: bytes, *, regions: RegionIndex, area: Sequence[str], today: date, size: int) -> Sheet:
    if max(size, len(content)) > MAX_BYTES:
        return Sheet((), (), t("sheet.too_big", mb=MAX_BYTES // 2**20))
    kind = filename.lower().rsplit(".", 1)[-1]
    try:
        if kind == "xlsx":
            table = _xlsx_rows(content)
        elif kind == "csv":
            table = _csv_rows(content)
        else:
            return Sheet((), (), t("sheet.wrong_type"))
        lines = _Lines(table)
        return replace(check(lines, regions=regions, area=area, today=today), skipped=lines.skipped)
    except _Unusable as error:
        return Sheet((), (), str(error))


class _Unusable(Exception):
    """The file cannot be read at all; the message says why, in Indonesian."""


def _xlsx_rows(content: bytes) -> Iterator[tuple[Any, ...]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        parts = archive.infolist()
    except zipfile.BadZipFile as error:
        raise _Unusable(t("sheet.unreadable")) from error
    unpacked = sum(part.file_size for part in parts)
    squeezed = any(p.file_size > MAX_RATIO * max(p.compress_size, 1) for p in parts if p.file_size > 2**20)
    if unpacked > MAX_UNPACKED or squeezed:
        raise _Unusable(t("sheet.suspicious"))
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
        sheet = book.worksheets[0]
    except Exception as error:  # openpyxl raises many kinds for a damaged file
        raise _Unusable(t("sheet.unreadable")) from error
    yield from sheet.iter_rows(values_only=True)


def _csv_rows(content: bytes) -> Iterator[tuple[Any, ...]]:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - cp1252 decodes nearly anything; latin-1 below is the last resort
        text = content.decode("latin-1")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","  # Excel in Indonesian writes semicolons
    try:
        # newline="": line ends inside quoted fields, and stray carriage returns, are the csv module's to judge.
        yield from (tuple(row) for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as error:
        raise _Unusable(t("sheet.unreadable")) from error


@dataclass(slots=True)
class _Lines:
    """The data rows under the header row (found among the first ten), each as its line and its cells by column key.
    Left out: a row numbering the columns, totals rows and blank rows; `skipped` counts the totals rows and the
    blank rows between two rows of the table, once the rows have been read."""

    table: Iterator[tuple[Any, ...]]
    skipped: int = 0

    def __iter__(self) -> Iterator[tuple[int, dict[str, object]]]:
        header: dict[str, int] = {}
        blanks = 0  # blank rows since the table's last row: counted only when another row follows
        started = False
        for line, cells in enumerate(self.table, start=1):
            if not header:
                header = _header(cells, line)
                continue
            if line > MAX_ROWS:
                raise _Unusable(t("sheet.too_many_rows", most=f"{MAX_ROWS:,}".replace(",", ".")))
            values = {key: cells[i] if i < len(cells) else None for key, i in header.items()}
            if is_totals(cells):
                self.skipped += blanks + 1
                blanks, started = 0, True
            elif is_blank(values):
                blanks += 1 if started else 0  # blank lines between the header and the first row are not counted
            elif started or not is_column_numbers(cells):
                self.skipped += blanks
                blanks, started = 0, True
                yield line, values
        if not header:
            raise _Unusable(t("sheet.no_header", columns=", ".join(HEADERS[k] for k in REQUIRED)))


def _header(cells: tuple[Any, ...], line: int) -> dict[str, int]:
    """The columns of the header row, by key; empty when this is not it (an error past the tenth row)."""
    found = {key: i for i, cell in enumerate(cells) for key, names in COLUMNS.items() if normal(cell) in names}
    if all(key in found for key in REQUIRED):
        return found
    if line >= 10:
        raise _Unusable(t("sheet.no_header", columns=", ".join(HEADERS[k] for k in REQUIRED)))
    return {}


# --- export ---


def export(rows: Sequence[Row], *, regions: RegionIndex) -> bytes:
    """Members in the import's own columns (text cells only: a name like =HYPERLINK(…) stays text)."""
    header = [HEADERS[key] for key in COLUMNS]
    return xlsx.workbook(
        t("sheet.export_title"),
        header,
        (
            xlsx.cells(
                (
                    row.nik,
                    row.full_name,
                    row.kpj or "",
                    row.phone or "",
                    regions.name(row.desa_code),
                    regions.name(row.kecamatan_code),
                    row.covered_until.strftime("%m/%Y") if row.covered_until else "",
                    "",  # the program is not kept per member
                    PAYER_EXPORT.get(Payer(row.payer), row.payer),
                )
            )
            for row in rows
        ),
    )


def error_file(errors: Sequence[RowError]) -> bytes:
    """The rows that were not imported, and why."""
    header = t("sheet.error_header").split("|")
    rows = (xlsx.cells((e.line, HEADERS[e.column], t(f"sheet.{e.reason}", line=e.first))) for e in errors)
    return xlsx.workbook(t("sheet.error_title"), header, rows)
