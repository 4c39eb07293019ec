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

What a file does not say is never erased: a missing column, a blank cell, or a payer, occupation, program or income
it cannot read leaves the member's stored value as it is (a new member gets the default: self-paying, `lainnya`,
JKK + JKM, the minimum declared income). Such values are warnings (`Sheet.warnings`: the row is imported and the
preview names the value and how many rows); only a payer nobody can read keeps a *new* member out (`settle`), since
who pays decides who is asked to pay.

A sponsor's cell that says more than who pays names the sponsor ("Kejaksaan Negeri Sidrap"; "Donatur (H. Andi)", as
the export writes a name that does not say it is a sponsor): kept as the member's `sponsor_name`, which a bare
"Donatur" or a blank cell never erases.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from domain.identity import KpjProblem, Nik, parse_kpj, parse_nik, parse_phone
from domain.names import Phrases, words
from domain.occupations import occupation_of
from domain.regions import Region, RegionIndex, inside
from domain.rules import ContributionMonth, parse_month
from domain.tariffs import default_tariffs, parse_income
from domain.vocabulary import BpjsStatus, Occupation, Payer

MAX_BYTES = 15 * 2**20  # what a branch's 100,000-row export weighs, with room to spare

# What a row states of a member besides the NIK, name and desa (each may be left unsaid: None).
STATED = (
    "phone",
    "kpj",
    "covered_until",
    "branch_until",
    "payer",
    "sponsor_name",
    "occupation",
    "with_jht",
    "declared_income",
)
_SELF, _FAMILY, _SPONSOR, _INSTITUTION = Payer.SELF, Payer.FAMILY, Payer.SPONSOR, Payer.INSTITUTION
_APBD, _APBN, _DESA = Payer.REGIONAL_GOVERNMENT, Payer.CENTRAL_GOVERNMENT, Payer.VILLAGE_FUND
# Who pays, as branches write it: phrases found inside the cell ("APBD Kab. Sidrap", "CSR PT Semen Tonasa",
# "Kejaksaan Negeri Soppeng"), longest first. An OPD ("Dinas Sosial") pays from the regency's APBD, so PP 50/2025's
# relief does not apply: it is the regional government here. Alokasi Dana Desa is spent through the desa's APBDes.
# A prosecutor's office in "Satu Adhyaksa Menanggung Satu Petani" names its prosecutors as sponsors: a sponsor person.
# Place names carry no meaning ("Baznas Kabupaten Sidrap" is Baznas), so "kabupaten" or "desa" alone are not here.
PAYER_WORDS: dict[str, Payer] = {
    "mandiri": _SELF, "sendiri": _SELF, "bayar sendiri": _SELF, "pribadi": _SELF, "swadaya": _SELF,
    "bpu mandiri": _SELF, "peserta sendiri": _SELF,
    "keluarga": _FAMILY, "anak": _FAMILY, "orang tua": _FAMILY, "ortu": _FAMILY, "suami": _FAMILY, "istri": _FAMILY,
    "saudara": _FAMILY,
    "donatur": _SPONSOR, "sponsor": _SPONSOR, "dermawan": _SPONSOR, "orang tua asuh": _SPONSOR, "kerabat": _SPONSOR,
    "hamba allah": _SPONSOR, "kejaksaan": _SPONSOR, "kejari": _SPONSOR, "kejati": _SPONSOR, "jaksa": _SPONSOR,
    "adhyaksa": _SPONSOR, "penanggung": _SPONSOR,
    "csr": _INSTITUTION, "pt": _INSTITUTION, "perusahaan": _INSTITUTION, "baznas": _INSTITUTION,
    "bazda": _INSTITUTION, "laznas": _INSTITUTION, "lazis": _INSTITUTION, "lazismu": _INSTITUTION,
    "lazisnu": _INSTITUTION, "yayasan": _INSTITUTION, "bumn": _INSTITUTION, "bumd": _INSTITUTION,
    "bank": _INSTITUTION, "bank mandiri": _INSTITUTION, "koperasi": _INSTITUTION, "lembaga": _INSTITUTION,
    "apbd": _APBD, "apbd i": _APBD, "apbd ii": _APBD, "pemda": _APBD, "pemkab": _APBD, "pemkot": _APBD,
    "pemprov": _APBD, "pemerintah daerah": _APBD, "pemerintah kabupaten": _APBD, "pemerintah kota": _APBD,
    "pemerintah provinsi": _APBD, "bupati": _APBD, "dinas": _APBD, "opd": _APBD,
    "apbn": _APBN, "pemerintah pusat": _APBN, "kementerian": _APBN,
    "dana desa": _DESA, "dd": _DESA, "add": _DESA, "alokasi dana desa": _DESA, "apbdes": _DESA, "apbdesa": _DESA,
    "apbd desa": _DESA, "pemdes": _DESA, "pemerintah desa": _DESA,
}  # fmt: skip
_PAYERS = Phrases(PAYER_WORDS)
_PAYER_WORDS = {word for phrase in PAYER_WORDS for word in words(phrase)}
# A sponsor's name the way the export writes one that does not itself say it is a sponsor: "Donatur (H. Andi)".
_LABELLED = re.compile(r"^([^()]+?)\s*\((.+)\)$")
# A person's office named as payer: the desa's Dana Desa, the village head personally, or the regency? The file must
# say which ("Pak Kades pribadi" is not the member paying "pribadi"), so a value naming one is not read.
_UNCLEAR_PAYERS = Phrases(dict.fromkeys(("kades", "kepala desa", "pak desa", "lurah", "camat", "bupati"), True))
_NO_JHT = "-JHT"
# The programs of a BPU member: JKK and JKM always, JHT when chosen ("JKK, JKM" / "JKK+JKM" / "JKK JKM JHT").
PROGRAM_WORDS = {
    "jkk": "JKK", "jkm": "JKM", "jht": "JHT", "jkkjkm": "JKM", "jkkjkmjht": "JHT", "jaminan kecelakaan kerja": "JKK",
    "jaminan kematian": "JKM", "jaminan hari tua": "JHT", "non jht": _NO_JHT, "nonjht": _NO_JHT, "tanpa jht": _NO_JHT,
}  # fmt: skip
_PROGRAMS = Phrases(PROGRAM_WORDS)
_T = TypeVar("_T")
_CENTS = re.compile(r"[.,]\d{1,2}$")  # "1.500.000,00"
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
    """A member as one spreadsheet row states them. What it leaves unsaid is None: no such column, a blank cell, or
    a value that could not be read (the import then keeps what is stored). Read from a file, `covered_until` and
    `branch_until` are both the branch's last paid month; exported, they are the member's coverage and the month the
    branch's own data last showed."""

    nik: str
    full_name: str
    birth_date: date
    sex: str
    kecamatan_code: str
    desa_code: str
    phone: str | None = None
    kpj: str | None = None
    covered_until: date | None = None
    branch_until: date | None = None
    payer: str | None = None
    sponsor_name: str | None = None  # a sponsor payer's name, when the cell gives one ("Kejaksaan Negeri Sidrap")
    occupation: str | None = None
    with_jht: bool | None = None
    declared_income: int | None = None
    unknown_payer: bool = False  # the file names a payer nobody could read: a new member cannot come in by it

    def fields(self) -> dict[str, object]:
        """The columns this row changes on a registered member: what it states, nothing else."""
        values: dict[str, object] = {"full_name": self.full_name, "birth_date": self.birth_date, "sex": self.sex,
                                     "kecamatan_code": self.kecamatan_code, "desa_code": self.desa_code}  # fmt: skip
        values |= {name: getattr(self, name) for name in STATED if getattr(self, name) is not None}
        if self.kpj is not None or self.covered_until is not None:  # in the branch's data: a BPJS member
            values |= {"bpjs_status": BpjsStatus.MEMBER, "needs_enrolment": False}
        return values

    def new_fields(self) -> dict[str, object]:
        """A new member's columns: what the row states, and the defaults for what it does not."""
        registered = self.kpj is not None or self.covered_until is not None
        defaults: dict[str, object] = {
            "payer": Payer.SELF,
            "occupation": Occupation.LAINNYA,
            "with_jht": False,
            "declared_income": default_tariffs().income.minimum,
            "period_months": 1,
            "bpjs_status": BpjsStatus.MEMBER if registered else BpjsStatus.NOT_REGISTERED,
            "needs_enrolment": not registered,
        }
        return defaults | self.fields()


