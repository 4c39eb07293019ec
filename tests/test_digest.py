"""The officers' morning digest, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.conversation import Conversations
from bot.digest import send_digests
from bot.texts import t
from storage.crypto import Cipher
from storage.models import Address, AuditEntry
from storage.officers import create_officer
from tests.test_conversation_db import Person
from tests.test_reminder_replies import Inbox
from tests.test_scan import add_member

TUESDAY = date(2026, 12, 22)
MONDAY = date(2026, 12, 28)
NOW = datetime(2026, 12, 22, 23, 0, tzinfo=UTC)  # 07:00 WITA on the 23rd; the day passed in decides


def bind(conversations: Conversations, name: str, codes: list[str], chat: str) -> None:
    with Session(conversations.engine) as session:
        code = create_officer(session=session, name=name, phone=None, codes=codes, now=NOW).invite_code
        session.commit()
    Person(conversations, chat).say(f"/start {code}")


async def test_each_officer_gets_one_digest_a_day(conversations: Conversations, cipher: Cipher) -> None:
    with Session(conversations.engine) as session:
        add_member(session, cipher, 1, date(2026, 10, 31))
        session.execute(update(Address).values(status="unreachable"))
        session.commit()
    bind(conversations, "Penyuluh Donri", ["73.12.06"], "501")
    bind(conversations, "Penyuluh Marioriwawo", ["73.12.01"], "502")  # nobody to chase there
    inbox = Inbox()
    senders = {"telegram": inbox}
    first = await send_digests(conversations=conversations, senders=senders, today=TUESDAY, now=NOW)
    assert (first.officers, first.sent, first.empty) == (2, 1, 1)
    [(chat, digest)] = inbox.received
    assert chat == "501"
    assert "Peserta 1" in digest.text
    assert digest.template is not None
    assert digest.template.variables == ("Penyuluh Donri", "1")
    officer_chat = Person(conversations, "501")
    assert officer_chat.say("1")[0].text == t("officer.what_happened", name="Peserta 1")  # typed, as on WhatsApp
    again = await send_digests(conversations=conversations, senders=senders, today=TUESDAY, now=NOW)
    assert (again.sent, again.already) == (0, 2)  # a restart, or a second process, sends nothing twice
    monday = await send_digests(conversations=conversations, senders=senders, today=MONDAY, now=NOW)
    assert monday.sent == 2
    assert inbox.received[-1] == ("502", inbox.received[-1][1])
    assert inbox.received[-1][1].text == t("officer.all_clear")
    with Session(conversations.engine) as session:
        views = session.exec(select(AuditEntry).where(col(AuditEntry.action) == "officer.view")).all()
    assert len(views) == 2  # every list shown is audited
