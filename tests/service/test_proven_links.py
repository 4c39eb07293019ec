"""Only the right phone sees a member (issue 15, points 1 and 2), through the real service on SQLite and PostgreSQL:
links are proven (a WhatsApp number equal to the member's phone, a Telegram contact shared by its own user, an
officer), a changed number ends the old one's access, a squatted NIK shows nothing of the branch's record and goes to
the officer, the real owner can claim their NIK, and guessing NIKs is slowed."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from alembic import command
from sqlalchemy import Engine, text
from sqlmodel import Session, col, select

from bot.dialogs.core import Incoming, Reply
from bot.texts import speaking, t
from domain.identity import NIK_TRIES
from domain.member_rows import Row
from service.conversations import Conversations
from storage import imports, outbox
from storage import members as store
from storage.crypto import Cipher
from storage.db import alembic_config
from storage.members import get_or_create_address
from storage.models import ImportBatch, Member, MemberAddress
from tests.dialog_driver import HAPPY_PATH
from tests.service.test_conversation_db import Person, officer_desk

NIK = "7312061506809001"  # fake: Donri-Donri, born 15 June 1980
OWN = "+6281200001234"  # the number registered with in the happy path
NEW = "+6281200005678"
BRANCH = "+6281200009999"
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def text_of(replies: Sequence[Reply]) -> str:
    return "\n".join(reply.text for reply in replies)


def register(person: Person, **overrides: str) -> None:
    person.register_until_summary(**overrides)
    person.tap("Benar, simpan")


def whatsapp(conversations: Conversations, number: str) -> Person:
    return Person(conversations, number, channel="whatsapp")


def member(conversations: Conversations) -> Member:
    with Session(conversations.engine) as session:
        return session.exec(select(Member)).one()


def asked_help(conversations: Conversations) -> None:
    with Session(conversations.engine) as session:
        row = session.exec(select(Member)).one()
        row.help_requested_at = NOW
        session.add(row)
        session.commit()


def outcome(desk: Person, name: str) -> list[Reply]:
    """The officer opens the (only) member of the list just shown and records an outcome."""
    item = next(c for c in desk.replies[-1].choices if c.value.startswith("of:"))
    desk.say(Incoming.choice(item.value))
    chosen = next(c for c in desk.replies[-1].choices if c.value.endswith(f":{name}"))
    return desk.say(Incoming.choice(chosen.value))


def reminder_numbers(conversations: Conversations) -> list[str]:
    """Where the member's next reminder would go, first choice first."""
    with Session(conversations.engine) as session:
        found = session.exec(select(Member.id)).one()
        assert found is not None
        reached = outbox.targets(session=session, member_ids=[found], busy_for=timedelta(0))
        return [target.external_id for target in reached.get(found, [])]


def import_rows(conversations: Conversations, cipher: Cipher, *rows: Row) -> imports.Applied:
    """The branch's spreadsheet, staged, confirmed and applied as the admin's "Lanjutkan" does."""
    with Session(conversations.engine) as session:
        chat = get_or_create_address(session=session, channel="console", external_id="cli-test", now=NOW)
        assert chat.id is not None
        token = f"t{len(session.exec(select(ImportBatch)).all())}"
        imports.stage(session=session, cipher=cipher, token=token, address_id=chat.id, filename="f.xlsx", rows=rows,
                      now=NOW)  # fmt: skip
        imports.set_status(session=session, token=token, address_id=chat.id, status="confirmed")
        batch = imports.apply_slice(session=session, cipher=cipher, token=token, now=NOW)
        session.commit()
        assert batch is not None
        return imports.Applied(**json.loads(batch.summary))


def branch_row(name: str = "Hasna Binti Lato", phone: str | None = BRANCH) -> Row:
    return Row(nik=NIK, full_name=name, birth_date=date(1980, 6, 15), sex="P", kecamatan_code="73.12.06",
               desa_code="73.12.06.2007", phone=phone, kpj="98765432109", covered_until=date(2026, 10, 31),
               branch_until=date(2026, 10, 31))  # fmt: skip


