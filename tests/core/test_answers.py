"""Yes and no by meaning: one table, forgiving of case, punctuation, repeated letters and a polite "pak"."""

from __future__ import annotations

import pytest

from domain.answers import NO_WORDS, YES_WORDS, yes_or_no


@pytest.mark.parametrize(
    "typed",
    [
        *YES_WORDS,
        "IYA",
        "iyaaa",
        "ok!",
        "Oke deh",
        "iye pak",
        "Ya, setuju.",
        "iye betul",
        "oke siap",
        "tabe', iye puang",
    ],
)
def test_yes(typed: str) -> None:
    assert yes_or_no(typed) is True


@pytest.mark.parametrize("typed", [*NO_WORDS, "TIDAK", "ndaaa", "nggak!", "tidak, pak", "nda nda", "De'", "tabe, tena"])
def test_no(typed: str) -> None:
    assert yes_or_no(typed) is False


@pytest.mark.parametrize(
    "typed",
    ["", "mungkin", "ya tidak", "setujuan", "petani", "1", "okta", "ya ampun", "iya tapi nanti", "tabe'", "dengan"],
)
def test_neither(typed: str) -> None:
    assert yes_or_no(typed) is None