@dataclass(frozen=True, slots=True)
class Plan:
    """What importing checked rows would do."""

    new: int
    updated: int
    unchanged: int
    mismatched: int = 0  # registered members whose own payment report goes beyond the branch's month
    refused: frozenset[str] = frozenset()  # the NIKs of new members whose payer the file does not make clear


class RowProblem(StrEnum):
    """What is wrong with a row (the catalog says it as `sheet.<problem>`; a bad NIK as `sheet.nik_<NikProblem>`, a
    bad KPJ as `sheet.kpj_<KpjProblem>`).
    From PAYER_UNKNOWN on they are warnings: the row comes in, and only that value is left as stored."""

    FORMULA = "formula"
    SCIENTIFIC = "scientific"
    NAME = "name"
    PHONE = "phone"
    DESA = "desa"
    MONTH = "month"
    MONTH_FUTURE = "month_future"
    DUPLICATE_NIK = "duplicate_nik"
    PAYER_NEW = "payer_new"  # a new member, and the payer cannot be read
    PAYER_UNKNOWN = "payer_unknown"
    OCCUPATION_UNKNOWN = "occupation_unknown"
    PROGRAM_UNKNOWN = "program_unknown"
    INCOME_UNREADABLE = "income_unreadable"
    INCOME_RAISED = "income_raised"  # below the minimum declared income: recorded as the minimum


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    column: str  # the column's key: nik, nama, kpj, hp, desa, kecamatan, bulan, program, sumber, pekerjaan, …
    reason: str  # a RowProblem, nik_<NikProblem> or kpj_<KpjProblem>
    first: int = 0  # a duplicate NIK: the line it came first on
    value: str = ""  # a warning: the value as written


