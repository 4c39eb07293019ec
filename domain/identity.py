"""Identifiers people type: NIK (Nomor Induk Kependudukan), KPJ and Indonesian mobile numbers.

Parsing returns a value or a reason code; the reason codes map to messages in the text catalog.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

import phonenumbers

from domain.regions import PROVINCE_TIMEZONES, RegionIndex

_SEPARATORS = re.compile(r"[\s.\-_/]+")
# What surrounds a number typed or pasted: Excel's text marker (an apostrophe, often curled by the phone's
# keyboard), quotes, a label ("NIK:", "No. HP"), a full stop at the end.
_QUOTES = "'‘’`\"“”"
_WRAPPING = re.compile(
    rf"^(?:(?:no(?:mor)?\.?\s*)?(?:nik|hp|kpj)\b\s*:?)?[\s{_QUOTES}]*|[\s{_QUOTES}.,;:!]*$", re.IGNORECASE
)


def bare_number(text: str) -> str:
    """`'7312…`, `NIK: 7312…`, `“0812…”.` as the number inside: the separators between its digits are kept."""
    return _WRAPPING.sub("", text.strip())


class NikProblem(StrEnum):
    LENGTH = "length"
    NOT_DIGITS = "not_digits"
    REGION = "region"
    DATE = "date"
    SERIAL = "serial"


class Sex(StrEnum):
    MALE = "L"
    FEMALE = "P"


@dataclass(frozen=True, slots=True)
class Nik:
    value: str
    birth_date: date
    sex: Sex

    @property
    def masked(self) -> str:
        return mask_nik(self.value)


def mask_nik(nik: str) -> str:
    """Show the kabupaten prefix and the last 4 digits only: 7312********0003."""
    return nik[:4] + "*" * (len(nik) - 8) + nik[-4:] if len(nik) > 8 else "*" * len(nik)


def parse_nik(text: str, *, regions: RegionIndex, today: date) -> Nik | NikProblem:
    """Validate the shape `PPKKCC DDMMYY SSSS`: region prefix, birth date (day + 40 for women), serial.

    Only the province and, inside the shipped province table, the kabupaten are checked: kecamatan codes are split
    and renumbered over the years, so an old but valid card can carry a kecamatan code that no longer exists.
    """
    digits = _SEPARATORS.sub("", bare_number(text))
    if not digits.isdigit() or not digits.isascii():
        return NikProblem.NOT_DIGITS
    if len(digits) != 16:
        return NikProblem.LENGTH
    province, kabupaten = digits[:2], f"{digits[:2]}.{digits[2:4]}"
    if province not in PROVINCE_TIMEZONES or digits[2:4] == "00" or digits[4:6] == "00":
        return NikProblem.REGION
    if regions.covers_province(province) and not regions.knows_kabupaten(kabupaten):
        return NikProblem.REGION
    day, month, yy = int(digits[6:8]), int(digits[8:10]), int(digits[10:12])
    sex = Sex.MALE
    if day > 40:
        day, sex = day - 40, Sex.FEMALE
    birth = _birth_date(day, month, yy, today)
    if birth is None:
        return NikProblem.DATE
    if digits[12:] == "0000":
        return NikProblem.SERIAL
    return Nik(value=digits, birth_date=birth, sex=sex)


def _birth_date(day: int, month: int, yy: int, today: date) -> date | None:
    """The two-digit year is read as the latest century that does not put the birth in the future."""
    for century in (2000, 1900):
        try:
            candidate = date(century + yy, month, day)
        except ValueError:
            return None
        if candidate <= today:
            return candidate
    return None


class PhoneProblem(StrEnum):
    INVALID = "invalid"
    NOT_INDONESIAN = "not_indonesian"
    NOT_MOBILE = "not_mobile"


def parse_phone(text: str) -> str | PhoneProblem:
    """An Indonesian mobile number in E.164 (+628…), from `08…`, `628…`, `+62 8…` with spaces or dashes."""
    cleaned = re.sub(r"[\s\-().]", "", bare_number(text))
    if not re.fullmatch(r"\+?\d{8,16}", cleaned):
        return PhoneProblem.INVALID
    if cleaned.startswith("62"):
        cleaned = "+" + cleaned
    try:
        number = phonenumbers.parse(cleaned, "ID")
    except phonenumbers.NumberParseException:
        return PhoneProblem.INVALID
    if number.country_code != 62:
        return PhoneProblem.NOT_INDONESIAN
    if not str(number.national_number).startswith("8"):
        return PhoneProblem.NOT_MOBILE
    if not phonenumbers.is_valid_number(number):
        return PhoneProblem.INVALID
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class KpjProblem(StrEnum):
    NOT_DIGITS = "not_digits"
    LENGTH = "length"


KPJ_DIGITS = range(8, 17)  # 8 to 16 digits; cards show 11


def parse_kpj(text: str) -> str | KpjProblem:
    """A KPJ membership number: 8 to 16 digits once spaces and dashes are gone (it is usually 11), or why not."""
    digits = _SEPARATORS.sub("", text.strip())
    if not digits.isascii() or not digits.isdigit():
        return KpjProblem.NOT_DIGITS
    return digits if len(digits) in KPJ_DIGITS else KpjProblem.LENGTH


def format_phone(e164: str) -> str:
    """`+62 812-3456-7890`, as people read numbers."""
    nsn = e164[3:]
    if e164.startswith("+628") and nsn.isdigit() and 9 <= len(nsn) <= 12:
        # Indonesian mobiles, as phonenumbers groups them (a test holds the two together), 30 times faster: the
        # officers' lists format thousands at a time.
        middle = 3 if len(nsn) == 9 else 4
        return f"+62 {nsn[:3]}-{nsn[3 : 3 + middle]}-{nsn[3 + middle :]}"
    try:
        number = phonenumbers.parse(e164, "ID")
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


class Salutation(StrEnum):
    BAPAK = "bapak"
    IBU = "ibu"
    EITHER = "bapak_ibu"  # "Bapak/Ibu"


def salutation(sex: str | None) -> Salutation:
    """How to name a member: Bapak for a man, Ibu for a woman, as the NIK says (a woman's birth day + 40: `Nik.sex`,
    the member row's `sex`); "Bapak/Ibu" when that is not known, as for anyone without a NIK (a sponsor, an office,
    the person chatting, who may be a relative)."""
    if sex == Sex.MALE:
        return Salutation.BAPAK
    return Salutation.IBU if sex == Sex.FEMALE else Salutation.EITHER


# NIKs a chat may type in an hour (staff registering door to door aside): a family registers a few people; guessing
# which NIKs are registered needs many.
NIK_TRIES = 5
NIK_TRY_WINDOW = timedelta(hours=1)

_NAME_WORD = re.compile(r"[^\W\d_]+")


def same_person_name(registered: str, branch: str) -> bool:
    """Whether the name a chat registered and the branch's name can be the same person: equal once case and
    punctuation are set aside, or one written shorter ("Baco" for "La Baco", "M. Arsyad" for "Muhammad Arsyad"):
    each word of the shorter one begins a word of the longer, and they share a whole word of three letters or more."""
    words_a, words_b = _NAME_WORD.findall(registered.casefold()), _NAME_WORD.findall(branch.casefold())
    if not words_a or not words_b:
        return False
    if words_a == words_b:
        return True
    shorter, longer = sorted((words_a, words_b), key=len)
    if not all(any(word.startswith(part) for word in longer) for part in shorter):
        return False
    return any(len(word) >= 3 and word in longer for word in shorter)
