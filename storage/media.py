"""Files published for a channel to fetch by URL. The caller owns the transaction."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session, col

from storage.models import MediaFile


def publish(*, session: Session, filename: str, media_type: str, content: bytes, now: datetime, keep: timedelta) -> str:
    """Store the file under a new unguessable token, dropping every expired one; returns the token."""
    session.execute(delete(MediaFile).where(col(MediaFile.expires_at) <= now))
    token = secrets.token_urlsafe(32)
    session.add(
        MediaFile(token=token, filename=filename, media_type=media_type, content=content, expires_at=now + keep)
    )
    return token


def fetch(*, session: Session, token: str, now: datetime) -> MediaFile | None:
    found = session.get(MediaFile, token)
    return found if found is not None and found.expires_at > now else None
