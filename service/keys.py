"""Key rotation: everything sealed with an older key is sealed again with the newest, and every NIK lookup hash is
recomputed with the current lookup key. Run with the bot stopped (`sipakainge rotate-keys`): afterwards the old
keys can be removed from the settings. Works in slices, each its own transaction, so it can be run again after an
interruption (already rotated values simply rotate once more)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlmodel import Session

from storage import rotation
from storage.crypto import Cipher


@dataclass(slots=True)
class Rotated:
    members: int = 0
    conversations: int = 0
    imports: int = 0


def rotate_keys(*, engine: Engine, cipher: Cipher) -> Rotated:
    """The members a slice per transaction, then the conversations and the staged imports in one."""
    done = Rotated()
    last = 0
    while True:
        with Session(engine) as session:
            ids = rotation.rotate_members(session=session, cipher=cipher, after=last)
            session.commit()
        if not ids:
            break
        done.members += len(ids)
        last = ids[-1]
    with Session(engine) as session:
        done.conversations = rotation.rotate_conversations(session=session, cipher=cipher)
        done.imports = rotation.rotate_staged_imports(session=session, cipher=cipher)
        session.commit()
    return done
