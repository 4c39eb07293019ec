"""The one place that wires settings → engine → conversations → channels (and later the scheduler)."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import uvicorn
from sqlalchemy import Engine

from bot.channels.telegram import ALLOWED_UPDATES, TelegramChannel, build_application, webhook_app
from bot.conversation import Conversations
from bot.dialogs.core import DialogConfig
from bot.settings import Settings, looks_placeholder
from storage.crypto import Cipher, new_encryption_key, new_lookup_key
from storage.db import make_engine, migrate
from storage.regions import sulawesi_selatan

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs every request URL, and Telegram URLs carry the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def build_cipher(settings: Settings) -> Cipher:
    """The configured keys; in development, keys generated once and kept in a local file outside git."""
    keys = [key for key in settings.encryption_keys if not looks_placeholder(key)]
    if keys and not looks_placeholder(settings.nik_lookup_key):
        return Cipher(encryption_keys=keys, lookup_key=settings.nik_lookup_key)
    if settings.environment != "development":
        raise RuntimeError("NIK_ENCRYPTION_KEYS and NIK_LOOKUP_KEY are required outside development")
    secrets = _dev_secrets(settings.dev_secrets_file)
    return Cipher(encryption_keys=[secrets["encryption_key"]], lookup_key=secrets["lookup_key"])


def _dev_secrets(path: Path) -> dict[str, str]:
    if path.exists():
        loaded: dict[str, str] = json.loads(path.read_text())
        return loaded
    path.parent.mkdir(parents=True, exist_ok=True)
    secrets = {"encryption_key": new_encryption_key(), "lookup_key": new_lookup_key()}
    path.write_text(json.dumps(secrets))
    path.chmod(0o600)
    log.warning("generated development keys in %s (never use them in production)", path)
    return secrets


def build_engine(settings: Settings) -> Engine:
    engine = make_engine(settings.database_url)
    migrate(engine)
    return engine


def build_conversations(settings: Settings, engine: Engine, cipher: Cipher) -> Conversations:
    config = DialogConfig(
        service_area=settings.area_codes,
        data_holder=settings.data_holder,
        consent_version=settings.consent_version,
        due_day=settings.due_day,
        resume_after_hours=settings.dialog_resume_after_hours,
    )
    return Conversations(
        engine=engine, cipher=cipher, regions=sulawesi_selatan(), config=config, zone=ZoneInfo(settings.timezone)
    )


async def serve(settings: Settings) -> None:
    """Run the Telegram bot until SIGINT/SIGTERM: long polling, or a webhook server when a public URL is set."""
    if looks_placeholder(settings.telegram_bot_token):
        raise SystemExit("TELEGRAM_BOT_TOKEN is not set. Try `sipakainge demo` or `sipakainge chat` without one.")
    engine = build_engine(settings)
    conversations = build_conversations(settings, engine, build_cipher(settings))
    webhook = bool(settings.telegram_webhook_url)
    application = build_application(
        token=settings.telegram_bot_token,
        base_url=settings.telegram_api_base_url,
        channel=TelegramChannel(conversations, utc_now),
        webhook=webhook,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with application:
        await application.start()
        if webhook:
            await application.bot.set_webhook(
                url=settings.telegram_webhook_url,
                secret_token=settings.telegram_webhook_secret,
                allowed_updates=ALLOWED_UPDATES,
            )
            server = uvicorn.Server(
                uvicorn.Config(
                    webhook_app(application, settings.telegram_webhook_secret),
                    host=settings.listen_host,
                    port=settings.listen_port,
                    log_level="warning",
                )
            )
            server_task = asyncio.create_task(server.serve())
            log.info("webhook server on %s:%s", settings.listen_host, settings.listen_port)
            await stop.wait()
            server.should_exit = True
            await server_task
        else:
            assert application.updater is not None
            await application.updater.start_polling(allowed_updates=ALLOWED_UPDATES)
            log.info("polling Telegram for updates")
            await stop.wait()
            await application.updater.stop()
        await application.stop()
    engine.dispose()
