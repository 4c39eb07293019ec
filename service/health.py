"""The database's health for /healthz: each part "ok" or "down", and the first error's kind (never its text: it
could carry a host name or a password)."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from storage import health


def check(engine: Engine) -> dict[str, str]:
    parts = {"database": "down", "write": "down"}
    try:
        with Session(engine) as session:
            health.read(session=session)
            parts["database"] = "ok"
            health.write(session=session)
            parts["write"] = "ok"
            session.rollback()  # nothing was changed; the write was only tried
    except SQLAlchemyError as error:
        parts["error"] = type(getattr(error, "orig", None) or error).__name__
    return parts
