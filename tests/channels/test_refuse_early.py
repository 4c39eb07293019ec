"""Issue 15 point 6, refuse early and cheaply: an oversized body is refused before it is read, a malformed sender or
update is answered (so it is not sent again) but never stored nor logged, a file is fetched only from a chat that may
import it. The real webhooks, driven in-process through httpx's ASGI transport (which pulls a streamed body only as
the app reads it), or served with the Bot API and Twilio stand-ins."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from sqlmodel import Session, select
from starlette.applications import Starlette
from telegram.ext import Application
from twilio.request_validator import RequestValidator

from bot.app import utc_now
from bot.channels.telegram import MAX_WEBHOOK_BODY, TelegramChannel, build_application, webhook_routes
from bot.channels.whatsapp import MAX_BODY, SenderLimit, WhatsAppWebhook
from bot.dialogs.core import DialogConfig
from bot.texts import t
from service.conversations import Conversations
from storage.crypto import Cipher
from storage.models import Address, DeliveryAttempt, InboundMessage, Reminder
from tests.channels.test_whatsapp import MORNING, PUBLIC_URL, dispatcher, register_and_scan, whatsapp_sender
from tests.fake_telegram import TOKEN, FakeTelegram, Served, free_port
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM, FakeTwilio
from tests.service.test_import import branch_file

SECRET = "a-webhook-secret-of-the-tests-0123456789"
CHUNK = 16 * 1024
SENDER = "+6281200000101"
ADMIN_USER = 990001
MEMBER_USER = 990002


class Upload:
    """A body streamed in chunks, counting how many the server pulled (a client sends no faster than it is read)."""

    def __init__(self, total: int) -> None:
        self.chunks = total // CHUNK
        self.pulled = 0

    async def stream(self) -> AsyncIterator[bytes]:
        for _ in range(self.chunks):
            self.pulled += 1
            yield b"a" * CHUNK


def in_process(app: Starlette) -> httpx.AsyncClient:
    """A client calling the app directly; an exception in the app is answered 500, as a server would."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://t")


@asynccontextmanager
async def twilio_webhook(conversations: Conversations) -> AsyncIterator[httpx.AsyncClient]:
    hook = WhatsAppWebhook(conversations, RequestValidator(AUTH_TOKEN), PUBLIC_URL, utc_now, SenderLimit(count=1000))
    async with in_process(Starlette(routes=hook.routes())) as client:
        yield client


def telegram_application(conversations: Conversations, base_url: str = "http://127.0.0.1:9/bot") -> Application:  # type: ignore[type-arg]
    return build_application(
        token=TOKEN, base_url=base_url, channel=TelegramChannel(conversations, utc_now), webhook=True
    )


async def signed_post(client: httpx.AsyncClient, path: str, params: dict[str, str]) -> httpx.Response:
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + path, params)
    headers = {"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"}
    return await client.post(path, content=urlencode(params), headers=headers)


def message(**changes: str | None) -> dict[str, str]:
    """A WhatsApp message as Twilio posts it, with fields changed (None: left out)."""
    params = {
        "MessageSid": "SM0123456789abcdef0123456789abcdef",
        "AccountSid": ACCOUNT_SID,
        "From": f"whatsapp:{SENDER}",
        "To": FROM,
        "Body": "halo",
        "NumMedia": "0",
        "WaId": SENDER.removeprefix("+"),
    } | changes
    return {key: value for key, value in params.items() if value is not None}


def stored(conversations: Conversations) -> tuple[int, int]:
    """How many addresses and inbound message ids the database holds."""
    with Session(conversations.engine) as session:
        return len(session.exec(select(Address)).all()), len(session.exec(select(InboundMessage)).all())


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


# --- too big: refused before it is read ---


@pytest.mark.parametrize("declared", [True, False], ids=["declared", "chunked"])
@pytest.mark.parametrize("path", ["/twilio/whatsapp", "/twilio/status"])
async def test_an_oversized_twilio_request_is_refused_before_it_is_read(
    conversations: Conversations, path: str, *, declared: bool
) -> None:
    upload = Upload(50 * MAX_BODY)  # unsigned: the size is checked first, the signature only over what was read
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if declared:
        headers["Content-Length"] = str(300 * 1024 * 1024)
    async with twilio_webhook(conversations) as client:
        response = await client.post(path, content=upload.stream(), headers=headers)
    assert response.status_code == 413
    # Declared: not a byte read. Chunked: read only until the limit was passed.
    assert upload.pulled == 0 if declared else upload.pulled <= MAX_BODY // CHUNK + 1
    assert upload.pulled < upload.chunks


