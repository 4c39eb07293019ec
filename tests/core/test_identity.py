"""NIK, phone and KPJ parsing: the shapes people really type, and every way they go wrong."""

from __future__ import annotations

from datetime import date

import phonenumbers
import pytest

from domain.identity import (
    Nik,
    NikProblem,
    PhoneProblem,
    Sex,
    format_phone,
    mask_nik,
    parse_kpj,
    parse_nik,
    parse_phone,
)
from domain.regions import RegionIndex

TODAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    ("typed", "value", "born", "sex"),
    [
        ("7312061506809001", "7312061506809001", date(1980, 6, 15), Sex.MALE),
        ("7312 0655 0680 9002", "7312065506809002", date(1980, 6, 15), Sex.FEMALE),  # day + 40: a woman
        ("7314-01-410201-9003", "7314014102019003", date(2001, 2, 1), Sex.FEMALE),  # Sidenreng Rappang
        ("  7312061506809001  ", "7312061506809001", date(1980, 6, 15), Sex.MALE),
        ("7312060101269004", "7312060101269004", date(2026, 1, 1), Sex.MALE),  # born this year
        ("7312060112269005", "7312060112269005", date(1926, 12, 1), Sex.MALE),  # Dec '26 is future: 1926
        ("3171010101909006", "3171010101909006", date(1990, 1, 1), Sex.MALE),  # Jakarta card: province only
        ("9101010101909007", "9101010101909007", date(1990, 1, 1), Sex.MALE),  # pre-split Papua code
        ("7312062902009008", "7312062902009008", date(2000, 2, 29), Sex.MALE),  # leap day
        # Wrapped as people paste it: Excel's apostrophe (curled by the keyboard too), quotes, a label, a full stop.
        ("'7312061506809001", "7312061506809001", date(1980, 6, 15), Sex.MALE),
        ("\u20187312061506809001", "7312061506809001", date(1980, 6, 15), Sex.MALE),
        ('"7312061506809001"', "7312061506809001", date(1980, 6, 15), Sex.MALE),
        ("NIK: 7312 0615 0680 9001.", "7312061506809001", date(1980, 6, 15), Sex.MALE),
        ("no. nik 7312061506809001", "7312061506809001", date(1980, 6, 15), Sex.MALE),
    ],
)
def test_valid_niks(regions: RegionIndex, typed: str, value: str, born: date, sex: Sex) -> None:
    parsed = parse_nik(typed, regions=regions, today=TODAY)
    assert parsed == Nik(value=value, birth_date=born, sex=sex)


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("", NikProblem.NOT_DIGITS),
        ("731206150680900", NikProblem.LENGTH),
        ("73120615068090011", NikProblem.LENGTH),
        ("7312O61506809001", NikProblem.NOT_DIGITS),  # letter O for zero
        ("７３１２０６１５０６８０９００１", NikProblem.NOT_DIGITS),  # full-width digits
        ("abc", NikProblem.NOT_DIGITS),
        ("NIK saya lupa", NikProblem.NOT_DIGITS),
        ("'", NikProblem.NOT_DIGITS),
        ("'; DROP TABLE member; --", NikProblem.NOT_DIGITS),
        ("9912061506809001", NikProblem.REGION),  # no province 99
        ("7399061506809001", NikProblem.REGION),  # no kabupaten 73.99
        ("7312001506809001", NikProblem.REGION),  # kecamatan 00
        ("7300061506809001", NikProblem.REGION),  # kabupaten 00
        ("7312063206809001", NikProblem.DATE),  # day 32
        ("7312067206809001", NikProblem.DATE),  # day 72 = 32 for a woman
        ("7312060013809001", NikProblem.DATE),  # month 13
        ("7312062902019001", NikProblem.DATE),  # 29 Feb 2001
        ("7312060000809001", NikProblem.DATE),  # day 0
        ("7312061506800000", NikProblem.SERIAL),
    ],
)
def test_invalid_niks(regions: RegionIndex, typed: str, problem: NikProblem) -> None:
    assert parse_nik(typed, regions=regions, today=TODAY) == problem


def test_mask_nik_keeps_region_and_serial_only() -> None:
    assert mask_nik("7312061506800003") == "7312********0003"


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("081234567890", "+6281234567890"),
        ("0812-3456-7890", "+6281234567890"),
        ("0812 3456 7890", "+6281234567890"),
        ("6281234567890", "+6281234567890"),
        ("+62 812 3456 7890", "+6281234567890"),
        ("+62 (812) 3456-7890", "+6281234567890"),
        ("085298765432", "+6285298765432"),
        ("'081234567890", "+6281234567890"),  # Excel's text marker
        ("No HP: 0812-3456-7890", "+6281234567890"),
    ],
)
def test_valid_phones(typed: str, e164: str) -> None:
    assert parse_phone(typed) == e164


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("", PhoneProblem.INVALID),
        ("halo", PhoneProblem.INVALID),
        ("0812", PhoneProblem.INVALID),
        ("08123", PhoneProblem.INVALID),
        ("+65 9123 4567", PhoneProblem.NOT_INDONESIAN),
        ("0411 123456", PhoneProblem.NOT_MOBILE),  # Makassar landline
        ("021 5551234", PhoneProblem.NOT_MOBILE),
        ("0812345678901234", PhoneProblem.INVALID),  # too long
        ("+62 812 3456 7890 ext 1", PhoneProblem.INVALID),
    ],
)
def test_invalid_phones(typed: str, problem: PhoneProblem) -> None:
    assert parse_phone(typed) == problem


def test_format_phone_for_people() -> None:
    assert format_phone("+6281234567890") == "+62 812-3456-7890"
    assert format_phone("+62411123456") == "+62 411 123456"  # a landline (Makassar): the library formats it


@pytest.mark.parametrize("length", range(9, 13))
def test_the_fast_mobile_format_agrees_with_phonenumbers(length: int) -> None:
    for prefix in ("811", "812", "838", "857", "896"):
        e164 = "+62" + (prefix + "0123456789")[:length]
        expected = phonenumbers.format_number(
            phonenumbers.parse(e164, "ID"), phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )
        assert format_phone(e164) == expected


@pytest.mark.parametrize(
    ("typed", "kpj"),
    [("12345678901", "12345678901"), ("123 456 789 01", "12345678901"), ("1234567", None), ("KPJ123", None)],
)
def test_kpj(typed: str, kpj: str | None) -> None:
    assert parse_kpj(typed) == kpj
