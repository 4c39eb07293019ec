"""Occupations as members and branches write them ("Tukang Ojek", "PETANI/PEKEBUN", "Imam Desa"), and the one
`Occupation` each means: a single table for the import's "Pekerjaan" column and the registration dialog.

The occupation decides which PP 50/2025 relief period applies (domain/data/tariffs.toml): transport workers — ojek
(pangkalan and online), drivers and couriers, here `pengemudi` — have JKK + JKM halved for January 2026–March 2027,
the other BPU occupations for April–December 2026. A word missing here therefore costs a member money: an ojek driver
read as `lainnya` is told Rp16.800 for January 2027 instead of Rp8.400.
"""

from __future__ import annotations

from domain.names import Phrases
from domain.vocabulary import Occupation

_PETANI, _PEKEBUN, _PETERNAK, _NELAYAN = Occupation.PETANI, Occupation.PEKEBUN, Occupation.PETERNAK, Occupation.NELAYAN
_BURUH_TANI, _SYARA, _PEDAGANG = Occupation.BURUH_TANI, Occupation.PEGAWAI_SYARA, Occupation.PEDAGANG
_PENGEMUDI, _LAINNYA = Occupation.PENGEMUDI, Occupation.LAINNYA

# Phrase → occupation. Matching is by words, longest phrase first, so "buruh tani" is not read as "tani". The labels
# of the KTP's occupation list ("PETANI/PEKEBUN", "NELAYAN/PERIKANAN", "BURUH TANI/PERKEBUNAN") are phrases too.
OCCUPATION_WORDS: dict[str, Occupation] = {
    "tani": _PETANI, "petani": _PETANI, "bertani": _PETANI, "pertanian": _PETANI, "petani sawah": _PETANI,
    "petani padi": _PETANI, "petani jagung": _PETANI, "petani pekebun": _PETANI, "penggarap": _PETANI,
    "pekebun": _PEKEBUN, "berkebun": _PEKEBUN, "kebun": _PEKEBUN, "perkebunan": _PEKEBUN, "petani kebun": _PEKEBUN,
    "petani kakao": _PEKEBUN, "petani cengkeh": _PEKEBUN,
    "peternak": _PETERNAK, "ternak": _PETERNAK, "beternak": _PETERNAK, "peternakan": _PETERNAK,
    "nelayan": _NELAYAN, "perikanan": _NELAYAN, "nelayan perikanan": _NELAYAN, "buruh nelayan": _NELAYAN,
    "petambak": _NELAYAN, "tambak": _NELAYAN, "pembudidaya ikan": _NELAYAN, "penangkap ikan": _NELAYAN,
    "buruh tani": _BURUH_TANI, "buruh tani perkebunan": _BURUH_TANI, "buruh kebun": _BURUH_TANI,
    "buruh perkebunan": _BURUH_TANI, "buruh sawah": _BURUH_TANI,
    "imam": _SYARA, "imam masjid": _SYARA, "imam desa": _SYARA, "pegawai syara": _SYARA, "pegawai syarak": _SYARA,
    "syara": _SYARA, "syarak": _SYARA, "guru mengaji": _SYARA, "guru ngaji": _SYARA, "khatib": _SYARA,
    "katte": _SYARA, "bilal": _SYARA, "muazin": _SYARA, "muadzin": _SYARA, "marbot": _SYARA, "marbut": _SYARA,
    "doja": _SYARA, "amil": _SYARA, "penjaga masjid": _SYARA, "pengurus masjid": _SYARA, "ustadz": _SYARA,
    "pedagang": _PEDAGANG, "dagang": _PEDAGANG, "berdagang": _PEDAGANG, "pedagang kecil": _PEDAGANG,
    "pedagang keliling": _PEDAGANG, "penjual": _PEDAGANG, "jualan": _PEDAGANG, "warung": _PEDAGANG,
    "pemilik warung": _PEDAGANG, "pedagang kaki lima": _PEDAGANG, "pkl": _PEDAGANG,
    "ojek": _PENGEMUDI, "tukang ojek": _PENGEMUDI, "ojol": _PENGEMUDI, "ojek online": _PENGEMUDI,
    "ojek pangkalan": _PENGEMUDI, "opang": _PENGEMUDI, "sopir": _PENGEMUDI, "supir": _PENGEMUDI,
    "pengemudi": _PENGEMUDI, "driver": _PENGEMUDI, "kurir": _PENGEMUDI, "sopir angkot": _PENGEMUDI,
    "angkot": _PENGEMUDI, "bentor": _PENGEMUDI, "becak motor": _PENGEMUDI, "tukang becak": _PENGEMUDI,
    "becak": _PENGEMUDI, "transportasi": _PENGEMUDI, "pengemudi ojek": _PENGEMUDI,
    "lainnya": _LAINNYA, "lain lain": _LAINNYA, "lain": _LAINNYA, "wiraswasta": _LAINNYA,
    "buruh harian lepas": _LAINNYA,
}  # fmt: skip
_PHRASES = Phrases(OCCUPATION_WORDS)


def occupation_of(text: str) -> Occupation | None:
    """The occupation `text` names ("Tukang Ojek" → pengemudi); None when it names none, or two that differ."""
    return _PHRASES.meaning(text)