@pytest.mark.parametrize("declared", [True, False], ids=["declared", "chunked"])
async def test_an_oversized_telegram_update_is_refused_before_it_is_read(
    conversations: Conversations, *, declared: bool
) -> None:
    application = telegram_application(conversations)
    upload, forged = Upload(50 * MAX_WEBHOOK_BODY), Upload(50 * MAX_WEBHOOK_BODY)
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
    if declared:
        headers["Content-Length"] = str(300 * 1024 * 1024)
    async with in_process(Starlette(routes=webhook_routes(application, SECRET))) as client:
        response = await client.post("/telegram", content=upload.stream(), headers=headers)
        guessed = {**headers, "X-Telegram-Bot-Api-Secret-Token": "guess"}
        refused = await client.post("/telegram", content=forged.stream(), headers=guessed)
    assert (response.status_code, refused.status_code) == (413, 403)
    assert upload.pulled == 0 if declared else upload.pulled <= MAX_WEBHOOK_BODY // CHUNK + 1
    assert upload.pulled < upload.chunks
    assert forged.pulled == 0  # without the secret nothing is read at all
    assert application.update_queue.empty()


# --- a malformed sender on a signed request: answered, not stored, not logged ---

BAD_SENDERS = [
    pytest.param({"From": "whatsapp:+62" + "8" * 98, "WaId": None}, id="100 digits, longer than an address"),
    pytest.param({"From": "whatsapp:' OR 1=1--", "WaId": None}, id="sql"),
    pytest.param({"From": f"whatsapp:{SENDER}' OR 1=1--", "WaId": None}, id="sql after a number"),
    pytest.param({"From": f"whatsapp:{SENDER}99", "WaId": None}, id="16 digits"),
    pytest.param({"From": "whatsapp:+62411123456", "WaId": None}, id="a landline"),
    pytest.param({"From": "whatsapp:+6591230000", "WaId": None}, id="not Indonesian"),
    pytest.param({"From": "whatsapp:081200000101", "WaId": None}, id="not E.164"),
    pytest.param({"From": "whatsapp:+62 812-0000-0101", "WaId": None}, id="spaced"),
    pytest.param({"From": "whatsapp:+６２８１２０００００１０１", "WaId": None}, id="full-width digits"),
    pytest.param({"From": SENDER}, id="no channel prefix"),
    pytest.param({"From": None}, id="no From"),
    pytest.param({"WaId": "6281200009999"}, id="WaId of another number"),
    pytest.param({"WaId": "62812OR1=1"}, id="WaId not digits"),
]


@pytest.mark.parametrize("changes", BAD_SENDERS)
async def test_a_malformed_sender_is_answered_but_never_stored_nor_logged(
    conversations: Conversations, logs: pytest.LogCaptureFixture, changes: dict[str, str | None]
) -> None:
    async with twilio_webhook(conversations) as client:
        response = await signed_post(client, "/twilio/whatsapp", message(**changes))
    assert response.status_code == 200  # Twilio does not send it again
    assert "<Message>" not in response.text
    assert stored(conversations) == (0, 0)
    warnings = [r for r in logs.records if r.name == "bot.channels.whatsapp" and r.levelno == logging.WARNING]
    assert len(warnings) == 1
    for value in (v for v in changes.values() if v):
        assert not any(value.removeprefix("whatsapp:") in r.getMessage() for r in logs.records)
    assert not any(char.isdigit() for r in warnings for char in r.getMessage())


async def test_the_same_message_from_a_well_formed_sender_is_answered(conversations: Conversations) -> None:
    """The control for the malformed ones above: they differ from this message only in the field changed."""
    async with twilio_webhook(conversations) as client:
        response = await signed_post(client, "/twilio/whatsapp", message())
        without_wa_id = await signed_post(client, "/twilio/whatsapp", message(MessageSid="SM2", WaId=None))
    assert "<Message>" in response.text
    assert "<Message>" in without_wa_id.text  # WaId is checked only when Twilio sends it
    with Session(conversations.engine) as session:
        assert session.exec(select(Address.external_id)).all() == [SENDER]


# --- signed forms with missing or odd fields: 200, never a 500 ---

