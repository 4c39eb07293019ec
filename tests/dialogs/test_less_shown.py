"""What a member, a sponsor or an officer reads never rebuilds a whole NIK: the mask hides the kecamatan code and the
birth date DDMMYY (+40 for women), so no text beside it may give the birth day; the summary never spells the NIK."""

from __future__ import annotations

import re
from datetime import date

import pytest

from bot.dialogs.core import DialogConfig
from bot.texts import month_name, speaking
from domain.regions import RegionIndex
from domain.vocabulary import Channel
from tests.dialog_driver import Chat, walk_to

# (NIK, kecamatan, desa): men and women (day + 40), several birth dates, two kecamatan; fake serials 9xxx.
SAMPLE = [
    ("7312061506809001", "Donri-Donri", "Pesse"),  # a man, 15 June 1980
    ("7312064503759002", "Donri-Donri", "Kessing"),  # a woman, 5 March 1975
    ("7312040112629003", "Lalabata", "Botto"),  # a man, 1 December 1962
    ("7312046108999004", "Lalabata", "Bila"),  # a woman, 21 August 1999
    ("7312043101019005", "Lalabata", "Botto"),  # a man, 31 January 2001
]
MONTHS = {month_name(n).lower(): n for n in range(1, 13)}
FULL_DATE = re.compile(r"\b(\d{1,2}) (" + "|".join(MONTHS) + r") (\d{4})\b", re.IGNORECASE)
MASK = re.compile(r"\b(\d{4})\*{8}(\d{4})\b")


def rebuilt(text: str, regions: RegionIndex) -> set[str]:
    """The whole NIKs an attacker gets from one text: the mask's ends, the code of every kecamatan the text names
    (a desa or a kecamatan), and every full date in it as the birth day, both as a man's and a woman's."""
    masks = MASK.findall(text)
    kecamatan = {
        k.code.split(".")[2]
        for k in regions.children("73.12")
        if k.name in text or any(d.name in text for d in regions.children(k.code))
    }
    found = set()
    for prefix, serial in masks:
        for day, month, year in FULL_DATE.findall(text):
            for offset in (0, 40):
                born = f"{int(day) + offset:02d}{MONTHS[month.lower()]:02d}{year[2:]}"
                found |= {f"{prefix}{code}{born}{serial}" for code in kecamatan}
    return found


def answers(member: tuple[str, str, str]) -> dict[str, str]:
    nik, kecamatan, desa = member
    return {"nik": nik, "kecamatan": kecamatan, "desa": desa}


def masked(nik: str) -> str:
    return nik[:4] + "*" * 8 + nik[-4:]


@pytest.mark.parametrize("member", SAMPLE)
@pytest.mark.parametrize("channel", [Channel.TELEGRAM, Channel.WHATSAPP])
def test_the_summary_neither_spells_nor_rebuilds_the_nik(
    dialog_config: DialogConfig, regions: RegionIndex, member: tuple[str, str, str], channel: Channel
) -> None:
    nik = member[0]
    chat = Chat(dialog_config, regions)
    with speaking(channel):
        walk_to(chat, "summary", **answers(member))
    text = chat.last.text
    assert masked(nik) in text  # the person still checks its ends
    assert nik not in re.sub(r"\D", "", text)  # not even spaced or split
    assert nik not in rebuilt(text, regions)


@pytest.mark.parametrize("member", SAMPLE)
def test_status_shows_the_birth_month_but_never_enough_to_rebuild_the_nik(
    dialog_config: DialogConfig, regions: RegionIndex, member: tuple[str, str, str]
) -> None:
    nik = member[0]
    chat = Chat(dialog_config, regions)
    chat.register(**answers(member))
    chat.press("Selesai")
    chat.send("/status")
    text = chat.last.text
    [saved] = chat.lookups.members
    assert masked(nik) in text
    born: date = saved.birth_date
    assert f"{month_name(born.month)} {born.year}" in text  # enough to check against the KTP
    assert nik not in rebuilt(text, regions)


@pytest.mark.parametrize("member", SAMPLE)
def test_the_officers_search_never_rebuilds_the_nik(
    dialog_config: DialogConfig, regions: RegionIndex, member: tuple[str, str, str]
) -> None:
    nik = member[0]
    chat = Chat(dialog_config, regions)
    chat.register(**answers(member), name="La Baco")
    chat.press("Selesai")
    chat.lookups.officer = "Penyuluh Donri"
    chat.send("/cari Baco")
    text = chat.last.text
    assert masked(nik) in text
    assert nik not in rebuilt(text, regions)
