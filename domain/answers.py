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


# "I don't know" or "there is none", for a question that may be skipped (the KPJ, a sponsor's name, the last month
# paid): the answer is the skip, not a refusal.
DONT_KNOW_WORDS = ("tidak tahu", "tidak tau", "tdk tau", "tdk tahu", "nda tau", "nda tahu", "ndak tau", "ndak tahu",
                   "gak tau", "ga tau", "nggak tahu", "lupa", "sudah lupa", "lupa mi", "tidak ingat",
                   "nda ingat", "tidak ada", "nda ada", "ndak ada", "belum ada", "tidak punya", "belum punya",
                   "de' gaga", "lewati", "lewat", "skip")  # fmt: skip
_DONT_KNOW = {_key(word) for word in DONT_KNOW_WORDS}


def dont_know(text: str) -> bool:
    """The person does not know, or there is none ("nda tau", "lupa mi", "tidak ada pak")."""
    return _key(text) in _DONT_KNOW


def yes_or_no(text: str) -> bool | None:
    """True for a yes, False for a no, None for anything else (an answer to some other question, or nonsense).
    A phrase of the table, or yes words only ("iye betul", "oke siap"), or no words only ("nda nda")."""
    key = _key(text)
    if key in _MEANING:
        return _MEANING[key]
    meanings = {_MEANING.get(word) for word in key.split()}
    return meanings.pop() if len(meanings) == 1 else None


# Words that work as commands when typed (WhatsApp has no slash commands; Telegram and the terminal take them too),
# each → the slash command it means. The dialog decides whether one acts: only when the text cannot answer the open
# question, and staff words only for chats whose role may use them (otherwise they are ordinary text).
COMMAND_WORDS: dict[str, str] = {
    "daftar": "daftar", "menu": "start", "status": "status", "ubah": "ubah", "hapus": "hapus", "batal": "batal",
    "ulang": "ulang", "kembali": "kembali", "bantuan": "bantuan", "tolong": "bantuan",
    "berhenti": "berhenti", "stop": "berhenti", "mulai": "mulai", "sudah bayar": "sudah_bayar",
    # staff: officers and coordinators (bot/dialogs/dialog.py), admins and coordinators (bot/dialogs/admin.py)
    "cari": "cari", "rekap": "rekap", "peserta baru": "peserta_baru", "eskalasi": "eskalasi",
    "petugas": "petugas", "peserta": "peserta", "bayar": "bayar", "statistik": "statistik", "siaran": "siaran",
    "impor": "impor", "ekspor": "ekspor", "jeda": "jeda", "lanjut": "lanjut", "audit": "audit",
}  # fmt: skip
# Acting at once on a typed word with consequences (no more reminders, a payment): only as the whole message.
WHOLE_MESSAGE_ONLY = frozenset({"berhenti", "mulai", "sudah_bayar"})

_COMMAND_WORD = re.compile(
    r"^(" + "|".join(w.replace(" ", r"\s+") for w in sorted(COMMAND_WORDS, key=len, reverse=True)) + r")(?=$|[\s:.!?])",
    re.IGNORECASE,
)


def command_word(text: str) -> tuple[str, str] | None:
    """The command a typed message names and its arguments ("cari baco" → ("cari", "baco")), or None.
    A command word is the whole message (a final "." or "!" forgiven) or its first word(s) followed by arguments."""
    stripped = text.strip()
    match = _COMMAND_WORD.match(stripped)
    if match is None:
        return None
    command = COMMAND_WORDS[" ".join(match.group(1).casefold().split())]
    rest = stripped[match.end() :]
    args = "" if not rest.strip(" .!?") else rest.strip()
    if args and command in WHOLE_MESSAGE_ONLY:
        return None
    return command, args


def is_command_word(text: str) -> bool:
    """The whole message is a command word ("Batal", "status!"): never a name."""
    found = command_word(text)
    return found is not None and not found[1]


# How many months someone paid for, as they say it: "2", "2 bulan", "dua bulan", "2 bln", "sebulan", "setahun".
MAX_PAID_MONTHS = 12  # one report covers at most a year ahead
_NUMBER_WORDS = {"satu": 1, "se": 1, "dua": 2, "tiga": 3, "empat": 4, "lima": 5, "enam": 6, "tujuh": 7,
                 "delapan": 8, "sembilan": 9, "sepuluh": 10, "sebelas": 11, "dua belas": 12}  # fmt: skip
_MONTHS_SAID = re.compile(r"^(.+?)\s*(?:bulan|bln|bl)?(?:\s+(?:saja|sekaligus))?$")


def months_said(text: str) -> int | None:
    """A number of months from 1 to `MAX_PAID_MONTHS` ("dua bulan" → 2, "setahun" → 12), or None."""
    cleaned = " ".join(_WORD.findall(text.casefold().replace("sebulan", "se bulan")))
    if cleaned in {"setahun", "satu tahun", "1 tahun"}:
        return MAX_PAID_MONTHS
    found = _MONTHS_SAID.match(cleaned)
    if found is None:
        return None
    said = found.group(1)
    months = int(said) if said.isdecimal() else _NUMBER_WORDS.get(said)
    return months if months is not None and 1 <= months <= MAX_PAID_MONTHS else None
