"""Broadcasts: an admin's message to a segment of members (area, standing, occupation), staged for a preview, then
queued in the outbox as one row per member, which the dispatcher sends under the channels' rate limits like any
reminder. Members who opted out are never in a segment (and the dispatcher checks again when it sends)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, true
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from domain.vocabulary import BROADCAST_STAGE, AddressStatus, ReminderStatus
from storage.db import upsert_insert
from storage.members import SEES
from storage.models import Address, Broadcast, Member, MemberAddress, Reminder
from storage.officers import in_area

SEND_FOR = timedelta(days=3)  # not sent by then (paused, unreachable): dropped, it is news no longer
_CHUNK = 5000


@dataclass(frozen=True, slots=True)
class Segment:
    codes: tuple[str, ...] | None  # kecamatan/desa codes; None: everywhere
    covered: Callable[[date | None], bool] | None = None  # which covered-until dates (a standing) are in
    occupation: str | None = None


def members(*, session: Session, segment: Segment) -> list[int]:
    """The ids of the segment's members who have not opted out."""
    where = [col(Member.opted_out).is_(False), true() if segment.codes is None else in_area(segment.codes)]
    if segment.occupation is not None:
        where.append(col(Member.occupation) == segment.occupation)
    if segment.covered is not None:
        dates = session.exec(select(col(Member.covered_until)).where(*where).distinct()).all()
        wanted = [d for d in dates if segment.covered(d)]
        if not wanted and not segment.covered(None):
            return []
        chosen = col(Member.covered_until).in_([d for d in wanted if d is not None])
        where.append(chosen | col(Member.covered_until).is_(None) if segment.covered(None) else chosen)
    return [i for i in session.exec(select(col(Member.id)).where(*where).order_by(col(Member.id))).all() if i]


def reachable_chats(*, session: Session, member_ids: Sequence[int], channels: Collection[str] | None = None) -> int:
    """How many working chats those members have (a family phone counts once) on `channels` (None: every channel):
    what the preview promises."""
    found: set[int] = set()
    for start in range(0, len(member_ids), _CHUNK):
        found.update(
            session.execute(
                sa_select(func.distinct(col(MemberAddress.address_id)))
                .join(Address, col(Address.id) == col(MemberAddress.address_id))
                .where(
                    col(MemberAddress.member_id).in_(member_ids[start : start + _CHUNK]),
                    col(Address.status) == AddressStatus.ACTIVE,
                    SEES,
                    true() if channels is None else col(Address.channel).in_(list(channels)),
                )
            ).scalars()
        )
    return len(found)


def stage(*, session: Session, token: str, address_id: int, text: str, segment: str, now: datetime) -> None:
    session.add(Broadcast(token=token, address_id=address_id, text=text, segment=segment[:200], created_at=now))


def decide(*, session: Session, token: str, address_id: int, go: bool) -> Broadcast | None:
    """Confirm or cancel a staged broadcast of this chat's; None when there is none (or it is decided already)."""
    broadcast = session.exec(select(Broadcast).where(col(Broadcast.token) == token).with_for_update()).first()
    if broadcast is None or broadcast.address_id != address_id or broadcast.status != "staged":
        return None
    broadcast.status = "queued" if go else "cancelled"
    session.add(broadcast)
    return broadcast


def queue(*, session: Session, broadcast: Broadcast, member_ids: Sequence[int], zone: str, now: datetime) -> int:
    """One outbox row per member; the dispatcher takes it from there."""
    assert broadcast.id is not None
    rows = [
        {
            "member_id": member_id,
            "cycle": broadcast.id,
            "stage": BROADCAST_STAGE,
            "stage_rank": 0,
            "status": ReminderStatus.PENDING,
            "send_after": now,
            "expires_at": now + SEND_FOR,
            "zone": zone,
            "attempts": 0,
            "reason": "",
            "created_at": now,
        }
        for member_id in member_ids
    ]
    insert = upsert_insert(session)(Reminder)
    for start in range(0, len(rows), 2000):  # 12 columns a row: SQLite takes at most 32,766 parameters
        session.execute(insert.values(rows[start : start + 2000]).on_conflict_do_nothing())
    broadcast.recipients = len(rows)
    session.add(broadcast)
    return len(rows)


def texts(*, session: Session, ids: Sequence[int]) -> dict[int, str]:
    query = sa_select(col(Broadcast.id), col(Broadcast.text)).where(col(Broadcast.id).in_(list(ids)))
    return {row[0]: row[1] for row in session.execute(query)}
