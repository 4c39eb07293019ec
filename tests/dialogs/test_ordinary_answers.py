"""What a newcomer trying the README typed and was refused or misread (issue 14): a payment reported before any
reminder came, an officer's invitation typed at a fresh chat, a search under the officer's list, "nda tau" where a
question may be skipped, how often people pay in their words, a sticker at the consent, a number the menu lacks."""

from __future__ import annotations

import pytest

from bot.dialogs.core import Incoming, RecordPayment, UnreachedView, ViewedMembers
from bot.dialogs.state import Flow, Step
from bot.texts import t
from tests.dialog_driver import Chat, walk_to


def registered(chat: Chat, **overrides: str) -> None:
    chat.register(**overrides)
    chat.press("Selesai")


def test_sudah_bayar_before_any_reminder_reports_the_months_after_the_last_paid(chat: Chat) -> None:
    registered(chat, last_paid="10/2026")
    chat.send("SUDAH BAYAR")  # paid at the counter today; no reminder was sent to this chat yet
    assert chat.last.text == t("reminder_reply.how_many", name="Bapak La Baco", month="November 2026")
    chat.send("3")
    assert RecordPayment(member_id=1, cycle=202611, months=3) in chat.effects
    assert chat.last.text == t("reminder_reply.thanks", name="Bapak La Baco", until="Januari 2027")


def test_sudah_bayar_on_a_family_phone_asks_whose(chat: Chat) -> None:
    registered(chat, last_paid="10/2026")
    chat.send("/daftar")
    for step, answer in (("consent", "Setuju"), ("name", "Hasnah"), ("nik", "7312064506509103")):
        assert chat.step == step
        chat.send(answer)
    walk_rest = {"phone": "081200009103", "phone_owner": "Peserta sendiri", "kecamatan": "Donri-Donri",
                 "desa": "Pesse", "occupation": "Petani", "bpjs_status": "Sudah jadi peserta", "kpj": "Lewati",
                 "last_paid": "9/2026", "payer": "Sendiri", "income": "1", "programs": "Tidak, JKK + JKM saja",
                 "period": "1"}  # fmt: skip
    for step, answer in walk_rest.items():
        assert chat.step == step, chat.last.text
        chat.send(answer)
    chat.press("Benar, simpan")
    chat.press("Selesai")
    chat.send("sudah bayar")
    assert chat.labels == ["La Baco", "Hasnah"]
    chat.send("2")
    assert chat.last.text == t("reminder_reply.how_many", name="Ibu Hasnah", month="Oktober 2026")
    chat.send("1")
    assert RecordPayment(member_id=2, cycle=202610, months=1) in chat.effects


def test_sudah_bayar_with_the_last_month_unknown_records_nothing_and_says_so(chat: Chat) -> None:
    registered(chat, last_paid="Tidak ingat")
    chat.send("sudah bayar")
    assert chat.last.text == t("reminder_reply.month_unknown", name="Bapak La Baco")
    assert not any(isinstance(e, RecordPayment) for e in chat.effects)


def test_a_stale_payment_answer_records_nothing(chat: Chat) -> None:
    registered(chat, last_paid="10/2026")
    chat.send(Incoming.choice("pay:1:202609:3"))  # asked before another payment moved the month on
    assert chat.last.text == t("invalid.stale_choice")
    chat.send(Incoming.choice("pay:99:202611:3"))  # someone else's member
    assert not any(isinstance(e, RecordPayment) for e in chat.effects)


def test_an_invitation_typed_at_a_fresh_chat_leaves_no_consent_open(chat: Chat) -> None:
    chat.lookups.invitations["of_abc123"] = "Penyuluh Donri"
    chat.send("/start")  # the terminal, and a first message, open the consent
    assert chat.step == Step.CONSENT
    chat.send("DAFTAR of_abc123")
    assert t("invitation.officer", name="Penyuluh Donri") == chat.last.text
    assert chat.state.flow is Flow.NONE
    chat.lookups.officer = "Penyuluh Donri"
    chat.send("BANTUAN")
    assert [reply.text for reply in chat.replies] == [t("help_officer.text")]


