"""A member as the branch's spreadsheet states them: the checking of each row, the checked rows, and what importing
many would change.

The rules live here, pure; `files.member_sheet` only turns an XLSX or CSV file into cells by column (and says, in
Indonesian, why a whole file cannot be read). Everything that can go wrong in one row is a `RowError` naming the row,
the column and the reason (a catalog key), never an exception: formulas, NIKs that Excel turned into 7,31206E+15,
phone numbers that lost their leading zero (accepted), dates typed as text (accepted).

Branches write these files by hand, so a cell is read as a person reads it: a NIK with the leading apostrophe that
keeps a number as text (`'7314…`), with spaces, or as a number that kept all 16 digits; a month as a date or as
short text (`Jun-26`, `Okt-26`, `okt 2026`). Rows that are not members are told apart (`is_totals`, `is_blank`,
`is_column_numbers`) so that the reader can skip them and the preview can say how many it skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from domain.identity import Nik, parse_kpj, parse_nik, parse_phone
from domain.regions import Region, RegionIndex, inside
from domain.rules import ContributionMonth, parse_month
from domain.vocabulary import BpjsStatus, Payer

MAX_BYTES = 15 * 2**20  # what a branch's 100,000-row export weighs, with room to spare

# The columns a spreadsheet row sets on a member (NIK-derived birth date and sex included).
SHEET_FIELDS = ("full_name", "birth_date", "sex", "phone", "kecamatan_code", "desa_code", "kpj", "covered_until",
                "payer")  # fmt: skip
PAYER_WORDS = {
    "mandiri": Payer.SELF, "sendiri": Payer.SELF, "pribadi": Payer.SELF, "keluarga": Payer.FAMILY,
    "pemda": Payer.REGIONAL_GOVERNMENT, "apbd": Payer.REGIONAL_GOVERNMENT, "pemerintahdaerah":
    Payer.REGIONAL_GOVERNMENT, "pemkab": Payer.REGIONAL_GOVERNMENT, "sponsor": Payer.SPONSOR, "donatur":
    Payer.SPONSOR, "csr": Payer.SPONSOR, "perusahaan": Payer.SPONSOR,
}  # fmt: skip
_EXCEL_EPOCH = date(1899, 12, 30)
_TEXT_DATE = re.compile(r"^(\d{1,2})[/\-.](\d{1,2})[/\-.](\d{4})$|^(\d{4})-(\d{2})-(\d{2})(?:[ T].*)?$")
_SCIENTIFIC = re.compile(r"\d+([.,]\d+)?[eE][+-]?\d+")
_NOT_ALNUM = re.compile(r"[^a-z0-9]")
_NOT_DIGIT = re.compile(r"\D")
_TEXT_MARK = "'\u2018\u2019`"  # the apostrophe a spreadsheet shows before a number kept as text, and its look-alikes
_TOTALS = re.compile(r"(jumlah|total|sub ?total|grand ?total)\b", re.IGNORECASE)
_COLUMN_NUMBER = re.compile(r"\(?(\d{1,2})\)?")


@dataclass(frozen=True, slots=True)
class Row:
    """A checked spreadsheet row, as the storage layer needs it."""

    nik: str
    full_name: str
    birth_date: date
    sex: str
    phone: str | None
    kecamatan_code: str
    desa_code: str
    kpj: str | None
    covered_until: date | None
    payer: str

    def fields(self) -> dict[str, object]:
        values: dict[str, object] = {name: getattr(self, name) for name in SHEET_FIELDS}
        registered = self.kpj is not None or self.covered_until is not None
        values["bpjs_status"] = BpjsStatus.MEMBER if registered else BpjsStatus.NOT_REGISTERED
        values["needs_enrolment"] = not registered
        return values


@dataclass(frozen=True, slots=True)
class Plan:
    new: int
    updated: int
    unchanged: int


class RowProblem(StrEnum):
    """Why a row is not imported (the catalog says it as `sheet.<problem>`; a bad NIK as `sheet.nik_<NikProblem>`)."""

    FORMULA = "formula"
    SCIENTIFIC = "scientific"
    NAME = "name"
    PHONE = "phone"
    KPJ = "kpj"
    DESA = "desa"
    MONTH = "month"
    MONTH_FUTURE = "month_future"
    DUPLICATE_NIK = "duplicate_nik"


@dataclass(frozen=True, slots=True)
class SheetRow:
    """A valid row, ready to write."""

    line: int  # the row number the admin sees in Excel
    member: Row
    program: str


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    column: str  # the column's key: nik, nama, kpj, hp, desa, kecamatan, bulan, program, sumber
    reason: str  # a RowProblem, or nik_<NikProblem>
    first: int = 0  # a duplicate NIK: the line it came first on


@dataclass(frozen=True, slots=True)
class Sheet:
    """A member spreadsheet, read and checked: what the import dialog gets instead of the file."""

    rows: tuple[SheetRow, ...]
    errors: tuple[RowError, ...]
    problem: str = ""  # the whole file is unusable: why, as told to the admin (and rows/errors are empty)
    skipped: int = 0  # totals rows and blank rows inside the table, passed over (not members, not errors)
    fingerprint: str = ""  # the file's SHA-256: the same file at the same moment is the same import


def normal(value: object) -> str:
    """A header or a word as compared: lower case, letters and digits only."""
    return _NOT_ALNUM.sub("", str(value or "").lower())


def check(
    lines: Iterable[tuple[int, Mapping[str, object]]], *, regions: RegionIndex, area: Sequence[str], today: date
) -> Sheet:
    """Check every row (its line number and its cells by column key) against the service `area`. The same NIK twice
    in one file: the first wins, the second is an error."""
    checker = RowCheck(regions, area, today)
    rows: list[SheetRow] = []
    errors: list[RowError] = []
    for line, values in lines:
        checked = checker.row(line, values)
        if isinstance(checked, SheetRow):
            rows.append(checked)
        else:
            errors.append(checked)
    seen: dict[str, int] = {}
    for row in rows:
        if row.member.nik in seen:
            errors.append(RowError(row.line, "nik", RowProblem.DUPLICATE_NIK, first=seen[row.member.nik]))
        seen.setdefault(row.member.nik, row.line)
    duplicated = {e.line for e in errors if e.column == "nik"}
    return Sheet(tuple(r for r in rows if r.line not in duplicated), tuple(sorted(errors, key=lambda e: e.line)))


class _Bad(Exception):
    """A row's first problem: in which column, and why."""

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(column, reason)
        self.column, self.reason = column, reason


