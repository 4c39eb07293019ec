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
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from openpyxl import load_workbook

from bot.texts import programs, rupiah, t
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
    sponsor_cell,
)
from domain.names import words
from domain.regions import RegionIndex
from domain.tariffs import default_tariffs
from domain.vocabulary import Payer
from files import xlsx

__all__ = ["COLUMNS", "HEADERS", "MAX_BYTES", "column_of", "error_file", "export", "programs", "read"]

MAX_ROWS = 200_000
MAX_UNPACKED = 200 * 2**20  # an XLSX is a zip: refuse one that unpacks to more than this…
MAX_RATIO = 150  # …or whose parts shrank suspiciously well (a zip bomb)

# Column key → header names branches use for it, normalised (lower case, letters and digits only), written as one
# word or more ("NIK", "NoKTP", "Nama Lengkap")…
COLUMNS: dict[str, tuple[str, ...]] = {
    "nik": ("nik", "noktp", "nomorktp", "nomorindukkependudukan", "niktk", "nikktp"),
    "nama": ("nama", "namalengkap", "namapeserta", "namatk", "namatenagakerja"),
    "kpj": ("kpj", "nokpj", "nomorkpj", "nokartu", "nomorkartu"),
    "hp": ("nohp", "nomorhp", "hp", "telepon", "notelepon", "notelp", "nowa", "nomorwa", "handphone", "nohpwa"),
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
    "pekerjaan": ("pekerjaan", "jenispekerjaan", "profesi"),
    "penghasilan": ("penghasilan", "upah", "upahyangdilaporkan", "penghasilanperbulan"),
}
# …or, in other words, a header whose words all belong to the first set and include one of the second ("NO HP/WA",
# "BLN TERAKHIR BAYAR", "Pekerjaan Utama", "Upah (Rp)"). Tried in this order; "Nama Desa" is the desa.
_NUMBER_WORDS = {"no", "nomor", "nmr"}
_WORDED: tuple[tuple[str, frozenset[str], frozenset[str]], ...] = tuple(
    (key, frozenset(allowed) | frozenset(required), frozenset(required))
    for key, allowed, required in (
        ("nik", {"tk", "peserta", "e", *_NUMBER_WORDS}, {"nik", "ktp"}),
        ("nama", {"lengkap", "peserta", "tk", "tenaga", "kerja", "pekerja", "sesuai", "ktp"}, {"nama"}),
        ("kpj", {"kartu", "peserta", "bpjs", *_NUMBER_WORDS}, {"kpj"}),
        ("hp", {"peserta", *_NUMBER_WORDS},
         {"hp", "wa", "whatsapp", "telp", "tlp", "telepon", "handphone", "ponsel", "hape", "kontak"}),
        ("desa", {"nama"}, {"desa", "kelurahan", "kel", "ds"}),
        ("kecamatan", {"nama"}, {"kecamatan", "kec"}),
        ("bulan", {"bulan", "bln", "iuran", "bayar", "dibayar", "pembayaran", "periode", "tahun", "thn", "th", "blth",
                   "s", "d", "sd", "tgl", "tanggal"}, {"terakhir", "lunas", "sampai"}),
        ("program", {"nama", "jenis", "yang", "diikuti", "kepesertaan", "bpjs", "ketenagakerjaan", "bpu"},
         {"program", "jaminan"}),
        ("sumber", {"iuran", "dana", "oleh", "yang", "anggaran"},
         {"sumber", "pembayar", "dibayar", "penanggung", "pembiayaan", "membayar", "penjamin", "pendanaan"}),
        ("pekerjaan", {"jenis", "bidang", "mata", "utama"}, {"pekerjaan", "profesi", "pencaharian"}),
        ("penghasilan", {"yang", "dilaporkan", "per", "bulan", "perbulan", "bln", "rp", "dasar", "rata"},
         {"penghasilan", "upah", "gaji", "pendapatan"}),
    )
)  # fmt: skip
REQUIRED = ("nik", "nama", "desa")
EXPORTED = (*COLUMNS, "laporan")  # and what the member reported beyond the branch's month, which no import reads
HEADERS = {key: t(f"sheet.column.{key}") for key in COLUMNS} | {"laporan": t("sheet.column.laporan")}
# Headers a person does not expect to be read: the row number, and the export's own column of members' reports.
_PASSED_OVER = frozenset({"no", "nourut", "nomorurut", "urut", normal(HEADERS["laporan"])})
PAYER_EXPORT = {Payer.SELF: t("sheet.payer.self"), Payer.FAMILY: t("sheet.payer.family"),
                Payer.SPONSOR: t("sheet.payer.sponsor"), Payer.INSTITUTION: t("sheet.payer.institution"),
                Payer.REGIONAL_GOVERNMENT: t("sheet.payer.regional_government"),
                Payer.CENTRAL_GOVERNMENT: t("sheet.payer.central_government"),
                Payer.VILLAGE_FUND: t("sheet.payer.village_fund")}  # fmt: skip


