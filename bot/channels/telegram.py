"""Telegram through python-telegram-bot: an `Update` is translated once into `Incoming`; a `Reply` becomes
inline buttons, or the share-contact keyboard. No dialog logic lives here."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import warnings
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from telegram import (
    Bot,
    Document,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ChatType
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler
from telegram.warnings import PTBDeprecationWarning

from bot.channels.body import read_body
from bot.dialogs.core import Attachment, Choice, Incoming, Reply
from bot.texts import t
from domain.delivery import Failed, RetryLater, SendResult, Sent, Target, Uncertain, Unreachable
from domain.vocabulary import Channel
from files.member_sheet import MAX_BYTES
from service import inbound
from service.conversations import Conversations

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query"]
MAX_WEBHOOK_BODY = 256 * 1024
_SHORT_LABEL = 18  # two buttons fit on one row of a small phone up to about this many characters


def translate(update: Update) -> tuple[str, Incoming] | None:
    """The chat and what its person said; None for updates the bot ignores (groups, edits, channel posts)."""
    chat = update.effective_chat
    if chat is None or chat.type != ChatType.PRIVATE or type(chat.id) is not int:  # PTB does not check types
        return None
    if update.callback_query is not None:
        data = update.callback_query.data
        return str(chat.id), Incoming.choice(data if isinstance(data, str) else "")
    message = update.message
    if message is None:
        return None
    if message.contact is not None and isinstance(message.contact.phone_number, str):
        user = update.effective_user
        # Only a contact the person shared for themselves is a verified number (not one forwarded from the phonebook).
        is_sender = user is not None and message.contact.user_id == user.id
        return str(chat.id), Incoming.contact(message.contact.phone_number, is_sender=is_sender)
    if isinstance(message.text, str):
        return str(chat.id), Incoming.from_text(message.text)
    return str(chat.id), Incoming.unsupported()


def markup(reply: Reply) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove:
    if reply.request_contact:
        button = KeyboardButton(t("button.share_contact"), request_contact=True)
        # A message has one keyboard: the options go under the contact button, each sending its label as text.
        others = [[KeyboardButton(choice.label)] for choice in reply.choices]
        return ReplyKeyboardMarkup([[button], *others], resize_keyboard=True, one_time_keyboard=True)
    if not reply.choices:
        return ReplyKeyboardRemove()
    return InlineKeyboardMarkup(_rows(reply.choices))


def _rows(choices: tuple[Choice, ...]) -> list[list[InlineKeyboardButton]]:
    options = [c for c in choices if not c.value.startswith("nav:")]
    navigation = [InlineKeyboardButton(c.label, callback_data=c.value) for c in choices if c.value.startswith("nav:")]
    per_row = 2 if all(len(c.label) <= _SHORT_LABEL for c in options) else 1
    rows = [
        [InlineKeyboardButton(c.label, callback_data=c.value) for c in options[i : i + per_row]]
        for i in range(0, len(options), per_row)
    ]
    return [*rows, navigation] if navigation else rows


class TelegramChannel:
    """Feeds updates to the conversations and sends their replies back."""

    def __init__(self, conversations: Conversations, clock: Callable[[], datetime]) -> None:
        self.conversations = conversations
        self.clock = clock

    async def on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answer one update from a private chat (long polling: PTB's update queue)."""
        await self.answer(update, context.bot)

    async def answer(self, update: Update, bot: Bot, step: inbound.Step | None = None) -> None:
        """Answer one update from a private chat. With an inbox `step`, the dialog step commits together with the
        inbox row, and nothing is sent unless it did (the row is tried again)."""
        translated = translate(update)
        if translated is None:
            if step is not None:
                step.done = True  # nothing to do: the row is finished
            return
        chat_id, incoming = translated
        if update.callback_query is not None:
            await _settle_button(update)
        if update.message is not None and update.message.document is not None:
            incoming = await self._document(chat_id, update.message.document)
        # The database work is synchronous; keep it off the event loop so other chats are not held up.
        replies = await asyncio.to_thread(
            self.conversations.handle, Channel.TELEGRAM, chat_id, incoming, self.clock(), within=step
        )
        if step is not None and not step.done:
            return
        for reply in replies:
            await send_reply(bot, int(chat_id), reply)

    async def _document(self, chat_id: str, document: Document) -> Incoming:
        """A file sent to the bot, downloaded only when it could be a member spreadsheet and this chat may import
        (an admin's): anyone else's is only named, never fetched, and answered as any unsupported message."""
        name = document.file_name if isinstance(document.file_name, str) else ""
        size = document.file_size if type(document.file_size) is int else 0
        if not name.lower().endswith((".xlsx", ".csv")) or size > MAX_BYTES:
            return Incoming.file(name, b"", size=size)
        if not await asyncio.to_thread(self.conversations.may_import, Channel.TELEGRAM, chat_id):
            return Incoming.file(name, b"", size=size)
        return await _download(document, name, size)


