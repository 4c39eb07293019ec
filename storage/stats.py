"""The queries behind /statistik: members counted in groups, and the daily snapshots. The rules that turn the
groups into numbers are in scheduler/stats.py."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import date

from sqlalchemy import and_, exists, func, not_, true
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from domain.vocabulary import AddressStatus
from storage.db import upsert_insert
from storage.members import SEES
from storage.models import Address, Member, MemberAddress, StatSnapshot
from storage.officers import in_area


def member_groups(*, session: Session, codes: Sequence[str] | None) -> list[tuple[str, date | None, bool, int]]:
    """(kecamatan, covered until, opted out, how many) for the area's members (None: everywhere)."""
    where = true() if codes is None else in_area(codes)
    rows = session.execute(
        sa_select(col(Member.kecamatan_code), col(Member.covered_until), col(Member.opted_out), func.count())
        .where(where)
        .group_by(col(Member.kecamatan_code), col(Member.covered_until), col(Member.opted_out))
    )
    return [(kecamatan, covered_until, opted_out, count) for kecamatan, covered_until, opted_out, count in rows]


def unreachable_counts(
    *, session: Session, codes: Sequence[str] | None, channels: Collection[str] | None = None
) -> dict[str, int]:
    """Members without a working chat, per kecamatan: a chat on a channel not in `channels` (None: every channel),
    one this deployment does not send on, does not count as working."""
    working = exists().where(
        col(MemberAddress.member_id) == col(Member.id),
        col(Address.id) == col(MemberAddress.address_id),
        col(Address.status) == AddressStatus.ACTIVE,
        SEES,
        true() if channels is None else col(Address.channel).in_(list(channels)),
    )
    where = true() if codes is None else in_area(codes)
    rows = session.execute(
        sa_select(col(Member.kecamatan_code), func.count())
        .where(and_(where, not_(working)))
        .group_by(col(Member.kecamatan_code))
    )
    return {row[0]: row[1] for row in rows}


def save_snapshot(*, session: Session, day: date, counts: Mapping[str, Mapping[str, int]]) -> None:
    """A day's numbers per kecamatan, replacing any taken earlier that day."""
    insert = upsert_insert(session)(StatSnapshot)
    for kecamatan, values in counts.items():
        statement = insert.values(day=day, kecamatan_code=kecamatan, **values)
        session.execute(statement.on_conflict_do_update(index_elements=["day", "kecamatan_code"], set_=dict(values)))


def snapshots(*, session: Session, since: date, until: date, kecamatan: Sequence[str] | None) -> list[StatSnapshot]:
    query = select(StatSnapshot).where(col(StatSnapshot.day) >= since, col(StatSnapshot.day) <= until)
    if kecamatan is not None:
        query = query.where(col(StatSnapshot.kecamatan_code).in_(list(kecamatan)))
    return list(session.exec(query))
