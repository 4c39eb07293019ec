"""The conversation service on real databases (SQLite and PostgreSQL): persistence, encryption, restarts, races."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, text
from sqlmodel import Session, SQLModel, col, select

from bot.dialogs import dialog
from bot.dialogs.core import DialogConfig, Incoming, Reply
from bot.dialogs.state import State, Step
from bot.texts import t
from domain.regions import RegionIndex
from service.conversations import Conversations
from storage.crypto import Cipher
from storage.db import make_engine
from storage.models import Address, AuditEntry, ConsentRecord, Conversation, Member, MemberAddress
from tests.dialog_driver import HAPPY_PATH

NIK = "7312061506809001"
NOW_UTC = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


class Person:
    """Someone typing into one chat, through the real service and database."""

    def __init__(self, conversations: Conversations, address: str, channel: str = "telegram") -> None:
        self.conversations = conversations
        self.address = address
        self.channel = channel
        self.now = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
        self.replies: list[Reply] = []

    def say(self, said: str | Incoming) -> list[Reply]:
        incoming = Incoming.from_text(said) if isinstance(said, str) else incoming_choice(self.replies, said)
        self.replies = self.conversations.handle(self.channel, self.address, incoming, self.now)
        self.now += timedelta(seconds=20)
        return self.replies

    def tap(self, label: str) -> list[Reply]:
        choice = next(c for c in self.replies[-1].choices if c.label == label)
        return self.say(Incoming.choice(choice.value))

    def register_until_summary(self, **overrides: str) -> None:
        """The happy path; on Telegram the member's number comes by the share-contact button (a typed one proves
        nothing: tests/service/test_proven_links.py), unless the test types one."""
        self.say("/start")
        for step, answer in HAPPY_PATH:
            if step == "phone" and step not in overrides and self.channel == "telegram":
                self.say(Incoming.contact(answer, is_sender=True))
                continue
            self.say(overrides.get(step, answer))


def officer_desk(conversations: Conversations, address: str, *, now: datetime) -> Person:
    """Penyuluh Donri (Kecamatan Donri-Donri), their chat bound by the invitation, at `now`."""
    from storage.officers import create_officer

    with Session(conversations.engine) as session:
        officer = create_officer(session=session, name="Penyuluh Donri", phone=None, codes=["73.12.06"], now=now)
        code = officer.invite_code
        session.commit()
    desk = Person(conversations, address)
    desk.now = now
    desk.say(f"/start {code}")
    return desk


def incoming_choice(_: list[Reply], incoming: Incoming) -> Incoming:
    return incoming


def test_registration_is_stored_encrypted_with_consent_and_audit(conversations: Conversations, cipher: Cipher) -> None:
    farmer = Person(conversations, "1001")
    farmer.register_until_summary()
    farmer.tap("Benar, simpan")
    with Session(conversations.engine) as session:
        member = session.exec(select(Member)).one()
        assert member.full_name == "La Baco"
        assert member.nik_encrypted != NIK
        assert NIK not in member.nik_encrypted
        assert cipher.decrypt(member.nik_encrypted) == NIK
        assert member.nik_hash == cipher.lookup_hash(NIK)
        assert member.phone == "+6281200001234"
        assert member.created_at.tzinfo is not None
        links = session.exec(select(MemberAddress).order_by(col(MemberAddress.address_id))).all()
        reachable = [session.get(Address, link.address_id) for link in links]
        # The chat it registered from, and WhatsApp at the member's number (a template can reach it from day one).
        assert [(a.channel, a.external_id) for a in reachable if a] == [
            ("telegram", "1001"),
            ("whatsapp", "+6281200001234"),
        ]
        consent = session.exec(select(ConsentRecord)).one()
        assert (consent.decision, consent.member_id, consent.consent_version) == ("granted", member.id, "test")
        audit = session.exec(select(AuditEntry).where(col(AuditEntry.action) != "chat.proved_contact")).one()
        assert (audit.action, audit.subject) == ("member.register", f"member:{member.id}")


def test_conversation_state_holds_no_readable_personal_data(conversations: Conversations, cipher: Cipher) -> None:
    farmer = Person(conversations, "1002")
    farmer.register_until_summary()
    with Session(conversations.engine) as session:
        stored = session.exec(select(Conversation)).one().state
    assert NIK not in stored
    assert "La Baco" not in stored
    assert NIK in cipher.decrypt(stored)


def test_restart_mid_dialog_continues_where_it_stopped(
    db_url: str, cipher: Cipher, regions: RegionIndex, dialog_config: DialogConfig
) -> None:
    def boot() -> tuple[Engine, Conversations]:
        engine = make_engine(db_url)
        zone = ZoneInfo("Asia/Makassar")
        return engine, Conversations(engine=engine, cipher=cipher, regions=regions, config=dialog_config, zone=zone)

    engine, first = boot()
    farmer = Person(first, "1003")
    farmer.say("/start")
    for _, answer in HAPPY_PATH[:7]:
        farmer.say(answer)
    engine.dispose()  # the process dies here

    engine, second = boot()
    farmer.conversations = second
    replies = farmer.say("Petani")
    assert replies[-1].text == t("ask.bpjs_status")
    for _, answer in HAPPY_PATH[8:]:
        farmer.say(answer)
    farmer.tap("Benar, simpan")
    with Session(engine) as session:
        assert session.exec(select(Member.full_name, Member.occupation)).one() == ("La Baco", "petani")
    engine.dispose()


def test_registered_nik_in_another_chat_is_not_taken_and_says_nothing_of_whose(conversations: Conversations) -> None:
    first = Person(conversations, "2001")
    first.register_until_summary()
    first.tap("Benar, simpan")
    second = Person(conversations, "2002")
    second.say("/start")
    second.say("Setuju")
    second.say("Orang Lain")
    replies = second.say(NIK)
    assert replies[-1].text.startswith(t("ask.claim"))  # prove it, or ask the officer: test_proven_links
    assert "La Baco" not in replies[-1].text


def test_two_chats_saving_the_same_nik_at_once(conversations: Conversations) -> None:
    first, second = Person(conversations, "3001"), Person(conversations, "3002")
    first.register_until_summary()
    second.register_until_summary()  # both passed the NIK check before either saved
    first.tap("Benar, simpan")
    replies = second.tap("Benar, simpan")
    assert replies[-1].text.startswith(t("invalid.nik_taken"))
    second.say("7312065506809002")
    assert second.replies[-1].text.startswith("Mohon periksa data berikut")  # straight back to the summary
    second.tap("Benar, simpan")
    with Session(conversations.engine) as session:
        assert len(session.exec(select(Member)).all()) == 2


def test_another_integrity_error_is_not_taken_for_a_taken_nik(conversations: Conversations) -> None:
    """Only the NIK's own constraint means "NIK already registered"; any other refusal is a plain "try again"."""
    first = Person(conversations, "3101")
    first.register_until_summary()
    first.tap("Benar, simpan")
    with conversations.engine.begin() as connection:  # a constraint the save will break after the member is written
        connection.execute(text("CREATE UNIQUE INDEX one_of_each ON auditentry (action)"))
    try:
        second = Person(conversations, "3102")
        second.register_until_summary(nik="7312065506809002", phone="081200001234")  # typed: no audit before saving
        replies = second.tap("Benar, simpan")
    finally:  # the schema outlives the test on PostgreSQL
        with conversations.engine.begin() as connection:
            connection.execute(text("DROP INDEX one_of_each"))
    assert [r.text for r in replies] == [t("error.temporary")]
    with Session(conversations.engine) as session:
        assert len(session.exec(select(Member)).all()) == 1  # nothing of the failed save kept


