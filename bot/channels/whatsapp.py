"""WhatsApp through Twilio: the signed webhook turns messages into `Incoming` for the same dialogs and answers with
TwiML; status callbacks update reminders; the sender uses free text inside the 24-hour window and an approved
template outside it. No dialog logic lives here."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from urllib.parse import parse_qsl

import aiohttp
from sqlalchemy import Engine
from sqlalchemy.exc import InternalError, OperationalError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse

from bot.channels.body import read_body
from bot.channels.plain import render_plain
from bot.dialogs.core import Attachment, Incoming, Reply
from bot.texts import speaking, t
from domain.delivery import Failed, RetryLater, SendResult, Sent, Target, Uncertain, Unreachable
from domain.identity import parse_phone
from domain.vocabulary import Channel
from service import inbound
from service.conversations import Conversations
from service.inbound import Step
from storage.models import MediaFile

log = logging.getLogger(__name__)

PREFIX = "whatsapp:"
MAX_BODY = 64 * 1024
MAX_SID = 64  # as stored (inbound message ids, reminders' provider ids)
# What Twilio reports of a message (https://www.twilio.com/docs/messaging/api/message-resource#message-status-values).
STATUSES = frozenset(
    {"queued", "sending", "sent", "delivered", "undelivered", "failed", "read", "accepted", "scheduled", "canceled"}
)
# Twilio's own error codes (https://www.twilio.com/docs/api/errors).
OUTSIDE_WINDOW = 63016  # free text more than 24 hours after the person's last message: a template is required
RATE_LIMITED = {20429, 63018}
NOT_REACHABLE = {21211, 21408, 21610, 21614, 63003, 63024}


def incoming_from_text(body: str) -> Incoming:
    """Typed text as typed: the dialogs read command words ("STATUS", "batal") only where they answer nothing
    (domain/answers.py COMMAND_WORDS), the same on every channel."""
    return Incoming.from_text(body)


def sender_number(form: Mapping[str, str]) -> str | None:
    """The sender's Indonesian mobile number in E.164, exactly as `From` must carry it (`whatsapp:+628…`, at most 15
    digits) and agreeing with `WaId` when Twilio sends it; None for anything else (it never becomes an address)."""
    sender = form.get("From", "")
    if not sender.startswith(PREFIX + "+"):
        return None
    number = sender.removeprefix(PREFIX)
    digits = number.removeprefix("+")
    if not _digits(digits, 15) or parse_phone(number) != number:  # the cheap checks first
        return None
    wa_id = form.get("WaId")
    if wa_id is not None and wa_id != digits:
        return None
    return number


def translate(form: Mapping[str, str]) -> tuple[str, Incoming] | None:
    """The sender's number (E.164) and what they said; None when the request is not a WhatsApp message from a
    valid Indonesian mobile number."""
    number = sender_number(form)
    if number is None:
        return None
    if form.get("ButtonPayload"):  # a quick-reply button of a template
        return number, Incoming.choice(form["ButtonPayload"])
    body = form.get("Body", "")
    if not body.strip() and _count(form.get("NumMedia", "")) > 0:
        return number, Incoming.unsupported()
    return number, incoming_from_text(body)


def _is_sid(value: str) -> bool:
    """Twilio's ids are letters and digits (34 of them); anything else, or longer than we store, is not one."""
    return 0 < len(value) <= MAX_SID and value.isascii() and value.isalnum()


def _digits(value: str, most: int) -> bool:
    """Plain ASCII digits, at most `most` of them (a count or an error code as Twilio sends it)."""
    return 0 < len(value) <= most and value.isascii() and value.isdigit()


def _count(value: str) -> int:
    """A count Twilio sends as text (NumMedia: up to 10); anything but a few plain digits counts as none."""
    return int(value) if _digits(value, 3) else 0


def twiml(replies: list[Reply], media: Sequence[str | None] = ()) -> Response:
    """The answer in WhatsApp's words, each reply's file by its URL in `media` (a reply without one names none)."""
    response = MessagingResponse()
    urls = list(media) + [None] * (len(replies) - len(media))
    with speaking(Channel.WHATSAPP):
        for reply, url in zip(replies, urls, strict=True):
            if url is None:
                response.message(render_plain(replace(reply, attachment=None)))
                continue
            message = response.message()  # with a file, the text goes in <Body> beside <Media>
            message.body(render_plain(reply))
            message.media(url)
    return Response(str(response), media_type="application/xml")


