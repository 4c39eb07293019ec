"""What an effect handler gets and gives back: the `EffectContext` (the message's transaction, the chat, the clock,
the readers and the service's fixed parts) and `Handled` (the audit entry and anything more to say)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.dialogs.core import DialogConfig, Reply
from domain.tariffs import Tariffs
from service.readers import Readers, Setup
from storage.crypto import Cipher

Audit = tuple[str, int, str]  # what the audit log records of an effect: (action, subject id, detail)
Handled = tuple[Audit | None, list[Reply]]  # the audit entry (None: none) and anything more to say


@dataclass(frozen=True, slots=True)
class EffectContext:
    """Where an effect is written: the message's transaction, the chat it came from, and what the dialog read."""

    session: Session
    address_id: int
    channel: str
    now: datetime
    today: date  # the service's local date
    readers: Readers
    cipher: Cipher
    config: DialogConfig
    tariffs: Tariffs
    zone: ZoneInfo

    @classmethod
    def of(
        cls, session: Session, setup: Setup, readers: Readers, *, address_id: int, channel: str, now: datetime
    ) -> EffectContext:
        return cls(
            session=session,
            address_id=address_id,
            channel=channel,
            now=now,
            today=now.astimezone(setup.zone).date(),
            readers=readers,
            cipher=setup.cipher,
            config=setup.config,
            tariffs=setup.tariffs,
            zone=setup.zone,
        )

    @property
    def actor(self) -> str:
        """Who the audit log says did it: `channel:address id`."""
        return f"{self.channel}:{self.address_id}"
