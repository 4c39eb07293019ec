"""ids never reused on SQLite

Audit entries name records by id ("member:12", the actor "telegram:5"). SQLite hands a deleted row's id to the next
row unless the table says AUTOINCREMENT, so an entry about a deleted member could read as about a new one. The tables
audit entries name (addresses, members, officers, sponsors, broadcasts) are rebuilt with AUTOINCREMENT, data, indexes
and foreign keys as they were, and each table's counter starts past every id the audit log already names. PostgreSQL's
sequences never hand out an id twice: nothing to do there.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01 20:00:00.000000
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from alembic import op
from sqlalchemy.engine import Connection

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Ids of a table named in the audit log: (column, GLOB pattern of the values naming one, the text before the id).
_NUMBERED = "[0-9]*"
NAMED_BY: dict[str, list[tuple[str, str]]] = {
    "address": [("actor", f"*:{_NUMBERED}"), ("subject", f"officer:{_NUMBERED}")],  # actor: "channel:address id"
    "member": [("subject", f"member:{_NUMBERED}")],
    "officer": [("subject", f"staff:{_NUMBERED}"), ("subject", f"officer:{_NUMBERED}")],
    "sponsor": [("subject", f"sponsor:{_NUMBERED}")],
    "broadcast": [("subject", f"broadcast:{_NUMBERED}")],
}
# Who saw which members: their ids, comma-separated, in the detail.
_VIEWED = (
    "SELECT MAX(CAST(value AS INTEGER)) FROM auditentry, json_each('[' || detail || ']') "
    "WHERE action = 'officer.view' AND detail GLOB '[0-9]*' AND detail NOT GLOB '*[^0-9,]*'"
)


@contextmanager
def _foreign_keys_off(bind: Connection) -> Iterator[None]:
    """Rebuilding a table drops the old one, and with foreign keys on SQLite first deletes its rows, cascading to
    every table that refers to it. The setting changes only between transactions: this one is committed (with the
    revisions before it), the rebuild runs in its own, checked before it commits, and foreign keys come back on."""
    was_on = bool(bind.exec_driver_sql("PRAGMA foreign_keys").scalar())
    if was_on:
        bind.exec_driver_sql("COMMIT")
        bind.exec_driver_sql("PRAGMA foreign_keys=OFF")
        bind.exec_driver_sql("BEGIN IMMEDIATE")
    already = len(bind.exec_driver_sql("PRAGMA foreign_key_check").all())  # any from before are not the rebuild's
    try:
        yield
        broken = bind.exec_driver_sql("PRAGMA foreign_key_check").all()
        if len(broken) > already:
            raise RuntimeError(f"rows referring to missing rows after the rebuild: {broken[:5]}")
    except BaseException:
        if was_on:
            _restore(bind, "ROLLBACK")
        raise
    if was_on:
        _restore(bind, "COMMIT")


def _restore(bind: Connection, end: str) -> None:
    bind.exec_driver_sql(end)
    bind.exec_driver_sql("PRAGMA foreign_keys=ON")
    bind.exec_driver_sql("BEGIN IMMEDIATE")  # for the version update, which the caller commits


def _highest_named(bind: Connection, table: str) -> int:
    found = [
        bind.exec_driver_sql(
            f"SELECT MAX(CAST(substr({column}, instr({column}, ':') + 1) AS INTEGER)) FROM auditentry "
            f"WHERE {column} GLOB ?",
            (pattern,),
        ).scalar()
        for column, pattern in NAMED_BY[table]
    ]
    if table == "member":
        found.append(bind.exec_driver_sql(_VIEWED).scalar())
    found.append(bind.exec_driver_sql(f'SELECT MAX(id) FROM "{table}"').scalar())
    return max((int(value) for value in found if value is not None), default=0)


def _rebuild(*, autoincrement: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    with _foreign_keys_off(bind):
        for table in NAMED_BY:
            # Reflected as it is (columns, defaults, indexes, unique constraints, foreign keys with their ON DELETE),
            # whatever revisions came before, and its rows copied over, ids included.
            with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}):
                pass
            if autoincrement:
                highest = _highest_named(bind, table)
                bind.exec_driver_sql("DELETE FROM sqlite_sequence WHERE name = ?", (table,))
                if highest:
                    bind.exec_driver_sql("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (table, highest))


def upgrade() -> None:
    _rebuild(autoincrement=True)


def downgrade() -> None:
    _rebuild(autoincrement=False)
