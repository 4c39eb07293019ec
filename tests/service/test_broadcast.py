"""/siaran through the real service, outbox and dispatcher (SQLite and PostgreSQL): segments, counts, opt-outs."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.dialogs.core import Incoming
from bot.texts import t
from domain.tariffs import default_tariffs
from domain.vocabulary import BROADCAST_STAGE, LinkProof, OfficerRole
from scheduler.dispatch import Dispatcher
from scheduler.messages import ReminderRenderer
from service.conversations import Conversations
from service.directory import BroadcastTexts
from storage import outbox
from storage.crypto import Cipher
from storage.models import Address, Member, MemberAddress, Reminder
from tests.scheduler.test_scan import POLICY, add_member
from tests.service.test_admin import ADMIN_CHAT, staff_chat
from tests.service.test_conversation_db import Person
from tests.service.test_reminder_replies import Inbox

MARIORIWAWO = "73.12.01"


@pytest.fixture
def service(conversations: Conversations) -> Conversations:
    config = dataclasses.replace(conversations.config, admins=frozenset({f"telegram:{ADMIN_CHAT}"}))
    return dataclasses.replace(conversations, config=config)


def dataset(service: Conversations, cipher: Cipher) -> dict[int, int]:
    """Donri-Donri: 1 and 2 behind on October (members 1, 2), 3 paid up, 4 behind but opted out, 5 a fisherman
    behind; Marioriwawo: 6 behind. Members 1 and 2 share a family phone. Returns member id by number."""
    ids: dict[int, int] = {}
    plan: list[tuple[int, date, dict[str, Any]]] = [
        (1, date(2026, 9, 30), {}), (2, date(2026, 9, 30), {}), (3, date(2026, 11, 30), {}),
        (4, date(2026, 9, 30), {"opted_out": True}), (5, date(2026, 9, 30), {"occupation": "nelayan"}),
        (6, date(2026, 9, 30), {"kecamatan_code": MARIORIWAWO, "desa_code": "73.12.01.2003"}),
    ]  # fmt: skip
    with Session(service.engine) as session:
        for n, covered, extra in plan:
            ids[n] = add_member(session, cipher, n, covered, **extra).id or 0
        family = session.exec(select(Address).where(col(Address.external_id) == "s1")).one()
        session.execute(update(Address).where(col(Address.external_id) == "s2").values(status="unreachable"))

        session.add(
            MemberAddress(
                member_id=ids[2], address_id=family.id or 0, created_at=family.created_at, proof=LinkProof.STAFF
            )
        )
        session.commit()
    return ids


def queued(service: Conversations) -> list[int]:
    with Session(service.engine) as session:
        rows = session.exec(select(Reminder).where(col(Reminder.stage) == BROADCAST_STAGE)).all()
        return sorted(r.member_id for r in rows)


def dispatcher(service: Conversations, inbox: Inbox) -> Dispatcher:  # type: ignore[type-arg]
    renderer = ReminderRenderer(
        service.cipher, default_tariffs(), POLICY, "BRILink", "175", broadcasts=BroadcastTexts(service.engine)
    )
    return Dispatcher(engine=service.engine, senders={"telegram": inbox}, render=renderer, policy=POLICY, worker="w1")


async def test_a_broadcast_reaches_its_segment_once_per_chat(service: Conversations, cipher: Cipher) -> None:
    ids = dataset(service, cipher)
    admin = Person(service, ADMIN_CHAT)
    [preview] = admin.say("/siaran Donri-Donri menunggak: Iuran Oktober belum tercatat.")
    # Members 1, 2 and 5 (4 opted out, 3 paid up, 6 elsewhere); 1 and 2 share one working chat.
    assert preview.text == t("broadcast.preview", members=3, chats=2, text="Iuran Oktober belum tercatat.")
    assert queued(service) == []  # nothing before "Kirim"
    assert admin.tap(t("broadcast.send"))[0].text == t("broadcast.queued", members=3)
    assert queued(service) == sorted([ids[1], ids[2], ids[5]])
    with Session(service.engine) as session:  # a payment does not cancel news; opting out cancels everything
        outbox.cancel_pending(session=session, member_id=ids[1], before_cycle=202612, reason="paid")
        session.execute(update(Member).where(col(Member.id) == ids[5]).values(opted_out=True))
        session.commit()
    inbox = Inbox()
    stats = await dispatcher(service, inbox).drain(admin.now + timedelta(minutes=1))
    assert inbox.received == [("s1", inbox.received[0][1])]  # one message for the family phone; 5 opted out since
    message = inbox.received[0][1]
    assert message.text == t("broadcast.message", text="Iuran Oktober belum tercatat.")
    assert message.choices == ()
    assert message.template is not None
    assert (message.template.kind, message.template.variables) == ("broadcast", ("Iuran Oktober belum tercatat.",))
    assert stats.sent == 2  # both members' rows, in one message


def test_segments_by_occupation_and_everywhere(service: Conversations, cipher: Cipher) -> None:
    dataset(service, cipher)
    admin = Person(service, ADMIN_CHAT)
    preview_start = t("broadcast.preview", members=1, chats=1, text="x").split("\n")[0][:30]
    assert admin.say("/siaran nelayan: Musim melaut")[0].text.startswith(preview_start)
    assert "5 peserta" in admin.say("/siaran semua: Libur Idul Fitri")[0].text  # everyone but the one opted out
    assert admin.say("/siaran Antah Berantah: halo")[0].text == t("broadcast.usage", most=1000)
    assert admin.say("/siaran tanpa titik dua")[0].text == t("broadcast.usage", most=1000)
    assert admin.say("/siaran pedagang: halo")[0].text == t("broadcast.nobody")


def test_a_coordinator_broadcasts_inside_their_area_only(service: Conversations, cipher: Cipher) -> None:
    ids = dataset(service, cipher)
    coordinator = staff_chat(service, "703", OfficerRole.COORDINATOR, [MARIORIWAWO])
    assert coordinator.say("/siaran Donri-Donri: halo")[0].text == t("broadcast.nobody")
    [preview] = coordinator.say("/siaran: Rapat kelompok tani hari Sabtu")
    assert preview.text.startswith(t("broadcast.preview", members=1, chats=1, text="").split("\n")[0])
    coordinator.tap(t("broadcast.send"))
    assert queued(service) == [ids[6]]


def test_cancel_and_stale_choices_send_nothing(service: Conversations, cipher: Cipher) -> None:
    dataset(service, cipher)
    admin = Person(service, ADMIN_CHAT)
    admin.say("/siaran semua: Uji coba")
    assert admin.tap(t("admin.import_cancel"))[0].text == t("broadcast.cancelled")
    assert admin.say("/siaran semua: Uji coba")[0].choices
    stranger = Person(service, "700")
    assert stranger.say("/siaran semua: Uji coba") == stranger.say("/tidakada")  # as a command that does not exist

    assert admin.say(Incoming.choice("bc:go:ffffffffffffffffffffffff"))[0].text == t("broadcast.stale")
    assert queued(service) == []


def test_a_broadcast_shows_in_the_members_timeline(service: Conversations, cipher: Cipher) -> None:
    dataset(service, cipher)
    admin = Person(service, ADMIN_CHAT)
    admin.say("/siaran nelayan: Musim melaut")
    admin.tap(t("broadcast.send"))
    timeline = admin.say("/peserta 7312060101809005")[0].text
    assert t("why.broadcast", id=1) in timeline


async def test_a_typed_answer_after_a_broadcast_is_not_taken_for_it(service: Conversations, cipher: Cipher) -> None:
    ids = dataset(service, cipher)
    admin = Person(service, ADMIN_CHAT)
    admin.say("/siaran nelayan: Musim melaut")
    admin.tap(t("broadcast.send"))
    await dispatcher(service, Inbox()).drain(admin.now + timedelta(minutes=1))
    with Session(service.engine) as session:
        chat = session.exec(select(Address).where(col(Address.external_id) == "s5")).one()
        sent = session.exec(select(Reminder).where(col(Reminder.member_id) == ids[5])).one()
        assert sent.status == "sent"
        assert outbox.latest_sent_to_address(session=session, address_id=chat.id or 0) == []
        assert outbox.reminder_of_address(session=session, address_id=chat.id or 0, reminder_id=sent.id or 0) is None
