"""The officers' morning digest: each bound officer gets the first page of their list, once a day."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from bot.conversation import AreaLists, Conversations
from bot.dialogs import officer as officer_dialog
from bot.dialogs.core import Context, Outcome, Reply
from scheduler.dispatch import Sender, Sent
from storage import officers
from storage.reminders import Target

log = logging.getLogger(__name__)

_AHEAD = 3  # digests prepared at once on PostgreSQL: two cores here, the database server one of the users
_FAILED: list[Reply] = []  # a digest the database failed to prepare (compared by identity)


@dataclass(slots=True)
class DigestStats:
    officers: int = 0
    sent: int = 0
    empty: int = 0
    already: int = 0
    failed: int = 0


async def send_digests(
    *, conversations: Conversations, senders: Mapping[str, Sender[Reply]], today: date, now: datetime
) -> DigestStats:
    """Send today's digests; an officer already briefed today (by this or another process) is skipped."""
    stats = DigestStats()
    briefed = await asyncio.to_thread(_officers, conversations)
    if not briefed:
        return stats
    try:
        lists = await asyncio.to_thread(_lists, conversations, today)
        await _brief(conversations, senders, briefed, lists, stats, today=today, now=now)
    finally:
        gc.unfreeze()  # the lists may go now
    return stats


async def _brief(
    conversations: Conversations,
    senders: Mapping[str, Sender[Reply]],
    briefed: list[officers.Briefed],
    lists: AreaLists,
    stats: DigestStats,
    *,
    today: date,
    now: datetime,
) -> None:
    """Prepare each officer's digest (claim, list, file, audit: one transaction) and send it, in officer order.
    On PostgreSQL a few are prepared at once, a little ahead of the sending: each mostly waits on the database.
    SQLite has one writer, so there one at a time."""
    ours = [one for one in briefed if one.address.channel in senders]
    stats.officers, stats.already = len(briefed), len(briefed) - len(ours)  # the rest: a channel we do not send on
    ahead = _AHEAD if conversations.engine.dialect.name == "postgresql" else 1
    task = partial(_digest, weekly_all_clear=today.weekday() == 0)  # Mondays

    def prepare(one: officers.Briefed) -> asyncio.Future[list[Reply] | None]:
        claim = partial(_claim, officer_id=one.officer.id or 0, today=today)
        address = one.address
        return asyncio.ensure_future(asyncio.to_thread(
            conversations.run_for, address.channel, address.external_id, task, now, lists=lists, claim=claim,
            briefed=one,
        ))  # fmt: skip

    # Never more than `ahead` prepared and not yet sent: a digest whose claim is committed but that was never sent
    # (the process stopped) is lost for the day, so the window stays small.
    window = deque(prepare(one) for one in ours[:ahead])
    try:
        for number, one in enumerate(ours):
            try:
                replies = await window.popleft()
            except SQLAlchemyError:  # the database failed this one: the others still get theirs
                log.exception("digest for officer %s not prepared", one.officer.id)
                replies = _FAILED
            if number + ahead < len(ours):  # the next one is prepared while this one is sent
                window.append(prepare(ours[number + ahead]))
            if replies is _FAILED:
                stats.failed += 1
            else:
                await _send(senders[one.address.channel], one, replies, stats)
    finally:
        for pending in window:
            pending.cancel()


async def _send(sender: Sender[Reply], one: officers.Briefed, replies: list[Reply] | None, stats: DigestStats) -> None:
    if replies is None:  # briefed already today, by this or another process
        stats.already += 1
        return
    if not replies:
        stats.empty += 1
        return
    address = one.address
    target = Target(address.id or 0, address.channel, address.external_id, None,
                    last_inbound_at=address.last_inbound_at)  # fmt: skip
    for reply in replies:
        result = await sender.send(target, reply)
        if isinstance(result, Sent):
            stats.sent += 1
        else:
            stats.failed += 1
            log.warning("digest for officer %s not delivered (%s)", one.officer.id, type(result).__name__)


def _digest(ctx: Context, out: Outcome, *, weekly_all_clear: bool) -> None:
    officer_dialog.digest(ctx, out, weekly_all_clear=weekly_all_clear)


def _officers(conversations: Conversations) -> list[officers.Briefed]:
    with Session(conversations.engine) as session:
        return officers.officers_to_brief(session=session)


def _lists(conversations: Conversations, today: date) -> AreaLists:
    """Everyone's lists in one pass over all members (one scan beats one index probe per member of a large area)."""
    # Everyone's lists are hundreds of thousands of small objects, alive until the last digest is out. The cycle
    # collector would walk them again and again while they are built and while each digest runs (about a fifth of
    # the run at a million members): it pauses while they are built, then they are set aside until send_digests ends.
    gc.disable()
    try:
        with Session(conversations.engine) as session:
            lists = conversations.area_lists(session, None, today)
            session.commit()  # the listing clock
    finally:
        gc.freeze()
        gc.enable()
    return lists


def _claim(session: Session, *, officer_id: int, today: date) -> bool:
    return officers.claim_digest(session=session, officer_id=officer_id, day=today)
