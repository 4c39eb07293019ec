"""Each channel in its own words, at the HTTP boundary: WhatsApp's help and reminders name words to type (no slash
commands, nothing to press), Telegram's its commands; a WhatsApp answer that says a file is attached carries it."""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import delete
from sqlmodel import Session
from starlette.applications import Starlette
from telegram.ext import Application
from twilio.request_validator import RequestValidator

from bot import texts
from bot.__main__ import main
from bot.channels.console import chat_loop
from bot.channels.whatsapp import MediaHost, WhatsAppWebhook, incoming_from_text
from bot.dialogs.core import Incoming, Reply
from bot.texts import catalog, speaking, t
from domain.delivery import Sender
from domain.tariffs import default_tariffs
from domain.vocabulary import Channel, Payer, SponsorKind
from files import xlsx
from scheduler.digest import send_digests
from scheduler.statements import send_statements
from service import statements
from service.conversations import Conversations
from storage.crypto import Cipher
from storage.models import MemberAddress
from storage.officers import create_officer
from storage.sponsors import create_sponsor
from tests.channels.test_whatsapp import (  # noqa: F401 (fixtures: the fake Twilio, senders closed after each test)
    MORNING,
    NUMBER,
    PUBLIC_URL,
    Phone,
    close_senders,
    dispatcher,
    register_and_scan,
    twilio,
    unescape,
    whatsapp_sender,
)
from tests.dialog_driver import HAPPY_PATH
from tests.dialog_driver import NOW as TYPED_AT
from tests.fake_telegram import FakeTelegram, Served, free_port
from tests.fake_twilio import AUTH_TOKEN, FakeTwilio
from tests.scheduler.test_scan import add_member
from tests.service.test_conversation_db import Person
from tests.service.test_reminder_replies import Inbox
from tests.service.test_statements import NOW, POLICY, STATEMENT_DAY, in_sidrap

SLASH = re.compile(r"(?:^|\s)/[a-z]")


@contextlib.asynccontextmanager
async def served(conversations: Conversations, clock: Callable[[], datetime]) -> AsyncIterator[httpx.AsyncClient]:
    """The webhook as the app serves it: its answers' files published where Twilio fetches them."""
    host = MediaHost(conversations.engine, PUBLIC_URL, clock)
    hook = WhatsAppWebhook(conversations, RequestValidator(AUTH_TOKEN), PUBLIC_URL, clock, media=host)
    port = free_port()
    async with (
        Served(Starlette(routes=hook.routes() + host.routes()), port),
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client,
    ):
        yield client


async def test_a_whatsapp_member_asking_for_help_gets_the_words_to_type(conversations: Conversations) -> None:
    async with served(conversations, lambda: datetime.now(UTC)) as client:
        phone = Phone(client)
        await phone.say("halo")
        help_text = unescape((await phone.say("bantuan"))[0])
    with speaking(Channel.WHATSAPP):
        assert help_text == t("help.member")
    for word in ("STATUS", "UBAH", "HAPUS", "SUDAH BAYAR", "BERHENTI", "MULAI", "BANTUAN"):
        assert word in help_text
    assert not SLASH.search(help_text)


async def test_a_telegram_member_asking_for_help_gets_the_commands(
    telegram: FakeTelegram,
    polling_bot: Application,  # type: ignore[type-arg]
) -> None:
    telegram.text(777002, "/bantuan")
    [help_text] = await telegram.wait_for(777002, 1)
    assert help_text == catalog(Channel.TELEGRAM)["help.member"]
    assert "/status" in help_text
    assert "SUDAH BAYAR" in help_text
    assert "BERHENTI" in help_text


async def test_a_reminder_over_whatsapp_says_to_type_sudah_bayar(
    twilio: FakeTwilio,  # noqa: F811
    conversations: Conversations,
    cipher: Cipher,
) -> None:
    register_and_scan(conversations, "8101")  # registered on Telegram, reminded on WhatsApp (its phone)
    async with served(conversations, lambda: MORNING) as client:
        await Phone(client).say("halo")  # the member wrote: WhatsApp's 24 hours are open, the reminder is free text
    sender = whatsapp_sender(twilio, MORNING)
    assert (await dispatcher(conversations, cipher, {"whatsapp": sender}).drain(MORNING)).sent == 1
    body = twilio.sent_to(NUMBER)[-1]["Body"]
    assert "Ketik SUDAH BAYAR" in body
    assert "Tekan" not in body
    assert "1. Sudah bayar" in body  # the options, numbered
    assert t("hint.numbered") in body


