"""What a member, a sponsor or an officer reads never rebuilds a whole NIK: the mask hides the kecamatan code and the
birth date DDMMYY (+40 for women), so no text beside it may give the birth day; the summary never spells the NIK."""

from __future__ import annotations

import re
from datetime import date

import pytest

from bot.dialogs.core import DialogConfig
from bot.texts import month_name, speaking
from domain.identity import Nik, parse_nik
from domain.regions import RegionIndex
from domain.vocabulary import Channel
from storage.crypto import Cipher
from storage.members import new_member
from tests.dialog_driver import Chat, walk_to
from tests.outbox_fixtures import synthetic_fields
from tests.scheduler.test_reminder_salutation import NOW, render

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
    """The whole NIKs an attacker gets from one text: the mask's ends, every kecamatan of the mask's kabupaten (a
    handful: whether the text names it or not, those 2 digits are cheap to guess), and every full date in the text
    as the birth day, both as a man's and a woman's. What must stay hidden is the birth day."""
    found = set()
    for prefix, serial in MASK.findall(text):
        kecamatan = [k.code.split(".")[2] for k in regions.children(f"{prefix[:2]}.{prefix[2:]}")]
        assert kecamatan, prefix
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


def test_a_sponsors_reminder_never_rebuilds_a_nik(cipher: Cipher, regions: RegionIndex) -> None:
    """The sponsor reads each member's name and masked NIK (to tell two of the same name apart), never the birth day
    or the area beside it: one reminder for the whole sample, which pays for all of them."""
    rows = []
    for index, (nik, kecamatan, desa) in enumerate(SAMPLE, start=1):
        parsed = parse_nik(nik, regions=regions, today=date(2026, 11, 23))
        assert isinstance(parsed, Nik)
        [place] = [k for k in regions.children("73.12") if k.name == kecamatan]
        [village] = [d for d in regions.children(place.code) if d.name == desa]
        fields = {"birth_date": parsed.birth_date, "sex": str(parsed.sex), "kecamatan_code": place.code}
        row = new_member(
            cipher=cipher,
            nik=nik,
            fields=synthetic_fields(index, date(2026, 11, 30), **fields, desa_code=village.code, payer="sponsor"),
            now=NOW,
        )
        row.id = index
        rows.append(row)
    text = render(cipher, rows, sponsor="Kejari Soppeng").text
    for nik, _, _ in SAMPLE:
        assert masked(nik) in text
        assert nik not in rebuilt(text, regions)
