"""Applying confirmed member imports, a slice per transaction: any process may pick a batch up, and a restart resumes
where the last slice ended."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from domain.delivery import Target
from storage import imports
from storage.crypto import Cipher
from storage.models import Address


@dataclass(frozen=True, slots=True)
class Progress:
    done: int
    total: int
    finished: bool
    summary: imports.Applied
    target: Target | None  # the chat of the admin who sent the file


def apply_next(*, engine: Engine, cipher: Cipher, token: str, now: datetime) -> Progress | None:
    """One slice of a confirmed import, in its own transaction; None when the batch is not (or no longer) to do."""
    with Session(engine, expire_on_commit=False) as session:
        batch = imports.apply_slice(session=session, cipher=cipher, token=token, now=now)
        if batch is None:
            return None
        address = session.get(Address, batch.address_id)
        session.commit()
    target = None
    if address is not None and address.id is not None:
        target = Target(address.id, address.channel, address.external_id, None, last_inbound_at=address.last_inbound_at)
    summary = imports.Applied(**json.loads(batch.summary))
    return Progress(batch.applied, batch.total, batch.status == "done", summary, target)


def confirmed(engine: Engine) -> list[str]:
    """The tokens of the confirmed imports still to apply."""
    with Session(engine) as session:
        return imports.confirmed(session=session)