# --- a corrected number ends the old one's access ---


def test_a_number_corrected_by_the_officer_ends_the_old_numbers_access(conversations: Conversations) -> None:
    old = whatsapp(conversations, OWN)
    register(old, phone="nomor ini")
    assert "La Baco" in text_of(old.say("status"))
    asked_help(conversations)  # on the officer's list
    desk = officer_desk(conversations, "7001", now=old.now)
    desk.say("/daftar")
    outcome(desk, "wrong_number")
    desk.say("0812 0000 5678")
    assert member(conversations).phone == NEW
    assert reminder_numbers(conversations) == [NEW]  # the next reminder goes to the new number
    seen = text_of(old.say("status"))
    assert "La Baco" not in seen  # whoever holds the old SIM sees nothing
    old.say("hapus")
    assert member(conversations).full_name == "La Baco"  # and cannot delete the member


def test_a_number_changed_with_ubah_links_the_new_one_and_ends_the_old(conversations: Conversations) -> None:
    old = whatsapp(conversations, OWN)
    register(old, phone="nomor ini")
    old.say("/ubah")
    old.tap(t("option.field.phone"))
    old.say("0812 0000 5678")
    old.say("Peserta sendiri")
    assert member(conversations).phone == NEW
    assert reminder_numbers(conversations) == [NEW]  # linked: today the new number was not linked at all
    assert "La Baco" not in text_of(old.say("status"))
    assert "La Baco" in text_of(whatsapp(conversations, NEW).say("status"))


def test_a_new_number_in_the_branch_import_moves_the_member_to_it(conversations: Conversations, cipher: Cipher) -> None:
    import_rows(conversations, cipher, branch_row(phone=OWN))
    old = whatsapp(conversations, OWN)
    assert "Hasna" in text_of(old.say("status"))
    import_rows(conversations, cipher, branch_row(phone=NEW))
    assert reminder_numbers(conversations) == [NEW]  # today the oldest link, the old number, won
    assert "Hasna" not in text_of(old.say("status"))


# --- a typed number proves nothing ---


def test_a_typed_number_on_telegram_shows_nothing_until_its_contact_is_shared(conversations: Conversations) -> None:
    farmer = Person(conversations, "1001")
    register(farmer, phone="081200001234")  # typed: anyone can type any number
    [saved] = farmer.replies
    assert t("saved.unproven", name="Bapak La Baco") in saved.text
    assert saved.request_contact  # the button that proves it
    status = text_of(farmer.say("/status"))
    assert "La Baco" not in status
    assert status.startswith(t("link.waiting"))
    assert reminder_numbers(conversations) == [OWN]  # the number itself (WhatsApp) still gets the reminders
    someone_else = farmer.say(Incoming.contact(OWN, is_sender=False))  # a card forwarded from the address book
    assert "La Baco" not in text_of(someone_else)
    assert "La Baco" not in text_of(farmer.say("/status"))
    proven = farmer.say(Incoming.contact("+62 812-0000-1234", is_sender=True))
    assert text_of(proven).startswith(t("link.proven", count=1))
    assert "La Baco" in text_of(farmer.say("/status"))
    assert reminder_numbers(conversations) == ["1001", OWN]


def test_a_contact_shared_while_registering_proves_the_chat_at_once(conversations: Conversations) -> None:
    farmer = Person(conversations, "1002")
    farmer.say("/start")
    for answer in ("Setuju", "La Baco", NIK):
        farmer.say(answer)
    farmer.say(Incoming.contact("6281200001234", is_sender=True))
    for _, answer in HAPPY_PATH[4:]:
        farmer.say(answer)
    farmer.tap("Benar, simpan")
    assert "La Baco" in text_of(farmer.say("/status"))


# --- a squatted NIK, then the branch's import ---


