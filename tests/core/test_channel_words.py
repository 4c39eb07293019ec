"""The catalog walked per channel: what each channel says is true there and is Indonesian. WhatsApp has no slash
commands and no buttons; nobody reads a stage code or an English word left over from the code."""

from __future__ import annotations

import re

import pytest

from bot.texts import catalog, speaking, t
from domain.vocabulary import Channel

CHANNELS = (Channel.TELEGRAM, Channel.WHATSAPP)

# The terminal's own words, read by whoever runs `sipakainge chat`, never sent on WhatsApp: "/keluar" ends it.
# The operator's terminal: how to bind a Telegram chat, and a command-line flag (--yes).
TERMINAL = {"console.intro", "cli.telegram_code", "cli.import_preview_only"}

SLASH_COMMAND = re.compile(r"(?:^|[\s(\"'«:])/[a-z]")
BUTTONS = re.compile(r"\b(tekan|menekan|tombol)\b", re.IGNORECASE)
STAGE_CODE = re.compile(r"(?<![\w.])[HL][+-]?\d+(?:@\d+)?(?![\w.])")
# A `{stage}` blank is filled with the stage in words (bot/texts/words.stage_words, tests/core/test_stage_words.py).
# The codes and English words that reached people before (statuses, reasons, sources, Python's literals), as the
# code spells them; "status" and "admin" are Indonesian too, so they are not here.
ENGLISH = {
    "sent", "delivered", "read", "failed", "active", "pending", "self_report", "skipped", "queued", "expired",
    "cancelled", "blocked", "unreachable", "opted_out", "fallback", "branch", "member", "officer", "sponsor",
    "office", "help", "paid", "stop", "yes", "no", "unknown", "error", "source", "verified", "reason", "retry",
    "digest", "due", "overdue", "lapsed", "arrears", "today", "true", "false", "True", "False", "None", "null",
}  # fmt: skip


def _read(text: str) -> str:
    """The text as people read it, less its blanks (filled in by the program)."""
    return re.sub(r"\{[^{}]*\}", "…", text)


def _texts(channel: str) -> dict[str, str]:
    return {key: _read(text) for key, text in catalog(channel).items()}


def test_whatsapp_names_no_slash_command_and_no_button() -> None:
    texts = {key: text for key, text in _texts(Channel.WHATSAPP).items() if key not in TERMINAL}
    slashed = {key: SLASH_COMMAND.findall(text) for key, text in texts.items() if SLASH_COMMAND.search(text)}
    pressed = {key: BUTTONS.findall(text) for key, text in texts.items() if BUTTONS.search(text)}
    assert slashed == {}
    assert pressed == {}


@pytest.mark.parametrize("channel", CHANNELS)
def test_no_stage_code_and_no_english_word(channel: str) -> None:
    texts = {key: text for key, text in _texts(channel).items() if key not in TERMINAL}
    coded = {key: STAGE_CODE.findall(text) for key, text in texts.items() if STAGE_CODE.search(text)}
    english = {key: sorted(set(re.findall(r"[A-Za-z_]+", text)) & ENGLISH) for key, text in texts.items()}
    assert coded == {}
    assert {key: words for key, words in english.items() if words} == {}


def test_the_checks_catch_what_they_look_for() -> None:
    """The patterns are not vacuous: each finds the leak it is for, and leaves Indonesian alone."""
    assert SLASH_COMMAND.search("Ketik /status untuk melihat")
    assert SLASH_COMMAND.search("(/ubah)")
    assert not SLASH_COMMAND.search("Ya, ikut JHT (+Rp8.400/bulan)")
    assert not SLASH_COMMAND.search("Desa/kelurahan")
    assert BUTTONS.search('Tekan "Sudah bayar"')
    assert not BUTTONS.search("ketik SUDAH BAYAR")
    assert [STAGE_CODE.findall(s) for s in ("sejak H+7", "terakhir: L0", "H-1@2 terkirim")] == [
        ["H+7"],
        ["L0"],
        ["H-1@2"],
    ]
    assert not STAGE_CODE.search("Kode 73.12.06 · JKK, JKM · 0812 3456 7890 · 16 angka")
    assert set(re.findall(r"[A-Za-z_]+", _read("percobaan: sent · {status}"))) & ENGLISH == {"sent"}


def test_each_channel_helps_with_exactly_its_words() -> None:
    """The member's help names what works there: Telegram's commands, WhatsApp's typed words, and on both the words
    every chat understands (SUDAH BAYAR, BERHENTI, MULAI)."""
    with speaking(Channel.TELEGRAM):
        telegram = t("help.member")
    with speaking(Channel.WHATSAPP):
        whatsapp = t("help.member")
    for word in ("SUDAH BAYAR", "BERHENTI", "MULAI"):
        assert word in telegram
        assert word in whatsapp
    assert {"/start", "/status", "/ubah", "/hapus", "/batal", "/ulang", "/bantuan"} <= set(telegram.split())
    for word in ("DAFTAR", "STATUS", "UBAH", "HAPUS", "BATAL", "ULANG", "KEMBALI", "BANTUAN"):
        assert re.search(rf"^{word} – ", whatsapp, re.MULTILINE), word
    assert "/" not in whatsapp


def test_a_reminder_on_whatsapp_asks_to_type_not_to_press() -> None:
    footer = {"channels": "Kantor Pos", "contact": "hubungi penyuluh"}
    with speaking(Channel.WHATSAPP):
        whatsapp = t("reminder.footer", **footer), t("reminder.footer_lapsed")
    with speaking(Channel.TELEGRAM):
        telegram = t("reminder.footer", **footer)
    assert all("ketik SUDAH BAYAR" in text.replace("Ketik", "ketik") and "Tekan" not in text for text in whatsapp)
    assert 'Tekan "Sudah bayar"' in telegram