ODD_MESSAGES = [
    pytest.param({"MessageSid": None}, False, id="no MessageSid"),
    pytest.param({"MessageSid": "SM" + "a" * 98}, False, id="MessageSid longer than stored"),
    pytest.param({"MessageSid": "SM1' OR '1'='1"}, False, id="MessageSid not an id"),
    pytest.param({"Body": "", "NumMedia": "abc"}, True, id="NumMedia not a number"),
    pytest.param({"Body": "", "NumMedia": "9" * 5000}, True, id="NumMedia past int's digits"),
    pytest.param({"Body": None, "NumMedia": None}, True, id="no Body"),
]


@pytest.mark.parametrize(("changes", "answered"), ODD_MESSAGES)
async def test_a_signed_message_with_odd_fields_is_answered_200(
    conversations: Conversations, changes: dict[str, str | None], *, answered: bool
) -> None:
    async with twilio_webhook(conversations) as client:
        response = await signed_post(client, "/twilio/whatsapp", message(**changes))
    assert response.status_code == 200
    assert ("<Message>" in response.text) is answered  # a valid sender and id: an empty text is still answered
    assert stored(conversations) == ((1, 1) if answered else (0, 0))


async def test_a_signed_status_callback_with_odd_fields_is_answered_200_and_not_recorded(
    twilio: FakeTwilio, conversations: Conversations, cipher: Cipher
) -> None:
    register_and_scan(conversations, "8201")
    await dispatcher(conversations, cipher, {"whatsapp": whatsapp_sender(twilio, MORNING)}).drain(MORNING)
    sid = twilio.sent_to("+6281200001234")[0]["sid"]
    odd = [
        {},
        {"MessageSid": sid},
        {"MessageSid": sid, "MessageStatus": "x" * 100},  # more than the attempt's outcome holds
        {"MessageSid": sid, "MessageStatus": "failed", "ErrorCode": "e" * 300},  # more than its error holds
        {"MessageSid": "SM" + "a" * 98, "MessageStatus": "delivered"},
    ]
    async with twilio_webhook(conversations) as client:
        codes = [
            (await signed_post(client, "/twilio/status", {"AccountSid": ACCOUNT_SID, **o})).status_code for o in odd
        ]
        good = await signed_post(client, "/twilio/status", {"MessageSid": sid, "MessageStatus": "delivered"})
    assert codes == [200] * len(odd)
    assert good.status_code == 204
    with Session(conversations.engine) as session:
        outcomes = session.exec(select(DeliveryAttempt.outcome).order_by(DeliveryAttempt.id)).all()  # type: ignore[arg-type]
        assert session.exec(select(Reminder.status)).one() == "delivered"
    assert outcomes[-1] == "status_delivered"
    assert not [o for o in outcomes if o.startswith("status_") and o != "status_delivered"]


async def test_an_undelivered_report_is_recorded_on_both_databases(
    twilio: FakeTwilio, conversations: Conversations, cipher: Cipher
) -> None:
    """Twilio's own "undelivered" made an outcome longer than its column: a 500 on PostgreSQL, the failure lost."""
    register_and_scan(conversations, "8202")
    await dispatcher(conversations, cipher, {"whatsapp": whatsapp_sender(twilio, MORNING)}).drain(MORNING)
    sid = twilio.sent_to("+6281200001234")[0]["sid"]
    report = {"MessageSid": sid, "MessageStatus": "undelivered", "ErrorCode": "30003"}
    async with twilio_webhook(conversations) as client:
        assert (await signed_post(client, "/twilio/status", report)).status_code == 204
    with Session(conversations.engine) as session:
        assert session.exec(select(Reminder.status, Reminder.reason)).one() == ("failed", "undelivered:30003")


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    fake = FakeTwilio(port=free_port())
    async with Served(fake.app(), fake.port):
        yield fake


# --- odd JSON from Telegram (the secret matched): 200, never a 500 ---

ODD_UPDATES = [
    pytest.param(b"[]", id="a list"),
    pytest.param(b"12", id="a number"),
    pytest.param(b"{}", id="an empty object"),
    pytest.param(b'"x"', id="a string"),
    pytest.param(b"null", id="null"),
    pytest.param(b"[" * 10_000 + b"]" * 10_000, id="nested 10000 levels"),
    pytest.param(b'{"update_id": 1, "message": ' + b'{"a": ' * 10_000 + b"1" + b"}" * 10_001, id="nested object"),
    pytest.param(b'{"update_id": 1, "message": {"text": "\xff\xfe"}}', id="invalid UTF-8"),
    pytest.param(b"{not json", id="not JSON"),
    pytest.param(b'{"update_id": "1"}', id="update_id a string"),
    pytest.param(b'{"update_id": 1, "message": 5}', id="message a number"),
    pytest.param(b'{"update_id": 1, "message": {"message_id": 1, "date": 1, "chat": 7}}', id="chat a number"),
]


