"""What a channel's webhook writes besides the conversation: the first sight of a provider's message id (a retried
or replayed webhook is answered once), delivery reports for sent reminders, and files published for a channel to
fetch by URL. Each is one short transaction."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from storage import media, outbox
from storage.models import MediaFile


def first_sight(engine: Engine, *, sid: str, now: datetime) -> bool:
    """Record an inbound message id; False when it was seen before (a retry or a replay)."""
    with Session(engine) as session:
        first = outbox.first_delivery(session=session, sid=sid, now=now)
        session.commit()
    return first


def record_status(engine: Engine, *, sid: str, status: str, error: str, now: datetime) -> None:
    """A channel's delivery report for a message we sent (states only move forward)."""
    with Session(engine) as session:
        outbox.record_delivery(session=session, provider_message_id=sid, status=status, error=error, now=now)
        session.commit()


def publish_media(
    engine: Engine, *, filename: str, media_type: str, content: bytes, now: datetime, keep: timedelta
) -> str:
    """Keep a file for `keep` under a new unguessable token (expired ones go); returns the token."""
    with Session(engine) as session:
        token = media.publish(
            session=session, filename=filename, media_type=media_type, content=content, now=now, keep=keep
        )
        session.commit()
    return token


def fetch_media(engine: Engine, *, token: str, now: datetime) -> MediaFile | None:
    """The file published under `token`, unless it has expired."""
    with Session(engine) as session:
        return media.fetch(session=session, token=token, now=now)
