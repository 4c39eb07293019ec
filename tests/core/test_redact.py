"""What domain/redact masks in log text, and what it leaves readable."""

from __future__ import annotations

import io
import logging

import pytest

from domain.redact import RedactingFilter, redact

TOKEN = "1234567890:" + "FAKE" * 9  # the shape of a bot token, made here so no file holds one


@pytest.mark.parametrize(
    "text",
    [
        "7312061506809001",
        "7312 0615 0680 9001",
        "7312-0615-0680-9001",
        "73.12.06.150680.9001",
        "731206 150680 9001",
        "NIK:7312061506809001,",
        "+6281200001234",
        "6281200001234",
        "081200001234",
        "0812-0000-1234",
        "0812 0000 1234",
        "+62 812-0000-1234",
        "(0812) 0000-1234",
        "whatsapp:+6281200001234",
        "12345678901",  # a KPJ
        "12345678",  # the shortest KPJ
    ],
)
def test_numbers_of_people_are_masked(text: str) -> None:
    masked = redact(f"saved {text} ok")
    assert sum(char.isdigit() for char in masked) <= 2  # at most the digit count the mask states
    assert masked.startswith("saved ")
    assert masked.endswith(" ok")


@pytest.mark.parametrize(
    "text",
    [
        "scan for 2026-12-08 done",
        "Next wakeup is due at 2026-12-08 09:00:00+08:00",
        "claimed 3, sent 2, throttled 1",
        "listening on 127.0.0.1:8000",
        "took 0.25 s for 1234567 rows",  # 7 digits: a count, not an identifier
        "HTTP/1.1 200 OK",
    ],
)
def test_dates_counts_and_short_numbers_stay_readable(text: str) -> None:
    assert redact(text) == text


def test_bot_tokens_and_named_secrets_are_masked() -> None:
    url = f"POST https://api.telegram.org/bot{TOKEN}/sendMessage"
    assert TOKEN not in redact(url)
    assert "AAH3kq" not in redact(url)
    assert redact(url, secrets=[TOKEN]) == "POST https://api.telegram.org/bot<secret>/sendMessage"
    assert redact("header x-secret=hunter2-webhook", secrets=["hunter2-webhook", ""]) == "header x-secret=<secret>"
    assert redact("a b c", secrets=["a"]) == "a b c"  # too short to be told from ordinary text


def test_the_filter_masks_arguments_tracebacks_and_later_handlers() -> None:
    first, second = io.StringIO(), io.StringIO()
    logger = logging.getLogger("tests.redact")
    logger.propagate = False
    handlers = [logging.StreamHandler(first), logging.StreamHandler(second)]
    handlers[0].addFilter(RedactingFilter(secrets=["s3cret-value"]))
    for handler in handlers:
        logger.addHandler(handler)
    try:
        logger.warning("member %s at %s", "7312061506809001", {"phone": "+6281200001234"})
        try:
            raise ValueError("bad NIK 7312 0615 0680 9001 with s3cret-value")
        except ValueError:
            logger.exception("failed for %d", 81200001234)
        logger.warning("args that do not fit %s %s", "0812-0000-1234")  # noqa: PLE1206 (on purpose: still masked)
    finally:
        for handler in handlers:
            logger.removeHandler(handler)
        logger.propagate = True
    for written in (first.getvalue(), second.getvalue()):
        assert "7312" not in written
        assert "1234" not in written
        assert "s3cret" not in written
        assert "ValueError: bad NIK <16 digits>" in written  # the traceback is kept, masked
        assert "member <16 digits> at {'phone': '<13 digits>'}" in written
