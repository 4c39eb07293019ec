"""The officers' morning digest: each bound officer gets the first page of their list, once a day."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.exc import SQLAlchemyError

from bot.dialogs.core import Reply
from domain.delivery import Sender, Sent, Target
from service import digest as digests
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
    briefed = await asyncio.to_thread(digests.officers_to_brief, conversations.engine)
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
    batches = [ours[start : start + _BATCH] for start in range(0, len(ours), _BATCH)]

    def prepare(batch: list[officers.Briefed]) -> asyncio.Future[list[list[Reply] | None]]:
        return asyncio.ensure_future(
            asyncio.to_thread(digests.prepare, conversations, batch, lists=lists, today=today, now=now)
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
    target = Target(
        address.id or 0, address.channel, address.external_id, None, last_inbound_at=address.last_inbound_at
    )
    sent, failed = await deliver(sender, target, replies, f"digest for officer {one.officer.id}")
    stats.sent, stats.failed = stats.sent + sent, stats.failed + failed


async def deliver(sender: Sender[Reply], target: Target, replies: Sequence[Reply], what: str) -> tuple[int, int]:
    """Send replies to one staff chat in order, outside the outbox (a digest, an office's statement: claimed once
    for the day or the month before); how many were sent and how many not, each failure logged as `what`."""
    sent = failed = 0
    for reply in replies:
        result = await sender.send(target, reply)
        if isinstance(result, Sent):
            sent += 1
        else:
            failed += 1
            log.warning("%s not delivered (%s)", what, type(result).__name__)
    return sent, failed


def _lists(conversations: Conversations, today: date) -> AreaLists:
    """Everyone's lists, kept out of the cycle collector's way."""
    # Everyone's lists are hundreds of thousands of small objects, alive until the last digest is out. The cycle
    # collector would walk them again and again while they are built and while each digest runs (about a fifth of
    # the run at a million members): it pauses while they are built, then they are set aside until send_digests ends.
    gc.disable()
    try:
        lists = digests.everyones_lists(conversations, today)
    finally:
        gc.freeze()
        gc.enable()
    return lists
