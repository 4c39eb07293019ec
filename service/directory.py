"""What the reminder messages look up while thousands go out, read once and kept: each member's officer by area
(reread every few minutes) and the broadcasts' texts (read once each)."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import Engine
from sqlmodel import Session

from storage import broadcasts, officers


class OfficerDirectory:
    """A member's officer by their desa (or its kecamatan), for the reminder's "who to ask". Reread every few
    minutes: officers change rarely, reminders go out by the thousand."""

    def __init__(self, engine: Engine, *, ttl: float = 300.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._engine, self._ttl, self._clock = engine, ttl, clock
        self._read_at: float | None = None
        self._by_area: dict[str, list[tuple[str, str | None]]] = {}

    def __call__(self, desa_code: str) -> tuple[str, str | None] | None:
        if self._read_at is None or self._clock() - self._read_at > self._ttl:
            with Session(self._engine) as session:
                self._by_area = officers.contacts_by_area(session=session)
            self._read_at = self._clock()
        found = self._by_area.get(desa_code) or self._by_area.get(desa_code.rsplit(".", 1)[0])
        return found[0] if found else None


class BroadcastTexts:
    """A broadcast's text by id, read once: thousands of messages carry the same one."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._known: dict[int, str] = {}

    def __call__(self, broadcast_id: int) -> str | None:
        if broadcast_id not in self._known:
            with Session(self._engine) as session:
                self._known.update(broadcasts.texts(session=session, ids=[broadcast_id]))
        return self._known.get(broadcast_id)
