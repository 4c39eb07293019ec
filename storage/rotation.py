"""Key rotation's data functions: reseal what an older key sealed with the newest, and recompute the NIK lookup
hashes. The caller owns the transaction (`service.keys` runs the rotation a slice at a time)."""

from __future__ import annotations

import json

from sqlmodel import Session, col, select

from storage.crypto import Cipher
from storage.models import Conversation, ImportBatch, Member

SLICE = 1000


def rotate_members(*, session: Session, cipher: Cipher, after: int, limit: int = SLICE) -> list[int]:
    """Reseal the NIK of the next `limit` members with ids above `after`, and their lookup hash; their ids, in order
    (empty when none are left)."""
    members = session.exec(select(Member).where(col(Member.id) > after).order_by(col(Member.id)).limit(limit))
    batch = list(members)
    for member in batch:
        nik = cipher.decrypt(member.nik_encrypted)
        member.nik_encrypted, member.nik_hash = cipher.rotate(member.nik_encrypted), cipher.lookup_hash(nik)
        session.add(member)
    return [member.id or 0 for member in batch]


def rotate_conversations(*, session: Session, cipher: Cipher) -> int:
    """Reseal every conversation's state; how many."""
    count = 0
    for conversation in session.exec(select(Conversation)):
        conversation.state = cipher.rotate(conversation.state)
        session.add(conversation)
        count += 1
    return count


def rotate_staged_imports(*, session: Session, cipher: Cipher) -> int:
    """Reseal the rows of every import still staged; how many imports."""
    count = 0
    for staged in session.exec(select(ImportBatch).where(col(ImportBatch.rows_sealed) != "")):
        staged.rows_sealed = json.dumps([cipher.rotate(part) for part in json.loads(staged.rows_sealed)])
        session.add(staged)
        count += 1
    return count