async def test_an_officer_asking_for_the_list_on_whatsapp_gets_the_file_it_says_is_attached(
    conversations: Conversations, cipher: Cipher
) -> None:
    now = datetime(2026, 12, 22, 0, 0, tzinfo=UTC)
    with Session(conversations.engine) as session:
        for serial in range(1, 11):  # more than a page: the whole list comes as a file
            add_member(session, cipher, serial, date(2026, 11, 30), phone=None)
        session.execute(delete(MemberAddress))
        code = create_officer(
            session=session, name="Penyuluh Donri", phone=None, codes=["73.12.06"], now=now
        ).invite_code
        session.commit()
    async with served(conversations, lambda: now) as client:
        desk = Phone(client, "+6281300002222")
        await desk.say(f"/start {code}")
        params = desk.params("/daftar")
        response = await desk.post("/twilio/whatsapp", params, desk.signed("/twilio/whatsapp", params))
        said = unescape(response.text)
        [(body, url)] = re.findall(r"<Message><Body>(.*?)</Body><Media>(.*?)</Media></Message>", said, re.DOTALL)
        assert t("officer.list_attached") in body
        fetched = await client.get(url.removeprefix(PUBLIC_URL))  # as Twilio fetches it
    assert fetched.headers["content-type"] == xlsx.MEDIA_TYPE
    sheet = load_workbook(io.BytesIO(fetched.content)).active
    assert sheet is not None
    assert sheet.max_row == 11  # the header and all ten


def whatsapp_says(monkeypatch: pytest.MonkeyPatch, key: str, text: str) -> None:
    """WhatsApp words `key` as `text`: whatever is composed for a WhatsApp chat shows it, and nothing else does."""
    real = texts.catalog

    def catalog_with(channel: str = Channel.TELEGRAM) -> dict[str, str]:
        found = real(channel)
        return found | {key: text} if channel == Channel.WHATSAPP else found

    monkeypatch.setattr(texts, "catalog", catalog_with)


async def test_an_officer_on_whatsapp_reads_the_digest_in_whatsapp_words(
    monkeypatch: pytest.MonkeyPatch,
    twilio: FakeTwilio,  # noqa: F811
    conversations: Conversations,
    cipher: Cipher,
) -> None:
    """The digest is composed for the officer's chat: what WhatsApp says differently, it says there."""
    whatsapp_says(monkeypatch, "officer.list_attached", "Daftar lengkap, sebagai berkas WhatsApp.")
    now = datetime(2026, 12, 22, 0, 0, tzinfo=UTC)
    with Session(conversations.engine) as session:
        for serial in range(1, 11):
            add_member(session, cipher, serial, date(2026, 11, 30), phone=None)
        session.execute(delete(MemberAddress))
        code = create_officer(
            session=session, name="Penyuluh Donri", phone=None, codes=["73.12.06"], now=now
        ).invite_code
        session.commit()
    number = "+6281300003333"
    async with served(conversations, lambda: now) as client:
        await Phone(client, number).say(f"/start {code}")
        host = MediaHost(conversations.engine, PUBLIC_URL, lambda: now)
        sender = whatsapp_sender(twilio, now, media=host)
        stats = await send_digests(conversations=conversations, senders={"whatsapp": sender}, today=now.date(), now=now)
    assert stats.sent == 1
    sent = twilio.sent_to(number)[-1]
    assert sent["MediaUrl"].startswith(PUBLIC_URL + "/media/")  # the file the digest says is attached
    assert "Daftar lengkap, sebagai berkas WhatsApp." in sent["Body"]
    assert t("officer.list_attached") not in sent["Body"]
    assert not SLASH.search(sent["Body"])


