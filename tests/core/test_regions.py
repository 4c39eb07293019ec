"""Region table look-ups and forgiving name matching."""

from __future__ import annotations

import tomllib
from importlib import resources

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


# --- other names for places (domain/data/place_names.toml), exact against close (issue 14, point 1) ---


@pytest.mark.parametrize(
    ("typed", "exact", "expected"),
    [
        ("Pesse", True, ["Pesse"]),
        ("PESSE.", True, ["Pesse"]),
        ("Desa Pesse", True, ["Pesse"]),
        ("pese", False, ["Pesse"]),  # a letter missing
        ("leworen", False, ["Leworeng"]),  # the last letter missing: a prefix, still not the name
        ("xyz", False, []),
    ],
)
def test_find_says_whether_the_name_is_exact(
    regions: RegionIndex, typed: str, exact: bool, expected: list[str]
) -> None:
    found = regions.find(typed, regions.children("73.12.06"))
    assert found.exact is exact
    assert [r.name for r in found.regions] == expected


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("Soppeng", "73.12"),
        ("Kab. Soppeng", "73.12"),
        ("kabupaten soppeng", "73.12"),
        ("Sidrap", "73.14"),
        ("Sidenreng Rappang", "73.14"),
        ("sidenreng-rappang", "73.14"),
        ("Pinrang", "73.15"),
        ("Pangkep", "73.10"),
        ("Kota Parepare", "73.72"),
        ("Pare-Pare", "73.72"),
    ],
)
def test_kabupaten_by_name_and_short_form(regions: RegionIndex, typed: str, code: str) -> None:
    kabupaten = regions.kabupaten_named(typed)
    assert kabupaten is not None
    assert kabupaten.code == code


@pytest.mark.parametrize("typed", ["Donri-Donri", "Pesse", "Sop", "", "Kabupaten"])
def test_other_words_name_no_kabupaten(regions: RegionIndex, typed: str) -> None:
    assert regions.kabupaten_named(typed) is None


def test_watansoppeng_is_the_kelurahan_of_lalabata(regions: RegionIndex) -> None:
    town = regions.town("Watansoppeng")
    lalabata = regions.children("73.12.04")
    assert {r.code for r in town} == {r.code for r in lalabata if r.code.rsplit(".", 1)[1].startswith("1")}
    assert regions.town("watan soppeng") == regions.town("Kota Watansoppeng") == town
    assert regions.town("Lalabata") == ()


def test_every_other_name_points_at_a_known_region(regions: RegionIndex) -> None:
    table = tomllib.loads((resources.files("domain") / "data" / "place_names.toml").read_text(encoding="utf-8"))
    for name, code in table["kabupaten"].items():
        assert regions.knows_kabupaten(code), name
        assert regions.kabupaten_named(name) == regions.get(code)
    for name, codes in table["town"].items():
        assert [regions.get(code) for code in codes if regions.get(code) is None] == [], name
        assert len(regions.town(name)) == len(codes)