@dataclass(frozen=True, slots=True)
class SheetRow:
    """A valid row, ready to write, and what in it could not be read (left as stored)."""

    line: int  # the row number the admin sees in Excel
    member: Row
    warnings: tuple[RowError, ...] = ()


@dataclass(frozen=True, slots=True)
class Sheet:
    """A member spreadsheet, read and checked: what the import dialog gets instead of the file."""

    rows: tuple[SheetRow, ...]
    errors: tuple[RowError, ...]
    problem: str = ""  # the whole file is unusable: why, as told to the admin (and rows/errors are empty)
    skipped: int = 0  # totals rows and blank rows inside the table, passed over (not members, not errors)
    fingerprint: str = ""  # the file's SHA-256: the same file at the same moment is the same import
    unread: tuple[str, ...] = ()  # headers of columns the import does not read, as written

    @property
    def warnings(self) -> tuple[RowError, ...]:
        return tuple(w for row in self.rows for w in row.warnings)


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


def settle(sheet: Sheet, refused: Collection[str]) -> Sheet:
    """The sheet with the rows of new members whose payer cannot be read (`Plan.refused`) moved to its errors."""
    if not refused:
        return sheet
    kept = tuple(row for row in sheet.rows if row.member.nik not in refused)
    payer_of_line = {w.line: w.value for row in sheet.rows for w in row.warnings if w.column == "sumber"}
    out = [RowError(r.line, "sumber", RowProblem.PAYER_NEW, value=payer_of_line.get(r.line, ""))
           for r in sheet.rows if r.member.nik in refused]  # fmt: skip
    return replace(sheet, rows=kept, errors=tuple(sorted((*sheet.errors, *out), key=lambda e: e.line)))


class _Bad(Exception):
    """A row's first problem: in which column, and why."""

    def __init__(self, column: str, reason: str, value: str = "") -> None:
        super().__init__(column, reason)
        self.column, self.reason, self.value = column, reason, value


@dataclass(slots=True)
class RowCheck:
    """The rows of one file, checked one at a time."""

    regions: RegionIndex
    area: Sequence[str]
    today: date
    places: dict[tuple[str, str], Region | None] = field(default_factory=dict)  # a file names each desa many times

    def row(self, line: int, values: Mapping[str, object]) -> SheetRow | RowError:
        """A data row (with what in it could not be read); the first problem found when it cannot be imported."""
        try:
            member = self._member(values)
        except _Bad as bad:
            return RowError(line, bad.column, bad.reason, value=bad.value)
        said = _Said(line, values)
        payer = said.read("sumber", payer_of, RowProblem.PAYER_UNKNOWN)
        member = replace(
            member,
            payer=payer,
            sponsor_name=sponsor_of(said.cell("sumber")) if payer == Payer.SPONSOR else None,
            occupation=said.read("pekerjaan", occupation_of, RowProblem.OCCUPATION_UNKNOWN),
            with_jht=said.read("program", jht_of, RowProblem.PROGRAM_UNKNOWN),
            declared_income=said.income(),
        )
        unknown_payer = any(w.column == "sumber" for w in said.warnings)
        return SheetRow(line, replace(member, unknown_payer=unknown_payer), tuple(said.warnings))

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
        kecamatan = desa.code.rsplit(".", 1)[0]
        return Row(nik.value, name, nik.birth_date, nik.sex, kecamatan, desa.code, phone=phone, kpj=kpj,
                   covered_until=covered, branch_until=covered)  # fmt: skip

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


