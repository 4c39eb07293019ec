"""Sending, as the rules see it: where a message goes, what a channel answered, and what a channel must offer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

M_contra = TypeVar("M_contra", contravariant=True)

# How long a reminder waits after a message from someone mid-dialog (the BUSY_HOLD_MINUTES setting's default).
BUSY_HOLD = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class Target:
    address_id: int
    channel: str
    external_id: str
    busy_until: datetime | None  # the person is mid-dialog with the bot right now
    sponsor: str | None = None  # the sponsor's name when this is the chat of whoever pays for the member
    last_inbound_at: datetime | None = None  # WhatsApp allows free text only within 24 hours of this


@dataclass(frozen=True, slots=True)
class Sent:
    provider_id: str | None = None


@dataclass(frozen=True, slots=True)
class Uncertain:
    """The request may have reached the channel, but no answer came back (read timed out, connection lost after
    sending): it is sent once more after a back-off unless something shows it arrived."""

    error: str


@dataclass(frozen=True, slots=True)
class RetryLater:
    error: str
    after: float | None = None  # seconds the channel asked us to wait (429 retry_after)


@dataclass(frozen=True, slots=True)
class Unreachable:
    error: str  # blocked, deleted, no such chat: no point trying this address again


@dataclass(frozen=True, slots=True)
class Failed:
    error: str  # the channel refused this message for good


SendResult = Sent | Uncertain | RetryLater | Unreachable | Failed

# How long an uncertain send waits before it goes again: long enough for a hung channel to come back, or for a
# delivery report or a reply to show that it arrived.
UNCERTAIN_BACKOFF = timedelta(minutes=2)


class Sender(Protocol[M_contra]):
    channel: str
    per_second: float
    per_chat_seconds: float

    async def send(self, target: Target, message: M_contra) -> SendResult:
        """Send to `target` (its address, and what the channel needs to know of it, such as the last inbound)."""
        ...
