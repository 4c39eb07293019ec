"""What /healthz asks the database: can it be read, and can it be written."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session

# alembic_version exists in every migrated database. An UPDATE that matches no row still takes the write lock
# (SQLite: "attempt to write a readonly database") or is refused in a read-only transaction (PostgreSQL).
_READ = text("SELECT 1")
_WRITE = text("UPDATE alembic_version SET version_num = version_num WHERE 1 = 0")


def read(*, session: Session) -> None:
    session.execute(_READ)


def write(*, session: Session) -> None:
    session.execute(_WRITE)
