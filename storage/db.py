"""Engines and migrations. Nothing here runs at import time: callers pass the URL they were configured with."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Collection
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, Integer, Select, bindparam, cast, column, create_engine, event, func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlmodel import Session


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with the settings each backend needs: SQLite gets WAL, foreign keys, a busy timeout, secure delete
    and a file only its owner can read.

    Parameters are kept out of error messages: they hold names and phone numbers, and errors end up in logs.
    """
    kwargs.setdefault("hide_parameters", True)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
            _create_private(Path(parsed.database))
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _create_private(path: Path) -> None:
    """Create the database file empty (a valid SQLite database) and readable by its owner only, before any data is
    written: SQLite would create it world-readable (0644 under the usual umask), and it gives its -wal and -shm files
    the database file's permissions (tests/storage/test_private_files.py). An existing file is left as it is."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy issue BEGIN itself (below) instead of the sqlite3 module's implicit, deferred one.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # Deleted rows are overwritten with zeros, not left readable in free pages (a deleted member's name, a purged
    # number): tests/storage/test_private_files.py.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin_immediate(connection: Any) -> None:
    """Take the write lock when a transaction starts: a deferred transaction that reads, then writes, fails at once
    (SQLITE_BUSY) if another writer got in between; an immediate one waits its turn under the busy timeout."""
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("storage") / "migrations"))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (safe to run on every start)."""
    command.upgrade(alembic_config(engine), "head")


def upsert_insert(session: Session) -> Callable[..., Any]:
    """The dialect's INSERT that supports ON CONFLICT DO NOTHING (PostgreSQL and SQLite both do)."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def id_rows(session: Session, ids: Collection[int]) -> Select[Any]:
    """A SELECT of the given ids, bound as one parameter (an array; JSON on SQLite): to insert a hundred thousand
    rows in one statement instead of an executemany that SQLAlchemy processes row by row (~6 µs a row)."""
    if session.get_bind().dialect.name == "postgresql":
        return select(func.unnest(bindparam("ids", list(ids), type_=postgresql.ARRAY(Integer))))
    return select(cast(column("value"), Integer)).select_from(func.json_each(json.dumps(list(ids))))


# Advisory lock keys of the leader-only work (PostgreSQL); any process may run it, one at a time.
SCAN_LOCK = 73_120_001
LAPSE_LOCK = 73_120_002
LISTING_LOCK = 73_120_003


def try_lead(session: Session, key: int) -> bool:
    """Whether this process may run a leader-only job in this transaction: a PostgreSQL advisory lock, released at
    commit. SQLite deployments run one process, which always leads."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    return bool(session.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": key}).scalar())
