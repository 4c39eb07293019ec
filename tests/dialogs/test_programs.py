"""Programs (JKK + JKM, JHT optional) and the declared income: asked at registration, shown in the summary with the
month's amount, changed with /ubah without touching anything else."""

from __future__ import annotations

from datetime import date

import pytest

from bot.dialogs import dialog
from bot.dialogs.core import SaveMember, UpdateMember
from bot.dialogs.state import Step
from bot.texts import t
from tests.dialog_driver import Chat, walk_to

JHT = "Ya, ikut JHT (+Rp20.000/bulan)"


def saved(chat: Chat) -> dict[str, object]:
    return next(e for e in chat.effects if isinstance(e, SaveMember)).fields


def test_a_jht_member_is_told_the_relief_months_amount_with_jht(chat: Chat) -> None:
    # Last paid October 2026: November is next, a PP 50/2025 month. JKK + JKM halved (Rp8.400) plus JHT Rp20.000.
    walk_to(chat, "programs")
    assert chat.labels == ["Tidak, JKK + JKM saja", JHT]
    chat.press(JHT)
    chat.send("3")
    assert chat.step == Step.SUMMARY
    assert "Program: JKK, JKM, JHT" in chat.last.text
    assert "Penghasilan dilaporkan: Rp1.000.000" in chat.last.text
    assert "Iuran per bulan: Rp28.400 (untuk November 2026)" in chat.last.text
    chat.press("Benar, simpan")
    assert (saved(chat)["with_jht"], saved(chat)["declared_income"]) == (True, 1_000_000)


def test_without_jht_the_summary_says_the_base_package(chat: Chat) -> None:
    walk_to(chat, "summary")
    assert "Program: JKK, JKM\n" in chat.last.text
    assert "Iuran per bulan: Rp8.400 (untuk November 2026)" in chat.last.text


def test_the_income_question_offers_the_minimum_first(chat: Chat) -> None:
    walk_to(chat, "income")
    assert chat.step == Step.INCOME
    assert chat.labels == ["Rp1.000.000 (paling umum)", "Rp2.000.000", "Rp3.000.000", "Rp4.000.000"]
    # Numbered 1 to 4 as any list (on WhatsApp it read "1, 2, 3, 5"), and each number is also its millions.
    assert [c.key for c in chat.last.choices] == ["", "", "", ""]
    for key, choice in enumerate(chat.last.choices, start=1):
        assert choice.value == f"income:{key * 1_000_000}"


@pytest.mark.parametrize(
    ("typed", "income"),
    [
        ("1", 1_000_000),
        ("4", 4_000_000),
        ("5", 5_000_000),  # beyond the list: millions
        ("1,5 juta", 1_500_000),
        ("1.5jt", 1_500_000),
        ("1500000", 1_500_000),
        ("Rp 2.500.000", 2_500_000),
        ("1500 ribu", 1_500_000),
        ("2,5", 2_500_000),
        ("Rp2.000.000", 2_000_000),
    ],
)
def test_an_income_typed_the_way_people_write_it(chat: Chat, typed: str, income: int) -> None:
    walk_to(chat, "income")
    chat.send(typed)
    assert chat.step == Step.PROGRAMS, chat.last.text
    assert chat.state.draft.declared_income == income


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("500 ribu", t("invalid.income_low", minimum="Rp1.000.000")),
        ("1.500", t("invalid.income_low", minimum="Rp1.000.000")),
        ("banyak", t("invalid.income")),
        ("200 juta", t("invalid.income_high")),
    ],
)
def test_an_income_that_cannot_be_right_is_asked_again(chat: Chat, typed: str, message: str) -> None:
    walk_to(chat, "income")
    question = dialog.question(chat.state, chat.context())
    chat.send(typed)
    assert chat.step == Step.INCOME
    assert chat.state.draft.declared_income is None
    assert chat.last.text == f"{message}\n\n{question.text}"


def test_jht_says_what_it_adds_at_the_declared_income(chat: Chat) -> None:
    # 2 % of Rp2.000.000; last paid December 2026, so January 2027 (no relief) is the month shown.
    walk_to(chat, "programs", income="2", last_paid="12/2026")
    assert chat.labels[1] == "Ya, ikut JHT (+Rp40.000/bulan)"
    chat.send("ya")  # typed, as on WhatsApp
    chat.send("1")
    assert "Iuran per bulan: Rp66.800 (untuk Januari 2027)" in chat.last.text  # 20,000 + 6,800 + 40,000


def test_an_office_paid_member_is_asked_programs_but_not_income_or_period(chat: Chat) -> None:
    walk_to(chat, "payer")
    chat.press("Pemerintah daerah (APBD)")
    assert chat.step == Step.PROGRAMS
    chat.press(JHT)
    assert chat.step == Step.SUMMARY
    # Paid from the APBD: PP 50/2025's halving does not apply (16,800 + 20,000).
    assert "Iuran per bulan: Rp36.800 (untuk November 2026)" in chat.last.text
    assert "Biasa membayar" not in chat.last.text
    chat.press("Ubah")
    assert "Lama pembayaran" not in chat.labels
    assert "Penghasilan" in chat.labels
    chat.press("Tidak jadi")
    chat.press("Benar, simpan")
    fields = saved(chat)
    assert (fields["payer"], fields["declared_income"], fields["with_jht"]) == ("regional_government", 1_000_000, True)


def test_ubah_income_changes_only_the_income(chat: Chat) -> None:
    chat.register(programs=JHT, payer="Keluarga")
    chat.press("Selesai")
    chat.send("/ubah")
    chat.press("Penghasilan")
    assert chat.step == Step.INCOME
    chat.send("1,5 juta")
    assert chat.effects[-1] == UpdateMember(1, {"declared_income": 1_500_000})
    member = chat.lookups.members[0]
    assert (member.with_jht, member.kpj, member.covered_until, member.payer) == (
        True,
        "12345678901",
        date(2026, 10, 31),
        "family",
    )


def test_ubah_programs_changes_only_jht(chat: Chat) -> None:
    chat.register(income="2")
    chat.press("Selesai")
    chat.send("/ubah")
    chat.press("Program (JHT)")
    assert chat.labels == ["Tidak, JKK + JKM saja", "Ya, ikut JHT (+Rp40.000/bulan)"]
    chat.press("Ya, ikut JHT (+Rp40.000/bulan)")
    assert chat.effects[-1] == UpdateMember(1, {"with_jht": True})
    member = chat.lookups.members[0]
    assert (member.declared_income, member.with_jht, member.period_months) == (2_000_000, True, 3)
    chat.send("/status")
    assert "Program: JKK, JKM, JHT" in chat.last.text
    assert "Penghasilan dilaporkan: Rp2.000.000" in chat.last.text


def test_summary_change_of_programs_comes_back_to_the_summary(chat: Chat) -> None:
    walk_to(chat, "summary")
    chat.press("Ubah")
    chat.press("Program (JHT)")
    chat.press(JHT)
    assert chat.step == Step.SUMMARY
    assert "Iuran per bulan: Rp28.400" in chat.last.text
