"""Audit entries name records by id ("member:12"): a deleted record's id is never given to a new one, on SQLite
(AUTOINCREMENT, migration 0019) and PostgreSQL (sequences), and the migration keeps every row and link it rebuilds."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage import members as store
from storage.crypto import Cipher
from storage.db import alembic_config, make_engine
from storage.models import AuditEntry, ConsentRecord, Member, MemberAddress, Payment, Sponsor
from tests.scheduler.test_scan import add_member

NOW = datetime(2026, 12, 1, tzinfo=UTC)
REBUILT = ("address", "member", "officer", "sponsor", "broadcast")


def test_a_deleted_members_id_is_not_given_to_the_next_member(engine: Engine, cipher: Cipher) -> None:
    with Session(engine) as session:
        add_member(session, cipher, 1, date(2026, 11, 30))
        last = add_member(session, cipher, 2, date(2026, 11, 30))
        session.commit()
        gone = last.id or 0
        store.delete_member(session=session, member_id=gone)
        session.add(AuditEntry(at=NOW, actor="system", action="member.delete", subject=f"member:{gone}"))
        session.commit()
        new = add_member(session, cipher, 3, date(2026, 11, 30))
        session.commit()
        assert (new.id or 0) > gone


def test_a_deleted_chats_id_is_not_given_to_the_next_chat(engine: Engine) -> None:
    """The audit's actor is `channel:address id`: a new chat must not inherit a deleted one's entries."""
    with Session(engine) as session:
        gone = store.get_or_create_address(session=session, channel="whatsapp", external_id="+6281200000001", now=NOW)
        session.commit()
        gone_id = gone.id or 0
        session.delete(gone)
        session.commit()
        new = store.get_or_create_address(session=session, channel="whatsapp", external_id="+6281200000002", now=NOW)
        session.commit()
        assert (new.id or 0) > gone_id


def _schema(engine: Engine) -> dict[str, object]:
    found = inspect(engine)
    return {
        table: (
            [(c["name"], str(c["type"]), c["nullable"], c.get("default")) for c in found.get_columns(table)],
            sorted((i["name"], tuple(i["column_names"]), i["unique"]) for i in found.get_indexes(table)),
            sorted(
                (tuple(f["constrained_columns"]), f["referred_table"], sorted(f["options"].items()))
                for f in found.get_foreign_keys(table)
            ),
            sorted(tuple(u["column_names"]) for u in found.get_unique_constraints(table)),
        )
        for table in found.get_table_names()
    }


def test_the_rebuild_keeps_rows_links_and_indexes_and_counts_past_audited_ids(tmp_path: Path, cipher: Cipher) -> None:
    database = tmp_path / "old.db"
    engine = make_engine(f"sqlite:///{database}")
    config = alembic_config(engine)
    command.upgrade(config, "0018")  # a database from before 0019, with rows and links
    with Session(engine) as session:
        sponsor = Sponsor(name="Kantor Uji", invite_code="uji", created_at=NOW)
        session.add(sponsor)
        session.flush()
        kept = add_member(session, cipher, 1, date(2026, 11, 30))
        kept.sponsor_id = sponsor.id  # a link out of a rebuilt table into another
        session.add(kept)
        gone = add_member(session, cipher, 2, date(2026, 11, 30))
        session.flush()
        session.add(
            Payment(member_id=kept.id or 0, first_cycle=202611, months=1, amount=16800, source="self", reported_at=NOW)
        )
        address = session.exec(select(MemberAddress).where(col(MemberAddress.member_id) == kept.id)).one().address_id
        session.add(
            ConsentRecord(address_id=address, member_id=kept.id, consent_version="t", decision="agreed", at=NOW)
        )
        gone_id = gone.id or 0
        store.delete_member(session=session, member_id=gone_id)
        session.add(AuditEntry(at=NOW, actor="system", action="member.delete", subject=f"member:{gone_id}"))
        session.add(AuditEntry(at=NOW, actor="telegram:40", action="officer.view", subject="officer:40", detail="7,9"))
        session.commit()
        kept_id, sponsor_id = kept.id or 0, sponsor.id
    before = _schema(engine)
    counts = {table: _count(database, table) for table in ("member", "memberaddress", "payment", "consentrecord")}
    command.upgrade(config, "0019")  # the rebuild alone: later revisions add their own tables
    assert _schema(engine) == before  # columns, defaults, indexes, unique constraints, foreign keys as they were
    assert {table: _count(database, table) for table in counts} == counts
    with sqlite3.connect(database) as raw:
        tables = dict(raw.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'").fetchall())
    assert all("AUTOINCREMENT" in tables[table] for table in REBUILT)
    with Session(engine) as session:
        member = session.get(Member, kept_id)
        assert member is not None
        assert member.sponsor_id == sponsor_id
        assert session.exec(select(Payment.member_id)).all() == [kept_id]
        assert session.exec(select(ConsentRecord.member_id)).all() == [kept_id]
        new = add_member(session, cipher, 3, date(2026, 11, 30))
        chat = store.get_or_create_address(session=session, channel="telegram", external_id="new", now=NOW)
        session.commit()
        assert (new.id or 0) > max(gone_id, 9)  # past the deleted member and the ids an officer saw
        assert (chat.id or 0) > 40  # past the chat the audit log names
    with Session(engine) as session:  # foreign keys are enforced again after the rebuild
        session.add(Payment(member_id=10_000, first_cycle=202611, months=1, amount=1, source="self", reported_at=NOW))
        with pytest.raises(IntegrityError):
            session.commit()
    counts = {table: _count(database, table) for table in counts}
    command.downgrade(config, "0018")
    assert {table: _count(database, table) for table in counts} == counts
    engine.dispose()


def _count(database: Path, table: str) -> int:
    with sqlite3.connect(database) as raw:
        return int(raw.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0])  # noqa: S608 (the tests' names)
