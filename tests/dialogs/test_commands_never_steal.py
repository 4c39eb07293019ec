"""Commands never steal an answer (issue 14, point 2): while a question is open, a typed word that answers it is the
answer; a command word acts only when it cannot be one. BATAL and KEMBALI do what a person expects, nothing lost.

Typed as on Telegram and in the terminal (`Incoming.from_text`) and as on WhatsApp (`incoming_from_text`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from bot.channels.whatsapp import incoming_from_text
from bot.dialogs.core import (
    DecideBroadcast,
    DecideImport,
    DeleteMember,
    Incoming,
    Refused,
    SaveMember,
    StaffView,
    StageBroadcast,
    StageImport,
    UpdateMember,
    ViewedMembers,
)
from bot.dialogs.state import Flow, Step
from bot.texts import speaking, t
from domain.identity import format_phone
from domain.member_rows import Row, Sheet, SheetRow
from domain.vocabulary import Channel
from tests.dialog_driver import Chat, walk_to

# Telegram and the terminal hand typed text as typed; WhatsApp's webhook through its own translation.
CHANNELS: dict[str, Callable[[str], Incoming]] = {"telegram_or_terminal": Incoming.from_text,
                                                  "whatsapp": incoming_from_text}  # fmt: skip
channels = pytest.mark.parametrize("typed_on", list(CHANNELS))


def typed(chat: Chat, typed_on: str, text: str) -> None:
    with speaking(Channel.WHATSAPP if typed_on == "whatsapp" else Channel.TELEGRAM):
        chat.send(CHANNELS[typed_on](text))


# --- a word that answers the question is the answer ---


@channels
@pytest.mark.parametrize("word", ["ubah", "Ubah", "UBAH."])
def test_ubah_at_the_summary_opens_the_edit_menu(chat: Chat, typed_on: str, word: str) -> None:
    walk_to(chat, "summary")
    typed(chat, typed_on, word)
    assert chat.step == Step.EDIT_FIELD
    assert chat.state.flow == Flow.REGISTER
    assert t("option.field.name") in chat.labels


def test_slash_ubah_at_the_summary_opens_the_edit_menu_too(chat: Chat) -> None:
    walk_to(chat, "summary")
    chat.send("/ubah")
    assert chat.step == Step.EDIT_FIELD


@channels
@pytest.mark.parametrize("word", ["ya", "hapus", "Ya, hapus", "iye"])
def test_ya_and_hapus_at_the_delete_confirmation_delete(chat: Chat, typed_on: str, word: str) -> None:
    chat.register()
    chat.press("Selesai")
    typed(chat, typed_on, "hapus")  # HAPUS from the menu opens the confirmation ...
    assert chat.step == Step.CONFIRM_DELETE
    typed(chat, typed_on, word)  # ... where "hapus" again is its answer, not a new picker
    assert chat.effects[-1] == DeleteMember(1)
    assert not chat.lookups.members


@channels
def test_batal_at_the_delete_confirmation_keeps_the_member(chat: Chat, typed_on: str) -> None:
    chat.register()
    chat.send("/hapus")
    typed(chat, typed_on, "batal")
    assert not any(isinstance(e, DeleteMember) for e in chat.effects)
    assert chat.last.text == t("delete.kept")


# --- BATAL and KEMBALI in the middle of a registration ---


@channels
def test_batal_mid_registration_says_so_and_daftar_continues_it(chat: Chat, typed_on: str) -> None:
    walk_to(chat, "desa")
    draft = chat.state.draft
    typed(chat, typed_on, "batal")
    assert chat.step == Step.MENU
    assert not any(isinstance(e, SaveMember) for e in chat.effects)
    with speaking(Channel.WHATSAPP if typed_on == "whatsapp" else Channel.TELEGRAM):
        assert chat.last.text == t("command.registration_cancelled")
    typed(chat, typed_on, "daftar")
    assert (chat.step, chat.state.flow) == (Step.DESA, Flow.REGISTER)
    assert chat.state.draft == draft
    with speaking(Channel.WHATSAPP if typed_on == "whatsapp" else Channel.TELEGRAM):
        assert chat.last.text.startswith(t("resume.continue"))


def test_ulang_after_batal_starts_over(chat: Chat) -> None:
    walk_to(chat, "desa")
    chat.send("batal")
    chat.send("ulang")
    assert chat.step == Step.CONSENT
    assert chat.state.draft.full_name is None
    assert chat.state.set_aside is None


def test_a_registration_set_aside_is_continued_from_the_menu_button(chat: Chat) -> None:
    walk_to(chat, "occupation")
    chat.send("/batal")
    chat.send("halo")
    chat.press(t("option.menu.register"))
    assert chat.step == Step.OCCUPATION
    assert chat.state.draft.desa_code is not None


@channels
def test_kembali_goes_one_question_back_and_offers_the_earlier_answer(chat: Chat, typed_on: str) -> None:
    walk_to(chat, "occupation")
    typed(chat, typed_on, "kembali")
    assert chat.step == Step.DESA
    assert chat.last.text.startswith(t("command.back_answer", value="Pesse"))
    keep = t("option.keep", value="Pesse")
    assert keep in chat.labels
    chat.press(keep)
    assert chat.step == Step.OCCUPATION
    assert chat.regions.name(chat.state.draft.desa_code or "") == "Pesse"


def test_kembali_twice_then_a_new_answer_changes_only_that_answer(chat: Chat) -> None:
    walk_to(chat, "kecamatan")
    chat.send("kembali")
    assert chat.step == Step.PHONE_OWNER
    chat.send("kembali")
    assert chat.step == Step.PHONE
    chat.send("kembali")
    assert chat.step == Step.NIK
    chat.send("7312065506809002")
    assert chat.step == Step.PHONE
    assert t("option.keep", value=format_phone("+6281200001234")) in chat.labels
    chat.send("0")  # "0": keep the earlier number (typed, as on WhatsApp)
    assert chat.step == Step.PHONE_OWNER
    chat.send("0")  # and whose it is
    assert chat.step == Step.KECAMATAN
    assert (chat.state.draft.nik, chat.state.draft.full_name) == ("7312065506809002", "La Baco")
    assert chat.state.draft.phone == "+6281200001234"


def test_every_question_can_offer_its_earlier_answer() -> None:
    from bot.dialogs.dialog import _EARLIER, REGISTRATION_ORDER

    assert set(REGISTRATION_ORDER) - set(_EARLIER) == {Step.CONSENT, Step.SUMMARY}


def test_kembali_skips_the_questions_that_did_not_apply(chat: Chat) -> None:
    walk_to(chat, "payer", bpjs_status="Belum terdaftar")
    chat.send("kembali")
    assert chat.step == Step.BPJS_STATUS  # not the KPJ nor the last paid month, never asked


@pytest.mark.parametrize("step", ["name", "consent"])
def test_kembali_at_the_first_question_says_there_is_nothing_before(chat: Chat, step: str) -> None:
    walk_to(chat, step)
    chat.send("kembali")
    assert chat.step == step
    assert chat.last.text.startswith(t("command.nothing_back"))
    assert chat.last.text.endswith(t("ask.name") if step == "name" else "")


def test_kembali_outside_a_flow_says_so_and_shows_the_menu(chat: Chat) -> None:
    chat.send("kembali")
    assert chat.step == Step.MENU
    assert chat.last.text.startswith(t("command.nothing_back"))
    assert chat.labels  # the menu again
    chat.send("/kembali")
    assert chat.last.text.startswith(t("command.nothing_back"))


# --- BATAL and KEMBALI while one answer is being changed ---


@channels
def test_batal_while_changing_an_answer_returns_to_the_summary_unchanged(chat: Chat, typed_on: str) -> None:
    walk_to(chat, "summary")
    draft = chat.state.draft
    chat.press("Ubah")
    chat.press("Desa")
    chat.send("lilirilau")  # a new kecamatan: its desa is asked next
    assert chat.step == Step.DESA
    typed(chat, typed_on, "batal")
    assert (chat.step, chat.state.flow) == (Step.SUMMARY, Flow.REGISTER)
    assert chat.state.draft == draft  # the kecamatan as it was, and its desa
    assert "Pesse" in chat.last.text


def test_kembali_while_changing_the_area_walks_back_to_the_list_of_fields(chat: Chat) -> None:
    walk_to(chat, "summary")
    draft = chat.state.draft
    chat.press("Ubah")
    chat.press("Desa")
    chat.send("lilirilau")
    chat.send("kembali")
    assert chat.step == Step.KECAMATAN
    chat.send("kembali")
    assert chat.step == Step.EDIT_FIELD
    assert chat.state.draft == draft
    chat.send("kembali")
    assert chat.step == Step.SUMMARY


@channels
def test_batal_while_changing_a_saved_member_changes_nothing(chat: Chat, typed_on: str) -> None:
    chat.register()
    chat.press("Selesai")
    typed(chat, typed_on, "ubah")
    chat.press("Nama")
    typed(chat, typed_on, "batal")
    assert not any(isinstance(e, UpdateMember) for e in chat.effects)
    assert chat.step == Step.MENU
    assert chat.last.text == t("edit.cancelled")
    assert chat.lookups.members[0].full_name == "La Baco"


# --- command words still act where they cannot be an answer ---


@channels
@pytest.mark.parametrize("word", ["STATUS", "status", "Status!"])
def test_status_at_the_menu(chat: Chat, typed_on: str, word: str) -> None:
    chat.register(last_paid="11/2026")
    chat.press("Selesai")
    typed(chat, typed_on, word)
    assert "7312********9001" in chat.last.text
    assert "Iuran sudah dibayar sampai 30 November 2026" in chat.last.text


@channels
def test_status_in_the_middle_of_a_question_answers_and_asks_again(chat: Chat, typed_on: str) -> None:
    chat.register()
    chat.press("Daftarkan orang lain")
    chat.press("Setuju")
    chat.send("Hasnah")
    typed(chat, typed_on, "status")  # no NIK: the command
    assert "La Baco" in chat.replies[0].text
    assert chat.step == Step.NIK
    assert chat.state.draft.full_name == "Hasnah"


@channels
def test_cari_for_an_officer(chat: Chat, typed_on: str) -> None:
    chat.register()
    chat.press("Selesai")
    chat.lookups.officer = "Andi"
    typed(chat, typed_on, "CARI baco")
    assert "La Baco" in chat.last.text
    assert ViewedMembers((1,), why="cari") in chat.effects


def test_staff_words_are_ordinary_text_for_members(chat: Chat) -> None:
    chat.send("audit")
    chat.send("cari baco")
    assert not any(isinstance(e, (Refused, ViewedMembers)) for e in chat.effects)
    assert chat.step == Step.MENU


def test_berhenti_typed_mid_question_still_stops_reminders(chat: Chat) -> None:
    chat.register()
    chat.press("Daftarkan orang lain")
    chat.press("Setuju")
    chat.send("BERHENTI")
    assert chat.replies[0].text == t("reminder_reply.stopped")
    assert chat.step == Step.NAME
    assert chat.state.draft.full_name is None


# --- free-text questions: a yes/no word or a command word is not a name ---


@pytest.mark.parametrize("word", ["Setuju", "ya", "iye", "Tidak", "Bantuan", "Jeda"])
def test_a_yes_no_or_command_word_is_not_a_name(chat: Chat, word: str) -> None:
    walk_to(chat, "consent")
    chat.send("Setuju")
    chat.send(word)
    assert chat.step == Step.NAME, chat.last.text
    assert chat.state.draft.full_name is None
    assert t("invalid.name_word") in chat.last.text or word == "Bantuan"


def test_setuju_typed_twice_in_the_terminal_is_not_the_members_name(chat: Chat) -> None:
    walk_to(chat, "consent")
    chat.send("Setuju")
    chat.send("Setuju")
    assert chat.step == Step.NAME
    assert chat.last.text.startswith(t("invalid.name_word"))
    chat.send("La Baco")
    assert chat.state.draft.full_name == "La Baco"


def test_a_yes_word_is_not_a_sponsor_name(chat: Chat) -> None:
    walk_to(chat, "payer")
    chat.press("Orang lain yang menanggung (jaksa, kerabat)")
    chat.send("ya")
    assert chat.step == Step.SPONSOR
    assert chat.last.text.startswith(t("invalid.sponsor_word"))


# --- an admin's previews: typed answers, as on WhatsApp ---


def _admin(chat: Chat) -> None:
    chat.lookups.role = StaffView("admin")


def _sheet() -> Sheet:
    row = Row(nik="7312061506809001", full_name="La Baco", birth_date=date(1980, 6, 15), sex="L",
              kecamatan_code="73.12.06", desa_code="73.12.06.2001")  # fmt: skip
    return Sheet((SheetRow(2, row),), (), fingerprint="f" * 64)


@pytest.mark.parametrize(("word", "go"), [("ya", True), ("iye", True), ("ok", True), ("lanjut", True),
                                          ("Lanjutkan", True), ("tidak", False), ("batal", False)])  # fmt: skip
def test_typed_answer_at_the_import_preview(chat: Chat, word: str, go: bool) -> None:
    _admin(chat)
    chat.send(Incoming.checked("anggota.xlsx", _sheet()))
    staged = next(e for e in chat.effects if isinstance(e, StageImport))
    with speaking(Channel.WHATSAPP):
        chat.send(incoming_from_text(word))
    assert chat.effects[-1] == DecideImport(staged.token, go)


@pytest.mark.parametrize(("word", "go"), [("ya", True), ("kirim", True), ("Oke", True), ("nda", False),
                                          ("batal", False)])  # fmt: skip
def test_typed_answer_at_the_broadcast_preview(chat: Chat, word: str, go: bool) -> None:
    _admin(chat)
    chat.lookups.broadcast_audience = lambda segment: (3, 2)  # type: ignore[method-assign]
    with speaking(Channel.WHATSAPP):
        chat.send(incoming_from_text("SIARAN: Besok kantor tutup."))  # the admin word, as typed on WhatsApp
        staged = next(e for e in chat.effects if isinstance(e, StageBroadcast))
        assert staged.text == "Besok kantor tutup."
        chat.send(incoming_from_text(word))
    assert chat.effects[-1] == DecideBroadcast(staged.token, go)


def test_lanjut_without_a_preview_is_the_admins_resume_command(chat: Chat) -> None:
    _admin(chat)
    chat.send("lanjut")
    assert chat.last.text == t("admin.resumed")


# --- staff words, for the chats whose role may use them ---


def test_an_officers_words(chat: Chat) -> None:
    chat.lookups.officer = "Andi"
    chat.send("daftar")  # an officer's DAFTAR is their list, as /daftar is
    assert chat.last.text == t("officer.list_empty")
    chat.send("Peserta Baru")
    assert (chat.step, chat.state.on_behalf) == (Step.CONSENT, True)
    chat.send("batal")
    assert chat.last.text == t("command.cancelled")  # nothing answered yet: nothing set aside
    assert chat.state.set_aside is None


ADMIN_WORDS = [("petugas", "admin.staff_none"), ("JEDA", "admin.paused"), ("peserta la baco", "admin.lookup_none"),
               ("audit", "admin.audit_empty")]  # fmt: skip


@pytest.mark.parametrize(("word", "expected"), ADMIN_WORDS)
def test_an_admins_words(chat: Chat, word: str, expected: str) -> None:
    _admin(chat)
    chat.send(word)
    assert chat.last.text == t(expected)
    assert not any(isinstance(e, Refused) for e in chat.effects)


def test_an_admin_word_is_ordinary_text_for_a_coordinator(chat: Chat) -> None:
    chat.lookups.role = StaffView("coordinator", ("73.12.06",))
    chat.send("jeda")  # pausing every reminder is the admin's alone
    assert not any(isinstance(e, Refused) for e in chat.effects)
    assert chat.last.text != t("admin.paused")


def test_an_officers_door_to_door_registration_set_aside_continues_with_peserta_baru(chat: Chat) -> None:
    chat.lookups.officer = "Andi"
    chat.send("peserta baru")
    chat.send("Setuju")
    chat.send("Hasnah")
    chat.send("batal")
    assert chat.last.text == t("command.registration_cancelled_on_behalf")
    chat.send("daftar")  # the officer's list: their own registration stays set aside
    assert chat.last.text == t("officer.list_empty")
    chat.send("peserta baru")
    assert (chat.step, chat.state.on_behalf, chat.state.draft.full_name) == (Step.NIK, True, "Hasnah")
