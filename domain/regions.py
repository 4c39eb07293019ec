"""Kemendagri region codes: the Sulawesi Selatan table shipped with the project, and the few facts about other
provinces a NIK or a time zone needs."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo

from domain.names import match_names

# Province codes in use on NIKs (Kemendagri). 91/92 are also found on cards issued before the 2022 Papua split.
PROVINCE_TIMEZONES: dict[str, str] = {
    **dict.fromkeys(
        [
            "11",
            "12",
            "13",
            "14",
            "15",
            "16",
            "17",
            "18",
            "19",
            "21",
            "31",
            "32",
            "33",
            "34",
            "35",
            "36",
            "61",
            "62",
        ],
        "Asia/Jakarta",
    ),
    **dict.fromkeys(
        ["51", "52", "53", "63", "64", "65", "71", "72", "73", "74", "75", "76"],
        "Asia/Makassar",
    ),
    **dict.fromkeys(["81", "82", "91", "92", "93", "94", "95", "96"], "Asia/Jayapura"),
}

_CODE = re.compile(r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$")


@dataclass(frozen=True, slots=True)
class Region:
    code: str
    name: str

    @property
    def level(self) -> int:
        """1 province, 2 kabupaten/kota, 3 kecamatan, 4 desa/kelurahan."""
        return self.code.count(".") + 1

    @property
    def parent_code(self) -> str:
        return self.code.rsplit(".", 1)[0]


class RegionIndex:
    """Look-ups over one region table; built once and shared read-only."""

    def __init__(self, regions: Iterable[Region]) -> None:
        self._by_code: dict[str, Region] = {}
        self._children: dict[str, list[Region]] = {}
        for region in regions:
            if not _CODE.match(region.code):
                raise ValueError(f"bad region code {region.code!r}")
            self._by_code[region.code] = region
            if region.level > 1:
                self._children.setdefault(region.parent_code, []).append(region)
        for children in self._children.values():
            children.sort(key=lambda r: r.name)

    def get(self, code: str) -> Region | None:
        return self._by_code.get(code)

    def name(self, code: str) -> str:
        region = self._by_code.get(code)
        return region.name if region else code

    def children(self, code: str) -> Sequence[Region]:
        return self._children.get(code, ())

    def kecamatan_in(self, area: Sequence[str]) -> list[Region]:
        """Every kecamatan of the service area (kabupaten or kecamatan codes), in area order then by name."""
        found: list[Region] = []
        for code in area:
            region = self._by_code.get(code)
            if region is None:
                continue
            if region.level == 2:
                found.extend(self.children(code))
            elif region.level == 3:
                found.append(region)
        return found

    def knows_kabupaten(self, code: str) -> bool:
        region = self._by_code.get(code)
        return region is not None and region.level == 2

    def covers_province(self, province_code: str) -> bool:
        return province_code in self._by_code

    @staticmethod
    def match(text: str, candidates: Sequence[Region]) -> list[Region]:
        """Candidates whose name matches typed text forgivingly."""
        return [candidates[i] for i in match_names(text, [r.name for r in candidates])]


def timezone_for(code: str, default: str = "Asia/Makassar") -> ZoneInfo:
    """The zone a region lives in, from its province code (WIB/WITA/WIT)."""
    return ZoneInfo(PROVINCE_TIMEZONES.get(code[:2], default))


@cache
def sulawesi_selatan() -> RegionIndex:
    """The shipped Kemendagri table for province 73 (see domain/data/ATTRIBUTION.md)."""
    source = resources.files("domain") / "data" / "wilayah_73_sulawesi_selatan.csv"
    with source.open(encoding="utf-8") as handle:
        return RegionIndex(Region(row["kode"], row["nama"]) for row in csv.DictReader(handle))


def inside(code: str, area: Sequence[str]) -> bool:
    """Whether a kecamatan or desa code lies in an area given as kecamatan and/or desa codes."""
    return any(code == a or code.startswith(f"{a}.") for a in area)
