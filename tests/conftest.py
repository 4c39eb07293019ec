"""Shared fixtures: real databases (SQLite and PostgreSQL), keys made for the run, the dialog wiring."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel
from telegram.ext import Application

from bot.app import utc_now
from bot.channels.telegram import TelegramChannel, build_application
from bot.dialogs.core import DialogConfig
from domain.regions import RegionIndex, sulawesi_selatan
from service.conversations import Conversations
from storage.crypto import Cipher, new_encryption_key, new_lookup_key
from storage.db import make_engine, migrate
from tests.fake_telegram import TOKEN, FakeTelegram, Served, fake_app, free_port

# The machine's PostgreSQL (trust auth). CI runs here too; a missing server fails the run instead of skipping.
PG_ADMIN_URL = os.environ.get("SIPAKAINGE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

AREA = ("73.12", "73.14")


@pytest.fixture(scope="session")
def regions() -> RegionIndex:
    return sulawesi_selatan()


@pytest.fixture(scope="session")
def cipher() -> Cipher:
    return Cipher(encryption_keys=[new_encryption_key()], lookup_key=new_lookup_key())


@pytest.fixture(scope="session")
def dialog_config() -> DialogConfig:
    return DialogConfig(service_area=AREA, data_holder="BPJS Ketenagakerjaan (uji)", consent_version="test")


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this run, migrated once, dropped at the end."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"sipakainge_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # any failure here means no PostgreSQL: the run must fail
        pytest.fail(f"PostgreSQL is required for the test suite ({PG_ADMIN_URL}): {error}", pytrace=False)
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate(engine: Engine) -> None:
    tables = ", ".join(f'"{table.name}"' for table in SQLModel.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each storage test runs on both databases, each time on empty tables."""
    if request.param == "sqlite":
        sqlite_url = f"sqlite:///{tmp_path / 'test.db'}"
        engine = make_engine(sqlite_url)
        migrate(engine)
        engine.dispose()
        return sqlite_url
    pg: str = request.getfixturevalue("pg_url")
    engine = make_engine(pg)
    _truncate(engine)
    engine.dispose()
    return pg


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def conversations(engine: Engine, cipher: Cipher, regions: RegionIndex, dialog_config: DialogConfig) -> Conversations:
    return Conversations(
        engine=engine, cipher=cipher, regions=regions, config=dialog_config, zone=ZoneInfo("Asia/Makassar")
    )


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    """A local Bot API stand-in on 127.0.0.1."""
    fake = FakeTelegram(port=free_port())
    async with Served(fake_app(fake), fake.port):
        yield fake


@pytest.fixture
async def polling_bot(telegram: FakeTelegram, conversations: Conversations) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """The real python-telegram-bot application, long-polling the stand-in."""
    application = build_application(
        token=TOKEN, base_url=telegram.base_url, channel=TelegramChannel(conversations, utc_now), webhook=False
    )
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0.0, timeout=1)
        yield application
        await application.updater.stop()
        await application.stop()
