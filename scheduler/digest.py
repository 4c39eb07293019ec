"""The officers' morning digest: each bound officer gets the first page of their list, once a day."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from bot.dialogs import officer as officer_dialog
from bot.dialogs.core import Context, Outcome, Reply
from domain.delivery import Sender, Sent, Target
from service.conversations import AreaLists, Conversations
from storage import officers

log = logging.getLogger(__name__)

_BATCH = 25  # officers a transaction: few enough that a failed batch or a stopped process costs little


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
        clock = asyncio.ensure_future(asyncio.to_thread(conversations.keep_listing_clock, lists, today))
        try:
            await _brief(conversations, senders, briefed, lists, stats, today=today, now=now)
        finally:
            await _kept(clock)
    finally:
        gc.unfreeze()  # the lists may go now
    return stats


async def _kept(clock: asyncio.Future[None]) -> None:
    """Wait for the listing clock; if the database failed it, the digests are out all the same and tomorrow's run
    writes it down (a member's escalation may come a day late)."""
    try:
        await clock
    except SQLAlchemyError:
        log.exception("listing clock not kept today")


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
    """Prepare the digests a batch of officers at a time (claims, lists, files, audit: one transaction a batch) and
    send them in officer order; the next batch is prepared while this one is sent."""
    ours = [one for one in briefed if one.address.channel in senders]
    stats.officers, stats.already = len(briefed), len(briefed) - len(ours)  # the rest: a channel we do not send on
    task = partial(_digest, weekly_all_clear=today.weekday() == 0)  # Mondays
    claim = partial(_claim, today=today)
    batches = [ours[start : start + _BATCH] for start in range(0, len(ours), _BATCH)]

    def prepare(batch: list[officers.Briefed]) -> asyncio.Future[list[list[Reply] | None]]:
        return asyncio.ensure_future(
            asyncio.to_thread(conversations.run_for, batch, task, now, lists=lists, claim=claim)
        )

    # One batch prepared ahead, no more: digests whose claims are committed but that were never sent (the process
    # stopped) are lost for the day.
    ahead = prepare(batches[0]) if batches else None
    try:
        for number, batch in enumerate(batches):
            assert ahead is not None
            try:
                prepared: list[list[Reply] | None] | None = await ahead
            except SQLAlchemyError:  # the database failed this batch: the others still get theirs
                log.exception("digests for %s officers not prepared", len(batch))
                prepared = None
            ahead = prepare(batches[number + 1]) if number + 1 < len(batches) else None
            if prepared is None:
                stats.failed += len(batch)
                continue
            for one, replies in zip(batch, prepared, strict=True):
                await _send(senders[one.address.channel], one, replies, stats)
    finally:
        if ahead is not None:
            ahead.cancel()


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
    finally:
        gc.freeze()
        gc.enable()
    return lists


def _claim(session: Session, officer_ids: list[int], *, today: date) -> set[int]:
    return officers.claim_digests(session=session, officer_ids=officer_ids, day=today)