@dataclass(slots=True)
class RowCheck:
    """The rows of one file, checked one at a time."""

    regions: RegionIndex
    area: Sequence[str]
    today: date
    places: dict[tuple[str, str], Region | None] = field(default_factory=dict)  # a file names each desa many times

    def row(self, line: int, values: Mapping[str, object]) -> SheetRow | RowError:
        """A data row; the first problem found when it cannot be imported."""
        try:
            return SheetRow(line, self._member(values), " ".join(str(values.get("program") or "").split())[:40])
        except _Bad as bad:
            return RowError(line, bad.column, bad.reason)

    def _member(self, values: Mapping[str, object]) -> Row:
        formulas = [key for key, value in values.items() if isinstance(value, str) and value.startswith("=")]
        if formulas:
            raise _Bad(formulas[0], RowProblem.FORMULA)
        nik = self._nik(values.get("nik"))
        name = " ".join(str(values.get("nama") or "").split())
        if not 2 <= len(name) <= 100:
            raise _Bad("nama", RowProblem.NAME)
        phone = _phone(values.get("hp"))
        kpj = _kpj(values.get("kpj"))
        desa = self._desa(str(values.get("desa") or ""), str(values.get("kecamatan") or ""))
        covered = self._covered(values.get("bulan"))
        sumber = values.get("sumber")
        payer = PAYER_WORDS.get(normal(sumber), Payer.SELF) if sumber else Payer.SELF
        kecamatan = desa.code.rsplit(".", 1)[0]
        return Row(nik.value, name, nik.birth_date, nik.sex, phone, kecamatan, desa.code, kpj, covered, payer)

    def _nik(self, raw: object) -> Nik:
        text = nik_text(raw)
        if text is None:
            raise _Bad("nik", RowProblem.SCIENTIFIC)
        nik = parse_nik(text, regions=self.regions, today=self.today)
        if not isinstance(nik, Nik):
            raise _Bad("nik", f"nik_{nik}")
        return nik

    def _desa(self, text: str, kecamatan: str) -> Region:
        place = (text, kecamatan)
        if place not in self.places:
            self.places[place] = find_desa(text, kecamatan, regions=self.regions, area=self.area)
        desa = self.places[place]
        if desa is None:
            raise _Bad("desa", RowProblem.DESA)
        return desa

    def _covered(self, value: object) -> date | None:
        month = last_month(value)
        if month is False:
            raise _Bad("bulan", RowProblem.MONTH)
        covered = month.last_day if isinstance(month, ContributionMonth) else None
        if covered is not None and covered > self.today + timedelta(days=400):
            raise _Bad("bulan", RowProblem.MONTH_FUTURE)
        return covered


