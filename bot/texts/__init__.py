"""The Indonesian message catalog (`id.toml`): every word a person reads comes from there.

The catalog speaks as Telegram does (buttons, slash commands); its `[whatsapp]` table holds the texts that WhatsApp
says differently (words to type, "balas 1"), under the same keys. Which one `t()` uses is the channel being spoken
to, set once where a message is answered or composed (`speaking`), so that no dialog needs to know its channel.
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date
from functools import cache
from importlib import resources

from domain.rules import ContributionMonth
from domain.vocabulary import Channel

# Channels whose wording differs from the base texts, each a table of id.toml with the keys it says otherwise.
VARIANTS = (Channel.WHATSAPP,)
_channel: ContextVar[str] = ContextVar("channel", default=Channel.TELEGRAM)


@contextmanager
def speaking(channel: str) -> Iterator[None]:
    """Texts made inside are worded for `channel` (the terminal speaks as Telegram does)."""
    token = _channel.set(channel)
    try:
        yield
    finally:
        _channel.reset(token)


def current_channel() -> str:
    return _channel.get()


def _flatten(node: dict[str, object], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in node.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat |= _flatten(value, f"{name}.")
        elif isinstance(value, str):
            flat[name] = value.strip("\n")
        else:
            raise TypeError(f"text {name} must be a string")
    return flat


@cache
def _raw() -> dict[str, object]:
    with (resources.files("bot.texts") / "id.toml").open("rb") as handle:
        return tomllib.load(handle)


@cache
def overrides(channel: str) -> dict[str, str]:
    """The texts `channel` says differently from the base catalog."""
    table = _raw().get(channel) if channel in VARIANTS else None
    return _flatten(table) if isinstance(table, dict) else {}


@cache
def catalog(channel: str = Channel.TELEGRAM) -> dict[str, str]:
    """Every text as `channel` says it."""
    base = _flatten({key: value for key, value in _raw().items() if key not in VARIANTS})
    return base | overrides(channel)


def t(key: str, **params: object) -> str:
    """The text for `key` with `{placeholders}` filled in, worded for the channel being spoken to; a missing key or
    parameter is a bug, so it raises."""
    return catalog(_channel.get())[key].format(**params)


def placeholders(key: str, channel: str = Channel.TELEGRAM) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(catalog(channel)[key]) if name}


def month_name(month: int) -> str:
    return t(f"calendar.month_{month}")


def long_date(day: date) -> str:
    """`Selasa, 15 Desember 2026`."""
    return f"{t(f'calendar.weekday_{day.isoweekday()}')}, {day.day} {month_name(day.month)} {day.year}"


def pay_by(day: date) -> str:
    """`paling lambat Selasa, 15 Desember 2026`: every deadline a person reads, in reminders (free text and
    templates), `/status` and the officers' lists, said this one way (with the year: the cycles cross year ends)."""
    return t("deadline.pay_by", day=long_date(day))


def short_date(day: date) -> str:
    """`15 Desember 2026`."""
    return f"{day.day} {month_name(day.month)} {day.year}"


def month_year(year: int, month: int) -> str:
    return f"{month_name(month)} {year}"


def month_span(first: ContributionMonth, last: ContributionMonth) -> str:
    """`Desember 2026`, `Oktober–Desember 2026`, `Desember 2026–Januari 2027`."""
    if first == last:
        return month_year(first.year, first.month)
    if first.year == last.year:
        return f"{month_name(first.month)}–{month_year(last.year, last.month)}"
    return f"{month_year(first.year, first.month)}–{month_year(last.year, last.month)}"


def programs(*, with_jht: bool) -> str:
    """A member's programs as branches write them ("JKK, JKM, JHT"): the summary, /peserta, `why` and the export say
    them this one way, and the import reads it back."""
    return t("program.jht" if with_jht else "program.base")


def duration(days: int) -> str:
    """`2 tahun`, `6 bulan`, `45 hari`: a period as people say it (whole years or months when it is one)."""
    if days % 365 == 0:
        return t("duration.years", count=days // 365)
    if days % 30 == 0:
        return t("duration.months", count=days // 30)
    return t("duration.days", count=days)


def rupiah(amount: int) -> str:
    """`Rp16.800`: Indonesian thousands separators."""
    return "Rp" + f"{amount:,}".replace(",", ".")