def test_a_squatter_sees_nothing_of_the_branchs_record(conversations: Conversations, cipher: Cipher) -> None:
    squatter = whatsapp(conversations, "+6281200006666")
    register(squatter, name="Orang Lain", phone="nomor ini")  # their own number: proven, for their own typing
    assert "Orang Lain" in text_of(squatter.say("status"))
    applied = import_rows(conversations, cipher, branch_row())
    assert applied.contradicted == 1
    seen = text_of(squatter.say("status"))
    for secret in ("Hasna", "98765432109", "0812-0000-9999", "9999"):
        assert secret not in seen
    with Session(conversations.engine) as session:
        row = session.exec(select(Member)).one()
        assert row.registration_mismatch_at is not None
        assert row.full_name == "Hasna Binti Lato"
    assert reminder_numbers(conversations) == [BRANCH]


def test_a_contradicted_telegram_registration_goes_to_the_officer(conversations: Conversations, cipher: Cipher) -> None:
    squatter = Person(conversations, "1003")
    register(squatter, name="Orang Lain", phone="081200006666")  # typed: their Telegram chat proves nothing
    import_rows(conversations, cipher, branch_row())
    assert "Hasna" not in text_of(squatter.say("/status"))
    with Session(conversations.engine) as session:
        links = session.exec(select(MemberAddress).where(col(MemberAddress.suspended_at).is_not(None))).all()
        assert len(links) == 1  # the squatter's chat: suspended, kept for the officer's word
    desk = officer_desk(conversations, "7002", now=squatter.now)
    listing = text_of(desk.say("/daftar"))
    assert t("officer.reason.registration_mismatch") in listing
    outcome(desk, "chats_wrong")
    with Session(conversations.engine) as session:
        assert session.exec(select(MemberAddress).where(col(MemberAddress.suspended_at).is_not(None))).all() == []
    assert "Hasna" not in text_of(squatter.say("/status"))


def test_the_branch_agreeing_keeps_the_registration(conversations: Conversations, cipher: Cipher) -> None:
    farmer = whatsapp(conversations, OWN)
    register(farmer, phone="nomor ini")
    applied = import_rows(conversations, cipher, branch_row(name="LA BACO", phone=OWN))
    assert applied.contradicted == 0
    assert "LA BACO" in text_of(farmer.say("status"))  # the branch's spelling, shown to the proven chat


# --- the real owner claims their NIK ---


def test_the_real_owner_claims_a_squatted_nik_from_the_branchs_number(
    conversations: Conversations, cipher: Cipher
) -> None:
    import_rows(conversations, cipher, branch_row())
    squatter = Person(conversations, "1004")  # a chat that cannot prove the branch's number
    for answer in ("/start", "Setuju", "Orang Lain"):
        squatter.say(answer)
    assert text_of(squatter.say(NIK)).startswith(t("ask.claim"))  # not a flat "sudah terdaftar"
    owner = whatsapp(conversations, BRANCH)
    owner.say("daftar")
    owner.say("setuju")
    owner.say("Hasna")
    claimed = text_of(owner.say(NIK))
    with speaking("whatsapp"):
        assert t("claim.done") in claimed
    assert "Hasna" in text_of(owner.say("status"))


def test_an_unproven_claim_goes_to_the_officer_and_reveals_nothing(
    conversations: Conversations, cipher: Cipher
) -> None:
    import_rows(conversations, cipher, branch_row())
    relative = whatsapp(conversations, "+6281200007777")
    relative.say("daftar")
    relative.say("setuju")
    relative.say("Hasna")
    asked = text_of(relative.say(NIK))
    with speaking("whatsapp"):
        assert asked.startswith(t("ask.claim"))
    for secret in ("Hasna Binti", "9999", "98765432109"):
        assert secret not in asked
    relative.say("1")  # WhatsApp: "balas 1"
    assert relative.replies[-1].text == t("claim.officer")
    assert "Hasna" not in text_of(relative.say("status"))
    with Session(conversations.engine) as session:
        assert session.exec(select(Member)).one().registration_mismatch_at is not None
    desk = officer_desk(conversations, "7003", now=relative.now)
    desk.say("/daftar")
    outcome(desk, "chats_ok")
    assert "Hasna" in text_of(relative.say("status"))  # the officer's word proves the chat