@dataclass
class SenderLimit:
    """At most `count` requests per sender number per `seconds`: one phone cannot flood the bot."""

    count: int = 20
    seconds: float = 60.0
    seen: dict[str, deque[float]] = field(default_factory=dict)

    def allow(self, sender: str) -> bool:
        now = time.monotonic()
        recent = self.seen.setdefault(sender, deque())
        while recent and recent[0] <= now - self.seconds:
            recent.popleft()
        if len(recent) >= self.count:
            return False
        recent.append(now)
        return True


@dataclass
class WhatsAppWebhook:
    conversations: Conversations
    validator: RequestValidator
    public_url: str  # as Twilio calls it, before any TLS proxy: signatures are computed over this
    clock: Callable[[], datetime]
    limit: SenderLimit = field(default_factory=SenderLimit)
    media: MediaHost | None = None  # where Twilio fetches the files the answers carry (officer's list, export…)
    # The inbox: a message waiting behind an earlier one of its chat is answered later by a worker, through `sender`.
    sender: WhatsAppSender | None = None
    token: str = field(default_factory=lambda: f"whatsapp:{uuid.uuid4().hex}")  # this process's inbox leases
    lease: timedelta = timedelta(seconds=30)
    wake: Callable[[], None] = lambda: None  # the worker of this process, set when it starts

    @property
    def engine(self) -> Engine:
        return self.conversations.engine

    def routes(self) -> list[Route]:
        return [
            Route("/twilio/whatsapp", self.inbound, methods=["POST"]),
            Route("/twilio/status", self.status, methods=["POST"]),
        ]

    async def _verified_form(self, request: Request) -> dict[str, str] | Response:
        body = await read_body(request, MAX_BODY)  # refused while reading, before the signature is even computed
        if body is None:
            return Response(status_code=413)
        form = dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))
        url = self.public_url.rstrip("/") + request.url.path + (f"?{request.url.query}" if request.url.query else "")
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature or not self.validator.validate(url, form, signature):
            log.warning("refused an unsigned or forged Twilio request")
            return Response(status_code=403)
        return form

    async def inbound(self, request: Request) -> Response:
        """A WhatsApp message: verified, stored in the inbox (de-duplicated by MessageSid) before anything else, then
        answered by the dialogs in TwiML when it is first in its chat; else empty TwiML, and a worker answers it
        after the chat's earlier messages, through the sender."""
        form = await self._verified_form(request)
        if isinstance(form, Response):
            return form
        translated = translate(form)
        sid = form.get("MessageSid", "")
        if translated is None or not _is_sid(sid):
            # Signed by Twilio, so answered (a refusal would only make it retry), but nothing is read or stored;
            # the log names no field's value (it could be a phone number).
            log.warning("ignored a signed WhatsApp request without a valid sender or message id")
            return twiml([])
        number, incoming = translated
        if not self.limit.allow(number):
            return Response(status_code=429)
        now, token = self.clock(), inbound.claim_token(self.token)
        try:
            stored = await asyncio.to_thread(
                inbound.receive,
                self.engine,
                self.conversations.cipher,
                channel=Channel.WHATSAPP,
                external_id=number,
                key=sid,
                sequence=0,  # Twilio's order is the order of arrival: the row's id
                payload=json.dumps(form),
                now=now,
                claim=token,
                lease=self.lease,
            )
            if stored is None:
                return twiml([])  # Twilio retried (or someone replayed it): already answered once
            if not stored.claimed:
                self.wake()
                return twiml([])  # an earlier message of this chat is still being answered: a worker takes this one
            step = Step(stored.entry_id, token, self.lease)
            replies = await asyncio.to_thread(
                self.conversations.handle, Channel.WHATSAPP, number, incoming, now, within=step
            )
            if not step.done:  # the step failed (the polite "try again" is answered): the worker tries it again
                retry_at = self.clock() + inbound.RETRY_AFTER
                await asyncio.to_thread(
                    inbound.release, self.engine, entry_id=stored.entry_id, token=token, retry_at=retry_at
                )
                return twiml(replies)
            media = self.media
            urls = [await media.publish(r.attachment) if media and r.attachment else None for r in replies]
            await asyncio.to_thread(inbound.finish, self.engine, entry_id=stored.entry_id, token=token)
        except (OperationalError, InternalError) as error:  # InternalError: PostgreSQL read-only
            # The database cannot be written (or reached): nothing of the message is kept, and the answer says so
            # ("belum diproses… coba lagi"): the person, told, sends it again. A 5xx instead would leave them with
            # silence, Twilio does not retry an incoming message's webhook (tests/channels/test_degraded.py).
            log.warning("database unavailable for a WhatsApp message (%s)", type(error.orig).__name__)
            return twiml([Reply(t("error.temporary"))])
        return twiml(replies, urls)

    async def process(self, payload: str, step: Step) -> None:
        """The inbox worker's handler: a message stored behind an earlier one of its chat, answered through the
        sender (its answer cannot go in a TwiML response any more)."""
        translated = translate(json.loads(payload))
        if translated is None:
            step.done = True
            return
        number, incoming = translated
        now = self.clock()
        replies = await asyncio.to_thread(
            self.conversations.handle, Channel.WHATSAPP, number, incoming, now, within=step
        )
        if not step.done:
            return
        if self.sender is None:
            log.warning("no WhatsApp sender: %s replies not sent", len(replies))
            return
        target = Target(
            address_id=0, channel=Channel.WHATSAPP, external_id=number, busy_until=None, last_inbound_at=now
        )
        for reply in replies:
            result = await self.sender.send(target, reply)
            if not isinstance(result, Sent):
                log.warning("reply to a WhatsApp chat not delivered (%s)", type(result).__name__)

    async def status(self, request: Request) -> Response:
        """A delivery report for a message we sent."""
        form = await self._verified_form(request)
        if isinstance(form, Response):
            return form
        sid, state, error = form.get("MessageSid", ""), form.get("MessageStatus", ""), form.get("ErrorCode", "")
        if not _is_sid(sid) or state not in STATUSES or (error and not _digits(error, 10)):
            log.warning("ignored a signed Twilio status callback without a valid message id, status or error code")
            return Response()
        try:
            await asyncio.to_thread(self._record_status, sid, state, error)
        except (
            OperationalError,
            InternalError,
        ):  # not stored, so not acknowledged: Twilio sends a status callback again after a 5xx
            log.warning("database unavailable: a delivery report left for Twilio to send again")
            return Response(status_code=503)
        return Response(status_code=204)

    def _record_status(self, sid: str, state: str, error: str) -> None:
        inbound.record_status(self.engine, sid=sid, status=state, error=error, now=self.clock())


