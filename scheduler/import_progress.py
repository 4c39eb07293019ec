"""Applying confirmed member imports in the background, a slice per transaction, with progress messages to the
admin who sent the file. Any process may pick a batch up; a restart resumes where the last slice ended."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.dialogs.core import Reply
from bot.texts import t
from domain.delivery import Sender, Target
from service.conversations import Conversations
from storage import imports
from storage.models import Address

log = logging.getLogger(__name__)

_REPORTS = 4  # progress messages per import (a quarter at a time), besides the final one


@dataclass(frozen=True, slots=True)
class Progress:
    done: int
    total: int
    finished: bool
    summary: imports.Applied
    target: Target | None


def apply_next(conversations: Conversations, token: str, now: datetime) -> Progress | None:
    """One slice of a confirmed import, in its own transaction; None when the batch is not (or no longer) to do."""
    with Session(conversations.engine, expire_on_commit=False) as session:
        batch = imports.apply_slice(session=session, cipher=conversations.cipher, token=token, now=now)
        if batch is None:
            return None
        address = session.get(Address, batch.address_id)
        session.commit()
    target = None
    if address is not None and address.id is not None:
        target = Target(address.id, address.channel, address.external_id, None, last_inbound_at=address.last_inbound_at)
    summary = imports.Applied(**json.loads(batch.summary))
    return Progress(batch.applied, batch.total, batch.status == "done", summary, target)


def confirmed(conversations: Conversations) -> list[str]:
    with Session(conversations.engine) as session:
        return imports.confirmed(session=session)


def report(progress: Progress) -> str:
    if progress.finished:
        s = progress.summary
        return t("admin.import_done", created=s.created, updated=s.updated, unchanged=s.unchanged,
                 confirmed=s.confirmed, flagged=s.flagged)  # fmt: skip
    return t("admin.import_progress", done=progress.done, total=progress.total)


async def run_imports(
    conversations: Conversations, senders: Mapping[str, Sender[Reply]], clock: Callable[[], datetime]
) -> int:
    """Apply every confirmed import to the end; returns how many finished."""
    finished = 0
    for token in await asyncio.to_thread(confirmed, conversations):
        reported = 0
        while (progress := await asyncio.to_thread(apply_next, conversations, token, clock())) is not None:
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