def _phone(value: object) -> str | None:
    text = digits_text(value)
    if not text:
        return None
    parsed = parse_phone(text)
    if not parsed.startswith("+"):
        raise _Bad("hp", RowProblem.PHONE)
    return parsed


def _kpj(value: object) -> str | None:
    text = digits_text(value) or ""
    kpj = parse_kpj(text) if text else None
    if text and kpj is None:
        raise _Bad("kpj", RowProblem.KPJ)
    return kpj


def nik_text(value: object) -> str | None:
    """A NIK cell as text. None when it is a number that may have lost its last digit: Excel keeps 15 significant
    digits, so a 16-digit NIK typed into a number cell ends in 0 (7312060101809001 becomes 7312060101809000). A number
    that ends in any other digit kept all sixteen (a file written by a program rather than typed into Excel)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and abs(value) >= 1e15:
        whole = int(value) if isinstance(value, int) or value.is_integer() else 0
        return str(whole) if whole % 10 else None
    return digits_text(value)


def digits_text(value: object) -> str | None:
    """A cell that should hold digits, as text. None when Excel stored it in scientific notation (digits lost)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and value < 1e15 else None  # 16 digits do not survive a float
    text = _text(value)
    if _SCIENTIFIC.fullmatch(text):
        return None
    return text


def _text(value: object) -> str:
    """A cell as text, without the surrounding spaces and the leading apostrophe of a number kept as text."""
    return str(value).strip().lstrip(_TEXT_MARK).strip()


def find_desa(text: str, kecamatan: str, *, regions: RegionIndex, area: Sequence[str]) -> Region | None:
    """A desa of the service area, by code or by name (inside the named kecamatan when it is given)."""
    code = text.strip()
    region = regions.get(code)
    if region is not None:
        return region if region.level == 4 and inside(code, area) else None
    districts = regions.kecamatan_in(area)
    if kecamatan.strip():
        districts = regions.match(kecamatan, districts) or [k for k in districts if k.code == kecamatan.strip()]
    villages = [v for k in districts for v in regions.children(k.code)]
    found = [v for v in villages if normal(v.name) == normal(text)] or regions.match(text, villages)
    return found[0] if len(found) == 1 else None


def last_month(value: object) -> ContributionMonth | bool | None:
    """The last month paid: a date cell, an Excel serial number, or text like 10/2026, Okt 2026, 31/10/2026.
    None when empty; False when unreadable."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime | date):
        return ContributionMonth(value.year, value.month)
    if isinstance(value, int | float) and 30_000 <= value <= 80_000:  # a date Excel shows as its serial number
        day = _EXCEL_EPOCH + timedelta(days=int(value))
        return ContributionMonth(day.year, day.month)
    text = _text(value)
    dated = _TEXT_DATE.match(text)
    if dated:
        day_first = dated.group(3) is not None
        year = int(dated.group(3) if day_first else dated.group(4))
        month = int(dated.group(2) if day_first else dated.group(5))
        return ContributionMonth(year, month) if 1 <= month <= 12 else False
    return parse_month(text) or False


def is_blank(values: Mapping[str, object]) -> bool:
    """A row with nothing in any column the import reads (a numbered but empty line of a form is one)."""
    return all(value is None or not str(value).strip() for value in values.values())


def is_totals(cells: Sequence[object]) -> bool:
    """A totals row ("Jumlah", "Total", "Jumlah Peserta", "Sub Total", "Grand Total"): labelled so in some cell, and
    with no NIK in any (a member may be called Jumlah Wati)."""
    labelled = any(isinstance(cell, str) and _TOTALS.match(cell.strip()) for cell in cells)
    return labelled and not any(_holds_nik(cell) for cell in cells)


def _holds_nik(cell: object) -> bool:
    if isinstance(cell, bool) or not isinstance(cell, str | int | float):
        return False
    return len(_NOT_DIGIT.sub("", nik_text(cell) or "")) in (15, 16)


def is_column_numbers(cells: Sequence[object]) -> bool:
    """The row under a form's header that numbers its columns: 1, 2, 3… or (1), (2), (3)… (gaps allowed)."""
    numbered: list[tuple[int, int]] = []
    for column, cell in enumerate(cells):
        if cell is None or not str(cell).strip():
            continue
        found = _COLUMN_NUMBER.fullmatch(str(cell).strip())
        if found is None:
            return False
        numbered.append((column, int(found.group(1))))
    offsets = {number - column for column, number in numbered}
    return len(numbered) >= 3 and len(offsets) == 1 and min(number for _, number in numbered) == 1
