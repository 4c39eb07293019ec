"""The Indonesian message catalog (`id.toml`): every word a person reads comes from there."""

from __future__ import annotations

import string
import tomllib
from datetime import date
from functools import cache
from importlib import resources

from domain.rules import ContributionMonth


@cache
def catalog() -> dict[str, str]:
    with (resources.files("bot.texts") / "id.toml").open("rb") as handle:
        raw = tomllib.load(handle)
    flat: dict[str, str] = {}

    def walk(prefix: str, node: dict[str, object]) -> None:
        for key, value in node.items():
            name = f"{prefix}{key}"
            if isinstance(value, dict):
                walk(f"{name}.", value)
            elif isinstance(value, str):
                flat[name] = value.strip("\n")
            else:
                raise TypeError(f"text {name} must be a string")

    walk("", raw)
    return flat


def t(key: str, **params: object) -> str:
    """The text for `key` with `{placeholders}` filled in; a missing key or parameter is a bug, so it raises."""
    return catalog()[key].format(**params)


def placeholders(key: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(catalog()[key]) if name}


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


def rupiah(amount: int) -> str:
    """`Rp16.800`: Indonesian thousands separators."""
    return "Rp" + f"{amount:,}".replace(",", ".")
