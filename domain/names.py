"""Forgiving comparison of typed names with known ones (villages, options, spreadsheet headers)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from typing import Generic, TypeVar


def normalize_name(text: str) -> str:
    """Lower-case letters and digits only, so 'Donri donri', 'DONRI-DONRI' and 'donridonri' compare equal."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


def match_names(text: str, names: Sequence[str]) -> list[int]:
    """Indexes of `names` matching `text`: exact, else prefix, else substring, else close spelling."""
    wanted = normalize_name(text)
    if not wanted:
        return []
    keyed = [normalize_name(name) for name in names]
    for accepts in (
        lambda n: n == wanted,
        lambda n: len(wanted) >= 3 and n.startswith(wanted),
        lambda n: len(wanted) >= 4 and wanted in n,
    ):
        hits = [index for index, name in enumerate(keyed) if accepts(name)]
        if hits:
            return hits
    close = set(difflib.get_close_matches(wanted, keyed, n=5, cutoff=0.75))
    return [index for index, name in enumerate(keyed) if name in close]


_WORD = re.compile(r"[a-z0-9]+")
T = TypeVar("T")


def words(text: str) -> tuple[str, ...]:
    """A cell or a header as words: lower case, split at anything but letters and digits ("No. HP / WA" → no hp wa)."""
    return tuple(_WORD.findall(text.lower()))


class Phrases(Generic[T]):
    """Known phrases of a few words each and what each means, found inside free text as people write it: "Tukang
    Ojek", "APBD Kab. Sidrap", "CSR PT Semen Tonasa". The longest phrase at each place wins ("buruh tani" is not
    "tani"); a word of five letters or more that no phrase starts with may be a misspelling of a one-word phrase
    ("pedangang")."""

    def __init__(self, table: Mapping[str, T]) -> None:
        self._by_words = {words(phrase): meaning for phrase, meaning in table.items()}
        self._longest = max((len(key) for key in self._by_words), default=0)
        self._single = [key[0] for key in self._by_words if len(key) == 1]
        self._cache: dict[str, tuple[T, ...]] = {}  # a file repeats the same few values thousands of times

    def found(self, text: str) -> tuple[T, ...]:
        """The meanings of the phrases in `text`, left to right."""
        if text not in self._cache:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[text] = self._find(words(text))
        return self._cache[text]

    def _find(self, tokens: tuple[str, ...]) -> tuple[T, ...]:
        meanings: list[T] = []
        start = 0
        while start < len(tokens):
            for size in range(min(self._longest, len(tokens) - start), 0, -1):
                meaning = self._by_words.get(tokens[start : start + size])
                if meaning is not None:
                    meanings.append(meaning)
                    start += size
                    break
            else:
                close = self._misspelt(tokens[start])
                if close is not None:
                    meanings.append(close)
                start += 1
        return tuple(meanings)

    def _misspelt(self, word: str) -> T | None:
        if len(word) < 5 or word.isdigit():
            return None
        close = difflib.get_close_matches(word, self._single, n=1, cutoff=0.85)
        return self._by_words[(close[0],)] if close else None

    def meaning(self, text: str) -> T | None:
        """The one thing `text` means; None when it names nothing known, or two different things ("APBD/Mandiri")."""
        distinct = set(self.found(text))
        return distinct.pop() if len(distinct) == 1 else None
