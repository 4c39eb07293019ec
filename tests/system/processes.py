"""Real `sipakainge run` processes against the local stand-ins: the environment they start with, the command, and
reminders due at once (what the fault and scale-out tests hand them)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tests.fake_telegram import TOKEN

COMMAND = [str(Path(sys.executable).with_name("sipakainge")), "run"]


def run_env(db_url: str, telegram_base_url: str, tmp_path: Path, **settings: str) -> dict[str, str]:
    """Development settings with fixed fake keys, the Telegram stand-in, no Twilio; `settings` add or override."""
    return {
        **os.environ,
        "DATABASE_URL": db_url,
        "ENVIRONMENT": "development",
        "LOG_LEVEL": "WARNING",
        "NIK_ENCRYPTION_KEYS": "a" * 43 + "=",
        "NIK_LOOKUP_KEY": "k" * 32,
        "DEV_SECRETS_FILE": str(tmp_path / "s"),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": telegram_base_url,
        "TWILIO_ACCOUNT_SID": "",
        "TWILIO_AUTH_TOKEN": "",
        "TWILIO_WHATSAPP_FROM": "",
        **settings,
    }


def start(env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(COMMAND, cwd=cwd, env=env)  # noqa: S603


def due_now(member_ids: Sequence[int], now: datetime) -> list[dict[str, Any]]:
    """One reminder row per member, due a minute ago (the December H0 of the fixtures' calendar)."""
    return [
        {
            "member_id": member_id,
            "cycle": 202611,
            "stage": "H0",
            "stage_rank": 3,
            "status": "pending",
            "send_after": now - timedelta(minutes=1),
            "expires_at": now + timedelta(hours=1),
            "zone": "Asia/Makassar",
            "attempts": 0,
            "reason": "",
            "created_at": now,
        }
        for member_id in member_ids
    ]
