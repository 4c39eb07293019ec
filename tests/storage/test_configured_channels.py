"""An address on a channel this deployment has not configured reaches no one (issue 16, point 5): a member whose
only working chat is on it counts as unreachable in /statistik, the broadcast preview and the officers' list.
SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime

from sqlalchemy import Engine, insert, update
from sqlmodel import Session, col, select

from domain.vocabulary import AddressStatus, Channel
from storage import broadcasts, stats, unreached
from storage.crypto import Cipher
from storage.models import Address, MemberAddress
from tests.outbox_fixtures import T0, bulk_members

COVERED = date(2026, 11, 30)


def _blocked_telegram_working_whatsapp(engine: Engine, cipher: Cipher) -> int:
    """One member: their Telegram chat blocked the bot, their (proven) WhatsApp number works."""
    with Session(engine) as session:
        (member_id,) = bulk_members(session, cipher, 1, covered_until=COVERED)
        link = session.exec(select(MemberAddress).where(col(MemberAddress.member_id) == member_id)).one()
        session.execute(
            update(Address).where(col(Address.id) == link.address_id).values(status=AddressStatus.UNREACHABLE)
        )
        row = {"channel": Channel.WHATSAPP, "external_id": "+6281200000202", "status": "active", "created_at": T0}
        session.execute(insert(Address), [row])
        whatsapp = session.exec(select(Address).where(col(Address.channel) == Channel.WHATSAPP)).one()
        session.execute(
            insert(MemberAddress),
            [{"member_id": member_id, "address_id": whatsapp.id, "created_at": T0, "proof": "staff"}],
        )
        session.commit()
    return member_id


def test_an_unconfigured_channel_is_not_reachable(engine: Engine, cipher: Cipher) -> None:
    member_id = _blocked_telegram_working_whatsapp(engine, cipher)
    telegram_only = {Channel.TELEGRAM}
    with Session(engine) as session:
        # Every channel configured: reachable through WhatsApp, as before.
        assert stats.unreachable_counts(session=session, codes=None) == {}
        assert broadcasts.reachable_chats(session=session, member_ids=[member_id]) == 1
        # Telegram only (before: still "tak terjangkau: 0").
        assert stats.unreachable_counts(session=session, codes=None, channels=telegram_only) == {"73.12.06": 1}
        assert broadcasts.reachable_chats(session=session, member_ids=[member_id], channels=telegram_only) == 0
        both = {Channel.TELEGRAM, Channel.WHATSAPP}
        assert stats.unreachable_counts(session=session, codes=None, channels=both) == {}

        def active_chats(channels: Collection[str] | None) -> int:
            found = unreached.facts(
                session=session,
                codes=None,
                covered_from=date(2026, 10, 31),
                covered_to=COVERED,
                first_cycle=0,
                since=datetime(2026, 10, 1, tzinfo=UTC),
                channels=channels,
            )
            (candidate,) = [c for c in found.candidates if c.id == member_id]
            return candidate.active

        assert active_chats(None) == 1
        assert active_chats(both) == 1
        assert active_chats(telegram_only) == 0
