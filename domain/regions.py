"""Kemendagri region codes: the Sulawesi Selatan table shipped with the project, and the few facts about other
provinces a NIK or a time zone needs."""

from __future__ import annotations

import csv
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo

from domain.names import match_names, normalize_name

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
# The kind of place people type before its name ("Desa Pesse", "Kec. Lalabata", "Kab. Soppeng"): not part of it.
_KIND_WORD = re.compile(r"^\s*(?:desa|ds|kelurahan|kel|kecamatan|kec|kabupaten|kab|kota)\b[\s.:]*(?=\S)", re.IGNORECASE)


def without_kind_word(text: str) -> str:
    """Typed text without a leading "Desa", "Kel.", "Kec.", "Kab." or "Kota"."""
    return _KIND_WORD.sub("", text, count=1)


@dataclass(frozen=True, slots=True)
class Found:
    """What typed text names among some regions. `exact`: a name equal to it (case, spaces and punctuation aside),
    safe to take at once; else the close ones (a prefix, a typo), to be confirmed or chosen from."""

    regions: list[Region]
    exact: bool


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

    def __init__(
        self,
        regions: Iterable[Region],
        *,
        short_forms: Mapping[str, str] | None = None,
        towns: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
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
        self._kabupaten: dict[str, Region] = {}
        self._towns: dict[str, tuple[Region, ...]] = {}
        self._learn_names(short_forms or {}, towns or {})

    def _learn_names(self, short_forms: Mapping[str, str], towns: Mapping[str, Sequence[str]]) -> None:
        """Kabupaten by their names without "Kabupaten"/"Kota" and by their short forms ("Sidrap"); towns' desa."""
        for region in self._by_code.values():
            if region.level == 2:
                bare = region.name.removeprefix("Kabupaten ").removeprefix("Kota ")
                self._kabupaten[normalize_name(bare)] = region
        for name, code in short_forms.items():
            if code in self._by_code:
                self._kabupaten[normalize_name(name)] = self._by_code[code]
        for name, codes in towns.items():
            known = tuple(sorted((self._by_code[c] for c in codes if c in self._by_code), key=lambda r: r.name))
            if known:
                self._towns[normalize_name(name)] = known

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

    @staticmethod
    def find(text: str, candidates: Sequence[Region]) -> Found:
        """The candidates typed text names: the exact names if any, else the close ones (`match`'s prefix, part or
        spelling), so that a caller can take an exact name and confirm a close one ("leworen": Leworeng?)."""
        name = without_kind_word(text)
        wanted = normalize_name(name)
        exact = [r for r in candidates if wanted and normalize_name(r.name) == wanted]
        return Found(exact, True) if exact else Found(RegionIndex.match(name, candidates), False)

    def kabupaten_named(self, text: str) -> Region | None:
        """The kabupaten/kota typed text names: "Soppeng", "Kab. Soppeng", "Sidrap", "Sidenreng Rappang"."""
        return self._kabupaten.get(normalize_name(without_kind_word(text)))

    def town(self, text: str) -> tuple[Region, ...]:
        """The desa/kelurahan a town's name stands for ("Watansoppeng": the kelurahan of Lalabata); () if none."""
        return self._towns.get(normalize_name(without_kind_word(text)), ())


def timezone_for(code: str, default: str = "Asia/Makassar") -> ZoneInfo:
    """The zone a region lives in, from its province code (WIB/WITA/WIT)."""
    return ZoneInfo(PROVINCE_TIMEZONES.get(code[:2], default))


@cache
def sulawesi_selatan() -> RegionIndex:
    """The shipped Kemendagri table for province 73 (see domain/data/ATTRIBUTION.md), with the other names people
    use for its places (domain/data/place_names.toml)."""
    data = resources.files("domain") / "data"
    other_names = tomllib.loads((data / "place_names.toml").read_text(encoding="utf-8"))
    with (data / "wilayah_73_sulawesi_selatan.csv").open(encoding="utf-8") as handle:
        return RegionIndex(
            (Region(row["kode"], row["nama"]) for row in csv.DictReader(handle)),
            short_forms=other_names.get("kabupaten", {}),
            towns=other_names.get("town", {}),
        )


def inside(code: str, area: Sequence[str]) -> bool:
    """Whether a kecamatan or desa code lies in an area given as kecamatan and/or desa codes."""
    return any(code == a or code.startswith(f"{a}.") for a in area)
