"""`/status`: how far the member is paid and covered, and the next deadline in the reminders' own words."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.dialogs.core import DialogConfig
from bot.settings import national_holidays
from domain.regions import RegionIndex
from domain.workdays import WorkCalendar
from tests.dialog_driver import Chat

MONDAY_23_NOV = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 WITA
MONDAY_16_NOV = datetime(2026, 11, 16, 0, 0, tzinfo=UTC)  # 08:00 WITA, the day after a Sunday 15th


@pytest.mark.parametrize(
    ("last_paid", "now", "says"),
    [
        (
            "11/2026",
            MONDAY_23_NOV,
            "Iuran sudah dibayar sampai 30 November 2026. Iuran berikutnya, bulan Desember 2026, paling lambat "
            "Selasa, 15 Desember 2026.",
        ),
        (
            "10/2026",
            MONDAY_23_NOV,
            "Iuran sudah dibayar sampai 31 Oktober 2026. Iuran 1 bulan (November 2026) belum dibayar; kepesertaan "
            "masih aktif, dan agar tetap aktif mohon dibayar paling lambat Jumat, 15 Januari 2027.",
        ),
        (
            "09/2026",
            MONDAY_23_NOV,
            "Iuran 2 bulan (Oktober–November 2026) belum dibayar; kepesertaan masih aktif, dan agar tetap aktif mohon "
            "dibayar paling lambat Selasa, 15 Desember 2026.",
        ),
        (
            "08/2026",
            MONDAY_16_NOV,  # the 15th has passed, the effective deadline has not: that day is named, not a past one
            "Iuran 2 bulan (September–Oktober 2026) belum dibayar; kepesertaan masih aktif, dan agar tetap aktif mohon "
            "dibayar paling lambat Senin, 16 November 2026.",
        ),
        (
            "08/2026",
            MONDAY_23_NOV,
            "Iuran 3 bulan (September–November 2026) belum dibayar, sehingga kepesertaan kemungkinan nonaktif sejak "
            "Selasa, 17 November 2026. Untuk mengaktifkan kembali: hubungi penyuluh setempat atau BPJS "
            "Ketenagakerjaan di 175; atau datang ke kantor cabang BPJS Ketenagakerjaan terdekat dengan membawa KTP.",
        ),
    ],
)
def test_status_says_the_coverage_and_the_next_deadline(
    dialog_config: DialogConfig, regions: RegionIndex, last_paid: str, now: datetime, says: str
) -> None:
    chat = Chat(dialog_config, regions, now=now)
    chat.policy = replace(chat.policy, workdays=WorkCalendar(national_holidays(range(2026, 2028))))
    chat.register(last_paid=last_paid)
    chat.press("Selesai")
    chat.send("/status")
    assert says in chat.last.text
