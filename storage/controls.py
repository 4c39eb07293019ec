"""Service-wide switches an admin sets from chat (pause and resume)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from storage.models import Control


def paused(*, session: Session) -> bool:
    row = session.get(Control, PAUSED)
    return row is not None and row.value == "1"


def set_paused(*, session: Session, value: bool, now: datetime) -> None:
    row = session.get(Control, PAUSED) or Control(key=PAUSED, value="0", updated_at=now)
    row.value, row.updated_at = ("1" if value else "0"), now
    session.add(row)


PAUSED = "paused"
