"""/statistik against a known dataset (SQLite and PostgreSQL): the numbers, the chart, the daily snapshots."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.texts import t
from domain.vocabulary import OfficerRole
from service.conversations import Conversations
from service.daily import snapshot
from service.stats import compute, trend
from storage.crypto import Cipher
from storage.models import Address, StatSnapshot
from tests.scheduler.test_scan import POLICY, add_member
from tests.service.test_admin import ADMIN_CHAT, staff_chat
from tests.service.test_conversation_db import Person

TODAY = date(2026, 11, 23)  # the 15 November contribution is past due
DONRI, MARIORIWAWO = "73.12.06", "73.12.01"


@pytest.fixture
def service(conversations: Conversations) -> Conversations:
    config = dataclasses.replace(conversations.config, admins=frozenset({f"telegram:{ADMIN_CHAT}"}))
    return dataclasses.replace(conversations, config=config)


def known_dataset(service: Conversations, cipher: Cipher) -> None:
    """Donri-Donri: 2 paid through November (due 15 December: not within 7 days), 1 paid through October (one
    month behind), 1 through September (two), 1 through August (lapsed 15 November, this month), 1 through June
    (lapsed before), 1 opted out and paid up. Marioriwawo: 1 paid through November, its chat blocked."""
    plan = [(1, "2026-11-30"), (2, "2026-11-30"), (3, "2026-10-31"), (4, "2026-09-30"), (5, "2026-08-31"),
            (6, "2026-06-30"), (7, "2026-11-30")]  # fmt: skip
    with Session(service.engine) as session:
        for index, covered in plan:
            add_member(session, cipher, index, date.fromisoformat(covered), opted_out=index == 7)
        add_member(session, cipher, 8, date(2026, 11, 30), kecamatan_code=MARIORIWAWO, desa_code="73.12.01.2003")
        session.execute(update(Address).where(col(Address.external_id) == "s8").values(status="unreachable"))
        session.commit()


def test_numbers_per_kecamatan(service: Conversations, cipher: Cipher) -> None:
    known_dataset(service, cipher)
    with Session(service.engine) as session:
        donri, marioriwawo = compute(session=session, today=TODAY, policy=POLICY, codes=None)[::-1]
    assert (donri.kecamatan, marioriwawo.kecamatan) == (DONRI, MARIORIWAWO)
    counted = ("members", "active", "due_soon", "arrears_1", "arrears_2", "lapsed_month", "unreachable", "opted_out")
    assert [getattr(donri, name) for name in counted] == [7, 5, 0, 1, 1, 1, 0, 1]
    assert [getattr(marioriwawo, name) for name in counted] == [1, 1, 0, 0, 0, 0, 1, 0]
    with Session(service.engine) as session:
        soon = compute(session=session, today=date(2026, 12, 9), policy=POLICY, codes=[DONRI])
    assert soon[0].due_soon == 3  # on 9 December the 15 December contribution is due within a week


async def test_statistik_replies_with_numbers_and_a_chart(service: Conversations, cipher: Cipher) -> None:
    known_dataset(service, cipher)
    admin = Person(service, ADMIN_CHAT)
    admin.now = admin.now.replace(year=2026, month=11, day=23)
    [reply] = admin.say("/statistik")
    donri = t(
        "stats.line",
        name="Donri-Donri",
        members=7,
        active=5,
        percent=71,
        due_soon=0,
        arrears_1=1,
        arrears_2=1,
        lapsed=1,
        unreachable=0,
        opted_out=1,
    )
    everywhere = t(
        "stats.line",
        name=t("stats.all"),
        members=8,
        active=6,
        percent=75,
        due_soon=0,
        arrears_1=1,
        arrears_2=1,
        lapsed=1,
        unreachable=1,
        opted_out=1,
    )
    assert donri in reply.text
    assert everywhere in reply.text
    assert reply.attachment is not None
    assert reply.attachment.media_type == "image/png"
    assert reply.attachment.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(reply.attachment.content) > 10_000  # a drawn chart, not an empty image
    coordinator = staff_chat(service, "703", OfficerRole.COORDINATOR, [MARIORIWAWO])
    [scoped] = coordinator.say("/statistik")
    assert "Marioriwawo" in scoped.text
    assert "Donri-Donri" not in scoped.text  # another kecamatan: not theirs
    assert coordinator.say("/statistik Donri-Donri")[0].text == t("stats.none")
    assert admin.say("/statistik Antah Berantah")[0].text == t("stats.usage")


def test_snapshots_make_a_weekly_trend(service: Conversations, cipher: Cipher) -> None:
    known_dataset(service, cipher)
    for days_ago in range(0, 30, 3):
        snapshot(engine=service.engine, policy=POLICY, today=TODAY - timedelta(days=days_ago))
    snapshot(engine=service.engine, policy=POLICY, today=TODAY)  # again the same day: replaced, not doubled
    with Session(service.engine) as session:
        days = session.exec(select(col(StatSnapshot.day)).where(col(StatSnapshot.kecamatan_code) == DONRI)).all()
        weekly = trend(session=session, today=TODAY, kecamatan=None)
    assert len(days) == 10
    # The newest snapshot of each week back from today (snapshots every third day, the last 30 days).
    assert [w.kecamatan for w in weekly] == ["2026-11-02", "2026-11-08", "2026-11-14", "2026-11-23"]
    assert weekly[-1].members == 8
    assert weekly[-1].active == 6
    assert weekly[0].active == 7  # member 5 was still protected then: they lapsed on 15 November
