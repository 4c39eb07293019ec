"""Configuration from the environment (or `.env`); see `.env.example` for every setting."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, time, timedelta
from pathlib import Path
from typing import Literal

import holidays
from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.delivery import BUSY_HOLD
from domain.identity import parse_phone
from domain.rules import DEFAULT_STAGES, parse_quiet_periods, parse_stages
from domain.statements import DAYS_BEFORE

_PLACEHOLDERS = ("changeme", "replaceme", "xxx", "yourkey", "yoursecret", "yourtoken")
MIN_WEBHOOK_SECRET = 32  # characters: Telegram allows up to 256; a short one can be guessed


def looks_placeholder(value: str) -> bool:
    """Empty, or an example's value in any spelling: CHANGE_ME, change-me, Replace Me, xxx, your-key."""
    squashed = "".join(ch for ch in value.casefold() if ch.isalnum())
    return not squashed or any(marker in squashed for marker in _PLACEHOLDERS)


def national_holidays(years: Iterable[int], extra: Iterable[date] = ()) -> frozenset[date]:
    """Indonesia's national holidays and cuti bersama in `years`, from the `holidays` package, plus `extra` days.

    The package keeps the calendar maintained: the public holidays of Keppres 24/2013 and its successors, and the
    joint leave days (its "government" category) of each year's SKB of the Ministers of Religious Affairs, Manpower
    and State Apparatus. Islamic holidays of years not yet decreed are its estimates.
    """
    found = holidays.country_holidays("ID", years=list(years), categories=("public", "government"))
    return frozenset(found) | frozenset(extra)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    environment: Literal["development", "production"] = "development"
    log_level: str = "INFO"
    database_url: str = "sqlite:///data/sipakainge.db"

    service_area: str = "73.12,73.14"
    timezone: str = "Asia/Makassar"
    data_holder: str = "BPJS Ketenagakerjaan bersama Pemerintah Kabupaten setempat"
    consent_version: str = "2026-12"  # the short consent text (issue 14)
    due_day: int = 15
    dialog_resume_after_hours: int = 12

    reminder_stages: str = DEFAULT_STAGES
    lapse_after_months: int = 3
    reminders_per_month: int = 4  # at most, per member and calendar month; the last day and the lapse notice always
    send_window: str = "08:00-20:00"
    quiet_periods: str = "Jum 11:30-13:30"
    extra_holidays: str = ""  # days off the `holidays` package does not know yet: "2026-12-24,2027-03-12"
    holidays_quiet: bool = True  # national holidays and cuti bersama are quiet days for reminders too
    scan_at: str = "06:00"
    digest_at: str = "07:00"
    statement_days_before: int = 7  # offices that pay from a budget get the month's statement this long before the 15th
    escalate_after_days: int = 7
    invite_days: int = Field(default=14, ge=1)  # officers' and offices' invitation codes expire after this
    retention_days: int = 730  # members who opted out or lapsed, idle chats, delivery records: removed after this
    dispatch_every_seconds: float = 5.0
    # A webhook message claimed by a process that died is taken by another after this (issue 16; the inbox).
    inbox_lease_seconds: float = Field(default=30.0, gt=0)
    busy_hold_minutes: int = Field(default=BUSY_HOLD // timedelta(minutes=1), ge=0)  # after a mid-dialog message
    telegram_per_second: float = 29.0
    payment_channels: str = (  # documented places only: the sources are cited in .env.example
        "bank (teller, ATM, m-banking) atau BRILink, Alfamart/Indomaret, aplikasi JMO, dompet digital (LinkAja dll.), "
        "atau agen PERISAI"
    )
    help_contact: str = "hubungi penyuluh desa, atau BPJS Ketenagakerjaan di 175"

    nik_encryption_keys: str = ""
    nik_lookup_key: str = ""
    dev_secrets_file: Path = Path("keys/dev-secrets.json")  # not in data/: the database's backups copy that folder

    telegram_bot_token: str = ""
    telegram_bot_username: str = ""
    admin_telegram_ids: str = ""
    admin_whatsapp_numbers: str = ""
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    telegram_file_base_url: str = ""  # empty: the API URL's trailing /bot made /file/bot (bot/channels/telegram.py)
    telegram_webhook_url: str = ""
    telegram_webhook_secret: str = ""
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_whatsapp_from: str = ""
    twilio_public_url: str = ""
    twilio_api_base_url: str = ""
    twilio_templates: str = "{}"
    whatsapp_per_second: float = 78.0
    whatsapp_sender_limit_per_minute: int = 20

    listen_host: str = "127.0.0.1"
    listen_port: int = 8080

    @property
    def area_codes(self) -> tuple[str, ...]:
        return tuple(code.strip() for code in self.service_area.split(",") if code.strip())

    @property
    def admins(self) -> frozenset[str]:
        """The admins named here, as "channel:external id" (a Telegram private chat's id is its user's id)."""
        telegram = {f"telegram:{part.strip()}" for part in self.admin_telegram_ids.split(",") if part.strip()}
        numbers = (parse_phone(part) for part in self.admin_whatsapp_numbers.split(",") if part.strip())
        return frozenset(telegram | {f"whatsapp:{number}" for number in numbers if number.startswith("+")})

    @property
    def twilio_enabled(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_auth_token and self.twilio_whatsapp_from)

    @property
    def templates(self) -> dict[str, str]:
        """Approved Content Template SIDs per message kind: {"reminder": "HX…", "reminder_note": "HX…"}."""
        loaded = json.loads(self.twilio_templates or "{}")
        if not isinstance(loaded, dict) or not all(isinstance(v, str) for v in loaded.values()):
            raise ValueError("TWILIO_TEMPLATES must be a JSON object of message kind → content SID")
        return {str(k): v for k, v in loaded.items()}

    @property
    def extra_holiday_dates(self) -> frozenset[date]:
        try:
            return frozenset(
                date.fromisoformat(part.strip()) for part in self.extra_holidays.split(",") if part.strip()
            )
        except ValueError as error:
            raise ValueError("EXTRA_HOLIDAYS must be dates like 2026-12-24, separated by commas") from error

    def holiday_dates(self, today: date) -> frozenset[date]:
        """The deployment's holidays from last year to two years ahead (covers every open cycle and lapse date)."""
        return national_holidays(range(today.year - 1, today.year + 3), self.extra_holiday_dates)

    @property
    def window(self) -> tuple[time, time]:
        start, end = (time.fromisoformat(part.strip()) for part in self.send_window.split("-"))
        return start, end

    @property
    def encryption_keys(self) -> list[str]:
        """Newest first: the first key encrypts, all of them decrypt (rotation)."""
        return [key.strip() for key in self.nik_encryption_keys.split(",") if key.strip()]

    @model_validator(mode="after")
    def _refuse_placeholders(self) -> Settings:
        self._check_formats()
        if self.environment == "development":
            return self
        problems = self._placeholders()
        if problems:
            raise ValueError(f"set real values outside development for: {', '.join(problems)}")
        return self

    def _check_formats(self) -> None:
        """Settings that would fail later, or silently (a typo in the stages stops reminders): fail at start instead."""
        parse_stages(self.reminder_stages)
        start, end = self.window
        if not start < end:
            raise ValueError("SEND_WINDOW must look like 08:00-20:00")
        time.fromisoformat(self.scan_at)
        time.fromisoformat(self.digest_at)
        if not all(part.strip().isdecimal() for part in self.admin_telegram_ids.split(",") if part.strip()):
            raise ValueError("ADMIN_TELEGRAM_IDS must be Telegram user ids (numbers), separated by commas")
        if self.retention_days < 30:
            raise ValueError("RETENTION_DAYS must be at least 30")
        if self.reminders_per_month < 2:
            raise ValueError("REMINDERS_PER_MONTH must be at least 2 (the last-day reminder and the lapse notice)")
        if self.escalate_after_days < 1:
            raise ValueError("ESCALATE_AFTER_DAYS must be at least 1")
        if self.statement_days_before not in DAYS_BEFORE:
            raise ValueError("STATEMENT_DAYS_BEFORE must be 1 to 25 (days before the due date)")
        parse_quiet_periods(self.quiet_periods)
        _ = self.extra_holiday_dates
        _ = self.templates
        if self.twilio_enabled and not self.twilio_public_url:
            raise ValueError("TWILIO_PUBLIC_URL is required with Twilio: signatures are checked against it")

    def _placeholders(self) -> list[str]:
        """The secrets still empty or a placeholder (refused outside development)."""
        problems = []
        if not self.encryption_keys or any(looks_placeholder(key) for key in self.encryption_keys):
            problems.append("NIK_ENCRYPTION_KEYS")
        if looks_placeholder(self.nik_lookup_key):
            problems.append("NIK_LOOKUP_KEY")
        if self.telegram_bot_token and looks_placeholder(self.telegram_bot_token):
            problems.append("TELEGRAM_BOT_TOKEN")
        if self.telegram_webhook_url and (
            looks_placeholder(self.telegram_webhook_secret) or len(self.telegram_webhook_secret) < MIN_WEBHOOK_SECRET
        ):
            problems.append(f"TELEGRAM_WEBHOOK_SECRET (at least {MIN_WEBHOOK_SECRET} characters)")
        if self.nik_lookup_key.strip() in self.encryption_keys:  # one key for both: a leak of one is a leak of both
            problems.append("NIK_LOOKUP_KEY (must differ from every NIK_ENCRYPTION_KEYS key)")
        if self.twilio_account_sid and looks_placeholder(self.twilio_auth_token):
            problems.append("TWILIO_AUTH_TOKEN")
        return problems
