"""The branch's member spreadsheet: reading it (XLSX or CSV, as branches export them) into checked rows, and writing
members back out in the same columns, so an export can be imported again.

Everything that can go wrong with a file people edit in Excel is an error naming the row, the column and the reason
in Indonesian, never an exception: formulas, NIKs that Excel turned into 7,31206E+15, phone numbers that lost their
leading zero (accepted), dates typed as text (accepted), a zip bomb posing as XLSX (refused).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from openpyxl import load_workbook

from bot.texts import t
from domain.identity import Nik, parse_kpj, parse_nik, parse_phone
from domain.member_rows import Row
from domain.regions import Region, RegionIndex, inside
from domain.rules import ContributionMonth, parse_month
from domain.vocabulary import Payer
from files import xlsx

MAX_BYTES = 15 * 2**20  # what a branch's 100,000-row export weighs, with room to spare
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
PAYER_WORDS = {
    "mandiri": Payer.SELF, "sendiri": Payer.SELF, "pribadi": Payer.SELF, "keluarga": Payer.FAMILY,
    "pemda": Payer.REGIONAL_GOVERNMENT, "apbd": Payer.REGIONAL_GOVERNMENT, "pemerintahdaerah":
    Payer.REGIONAL_GOVERNMENT, "pemkab": Payer.REGIONAL_GOVERNMENT, "sponsor": Payer.SPONSOR, "donatur":
    Payer.SPONSOR, "csr": Payer.SPONSOR, "perusahaan": Payer.SPONSOR,
}  # fmt: skip
PAYER_EXPORT = {Payer.SELF: "mandiri", Payer.FAMILY: "keluarga", Payer.REGIONAL_GOVERNMENT: "pemda",
                Payer.SPONSOR: "sponsor"}  # fmt: skip
_EXCEL_EPOCH = date(1899, 12, 30)
_TEXT_DATE = re.compile(r"^(\d{1,2})[/\-.](\d{1,2})[/\-.](\d{4})$|^(\d{4})-(\d{2})-(\d{2})(?:[ T].*)?$")


@dataclass(frozen=True, slots=True)
class SheetRow:
    """A valid row, ready to write."""

    line: int  # the row number the admin sees in Excel
    member: Row
    program: str


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    column: str
    reason: str


@dataclass(frozen=True, slots=True)
class Sheet:
    rows: list[SheetRow]
    errors: list[RowError]
    problem: str = ""  # the whole file is unusable: why (and rows/errors are empty)


def read(
    filename: str, content: bytes, *, regions: RegionIndex, area: Sequence[str], today: date, size: int = 0
) -> Sheet:
    """Check every row of an XLSX or CSV file against the service `area`. `size`: as sent, when not downloaded."""
    if max(size, len(content)) > MAX_BYTES:
        return Sheet([], [], t("sheet.too_big", mb=MAX_BYTES // 2**20))
    kind = filename.lower().rsplit(".", 1)[-1]
    try:
        if kind == "xlsx":
            table = _xlsx_rows(content)
        elif kind == "csv":
            table = _csv_rows(content)
        else:
            return Sheet([], [], t("sheet.wrong_type"))
        return _check(table, regions=regions, area=area, today=today)
    except _Unusable as error:
        return Sheet([], [], str(error))


class _Unusable(Exception):
    """The file cannot be read at all; the message says why, in Indonesian."""


def _xlsx_rows(content: bytes) -> Iterator[tuple[Any, ...]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        parts = archive.infolist()
    except zipfile.BadZipFile as error:
        raise _Unusable(t("sheet.unreadable")) from error
    unpacked = sum(part.file_size for part in parts)
    if unpacked > MAX_UNPACKED or any(p.file_size > MAX_RATIO * max(p.compress_size, 1) for p in parts if p.file_size
                                      > 2**20):  # fmt: skip
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


def _normal(value: object) -> str:
    return re.sub(r"[^a-z0-9]", "", str(value or "").lower())


def _check(table: Iterator[tuple[Any, ...]], *, regions: RegionIndex, area: Sequence[str], today: date) -> Sheet:
    header: dict[str, int] = {}
    places: dict[tuple[str, str], Region | None] = {}  # a branch's file names each desa thousands of times
    rows: list[SheetRow] = []
    errors: list[RowError] = []
    line = 0
    for line, cells in enumerate(table, start=1):
        if not header:
            found = {key: i for i, cell in enumerate(cells) for key, names in COLUMNS.items() if _normal(cell) in names}
            if len(found) >= len(REQUIRED) and all(key in found for key in REQUIRED):
                header = found
            elif line >= 10:
                raise _Unusable(t("sheet.no_header", columns=", ".join(HEADERS[k] for k in REQUIRED)))
            continue
        if line > MAX_ROWS:
            raise _Unusable(t("sheet.too_many_rows", most=f"{MAX_ROWS:,}".replace(",", ".")))
        values = {key: cells[i] if i < len(cells) else None for key, i in header.items()}
        if all(value in (None, "") for value in values.values()):
            continue  # an empty line
        row = _row(line, values, regions=regions, area=area, today=today, errors=errors, places=places)
        if row is not None:
            rows.append(row)
    if not header:
        raise _Unusable(t("sheet.no_header", columns=", ".join(HEADERS[k] for k in REQUIRED)))
    seen: dict[str, int] = {}
    for row in rows:  # the same NIK twice in one file: the first wins, the second is an error
        if row.member.nik in seen:
            errors.append(RowError(row.line, HEADERS["nik"], t("sheet.duplicate_nik", line=seen[row.member.nik])))
        seen.setdefault(row.member.nik, row.line)
    duplicated = {e.line for e in errors if e.column == HEADERS["nik"]}
    return Sheet([r for r in rows if r.line not in duplicated], sorted(errors, key=lambda e: e.line))


def _row(
    line: int,
    values: dict[str, Any],
    *,
    regions: RegionIndex,
    area: Sequence[str],
    today: date,
    errors: list[RowError],
    places: dict[tuple[str, str], Region | None],
) -> SheetRow | None:
    def fail(key: str, reason: str) -> None:
        errors.append(RowError(line, HEADERS[key], reason))

    formulas = [key for key, value in values.items() if isinstance(value, str) and value.startswith("=")]
    if formulas:
        fail(formulas[0], t("sheet.formula"))
        return None
    raw_nik = values.get("nik")
    # Excel keeps 15 significant digits: a NIK stored as a number has already lost its last one.
    nik_text = None if isinstance(raw_nik, int | float) and abs(raw_nik) >= 1e15 else _digits_text(raw_nik)
    if nik_text is None:
        fail("nik", t("sheet.scientific"))
        return None
    nik = parse_nik(nik_text, regions=regions, today=today)
    if not isinstance(nik, Nik):
        fail("nik", t(f"sheet.nik_{nik}"))
        return None
    name = " ".join(str(values.get("nama") or "").split())
    if not 2 <= len(name) <= 100:
        fail("nama", t("sheet.name"))
        return None
    phone: str | None = None
    phone_text = _digits_text(values.get("hp"))
    if phone_text:
        parsed = parse_phone(phone_text)
        if not parsed.startswith("+"):
            fail("hp", t("sheet.phone"))
            return None
        phone = parsed
    kpj_text = _digits_text(values.get("kpj")) or ""
    kpj = parse_kpj(kpj_text) if kpj_text else None
    if kpj_text and kpj is None:
        fail("kpj", t("sheet.kpj"))
        return None
    place = (str(values.get("desa") or ""), str(values.get("kecamatan") or ""))
    if place not in places:
        places[place] = _desa(*place, regions=regions, area=area)
    desa = places[place]
    if desa is None:
        fail("desa", t("sheet.desa"))
        return None
    month = _month(values.get("bulan"))
    if month is False:
        fail("bulan", t("sheet.month"))
        return None
    covered = month.last_day if isinstance(month, ContributionMonth) else None
    if covered is not None and covered > today + timedelta(days=400):
        fail("bulan", t("sheet.month_future"))
        return None
    payer = PAYER_WORDS.get(_normal(values.get("sumber")), Payer.SELF) if values.get("sumber") else Payer.SELF
    program = " ".join(str(values.get("program") or "").split())[:40]
    member = Row(nik.value, name, nik.birth_date, nik.sex, phone, desa.code.rsplit(".", 1)[0], desa.code, kpj,
                 covered, payer)  # fmt: skip
    return SheetRow(line, member, program)


def _digits_text(value: object) -> str | None:
    """A cell that should hold digits, as text. None when Excel stored it in scientific notation (digits lost)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and value < 1e15 else None  # 16 digits do not survive a float
    text = str(value).strip()
    if re.fullmatch(r"\d+([.,]\d+)?[eE][+-]?\d+", text):
        return None
    return text


