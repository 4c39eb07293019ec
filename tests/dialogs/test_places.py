"""Place names as people give them (issue 14, point 1): a kabupaten's name or short form at the kecamatan question,
the town of Soppeng, and a typo'd desa or kecamatan confirmed before it is saved, on Telegram (buttons, typed words)
and on WhatsApp (numbered options, typed words)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.channels.plain import render_plain
from bot.channels.whatsapp import incoming_from_text
from bot.dialogs.core import DialogConfig, Incoming
from bot.dialogs.state import Step
from bot.texts import t
from domain.regions import RegionIndex
from tests.dialog_driver import Chat, walk_to

CHANNELS: dict[str, Callable[[str], Incoming]] = {"telegram": Incoming.from_text, "whatsapp": incoming_from_text}
channels = pytest.mark.parametrize("typed_on", list(CHANNELS))

DONRI_DONRI = "73.12.06"
LEWORENG = "73.12.06.2004"
PESSE = "73.12.06.2007"
LALABATA = "73.12.04"


def names(regions: RegionIndex, codes: list[str]) -> list[str]:
    return [regions.name(code) for code in codes]


# --- a kabupaten, or a town, at the kecamatan question ---


@channels
@pytest.mark.parametrize(
    ("typed", "kabupaten"),
    [
        ("Soppeng", "73.12"),
        ("soppeng", "73.12"),
        ("Kab. Soppeng", "73.12"),
        ("Kabupaten Soppeng", "73.12"),
        ("Sidrap", "73.14"),
        ("SIDRAP", "73.14"),
        ("Sidenreng Rappang", "73.14"),
        ("kab sidrap", "73.14"),
    ],
)
def test_kabupaten_name_narrows_to_its_kecamatan(
    chat: Chat, regions: RegionIndex, typed_on: str, typed: str, kabupaten: str
) -> None:
    walk_to(chat, "kecamatan")
    chat.send(CHANNELS[typed_on](typed))
    assert chat.step == Step.KECAMATAN
    assert chat.last.text == t("ask.kecamatan_in_kabupaten", kabupaten=regions.name(kabupaten))
    offered = [choice.value.removeprefix("kec:") for choice in chat.last.choices if not choice.value.startswith("nav:")]
    assert offered == [k.code for k in regions.children(kabupaten)][: chat.config.page_size]
    chat.send(CHANNELS[typed_on]("1"))
    assert chat.step == Step.DESA
    assert chat.state.draft.kecamatan_code == regions.children(kabupaten)[0].code


@channels
def test_kabupaten_of_a_one_kabupaten_deployment_is_asked_kindly(
    dialog_config: DialogConfig, regions: RegionIndex, typed_on: str
) -> None:
    chat = Chat(DialogConfig(service_area=("73.12",), data_holder="uji", consent_version="test"), regions)
    walk_to(chat, "kecamatan")
    chat.send(CHANNELS[typed_on]("Soppeng"))
    assert chat.step == Step.KECAMATAN
    assert chat.last.text.startswith("Kecamatan mana di Kabupaten Soppeng?")
    assert "tidak ditemukan" not in chat.last.text
    assert chat.labels == [k.name for k in regions.children("73.12")]
    chat.send(CHANNELS[typed_on]("donri donri"))
    assert chat.state.draft.kecamatan_code == DONRI_DONRI


@channels
def test_kabupaten_outside_the_service_area_is_named(chat: Chat, regions: RegionIndex, typed_on: str) -> None:
    walk_to(chat, "kecamatan")
    chat.send(CHANNELS[typed_on]("Pinrang"))
    assert chat.step == Step.KECAMATAN
    assert "Kabupaten Pinrang" in chat.last.text
    assert "Kabupaten Soppeng" in chat.last.text  # what the service does cover
    assert t("invalid.kecamatan") not in chat.last.text


def test_kabupaten_inside_the_service_area_when_configured(regions: RegionIndex) -> None:
    chat = Chat(DialogConfig(service_area=("73.12", "73.15"), data_holder="uji", consent_version="test"), regions)
    walk_to(chat, "kecamatan")
    chat.send("Pinrang")
    assert chat.last.text == t("ask.kecamatan_in_kabupaten", kabupaten="Kabupaten Pinrang")


@channels
@pytest.mark.parametrize("typed", ["Watansoppeng", "watan soppeng", "Kota Watansoppeng"])
def test_watansoppeng_is_the_kelurahan_of_lalabata(chat: Chat, regions: RegionIndex, typed_on: str, typed: str) -> None:
    walk_to(chat, "kecamatan")
    chat.send(CHANNELS[typed_on](typed))
    assert chat.step == Step.KECAMATAN
    assert "Kecamatan Lalabata" in chat.last.text
    kelurahan = [k for k in regions.children(LALABATA) if k.code.rsplit(".", 1)[1].startswith("1")]
    assert chat.labels == [k.name for k in kelurahan]
    assert "Bila" in chat.labels
    chat.send(CHANNELS[typed_on]("bila"))
    assert chat.step == Step.OCCUPATION
    assert chat.state.draft.kecamatan_code == LALABATA
    assert regions.name(chat.state.draft.desa_code or "") == "Bila"


def test_watansoppeng_kelurahan_by_button(chat: Chat, regions: RegionIndex) -> None:
    walk_to(chat, "kecamatan")
    chat.send("Watansoppeng")
    chat.press("Lemba")
    assert chat.step == Step.OCCUPATION
    assert (chat.state.draft.kecamatan_code, regions.name(chat.state.draft.desa_code or "")) == (LALABATA, "Lemba")


def test_watansoppeng_at_the_desa_question_of_lalabata(chat: Chat) -> None:
    walk_to(chat, "desa", kecamatan="Lalabata")
    chat.send("Watansoppeng")
    assert chat.step == Step.DESA
    assert "Bila" in chat.labels
    assert "Maccile" not in chat.labels


def test_village_name_of_kulo_and_start_of_two_kecamatan_offers_all_three(chat: Chat) -> None:
    walk_to(chat, "kecamatan")
    chat.send("mario")
    assert chat.labels == ["Marioriawa (Soppeng)", "Marioriwawo (Soppeng)", "Desa Mario, Kecamatan Kulo"]
    chat.send("3")
    assert chat.step == Step.OCCUPATION
    assert chat.state.draft.desa_code == "73.14.06.2004"


# --- a name only close to one is confirmed ---


@channels
@pytest.mark.parametrize(("typed", "meant"), [("leworen", "Leworeng"), ("pese", "Pesse"), ("lewereng", "Leworeng")])
@pytest.mark.parametrize("yes", ["iye", "ya", "Ya", "ok", "1"])
def test_close_desa_is_confirmed_then_saved(chat: Chat, typed_on: str, typed: str, meant: str, yes: str) -> None:
    walk_to(chat, "desa")
    chat.send(CHANNELS[typed_on](typed))
    assert chat.step == Step.DESA
    assert chat.state.draft.desa_code is None  # nothing saved before the person says so
    assert chat.last.text == f"Maksud Bapak/Ibu: Desa {meant}?"
    assert chat.labels == ["Ya", "Bukan"]
    assert "1. Ya" in render_plain(chat.last)
    assert "2. Bukan" in render_plain(chat.last)
    chat.send(CHANNELS[typed_on](yes))
    assert chat.step == Step.OCCUPATION
    assert chat.regions.name(chat.state.draft.desa_code or "") == meant


@channels
@pytest.mark.parametrize("no", ["bukan", "Bukan", "tidak", "nda", "2"])
def test_close_desa_refused_asks_the_desa_question_again(chat: Chat, typed_on: str, no: str) -> None:
    walk_to(chat, "desa")
    chat.send(CHANNELS[typed_on]("leworen"))
    chat.send(CHANNELS[typed_on](no))
    assert chat.step == Step.DESA
    assert chat.state.draft.desa_code is None
    assert chat.last.text == t("ask.desa", kecamatan="Donri-Donri")
    assert "Leworeng" in chat.labels
    assert "Ya" not in chat.labels
    chat.send(CHANNELS[typed_on]("Pesse"))
    assert chat.state.draft.desa_code == PESSE


def test_close_desa_confirmed_by_button(chat: Chat) -> None:
    walk_to(chat, "desa")
    chat.send("leworen")
    chat.press("Ya")
    assert chat.state.draft.desa_code == LEWORENG
    assert chat.step == Step.OCCUPATION


def test_close_desa_refused_by_button(chat: Chat) -> None:
    walk_to(chat, "desa")
    chat.send("leworen")
    chat.press("Bukan")
    assert chat.step == Step.DESA
    assert chat.state.draft.desa_code is None
    assert not chat.state.confirm


def test_another_name_instead_of_yes_or_no_is_read_as_the_answer(chat: Chat) -> None:
    walk_to(chat, "desa")
    chat.send("leworen")
    chat.send("PESSE")
    assert chat.step == Step.OCCUPATION
    assert chat.state.draft.desa_code == PESSE


@channels
@pytest.mark.parametrize("typed", ["Pesse", "PESSE", "pesse.", " pesse ", "Desa Pesse", "ds. pesse"])
def test_exact_desa_is_taken_at_once(chat: Chat, typed_on: str, typed: str) -> None:
    walk_to(chat, "desa")
    chat.send(CHANNELS[typed_on](typed))
    assert chat.step == Step.OCCUPATION
    assert chat.state.draft.desa_code == PESSE


@channels
def test_close_kecamatan_is_confirmed(chat: Chat, typed_on: str) -> None:
    walk_to(chat, "kecamatan")
    chat.send(CHANNELS[typed_on]("lilirlau"))
    assert chat.last.text == "Maksud Bapak/Ibu: Kecamatan Lilirilau?"
    assert chat.state.draft.kecamatan_code is None
    chat.send(CHANNELS[typed_on]("iye"))
    assert chat.step == Step.DESA
    assert chat.state.draft.kecamatan_code == "73.12.03"


@channels
def test_close_kecamatan_refused_asks_again(chat: Chat, typed_on: str) -> None:
    walk_to(chat, "kecamatan")
    chat.send(CHANNELS[typed_on]("lilirlau"))
    chat.send(CHANNELS[typed_on]("tidak"))
    assert chat.step == Step.KECAMATAN
    assert chat.last.text == t("ask.kecamatan")
    assert chat.state.draft.kecamatan_code is None


@channels
@pytest.mark.parametrize("typed", ["Donri-Donri", "DONRI DONRI", "donri-donri.", "Kec. Donri-Donri"])
def test_exact_kecamatan_is_taken_at_once(chat: Chat, typed_on: str, typed: str) -> None:
    walk_to(chat, "kecamatan")
    chat.send(CHANNELS[typed_on](typed))
    assert chat.step == Step.DESA
    assert chat.state.draft.kecamatan_code == DONRI_DONRI


@channels
def test_close_village_at_the_kecamatan_question_is_confirmed(chat: Chat, typed_on: str) -> None:
    walk_to(chat, "kecamatan")
    chat.send(CHANNELS[typed_on]("leworen"))
    assert chat.last.text == "Maksud Bapak/Ibu: Desa Leworeng, Kecamatan Donri-Donri?"
    assert chat.state.draft.desa_code is None
    chat.send(CHANNELS[typed_on]("iye"))
    assert chat.step == Step.OCCUPATION
    assert (chat.state.draft.kecamatan_code, chat.state.draft.desa_code) == (DONRI_DONRI, LEWORENG)


def test_exact_village_at_the_kecamatan_question_is_taken_at_once(chat: Chat) -> None:
    walk_to(chat, "kecamatan")
    chat.send("LEWORENG")
    assert chat.step == Step.OCCUPATION
    assert chat.state.draft.desa_code == LEWORENG


def test_kabupaten_at_the_desa_question_asks_for_the_desa(chat: Chat) -> None:
    walk_to(chat, "desa")
    chat.send("Soppeng")
    assert chat.step == Step.DESA
    assert chat.last.text.startswith(t("invalid.desa_kabupaten"))


def test_confirmation_while_changing_the_area(chat: Chat) -> None:
    walk_to(chat, "summary")
    chat.press("Ubah")
    chat.press("Desa")
    chat.send("donri donri")
    chat.send("pese")
    assert chat.last.text == "Maksud Bapak/Ibu: Desa Pesse?"
    chat.send("iye")
    assert chat.step == Step.SUMMARY
    assert chat.state.draft.desa_code == PESSE


@pytest.mark.parametrize("typed", ["Donri-Donri (Soppeng)", "marioriwawo (soppeng)"])
def test_an_option_typed_as_shown_is_taken(chat: Chat, typed: str) -> None:
    walk_to(chat, "kecamatan")
    chat.send(typed)
    assert chat.step == Step.DESA
    assert chat.regions.name(chat.state.draft.kecamatan_code or "") in typed.title()


@pytest.mark.parametrize("typed", ["berikutnya", "Berikutnya »", "lanjut berikutnya"])
def test_the_page_turns_by_its_word_too(chat: Chat, typed: str) -> None:
    walk_to(chat, "desa", kecamatan="Lilirilau")  # twelve villages: two pages
    first = chat.labels
    chat.send(typed)
    assert chat.step == Step.DESA
    assert chat.labels != first
    assert "« Sebelumnya" in chat.labels
