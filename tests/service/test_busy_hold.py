"""The "busy" hold (issue 14 point 8): a due reminder waits while the person is mid-dialog, for the configured time,
and goes out at once when their dialog is finished. Through the real service, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session

from bot.app import build_dispatcher
from bot.dialogs.core import Reply
from bot.dialogs.state import Flow, State, Step
from bot.settings import Settings
from domain.delivery import BUSY_HOLD
from domain.tariffs import default_tariffs
from scheduler.dispatch import Dispatcher
from scheduler.messages import ReminderRenderer
from service.conversations import Conversations
from storage.crypto import Cipher
from storage.scan import scan
from tests.service.test_conversation_db import Person
from tests.service.test_reminder_replies import POLICY, ZONES, Inbox

MORNING = datetime(2026, 12, 8, 1, 0, tzinfo=UTC)  # 09:00 WITA on H-7 for members covered until November


def registered(conversations: Conversations, *, done_at: datetime) -> Person:
    """A farmer who finished registering just before `done_at`, with their December reminder due."""
    farmer = Person(conversations, "9001")
    farmer.now = done_at - timedelta(minutes=6)
    farmer.register_until_summary(last_paid="11/2026")
    farmer.tap("Benar, simpan")
    assert done_at - timedelta(minutes=2) < farmer.now <= done_at
    with Session(conversations.engine) as session:
        assert scan(session=session, today=date(2026, 12, 8), policy=POLICY, zones=ZONES, now=done_at).created == 1
        session.commit()
    return farmer


def sending(
    conversations: Conversations, cipher: Cipher, inbox: Inbox, busy_for: timedelta = BUSY_HOLD
) -> Dispatcher[Reply]:
    renderer = ReminderRenderer(cipher, default_tariffs(), POLICY, "BRILink", "penyuluh desa")
    engine = conversations.engine
    senders = {"telegram": inbox}
    return Dispatcher(engine=engine, senders=senders, render=renderer, policy=POLICY, worker="t", busy_for=busy_for)


def mid_dialog(farmer: Person, at: datetime) -> None:
    """Halfway through changing their name: a question is open."""
    farmer.now = at
    farmer.say("/ubah")
    farmer.tap("Nama")


async def test_a_finished_registration_gets_its_reminder_at_once(conversations: Conversations, cipher: Cipher) -> None:
    registered(conversations, done_at=MORNING)
    inbox = Inbox()
    stats = await sending(conversations, cipher, inbox).run_once(MORNING)
    assert (stats.sent, stats.deferred) == (1, 0)
    assert [chat for chat, _ in inbox.received] == ["9001"]


async def test_mid_dialog_the_reminder_waits_the_default_ten_minutes(
    conversations: Conversations, cipher: Cipher
) -> None:
    farmer = registered(conversations, done_at=MORNING - timedelta(hours=1))
    mid_dialog(farmer, MORNING - timedelta(minutes=1))
    inbox = Inbox()
    dispatcher = sending(conversations, cipher, inbox)
    assert (await dispatcher.run_once(MORNING)).deferred == 1
    assert (await dispatcher.drain(MORNING + timedelta(minutes=8))).sent == 0  # last message 09:00:00 + 10 min
    assert (await dispatcher.drain(MORNING + timedelta(minutes=10))).sent == 1
    assert len(inbox.received) == 1


async def test_the_hold_ends_when_the_dialog_does(conversations: Conversations, cipher: Cipher) -> None:
    farmer = registered(conversations, done_at=MORNING - timedelta(hours=1))
    mid_dialog(farmer, MORNING - timedelta(minutes=1))
    inbox = Inbox()
    dispatcher = sending(conversations, cipher, inbox)
    assert (await dispatcher.run_once(MORNING)).deferred == 1
    farmer.say("La Baco Daeng")  # the new name: the edit is done, nothing is asked any more
    assert (await dispatcher.drain(farmer.now)).sent == 1


async def test_the_setting_changes_the_hold(conversations: Conversations, cipher: Cipher) -> None:
    settings = Settings(_env_file=None, busy_hold_minutes=3)
    built = build_dispatcher(settings, conversations.engine, cipher, {})
    assert built.busy_for == timedelta(minutes=3)
    assert Settings(_env_file=None).busy_hold_minutes == 10
    farmer = registered(conversations, done_at=MORNING - timedelta(hours=1))
    mid_dialog(farmer, MORNING - timedelta(minutes=1))
    inbox = Inbox()
    dispatcher = sending(conversations, cipher, inbox, busy_for=built.busy_for)
    assert (await dispatcher.run_once(MORNING)).deferred == 1
    assert (await dispatcher.drain(MORNING + timedelta(minutes=2, seconds=30))).sent == 1


def test_at_rest_means_nothing_is_asked() -> None:
    assert State().resting  # the menu
    assert State(flow=Flow.REGISTER, step=Step.AFTER_SAVE).resting  # saved; "anyone else?" is optional
    assert not State(flow=Flow.REGISTER, step=Step.NIK).resting
    assert not State(flow=Flow.EDIT, step=Step.NAME).resting
    months = [("3 bulan", "rem:1:paid:3", "3")]
    assert not State(offered=months).resting  # "paid for how many months?" after a reminder's "Sudah bayar"
