"""Answers by meaning, not by spelling (issue 14, point 1): yes and no in the words people use, on every yes/no
question, typed as on Telegram and as on WhatsApp; occupations in their own words; a refused answer kept short."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.channels.plain import render_plain
from bot.channels.whatsapp import incoming_from_text
from bot.dialogs.core import DeleteMember, Incoming, RecordConsent, SaveMember
from bot.dialogs.state import Step
from bot.texts import t
from domain.vocabulary import Occupation
from tests.dialog_driver import Chat, walk_to

# How each channel turns a typed message into input: Telegram as typed, WhatsApp with its command words first.
CHANNELS: dict[str, Callable[[str], Incoming]] = {"telegram": Incoming.from_text, "whatsapp": incoming_from_text}
channels = pytest.mark.parametrize("typed_on", list(CHANNELS))

YES = ["ya", "Ya", "iya", "iye", "iyye", "Iyye", "ok", "ok!", "oke", "boleh", "iya setuju", "Iyaaa", "ya setuju"]
NO = ["nda", "ndak", "tidak", "gak", "tdk", "jangan", "Nda mau"]


@channels
@pytest.mark.parametrize(("typed", "granted"), [*((word, True) for word in YES), *((word, False) for word in NO)])
def test_consent_by_yes_and_no_words(chat: Chat, typed_on: str, typed: str, granted: bool) -> None:
    walk_to(chat, "consent")
    chat.send(CHANNELS[typed_on](typed))
    assert chat.effects == [RecordConsent(granted=granted)]
    assert chat.step == (Step.NAME if granted else Step.MENU)


@channels
@pytest.mark.parametrize("typed", ["mungkin", "apa ini?", "🙏"])
def test_refused_consent_answer_is_short_with_the_options(chat: Chat, typed_on: str, typed: str) -> None:
    walk_to(chat, "consent")
    options = list(chat.labels)
    chat.send(CHANNELS[typed_on](typed))
    assert chat.step == Step.CONSENT
    assert chat.effects == []
    assert chat.labels == options
    assert len(chat.last.text) < 200  # the long consent text is not sent a second time
    rendered = render_plain(chat.last)  # as WhatsApp shows it: the options numbered
    assert all(label in rendered for label in options)


@channels
@pytest.mark.parametrize("typed", ["ya", "iye", "ok"])
def test_delete_confirmation_accepts_yes(chat: Chat, typed_on: str, typed: str) -> None:
    chat.register()
    chat.send("/hapus")
    assert chat.step == Step.CONFIRM_DELETE
    chat.send(CHANNELS[typed_on](typed))
    assert any(isinstance(effect, DeleteMember) for effect in chat.effects)


@channels
@pytest.mark.parametrize("typed", ["nda", "jangan"])
def test_delete_confirmation_keeps_on_no(chat: Chat, typed_on: str, typed: str) -> None:
    chat.register()
    chat.send("/hapus")
    chat.send(CHANNELS[typed_on](typed))
    assert not any(isinstance(effect, DeleteMember) for effect in chat.effects)
    assert chat.lookups.members
    assert chat.last.text == t("delete.kept")


@channels
@pytest.mark.parametrize(("typed", "with_jht"), [("iye", True), ("boleh", True), ("nda", False), ("gak", False)])
def test_jht_question_accepts_yes_and_no(chat: Chat, typed_on: str, typed: str, with_jht: bool) -> None:
    walk_to(chat, "programs")
    chat.send(CHANNELS[typed_on](typed))
    assert chat.step == Step.PERIOD
    assert chat.state.draft.with_jht is with_jht


@channels
@pytest.mark.parametrize(
    ("typed", "occupation"),
    [
        ("tani", Occupation.PETANI),
        ("bertani", Occupation.PETANI),
        ("petani sawah", Occupation.PETANI),
        ("sopir", Occupation.PENGEMUDI),
        ("tukang ojek", Occupation.PENGEMUDI),
        ("ojol", Occupation.PENGEMUDI),
        ("kurir", Occupation.PENGEMUDI),
        ("Nelayan", Occupation.NELAYAN),
    ],
)
def test_occupation_in_own_words(chat: Chat, typed_on: str, typed: str, occupation: Occupation) -> None:
    walk_to(chat, "occupation")
    chat.send(CHANNELS[typed_on](typed))
    assert chat.step == Step.BPJS_STATUS
    assert chat.state.draft.occupation == occupation


@channels
@pytest.mark.parametrize(("typed", "status"), [("iye", "member"), ("sudah", "member"), ("nda", "not_registered")])
def test_bpjs_status_accepts_yes_and_no(chat: Chat, typed_on: str, typed: str, status: str) -> None:
    walk_to(chat, "bpjs_status")
    chat.send(CHANNELS[typed_on](typed))
    assert chat.state.draft.bpjs_status == status
    assert chat.step == (Step.KPJ if status == "member" else Step.PAYER)


@channels
@pytest.mark.parametrize(("typed", "saved"), [("ya", True), ("iye betul", True), ("betul", True), ("tidak", False)])
def test_summary_accepts_yes_and_no(chat: Chat, typed_on: str, typed: str, saved: bool) -> None:
    walk_to(chat, "summary")
    chat.send(CHANNELS[typed_on](typed))
    assert any(isinstance(effect, SaveMember) for effect in chat.effects) is saved
    assert chat.step == (Step.AFTER_SAVE if saved else Step.EDIT_FIELD)  # "is it right?" "no": which part, then


@channels
def test_refused_summary_answer_is_short(chat: Chat, typed_on: str) -> None:
    walk_to(chat, "summary")
    chat.send(CHANNELS[typed_on]("hmm"))
    assert chat.step == Step.SUMMARY
    assert chat.last.text == t("invalid.yes_no")
    assert chat.labels == ["Benar, simpan", "Ubah"]


@channels
@pytest.mark.parametrize(("typed", "step"), [("iya", Step.CONSENT), ("nda", Step.MENU)])
def test_after_save_accepts_yes_and_no(chat: Chat, typed_on: str, typed: str, step: Step) -> None:
    chat.register()
    assert chat.step == Step.AFTER_SAVE
    chat.send(CHANNELS[typed_on](typed))
    assert chat.step == step
