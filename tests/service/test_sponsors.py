"""Sponsored members: the reminder goes to whoever pays, a note to the member, and either can answer it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.dialogs.core import DialogConfig, Incoming
from bot.texts import t
from domain.policy import ReminderPolicy
from domain.regions import RegionIndex
from domain.rules import DEFAULT_STAGES, parse_stages
from domain.tariffs import default_tariffs
from scheduler.dispatch import Dispatcher
from scheduler.messages import ReminderRenderer
from service.conversations import Conversations
from storage.crypto import Cipher
from storage.models import DeliveryAttempt, Member
from storage.scan import scan
from storage.sponsors import create_sponsor
from tests.dialog_driver import HAPPY_PATH, Chat
from tests.service.test_conversation_db import Person
from tests.service.test_reminder_replies import Inbox

POLICY = ReminderPolicy(stages=parse_stages(DEFAULT_STAGES))
ZONES = {"73": ZoneInfo("Asia/Makassar")}
MORNING = datetime(2026, 12, 8, 1, 0, tzinfo=UTC)


def test_unknown_invitation_is_refused(dialog_config: DialogConfig, regions: RegionIndex) -> None:
    chat = Chat(dialog_config, regions)
    chat.lookups.invitations["sp_good"] = "Kejaksaan Negeri Soppeng"
    chat.send("/start sp_wrong")
    assert chat.last.text == t("invitation.unknown")
    chat.send("/start sp_good")
    assert chat.last.text == t("invitation.sponsor", name="Kejaksaan Negeri Soppeng")


async def test_reminders_of_sponsored_members_go_to_the_sponsor(conversations: Conversations, cipher: Cipher) -> None:
    engine = conversations.engine
    with Session(engine) as session:
        sponsor = create_sponsor(session=session, name="Kejaksaan Negeri Soppeng", now=MORNING)
        code, sponsor_id = sponsor.invite_code, sponsor.id
        session.commit()
    for chat, nik in (("7001", "7312061506809001"), ("7002", "7312061506809002")):
        farmer = Person(conversations, chat)
        answers = {"last_paid": "11/2026", "nik": nik, "payer": "Orang lain yang menanggung (jaksa, kerabat)"}
        farmer.say("/start")
        for step, answer in HAPPY_PATH:
            # Their own number by the share-contact button (the chat proven), everything else as typed.
            own = Incoming.contact(f"+62812000070{chat[-2:]}", is_sender=True)
            farmer.say(own if step == "phone" else answers.get(step, answer))
            if step == "payer":
                farmer.say("Lewati")  # the sponsor's name: the invitation binds the chat instead
        farmer.tap("Benar, simpan")
    with Session(engine) as session:
        session.execute(update(Member).values(sponsor_id=sponsor_id))
        session.commit()
    prosecutor = Person(conversations, "7100")
    said = [reply.text for reply in prosecutor.say(f"/start {code}")]
    assert said == [t("invitation.sponsor", name="Kejaksaan Negeri Soppeng"), t("sponsor.person")]

    with Session(engine) as session:
        scan(session=session, today=date(2026, 12, 8), policy=POLICY, zones=ZONES, now=MORNING)
        session.commit()
    inbox = Inbox()
    renderer = ReminderRenderer(cipher, default_tariffs(), POLICY, "BRILink", "penyuluh desa")
    dispatcher = Dispatcher(engine=engine, senders={"telegram": inbox}, render=renderer, policy=POLICY, worker="s")
    stats = await dispatcher.drain(MORNING)
    assert (stats.sent, stats.messages) == (2, 1)  # one combined message to the sponsor
    received = dict(inbox.received)
    assert set(received) == {"7100", "7001", "7002"}
    assert received["7100"].text.startswith(t("reminder.header_sponsor", count=2))
    assert [c.label for c in received["7100"].choices][:2] == ["Sudah bayar: La Baco", "Sudah bayar: La Baco"]
    assert "dibayarkan oleh Kejaksaan Negeri Soppeng" in received["7001"].text
    with Session(engine) as session:
        notes = session.exec(select(DeliveryAttempt.outcome).where(col(DeliveryAttempt.outcome) == "note_sent")).all()
    assert len(notes) == 2

    # The sponsor reports the payment of the first member from its own chat.
    prosecutor.replies = [received["7100"]]
    prosecutor.say(Incoming.choice(received["7100"].choices[0].value))
    prosecutor.tap("12 bulan")
    assert "sampai November 2027 sudah dicatat" in prosecutor.replies[0].text
    with Session(engine) as session:
        covered = session.exec(select(col(Member.covered_until)).order_by(col(Member.id))).all()
    assert covered == [date(2027, 11, 30), date(2026, 11, 30)]

    # BERHENTI from the sponsor: reminders go to the members themselves again.
    assert prosecutor.say("BERHENTI")[0].text == t("sponsor.unbound")
    with Session(engine) as session:
        scan(session=session, today=date(2026, 12, 14), policy=POLICY, zones=ZONES, now=MORNING + timedelta(days=6))
        session.commit()
    inbox.received.clear()
    assert (await dispatcher.drain(MORNING + timedelta(days=6))).sent == 1
    assert [chat for chat, _ in inbox.received] == ["7002"], [(c, m.text[:80]) for c, m in inbox.received]
