"""Rendering for channels without buttons: the terminal now, WhatsApp text messages later."""

from __future__ import annotations

from bot.dialogs.core import Reply, numbered
from bot.texts import t


def render_plain(reply: Reply) -> str:
    """The reply's text with its options numbered, and how to answer them (and the name of an attached file)."""
    text = reply.text
    if reply.choices:
        text = f"{text}\n\n{numbered(reply.choices)}\n\n{t('hint.numbered')}"
    if reply.attachment is not None:
        text = f"{text}\n\n{t('attachment.sent', filename=reply.attachment.filename)}"
    return text
