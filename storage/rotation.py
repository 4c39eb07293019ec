"""Key rotation: everything sealed with an older key is sealed again with the newest, and every NIK lookup hash is
recomputed with the current lookup key. Run with the bot stopped (`sipakainge rotate-keys`): afterwards the old
keys can be removed from the settings. Works in slices, each its own transaction, so it can be run again after an
interruption (already rotated values simply rotate once more)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from storage.crypto import Cipher
from storage.models import Conversation, ImportBatch, Member

SLICE = 1000


@dataclass(slots=True)
class Rotated:
    members: int = 0
    conversations: int = 0
    imports: int = 0


def rotate_keys(*, engine: Engine, cipher: Cipher) -> Rotated:
    done = Rotated()
    last = 0
    while True:
        with Session(engine) as session:
            members = session.exec(select(Member).where(col(Member.id) > last).order_by(col(Member.id)).limit(SLICE))
            batch = list(members)
            for member in batch:
                nik = cipher.decrypt(member.nik_encrypted)
                member.nik_encrypted, member.nik_hash = cipher.rotate(member.nik_encrypted), cipher.lookup_hash(nik)
                session.add(member)
            ids = [member.id or 0 for member in batch]
            session.commit()
        if not ids:
            break
        done.members += len(ids)
        last = ids[-1]
    with Session(engine) as session:
        for conversation in session.exec(select(Conversation)):
            conversation.state = cipher.rotate(conversation.state)
            session.add(conversation)
            done.conversations += 1
        for staged in session.exec(select(ImportBatch).where(col(ImportBatch.rows_sealed) != "")):
            staged.rows_sealed = json.dumps([cipher.rotate(part) for part in json.loads(staged.rows_sealed)])
            session.add(staged)
            done.imports += 1
        session.commit()
    return done
