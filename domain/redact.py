"""Personal data and secrets masked out of log text (UU 27/2022), whichever logger wrote it.

What is masked, erring on the side of masking:
- any run of 8 or more digits, alone or in groups joined by spaces, dots, dashes, underscores, slashes or brackets
  (the separators `parse_nik` accepts), with an optional leading `+`: NIKs (16), KPJs (8–16), phone numbers in every
  common form (`+62 812-0000-1234`, `6281200001234`, `0812 0000 1234`, `whatsapp:+62…`), Telegram chat ids,
  IP addresses and timestamps too. Only ISO dates (`2026-12-08`, optionally with the hour) are kept: they are
  never an identifier and schedulers log them;
- anything shaped like a Telegram bot token (`123456:` followed by 30 or more token characters);
- the exact values of the secrets the caller names (bot token, webhook secret, Twilio auth token).
Names cannot be recognised in free text: the callers keep them out (see bot/app.configure_logging).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

_DIGIT_RUN = re.compile(r"(?<![\d+])\+?\d(?:[\s.\-_/()]{0,2}\d)*(?!\d)")
_KEPT_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2})?")
_BOT_TOKEN = re.compile(r"\d{5,}:[A-Za-z0-9_-]{30,}")
_MIN_DIGITS = 8
_MIN_SECRET = 4  # shorter values would mask ordinary words; the settings refuse such secrets anyway


def _mask_digits(match: re.Match[str]) -> str:
    text = match.group()
    digits = sum(char.isdigit() for char in text)
    if digits < _MIN_DIGITS or _KEPT_DATE.fullmatch(text):
        return text
    return f"<{digits} digits>"


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """The text with every secret, bot token and long digit run masked."""
    for secret in sorted((s for s in secrets if len(s) >= _MIN_SECRET), key=len, reverse=True):
        text = text.replace(secret, "<secret>")
    text = _BOT_TOKEN.sub("<bot-token>", text)
    return _DIGIT_RUN.sub(_mask_digits, text)


class RedactingFilter(logging.Filter):
    """Put on a handler: every record it emits, from any logger, is masked — message, arguments, traceback and stack.

    The record is rewritten in place, so handlers after this one see the masked text too.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = tuple(secrets)
        self._formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # arguments not matching the format: logging would report it, not mask it
            message = f"{record.msg} {record.args}"
        record.msg = redact(message, self.secrets)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        return True
