"""The officer's list and its spreadsheet say each member's deadline in the members' own words."""

from __future__ import annotations

import io
from datetime import date
from functools import partial

from openpyxl import load_workbook

from bot.dialogs.core import DialogConfig, ListFile, UnreachedView
from bot.texts import t
from domain.regions import RegionIndex
from files import officer_list
from tests.dialog_driver import Chat

# The driver's day is Monday 23 November 2026.
VIEW = partial(
    UnreachedView,
    desa_code="73.12.06.2002",
    phone=None,
    masked_nik=lambda: "7312********9001",
    reason="blocked",
    last_attempt="",
)
LISTED = [
    # Lapsed on Tuesday 17 November (September–November unpaid; the 15th was a Sunday).
    VIEW(member_id=1, name="A", days_left=-6, months_due=3, amount_due=25_200, covered_until=date(2026, 8, 31)),
    # October and November unpaid: the last day that keeps the membership is December's 15th.
    VIEW(member_id=2, name="B", days_left=23, months_due=2, amount_due=16_800, covered_until=date(2026, 9, 30)),
    # November unpaid: January's 15th.
    VIEW(member_id=3, name="C", days_left=54, months_due=1, amount_due=8_400, covered_until=date(2026, 10, 31)),
    # Paid through November, December not due yet: its own 15th.
    VIEW(member_id=4, name="D", days_left=85, months_due=0, amount_due=0, covered_until=date(2026, 11, 30)),
    *(VIEW(member_id=10 + n, name=f"E{n}", days_left=None, months_due=0, amount_due=0) for n in range(6)),
]
SAYS = {
    "A": "Tunggakan 3 bulan (Rp25.200), nonaktif sejak Selasa, 17 November 2026",
    "B": "Tunggakan 2 bulan (Rp16.800), paling lambat Selasa, 15 Desember 2026",
    "C": "Tunggakan 1 bulan (Rp8.400), paling lambat Jumat, 15 Januari 2027",
    "D": "Iuran belum dibayar, paling lambat Selasa, 15 Desember 2026",
}


def test_the_list_and_its_spreadsheet_name_the_deadline(dialog_config: DialogConfig, regions: RegionIndex) -> None:
    chat = Chat(dialog_config, regions)
    chat.lookups.officer = "Penyuluh Donri"
    chat.lookups.unreached = LISTED
    [listing] = chat.send("/daftar")
    for said in SAYS.values():
        assert f"{said} · {t('officer.reason.blocked')}" in listing.text
    assert isinstance(listing.file_request, ListFile)
    sheet = load_workbook(io.BytesIO(officer_list.workbook(listing.file_request.items, regions))).active
    assert sheet is not None
    header, *rows = list(sheet.iter_rows(values_only=True))
    column = header.index("Batas bayar")
    assert {row[1]: row[column] for row in rows if row[1] in SAYS} == SAYS
