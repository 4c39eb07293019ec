"""The example configuration states the defaults a deployment gets, so what a branch reads there is what runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings

EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


def _example_values() -> dict[str, str]:
    values: dict[str, str] = {}
    for line in EXAMPLE.read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip()
    return values


@pytest.mark.parametrize("key", ["PAYMENT_CHANNELS", "HELP_CONTACT", "INVITE_DAYS"])
def test_the_example_states_the_default(key: str) -> None:
    default = Settings.model_fields[key.lower()].default
    assert _example_values()[key] == str(default)


def test_payment_places_are_only_documented_ones() -> None:
    """The post office is not a documented place to pay BPU contributions by NIK (sources in .env.example)."""
    places = Settings.model_fields["payment_channels"].default.lower()
    assert "kantor pos" not in places
    assert "pos indonesia" not in places
    for documented in ("bank", "brilink", "alfamart", "indomaret", "jmo", "perisai"):
        assert documented in places
