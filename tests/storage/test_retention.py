"""Retention on SQLite and PostgreSQL: what has been inactive longer than the setting goes, everything else stays."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from service.daily import purge_old
from storage import imports
from storage import members as store
from storage.crypto import Cipher
from storage.models import (
    Address,
    AuditEntry,
    Conversation,
    DeliveryAttempt,
    ImportBatch,
    Member,
    MemberAddress,
    Reminder,
)
from tests.scheduler.test_scan import add_member

NOW = datetime(2028, 12, 1, tzinfo=UTC)
LONG_AGO = datetime(2026, 1, 1, tzinfo=UTC)  # more than 730 days before NOW
LATELY = datetime(2028, 11, 1, tzinfo=UTC)


def test_inactive_records_are_removed_after_the_retention_period(engine: Engine, cipher: Cipher) -> None:
    with Session(engine) as session:
        gone_opted = add_member(session, cipher, 1, date(2025, 12, 31), opted_out=True)
        gone_lapsed = add_member(session, cipher, 2, date(2025, 9, 30))
        recent_opted = add_member(session, cipher, 3, date(2025, 12, 31), opted_out=True)
        paying = add_member(session, cipher, 4, date(2028, 11, 30))  # untouched for years, but still protected
        session.execute(update(Member).values(updated_at=LONG_AGO))
        session.execute(update(Member).where(col(Member.id) == gone_lapsed.id).values(lapsed_on=date(2025, 12, 15)))
        session.execute(update(Member).where(col(Member.id) == recent_opted.id).values(updated_at=LATELY))
        reminder = Reminder(
            member_id=paying.id or 0,
            cycle=202601,
            stage="H-7",
            stage_rank=0,
            status="sent",
            send_after=LONG_AGO,
            expires_at=LONG_AGO,
            zone="Asia/Makassar",
            created_at=LONG_AGO,
        )
        session.add(reminder)
        session.flush()
        session.add(DeliveryAttempt(reminder_id=reminder.id or 0, at=LONG_AGO, channel="telegram", outcome="sent"))
        orphan = store.get_or_create_address(session=session, channel="telegram", external_id="abandoned", now=LONG_AGO)
        session.add(Conversation(address_id=orphan.id or 0, state="x", updated_at=LONG_AGO))
        mine = session.exec(select(Address).where(col(Address.external_id) == "s4")).one()
        session.add(Conversation(address_id=mine.id or 0, state="x", updated_at=LONG_AGO))  # a member's: kept
        imports.stage(
            session=session,
            cipher=cipher,
            token="old-preview",
            address_id=orphan.id or 0,
            filename="x.xlsx",
            rows=[],
            now=NOW - timedelta(days=2),
        )
        session.commit()
        ids = [m.id for m in (gone_opted, gone_lapsed, recent_opted, paying)]
        kept_chat = mine.id
    done = purge_old(engine=engine, now=NOW, keep_days=730)
    assert (done.members, done.conversations, done.attempts, done.imports) == (2, 1, 1, 1)
    with Session(engine) as session:
        left = {m.id for m in session.exec(select(Member)).all()}
        assert left == {ids[2], ids[3]}
        assert [r.member_id for r in session.exec(select(Reminder)).all()] == [ids[3]]  # the record of it stays
        assert session.exec(select(DeliveryAttempt)).all() == []  # the old delivery details go
        assert {link.member_id for link in session.exec(select(MemberAddress)).all()} == {ids[2], ids[3]}
        assert [c.address_id for c in session.exec(select(Conversation)).all()] == [kept_chat]
        assert session.exec(select(ImportBatch)).all() == []
        purges = session.exec(select(AuditEntry).where(col(AuditEntry.action) == "member.purge")).all()
        assert sorted(p.subject for p in purges) == sorted(f"member:{i}" for i in ids[:2])
    assert purge_old(engine=engine, now=NOW, keep_days=730).members == 0  # again: nothing left to remove