async def _download(document: Document, name: str, size: int) -> Incoming:
    """The file's content, through getFile and its download URL; an empty file when Telegram does not give it."""
    try:
        content = bytes(await (await document.get_file()).download_as_bytearray())
    except TelegramError as error:
        log.warning("could not download a document: %s", error)
        return Incoming.file(name, b"", size=size)
    return Incoming.file(name, content, size=len(content))


async def _settle_button(update: Update) -> None:
    """Stop the spinner and replace the buttons with the answer chosen: the history shows what was answered, and an
    old question cannot be answered twice."""
    query = update.callback_query
    assert query is not None
    message = query.message
    try:
        await query.answer()
        label = _pressed_label(update)
        if label and isinstance(message, Message) and message.text:
            await query.edit_message_text(f"{message.text}\n\n✅ {label}")
        else:
            await query.edit_message_reply_markup(reply_markup=None)
    except TelegramError as error:
        log.debug("could not settle a button press: %s", error)


def _pressed_label(update: Update) -> str | None:
    query = update.callback_query
    if query is None or not isinstance(query.message, Message) or query.message.reply_markup is None:
        return None
    for row in query.message.reply_markup.inline_keyboard:
        for button in row:
            if button.callback_data == query.data:
                return button.text
    return None


async def deliver(bot: Bot, chat_id: int, reply: Reply) -> SendResult:
    """Send one message and say what happened, in the dispatcher's terms (the one reading of Telegram's errors)."""
    try:
        sent = await bot.send_message(chat_id=chat_id, text=reply.text, reply_markup=markup(reply))
    except RetryAfter as error:
        return RetryLater("429 Too Many Requests", after=retry_seconds(error))
    except Forbidden as error:
        return Unreachable(f"forbidden: {error.message}")
    except BadRequest as error:
        if "chat not found" in error.message.lower():
            return Unreachable("chat not found")
        return Failed(f"bad request: {error.message}")
    except TimedOut as error:
        return _unanswered(error, f"timed out: {error.message}")
    except NetworkError as error:
        return _unanswered(error, f"network: {error.message}")
    if reply.attachment is not None:
        await _attach(bot, chat_id, reply.attachment)
    return Sent(provider_id=str(sent.message_id))


def _unanswered(error: TelegramError, text: str) -> SendResult:
    """No answer from the Bot API. Waiting for a pooled connection or failing to connect means the request never
    left: simply retried. Anything later (read or write timed out, connection lost) may have reached Telegram."""
    if isinstance(error.__cause__, httpx.PoolTimeout | httpx.ConnectTimeout | httpx.ConnectError):
        return RetryLater(text)
    return Uncertain(text)


async def _attach(bot: Bot, chat_id: int, attachment: Attachment) -> None:
    """The file follows its message; if it cannot go, the message (which has the list's first page) still did."""
    document = InputFile(attachment.content, filename=attachment.filename)
    try:
        await bot.send_document(chat_id=chat_id, document=document)
    except TelegramError as error:
        log.warning("attachment to chat %s not delivered (%s)", chat_id, type(error).__name__)


async def send_reply(bot: Bot, chat_id: int, reply: Reply) -> None:
    """Answer a person: a 429 is waited out once; anything else is logged (they can simply write again)."""
    result = await deliver(bot, chat_id, reply)
    if isinstance(result, RetryLater) and result.after is not None:
        await asyncio.sleep(result.after)
        result = await deliver(bot, chat_id, reply)
    if not isinstance(result, Sent):
        log.warning("reply to chat %s not delivered (%s)", chat_id, type(result).__name__)


def retry_seconds(error: RetryAfter) -> float:
    """Seconds to wait; PTB 22 gives an int (deprecated) or a timedelta (PTB_TIMEDELTA), both are handled here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        delay = error.retry_after
    return float(delay) if isinstance(delay, int | float) else delay.total_seconds()


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log every exception a handler raised, with its traceback."""
    log.error("error while handling an update", exc_info=context.error)