# --- guessing NIKs ---


def test_repeated_nik_attempts_from_one_chat_are_slowed(conversations: Conversations, cipher: Cipher) -> None:
    import_rows(conversations, cipher, branch_row())
    guesser = Person(conversations, "1005")
    guesser.say("/start")
    guesser.say("Setuju")
    guesser.say("Penebak")
    for _ in range(NIK_TRIES):  # what a guesser sees for a registered NIK: the claim question, then another try
        assert text_of(guesser.say(NIK)).startswith(t("ask.claim"))
        guesser.tap(t("option.claim.other"))
    # Over the limit every NIK waits, registered or not: the answer tells nothing.
    assert text_of(guesser.say(NIK)).startswith(t("invalid.nik_wait"))
    assert text_of(guesser.say("7312061506809002")).startswith(t("invalid.nik_wait"))
    guesser.now += timedelta(hours=1, minutes=1)
    guesser.say("7312061506809002")
    assert guesser.replies[-1].text.startswith(t("ask.phone").split("\n")[0])


# --- the upgrade keeps existing members reachable ---


def test_links_made_before_proofs_are_kept_by_the_migration(engine: Engine) -> None:
    config = alembic_config(engine)
    command.downgrade(config, "0016")
    at = "2026-11-01 00:00:00+00:00"
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO member (id, nik_encrypted, nik_hash, full_name, birth_date, sex, phone, kecamatan_code,"
                " desa_code, occupation, bpjs_status, needs_enrolment, payer, period_months, opted_out, created_at,"
                " updated_at) VALUES (1, 'x', 'h', 'La Baco', '1980-06-15', 'L', :phone, '73.12.06',"
                " '73.12.06.2007', 'petani', 'member', false, 'self', 1, false, :at, :at)"
            ),
            {"phone": OWN, "at": at},
        )
        connection.execute(
            text(
                "INSERT INTO address (id, channel, external_id, status, created_at) VALUES"
                " (1, 'telegram', '1001', 'active', :at), (2, 'whatsapp', :phone, 'active', :at)"
            ),
            {"phone": OWN, "at": at},
        )
        connection.execute(
            text("INSERT INTO memberaddress (member_id, address_id, created_at) VALUES (1, 1, :at), (1, 2, :at)"),
            {"at": at},
        )
    command.upgrade(config, "head")
    with Session(engine) as session:
        links = session.exec(select(MemberAddress).order_by(col(MemberAddress.address_id))).all()
        assert [(link.proof, link.proof_phone) for link in links] == [("legacy", None), ("number", OWN)]
        assert len(store.members_of_address(session=session, address_id=1)) == 1  # still sees, still reminded


def test_an_admin_settles_the_waiting_chats_by_nik(conversations: Conversations, cipher: Cipher) -> None:
    """The admin's word, as the officer's: /sambung NIK benar proves the waiting chat, bukan ends it."""
    service = dataclasses.replace(
        conversations, config=dataclasses.replace(conversations.config, admins=frozenset({"telegram:900"}))
    )
    import_rows(service, cipher, branch_row())
    relative = whatsapp(service, "+6281200007777")
    for answer in ("daftar", "setuju", "Hasna", NIK, "1"):  # "1": ask the officer
        relative.say(answer)
    assert "Hasna" not in text_of(relative.say("status"))
    admin = Person(service, "900")
    assert admin.say("/sambung 7312061506809001 mungkin")[-1].text == t("admin.settle_usage")
    admin.say("/sambung 7312061506809001 benar")
    assert admin.replies[-1].text.startswith("Tercatat: chat yang menunggu milik Hasna Binti Lato")
    assert "Hasna" in text_of(relative.say("status"))
    stranger = Person(service, "901")  # anyone else: answered as an unknown command, nothing changes
    assert stranger.say("/sambung 7312061506809001 bukan")[-1].text == stranger.say("/tidakada")[-1].text
    assert "Hasna" in text_of(relative.say("status"))
    with Session(service.engine) as session:
        assert session.exec(select(Member)).one().registration_mismatch_at is None
