"""Key rotation on SQLite and PostgreSQL: afterwards only the new keys are needed, and NIK lookups still work."""

from __future__ import annotations

import dataclasses
from datetime import date

from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.texts import t
from service.conversations import Conversations
from service.keys import rotate_keys
from storage.crypto import Cipher, new_encryption_key, new_lookup_key
from storage.models import Conversation, Member
from tests.dialog_driver import HAPPY_PATH
from tests.scheduler.test_scan import add_member
from tests.service.test_conversation_db import Person

MEMBERS = 2501  # more than two slices


def test_after_rotation_the_old_keys_are_not_needed(engine: Engine, conversations: Conversations) -> None:
    old_key, old_lookup = new_encryption_key(), new_lookup_key()
    old = Cipher(encryption_keys=[old_key], lookup_key=old_lookup)
    with Session(engine) as session:
        for index in range(1, MEMBERS + 1):
            add_member(session, old, index, date(2026, 10, 31))
        session.commit()
    before = dataclasses.replace(conversations, cipher=old)
    Person(before, "1001").register_until_summary()  # a conversation in progress, sealed with the old key
    new_key, new_lookup = new_encryption_key(), new_lookup_key()
    done = rotate_keys(engine=engine, cipher=Cipher(encryption_keys=[new_key, old_key], lookup_key=new_lookup))
    assert (done.members, done.conversations) == (MEMBERS, 1)
    only_new = Cipher(encryption_keys=[new_key], lookup_key=new_lookup)
    with Session(engine) as session:
        members = session.exec(select(Member)).all()
        states = session.exec(select(Conversation)).all()
    assert {only_new.decrypt(m.nik_encrypted) for m in members} == {
        f"731206010180{9000 + i:04d}" for i in range(1, MEMBERS + 1)
    }
    assert all(m.nik_hash == only_new.lookup_hash(only_new.decrypt(m.nik_encrypted)) for m in members)
    assert [only_new.decrypt(s.state) != "" for s in states] == [True]
    # The bot runs on the new keys alone: the conversation continues, and a registered NIK is still recognised.
    after = Person(dataclasses.replace(conversations, cipher=only_new), "1001")
    assert after.say("/start")[0].text.startswith(t("resume.continue"))
    member = Person(dataclasses.replace(conversations, cipher=only_new), "1002")
    member.say("/start")
    for step, answer in HAPPY_PATH:
        if step == "nik":
            assert member.say("7312060101809001")[0].text.startswith(t("ask.claim"))  # recognised as registered
            break
        member.say(answer)