def _desa(text: str, kecamatan: str, *, regions: RegionIndex, area: Sequence[str]) -> Region | None:
    """A desa of the service area, by code or by name (inside the named kecamatan when it is given)."""
    code = text.strip()
    region = regions.get(code)
    if region is not None:
        return region if region.level == 4 and inside(code, area) else None
    districts = regions.kecamatan_in(area)
    if kecamatan.strip():
        districts = regions.match(kecamatan, districts) or (
            [k for k in districts if k.code == kecamatan.strip()]
        )  # fmt: skip
    villages = [v for k in districts for v in regions.children(k.code)]
    found = [v for v in villages if _normal(v.name) == _normal(text)] or regions.match(text, villages)
    return found[0] if len(found) == 1 else None


def _month(value: object) -> ContributionMonth | bool | None:
    """The last month paid: a date cell, an Excel serial number, or text like 10/2026, Okt 2026, 31/10/2026.
    None when empty; False when unreadable."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime | date):
        return ContributionMonth(value.year, value.month)
    if isinstance(value, int | float) and 30_000 <= value <= 80_000:  # a date Excel shows as its serial number
        day = _EXCEL_EPOCH + timedelta(days=int(value))
        return ContributionMonth(day.year, day.month)
    text = str(value).strip()
    dated = _TEXT_DATE.match(text)
    if dated:
        day_first = dated.group(3) is not None
        year, month = (int(dated.group(3)), int(dated.group(2))) if day_first else (int(dated.group(4)),
                                                                                     int(dated.group(5)))  # fmt: skip
        return ContributionMonth(year, month) if 1 <= month <= 12 else False
    return parse_month(text) or False


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
    return xlsx.workbook(t("sheet.error_title"), header, (xlsx.cells((e.line, e.column, e.reason)) for e in errors))
