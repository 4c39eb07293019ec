"""The inbox (issue 16): inbound updates and messages stored before they are acknowledged, then taken one at a time
per chat, in the chat's order, by whichever process is free. A row's life: stored → claimed (a lease) → processed
(in the dialog step's own transaction) → deleted once its answer is sent. A lease that runs out gives the row to
whoever asks next: a claimed row is processed again (its step was never committed), a processed row is dropped (its
answer is not sent twice). The caller owns the transaction."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, exists, text, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, or_, select

from storage import outbox
from storage.models import InboxEntry


def store(
    *, session: Session, channel: str, chat: str, key: str, sequence: int, payload: str, now: datetime
) -> InboxEntry | None:
    """Keep one update or message; None when its key (a Telegram update_id, a Twilio MessageSid) was seen before."""
    if not outbox.first_delivery(session=session, sid=key, now=now):
        return None
    if session.get_bind().dialect.name == "postgresql":
        # One chat's messages stored side by side are ordered: whoever stores second sees the first (claim_stored).
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:chat))"), {"chat": chat})
    entry = InboxEntry(channel=channel, chat=chat, sequence=sequence, payload=payload, received_at=now)
    session.add(entry)
    session.flush()
    return entry


def _earlier_alive(entry: type[InboxEntry], now: datetime) -> ColumnElement[bool]:
    """Another row of the same chat that comes first and is not finished: it must be answered before `entry`."""
    other = aliased(InboxEntry)
    first = or_(
        col(other.sequence) < col(entry.sequence),
        (col(other.sequence) == col(entry.sequence)) & (col(other.id) < col(entry.id)),
    )
    unfinished = or_(col(other.processed_at).is_(None), col(other.lease_until) >= now)
    return exists().where(col(other.chat) == col(entry.chat), first, unfinished)


def _free(now: datetime) -> ColumnElement[bool]:
    return col(InboxEntry.processed_at).is_(None) & or_(
        col(InboxEntry.lease_until).is_(None), col(InboxEntry.lease_until) < now
    )


def claim_next(
    *, session: Session, now: datetime, token: str, lease: timedelta, channels: tuple[str, ...]
) -> InboxEntry | None:
    """The oldest row of these channels that is first in its chat and free (never claimed, or its lease ran out),
    leased to `token`. Answered rows whose lease ran out are dropped first (their answer was being sent)."""
    session.execute(
        delete(InboxEntry).where(col(InboxEntry.processed_at).is_not(None), col(InboxEntry.lease_until) < now)
    )
    query = (
        select(InboxEntry)
        .where(col(InboxEntry.channel).in_(channels), _free(now), ~_earlier_alive(InboxEntry, now))
        .order_by(col(InboxEntry.id))
        .limit(1)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    entry = session.exec(query).first()
    if entry is None:
        return None
    entry.lease_until, entry.token, entry.attempts = now + lease, token, entry.attempts + 1
    session.add(entry)
    session.flush()
    return entry


def claim_stored(*, session: Session, entry: InboxEntry, now: datetime, token: str, lease: timedelta) -> bool:
    """Lease a row just stored (same transaction) when nothing of its chat comes before it: it can be answered at
    once, in the request. False: an earlier message of the chat is still open, the row waits for a worker."""
    if session.exec(
        select(InboxEntry.id).where(col(InboxEntry.id) == entry.id, _earlier_alive(InboxEntry, now))
    ).first():
        return False
    entry.lease_until, entry.token, entry.attempts = now + lease, token, 1
    session.add(entry)
    session.flush()
    return True


def mark_processed(*, session: Session, entry_id: int, token: str, now: datetime, lease: timedelta) -> None:
    """In the dialog step's transaction: the row is processed, and its chat's next one waits while the answer is
    sent. Raises LeaseLost (the step must roll back) when the lease ran out and another process took the row."""
    done = session.execute(
        update(InboxEntry)
        .where(col(InboxEntry.id) == entry_id, col(InboxEntry.token) == token, col(InboxEntry.processed_at).is_(None))
        .values(processed_at=now, lease_until=now + lease, payload="")
        .execution_options(synchronize_session=False)
    )
    if not done.rowcount:  # type: ignore[attr-defined]
        raise LeaseLost(entry_id)


def finish(*, session: Session, entry_id: int, token: str) -> None:
    """The answer is sent (or there was none): the row goes."""
    session.execute(delete(InboxEntry).where(col(InboxEntry.id) == entry_id, col(InboxEntry.token) == token))


def release(*, session: Session, entry_id: int, token: str, retry_at: datetime) -> None:
    """Processing failed before its step was committed: free the row again at `retry_at`."""
    session.execute(
        update(InboxEntry)
        .where(col(InboxEntry.id) == entry_id, col(InboxEntry.token) == token, col(InboxEntry.processed_at).is_(None))
        .values(lease_until=retry_at, token=None)
        .execution_options(synchronize_session=False)
    )


def pending(*, session: Session) -> int:
    """Rows not yet finished (for tests and health)."""
    return len(session.exec(select(InboxEntry.id)).all())


class LeaseLost(Exception):
    """Another process took this row after its lease ran out: this step must not be committed."""
