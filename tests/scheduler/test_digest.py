"""The officers' morning digest, on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text, update
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from bot.dialogs.core import Incoming
from bot.texts import t
from domain.vocabulary import OfficerRole
from scheduler import digest
from scheduler.digest import send_digests
from service.conversations import Conversations
from storage import officers
from storage.crypto import Cipher
from storage.models import Address, AuditEntry, FollowUp, Listing, Officer
from storage.officers import create_officer
from tests.scheduler.test_scan import add_member
from tests.service.test_conversation_db import Person
from tests.service.test_reminder_replies import Inbox

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


def morning(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 0, 0, tzinfo=UTC)  # 08:00 WITA


async def test_members_left_without_an_outcome_go_to_the_coordinator(
    conversations: Conversations, cipher: Cipher
) -> None:
    with Session(conversations.engine) as session:
        ids = [add_member(session, cipher, n, date(2026, 10, 31)).id or 0 for n in (1, 2)]
        outsider = add_member(
            session, cipher, 3, date(2026, 10, 31), kecamatan_code="73.12.01", desa_code="73.12.01.2003"
        )
        elsewhere = outsider.id or 0
        session.execute(update(Address).values(status="unreachable"))
        for name, codes in (("Koordinator Donri", ["73.12.06"]), ("Koordinator Marioriwawo", ["73.12.01"])):
            create_officer(session=session, name=name, phone=None, codes=codes, now=NOW, role=OfficerRole.COORDINATOR)
        session.commit()
        codes = [str(o.invite_code) for o in session.exec(select(Officer).order_by(col(Officer.id))).all()]
    Person(conversations, "601").say(f"/start {codes[0]}")
    Person(conversations, "602").say(f"/start {codes[1]}")
    bind(conversations, "Penyuluh Donri", ["73.12.06"], "501")
    inbox = Inbox()
    first_day = TUESDAY
    stats = await send_digests(
        conversations=conversations, senders={"telegram": inbox}, today=first_day, now=morning(first_day)
    )
    assert (stats.sent, stats.empty) == (1, 2)  # the officer's list; nothing has waited long enough to escalate
    officer = Person(conversations, "501")
    officer.now = morning(date(2026, 12, 24))
    assert officer.say(Incoming.choice(f"oc:{ids[1]}:refused"))[0].text == t("officer.done.refused", name="Peserta 2")
    week_later = date(2026, 12, 29)
    await send_digests(
        conversations=conversations, senders={"telegram": inbox}, today=week_later, now=morning(week_later)
    )
    sent = dict(inbox.received[1:])
    assert set(sent) == {"501", "601", "602"}
    donri = sent["601"]
    assert "Peserta 1" in donri.text
    assert "Peserta 2" not in donri.text  # the officer recorded an outcome: not escalated
    assert "Peserta 3" not in donri.text  # another coordinator's area
    assert t("coordinator.listed_for", days=7) in donri.text
    assert donri.template is not None
    assert donri.template.kind == "coordinator_digest"
    assert "Peserta 3" in sent["602"].text
    # A coordinator acts within their area only, whatever the buttons say.
    coordinator = Person(conversations, "601")
    coordinator.now = morning(week_later)
    assert coordinator.say(Incoming.choice(f"oc:{elsewhere}:contacted"))[0].text == t("officer.not_yours")
    escalations = coordinator.say("/eskalasi")[0]
    assert "Peserta 1" in escalations.text
    coordinator.say(Incoming.choice(f"oc:{ids[0]}:contacted"))
    assert "Peserta 1" not in coordinator.say("/eskalasi")[0].text
    assert "/eskalasi" not in officer.say("/bantuan")[0].text  # officers are not offered the coordinator's command
    assert "/eskalasi" in coordinator.say("/bantuan")[0].text
    with Session(conversations.engine) as session:
        recorded = {(f.member_id, f.outcome) for f in session.exec(select(FollowUp)).all()}
        listed = {row.member_id: row.since for row in session.exec(select(Listing)).all()}
    assert recorded == {(ids[1], "refused"), (ids[0], "contacted")}
    assert listed == {ids[0]: first_day, elsewhere: first_day}  # member 2 left the list, and its clock


async def test_the_listing_clock_restarts_when_a_member_returns(conversations: Conversations, cipher: Cipher) -> None:
    with Session(conversations.engine) as session:
        member_id = add_member(session, cipher, 1, date(2026, 10, 31)).id
        session.execute(update(Address).values(status="unreachable"))
        session.commit()
    bind(conversations, "Penyuluh Donri", ["73.12.06"], "501")
    senders = {"telegram": Inbox()}
    await send_digests(conversations=conversations, senders=senders, today=TUESDAY, now=morning(TUESDAY))
    with Session(conversations.engine) as session:
        session.execute(
            update(Address).where(col(Address.external_id) == "s1").values(status="active")
        )  # reachable again: off the list
        session.commit()
    wednesday = date(2026, 12, 23)
    await send_digests(conversations=conversations, senders=senders, today=wednesday, now=morning(wednesday))
    with Session(conversations.engine) as session:
        assert session.exec(select(Listing)).all() == []
        session.execute(update(Address).where(col(Address.external_id) == "s1").values(status="unreachable"))
        session.commit()
    thursday = date(2026, 12, 24)
    await send_digests(conversations=conversations, senders=senders, today=thursday, now=morning(thursday))
    with Session(conversations.engine) as session:
        assert [(row.member_id, row.since) for row in session.exec(select(Listing)).all()] == [(member_id, thursday)]


async def test_a_batch_the_database_fails_does_not_stop_the_others(
    conversations: Conversations, cipher: Cipher, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Session(conversations.engine) as session:
        add_member(session, cipher, 1, date(2026, 10, 31))
        session.execute(update(Address).values(status="unreachable"))
        session.commit()
    chats = [f"50{n}" for n in range(1, 6)]
    for chat in chats:
        bind(conversations, f"Penyuluh {chat}", ["73.12.06"], chat)
    with Session(conversations.engine) as session:
        failing = session.exec(select(Officer.id).order_by(col(Officer.id))).all()[1]
    claim = officers.claim_digests

    def flaky_claim(*, session: Session, officer_ids: list[int], day: date) -> set[int]:
        if failing in officer_ids:
            raise OperationalError("INSERT INTO officerdigest", {}, Exception("server closed the connection"))
        return claim(session=session, officer_ids=officer_ids, day=day)

    inbox = Inbox()
    monkeypatch.setattr(digest, "_BATCH", 2)  # batches 501+502, 503+504, 505
    monkeypatch.setattr(officers, "claim_digests", flaky_claim)
    stats = await send_digests(conversations=conversations, senders={"telegram": inbox}, today=TUESDAY, now=NOW)
    assert (stats.sent, stats.failed) == (3, 2)
    assert [chat for chat, _ in inbox.received] == ["503", "504", "505"]  # in officer order
    monkeypatch.setattr(officers, "claim_digests", claim)
    retry = await send_digests(conversations=conversations, senders={"telegram": inbox}, today=TUESDAY, now=NOW)
    assert (retry.sent, retry.already) == (2, 3)  # nothing of the failed batch was kept: it goes out on the retry
    assert [chat for chat, _ in inbox.received[3:]] == ["501", "502"]


async def test_a_failed_listing_clock_does_not_hold_the_digests(
    conversations: Conversations, cipher: Cipher, caplog: pytest.LogCaptureFixture
) -> None:
    """The clock is written beside the digests in a transaction of its own; the database refusing it (here a trigger,
    as a full disk or a lost connection would) costs the clock a day, not the officers their lists."""
    engine = conversations.engine
    with Session(engine) as session:
        member_id = add_member(session, cipher, 1, date(2026, 10, 31)).id
        session.execute(update(Address).values(status="unreachable"))
        session.commit()
    bind(conversations, "Penyuluh Donri", ["73.12.06"], "501")
    postgresql = engine.dialect.name == "postgresql"
    postgresql_function = (
        "CREATE OR REPLACE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$ "
        "LANGUAGE plpgsql"
    )
    postgresql_trigger = "CREATE TRIGGER refuse BEFORE INSERT ON listing FOR EACH ROW EXECUTE FUNCTION refuse()"
    sqlite_trigger = "CREATE TRIGGER refuse BEFORE INSERT ON listing BEGIN SELECT RAISE(ABORT, 'disk full'); END"
    refuse = [postgresql_function, postgresql_trigger] if postgresql else [sqlite_trigger]
    with engine.begin() as connection:
        for statement in refuse:
            connection.execute(text(statement))
    inbox = Inbox()
    try:
        with caplog.at_level(logging.ERROR, logger="scheduler.digest"):
            stats = await send_digests(conversations=conversations, senders={"telegram": inbox}, today=TUESDAY, now=NOW)
    finally:  # the schema outlives the test on PostgreSQL
        with engine.begin() as connection:
            connection.execute(text("DROP TRIGGER refuse ON listing" if postgresql else "DROP TRIGGER refuse"))
            if postgresql:
                connection.execute(text("DROP FUNCTION refuse()"))
    assert stats.sent == 1
    assert "Peserta 1" in inbox.received[0][1].text
    assert "listing clock not kept today" in caplog.text
    with Session(engine) as session:
        assert session.exec(select(Listing)).all() == []
    wednesday = date(2026, 12, 23)
    await send_digests(
        conversations=conversations, senders={"telegram": inbox}, today=wednesday, now=morning(wednesday)
    )
    with Session(engine) as session:  # the next run starts the clock
        assert [(row.member_id, row.since) for row in session.exec(select(Listing)).all()] == [(member_id, wednesday)]
