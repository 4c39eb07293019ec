"""The officer's whole list as an XLSX file, in the order of the chat pages.

No NIK, not even masked: files get forwarded, and name, desa and phone are what an officer needs to find someone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.texts import t
from bot.texts.words import unreached_reason
from domain.regions import RegionIndex
from files import xlsx


class Line(Protocol):
    """One member on the list (the dialogs' `UnreachedView`)."""

    name: str
    desa_code: str
    reason: str
    days_left: int | None
    months_due: int
    amount_due: int
    last_attempt: str
    memo: dict[str, str]  # renderings kept for the run: one member is on several officers' files

    def contact(self) -> str:
        """The phone, or the chat that reaches a member without one ("tanpa nomor HP" when none)."""


def workbook(items: Sequence[Line], regions: RegionIndex) -> bytes:
    """The list as XLSX; the "Batas bayar" column is the chat line's own words (`officer.standing`, in the memo)."""
    rows = (xlsx.number(number) + _cells(item, regions) for number, item in enumerate(items, start=1))
    return xlsx.workbook(t("officer.sheet"), t("officer.sheet_header").split("|"), rows)


def _cells(item: Line, regions: RegionIndex) -> str:
    """A member's cells after the row number, rendered once however many officers' files list them."""
    cached = item.memo.get("sheet")
    if cached is None:
        days = "" if item.days_left is None else item.days_left
        phone = item.contact()
        reason, attempt = unreached_reason(item.reason), item.last_attempt or t("officer.never_tried")
        values = (
            item.name,
            regions.name(item.desa_code),
            phone,
            item.months_due,
            item.amount_due,
            item.memo.get("standing", ""),
            days,
            reason,
            attempt,
        )
        cached = item.memo["sheet"] = xlsx.cells(values)
    return cached
