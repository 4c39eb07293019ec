"""An officer's list and one-tap outcomes through the conversation service, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import partial

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from bot.dialogs.core import DialogConfig, Incoming, UnreachedView
from bot.texts import t
from domain.regions import RegionIndex
from service.conversations import Conversations
from storage.crypto import Cipher
from storage.models import Address, AuditEntry, FollowUp, Member, MemberAddress, Payment
from storage.officers import create_officer
from tests.dialog_driver import HAPPY_PATH, Chat
from tests.scheduler.test_scan import add_member
from tests.service.test_conversation_db import Person

NOW = datetime(2026, 12, 22, 2, 0, tzinfo=UTC)  # 22 December 2026, H+7 of December


def setting(conversations: Conversations, cipher: Cipher) -> tuple[Person, dict[str, int]]:
    with Session(conversations.engine) as session:
        officer = create_officer(session=session, name="Penyuluh Donri", phone=None, codes=["73.12.06"], now=NOW)
        code = officer.invite_code
        ids = {
            "blocked": add_member(session, cipher, 1, date(2026, 10, 31)).id or 0,
            "no_channel": add_member(session, cipher, 2, date(2026, 11, 30)).id or 0,
            "elsewhere": add_member(
                session, cipher, 3, date(2026, 11, 30), kecamatan_code="73.12.01", desa_code="73.12.01.2003"
            ).id
            or 0,
        }
        session.execute(update(Address).where(col(Address.external_id) == "s1").values(status="unreachable"))
        unlinked = [ids["no_channel"], ids["elsewhere"]]
        session.execute(delete(MemberAddress).where(col(MemberAddress.member_id).in_(unlinked)))
        session.commit()
    desk = Person(conversations, "officer-1")
    desk.now = NOW
    desk.say(f"/start {code}")
    return desk, ids


def test_the_list_and_each_outcome(conversations: Conversations, cipher: Cipher) -> None:
    desk, ids = setting(conversations, cipher)
    listing = desk.say("/daftar")[0]
    assert "2 orang" in listing.text
    assert "Desa Donri Donri" in listing.text
    assert listing.text.index("Peserta 1") < listing.text.index("Peserta 2")  # lapses first, listed first
    assert "NIK 7312********9001" in listing.text
    assert t("officer.reason.blocked") in listing.text
    # November and December unpaid: the last day a payment keeps Peserta 1 active is January's 15th.
    assert "Tunggakan 2 bulan (Rp16.800), paling lambat Jumat, 15 Januari 2027 ·" in listing.text
    assert "Peserta 3" not in listing.text  # another kecamatan
    assert [(c.label, c.key) for c in listing.choices] == [("Peserta 1", "1"), ("Peserta 2", "2")]

    desk.tap("Peserta 1")
    assert desk.replies[0].text == t("officer.what_happened", name="Peserta 1")
    desk.tap("Sudah bayar")
    desk.tap("3 bulan")
    assert desk.replies[0].text == t("officer.done.paid", name="Peserta 1")

    desk.replies = [listing]
    desk.tap("Peserta 2")
    desk.tap("Nomor salah / ganti nomor")
    assert desk.say("0411 123456")[0].text.startswith(t("invalid.phone_not_mobile"))  # a landline: asked again
    assert desk.say("0812-0000-7777")[0].text == t(
        "officer.done.wrong_number", name="Peserta 2", phone="+62 812-0000-7777"
    )

    with Session(conversations.engine) as session:
        paid = session.get(Member, ids["blocked"])
        moved = session.get(Member, ids["no_channel"])
        payment = session.exec(select(Payment)).one()
        outcomes = sorted(session.exec(select(FollowUp.outcome)).all())
        views = session.exec(select(AuditEntry).where(col(AuditEntry.action) == "officer.view")).all()
        new_address = session.exec(select(Address).where(col(Address.external_id) == "+6281200007777")).one()
    assert paid is not None
    assert moved is not None
    assert paid.covered_until == date(2027, 1, 31)  # November, December, January
    assert (payment.source, payment.verified, payment.months) == ("officer", True, 3)
    assert moved.phone == "+6281200007777"
    assert new_address.channel == "whatsapp"
    assert outcomes == ["paid", "wrong_number"]
    assert len(views) == 1
    assert views[0].detail == f"daftar: {ids['blocked']},{ids['no_channel']}"  # why, and the member ids
    assert desk.say("/daftar")[0].text == t("officer.list_empty")  # both dealt with: off the list


def test_forged_buttons_touch_nothing(conversations: Conversations, cipher: Cipher) -> None:
    desk, ids = setting(conversations, cipher)
    desk.say("/daftar")
    for forged in (
        f"oc:{ids['elsewhere']}:refused",
        f"of:{ids['elsewhere']}",
        "oc:999999:paid:3",
        f"oc:{ids['blocked']}:bogus",
    ):
        reply = desk.say(Incoming.choice(forged))[0].text
        assert reply in {t("officer.not_yours"), t("invalid.stale_choice")}
    stranger = Person(conversations, "not-an-officer")
    assert stranger.say(Incoming.choice(f"oc:{ids['blocked']}:refused"))[0].text.startswith(t("invalid.stale_choice"))
    with Session(conversations.engine) as session:
        assert session.exec(select(FollowUp)).all() == []
        assert all(not m.opted_out for m in session.exec(select(Member)).all())


def test_moved_or_refused_stop_the_reminders(conversations: Conversations, cipher: Cipher) -> None:
    desk, ids = setting(conversations, cipher)
    desk.say("/daftar")
    desk.say(Incoming.choice(f"oc:{ids['blocked']}:moved_or_died"))
    desk.say(Incoming.choice(f"oc:{ids['no_channel']}:contacted"))
    with Session(conversations.engine) as session:
        member = session.get(Member, ids["blocked"])
        assert member is not None
        assert member.opted_out
    assert desk.say("/daftar")[0].text == t("officer.list_empty")


def test_an_officer_registers_a_member_door_to_door(conversations: Conversations, cipher: Cipher) -> None:
    desk, _ = setting(conversations, cipher)
    assert desk.say("/peserta_baru")[0].text.startswith(t("officer.register_on_behalf"))
    for _, answer in HAPPY_PATH:
        desk.say(answer)
    desk.tap("Benar, simpan")
    desk.tap("Selesai")
    with Session(conversations.engine) as session:
        member = session.exec(select(Member).where(col(Member.full_name) == "La Baco")).one()
        reachable = session.exec(
            select(Address.channel, Address.external_id)
            .join(MemberAddress, col(MemberAddress.address_id) == col(Address.id))
            .where(col(MemberAddress.member_id) == member.id)
        ).all()
        audit = session.exec(select(AuditEntry).where(col(AuditEntry.action) == "member.register_by_officer")).one()
    assert reachable == [("whatsapp", "+6281200001234")]  # the member's own number, not the officer's chat
    with Session(conversations.engine) as session:
        officer_chat = session.exec(select(Address).where(col(Address.external_id) == "officer-1")).one()
    assert audit.actor == f"telegram:{officer_chat.id}"
    assert audit.subject == f"member:{member.id}"
    assert desk.say("/status")[0].text.startswith(t("status.none"))  # the officer's chat holds no members


def test_search_and_summary_stay_inside_the_area(conversations: Conversations, cipher: Cipher) -> None:
    desk, _ = setting(conversations, cipher)
    found = desk.say("/cari peserta")[0].text
    assert found.startswith(t("officer.search_header", count=2))
    assert "Peserta 1" in found
    assert "NIK 7312********9001" in found
    assert "Peserta 3" not in found  # another kecamatan
    assert "Peserta 1" in desk.say("/cari 7312 0601 0180 9001")[0].text  # by NIK
    assert desk.say("/cari 7312060101809003")[0].text == t("officer.search_none")  # exists, but elsewhere
    assert desk.say("/cari ab")[0].text == t("officer.search_how")
    assert desk.say("/bantuan")[0].text == t("help_officer.text")
    summary = desk.say("/rekap")[0].text
    assert "Peserta: 2" in summary
    assert "Perlu dihubungi hari ini: 2" in summary
    stranger = Person(conversations, "member-chat")
    assert stranger.say("/cari peserta")[0].text.startswith(t("command.unknown"))  # not an officer: no such command
    with Session(conversations.engine) as session:
        views = session.exec(select(AuditEntry).where(col(AuditEntry.action) == "officer.view")).all()
    assert len(views) == 2  # the two searches that showed someone


def test_list_is_grouped_by_desa_most_urgent_first(dialog_config: DialogConfig, regions: RegionIndex) -> None:
    chat = Chat(dialog_config, regions)
    chat.lookups.officer = "Penyuluh Donri"
    view = partial(
        UnreachedView,
        phone=None,
        masked_nik=lambda: "7312********9001",
        reason="no_answer",
        months_due=1,
        amount_due=8_400,
        last_attempt="",
    )
    chat.lookups.unreached = [  # as the lookups give them (AreaLists.for_codes): grouped by desa, most urgent first
        view(member_id=1, name="A", desa_code="73.12.06.2003", days_left=-5),
        view(member_id=3, name="C", desa_code="73.12.06.2003", days_left=40),
        view(member_id=2, name="B", desa_code="73.12.06.2002", days_left=3),
    ]
    text = chat.send("/daftar")[0].text
    assert text.index("1. A") < text.index("2. C") < text.index("Desa Donri Donri") < text.index("3. B")
    assert text.count("Desa Lalabatariaja") == 1
    assert "nonaktif sejak Rabu, 18 November 2026" in text  # five days before 23 November
    chat.send("2")  # the typed list number
    assert chat.last.text == t("officer.what_happened", name="C")
