"""The consent is short enough to read on a cheap phone, and says what the law asks: who holds the data, for what,
how long, and how to see, change or delete it; the whole text is there on request."""

from __future__ import annotations

import re
from dataclasses import replace

from bot.dialogs.core import RecordConsent
from bot.dialogs.state import Step
from bot.texts import speaking
from tests.dialog_driver import Chat


def _words(text: str) -> int:
    return len(re.findall(r"[^\W\d_]+", text))


def test_the_consent_is_short_and_complete(chat: Chat) -> None:
    chat.send("/start")
    text = chat.last.text
    assert _words(text) < 60, text  # the old one had 90 words in 595 characters
    assert chat.config.data_holder in text  # who holds it
    assert "mengingatkan iuran" in text  # what for
    assert "2 tahun" in text  # how long (RETENTION_DAYS=730)
    for right in ("/status", "/ubah", "/hapus"):  # how to see, change, delete
        assert right in text
    assert "Selamat datang" not in text  # a WhatsApp chat was just greeted by the menu


def test_the_retention_is_the_setting(chat: Chat) -> None:
    chat.config = replace(chat.config, retention_days=365 * 3)
    chat.send("/start")
    assert "3 tahun" in chat.last.text


def test_the_whole_text_on_request_then_the_same_question(chat: Chat) -> None:
    chat.send("/start")
    chat.send("baca selengkapnya")
    full = chat.last.text
    assert _words(full) > 60
    assert "pastikan orang tersebut sudah setuju" in full
    assert chat.labels == ["Setuju", "Tidak setuju"]
    assert chat.step == Step.CONSENT
    assert chat.effects == []
    chat.send("iye")
    assert chat.effects == [RecordConsent(granted=True)]
    assert chat.step == Step.NAME


def test_on_whatsapp_the_rights_are_words_to_type(chat: Chat) -> None:
    with speaking("whatsapp"):
        chat.send("/start")
        short = chat.last.text
        chat.send("3")
        full = chat.last.text
    for text in (short, full):
        assert not re.search(r"/[a-z]", text)  # "Bapak/Ibu" is no command
        assert all(word in text for word in ("STATUS", "UBAH", "HAPUS"))
    assert _words(short) < 60


def test_one_welcome_at_the_start(chat: Chat) -> None:
    # WhatsApp's first message is a greeting, answered by the menu; choosing "Daftar" must not welcome again.
    seen = [reply.text for reply in chat.send("halo")]
    seen += [reply.text for reply in chat.send("1")]
    assert chat.step == Step.CONSENT
    assert sum(text.count("Selamat datang") for text in seen) == 1
