"""The Bot API's file URL (issue 16, point 5): TELEGRAM_FILE_BASE_URL when set; else the API URL's trailing /bot
made /file/bot — never the first "/bot" anywhere in it (a host named bot…)."""

from __future__ import annotations

import pytest

from bot.channels.telegram import file_base_url
from bot.settings import Settings


@pytest.mark.parametrize(
    ("api", "files"),
    [
        ("https://api.telegram.org/bot", "https://api.telegram.org/file/bot"),
        ("https://botapi.example.org/bot", "https://botapi.example.org/file/bot"),  # before: .../file/botapi...
        ("http://bot.local:8081/bot/", "http://bot.local:8081/file/bot"),
        ("http://127.0.0.1:8081", "http://127.0.0.1:8081/file/bot"),
    ],
)
def test_derived_from_the_end_of_the_api_url(api: str, files: str) -> None:
    assert file_base_url(api) == files


def test_the_setting_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", "https://botapi.example.org/bot")
    monkeypatch.setenv("TELEGRAM_FILE_BASE_URL", "https://files.example.org/file/bot")
    settings = Settings()
    assert file_base_url(settings.telegram_api_base_url, settings.telegram_file_base_url) == (
        "https://files.example.org/file/bot"
    )
