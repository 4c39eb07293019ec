"""Contribution calendar: next month owed, due date, standing — across month and year ends."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from domain.rules import (
    ContributionMonth,
    Standing,
    coverage,
    current_stage,
    lapse_date,
    parse_quiet_periods,
    parse_stages,
    quiet_until,
)
from domain.tariffs import default_tariffs


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (ContributionMonth(2026, 11), 1, ContributionMonth(2026, 12)),
        (ContributionMonth(2026, 12), 1, ContributionMonth(2027, 1)),
        (ContributionMonth(2027, 1), -1, ContributionMonth(2026, 12)),
        (ContributionMonth(2026, 3), 12, ContributionMonth(2027, 3)),
    ],
)
def test_month_arithmetic(start: ContributionMonth, months: int, expected: ContributionMonth) -> None:
    assert start.plus(months) == expected
    assert expected.minus(start) == months


def test_due_day_is_clamped_to_short_months() -> None:
    assert ContributionMonth(2027, 2).due_date(31) == date(2027, 2, 28)
    assert ContributionMonth(2026, 12).last_day == date(2026, 12, 31)


@pytest.mark.parametrize(
    ("covered_until", "today", "standing", "next_month", "unpaid"),
    [
        (date(2026, 11, 30), date(2026, 11, 23), Standing.ACTIVE, ContributionMonth(2026, 12), 0),
        (date(2026, 10, 31), date(2026, 11, 15), Standing.ACTIVE, ContributionMonth(2026, 11), 0),  # due today
        # 15 November 2026 is a Sunday: Monday the 16th is the effective deadline, late from the 17th
        (date(2026, 10, 31), date(2026, 11, 16), Standing.ACTIVE, ContributionMonth(2026, 11), 0),
        (date(2026, 10, 31), date(2026, 11, 17), Standing.ARREARS, ContributionMonth(2026, 11), 1),
        (date(2026, 11, 30), date(2027, 1, 16), Standing.ARREARS, ContributionMonth(2026, 12), 2),
        (date(2026, 10, 31), date(2027, 1, 16), Standing.LAPSED, ContributionMonth(2026, 11), 3),
        (date(2026, 12, 31), date(2027, 1, 1), Standing.ACTIVE, ContributionMonth(2027, 1), 0),
    ],
)
def test_coverage(
    covered_until: date, today: date, standing: Standing, next_month: ContributionMonth, unpaid: int
) -> None:
    result = coverage(covered_until, today)
    assert (result.standing, result.next_month, result.months_unpaid) == (standing, next_month, unpaid)
    assert result.due == next_month.due_date(15)


def test_unknown_coverage() -> None:
    assert coverage(None, date(2026, 11, 23)).standing is Standing.UNKNOWN


# --- tariffs (data, with validity periods) ---

M = ContributionMonth


@pytest.mark.parametrize(
    ("month", "occupation", "payer", "amount"),
    [
        (M(2026, 3), "petani", "self", 16_800),  # before the relief
        (M(2026, 4), "petani", "self", 8_400),  # PP 50/2025 halves JKK + JKM
        (M(2026, 12), "petani", "self", 8_400),
        (M(2027, 1), "petani", "self", 16_800),  # relief over for farmers
        (M(2026, 1), "pengemudi", "self", 8_400),  # transport workers from January 2026 …
        (M(2027, 3), "pengemudi", "self", 8_400),  # … to March 2027
        (M(2027, 4), "pengemudi", "self", 16_800),
        (M(2026, 12), "petani", "regional_government", 16_800),  # paid from APBD: no relief
        (M(2026, 12), "nelayan", "sponsor", 8_400),
        (M(2026, 12), "pegawai_syara", "family", 8_400),
    ],
)
def test_monthly_tariff(month: ContributionMonth, occupation: str, payer: str, amount: int) -> None:
    assert default_tariffs().monthly(month, occupation=occupation, payer=payer) == amount


def test_jht_is_optional_and_never_halved() -> None:
    tariffs = default_tariffs()
    assert tariffs.monthly(M(2027, 1), occupation="petani", payer="self", with_jht=True) == 16_800 + 20_000
    assert tariffs.monthly(M(2026, 12), occupation="petani", payer="self", with_jht=True) == 8_400 + 20_000
    # A higher declared income raises JKK and JHT, not JKM.
    assert tariffs.monthly(M(2027, 1), occupation="petani", payer="self", declared_income=2_000_000) == 26_800


@pytest.mark.parametrize(
    ("first", "months", "amount"),
    [
        (M(2026, 12), 1, 8_400),
        (M(2026, 12), 3, 8_400 + 16_800 + 16_800),  # December 2026 + January and February 2027 differ
        (M(2026, 10), 3, 3 * 8_400),
        (M(2026, 7), 12, 6 * 8_400 + 6 * 16_800),
        (M(2026, 1), 6, 3 * 16_800 + 3 * 8_400),
    ],
)
def test_amount_for_a_period_sums_each_months_tariff(first: ContributionMonth, months: int, amount: int) -> None:
    assert default_tariffs().for_months(first, months, occupation="petani", payer="self") == amount


# --- stages ---


EVERY_KIND = "H-7,H-3,H-1,H0,H+7,H+30,L-14,L0"  # the stage list before the monthly cap: one of each kind


def test_stage_days_across_month_and_year_ends() -> None:
    stages = {s.code: s for s in parse_stages(EVERY_KIND)}
    december = M(2026, 12)
    assert stages["H-7"].day(december) == date(2026, 12, 8)
    assert stages["H0"].day(december) == date(2026, 12, 15)
    assert stages["H+30"].day(december) == date(2027, 1, 14)
    # Unpaid December, January, February: non-active from 16 February 2027.
    assert lapse_date(december) == date(2027, 2, 16)
    assert stages["L-14"].day(december) == date(2027, 2, 2)
    assert stages["L0"].day(december) == date(2027, 2, 16)
    assert stages["H-1"].day(M(2027, 1), due_day=1) == date(2026, 12, 31)


def test_current_stage_is_the_latest_reached() -> None:
    stages = parse_stages(EVERY_KIND)
    december = M(2026, 12)
    assert current_stage(stages, december, date(2026, 12, 7)) is None
    reached = current_stage(stages, december, date(2026, 12, 8))
    assert reached is not None
    assert reached[1].code == "H-7"
    after_outage = current_stage(stages, december, date(2026, 12, 18))  # H-3, H-1 and H0 all passed
    assert after_outage is not None
    assert after_outage[1].code == "H0"


@pytest.mark.parametrize("text", ["H-7,X3", "H-7,H-7", "", "H7d"])
def test_bad_stage_lists_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="stage"):
        parse_stages(text)


# --- quiet periods ---

WITA = ZoneInfo("Asia/Makassar")


def test_quiet_periods_weekly_and_whole_days() -> None:
    periods = parse_quiet_periods("Jum 11:30-13:30; 2027-03-09..2027-03-11")
    friday_noon = datetime(2026, 12, 11, 12, 0, tzinfo=WITA)
    assert quiet_until(periods, friday_noon) == datetime(2026, 12, 11, 13, 30, tzinfo=WITA)
    assert quiet_until(periods, datetime(2026, 12, 11, 13, 30, tzinfo=WITA)) is None
    assert quiet_until(periods, datetime(2026, 12, 10, 12, 0, tzinfo=WITA)) is None  # Thursday
    assert quiet_until(periods, datetime(2027, 3, 10, 9, 0, tzinfo=WITA)) == datetime(2027, 3, 12, 0, 0, tzinfo=WITA)


@pytest.mark.parametrize("text", ["Jumat 13:00-11:00", "Xyz 10:00-11:00", "2027-03-11..2027-03-09", "kapan-kapan"])
def test_bad_quiet_periods_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="quiet period"):
        parse_quiet_periods(text)
