"""No phone or someone else's phone (issue 14, point 4): a member may be registered with a relative's or a
neighbour's number, saying whose it is, or with none at all, and the dialog says plainly what follows from that."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.channels.plain import render_plain
from bot.channels.whatsapp import incoming_from_text
from bot.dialogs.core import Incoming, SaveMember, UpdateMember
from bot.dialogs.state import Step
from bot.texts import speaking, t
from domain.phones import means_no_phone, phone_owner_of
from domain.vocabulary import PhoneOwner
from tests.dialog_driver import HAPPY_PATH, Chat, walk_to

CHANNELS: dict[str, Callable[[str], Incoming]] = {"telegram": Incoming.from_text, "whatsapp": incoming_from_text}
channels = pytest.mark.parametrize("typed_on", list(CHANNELS))

NO_PHONE = ["tidak punya hp", "lewati", "Lewati", "tidak ada", "nda ada", "tidak punya", "gak ada hp",
            "belum punya HP", "Tidak punya HP, pak", "ndak ada hape", "tidak", "nda", "-", "de' gaga", "tena",
            "tabe', tidak ada"]  # fmt: skip
DAUGHTER = "0812 0000 5555"


def after_phone(chat: Chat, typed_on: str = "telegram", **overrides: str) -> None:
    """Answer the rest of the registration after the phone (and its owner) questions, up to the summary."""
    rest = HAPPY_PATH[[name for name, _ in HAPPY_PATH].index("kecamatan") :]
    for name, answer in rest:
        chat.send(CHANNELS[typed_on](overrides.get(name, answer)))


@channels
@pytest.mark.parametrize("typed", NO_PHONE)
def test_no_phone_in_the_words_people_use(chat: Chat, typed_on: str, typed: str) -> None:
    walk_to(chat, "phone")
    chat.send(CHANNELS[typed_on](typed))
    assert chat.step == Step.KECAMATAN  # whose phone is not asked: there is none
    assert chat.state.draft.phone is None


@channels
def test_the_no_phone_option_beside_the_contact_button(chat: Chat, typed_on: str) -> None:
    walk_to(chat, "phone")
    assert chat.last.request_contact
    assert chat.labels == [t("option.phone.none")]
    chat.send(CHANNELS[typed_on]("1"))  # as WhatsApp numbers it
    assert chat.step == Step.KECAMATAN
    assert chat.state.draft.phone is None


@pytest.mark.parametrize("channel", ["telegram", "whatsapp"])
def test_the_question_says_a_relatives_number_is_fine_and_none_is_allowed(chat: Chat, channel: str) -> None:
    with speaking(channel):
        walk_to(chat, "phone")
        shown = render_plain(chat.last)
    for words in ("peserta sendiri", "anak", "suami/istri", "tetangga", "tidak punya HP", "tetap bisa mendaftar"):
        assert words in shown, words
    if channel == "whatsapp":
        assert "tekan" not in shown.lower()  # nothing to press on WhatsApp
        assert "nomor WhatsApp ini" in shown
        assert "1. Tidak punya HP" in shown
    else:
        assert "Kirim nomor HP saya" in shown


def test_a_daughter_registers_her_father_with_her_own_number(chat: Chat) -> None:
    walk_to(chat, "phone", name="La Tahang")
    chat.send(DAUGHTER)
    assert chat.replies[0].text == t("saved.phone", phone="+62 812-0000-5555")
    assert chat.step == Step.PHONE_OWNER
    assert t("option.phone_owner.child") in chat.labels
    chat.send("anak saya")
    assert chat.step == Step.KECAMATAN
    after_phone(chat)
    assert chat.step == Step.SUMMARY
    assert "Nomor HP: +62 812-0000-5555 (milik anak)" in chat.last.text
    chat.press("Benar, simpan")
    [save] = [e for e in chat.effects if isinstance(e, SaveMember)]
    assert (save.fields["phone"], save.fields["phone_owner"]) == ("+6281200005555", PhoneOwner.CHILD)
    chat.press("Selesai")
    chat.send("/status")
    assert "Nomor HP: +62 812-0000-5555 (milik anak)" in chat.last.text


def test_a_contact_shared_as_the_senders_own_still_asks_whose(chat: Chat) -> None:
    walk_to(chat, "phone")
    chat.send(Incoming.contact("6281200005555", is_sender=True))
    assert chat.step == Step.PHONE_OWNER  # the sender may be registering their father with their own number
    chat.press(t("option.phone_owner.child"))
    assert chat.state.draft.phone_owner == PhoneOwner.CHILD


@channels
@pytest.mark.parametrize(
    ("typed", "owner"),
    [
        ("anak saya", PhoneOwner.CHILD),
        ("istri", PhoneOwner.SPOUSE),
        ("Suami", PhoneOwner.SPOUSE),
        ("bapak", PhoneOwner.PARENT),
        ("tetangga", PhoneOwner.NEIGHBOUR),
        ("hp tetangga", PhoneOwner.NEIGHBOUR),
        ("ketua poktan", PhoneOwner.GROUP_LEADER),
        ("sendiri", PhoneOwner.SELF),
        ("punya sendiri", PhoneOwner.SELF),
        ("kakak", PhoneOwner.SIBLING),
        ("3", PhoneOwner.SPOUSE),  # the third option, as WhatsApp numbers them
        ("Lainnya", PhoneOwner.OTHER),
    ],
)
def test_whose_phone_in_the_words_people_use(chat: Chat, typed_on: str, typed: str, owner: PhoneOwner) -> None:
    walk_to(chat, "phone")
    chat.send(DAUGHTER)
    chat.send(CHANNELS[typed_on](typed))
    assert chat.step == Step.KECAMATAN
    assert chat.state.draft.phone_owner == owner


def test_an_unclear_owner_is_asked_again_with_the_options(chat: Chat) -> None:
    walk_to(chat, "phone")
    chat.send(DAUGHTER)
    options = chat.labels
    chat.send("halo")
    assert chat.step == Step.PHONE_OWNER
    assert chat.last.text.startswith(t("invalid.phone_owner"))
    assert chat.labels == options


@pytest.mark.parametrize("channel", ["telegram", "whatsapp"])
def test_registered_from_a_chat_without_a_phone_the_chat_gets_the_reminders(chat: Chat, channel: str) -> None:
    with speaking(channel):
        walk_to(chat, "phone")
        chat.send("tidak punya hp")
        after_phone(chat, channel)
        assert t("field.no_phone") in chat.last.text.splitlines()  # not "only an officer": this chat is reached
        chat.press("Benar, simpan")
        saved = chat.replies[0].text
        assert t("saved.no_phone_here", name="Bapak La Baco") in saved
    assert ("nomor WhatsApp ini" in saved) == (channel == "whatsapp")
    [save] = [e for e in chat.effects if isinstance(e, SaveMember)]
    assert (save.fields["phone"], save.fields["phone_owner"], save.on_behalf) == (None, None, False)


def test_an_officer_registering_without_a_phone_is_told_only_officers_can_reach_them(chat: Chat) -> None:
    chat.lookups.officer = "Penyuluh Donri"
    chat.send("/peserta_baru")
    for name, answer in HAPPY_PATH:
        if name == "phone_owner":
            continue
        chat.send("lewati" if name == "phone" else answer)
    assert chat.step == Step.SUMMARY
    assert t("field.no_phone_unreached") in chat.last.text.splitlines()
    chat.press("Benar, simpan")
    assert chat.replies[0].text.startswith(t("saved.no_phone_unreached", name="Bapak La Baco"))
    assert "tanpa nomor HP" in chat.replies[0].text
    [save] = [e for e in chat.effects if isinstance(e, SaveMember)]
    assert (save.fields["phone"], save.on_behalf) == (None, True)


def test_changing_the_phone_asks_whose_it_is(chat: Chat) -> None:
    chat.register()
    chat.send("/ubah")
    chat.press(t("option.field.phone"))
    assert chat.step == Step.PHONE
    chat.send("0812-0000-7777")
    assert chat.step == Step.PHONE_OWNER
    chat.send("tetangga")
    [update] = [e for e in chat.effects if isinstance(e, UpdateMember)]
    assert update.fields == {"phone": "+6281200007777", "phone_owner": PhoneOwner.NEIGHBOUR}
    chat.send("/ubah")
    chat.press(t("option.field.phone"))
    chat.send("tidak punya hp")  # no number any more: nothing to ask about whose
    assert [e.fields for e in chat.effects if isinstance(e, UpdateMember)][-1] == {"phone": None, "phone_owner": None}
    assert chat.step == Step.MENU


@pytest.mark.parametrize("typed", ["0812 0000 1234", "ya", "tidak tahu", "hp", "anak", "halo"])
def test_not_every_answer_means_no_phone(typed: str) -> None:
    assert not means_no_phone(typed)


@pytest.mark.parametrize("typed", ["ibu sendiri", "xyz", ""])
def test_an_owner_is_named_once_or_not_at_all(typed: str) -> None:
    assert phone_owner_of(typed) is None  # "ibu sendiri" names two: asked again, not guessed


def test_on_telegram_the_no_phone_option_is_a_button_under_the_contact_button(chat: Chat) -> None:
    from telegram import ReplyKeyboardMarkup

    from bot.channels.telegram import markup

    walk_to(chat, "phone")
    keyboard = markup(chat.last)
    assert isinstance(keyboard, ReplyKeyboardMarkup)
    [[contact], [none]] = keyboard.keyboard
    assert contact.request_contact
    assert none.text == t("option.phone.none")
    chat.send(none.text)  # what Telegram sends when it is pressed
    assert chat.step == Step.KECAMATAN


def test_at_the_summary_the_phone_can_be_dropped_or_given_with_its_owner(chat: Chat) -> None:
    walk_to(chat, "summary")
    chat.press(t("option.summary.change"))
    chat.press(t("option.field.phone"))
    chat.send("tidak punya hp")
    assert chat.step == Step.SUMMARY
    assert t("field.no_phone") in chat.last.text.splitlines()
    chat.press(t("option.summary.change"))
    chat.press(t("option.field.phone"))
    chat.send("0812 0000 4444")
    chat.send("istri")
    assert chat.step == Step.SUMMARY
    assert "Nomor HP: +62 812-0000-4444 (milik suami/istri)" in chat.last.text
