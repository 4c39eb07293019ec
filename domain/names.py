"""Forgiving comparison of typed names with known ones (villages, options, spreadsheet headers)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence


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