async def test_an_office_reads_its_statement_in_each_chat_s_words(
    monkeypatch: pytest.MonkeyPatch, conversations: Conversations, cipher: Cipher
) -> None:
    whatsapp_says(monkeypatch, "statement.text", "{office} {month} {groups} {count} {total} {due} {notes} di WhatsApp")
    with Session(conversations.engine) as session:
        in_sidrap(session, cipher, 1, date(2026, 11, 30), payer=Payer.REGIONAL_GOVERNMENT)
        office = create_sponsor(
            session=session, name="Pemkab", now=NOW, kind=SponsorKind.PUBLIC, payer=Payer.REGIONAL_GOVERNMENT,
            codes=["73.14"],
        )  # fmt: skip
        code = office.invite_code
        session.commit()
    Person(conversations, "8201").say(f"/start {code}")
    Person(conversations, "+6281200004444", channel=Channel.WHATSAPP).say(f"/start {code}")
    telegram, whatsapp = Inbox(), Inbox(channel=Channel.WHATSAPP)
    moment = datetime(2026, 12, 7, 23, 0, tzinfo=UTC)
    setup = statements.Setup(cipher, conversations.regions, POLICY, default_tariffs(), days_before=7)
    senders: dict[str, Sender[Reply]] = {"telegram": telegram, "whatsapp": whatsapp}
    stats = await send_statements(
        engine=conversations.engine, setup=setup, senders=senders, today=STATEMENT_DAY, now=moment
    )
    assert (stats.offices, stats.sent) == (1, 2)
    [(_, on_telegram)] = telegram.received
    [(_, on_whatsapp)] = whatsapp.received
    assert on_whatsapp.text.endswith("di WhatsApp")
    assert on_telegram.text.startswith("Yth. Pemkab")
    assert "di WhatsApp" not in on_telegram.text
    assert on_telegram.attachment is not None
    assert on_whatsapp.attachment is not None


def test_the_terminal_speaks_as_the_channel_it_imitates(conversations: Conversations) -> None:
    def chat(channel: str, typed: list[str]) -> str:
        lines = iter([*typed, "/keluar"])
        written: list[str] = []
        chat_loop(
            conversations,
            address="+6281200000000" if channel == Channel.WHATSAPP else "tty-telegram",
            clock=lambda: TYPED_AT,
            read=lambda _: next(lines),
            write=written.append,
            translate=incoming_from_text if channel == Channel.WHATSAPP else Incoming.from_text,
            channel=channel,
        )
        return "\n".join(written)

    registered = [answer for _, answer in HAPPY_PATH] + ["1"]
    whatsapp = chat(Channel.WHATSAPP, [*registered, "2", "bantuan"])
    telegram = chat(Channel.TELEGRAM, ["/bantuan"])
    assert whatsapp.startswith(catalog(Channel.WHATSAPP)["console.intro"])
    assert "seperti di WhatsApp" in whatsapp
    assert "Ketik STATUS untuk melihat data" in whatsapp  # saved, in WhatsApp's words
    assert catalog(Channel.WHATSAPP)["help.member"] in whatsapp
    assert telegram.startswith(catalog(Channel.TELEGRAM)["console.intro"])
    assert catalog(Channel.TELEGRAM)["help.member"] in telegram


def test_the_terminal_as_whatsapp_is_a_whatsapp_number(conversations: Conversations) -> None:
    """`sipakainge chat --channel whatsapp`: "nomor ini" gives the chat's number, which proves the registration."""
    typed = iter(
        [*(("nomor ini" if step == "phone" else answer) for step, answer in HAPPY_PATH), "1", "2", "status", "/keluar"]
    )
    written: list[str] = []
    chat_loop(
        conversations,
        address="+6281200009101",
        clock=lambda: TYPED_AT,
        read=lambda _: next(typed),
        write=written.append,
        translate=incoming_from_text,
        channel=Channel.WHATSAPP,
    )
    transcript = "\n".join(written)
    assert "Nomor HP: +62 812-0000-9101" in transcript
    assert "Nama: La Baco" in written[-1]  # STATUS shows them at once: the number is the member's


def test_the_whatsapp_terminal_wants_a_number(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    assert main(["chat", "--channel", "whatsapp", "--as", "bukan-nomor"]) == 2
