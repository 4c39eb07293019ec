"""The dialog names a member as their NIK says (issue 14, point 7): "data Ibu Hasnah sudah tersimpan", "Iuran Bapak
La Baco dibayar untuk berapa bulan". The person chatting (who may be a relative) is still addressed "Bapak/Ibu"."""

from __future__ import annotations

from datetime import date

import pytest

from bot.dialogs.core import Incoming, ReminderView
from tests.dialog_driver import Chat

WOMAN = "7312064506809002"  # fake: born 5 June 1980 (day + 40), serial 9002


def saved(chat: Chat) -> str:
    return next(reply.text for reply in chat.replies if "sudah tersimpan" in reply.text)


def test_a_man_is_saved_as_bapak(chat: Chat) -> None:
    chat.register()
    assert saved(chat).startswith("Terima kasih, data Bapak La Baco sudah tersimpan.")


def test_a_woman_is_saved_as_ibu(chat: Chat) -> None:
    chat.register(name="Hasnah", nik=WOMAN, phone="081200001235")
    assert saved(chat).startswith("Terima kasih, data Ibu Hasnah sudah tersimpan.")
    assert chat.lookups.members[0].full_name == "Hasnah"  # said, not stored: the name stays as on the KTP
    assert chat.lookups.members[0].sex == "P"


@pytest.mark.parametrize(("sex", "name"), [("P", "Ibu Hasnah"), ("L", "Bapak Hasnah"), ("", "Bapak/Ibu Hasnah")])
def test_answers_to_a_reminder_name_the_member(chat: Chat, sex: str, name: str) -> None:
    chat.register(name="Hasnah", nik=WOMAN, phone="081200001235")
    chat.press("Selesai")
    chat.lookups.reminders.append(ReminderView(41, 1, "Hasnah", 202612, date(2026, 11, 30), member_sex=sex))
    chat.send(Incoming.choice("rem:41:paid"))
    assert chat.last.text.startswith(f"Terima kasih. Iuran {name} dibayar untuk berapa bulan, mulai Desember 2026?")
    chat.send("3")
    assert chat.last.text.startswith(f"Terima kasih, laporan pembayaran iuran {name} sampai Februari 2027")
    assert chat.last.text.endswith("penyuluh akan menghubungi Bapak/Ibu.")  # the person chatting: may be a relative
    chat.send(Incoming.choice("rem:41:help"))
    assert chat.last.text == f"Baik, penyuluh akan menghubungi {name}. Mohon ditunggu."
