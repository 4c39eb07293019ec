"""What the SQLite file gives away (issue 15, point 8): nobody but its owner may read it, and a deleted member's
name is not left behind in it."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlmodel import Session

from bot.app import build_cipher, build_engine
from bot.settings import Settings
from storage import members as store
from storage.crypto import Cipher, new_encryption_key, new_lookup_key
from storage.db import make_engine, migrate
from tests.scheduler.test_scan import add_member

NAME = "Qorvandetta Zylquissima"  # a fake name no other bytes of the file can contain


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The usual umask (files 0644 unless told otherwise), whatever the test runner's."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def _checkpoint(engine: Engine) -> None:
    """Copy the WAL into the database file and empty it (outside a transaction, as SQLite requires)."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()  # the sqlite3 connection runs in autocommit mode (storage.db): no transaction open
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        busy = cursor.fetchone()
        assert busy is not None
        assert busy[0] == 0  # not busy: the whole WAL went into the file
    finally:
        raw.close()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("usual_umask")
def test_the_database_file_and_its_wal_are_readable_by_their_owner_only(tmp_path: Path, cipher: Cipher) -> None:
    database = tmp_path / "data" / "sipakainge.db"
    engine = make_engine(f"sqlite:///{database}")
    migrate(engine)
    with Session(engine) as session:
        add_member(session, cipher, 1, date(2026, 11, 30))
        session.commit()
        files = [database, database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")]
        assert all(path.exists() for path in files)  # while a connection is open, WAL mode keeps all three
        assert {path.name: _mode(path) for path in files} == {path.name: 0o600 for path in files}
    engine.dispose()


def _without_secure_delete(database: Path) -> Callable[[], sqlite3.Connection]:
    """Connections as a SQLite built without SECURE_DELETE opens them (this machine's Debian build has it on by
    default; the python.org and many other builds do not)."""

    def connect() -> sqlite3.Connection:
        connection = sqlite3.connect(database, timeout=30, check_same_thread=False)
        connection.execute("PRAGMA secure_delete=OFF")
        return connection

    return connect


def test_a_deleted_members_name_is_not_left_in_the_file(tmp_path: Path, cipher: Cipher) -> None:
    database = tmp_path / "test.db"
    engine = make_engine(f"sqlite:///{database}", creator=_without_secure_delete(database))
    migrate(engine)
    with Session(engine) as session:
        for index in range(1, 6):  # neighbours on the same page, so the page stays in use after the deletion
            add_member(session, cipher, index, date(2026, 11, 30))
        member = add_member(session, cipher, 9, date(2026, 11, 30))
        member.full_name = NAME
        session.add(member)
        session.commit()
        member_id = member.id or 0
    _checkpoint(engine)
    assert NAME.encode() in database.read_bytes()  # the test sees the name where it is written
    with Session(engine) as session:
        store.delete_member(session=session, member_id=member_id)
        session.commit()
    _checkpoint(engine)
    engine.dispose()
    leftovers = [path.name for path in tmp_path.iterdir() if NAME.encode() in path.read_bytes()]
    assert leftovers == []


@pytest.fixture
def fresh_clone(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Settings as on a fresh clone (no .env, the default places), in a temporary folder."""
    monkeypatch.chdir(tmp_path)
    for name in ("DATABASE_URL", "DEV_SECRETS_FILE", "NIK_ENCRYPTION_KEYS", "NIK_LOOKUP_KEY", "ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def _database_folder(settings: Settings) -> Path:
    database = make_url(settings.database_url).database
    assert database is not None
    return Path(database).resolve().parent


@pytest.mark.usefixtures("usual_umask")
def test_the_development_keys_are_kept_outside_the_database_folder_for_their_owner_only(fresh_clone: Path) -> None:
    settings = Settings(_env_file=None)
    cipher = build_cipher(settings)
    build_engine(settings).dispose()
    keys = settings.dev_secrets_file.resolve()
    assert keys.exists()
    assert _database_folder(settings).exists()
    assert not keys.is_relative_to(_database_folder(settings))  # a copy of the database folder has no keys
    assert _mode(keys) == 0o600
    assert build_cipher(settings).lookup_hash("7312060101809001") == cipher.lookup_hash("7312060101809001")  # kept


def test_development_keys_in_the_old_place_are_moved_not_replaced(fresh_clone: Path) -> None:
    old = fresh_clone / "data" / "dev-secrets.json"
    old.parent.mkdir()
    made = {"encryption_key": new_encryption_key(), "lookup_key": new_lookup_key()}
    old.write_text(json.dumps(made))
    settings = Settings(_env_file=None)
    cipher = build_cipher(settings)
    expected = Cipher(encryption_keys=[made["encryption_key"]], lookup_key=made["lookup_key"])
    assert cipher.lookup_hash("7312060101809001") == expected.lookup_hash("7312060101809001")
    assert not old.exists()
    assert json.loads(settings.dev_secrets_file.read_text()) == made
    assert _mode(settings.dev_secrets_file) == 0o600
