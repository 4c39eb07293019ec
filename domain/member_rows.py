"""A member as the branch's spreadsheet states them: one checked row, and what importing many would change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from domain.vocabulary import BpjsStatus

# The columns a spreadsheet row sets on a member (NIK-derived birth date and sex included).
SHEET_FIELDS = ("full_name", "birth_date", "sex", "phone", "kecamatan_code", "desa_code", "kpj", "covered_until",
                "payer")  # fmt: skip


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