def file_base_url(api_base_url: str, configured: str = "") -> str:
    """Where the Bot API serves files: TELEGRAM_FILE_BASE_URL when set, else the API URL with its trailing "/bot"
    made "/file/bot" (Telegram's layout, and telegram-bot-api's). Only the end of the URL is touched: a host whose
    name starts with "bot" stays as it is (tests/channels/test_file_url.py)."""
    if configured:
        return configured
    trimmed = api_base_url.rstrip("/")
    return trimmed.removesuffix("/bot") + "/file/bot" if trimmed.endswith("/bot") else trimmed + "/file/bot"


def build_application(
    *, token: str, base_url: str, channel: TelegramChannel, webhook: bool, file_url: str = ""
) -> Application:  # type: ignore[type-arg]
    """The PTB application: one handler for every update, one error handler."""
    builder = ApplicationBuilder().token(token).base_url(base_url)
    builder = builder.base_file_url(file_base_url(base_url, file_url))
    if webhook:
        builder = builder.updater(None)
    application = builder.build()
    application.add_handler(TypeHandler(Update, channel.on_update))
    application.add_error_handler(on_error)
    return application


def parse_update(body: bytes, bot: Bot) -> Update | None:
    """A webhook's body as an update; None for anything that is not a JSON object with an integer `update_id` that
    python-telegram-bot can read (invalid UTF-8, nested past the parser's depth, fields of the wrong type…)."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return None
    if not isinstance(data, dict) or type(data.get("update_id")) is not int:
        return None
    try:
        return Update.de_json(data, bot)
    except Exception:  # PTB's parsing of untrusted fields raises whatever a wrong type provokes
        return None


class TelegramInbox:
    """Webhook mode: each update is stored in the inbox before Telegram gets its 200 (then it is never sent again),
    and answered by an inbox worker of whichever process is free, in update_id order per chat."""

    def __init__(self, application: Application, channel: TelegramChannel, token: str, lease: timedelta) -> None:  # type: ignore[type-arg]
        self.application, self.channel, self.token, self.lease = application, channel, token, lease
        self.wake: Callable[[], None] = lambda: None  # the worker of this process, set when it starts

    async def receive(self, body: bytes, update: Update) -> None:
        """Store the update (committed when this returns); ignored updates (groups, edits…) are not stored."""
        translated = translate(update)
        if translated is None:
            return
        conversations = self.channel.conversations
        stored = await asyncio.to_thread(
            inbound.receive,
            conversations.engine,
            conversations.cipher,
            channel=Channel.TELEGRAM,
            external_id=translated[0],
            key=f"tg:{update.update_id}",
            sequence=update.update_id,
            payload=body.decode(),
            now=self.channel.clock(),
        )
        if stored is not None:
            self.wake()

    async def process(self, payload: str, step: inbound.Step) -> None:
        """The inbox worker's handler for a stored update."""
        update = parse_update(payload.encode(), self.application.bot)
        if update is None:
            step.done = True
            return
        await self.channel.answer(update, self.application.bot, step)


def webhook_routes(
    application: Application,  # type: ignore[type-arg]
    secret: str,
    path: str = "/telegram",
    inbox: TelegramInbox | None = None,
) -> list[Route]:
    """The route for Telegram's webhook: the secret header is checked before anything is read. With an `inbox`,
    the update is stored before it is acknowledged (a storage failure answers 503: Telegram sends it again);
    without one, it goes to PTB's in-memory update queue (lost in a crash)."""

    async def receive(request: Request) -> Response:
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
            return Response(status_code=403)
        body = await read_body(request, MAX_WEBHOOK_BODY)
        if body is None:
            return Response(status_code=413)
        update = parse_update(body, application.bot)
        if update is None:
            # From Telegram (the secret matched): answered, or Telegram would send it again and again.
            log.warning("ignored a malformed Telegram update")
            return Response()
        if inbox is None:
            await application.update_queue.put(update)
            return Response()
        try:
            await inbox.receive(body, update)
        except Exception:
            log.exception("could not store a Telegram update; Telegram will send it again")
            return Response(status_code=503)
        return Response()

    return [Route(path, receive, methods=["POST"])]


class TelegramSender:
    """Sends reminders through the Bot API; maps Telegram's answers onto what the dispatcher should do next."""

    channel: str = Channel.TELEGRAM

    def __init__(self, bot: Bot, *, per_second: float = 29.0, per_chat_seconds: float = 1.0) -> None:
        # Telegram allows about 30 messages a second overall and one a second per chat; stay just under.
        self.bot = bot
        self.per_second = per_second
        self.per_chat_seconds = per_chat_seconds

    async def send(self, target: Target, message: Reply) -> SendResult:
        return await deliver(self.bot, int(target.external_id), message)
