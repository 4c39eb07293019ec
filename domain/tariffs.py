"""Contribution amounts from the tariff data (`domain/data/tariffs.toml`): never constants in code.

The amount for paying N months is the sum of each month's own tariff, so a payment that spans the end of a relief
period (December 2026 + January 2027) is priced correctly. JKK and JHT are priced on the declared income as the
data's income scale prices it (its minimum, and PP 44/2015 Lampiran II's bands when the data has them).
"""

from __future__ import annotations

import bisect
import re
import tomllib
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Protocol

from domain.rules import ContributionMonth


def _month(text: str) -> ContributionMonth | None:
    if not text:
        return None
    year, month = text.split("-")
    return ContributionMonth(int(year), int(month))


@dataclass(frozen=True, slots=True)
class Component:
    program: str
    percent_of_income: float
    flat: int
    optional: bool
    start: ContributionMonth
    end: ContributionMonth | None

    def applies(self, month: ContributionMonth) -> bool:
        return self.start <= month and (self.end is None or month <= self.end)

    def amount(self, declared_income: int) -> int:
        return self.flat + round(declared_income * self.percent_of_income / 100)


@dataclass(frozen=True, slots=True)
class Relief:
    name: str
    programs: frozenset[str]
    share_paid: float
    start: ContributionMonth
    end: ContributionMonth
    occupations: frozenset[str]
    excluded_payers: frozenset[str]

    def applies(self, month: ContributionMonth, *, occupation: str, payer: str) -> bool:
        return self.start <= month <= self.end and occupation in self.occupations and payer not in self.excluded_payers


@dataclass(frozen=True, slots=True)
class IncomeScale:
    """The declared incomes contributions are priced on: at least `minimum`, rounded down to a band when there are
    bands (their lower bounds, ascending)."""

    minimum: int
    bands: tuple[int, ...] = ()

    def priced(self, declared_income: int) -> int:
        income = max(declared_income, self.minimum)
        if not self.bands:
            return income
        index = bisect.bisect_right(self.bands, income) - 1
        return self.bands[max(index, 0)]


@dataclass(frozen=True, slots=True, eq=False)  # identity hash: it is the key of the amounts cache
class Tariffs:
    components: tuple[Component, ...]
    reliefs: tuple[Relief, ...]
    income: IncomeScale

    def monthly(
        self,
        month: ContributionMonth,
        *,
        occupation: str,
        payer: str,
        declared_income: int = 0,
        with_jht: bool = False,
    ) -> int:
        """What one contribution month costs this member (an income below the minimum, the default, is priced at
        the minimum)."""
        return _monthly(self, month, occupation, payer, declared_income, with_jht)

    def _compute(
        self, month: ContributionMonth, occupation: str, payer: str, declared_income: int, with_jht: bool
    ) -> int:
        income = self.income.priced(declared_income)
        reliefs = [r for r in self.reliefs if r.applies(month, occupation=occupation, payer=payer)]
        total = 0
        for component in self.components:
            if not component.applies(month) or (component.optional and not with_jht):
                continue
            amount = component.amount(income)
            for relief in reliefs:
                if component.program in relief.programs:
                    amount = round(amount * relief.share_paid)
            total += amount
        return total

    def for_months(
        self,
        first: ContributionMonth,
        months: int,
        *,
        occupation: str,
        payer: str,
        declared_income: int = 0,
        with_jht: bool = False,
    ) -> int:
        """Paying `months` months from `first`: the sum of each month's own tariff."""
        return sum(
            self.monthly(
                first.plus(offset),
                occupation=occupation,
                payer=payer,
                declared_income=declared_income,
                with_jht=with_jht,
            )
            for offset in range(months)
        )


@lru_cache(maxsize=8192)
def _monthly(  # noqa: PLR0917 (the cache key is positional)
    tariffs: Tariffs, month: ContributionMonth, occupation: str, payer: str, declared_income: int, with_jht: bool
) -> int:
    """Tariffs are immutable data, so a month's amount for a kind of member is computed once."""
    return tariffs._compute(month, occupation, payer, declared_income, with_jht)


def load_tariffs(path: Path | None = None) -> Tariffs:
    source = path.read_bytes() if path else (resources.files("domain") / "data" / "tariffs.toml").read_bytes()
    raw = tomllib.loads(source.decode())
    components = tuple(
        Component(
            program=c["program"],
            percent_of_income=float(c.get("percent_of_income", 0)),
            flat=int(c.get("flat", 0)),
            optional=bool(c.get("optional", False)),
            start=_month(c["from"]) or ContributionMonth(1970, 1),
            end=_month(c.get("until", "")),
        )
        for c in raw["component"]
    )
    reliefs = tuple(
        Relief(
            name=r["name"],
            programs=frozenset(r["programs"]),
            share_paid=float(r["share_paid"]),
            start=_month(r["from"]) or ContributionMonth(1970, 1),
            end=_month(r["until"]) or ContributionMonth(9999, 12),
            occupations=frozenset(r["occupations"]),
            excluded_payers=frozenset(r.get("excluded_payers", [])),
        )
        for r in raw.get("relief", [])
    )
    income = raw["income"]
    scale = IncomeScale(minimum=int(income["minimum"]), bands=tuple(sorted(int(b) for b in income.get("bands", []))))
    return Tariffs(components, reliefs, scale)


@cache
def default_tariffs() -> Tariffs:
    return load_tariffs()


class Insured(Protocol):
    """What a member's tariff depends on (a `Member`, or a row of the officers' list)."""

    @property
    def occupation(self) -> str: ...
    @property
    def payer(self) -> str: ...
    @property
    def declared_income(self) -> int: ...
    @property
    def with_jht(self) -> bool: ...


def member_cost(tariffs: Tariffs, member: Insured, first: ContributionMonth, months: int) -> int:
    """What `months` months from `first` cost this member: each month at its own tariff."""
    return tariffs.for_months(
        first,
        months,
        occupation=member.occupation,
        payer=member.payer,
        declared_income=member.declared_income,
        with_jht=member.with_jht,
    )


_AMOUNT = re.compile(r"^(?:rp\.?\s*)?(\d+(?:[.,]\d+)*)\s*(juta|jt|ribu|rb|k)?$")
_GROUPED = re.compile(r"^\d{1,3}(?:([.,])\d{3})(?:\1\d{3})*$")  # 1.500.000, 1,500,000, 1.500
_UNITS = {"juta": 1_000_000, "jt": 1_000_000, "ribu": 1_000, "rb": 1_000, "k": 1_000}


def parse_income(text: str) -> int | None:
    """A monthly income as people write it: "1,5 juta", "1.5jt", "1500 ribu", "Rp1.500.000", "1500000", or a bare
    small number meaning millions ("2", "1,5"). None when it is no amount."""
    cleaned = re.sub(r"\s+", " ", text.strip().lower().removesuffix("/bulan").removesuffix("per bulan").strip())
    match = _AMOUNT.match(cleaned)
    if match is None:
        return None
    number, unit = match.groups()
    if _GROUPED.match(number):
        value = float(re.sub(r"[.,]", "", number))
    elif re.fullmatch(r"\d+(?:[.,]\d+)?", number):
        value = float(number.replace(",", "."))  # a decimal: 1,5 or 1.5
    else:
        return None
    if unit is not None:
        value *= _UNITS[unit]
    elif value < 1_000:  # nobody declares Rp2 a month: "2" and "1,5" are millions
        value *= 1_000_000
    return round(value)
