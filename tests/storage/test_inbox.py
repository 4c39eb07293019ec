"""The inbox's rules (storage/inbox.py, service/inbound.py), on SQLite and PostgreSQL: a key is stored once; a chat's
rows are taken one at a time in the chat's order; a lease that runs out gives a claimed row to someone else, whose
step then commits and the first one's cannot; the payload is sealed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from service import inbound
from storage import inbox
from storage.crypto import Cipher
from storage.models import InboxEntry

NOW = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)


def _receive(engine: Engine, cipher: Cipher, chat: str, key: str, sequence: int) -> inbound.Stored | None:
    return inbound.receive(
        engine, cipher, channel="telegram", external_id=chat, key=key, sequence=sequence, payload=f"said {key}", now=NOW
    )


def _claim(engine: Engine, cipher: Cipher, token: str, now: datetime = NOW) -> inbound.Claimed | None:
    return inbound.claim(engine, cipher, channels=("telegram",), token=token, lease=LEASE, now=now)


def _processed(engine: Engine, claimed: inbound.Claimed, token: str, now: datetime = NOW) -> None:
    with Session(engine) as session:
        inbox.mark_processed(session=session, entry_id=claimed.entry_id, token=token, now=now, lease=LEASE)
        session.commit()


def test_a_key_is_stored_once_and_sealed(engine: Engine, cipher: Cipher) -> None:
    assert _receive(engine, cipher, "4242", "tg:1", 1) is not None
    assert _receive(engine, cipher, "4242", "tg:1", 1) is None  # Telegram sent it again
    with Session(engine) as session:
        [row] = session.exec(select(InboxEntry)).all()
    assert "said" not in row.payload
    assert "4242" not in row.chat
    claimed = _claim(engine, cipher, "a")
    assert claimed is not None
    assert claimed.payload == "said tg:1"


def test_a_chats_rows_are_taken_one_at_a_time_in_its_order(engine: Engine, cipher: Cipher) -> None:
    # Stored out of order (update 11 before 10), another chat between them.
    for chat, key, sequence in [("1", "tg:11", 11), ("2", "tg:12", 12), ("1", "tg:10", 10)]:
        _receive(engine, cipher, chat, key, sequence)
    first, second = _claim(engine, cipher, "a"), _claim(engine, cipher, "b")
    assert first is not None
    assert second is not None
    assert {first.payload, second.payload} == {"said tg:10", "said tg:12"}  # chat 1's update 11 waits for 10
    assert _claim(engine, cipher, "c") is None
    one = first if first.payload == "said tg:10" else second
    _processed(engine, one, "a" if one is first else "b")
    assert _claim(engine, cipher, "c") is None  # processed, its answer being sent: 11 still waits
    with Session(engine) as session:
        inbox.finish(session=session, entry_id=one.entry_id, token="a" if one is first else "b")
        session.commit()
    after = _claim(engine, cipher, "c")
    assert after is not None
    assert after.payload == "said tg:11"


def test_a_dead_claim_is_taken_again_after_its_lease_and_the_late_step_cannot_commit(
    engine: Engine, cipher: Cipher
) -> None:
    _receive(engine, cipher, "1", "tg:1", 1)
    dead = _claim(engine, cipher, "dead")
    assert dead is not None
    assert _claim(engine, cipher, "alive", NOW + LEASE / 2) is None  # still leased
    later = NOW + LEASE + timedelta(seconds=1)
    again = _claim(engine, cipher, "alive", later)
    assert again is not None
    assert again.entry_id == dead.entry_id
    assert again.attempts == 2
    _processed(engine, again, "alive", later)
    with pytest.raises(inbox.LeaseLost):  # the first process, back from a long pause, must roll its step back
        _processed(engine, dead, "dead", later)


def test_an_answer_whose_sending_died_is_not_sent_again(engine: Engine, cipher: Cipher) -> None:
    _receive(engine, cipher, "1", "tg:1", 1)
    _receive(engine, cipher, "1", "tg:2", 2)
    claimed = _claim(engine, cipher, "dead")
    assert claimed is not None
    _processed(engine, claimed, "dead")
    later = NOW + LEASE + timedelta(seconds=1)
    nxt = _claim(engine, cipher, "alive", later)  # the processed row is dropped, the chat's next one comes
    assert nxt is not None
    assert nxt.payload == "said tg:2"
