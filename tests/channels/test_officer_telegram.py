"""An officer's digest and a one-tap outcome through the real python-telegram-bot client and a Bot API stand-in."""

from __future__ import annotations

import io
from datetime import date

from openpyxl import load_workbook
from sqlalchemy import update
from sqlmodel import Session, select
from telegram.ext import Application

from bot.app import utc_now
from bot.channels.telegram import TelegramSender
from bot.texts import t
from domain.rules import ContributionMonth
from scheduler.digest import send_digests
from service.conversations import Conversations
from storage.crypto import Cipher
from storage.models import Address, FollowUp
from storage.officers import create_officer
from tests.fake_telegram import FakeTelegram
from tests.scheduler.test_scan import add_member

OFFICER_CHAT = 880001


async def test_digest_and_outcome_over_telegram(
    telegram: FakeTelegram,
    polling_bot: Application,  # type: ignore[type-arg]
    conversations: Conversations,
    cipher: Cipher,
) -> None:
    today = conversations.today(utc_now())  # the bot reads the real clock here: make the member overdue today
    covered = date(today.year - (today.month <= 2), (today.month - 3) % 12 + 1, 1)
    with Session(conversations.engine) as session:
        member = add_member(session, cipher, 1, ContributionMonth.of(covered).last_day)
        for serial in range(2, 11):  # ten in all: more than a screen, so the whole list also comes as a file
            add_member(session, cipher, serial, ContributionMonth.of(covered).last_day)
        officer = create_officer(session=session, name="Penyuluh Donri", phone=None, codes=["73.12.06"], now=utc_now())
        code = officer.invite_code
        session.execute(update(Address).values(status="unreachable"))
        session.commit()
        member_id = member.id
    telegram.text(OFFICER_CHAT, f"/start {code}")
    assert (await telegram.wait_for(OFFICER_CHAT, 1))[0] == t("invitation.officer", name="Penyuluh Donri")
    senders = {"telegram": TelegramSender(polling_bot.bot)}
    stats = await send_digests(conversations=conversations, senders=senders, today=today, now=utc_now())
    assert stats.sent == 1
    digest = (await telegram.wait_for(OFFICER_CHAT, 2))[-1]
    assert "Peserta 1" in digest
    assert t("officer.reason.blocked") in digest
    [(filename, content)] = telegram.documents(OFFICER_CHAT)
    assert filename == f"daftar-{today.isoformat()}.xlsx"
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == tuple(t("officer.sheet_header").split("|"))
    assert [row[1] for row in rows[1:]] == [f"Peserta {n}" for n in (1, 10, 2, 3, 4, 5, 6, 7, 8, 9)]
    assert not any("7312" in str(cell) for row in rows for cell in row)  # no NIK in a file that gets forwarded
    telegram.press(OFFICER_CHAT, "Peserta 1")
    await telegram.wait_for(OFFICER_CHAT, 3)
    telegram.press(OFFICER_CHAT, "Sudah dihubungi")
    done = (await telegram.wait_for(OFFICER_CHAT, 4))[-1]
    assert done == t("officer.done.contacted", name="Peserta 1")
    with Session(conversations.engine) as session:
        follow_up = session.exec(select(FollowUp)).one()
    assert (follow_up.member_id, follow_up.outcome) == (member_id, "contacted")


HOSTILE_NAME = '<b>La</b> *Baco* _x_ [klik](http://evil.example) =HYPERLINK("http://evil.example")'


async def test_a_hostile_name_from_a_spreadsheet_reaches_the_officer_as_plain_text(
    telegram: FakeTelegram,
    polling_bot: Application,  # type: ignore[type-arg]
    conversations: Conversations,
    cipher: Cipher,
) -> None:
    """Imported names are not checked like typed ones: markup and formulas in them must stay inert text."""
    today = conversations.today(utc_now())
    covered = date(today.year - (today.month <= 2), (today.month - 3) % 12 + 1, 1)
    with Session(conversations.engine) as session:
        for serial in range(1, 10):  # more than a screen: the file comes too
            name = HOSTILE_NAME if serial == 1 else f"Peserta {serial}"
            add_member(session, cipher, serial, ContributionMonth.of(covered).last_day, full_name=name)
        officer = create_officer(session=session, name="Penyuluh Donri", phone=None, codes=["73.12.06"], now=utc_now())
        code = officer.invite_code
        session.execute(update(Address).values(status="unreachable"))
        session.commit()
    telegram.text(OFFICER_CHAT, f"/start {code}")
    await telegram.wait_for(OFFICER_CHAT, 1)
    senders = {"telegram": TelegramSender(polling_bot.bot)}
    await send_digests(conversations=conversations, senders=senders, today=today, now=utc_now())
    await telegram.wait_for(OFFICER_CHAT, 2)
    digest = telegram.messages(OFFICER_CHAT)[-1]
    assert HOSTILE_NAME in str(digest.params["text"])  # verbatim: nothing escaped, nothing interpreted
    assert "parse_mode" not in digest.params  # Telegram shows the text as it is, never as HTML or Markdown
    assert HOSTILE_NAME in telegram.buttons(OFFICER_CHAT)
    [(_, content)] = await telegram.wait_for_documents(OFFICER_CHAT, 1)
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    [cell] = [row[1] for row in sheet.iter_rows(min_row=2) if row[1].value == HOSTILE_NAME]
    assert cell.data_type == "s"  # a text cell: the spreadsheet never runs it as a formula
