"""What people answer to "which number?": that there is none ("tidak punya hp", "lewati", "nda ada"), and whose
number it is ("anak saya", "istri", "ketua poktan") — one table for the registration dialog.

A bare no ("tidak", "nda", from `domain.answers`) at the phone question means "no phone": nothing else could be
refused there, and registering without a number is allowed.
"""

from __future__ import annotations

from domain.answers import yes_or_no
from domain.names import Phrases, words
from domain.vocabulary import PhoneOwner

# Words around the answer that change nothing: "tidak punya HP, pak", "nomor saya tidak ada".
_FILLER = frozenset(
    {"hp", "hape", "handphone", "ponsel", "telepon", "telpon", "telp", "nomor", "nomer", "no", "wa", "whatsapp",
     "saya", "kami", "dia", "beliau", "peserta", "pak", "bu", "bapak", "ibu", "puang", "kak", "dik", "juga",
     "memang", "sama", "sekali", "masih", "tabe", "yang", "bisa", "dihubungi"}
)  # fmt: skip
_HAVE = frozenset({"punya", "ada", "pakai", "pake", "memiliki", "punyai", "mempunyai", "gaga", "pegang"})
_NOT_YET = frozenset({"belum", "blm", "tak", "enggak", "tiada"})  # no words beside `domain.answers`' own
# Answers that mean "no number" by themselves; "degaga" is Bugis for "tidak ada".
_NONE = frozenset({"lewati", "lewat", "skip", "kosong", "tanpa", "ndada", "taada", "tiada", "degaga", "none"})


def _negation(word: str) -> bool:
    return word in _NOT_YET or yes_or_no(word) is False  # "tidak", "nda", "gak", the Bugis "de'", "tena"


def means_no_phone(text: str) -> bool:
    """Whether `text` says there is no number to give: "tidak punya hp", "nda ada", "lewati", a bare "tidak"."""
    if text.strip() and not text.strip("-– ").strip():
        return True  # "-", as forms are left blank
    said = [word for word in words(text) if word not in _FILLER] or list(words(text))
    if not said:
        return False
    if len(said) == 1 and said[0] in _NONE:
        return True
    if _negation(said[0]) and all(word in _HAVE or _negation(word) for word in said[1:]):
        return True  # "tidak punya", "nda ada", "belum punya hp", "gak ada hp", "de' gaga", "tidak"
    return yes_or_no(" ".join(said)) is False  # "nda mau", "tidak usah"


# "This number": the chat's own (on WhatsApp the chat is a number): "nomor ini", "pakai nomor WA ini", "yang ini
# saja", "nomor saya" — words of this set only, with "ini" or "saya" among them.
_THIS = frozenset({"ini", "saya", "pakai", "pake", "nomor", "nomer", "no", "wa", "whatsapp", "hp", "yang", "saja",
                   "aja", "juga", "sama", "dengan", "ke", "kirim"})  # fmt: skip


def means_this_number(text: str) -> bool:
    """Whether `text` says "this chat's number" ("nomor ini", "pakai nomor WA ini", "yang ini saja")."""
    said = list(words(text))
    return bool(said) and set(said) <= _THIS and bool({"ini", "saya"} & set(said))


_SELF, _CHILD, _SPOUSE, _PARENT = PhoneOwner.SELF, PhoneOwner.CHILD, PhoneOwner.SPOUSE, PhoneOwner.PARENT
_SIBLING, _NEIGHBOUR, _OTHER = PhoneOwner.SIBLING, PhoneOwner.NEIGHBOUR, PhoneOwner.OTHER
_LEADER = PhoneOwner.GROUP_LEADER

# Phrase → whose phone. Matched by words, longest phrase first ("ketua kelompok tani" before "kelompok").
PHONE_OWNER_WORDS: dict[str, PhoneOwner] = {
    "sendiri": _SELF, "punya sendiri": _SELF, "milik sendiri": _SELF, "nomor sendiri": _SELF, "pribadi": _SELF,
    "peserta sendiri": _SELF, "milik peserta": _SELF, "punya peserta": _SELF, "hp sendiri": _SELF,
    "anak": _CHILD, "anaknya": _CHILD, "putra": _CHILD, "putri": _CHILD, "putranya": _CHILD, "putrinya": _CHILD,
    "suami": _SPOUSE, "istri": _SPOUSE, "isteri": _SPOUSE, "suaminya": _SPOUSE, "istrinya": _SPOUSE,
    "pasangan": _SPOUSE, "bini": _SPOUSE, "suami istri": _SPOUSE,
    "orang tua": _PARENT, "orangtua": _PARENT, "ortu": _PARENT, "bapak": _PARENT, "ayah": _PARENT, "ibu": _PARENT,
    "mama": _PARENT, "mamak": _PARENT, "emak": _PARENT, "bapaknya": _PARENT, "ibunya": _PARENT, "ambo": _PARENT,
    "indo": _PARENT,
    "saudara": _SIBLING, "saudaranya": _SIBLING, "kakak": _SIBLING, "adik": _SIBLING, "adek": _SIBLING,
    "abang": _SIBLING, "sepupu": _SIBLING, "keponakan": _SIBLING, "ponakan": _SIBLING, "ipar": _SIBLING,
    "kerabat": _SIBLING, "keluarga": _SIBLING, "famili": _SIBLING, "cucu": _SIBLING, "menantu": _SIBLING,
    "paman": _SIBLING, "om": _SIBLING, "tante": _SIBLING, "bibi": _SIBLING, "nenek": _SIBLING, "kakek": _SIBLING,
    "tetangga": _NEIGHBOUR, "tetangganya": _NEIGHBOUR,
    "ketua kelompok tani": _LEADER, "ketua poktan": _LEADER, "poktan": _LEADER, "kelompok tani": _LEADER,
    "ketua kelompok": _LEADER, "gapoktan": _LEADER, "ketua gapoktan": _LEADER, "ketua": _LEADER,
    "lainnya": _OTHER, "lain": _OTHER, "orang lain": _OTHER, "teman": _OTHER, "kawan": _OTHER,
    "kepala desa": _OTHER, "kades": _OTHER, "pak desa": _OTHER, "kepala dusun": _OTHER, "kadus": _OTHER,
    "pak rt": _OTHER, "majikan": _OTHER, "bos": _OTHER,
}  # fmt: skip
_OWNERS = Phrases(PHONE_OWNER_WORDS)


def phone_owner_of(text: str) -> PhoneOwner | None:
    """Whose phone `text` names ("anak saya" → child, "punya sendiri" → self); None when it names none, or two."""
    return _OWNERS.meaning(text)
