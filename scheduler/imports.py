"""Applying confirmed member imports in the background (`service.imports`: a slice per transaction), with
progress messages to the admin who sent the file."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import datetime

from bot.dialogs.core import Reply
from bot.texts import t
from domain.delivery import Sender
from service.conversations import Conversations
from service.imports import Progress, apply_next, confirmed

log = logging.getLogger(__name__)

_REPORTS = 4  # progress messages per import (a quarter at a time), besides the final one


def report(progress: Progress) -> str:
    if progress.finished:
        s = progress.summary
        return t(
            "admin.import_done",
            created=s.created,
            updated=s.updated,
            unchanged=s.unchanged,
            confirmed=s.confirmed,
            flagged=s.flagged,
        )
    return t("admin.import_progress", done=progress.done, total=progress.total)


async def run_imports(
    conversations: Conversations, senders: Mapping[str, Sender[Reply]], clock: Callable[[], datetime]
) -> int:
    """Apply every confirmed import to the end; returns how many finished."""
    finished = 0
    engine, cipher = conversations.engine, conversations.cipher
    for token in await asyncio.to_thread(confirmed, engine):
        reported = 0
        while True:
            progress = await asyncio.to_thread(apply_next, engine=engine, cipher=cipher, token=token, now=clock())
            if progress is None:
                break
            quarter = progress.done * _REPORTS // max(progress.total, 1)
            if progress.finished or quarter > reported:
                reported = quarter
                await _tell(senders, progress)
            if progress.finished:
                finished += 1
                break
    return finished


async def _tell(senders: Mapping[str, Sender[Reply]], progress: Progress) -> None:
    target = progress.target
    sender = senders.get(target.channel) if target is not None else None
    if target is None or sender is None:
        return  # the CLI, or a channel this process does not send on: the batch's state says it all
    result = await sender.send(target, Reply(report(progress)))
    log.info("import progress %s/%s told: %s", progress.done, progress.total, type(result).__name__)
