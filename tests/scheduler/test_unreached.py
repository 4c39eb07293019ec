"""Who goes on the officer's list, and why — case by case, on SQLite and PostgreSQL; officers and their areas."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, delete, update
from sqlmodel import Session, col, select

from bot.texts import t
from domain.member_rows import Row
from domain.policy import ReminderPolicy
from domain.rules import DEFAULT_STAGES, ContributionMonth, open_cycles, parse_stages
from domain.tariffs import default_tariffs
from domain.unreached import Candidate, Reason, Unreached
from domain.vocabulary import LinkProof
from service import imports
from service.conversations import AreaLists, Conversations
from service.unreached import unreached
from storage import members as store
from storage.crypto import Cipher
from storage.models import Address, AuditEntry, Member, MemberAddress, Officer, Reminder
from storage.officers import bind_officer, create_officer, officer_of_address, officers_for_desa
from tests.scheduler.test_scan import add_member
from tests.service.test_conversation_db import Person

POLICY = ReminderPolicy(stages=parse_stages(DEFAULT_STAGES))
TODAY = date(2026, 12, 22)  # H+7 of December 2026
SENT = datetime(2026, 12, 8, 0, 0, tzinfo=UTC)
DONRI = "73.12.06"


def test_open_cycles() -> None:
    # Due within 7 days, overdue, or lapsed within 30 days: on 22 December, November's cycle (lapses 16 January) and
    # December's (due the 15th) are open; October's lapsed 16 December (6 days ago) is open too; January's is not due.
    assert open_cycles(TODAY) == (ContributionMonth(2026, 10), ContributionMonth(2026, 12))
    assert open_cycles(date(2027, 1, 8)) == (ContributionMonth(2026, 10), ContributionMonth(2027, 1))


def remind(
    session: Session, member_id: int, status: str, cycle: int = 202612, stage: tuple[str, int] = ("H-7", 0)
) -> None:
    session.add(
        Reminder(
            member_id=member_id,
            cycle=cycle,
            stage=stage[0],
            stage_rank=stage[1],
            status=status,
            send_after=SENT,
            expires_at=SENT,
            zone="Asia/Makassar",
            created_at=SENT,
            sent_at=SENT,
        )
    )


def test_the_unreached_case_by_case(engine: Engine, cipher: Cipher) -> None:
    with Session(engine) as session:
        ids = {}
        ids["no_answer"] = add_member(session, cipher, 1, date(2026, 11, 30)).id
        ids["answered"] = add_member(session, cipher, 2, date(2026, 11, 30)).id
        ids["failed"] = add_member(session, cipher, 3, date(2026, 11, 30)).id
        ids["blocked"] = add_member(session, cipher, 4, date(2026, 10, 31)).id
        ids["no_channel"] = add_member(session, cipher, 5, date(2026, 11, 30)).id
        ids["opted_out"] = add_member(session, cipher, 6, date(2026, 11, 30), opted_out=True).id
        ids["help"] = add_member(session, cipher, 7, date(2027, 6, 30), help_requested_at=SENT).id
        ids["enrolment"] = add_member(session, cipher, 8, None, bpjs_status="not_registered", needs_enrolment=True).id
        ids["paid_ahead"] = add_member(session, cipher, 9, date(2026, 12, 31)).id
        ids["long_lapsed"] = add_member(session, cipher, 10, date(2026, 7, 31)).id
        ids["elsewhere"] = add_member(
            session, cipher, 11, date(2026, 11, 30), kecamatan_code="73.12.01", desa_code="73.12.01.2003"
        ).id
        ids["not_yet"] = add_member(
            session, cipher, 12, date(2026, 11, 30)
        ).id  # reminded, but before H+7? no: see below
        session.flush()
        for name in ("no_answer", "answered", "elsewhere"):
            remind(session, ids[name] or 0, "delivered")
        remind(session, ids["failed"] or 0, "failed")
        session.execute(
            update(Address)
            .where(col(Address.external_id) == "s2")
            .values(last_inbound_at=datetime(2026, 12, 9, tzinfo=UTC))
        )
        session.execute(update(Address).where(col(Address.external_id).in_(["s4", "s10"])).values(status="unreachable"))
        session.execute(delete(MemberAddress).where(col(MemberAddress.member_id) == ids["no_channel"]))
        session.commit()
        listed = unreached(session=session, codes=[DONRI], today=TODAY, policy=POLICY, tariffs=default_tariffs())
    by_name = {u.member.full_name: u for u in listed}
    numbered = (
        ("no_answer", 1),
        ("failed", 3),
        ("blocked", 4),
        ("no_channel", 5),
        ("opted_out", 6),
        ("help", 7),
        ("enrolment", 8),
    )
    reasons = {name: by_name[f"Peserta {i}"].reason for name, i in numbered if f"Peserta {i}" in by_name}
    assert reasons == {
        "no_answer": Reason.NO_ANSWER,
        "failed": Reason.FAILED,
        "blocked": Reason.BLOCKED,
        "no_channel": Reason.NO_CHANNEL,
        "opted_out": Reason.OPTED_OUT,
        "help": Reason.HELP,
        "enrolment": Reason.ENROLMENT,
    }
    # Answered after the reminder, paid ahead, lapsed long ago, another kecamatan, not reminded this cycle: not listed.
    assert {f"Peserta {i}" for i in (2, 9, 10, 11, 12)}.isdisjoint(by_name)
    # Most urgent first: November's cycle (lapses 16 January, 25 days) before December's (16 February, 56 days).
    assert listed[0].member.full_name == "Peserta 4"
    assert (listed[0].days_left, listed[0].months_due, listed[0].amount_due) == (25, 2, 16_800)
    no_answer = by_name["Peserta 1"]
    assert (no_answer.days_left, no_answer.months_due, no_answer.amount_due) == (56, 1, 8_400)
    assert no_answer.last_attempt is not None
    assert no_answer.last_attempt.status == "delivered"
    assert [u.days_left for u in listed][-2:] == [None, None]  # help and enrolment have no deadline: last


def test_the_newest_tried_reminder_decides_and_each_member_is_listed_once(engine: Engine, cipher: Cipher) -> None:
    with Session(engine) as session:
        failed_late = add_member(session, cipher, 1, date(2026, 11, 30)).id or 0
        delivered_late = add_member(session, cipher, 2, date(2026, 11, 30)).id or 0
        session.flush()
        # Member 1: November's H-7 reached them (they paid November), December's H-7 too, then December's H-3
        # failed; a pending H-1 was never tried. Member 2 the other way round: December's H-7 failed, H0 arrived.
        remind(session, failed_late, "delivered", cycle=202611)
        remind(session, failed_late, "delivered")
        remind(session, failed_late, "failed", stage=("H-3", 1))
        remind(session, failed_late, "pending", stage=("H-1", 2))
        remind(session, delivered_late, "failed")
        remind(session, delivered_late, "delivered", stage=("H0", 3))
        # Member 2 also shares a family phone that works and has an old chat that does not: still one line.
        second = store.get_or_create_address(
            session=session, channel="whatsapp", external_id="+6281200009002", now=SENT
        )
        second.status = "unreachable"
        session.add(second)
        session.flush()
        session.add(
            MemberAddress(member_id=delivered_late, address_id=second.id or 0, created_at=SENT, proof=LinkProof.STAFF)
        )
        session.commit()
        listed = unreached(session=session, codes=[DONRI], today=TODAY, policy=POLICY, tariffs=default_tariffs())
    by_id = {u.member.id: u for u in listed}
    assert len(by_id) == len(listed)  # no member twice
    assert by_id[failed_late].reason == Reason.FAILED
    attempt = by_id[failed_late].last_attempt
    assert attempt is not None
    assert (attempt.cycle, attempt.stage, attempt.status) == (202612, "H-3", "failed")
    # Member 2's newest tried reminder is December's H0, delivered; today is H+7 and they never answered, so they
    # are unanswered — not "failed" because of the older failure, nor "blocked" by the dead chat.
    assert delivered_late in by_id
    assert by_id[delivered_late].reason == Reason.NO_ANSWER
    assert (by_id[delivered_late].member.active, by_id[delivered_late].member.unreachable) == (1, 1)
    attempt = by_id[delivered_late].last_attempt
    assert attempt is not None
    assert (attempt.cycle, attempt.stage, attempt.status) == (202612, "H0", "delivered")


def test_before_h7_a_delivered_reminder_is_not_yet_unanswered(engine: Engine, cipher: Cipher) -> None:
    with Session(engine) as session:
        member = add_member(session, cipher, 1, date(2026, 11, 30))
        session.flush()
        remind(session, member.id or 0, "delivered")
        session.commit()
        early = unreached(
            session=session, codes=[DONRI], today=date(2026, 12, 21), policy=POLICY, tariffs=default_tariffs()
        )
        due = unreached(
            session=session, codes=[DONRI], today=date(2026, 12, 22), policy=POLICY, tariffs=default_tariffs()
        )
    assert early == []
    assert [u.reason for u in due] == [Reason.NO_ANSWER]


def test_officers_cover_desa_and_kecamatan_and_bind_once(engine: Engine) -> None:
    now = datetime(2026, 11, 23, tzinfo=UTC)
    with Session(engine) as session:
        whole = create_officer(session=session, name="Penyuluh Donri", phone="+6281200000001", codes=[DONRI], now=now)
        village = create_officer(
            session=session, name="Agen PERISAI Pesse", phone=None, codes=["73.12.06.2006"], now=now
        )
        other = create_officer(session=session, name="Penyuluh Lain", phone=None, codes=["73.12.01"], now=now)
        session.commit()
        assert [o.name for o in officers_for_desa(session=session, desa_code="73.12.06.2006")] == [
            "Penyuluh Donri",
            "Agen PERISAI Pesse",
        ]
        assert [o.name for o in officers_for_desa(session=session, desa_code="73.12.06.2002")] == ["Penyuluh Donri"]
        code = whole.invite_code
        assert code is not None
        assert code.startswith("of_")
        address = Address(channel="telegram", external_id="officer-1", created_at=now)
        session.add(address)
        session.flush()
        since = now - timedelta(days=14)  # the code is fresh
        assert bind_officer(session=session, code=code, address_id=address.id or 0, issued_after=since) is not None
        assert bind_officer(session=session, code=code, address_id=address.id or 0, issued_after=since) is None
        bound = officer_of_address(session=session, address_id=address.id or 0)
        assert bound is not None
        assert bound.name == "Penyuluh Donri"
        assert village.id != other.id


def test_an_officer_binds_their_chat_with_the_invitation_link(conversations: Conversations) -> None:
    now = datetime(2026, 11, 23, tzinfo=UTC)
    with Session(conversations.engine) as session:
        officer = create_officer(session=session, name="Penyuluh Donri", phone=None, codes=[DONRI], now=now)
        code = officer.invite_code
        session.commit()
    first = Person(conversations, "9901")
    assert first.say(f"/start {code}")[0].text == t("invitation.officer", name="Penyuluh Donri")
    stranger = Person(conversations, "9902")
    assert stranger.say(f"/start {code}")[0].text == t("invitation.unknown")  # the code worked once
    with Session(conversations.engine) as session:
        bound = session.exec(select(Officer)).one()
        address = session.get(Address, bound.address_id)
        audit = session.exec(select(AuditEntry).where(col(AuditEntry.action) == "officer.bind")).one()
    assert address is not None
    assert address.external_id == "9901"
    assert audit.subject == f"officer:{bound.id}"


def _listed(member_id: int, desa_code: str, days_left: int | None) -> Unreached:
    member = Candidate(
        id=member_id,
        full_name=f"Peserta {member_id}",
        desa_code=desa_code,
        phone=None,
        nik_encrypted="",
        covered_until=None,
        needs_enrolment=False,
        asked_help=False,
        opted_out=False,
        occupation="petani",
        payer="self",
        declared_income=1_000_000,
        with_jht=False,
        report_mismatch=False,
        registration_mismatch=False,
        active=0,
        unreachable=1,
        last_inbound_at=None,
        attempt_cycle=None,
        attempt_stage=None,
        attempt_status=None,
        attempt_sent_at=None,
        followed_up=False,
        listed_since=date(2026, 12, 1) if member_id == 1 else None,
    )
    return Unreached(member, Reason.BLOCKED, days_left, 1, 8_400, None)


def test_each_officer_gets_their_share_grouped_by_desa(cipher: Cipher) -> None:
    donri, lalabata, other = "73.12.06.2002", "73.12.06.2003", "73.12.01.2003"
    # In the definition's order: most urgent first, whatever the desa.
    everyone = [_listed(1, lalabata, -5), _listed(2, other, 0), _listed(3, donri, 3), _listed(4, lalabata, 40),
                _listed(5, donri, None)]  # fmt: skip
    lists = AreaLists.of(everyone, cipher, new_since=TODAY)
    # The kecamatan's officer: Lalabata's members first (the most urgent is there), then Donri's; each in order.
    assert [v.member_id for v in lists.for_codes([DONRI])] == [1, 4, 3, 5]
    assert [v.member_id for v in lists.for_codes([donri])] == [3, 5]  # one desa's officer
    assert [v.member_id for v in lists.for_codes([donri, "73.12.01"])] == [2, 3, 5]
    assert lists.for_codes(["73.14.01"]) == []  # nobody listed there
    assert lists.member_ids() == {1, 2, 3, 4, 5}
    # The listing clock's reading, or today for those the daily run puts on it now.
    assert {v.member_id: v.listed_since for v in lists.for_codes([DONRI])} == {
        1: date(2026, 12, 1), 3: TODAY, 4: TODAY, 5: TODAY}  # fmt: skip
    assert {v.listed_since for v in AreaLists.of(everyone[1:], cipher).for_codes([DONRI])} == {None}


def _reasons(engine: Engine) -> dict[str, Reason]:
    with Session(engine) as session:
        found = unreached(session=session, codes=[DONRI], today=TODAY, policy=POLICY, tariffs=default_tariffs())
    return {u.member.full_name: u.reason for u in found}


def test_a_member_whose_last_paid_month_is_unknown_is_listed_until_it_is_known(engine: Engine, cipher: Cipher) -> None:
    # "Tidak ingat": a BPJS member without a last paid month gets no reminder, so the officer must see them.
    with Session(engine) as session:
        add_member(session, cipher, 13, None, kpj="12345678901")
        by_officer = add_member(session, cipher, 14, None)
        add_member(session, cipher, 15, None, bpjs_status="not_registered", needs_enrolment=True)
        session.commit()
        by_officer_id = by_officer.id
    listed = _reasons(engine)
    assert listed["Peserta 13"] == listed["Peserta 14"] == Reason.UNKNOWN_MONTH
    assert listed["Peserta 15"] == Reason.ENROLMENT
    assert t("officer.reason.unknown_month") == "bulan iuran terakhir belum diketahui"

    # The branch's file gives member 13's month; the officer fills in member 14's.
    row = Row(
        nik="7312060101809013",
        full_name="Peserta 13",
        birth_date=date(1980, 1, 1),
        sex="L",
        phone=None,
        kecamatan_code=DONRI,
        desa_code="73.12.06.2002",
        kpj="12345678901",
        covered_until=date(2026, 11, 30),
        payer="self",
    )
    token = imports.confirm(engine, cipher, filename="cabang.xlsx", rows=[row], now=SENT)
    while (progress := imports.apply_next(engine=engine, cipher=cipher, token=token, now=SENT)) and not progress.done:
        pass
    assert "Peserta 13" not in _reasons(engine)
    with Session(engine) as session:
        member = session.get(Member, by_officer_id)
        assert member is not None
        store.update_member(
            session=session, cipher=cipher, member=member, fields={"covered_until": date(2026, 12, 31)}, now=SENT
        )
        session.commit()
    assert "Peserta 14" not in _reasons(engine)