def test_a_search_typed_under_the_officers_list_searches(chat: Chat) -> None:
    registered(chat)
    chat.lookups.officer = "Andi"
    listed = UnreachedView(1, "La Baco", "73.12.06.2007", None, lambda: "7312****9001", "help", 10, 1, 8400, "")
    chat.lookups.unreached = [listed]
    chat.send("/daftar")
    assert "La Baco" in chat.labels  # the list's options name him
    chat.send("CARI la baco")
    assert ViewedMembers((1,), why="cari") in chat.effects  # the search's results, audited
    assert t("officer.what_happened", name="La Baco") not in chat.last.text


@pytest.mark.parametrize("typed", ["nda tau", "tidak tahu", "Lupa mi", "tidak ada pak"])
def test_a_question_that_may_be_skipped_takes_i_dont_know(chat: Chat, typed: str) -> None:
    walk_to(chat, "kpj")
    chat.send(typed)
    assert chat.step == Step.LAST_PAID
    assert chat.state.draft.kpj is None
    chat.send(typed)
    assert chat.step == Step.PAYER
    assert chat.state.draft.last_paid == "unknown"


@pytest.mark.parametrize(
    ("typed", "months"),
    [("tiap bulan", 1), ("sebulan sekali", 1), ("bulanan", 1), ("setiap bulan", 1), ("3 bulan sekali", 3),
     ("tiga bulan", 3), ("6 bulan", 6), ("setahun sekali", 12), ("12", 12)],
)  # fmt: skip
def test_how_often_in_peoples_words(chat: Chat, typed: str, months: int) -> None:
    walk_to(chat, "period")
    chat.send(typed)
    assert chat.step == Step.SUMMARY, chat.last.text
    assert chat.state.draft.period_months == months


def test_a_sticker_at_the_consent_gets_a_line_and_the_options(chat: Chat) -> None:
    chat.send("/start")
    consent = chat.last
    chat.send(Incoming.unsupported())
    assert chat.last.text == t("invalid.unsupported")
    assert chat.last.choices == consent.choices


def test_a_number_the_menu_lacks_gets_a_hint(chat: Chat) -> None:
    chat.send("halo")
    chat.send("6")
    assert chat.last.text.startswith(t("invalid.choose_option"))
    assert chat.step == Step.MENU


@pytest.mark.parametrize("opened", [["/ubah"], ["/ubah", "Nomor HP"], ["/hapus"]])
def test_start_again_in_the_middle_of_a_change_continues_it(chat: Chat, opened: list[str]) -> None:
    registered(chat)
    for said in opened:
        chat.send(said) if said.startswith("/") else chat.press(said)
    step = chat.step
    chat.send("/start")  # a new terminal session, or the Telegram menu's Start
    assert chat.step == step
    assert chat.last.text.startswith(t("resume.continue_change"))


@pytest.mark.parametrize("typed", ["nomor ini", "Pakai nomor WA ini", "yang ini saja", "1"])
def test_on_whatsapp_this_chats_number_is_one_answer_away(chat: Chat, typed: str) -> None:
    chat.lookups.number = "+6281200009101"  # a WhatsApp chat is its number
    walk_to(chat, "phone")
    assert chat.labels[0] == t("option.phone.here", phone="+62 812-0000-9101")
    chat.send(typed)
    assert chat.step == Step.PHONE_OWNER  # whose it is, still: she may be registering her father
    assert chat.state.draft.phone == "+6281200009101"


def test_where_the_chat_has_no_number_this_number_means_nothing(chat: Chat) -> None:
    walk_to(chat, "phone")  # Telegram: the contact button shares it instead
    assert t("option.phone.here", phone="") not in " ".join(chat.labels)
    chat.send("nomor ini")
    assert chat.step == Step.PHONE