@pytest.mark.parametrize("body", ODD_UPDATES)
async def test_odd_json_from_telegram_is_answered_200_and_ignored(
    conversations: Conversations, logs: pytest.LogCaptureFixture, body: bytes
) -> None:
    application = telegram_application(conversations)
    async with in_process(Starlette(routes=webhook_routes(application, SECRET))) as client:
        answered = await client.post("/telegram", content=body, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
        forged = await client.post("/telegram", content=body, headers={"X-Telegram-Bot-Api-Secret-Token": "guess"})
    assert (answered.status_code, forged.status_code) == (200, 403)
    assert application.update_queue.empty()  # nothing reaches the handlers
    warnings = [r for r in logs.records if r.name == "bot.channels.telegram" and r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == ["ignored a malformed Telegram update"]  # the content is not logged


def update_of(update_id: int, **message: Any) -> dict[str, Any]:
    return {"update_id": update_id, "message": {"message_id": update_id, "date": 1, **message}}


async def test_updates_telegram_can_read_but_the_bot_cannot_are_ignored_without_an_error(
    telegram: FakeTelegram, conversations: Conversations, logs: pytest.LogCaptureFixture
) -> None:
    private = {"id": 990010, "type": "private"}
    odd = [
        update_of(1, text="/start"),  # a message without a chat
        update_of(2, text="/start", chat={"id": "abc", "type": "private"}),  # a chat id that is not a number
        update_of(3, text=5, chat=private),  # text that is not text
        update_of(4, chat=private, document={"file_id": 7}),  # a document without a name, id of the wrong type
        update_of(5, chat=private, document={"file_id": "f", "file_unique_id": "u", "file_name": 7, "file_size": "x"}),
        update_of(6, chat=private, contact={"phone_number": 6281200000101, "first_name": "P", "user_id": 990010}),
        {
            "update_id": 7,
            "callback_query": {
                "id": "q",
                "from": {"id": 990010, "is_bot": False, "first_name": "P"},
                "chat_instance": "c",
                "data": 5,  # button data that is not text
                "message": {"message_id": 1, "date": 1, "chat": private, "text": "…"},
            },
        },
    ]
    application = telegram_application(conversations, telegram.base_url)
    port = free_port()
    async with application, Served(Starlette(routes=webhook_routes(application, SECRET)), port):
        await application.start()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
            codes = [(await client.post("/telegram", json=u, headers=headers)).status_code for u in odd]
            good = update_of(9, text="/start", chat={"id": 990011, "type": "private"})
            await client.post("/telegram", json=good, headers=headers)
            await telegram.wait_for(990011, 1)  # updates are handled in order: the odd ones are done by now
        await application.stop()
    assert codes == [200] * len(odd)
    assert not [r for r in logs.records if r.levelno >= logging.ERROR]
    with Session(conversations.engine) as session:
        assert session.exec(select(Address.external_id)).all() == ["990010", "990011"]  # the text-less one: answered
    assert "abc" not in {c.params.get("chat_id") for c in telegram.calls}


# --- documents: fetched only from a chat that may import ---


@pytest.fixture
def dialog_config(dialog_config: DialogConfig) -> DialogConfig:
    return dataclasses.replace(dialog_config, admins=frozenset({f"telegram:{ADMIN_USER}"}))


async def test_only_an_admins_document_is_downloaded(
    telegram: FakeTelegram,
    polling_bot: Application,  # type: ignore[type-arg]
) -> None:
    telegram.document(MEMBER_USER, "peserta.xlsx", branch_file())
    assert (await telegram.wait_for(MEMBER_USER, 1))[-1].startswith(t("invalid.unsupported"))  # as before, politely
    assert [c for c in telegram.calls if c.method == "getFile"] == []
    assert telegram.downloaded == []
    telegram.document(ADMIN_USER, "peserta.xlsx", branch_file())
    assert "• baru: 5" in (await telegram.wait_for(ADMIN_USER, 1))[-1]
    assert [c.params["file_id"] for c in telegram.calls if c.method == "getFile"] == ["upload2"]
    assert telegram.downloaded == ["upload2"]


def test_may_import_is_an_admins_right(conversations: Conversations) -> None:
    assert conversations.may_import("telegram", str(ADMIN_USER))
    assert not conversations.may_import("telegram", str(MEMBER_USER))
    assert not conversations.may_import("whatsapp", str(ADMIN_USER))
