"""No NIK and no phone number in the logs (UU 27/2022): the busiest flows run with every logger at DEBUG, and the
captured records are scanned."""

from __future__ import annotations

import dataclasses
import logging
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import Session, col

from bot.dialogs.core import Incoming
from bot.texts import t
from domain.delivery import Failed, Unreachable
from scheduler.digest import send_digests
from scheduler.dispatch import Dispatcher
from scheduler.imports import run_imports
from service.conversations import Conversations
from storage.crypto import Cipher
from storage.models import Address
from storage.officers import create_officer
from tests.scheduler.test_scan import POLICY, add_member
from tests.service.test_admin import ADMIN_CHAT
from tests.service.test_broadcast import dispatcher
from tests.service.test_conversation_db import Person
from tests.service.test_import import NOW, branch_file
from tests.service.test_reminder_replies import Inbox

NIK = re.compile(r"(?<!\d)\d{16}(?!\d)")
PHONE = re.compile(r"(?<!\d)(?:\+?62|0)[\s-]?8[\d\s-]{7,13}\d(?!\d)")


@dataclasses.dataclass
class FlakyInbox(Inbox):
    """Fails the way channels fail, with messages that could tempt a logger to print the recipient."""

    tried: list[str] = dataclasses.field(default_factory=list)

    async def send(self, target, message):  # type: ignore[no-untyped-def]
        self.tried.append(target.external_id)
        if target.external_id.endswith("2"):
            return Unreachable(f"chat {target.external_id} blocked the bot")
        if target.external_id.endswith("3"):
            return Failed(f"timeout talking to {target.external_id}")
        return await super().send(target, message)


async def test_busy_flows_log_no_nik_or_phone(
    conversations: Conversations, cipher: Cipher, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    service = dataclasses.replace(
        conversations, config=dataclasses.replace(conversations.config, admins=frozenset({f"telegram:{ADMIN_CHAT}"}))
    )
    farmer = Person(service, "1001")
    farmer.register_until_summary()
    farmer.say("1")
    farmer.say("/status")
    twin = Person(service, "1002")  # the same NIK again: refused, and logged without it
    twin.register_until_summary()
    twin.say("1")
    with Session(service.engine) as session:
        for index in range(1, 6):
            add_member(session, cipher, index, date(2026, 9, 30), phone=f"+62812000090{index:02d}")
        code = create_officer(
            session=session, name="Penyuluh", phone="+6281200009999", codes=["73.12.06"], now=NOW
        ).invite_code
        session.execute(update(Address).where(col(Address.external_id) == "s4").values(status="unreachable"))
        session.commit()
    Person(service, "1003").say(f"/start {code}")  # the officer's chat: its digest will fail to go out
    admin = Person(service, ADMIN_CHAT)
    admin.say(Incoming.file("cabang.xlsx", branch_file()))
    admin.tap(t("admin.import_go"))
    await run_imports(service, {"telegram": Inbox()}, lambda: NOW)
    admin.say("/siaran semua: Kantor tutup hari Jumat")
    admin.tap(t("broadcast.send"))
    admin.say("/peserta 7312060101809001")
    admin.say("/ekspor")
    # WhatsApp addresses are phone numbers: their failures are where a number would slip into a log line.
    whatsapp = FlakyInbox(channel="whatsapp")
    renderer = dispatcher(service, whatsapp).render
    sending = Dispatcher(
        engine=service.engine, senders={"whatsapp": whatsapp}, render=renderer, policy=POLICY, worker="w1"
    )
    stats = await sending.drain(admin.now + timedelta(minutes=1))
    assert stats.unreachable + stats.failed > 0  # failures happened, and were logged
    assert any(PHONE.search(number) for number in whatsapp.tried)  # WhatsApp tried, at members' numbers
    await send_digests(conversations=service, senders={"telegram": FlakyInbox()}, today=NOW.date(), now=NOW)
    logged = [record.getMessage() for record in caplog.records] + [caplog.text]  # tracebacks included
    assert any("not delivered" in message for message in logged)  # the failures were logged
    for message in logged:
        assert not NIK.search(message), message
        assert not PHONE.search(message), message