def test_ubah_and_hapus_change_the_database(conversations: Conversations, cipher: Cipher) -> None:
    farmer = Person(conversations, "4001")
    farmer.register_until_summary()
    farmer.tap("Benar, simpan")
    farmer.tap("Selesai")
    farmer.say("/ubah")
    farmer.tap("NIK")
    farmer.say("7312065506809002")
    with Session(conversations.engine) as session:
        member = session.exec(select(Member)).one()
        assert cipher.decrypt(member.nik_encrypted) == "7312065506809002"
        assert member.sex == "P"
        update = session.exec(select(AuditEntry).where(AuditEntry.action == "member.update")).one()
        assert update.detail == "nik,sex"
        assert "7312" not in update.detail
        member_id = member.id

    farmer.say("/hapus")
    farmer.tap("Ya, hapus")
    with Session(conversations.engine) as session:
        assert session.exec(select(Member)).all() == []
        assert session.exec(select(MemberAddress)).all() == []
        consent = session.exec(select(ConsentRecord)).one()
        assert consent.member_id is None
        deleted = session.exec(select(AuditEntry).where(AuditEntry.action == "member.delete")).one()
        assert deleted.subject == f"member:{member_id}"
    assert farmer.replies[-1].text == t("delete.done", name="La Baco")


def test_database_outage_gets_a_polite_answer(
    cipher: Cipher, regions: RegionIndex, dialog_config: DialogConfig
) -> None:
    unreachable = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=1")
    conversations = Conversations(
        engine=unreachable, cipher=cipher, regions=regions, config=dialog_config, zone=ZoneInfo("Asia/Makassar")
    )
    replies = conversations.handle("telegram", "5001", Incoming.from_text("/start"), datetime.now(UTC))
    assert [r.text for r in replies] == [t("error.temporary")]


