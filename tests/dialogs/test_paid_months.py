"""How many months someone paid for, typed as they say it: read as a count, never as the option it resembles
("2 bulan" once became the "12 bulan" option, and a bare "2" opened the menu's second entry)."""

from __future__ import annotations

import pytest

from bot.dialogs.core import RecordPayment
from bot.texts import t
from tests.dialog_driver import Chat
from tests.dialogs.test_ordinary_answers import registered


@pytest.mark.parametrize(
    ("typed", "months"),
    [("2 bulan", 2), ("2", 2), ("dua bulan", 2), ("2 bln", 2), ("empat", 4), ("5 bulan", 5), ("12", 12),
     ("setahun", 12), ("sebulan", 1), ("3", 3)],
)  # fmt: skip
def test_a_typed_count_of_months_is_that_count(chat: Chat, typed: str, months: int) -> None:
    registered(chat, last_paid="10/2026")
    chat.send("SUDAH BAYAR")
    assert chat.last.text == t("reminder_reply.how_many", name="Bapak La Baco", month="November 2026")
    chat.send(typed)
    assert [e for e in chat.effects if isinstance(e, RecordPayment)] == [RecordPayment(1, 202611, months)]


@pytest.mark.parametrize("typed", ["banyak", "13", "0", "dua tahun"])
def test_anything_else_asks_again_and_records_nothing(chat: Chat, typed: str) -> None:
    registered(chat, last_paid="10/2026")
    chat.send("SUDAH BAYAR")
    asked = chat.last
    chat.send(typed)
    assert not any(isinstance(e, RecordPayment) for e in chat.effects)
    assert chat.last.text == t("invalid.months")
    assert chat.last.choices == asked.choices  # still the months, not the menu
    chat.send("2")
    assert [e for e in chat.effects if isinstance(e, RecordPayment)] == [RecordPayment(1, 202611, 2)]


def test_a_command_word_still_works_at_the_months_question(chat: Chat) -> None:
    registered(chat, last_paid="10/2026")
    chat.send("SUDAH BAYAR")
    chat.send("status")
    assert "La Baco" in chat.last.text
    assert not any(isinstance(e, RecordPayment) for e in chat.effects)