class WhatsAppSender:
    """Sends through Twilio's REST API with the async client; maps Twilio's errors onto the dispatcher's outcomes."""

    channel: str = Channel.WHATSAPP

    def __init__(
        self,
        client: Client,
        *,
        from_number: str,
        templates: Mapping[str, str],
        status_callback: str,
        clock: Callable[[], datetime],
        per_second: float = 78.0,
        per_chat_seconds: float = 1.0,
        media: MediaHost | None = None,
    ) -> None:
        # Twilio's default is 80 messages a second per sender; stay just under it, as for Telegram.
        self.client = client
        self.from_ = from_number if from_number.startswith(PREFIX) else PREFIX + from_number
        self.templates = templates
        self.status_callback = status_callback
        self.clock = clock
        self.per_second = per_second
        self.per_chat_seconds = per_chat_seconds
        self.media = media

    async def close(self) -> None:
        """Close the HTTP session of the async twilio client."""
        http = self.client.http_client
        if hasattr(http, "close"):
            await http.close()

    def within_window(self, target: Target) -> bool:
        # A few minutes' margin: the message must arrive, not just leave, inside the 24 hours.
        last = target.last_inbound_at
        return last is not None and self.clock() - last < timedelta(hours=24) - timedelta(minutes=5)

    async def send(self, target: Target, message: Reply) -> SendResult:
        with speaking(self.channel):  # what rendering adds (numbered options, the file's name) in WhatsApp's words
            return await self._send(target, message)

    async def _send(self, target: Target, message: Reply) -> SendResult:
        free_text = self.within_window(target)
        result = await self._create(target, message, free_text=free_text)
        if isinstance(result, _OutsideWindow):
            result = await self._create(target, message, free_text=False)
        return result if not isinstance(result, _OutsideWindow) else Failed("63016 outside the 24-hour window")

    async def _create(self, target: Target, message: Reply, *, free_text: bool) -> SendResult | _OutsideWindow:
        if free_text:
            content: dict[str, object]
            attachment, media = message.attachment, self.media
            if attachment is not None and media is not None:  # media only inside the 24 hours
                content = {"body": render_plain(message), "media_url": [await media.publish(attachment)]}
            else:  # no file goes with it, so the text names none
                content = {"body": render_plain(replace(message, attachment=None))}
        else:
            template = message.template
            if template is None or template.kind not in self.templates:
                return Failed(f"no approved template for {template.kind if template else 'this message'}")
            variables = {str(index): value for index, value in enumerate(template.variables, start=1)}
            content = {"content_sid": self.templates[template.kind], "content_variables": json.dumps(variables)}
        try:
            created = await self.client.messages.create_async(
                from_=self.from_, to=PREFIX + target.external_id, status_callback=self.status_callback, **content
            )
        except TwilioRestException as error:
            return self._failure(error, free_text=free_text)
        except aiohttp.ClientConnectorError as error:  # never connected: nothing left
            return RetryLater(f"network: {error}")
        except (aiohttp.ClientError, TimeoutError) as error:  # may have reached Twilio, the answer did not come back
            return Uncertain(f"network: {type(error).__name__} {error}")
        return Sent(provider_id=created.sid)

    @staticmethod
    def _failure(error: TwilioRestException, *, free_text: bool) -> SendResult | _OutsideWindow:
        code = int(error.code or 0)
        if code == OUTSIDE_WINDOW and free_text:
            return _OutsideWindow()
        if code in RATE_LIMITED or error.status == 429:
            return RetryLater(f"{code}: rate limited", after=1.0 if code == 20429 else 30.0)
        if code in NOT_REACHABLE:
            return Unreachable(f"{code}: {error.msg}")
        if error.status >= 500:
            return RetryLater(f"{error.status}: {error.msg}")
        return Failed(f"{code}: {error.msg}")


