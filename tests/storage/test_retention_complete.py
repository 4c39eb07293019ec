"""Retention leaves nothing behind (issue 15, point 8), on SQLite and PostgreSQL: numbers that wrote but never
registered, published files past their expiry, and finished import batches go too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from service.daily import purge_old
from storage import imports
from storage import members as store
from storage.crypto import Cipher
from storage.models import (
    Address,
    ConsentRecord,
    Conversation,
    ImportBatch,
    MediaFile,
    Officer,
    Sponsor,
    SponsorChat,
)
from storage.retention import FINISHED_FOR, STAGED_FOR

NOW = datetime(2028, 12, 1, tzinfo=UTC)
KEEP_DAYS = 730
LONG_AGO = NOW - timedelta(days=KEEP_DAYS + 30)
LATELY = NOW - timedelta(days=10)


def _number(session: Session, last: int, *, created: datetime, wrote: datetime | None) -> int:
    """A WhatsApp number that wrote to the bot: an address, its conversation and a consent decision."""
    address = store.get_or_create_address(
        session=session, channel="whatsapp", external_id=f"+6281200000{last:03d}", now=created
    )
    address.last_inbound_at = wrote
    session.add(address)
    assert address.id is not None
    session.add(Conversation(address_id=address.id, state="{}", updated_at=wrote or created))
    session.add(ConsentRecord(address_id=address.id, consent_version="test", decision="declined", at=wrote or created))
    return address.id


def test_a_number_that_wrote_but_never_registered_goes_after_the_retention_period(engine: Engine) -> None:
    with Session(engine) as session:
        silent = _number(session, 1, created=LONG_AGO, wrote=LONG_AGO)
        never_wrote = _number(session, 2, created=LONG_AGO, wrote=None)
        recent = _number(session, 3, created=LONG_AGO, wrote=LATELY)  # an old number that wrote again lately
        officer = _number(session, 4, created=LONG_AGO, wrote=LONG_AGO)
        session.add(Officer(name="Penyuluh Uji", address_id=officer, created_at=LONG_AGO))
        sponsor = _number(session, 5, created=LONG_AGO, wrote=LONG_AGO)
        session.add(Sponsor(name="Sponsor Uji", invite_code="uji-1", address_id=sponsor, created_at=LONG_AGO))
        staff = _number(session, 6, created=LONG_AGO, wrote=LONG_AGO)
        office = Sponsor(name="Kantor Uji", kind="public", invite_code="uji-2", created_at=LONG_AGO)
        session.add(office)
        session.flush()
        session.add(SponsorChat(sponsor_id=office.id or 0, address_id=staff, created_at=LONG_AGO))
        session.commit()
    done = purge_old(engine=engine, now=NOW, keep_days=KEEP_DAYS)
    assert done.addresses == 2
    with Session(engine) as session:
        left = set(session.exec(select(Address.id)).all())
        assert left == {recent, officer, sponsor, staff}
        assert silent not in left
        assert never_wrote not in left
        assert set(session.exec(select(ConsentRecord.address_id)).all()) == left  # consent records went with them
        assert set(session.exec(select(Conversation.address_id)).all()) <= left
    assert purge_old(engine=engine, now=NOW, keep_days=KEEP_DAYS).addresses == 0  # again: nothing left to remove


def test_published_files_go_once_expired(engine: Engine) -> None:
    with Session(engine) as session:
        for token, expires in (("expired", NOW - timedelta(minutes=1)), ("live", NOW + timedelta(minutes=30))):
            file = MediaFile(token=token, filename="daftar.xlsx", media_type="x", content=b"x", expires_at=expires)
            session.add(file)
        session.commit()
    assert purge_old(engine=engine, now=NOW, keep_days=KEEP_DAYS).media == 1
    with Session(engine) as session:
        assert session.exec(select(MediaFile.token)).all() == ["live"]


def test_finished_import_batches_go_after_a_day(engine: Engine, cipher: Cipher) -> None:
    old, fresh = NOW - max(FINISHED_FOR, STAGED_FOR) - timedelta(hours=1), NOW - timedelta(hours=1)
    with Session(engine) as session:
        admin = store.get_or_create_address(session=session, channel="telegram", external_id="admin", now=NOW)
        batches = {
            "old-done": ("done", old),
            "old-cancelled": ("cancelled", old),
            "old-staged": ("staged", old),
            "old-confirmed": ("confirmed", old),  # still being applied (a restart resumes it): kept
            "fresh-cancelled": ("cancelled", fresh),
            "fresh-staged": ("staged", fresh),
        }
        for token, (_status, at) in batches.items():
            chat, name = admin.id or 0, "x.xlsx"
            imports.stage(session=session, cipher=cipher, token=token, address_id=chat, filename=name, rows=[], now=at)
        session.flush()
        for token, (status, _at) in batches.items():
            batch = session.get(ImportBatch, token)
            assert batch is not None
            batch.status = status
            session.add(batch)
        session.commit()
    assert purge_old(engine=engine, now=NOW, keep_days=KEEP_DAYS).imports == 3
    with Session(engine) as session:
        left = set(session.exec(select(ImportBatch.token).order_by(col(ImportBatch.token))).all())
        assert left == {"old-confirmed", "fresh-cancelled", "fresh-staged"}
