"""An office's monthly statement (or its follow-up) as an XLSX file: one row per member, then the total.

The NIK is masked as on the officers' lists (files get forwarded); the KPJ, when known, is what the branch's billing
goes by. Names are text cells, never formulas (`files.xlsx`).
"""

from __future__ import annotations

from bot.texts import month_span, month_year, t
from domain.regions import RegionIndex
from domain.rules import ContributionMonth, Standing
from domain.statements import Line, Statement
from files import xlsx

_NOTES = {
    Standing.ACTIVE: "statement.standing.active",
    Standing.ARREARS: "statement.standing.arrears",
    Standing.LAPSED: "statement.standing.lapsed",
    Standing.UNKNOWN: "statement.standing.unknown",
}


def workbook(statement: Statement, regions: RegionIndex) -> bytes:
    rows = [xlsx.number(number) + _cells(line, regions) for number, line in enumerate(statement.lines, start=1)]
    total = t("statement.sheet_total", count=len(statement.owing))
    rows.append(xlsx.cells(("", total, "", "", "", "", "", statement.total, "")))
    return xlsx.workbook(t("statement.sheet"), t("statement.sheet_header").split("|"), rows)


def months_text(first: ContributionMonth, months: int) -> str:
    """`Desember 2026`, or `Oktober–Desember 2026 (3 bulan)`: the months as every message says them."""
    if months == 1:
        return month_year(first.year, first.month)
    return t("statement.months_span", span=month_span(first, first.plus(months - 1)), count=months)


def _cells(line: Line, regions: RegionIndex) -> str:
    member = line.member
    # A lapsed member owes nothing the office can pay this month (reactivation goes through the branch): no months,
    # no amount, only the note; an unknown month has nothing to show either.
    owed = line.first is not None and line.standing is not Standing.LAPSED
    months = months_text(line.first, line.months) if owed and line.first is not None else ""
    note = t(_NOTES[line.standing])
    values = (
        member.full_name,
        regions.name(member.desa_code),
        member.masked_nik,
        member.kpj or "",
        months,
        line.months if owed else "",
        line.amount if owed else "",
        note,
    )
    return xlsx.cells(values)