def test_migrations_match_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
        version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    assert diff == []
    assert version == "0020"


def test_many_chats_at_once_from_several_threads(conversations: Conversations) -> None:
    """Webhook workers answer different chats in parallel: nobody gets 'try again', every registration lands."""
    niks = [f"73120615068090{i:02d}" for i in range(1, 9)]

    def register(index: int) -> list[str]:
        person = Person(conversations, f"thread-{index}")
        person.register_until_summary(nik=niks[index])
        person.tap("Benar, simpan")
        return [reply.text for reply in person.replies]

    with ThreadPoolExecutor(max_workers=8) as pool:
        transcripts = list(pool.map(register, range(8)))
    assert all("sudah tersimpan" in transcript[0] for transcript in transcripts)
    with Session(conversations.engine) as session:
        assert len(session.exec(select(Member)).all()) == 8


def test_two_messages_to_one_chat_at_once_are_serialised(
    conversations: Conversations, cipher: Cipher, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both answers are applied one after the other (the state row is locked), never both to the same old state."""
    slow_step = dialog.step

    def step(*args: Any) -> Any:
        time.sleep(0.05)  # widen the window between reading and writing the state, where a race would hit
        return slow_step(*args)

    monkeypatch.setattr(dialog, "step", step)
    outcomes = set()
    for attempt in range(6):
        person = Person(conversations, f"race-{attempt}")
        person.say("/start")
        person.say("Setuju")  # now at the name question
        barrier = threading.Barrier(2)

        def send(said: str, who: Person = person, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            who.conversations.handle("telegram", who.address, Incoming.from_text(said), who.now)

        threads = [threading.Thread(target=send, args=(said,)) for said in ("La Baco", NIK)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with Session(conversations.engine) as session:
            address = session.exec(select(Address).where(Address.external_id == person.address)).one()
            stored = session.get(Conversation, address.id)
            assert stored is not None
            state = State.model_validate_json(cipher.decrypt(stored.state))
        # Serial orders: name then NIK → at the phone question; NIK first (refused as a name) then name → at NIK.
        outcome = (state.step, state.draft.full_name, state.draft.nik)
        assert outcome in {(Step.PHONE, "La Baco", NIK), (Step.NIK, "La Baco", None)}, outcome
        outcomes.add(outcome[0])


def test_deleting_a_member_removes_their_reminders_and_attempts(conversations: Conversations) -> None:
    from domain.policy import ReminderPolicy
    from domain.rules import DEFAULT_STAGES, parse_stages
    from storage.models import DeliveryAttempt, Reminder
    from storage.scan import scan

    farmer = Person(conversations, "4100")
    farmer.register_until_summary(last_paid="11/2026")
    farmer.tap("Benar, simpan")
    with Session(conversations.engine) as session:
        policy = ReminderPolicy(stages=parse_stages(DEFAULT_STAGES))
        zones = {"73": ZoneInfo("Asia/Makassar")}
        scan(session=session, today=date(2026, 12, 8), policy=policy, zones=zones, now=farmer.now)
        reminder = session.exec(select(Reminder)).one()
        session.add(DeliveryAttempt(reminder_id=reminder.id or 0, at=farmer.now, channel="telegram", outcome="sent"))
        session.commit()
    farmer.say("/hapus")
    farmer.tap("Ya, hapus")
    with Session(conversations.engine) as session:
        assert session.exec(select(Reminder)).all() == []
        assert session.exec(select(DeliveryAttempt)).all() == []


def test_database_errors_keep_personal_data_out_of_their_messages(engine: Engine, cipher: Cipher) -> None:
    """Errors reach the logs; the statement's parameters (names, phone numbers) must not."""
    import pytest
    from sqlalchemy.exc import DBAPIError

    from storage import members as store

    with Session(engine) as session:
        address = store.get_or_create_address(session=session, channel="telegram", external_id="x", now=NOW_UTC)
        fields = {
            "full_name": "Nama Rahasia",
            "birth_date": date(1980, 1, 1),
            "sex": "L",
            "phone": "+6281299998888",
            "kecamatan_code": "73.12.06",
            "desa_code": "73.12.06.2002",
            "occupation": "petani",
            "bpjs_status": "member",
            "payer": "self",
        }
        store.create_member(session=session, cipher=cipher, nik=NIK, fields=fields, address_id=address.id, now=NOW_UTC)
        session.commit()
        with pytest.raises(DBAPIError) as failure:  # the same NIK again: a unique violation
            store.create_member(session=session, cipher=cipher, nik=NIK, fields=fields, address_id=None, now=NOW_UTC)
    assert "Nama Rahasia" not in str(failure.value)
    assert "+6281299998888" not in str(failure.value)


def test_deleting_a_member_leaves_nothing_about_them(conversations: Conversations, cipher: Cipher) -> None:
    from sqlalchemy import func

    from storage.models import (
        Address,
        ConsentRecord,
        DeliveryAttempt,
        FollowUp,
        Listing,
        Member,
        MemberAddress,
        Payment,
        Reminder,
    )
    from storage.officers import create_officer

    farmer = Person(conversations, "4200")
    farmer.register_until_summary(last_paid="11/2026")
    farmer.tap("Benar, simpan")
    farmer.say("sudah bayar")  # a self-reported payment on record
    with Session(conversations.engine) as session:
        member = session.exec(select(Member)).one()
        number, member_id = member.phone, member.id or 0
        assert session.exec(select(Address).where(Address.external_id == number)).first() is not None
        # What the rest of the system keeps about a member: a reminder tried once, an officer's outcome, a place on
        # the officers' lists.
        officer = create_officer(session=session, name="Penyuluh", phone=None, codes=["73.12.06"], now=farmer.now)
        reminder = Reminder(
            member_id=member_id,
            cycle=202612,
            stage="H-7",
            stage_rank=0,
            status="failed",
            send_after=farmer.now,
            expires_at=farmer.now,
            zone="Asia/Makassar",
            created_at=farmer.now,
        )
        session.add(reminder)
        session.flush()
        session.add(DeliveryAttempt(reminder_id=reminder.id or 0, at=farmer.now, channel="telegram", outcome="failed"))
        session.add(FollowUp(member_id=member_id, officer_id=officer.id or 0, outcome="contacted", at=farmer.now))
        session.add(Listing(member_id=member_id, since=farmer.now.date()))
        session.commit()
    farmer.say("/hapus")
    farmer.tap("Ya, hapus")
    with Session(conversations.engine) as session:
        for table in SQLModel.metadata.sorted_tables:  # every table that names a member, now or later
            if "member_id" in table.c:
                left = session.execute(select(func.count()).select_from(table).where(table.c.member_id == member_id))
                assert (table.name, left.scalar_one()) == (table.name, 0)
        assert session.exec(select(func.count()).select_from(DeliveryAttempt)).one() == 0
        assert session.exec(select(func.count()).select_from(Member)).one() == 0
        assert session.exec(select(func.count()).select_from(MemberAddress)).one() == 0
        assert session.exec(select(func.count()).select_from(Payment)).one() == 0
        assert session.exec(select(Address).where(Address.external_id == number)).first() is None  # the number too
        consents = session.exec(select(ConsentRecord)).all()
        chat = session.exec(select(Address).where(Address.external_id == "4200")).one()
        state = session.exec(select(Conversation).where(Conversation.address_id == chat.id)).one()
    assert all(record.member_id is None for record in consents)  # only that a decision was made, by this chat
    assert NIK not in cipher.decrypt(state.state)  # nothing of the deleted registration left in the dialog
    assert number is not None
    assert number[3:] not in cipher.decrypt(state.state)


def test_deleting_from_the_members_own_whatsapp_chat(conversations: Conversations) -> None:
    """On WhatsApp the chat is the member's own number: deleting the member removes that address too, and the
    conversation goes with it — the answer still comes, and nothing of the member stays."""
    number = "+6281200001234"  # the phone HAPPY_PATH registers
    member = Person(conversations, number, channel="whatsapp")
    member.register_until_summary()
    member.tap("Benar, simpan")
    with Session(conversations.engine) as session:
        assert session.exec(select(Member)).one().phone == number
    member.say("/hapus")
    assert member.tap("Ya, hapus")[0].text == t("delete.done", name="La Baco")
    with Session(conversations.engine) as session:
        assert session.exec(select(Member)).all() == []
        assert session.exec(select(Address)).all() == []  # the number was the chat: both gone
        assert session.exec(select(Conversation)).all() == []
        assert session.exec(select(ConsentRecord)).all() == []
    assert member.say("halo")[0].text.startswith(t("menu.new"))  # the next message starts afresh