@dataclass(slots=True)
class _Said:
    """The free-text cells of one row (payer, occupation, programs, income), read forgivingly; what cannot be read
    is a warning and None (kept as stored)."""

    line: int
    values: Mapping[str, object]
    warnings: list[RowError] = field(default_factory=list)

    def cell(self, column: str) -> str:
        """The cell as the preview quotes it: one line, spaces collapsed, not too long."""
        return " ".join(_text(self.values.get(column) or "").split())[:60]

    def read(self, column: str, meaning: Callable[[str], _T | None], problem: RowProblem) -> _T | None:
        text = self.cell(column)
        if not text:
            return None
        found = meaning(text)
        if found is None:
            self.warnings.append(RowError(self.line, column, problem, value=text))
        return found

    def income(self) -> int | None:
        amount = income_of(self.values.get("penghasilan"))
        if amount is None:
            return None
        if amount is False:
            self.warnings.append(
                RowError(self.line, "penghasilan", RowProblem.INCOME_UNREADABLE, value=self.cell("penghasilan"))
            )
            return None
        if amount < default_tariffs().income.minimum:
            self.warnings.append(RowError(self.line, "penghasilan", RowProblem.INCOME_RAISED, value=str(amount)))
            return default_tariffs().income.minimum
        return amount


def payer_of(text: str) -> Payer | None:
    """Who pays, as a cell says it ("APBD Kab. Sidrap" → regional government, "Donatur (H. Andi)" → a sponsor);
    None when it cannot be told."""
    if _labelled_sponsor(text):
        return Payer.SPONSOR  # the label says who pays; the name inside may hold any words ("Pak Kades")
    if _UNCLEAR_PAYERS.found(text):
        return None
    return _PAYERS.meaning(text)


def sponsor_of(text: str) -> str | None:
    """The name a sponsor payer's cell gives: the whole cell when it says more than who pays ("Kejaksaan Negeri
    Sidrap", "Kejari Sidrap"), the name in brackets after a bare label ("Donatur (H. Andi)"); None for a bare label
    ("Donatur", "Hamba Allah"), which names nobody."""
    text = " ".join(text.split())
    return _labelled_sponsor(text) or (None if _only_payer_words(text) else text[:100])


def sponsor_cell(name: str, label: str) -> str:
    """A sponsor's name as the export writes it, to be read back the same (`payer_of`, `sponsor_of`): the name alone
    when it says it is a sponsor, else after the sponsor's `label` ("Donatur (H. Andi)")."""
    return name if payer_of(name) == Payer.SPONSOR and sponsor_of(name) == name else f"{label} ({name})"


def _labelled_sponsor(text: str) -> str | None:
    """The name in "Donatur (H. Andi)": after a label of payer words only that means a sponsor, a name that names no
    other payer ("Kejari (APBD)" is not one)."""
    labelled = _LABELLED.match(text.strip())
    if labelled is None or not _only_payer_words(labelled[1]) or _PAYERS.meaning(labelled[1]) != Payer.SPONSOR:
        return None
    name = labelled[2].strip()
    return name[:100] if name and set(_PAYERS.found(name)) <= {Payer.SPONSOR} else None


def _only_payer_words(text: str) -> bool:
    """Says who pays and nothing more: every word is a payer phrase's, or a misspelling of one ("Donatr")."""
    return all(word in _PAYER_WORDS or _PAYERS.found(word) for word in words(text))


def jht_of(text: str) -> bool | None:
    """Whether the programs a cell names include JHT ("JKK, JKM, JHT" → True, "JKK+JKM" → False); None when the
    cell names no program (a local scheme's name such as "SUTASOMA")."""
    found = set(_PROGRAMS.found(text))
    if not found:
        return None
    return "JHT" in found and _NO_JHT not in found


def income_of(value: object) -> int | bool | None:
    """A declared monthly income in rupiah: a number cell, or text as `domain.tariffs.parse_income` reads it, also
    with the cents or the ",-" of a price (Rp1.500.000,00, Rp 1.500.000,-). None when empty; False when unreadable."""
    if value is None or isinstance(value, bool):
        return None if value is None else False
    if isinstance(value, int | float):
        return int(value) if value >= 0 else False
    text = _text(value).lower().removesuffix(",-").removesuffix(".-")
    if not text:
        return None
    if len(_NOT_DIGIT.sub("", text)) > 4:  # "1.500.000,00": cents; "1,5 jt" keeps its decimal
        text = _CENTS.sub("", text)
    amount = parse_income(text.replace("/bln", "/bulan"))
    return False if amount is None else amount


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
    if not text:
        return None
    kpj = parse_kpj(text)
    if isinstance(kpj, KpjProblem):  # said as the dialog says it: a wrong length with the digits written
        raise _Bad("kpj", f"kpj_{kpj}", value=str(sum(c.isdigit() for c in text)))
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
    if not text:  # a cell of spaces is as empty as an empty one
        return None
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