class MediaHost:
    """Files for Twilio to fetch: WhatsApp media goes by URL. Kept in the database, so whichever process Twilio's
    request reaches can serve it, under an unguessable token, for an hour (they hold personal data)."""

    def __init__(
        self, engine: Engine, public_url: str, clock: Callable[[], datetime], keep: timedelta = timedelta(hours=1)
    ) -> None:
        self.engine, self.public_url, self.clock, self.keep = engine, public_url.rstrip("/"), clock, keep

    def routes(self) -> list[Route]:
        return [Route("/media/{token}", self.serve, methods=["GET"])]

    async def publish(self, attachment: Attachment) -> str:
        token = await asyncio.to_thread(self._publish, attachment)
        return f"{self.public_url}/media/{token}"

    async def serve(self, request: Request) -> Response:
        found = await asyncio.to_thread(self._fetch, request.path_params["token"])
        if found is None:
            return Response(status_code=404)
        return Response(found.content, media_type=found.media_type)  # Twilio checks the content type

    def _publish(self, attachment: Attachment) -> str:
        return inbound.publish_media(
            self.engine,
            filename=attachment.filename,
            media_type=attachment.media_type,
            content=attachment.content,
            now=self.clock(),
            keep=self.keep,
        )

    def _fetch(self, token: str) -> MediaFile | None:
        return inbound.fetch_media(self.engine, token=token, now=self.clock())


class _OutsideWindow:
    """Twilio refused free text (63016): try again as a template."""


def twilio_client(account_sid: str, auth_token: str, api_base_url: str = "") -> Client:
    """Twilio's client on its async HTTP client; `api_base_url` points it at another endpoint (a local stand-in)."""
    from twilio.http.async_http_client import AsyncTwilioHttpClient

    client = Client(account_sid, auth_token, http_client=AsyncTwilioHttpClient())
    if api_base_url:
        client.api.base_url = api_base_url.rstrip("/")
    return client
