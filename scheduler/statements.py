"""The offices' monthly statements and follow-ups: each office's staff chats get them once a month, through the same
sending path as the officers' digests."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine

from bot.dialogs.core import Reply
from bot.texts import speaking
from domain.delivery import Sender
from scheduler.digest import deliver
from service import statements


@dataclass(slots=True)
class StatementStats:
    offices: int = 0  # offices served today
    sent: int = 0  # messages sent (one to each staff chat)
    failed: int = 0


async def send_statements(
    *,
    engine: Engine,
    setup: statements.Setup,
    senders: Mapping[str, Sender[Reply]],
    today: date,
    now: datetime,
) -> StatementStats:
    """Send the statements and follow-ups due today. Each is claimed before it is sent: a restart or a second process
    sends none twice (one whose process stopped between the claim and the sending is lost for the month)."""
    stats = StatementStats()
    due = await asyncio.to_thread(statements.due_today, engine, setup, channels=set(senders), today=today, now=now)
    for prepared in due:
        stats.offices += 1
        replies: dict[str, Reply] = {}  # worded for each channel the office's staff chat on
        for chat in prepared.chats:
            if chat.channel not in replies:
                with speaking(chat.channel):  # the file, outside the event loop (the thread keeps the channel)
                    replies[chat.channel] = await asyncio.to_thread(statements.message, prepared, setup)
            reply = replies[chat.channel]
            what = f"{prepared.kind} {prepared.statement.month} for office chat {chat.address_id}"
            sent, failed = await deliver(senders[chat.channel], chat, [reply], what)
            stats.sent, stats.failed = stats.sent + sent, stats.failed + failed
    return stats
