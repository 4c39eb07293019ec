"""The officers' morning digest: each bound officer gets the first page of their list, once a day."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial

from sqlmodel import Session

from bot.conversation import AreaLists, Conversations
from bot.dialogs import officer as officer_dialog
from bot.dialogs.core import Context, Outcome, Reply
from scheduler.dispatch import Sender, Sent
from storage import officers
from storage.reminders import Target

log = logging.getLogger(__name__)


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
    with _long_lived_objects():
        lists = await asyncio.to_thread(_lists, conversations, today)
        await _brief(conversations, senders, briefed, lists, stats, today=today, now=now)
    return stats


async def _brief(
    conversations: Conversations,
    senders: Mapping[str, Sender[Reply]],
    briefed: list[tuple[int, str, str, Target]],
    lists: AreaLists,
    stats: DigestStats,
    *,
    today: date,
    now: datetime,
) -> None:
    for officer_id, channel, external_id, target in briefed:
        stats.officers += 1
        sender = senders.get(channel)
        task = partial(_digest, weekly_all_clear=today.weekday() == 0)  # Mondays
        claim = partial(_claim, officer_id=officer_id, today=today)
        replies = None
        if sender is not None:
            replies = await asyncio.to_thread(
                conversations.run_for, channel, external_id, task, now, lists=lists, claim=claim
            )
        if replies is None or sender is None:
            stats.already += 1
            continue
        if not replies:
            stats.empty += 1
            continue
        for reply in replies:
            result = await sender.send(target, reply)
            if isinstance(result, Sent):
                stats.sent += 1
            else:
                stats.failed += 1
                log.warning("digest for officer %s not delivered (%s)", officer_id, type(result).__name__)


@contextmanager
def _long_lived_objects() -> Iterator[None]:
    """Everyone's lists are hundreds of thousands of small objects, all alive until the last digest is out. The
    cycle collector would walk them again and again while they are built and while each digest runs (about a fifth
    of the run's time at a million members): pause it while building, then set them aside (gc.freeze) until done."""
    gc.disable()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.enable()


def _digest(ctx: Context, out: Outcome, *, weekly_all_clear: bool) -> None:
    officer_dialog.digest(ctx, out, weekly_all_clear=weekly_all_clear)


def _officers(conversations: Conversations) -> list[tuple[int, str, str, Target]]:
    with Session(conversations.engine) as session:
        return [
            (
                officer.id or 0,
                address.channel,
                address.external_id,
                Target(
                    address.id or 0, address.channel, address.external_id, None, last_inbound_at=address.last_inbound_at
                ),
            )
            for officer, address in officers.officers_to_brief(session=session)
        ]


def _lists(conversations: Conversations, today: date) -> AreaLists:
    """Everyone's lists in one pass over all members (one scan beats one index probe per member of a large area)."""
    with Session(conversations.engine) as session:
        lists = conversations.area_lists(session, None, today)
        session.commit()  # the listing clock
    gc.freeze()  # built: the collector may run again, without them
    gc.enable()
    return lists


def _claim(session: Session, *, officer_id: int, today: date) -> bool:
    return officers.claim_digest(session=session, officer_id=officer_id, day=today)
