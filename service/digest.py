"""The morning digest's transactions: who is to be briefed, everyone's lists in one read, and the digests prepared a
batch of officers at a time (each officer claimed for the day, the digest written and audited: one transaction a
batch). Sending them is the scheduler's."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import Engine
from sqlmodel import Session

from bot.dialogs import officer as officer_dialog
from bot.dialogs.core import Context, Outcome, Reply
from bot.texts import speaking
from service.conversations import AreaLists, Conversations
from storage import officers


def officers_to_brief(engine: Engine) -> list[officers.Briefed]:
    """Every bound officer, with the chat their digest goes to."""
    with Session(engine) as session:
        return officers.officers_to_brief(session=session)


def everyones_lists(conversations: Conversations, today: date) -> AreaLists:
    """Every officer's list, read in one pass over all members (one scan beats one index probe per member of a large
    area)."""
    with Session(conversations.engine) as session:
        return conversations.area_lists(session, None, today)


def prepare(
    conversations: Conversations,
    batch: Sequence[officers.Briefed],
    *,
    lists: AreaLists,
    today: date,
    now: datetime,
) -> list[list[Reply] | None]:
    """The digests of a batch of officers, in one transaction; None for an officer already briefed today (by this or
    another process). Mondays, an officer with nobody to visit hears so."""
    weekly_all_clear = today.weekday() == 0

    def digest(ctx: Context, out: Outcome) -> None:
        officer_dialog.digest(ctx, out, weekly_all_clear=weekly_all_clear)

    def claim(session: Session, officer_ids: list[int]) -> set[int]:
        return officers.claim_digests(session=session, officer_ids=officer_ids, day=today)

    # Worded for the chat each digest goes to: a transaction per channel present in the batch.
    said: dict[int, list[Reply] | None] = {}
    for channel in sorted({one.address.channel for one in batch}):
        group = [one for one in batch if one.address.channel == channel]
        with speaking(channel):
            done = conversations.run_for(group, digest, now, lists=lists, claim=claim)
        said |= {id(one): replies for one, replies in zip(group, done, strict=True)}
    return [said[id(one)] for one in batch]