def column_of(header: object) -> str | None:
    """The column key a header names, or None: by its exact name, else by its words."""
    name = normal(header)
    exact = next((key for key, names in COLUMNS.items() if name in names), None)
    if exact is not None or not name:
        return exact
    said = set(words(str(header)))
    return next((key for key, allowed, needed in _WORDED if said <= allowed and said & needed), None)


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
        checked = check(lines, regions=regions, area=area, today=today)
        return replace(checked, skipped=lines.skipped, unread=tuple(lines.unread))
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
    unread: list[str] = field(default_factory=list)  # the header's other columns, as written

    def __iter__(self) -> Iterator[tuple[int, dict[str, object]]]:
        header: dict[str, int] = {}
        blanks = 0  # blank rows since the table's last row: counted only when another row follows
        started = False
        for line, cells in enumerate(self.table, start=1):
            if not header:
                header, self.unread = _header(cells, line)
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


def _header(cells: tuple[Any, ...], line: int) -> tuple[dict[str, int], list[str]]:
    """The columns of the header row by key, and the headers of those not read (a second column of the same key is
    one); nothing when this is not it (an error past the tenth row)."""
    found: dict[str, int] = {}
    unread: list[str] = []
    for i, cell in enumerate(cells):
        key = column_of(cell)
        if key is not None and key not in found:
            found[key] = i
        elif str(cell or "").strip() and normal(cell) not in _PASSED_OVER:
            unread.append(" ".join(str(cell).split()))
    if all(key in found for key in REQUIRED):
        return found, unread
    if line >= 10:
        raise _Unusable(t("sheet.no_header", columns=", ".join(HEADERS[k] for k in REQUIRED)))
    return {}, []


# --- export ---


def export(rows: Sequence[Row], *, regions: RegionIndex) -> bytes:
    """Members in the import's own columns (text cells only: a name like =HYPERLINK(…) stays text). The month is the
    branch's; a coverage the member reported beyond it goes in a column of its own that an import does not read, so
    re-importing an export never turns a member's report into the branch's data."""
    return xlsx.workbook(
        t("sheet.export_title"), [HEADERS[key] for key in EXPORTED], (_exported(r, regions) for r in rows)
    )


def _exported(row: Row, regions: RegionIndex) -> str:
    reported = row.covered_until if row.covered_until != row.branch_until else None
    cells: dict[str, xlsx.Cell] = {
        "nik": row.nik,
        "nama": row.full_name,
        "kpj": row.kpj or "",
        "hp": row.phone or "",
        "desa": regions.name(row.desa_code),
        "kecamatan": regions.name(row.kecamatan_code),
        "bulan": _month(row.branch_until),
        "program": programs(with_jht=bool(row.with_jht)),
        "sumber": _payer_cell(row),
        "pekerjaan": t(f"option.occupation.{row.occupation}") if row.occupation else "",
        "penghasilan": row.declared_income or "",
        "laporan": _month(reported),
    }
    return xlsx.cells([cells[key] for key in EXPORTED])


def _payer_cell(row: Row) -> str:
    """Who pays, as the import reads it back: a sponsor by name when one is known."""
    if not row.payer:
        return ""
    label = PAYER_EXPORT[Payer(row.payer)]
    return sponsor_cell(row.sponsor_name, label) if row.payer == Payer.SPONSOR and row.sponsor_name else label


def _month(day: date | None) -> str:
    return day.strftime("%m/%Y") if day else ""


def error_file(errors: Sequence[RowError]) -> bytes:
    """The rows that were not imported and why, and the values that were not read in the rows that were."""
    header = t("sheet.error_header").split("|")
    rows = (xlsx.cells((e.line, HEADERS[e.column], _problem(e))) for e in sorted(errors, key=lambda e: e.line))
    return xlsx.workbook(t("sheet.error_title"), header, rows)


def _problem(error: RowError) -> str:
    """What is wrong in one cell, in Indonesian."""
    return t(
        f"sheet.{error.reason}", line=error.first, value=error.value, minimum=rupiah(default_tariffs().income.minimum)
    )
