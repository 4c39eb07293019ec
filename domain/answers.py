"""Yes and no as people type them ("iye", "ok!", "nda mau"): one table for every yes/no question of the dialogs.

"Iye" and "iyye" are how South Sulawesi says yes; "nda"/"ndak" its no, "de'" the Bugis no and "tena" the
Makassar one; "tabe'" (by your leave) opens a polite answer. Matching forgives case, punctuation,
repeated letters ("iyaaa", "nggak"), a polite address at the end ("iye pak") and yes words together ("iye
betul"); never a different word.
"""

from __future__ import annotations

import re

YES_WORDS = ("ya", "iya", "iye", "iyye", "iyo", "ok", "oke", "okey", "boleh", "setuju", "betul", "benar",
             "ya setuju", "iya setuju", "sip", "siap", "oke deh")  # fmt: skip
NO_WORDS = ("tidak", "tdk", "nda", "ndak", "nggak", "gak", "ga", "jangan", "tidak setuju", "nda mau", "tidak mau",
            "ndak mau", "gak mau", "tidak usah", "nda usah", "de'", "tena")  # fmt: skip
_POLITE = {"pak", "bu", "bapak", "ibu", "puang", "kak", "dik", "ndi"}  # "iye puang": the yes is the first words
_OPENING = {"tabe"}  # "tabe', iye": the answer follows

_REPEATS = re.compile(r"([^\W\d_])\1+")
_WORD = re.compile(r"[^\W_]+")


def _key(text: str) -> str:
    words = _WORD.findall(_REPEATS.sub(r"\1", text.casefold()))
    while words and words[-1] in _POLITE:
        words.pop()
    while words and words[0] in _OPENING:
        words.pop(0)
    return " ".join(words)


_MEANING = {_key(word): True for word in YES_WORDS} | {_key(word): False for word in NO_WORDS}


def yes_or_no(text: str) -> bool | None:
    """True for a yes, False for a no, None for anything else (an answer to some other question, or nonsense).
    A phrase of the table, or yes words only ("iye betul", "oke siap"), or no words only ("nda nda")."""
    key = _key(text)
    if key in _MEANING:
        return _MEANING[key]
    meanings = {_MEANING.get(word) for word in key.split()}
    return meanings.pop() if len(meanings) == 1 else None
