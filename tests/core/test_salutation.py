"""Salutation from the NIK (issue 14, point 7): Bapak for a man, Ibu for a woman (her birth day + 40), Bapak/Ibu when
the sex is not known."""

from __future__ import annotations

from datetime import date

import pytest

from bot.texts import named
from domain.identity import Nik, Salutation, parse_nik, salutation
from domain.regions import RegionIndex

TODAY = date(2026, 11, 23)
MAN = "7312061506809001"  # fake: born 15 June 1980, serial 9001
WOMAN = "7312064506809002"  # fake: born 5 June 1980 (day + 40), serial 9002


def nik(value: str, regions: RegionIndex) -> Nik:
    parsed = parse_nik(value, regions=regions, today=TODAY)
    assert isinstance(parsed, Nik)
    return parsed


def test_the_nik_says_bapak_or_ibu(regions: RegionIndex) -> None:
    assert salutation(nik(MAN, regions).sex) is Salutation.BAPAK
    assert salutation(nik(WOMAN, regions).sex) is Salutation.IBU
    assert nik(WOMAN, regions).birth_date == date(1980, 6, 5)


@pytest.mark.parametrize("sex", [None, "", "X", "l"])
def test_unknown_sex_is_either(sex: str | None) -> None:
    assert salutation(sex) is Salutation.EITHER


def test_a_member_is_named_with_the_salutation(regions: RegionIndex) -> None:
    assert named("La Baco", nik(MAN, regions).sex) == "Bapak La Baco"
    assert named("Hasnah", nik(WOMAN, regions).sex) == "Ibu Hasnah"
    assert named("Hasnah", None) == "Bapak/Ibu Hasnah"
