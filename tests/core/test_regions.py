"""Region table look-ups and forgiving name matching."""

from __future__ import annotations

import pytest

from domain.regions import RegionIndex, timezone_for


def test_shipped_table_has_the_service_area(regions: RegionIndex) -> None:
    assert regions.name("73.12") == "Kabupaten Soppeng"
    assert regions.name("73.14") == "Kabupaten Sidenreng Rappang"
    kecamatan = regions.kecamatan_in(("73.12", "73.14"))
    assert {k.code[:5] for k in kecamatan} == {"73.12", "73.14"}
    assert all(k.level == 3 for k in kecamatan)
    assert all(d.level == 4 for k in kecamatan for d in regions.children(k.code))


def test_area_may_name_single_kecamatan(regions: RegionIndex) -> None:
    assert [k.name for k in regions.kecamatan_in(("73.12.06", "73.99"))] == ["Donri-Donri"]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Donri-Donri", ["Donri-Donri"]),
        ("donri donri", ["Donri-Donri"]),
        ("DONRIDONRI", ["Donri-Donri"]),
        ("lilirlau", ["Lilirilau"]),  # a letter missing
        ("marioriwawo", ["Marioriwawo"]),
        ("mario", ["Marioriawa", "Marioriwawo"]),  # ambiguous prefix: both offered
        ("xyz", []),
        ("", []),
    ],
)
def test_match_kecamatan(regions: RegionIndex, typed: str, expected: list[str]) -> None:
    soppeng = regions.kecamatan_in(("73.12",))
    assert sorted(r.name for r in regions.match(typed, soppeng)) == expected


def test_timezones_follow_the_province_code() -> None:
    assert str(timezone_for("73.12.06.2001")) == "Asia/Makassar"
    assert str(timezone_for("31.71")) == "Asia/Jakarta"
    assert str(timezone_for("94.01")) == "Asia/Jayapura"
