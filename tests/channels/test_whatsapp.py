"""WhatsApp through Twilio at the HTTP boundary: the real webhook with requests signed by the real RequestValidator,
and the real twilio client against a local stand-in of its API."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, update
from sqlmodel import Session, col, select
from starlette.applications import Starlette
from telegram import Bot
from twilio.request_validator import RequestValidator

from bot.channels.telegram import TelegramSender
from bot.channels.whatsapp import MediaHost, SenderLimit, WhatsAppSender, WhatsAppWebhook, twilio_client
from bot.dialogs.core import Reply
from bot.texts import t
from domain.delivery import Sender
from domain.policy import ReminderPolicy
from domain.rules import DEFAULT_STAGES, parse_stages
from domain.tariffs import default_tariffs
from files import xlsx
from scheduler.digest import send_digests
from scheduler.dispatch import Dispatcher
from scheduler.messages import ReminderRenderer
from service.conversations import Conversations
from storage.crypto import Cipher
from storage.models import Address, FollowUp, Member, MemberAddress, Reminder
from storage.officers import create_officer
from storage.scan import scan
from tests.dialog_driver import HAPPY_PATH
from tests.fake_telegram import TOKEN, FakeTelegram, fake_app, free_port
from tests.fake_telegram import Served as ServedApp
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM, FakeTwilio
from tests.scheduler.test_scan import add_member
from tests.service.test_conversation_db import Person

PUBLIC_URL = "https://sipakainge.example.org"  # what Twilio calls; the app itself listens on 127.0.0.1
NUMBER = "+6281200001234"
POLICY = ReminderPolicy(stages=parse_stages(DEFAULT_STAGES))
ZONES = {"73": ZoneInfo("Asia/Makassar")}
MORNING = datetime(2026, 12, 8, 1, 0, tzinfo=UTC)


class Phone:
    """A WhatsApp user, as Twilio forwards their messages: form posts signed over the public URL."""

    def __init__(self, client: httpx.AsyncClient, number: str = NUMBER) -> None:
        self.client = client
        self.number = number
        self.count = 0

    def signed(self, path: str, params: dict[str, str], url: str | None = None) -> dict[str, str]:
        signature = RequestValidator(AUTH_TOKEN).compute_signature(url or PUBLIC_URL + path, params)
        return {"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"}

    def params(self, body: str) -> dict[str, str]:
        self.count += 1
        return {
            "MessageSid": f"SMin{self.number[-4:]}{self.count:06d}",
            "AccountSid": ACCOUNT_SID,
            "From": f"whatsapp:{self.number}",
            "To": FROM,
            "Body": body,
            "NumMedia": "0",
            "ProfileName": "Peserta",
            "WaId": self.number.removeprefix("+"),
        }

    async def post(self, path: str, params: dict[str, str], headers: dict[str, str]) -> httpx.Response:
        return await self.client.post(path, content=urlencode(params), headers=headers)

    async def say(self, body: str) -> list[str]:
        params = self.params(body)
        response = await self.post("/twilio/whatsapp", params, self.signed("/twilio/whatsapp", params))
        assert response.status_code == 200, response.status_code
        return re.findall(r"<Message>(.*?)</Message>", response.text, re.DOTALL)


@contextlib.asynccontextmanager
async def served_webhook(
    conversations: Conversations, clock: Callable[[], datetime] = lambda: datetime.now(UTC), per_minute: int = 60
) -> AsyncIterator[httpx.AsyncClient]:
    """The real webhook on 127.0.0.1, and a client to post to it as Twilio would."""
    hook = WhatsAppWebhook(
        conversations, RequestValidator(AUTH_TOKEN), PUBLIC_URL, clock, SenderLimit(count=per_minute)
    )
    host = MediaHost(conversations.engine, PUBLIC_URL, clock)
    port = free_port()
    async with (
        ServedApp(Starlette(routes=hook.routes() + host.routes()), port),
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client,
    ):
        yield client


@pytest.fixture
async def webhook(conversations: Conversations) -> AsyncIterator[httpx.AsyncClient]:
    async with served_webhook(conversations) as client:
        yield client


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    fake = FakeTwilio(port=free_port())
    async with ServedApp(fake.app(), fake.port):
        yield fake


def unescape(text: str) -> str:
    return text.replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")


async def test_a_whole_registration_on_whatsapp(webhook: httpx.AsyncClient, conversations: Conversations) -> None:
    phone = Phone(webhook)
    first = await phone.say("halo")
    assert "1. Daftar\n2. Bantuan" in unescape(first[0])
    consent = unescape((await phone.say("1"))[0])
    assert "1. Setuju\n2. Tidak setuju" in consent
    assert t("hint.numbered") in consent
    await phone.say("1")  # Setuju
    for step, answer in HAPPY_PATH[1:]:
        replies = await phone.say(answer)
        assert replies, step
    summary = unescape(replies[-1])
    assert "NIK: 7312********9001" in summary
    saved = unescape((await phone.say("1"))[0])  # Benar, simpan
    assert "La Baco sudah tersimpan" in saved
    await phone.say("2")  # Selesai
    status = unescape((await phone.say("status"))[0])  # a typed word instead of /status
    assert "7312********9001" in status
    with Session(conversations.engine) as session:
        member = session.exec(select(Member)).one()
        addresses = session.exec(select(Address.channel, Address.external_id)).all()
    assert member.phone == NUMBER
    assert addresses == [("whatsapp", NUMBER)]  # the chat is the phone: one address


async def test_forged_unsigned_and_misaddressed_requests_are_refused(
    webhook: httpx.AsyncClient, conversations: Conversations
) -> None:
    phone = Phone(webhook)
    params = phone.params("halo")
    unsigned = await phone.post("/twilio/whatsapp", params, {"Content-Type": "application/x-www-form-urlencoded"})
    forged = await phone.post(
        "/twilio/whatsapp", params, {**phone.signed("/twilio/whatsapp", params), "X-Twilio-Signature": "Zm9yZ2Vk"}
    )
    tampered = await phone.post(
        "/twilio/whatsapp", {**params, "Body": "hapus"}, phone.signed("/twilio/whatsapp", params)
    )  # signed for other content
    internal_url = phone.signed("/twilio/whatsapp", params, url="http://127.0.0.1/twilio/whatsapp")
    wrong_url = await phone.post("/twilio/whatsapp", params, internal_url)  # signed for another address
    status = await phone.post("/twilio/status", {"MessageSid": "SMx", "MessageStatus": "read"}, {})
    assert [r.status_code for r in (unsigned, forged, tampered, wrong_url, status)] == [403] * 5
    with Session(conversations.engine) as session:
        assert session.exec(select(Address)).all() == []  # nothing was processed


async def test_replayed_messages_are_answered_once(webhook: httpx.AsyncClient) -> None:
    phone = Phone(webhook)
    await phone.say("/start")
    params = phone.params("1")
    headers = phone.signed("/twilio/whatsapp", params)
    first = await phone.post("/twilio/whatsapp", params, headers)
    replay = await phone.post("/twilio/whatsapp", params, headers)
    assert t("ask.name") in unescape(first.text)
    assert replay.status_code == 200
    assert "<Message>" not in replay.text
    assert t("ask.nik") in unescape((await phone.say("La Baco"))[0])  # the replay did not answer the name question


async def test_oversized_and_flooding_requests(conversations: Conversations) -> None:
    async with served_webhook(conversations, per_minute=3) as client:
        phone = Phone(client)
        huge = phone.params("x" * 70_000)
        assert (await phone.post("/twilio/whatsapp", huge, phone.signed("/twilio/whatsapp", huge))).status_code == 413
        codes = []
        for _ in range(4):
            params = phone.params("halo")
            codes.append(
                (await phone.post("/twilio/whatsapp", params, phone.signed("/twilio/whatsapp", params))).status_code
            )
        assert codes == [200, 200, 200, 429]


OPEN_SENDERS: list[WhatsAppSender] = []


@pytest.fixture(autouse=True)
async def close_senders() -> AsyncIterator[None]:
    """Every sender a test made is closed afterwards (each holds an HTTP session)."""
    yield
    while OPEN_SENDERS:
        await OPEN_SENDERS.pop().close()


def whatsapp_sender(twilio: FakeTwilio, now: datetime, media: MediaHost | None = None) -> WhatsAppSender:
    sender = WhatsAppSender(
        twilio_client(ACCOUNT_SID, AUTH_TOKEN, twilio.base_url),
        from_number=FROM,
        templates={"reminder": "HXreminder0000", "reminder_note": "HXnote0000"},
        status_callback=PUBLIC_URL + "/twilio/status",
        clock=lambda: now,
        media=media,
    )
    OPEN_SENDERS.append(sender)
    return sender


def register_and_scan(conversations: Conversations, chat: str, channel_is_telegram: bool = True) -> None:
    farmer = Person(conversations, chat)
    farmer.register_until_summary(last_paid="11/2026")
    farmer.tap("Benar, simpan")
    with Session(conversations.engine) as session:
        scan(session=session, today=date(2026, 12, 8), policy=POLICY, zones=ZONES, now=MORNING)
        session.commit()


def dispatcher(conversations: Conversations, cipher: Cipher, senders: dict[str, Sender[Reply]]) -> Dispatcher[Reply]:
    renderer = ReminderRenderer(cipher, default_tariffs(), POLICY, "BRILink", "penyuluh desa")
    return Dispatcher(engine=conversations.engine, senders=senders, render=renderer, policy=POLICY, worker="wa")


async def test_outside_24_hours_a_template_inside_free_text(
    twilio: FakeTwilio, conversations: Conversations, cipher: Cipher
) -> None:
    register_and_scan(conversations, "8001")  # registered on Telegram: WhatsApp never wrote, the window is closed
    sender = whatsapp_sender(twilio, MORNING)
    assert (await dispatcher(conversations, cipher, {"whatsapp": sender}).drain(MORNING)).sent == 1
    [template] = twilio.sent_to(NUMBER)
    assert "Body" not in template
    assert template["ContentSid"] == "HXreminder0000"
    assert json.loads(template["ContentVariables"]) == {
        "1": "Bapak La Baco",  # the salutation inside the variable: the approved text says "untuk {{1}}"
        "2": "Desember 2026",
        "3": "Rp8.400",
        "4": "paling lambat Selasa, 15 Desember 2026",  # the same words as the free text (bot.texts.pay_by)
    }
    assert template["StatusCallback"] == PUBLIC_URL + "/twilio/status"

    with Session(conversations.engine) as session:  # the member wrote on WhatsApp an hour ago: window open
        session.execute(
            update(Address)
            .where(col(Address.channel) == "whatsapp")
            .values(last_inbound_at=MORNING - timedelta(hours=1))
        )
        session.execute(update(Reminder).values(status="pending", send_after=MORNING))
        session.commit()
    assert (await dispatcher(conversations, cipher, {"whatsapp": sender}).drain(MORNING)).sent == 1
    free = twilio.sent_to(NUMBER)[-1]
    assert "ContentSid" not in free
    assert "Rp8.400, paling lambat Selasa, 15 Desember 2026" in free["Body"]
    assert "1. Sudah bayar" in free["Body"]


async def test_refused_free_text_falls_back_to_the_template(
    twilio: FakeTwilio, conversations: Conversations, cipher: Cipher
) -> None:
    register_and_scan(conversations, "8002")
    with Session(conversations.engine) as session:  # we believe the window is open; WhatsApp says otherwise
        session.execute(
            update(Address)
            .where(col(Address.channel) == "whatsapp")
            .values(last_inbound_at=MORNING - timedelta(hours=2))
        )
        session.commit()
    twilio.free_text_refused.add(NUMBER)
    assert (
        await dispatcher(conversations, cipher, {"whatsapp": whatsapp_sender(twilio, MORNING)}).drain(MORNING)
    ).sent == 1
    assert [("Body" in m, "ContentSid" in m) for m in twilio.sent_to(NUMBER)] == [(False, True)]


async def test_status_callbacks_update_the_reminder(
    twilio: FakeTwilio, webhook: httpx.AsyncClient, conversations: Conversations, cipher: Cipher
) -> None:
    register_and_scan(conversations, "8003")
    await dispatcher(conversations, cipher, {"whatsapp": whatsapp_sender(twilio, MORNING)}).drain(MORNING)
    sid = twilio.sent_to(NUMBER)[0]["sid"]
    phone = Phone(webhook)

    async def report(state: str, error: str = "") -> str:
        params = {"MessageSid": sid, "MessageStatus": state, "AccountSid": ACCOUNT_SID}
        if error:
            params["ErrorCode"] = error
        response = await phone.post("/twilio/status", params, phone.signed("/twilio/status", params))
        assert response.status_code == 204
        with Session(conversations.engine) as session:
            return session.exec(select(Reminder.status)).one()

    assert await report("delivered") == "delivered"
    assert await report("sent") == "delivered"  # a late 'sent' does not move it back
    assert await report("read") == "read"
    assert await report("failed", "63016") == "pending"  # sent as free text after all: resend as a template


async def test_blocked_telegram_falls_back_to_whatsapp(
    twilio: FakeTwilio, conversations: Conversations, cipher: Cipher
) -> None:
    register_and_scan(conversations, "8100")  # a Telegram chat and the WhatsApp number
    telegram = FakeTelegram(port=free_port())
    telegram.blocked.add(8100)
    async with ServedApp(fake_app(telegram), telegram.port), Bot(TOKEN, base_url=telegram.base_url) as bot:
        senders: dict[str, Sender[Reply]] = {
            "telegram": TelegramSender(bot),
            "whatsapp": whatsapp_sender(twilio, MORNING),
        }
        stats = await dispatcher(conversations, cipher, senders).drain(MORNING)
    assert (stats.unreachable, stats.sent) == (1, 1)
    assert len(twilio.sent_to(NUMBER)) == 1
    with Session(conversations.engine) as session:
        telegram_address = session.exec(select(Address).where(col(Address.channel) == "telegram")).one()
        reminder = session.exec(select(Reminder)).one()
    assert telegram_address.status == "unreachable"
    assert (reminder.status, reminder.reason) == ("sent", "")


async def test_a_reminder_answered_by_typing_on_whatsapp(
    twilio: FakeTwilio, conversations: Conversations, cipher: Cipher
) -> None:
    clock = [MORNING - timedelta(hours=1)]  # registered on WhatsApp an hour before the stage day's dispatch
    async with served_webhook(conversations, lambda: clock[0]) as client:
        phone = Phone(client)
        await phone.say("daftar")
        for _, answer in HAPPY_PATH:
            await phone.say(answer if answer != "10/2026" else "11/2026")
        await phone.say("1")  # Benar, simpan
        await phone.say("2")  # Selesai
        with Session(conversations.engine) as session:
            scan(session=session, today=date(2026, 12, 8), policy=POLICY, zones=ZONES, now=MORNING)
            session.commit()
        sender = whatsapp_sender(twilio, MORNING)  # inside the 24 hours: free text with numbered options
        assert (await dispatcher(conversations, cipher, {"whatsapp": sender}).drain(MORNING)).sent == 1
        reminder = twilio.sent_to(NUMBER)[-1]["Body"]
        assert "1. Sudah bayar\n2. Minta bantuan penyuluh\n3. Berhenti pengingat" in reminder
        clock[0] = MORNING + timedelta(hours=1)
        asked = unescape((await phone.say("1"))[0])  # "1" answers the reminder, not the menu
        assert asked.startswith("Terima kasih. Iuran Bapak La Baco dibayar untuk berapa bulan, mulai Desember 2026?")
        thanks = unescape((await phone.say("3"))[0])
        assert "sampai Februari 2027 sudah dicatat" in thanks
        menu = unescape((await phone.say("1"))[0])  # answered: a "1" belongs to the menu again
        assert "Nama: La Baco" in menu
    with Session(conversations.engine) as session:
        assert session.exec(select(col(Member.covered_until))).one() == date(2027, 2, 28)


async def test_twilio_rate_limit_answers_are_retried(
    twilio: FakeTwilio, conversations: Conversations, cipher: Cipher
) -> None:
    for chat, nik in (("8201", "7312061506809001"), ("8202", "7312061506809002")):
        farmer = Person(conversations, chat)
        farmer.register_until_summary(last_paid="11/2026", nik=nik, phone=f"08120000{chat}")
        farmer.tap("Benar, simpan")
    with Session(conversations.engine) as session:
        scan(session=session, today=date(2026, 12, 8), policy=POLICY, zones=ZONES, now=MORNING)
        session.commit()
    twilio.per_second = 1  # the second message in the same second meets error 20429
    sender = whatsapp_sender(twilio, MORNING)
    sender.per_second = 0.0  # let our own limiter through, to provoke Twilio's
    first = await dispatcher(conversations, cipher, {"whatsapp": sender}).run_once(MORNING)
    assert (first.sent, first.retried, first.throttled) == (1, 1, 1)
    await asyncio.sleep(1.1)
    assert (
        await dispatcher(conversations, cipher, {"whatsapp": sender}).drain(MORNING + timedelta(seconds=2))
    ).sent == 1
    assert twilio.refused_429 == 1


async def test_an_officer_on_whatsapp_gets_the_digest_and_answers_by_number(
    twilio: FakeTwilio, conversations: Conversations, cipher: Cipher
) -> None:
    clock = [datetime(2026, 12, 22, 0, 0, tzinfo=UTC)]  # 08:00 WITA, H+7 of December
    with Session(conversations.engine) as session:
        for serial in range(1, 11):  # no number at all: nobody can reach them; more than a screen of them
            add_member(session, cipher, serial, date(2026, 11, 30), phone=None)
        session.execute(delete(MemberAddress))
        code = create_officer(
            session=session, name="Penyuluh Donri", phone=None, codes=["73.12.06"], now=clock[0]
        ).invite_code
        session.commit()
    officer_number = "+6281300001111"
    async with served_webhook(conversations, lambda: clock[0]) as client:
        desk = Phone(client, officer_number)
        assert "Penyuluh Donri" in unescape((await desk.say(f"/start {code}"))[0])
        host = MediaHost(conversations.engine, PUBLIC_URL, lambda: clock[0])
        sender = whatsapp_sender(twilio, clock[0], media=host)
        stats = await send_digests(
            conversations=conversations, senders={"whatsapp": sender}, today=date(2026, 12, 22), now=clock[0]
        )
        assert stats.sent == 1
        sent = twilio.sent_to(officer_number)[-1]
        digest = sent["Body"]  # inside 24 hours of the officer's message: free text, with the list as a file
        assert "1. Peserta 1" in digest
        assert t("officer.reason.no_channel") in digest
        path = sent["MediaUrl"].removeprefix(PUBLIC_URL)
        assert path.startswith("/media/")
        fetched = await client.get(path)  # as Twilio fetches it
        assert fetched.headers["content-type"] == xlsx.MEDIA_TYPE
        sheet = load_workbook(io.BytesIO(fetched.content)).active
        assert sheet is not None
        assert sheet.max_row == 11  # the header and all ten
        assert (await client.get("/media/not-a-token")).status_code == 404
        clock[0] += timedelta(hours=2)
        assert (await client.get(path)).status_code == 404  # gone after an hour: it holds personal data
        clock[0] -= timedelta(hours=2)
        assert unescape((await desk.say("1"))[0]).startswith(t("officer.what_happened", name="Peserta 1"))
        assert unescape((await desk.say("1"))[0]) == t("officer.done.contacted", name="Peserta 1")
    with Session(conversations.engine) as session:
        assert session.exec(select(FollowUp.outcome)).one() == "contacted"
