"""The tariff data priced for every kind of member: (occupation, payer, income, JHT, month) → one month and 1/3/6/12
months, each month at its own tariff; the declared income's scale; incomes as people type them."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest

from domain.rules import ContributionMonth
from domain.tariffs import default_tariffs, load_tariffs, parse_income

M = ContributionMonth

# Base package at Rp1.000.000: JKK 10,000 + JKM 6,800 = 16,800, halved by PP 50/2025 to 8,400; JHT 20,000, never
# halved. Farmers and the like: April–December 2026; transport workers: January 2026–March 2027; no relief when the
# contribution is paid from the APBD, the APBN or Dana Desa.


class Case(NamedTuple):
    occupation: str
    payer: str
    income: int
    jht: bool
    first: ContributionMonth
    amounts: tuple[int, int, int, int, int]  # the first month alone; then paying 1, 3, 6 and 12 months from it


CASES = [
    Case("petani", "self", 1_000_000, False, M(2026, 12), (8_400, 8_400, 42_000, 92_400, 193_200)),
    Case("petani", "self", 1_000_000, True, M(2026, 12), (28_400, 28_400, 102_000, 212_400, 433_200)),
    Case("petani", "self", 1_000_000, False, M(2027, 1), (16_800, 16_800, 50_400, 100_800, 201_600)),  # relief over
    Case("petani", "self", 1_000_000, True, M(2027, 1), (36_800, 36_800, 110_400, 220_800, 441_600)),
    Case("petani", "self", 1_000_000, False, M(2026, 3), (16_800, 16_800, 33_600, 58_800, 126_000)),  # before it
    # Rp2.000.000 with JHT: JKK 20,000 + JKM 6,800 halved = 13,400, JHT 40,000; from January 66,800.
    Case("petani", "self", 2_000_000, True, M(2026, 11), (53_400, 53_400, 173_600, 374_000, 774_800)),
    # Rp1.500.000 without JHT: (15,000 + 6,800) halved = 10,900; from January 21,800.
    Case("nelayan", "sponsor", 1_500_000, False, M(2026, 12), (10_900, 10_900, 54_500, 119_900, 250_700)),
    Case("petani", "self", 500_000, False, M(2026, 12), (8_400, 8_400, 42_000, 92_400, 193_200)),  # below the minimum
    Case("pengemudi", "self", 1_000_000, False, M(2027, 1), (8_400, 8_400, 25_200, 75_600, 176_400)),
    Case("pengemudi", "self", 1_000_000, True, M(2027, 3), (28_400, 28_400, 102_000, 212_400, 433_200)),
    Case("pengemudi", "family", 1_000_000, False, M(2027, 4), (16_800, 16_800, 50_400, 100_800, 201_600)),
    Case(
        "pegawai_syara",
        "regional_government",
        1_000_000,
        False,
        M(2026, 12),
        (16_800, 16_800, 50_400, 100_800, 201_600),
    ),
    Case(
        "pegawai_syara", "central_government", 1_000_000, True, M(2026, 12), (36_800, 36_800, 110_400, 220_800, 441_600)
    ),
    Case("petani", "village_fund", 1_000_000, False, M(2026, 6), (16_800, 16_800, 50_400, 100_800, 201_600)),
    Case("pengemudi", "regional_government", 1_000_000, False, M(2027, 1), (16_800, 16_800, 50_400, 100_800, 201_600)),
    # A company's CSR or Baznas is no public money: the relief applies.
    Case("petani", "institution", 1_000_000, False, M(2026, 12), (8_400, 8_400, 42_000, 92_400, 193_200)),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.occupation}-{c.payer}-{c.income}-{c.jht}-{c.first}")
def test_what_each_member_pays(case: Case) -> None:
    tariffs = default_tariffs()
    member = {"occupation": case.occupation, "payer": case.payer}
    monthly, *periods = case.amounts
    assert tariffs.monthly(case.first, **member, declared_income=case.income, with_jht=case.jht) == monthly
    paid = [
        tariffs.for_months(case.first, months, **member, declared_income=case.income, with_jht=case.jht)
        for months in (1, 3, 6, 12)
    ]
    assert paid == periods


def test_the_minimum_income_is_the_datas() -> None:
    assert default_tariffs().income.minimum == 1_000_000
    assert default_tariffs().income.priced(0) == 1_000_000
    assert default_tariffs().income.priced(1_750_000) == 1_750_000  # no band table in the data: priced as declared


def test_an_income_is_priced_at_its_band_when_the_data_has_bands(tmp_path: Path) -> None:
    # Made-up bands, to test the rounding only: the data file holds no table until its source is found.
    source = (Path(__file__).parents[2] / "domain" / "data" / "tariffs.toml").read_text()
    assert "bands = []" in source
    banded = tmp_path / "tariffs.toml"
    banded.write_text(source.replace("bands = []", "bands = [2000000, 1000000, 1500000]"))
    tariffs = load_tariffs(banded)
    assert [tariffs.income.priced(i) for i in (400_000, 1_000_000, 1_499_999, 1_500_000, 1_900_000, 9_000_000)] == [
        1_000_000,
        1_000_000,
        1_000_000,
        1_500_000,
        1_500_000,
        2_000_000,
    ]
    # Rp1.900.000 pays as Rp1.500.000: JKK 15,000 + JKM 6,800 + JHT 30,000 in January 2027.
    assert tariffs.monthly(M(2027, 1), occupation="petani", payer="self", declared_income=1_900_000, with_jht=True) == (
        51_800
    )


@pytest.mark.parametrize(
    ("typed", "income"),
    [
        ("1 juta", 1_000_000),
        ("1,5 juta", 1_500_000),
        ("1.5jt", 1_500_000),
        ("1,25 jt", 1_250_000),
        ("1500 ribu", 1_500_000),
        ("1500rb", 1_500_000),
        ("1500k", 1_500_000),
        ("1500000", 1_500_000),
        ("1.500.000", 1_500_000),
        ("1,500,000", 1_500_000),
        ("Rp1.500.000", 1_500_000),
        ("Rp. 2.000.000", 2_000_000),
        ("2 juta per bulan", 2_000_000),
        ("2", 2_000_000),
        ("2,5", 2_500_000),
        ("1.500", 1_500),  # thousands grouping: too little, which the dialog says
        ("banyak", None),
        ("1.2.3", None),
        ("", None),
    ],
)
def test_incomes_as_people_type_them(typed: str, income: int | None) -> None:
    assert parse_income(typed) == income
