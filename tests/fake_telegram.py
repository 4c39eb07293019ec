"""A local stand-in for the Telegram Bot API on 127.0.0.1, spoken to by the real python-telegram-bot client.

It keeps a queue of updates for getUpdates (long polling), records every method the bot calls, and answers the
way Telegram does. Tests push updates as a person would produce them and read what the bot sent.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

TOKEN = "123456:TEST-token-for-the-local-stand-in"
BOT_USER = {"id": 123456, "is_bot": True, "first_name": "Sipakainge", "username": "sipakainge_test_bot"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]


@dataclass
class FakeTelegram:
    """State of the stand-in: pending updates and the calls received."""

    updates: list[dict[str, Any]] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    blocked: set[int] = field(default_factory=set)  # chats that blocked the bot: 403
    missing: set[int] = field(default_factory=set)  # chats that do not exist: 400 chat not found
    throttle_next: int = 0  # answer this many sendMessage calls with 429 first
    fail_next: int = 0  # answer this many sendMessage calls with 502 Bad Gateway first
    per_second: float = 0.0  # enforce Telegram's overall limit (0: none) over any one-second window
    accepted_at: list[float] = field(default_factory=list)
    refused_429: int = 0
    next_update_id: int = 1
    next_message_id: int = 1000
    # One event per kind of waiter, each cleared only by its own waiter: a shared one loses wake-ups.
    pushed: asyncio.Event = field(default_factory=asyncio.Event)
    called: asyncio.Event = field(default_factory=asyncio.Event)
    port: int = 0
    files: dict[str, bytes] = field(default_factory=dict)  # file_path -> content, for getFile and downloads
    hang_until: float = 0.0  # monotonic time until which sendMessage gets no answer (hung, connections kept open)
    hung: int = 0  # sendMessage calls received while hung
    downloaded: list[str] = field(default_factory=list)  # the file paths the bot fetched, in order

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    # --- what people do ---

    def _user(self, user_id: int) -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": "Peserta", "language_code": "id"}

    def _message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        self.next_message_id += 1
        return {
            "message_id": self.next_message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "Peserta"},
            "from": self._user(chat_id),
            **content,
        }

    def _push(self, update: dict[str, Any]) -> None:
        update["update_id"] = self.next_update_id
        self.next_update_id += 1
        self.updates.append(update)
        self.pushed.set()

    def text(self, chat_id: int, text: str) -> None:
        self._push({"message": self._message(chat_id, text=text)})

    def contact(self, chat_id: int, phone: str, *, user_id: int) -> None:
        contact = {"phone_number": phone, "first_name": "Peserta", "user_id": user_id}
        self._push({"message": self._message(chat_id, contact=contact)})

    def sticker(self, chat_id: int) -> None:
        sticker = {
            "file_id": "sticker-file",
            "file_unique_id": "sticker-unique",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
        self._push({"message": self._message(chat_id, sticker=sticker)})

    def document(self, chat_id: int, filename: str, content: bytes) -> None:
        """Send the bot a file, as Telegram delivers it: an id to fetch through getFile, then a download URL."""
        file_id = f"upload{len(self.files) + 1}"
        self.files[file_id] = content
        document = {
            "file_id": file_id,
            "file_unique_id": f"u-{file_id}",
            "file_name": filename,
            "file_size": len(content),
        }
        self._push({"message": self._message(chat_id, document=document)})

    async def download(self, request: Request) -> Response:
        if request.path_params["token"] != TOKEN or request.path_params["path"] not in self.files:
            return Response(status_code=404)
        self.downloaded.append(request.path_params["path"])
        return Response(self.files[request.path_params["path"]])

    def press(self, chat_id: int, label: str) -> None:
        """Tap the inline button with this label on the newest message that has buttons."""
        sent = next(call for call in reversed(self.messages(chat_id)) if "reply_markup" in call.params)
        markup = json.loads(sent.params["reply_markup"])
        buttons = [button for row in markup.get("inline_keyboard", []) for button in row]
        data = next(button["callback_data"] for button in buttons if button["text"] == label)
        original = {"text": sent.params["text"], "reply_markup": markup}
        self.press_data(chat_id, data, message_id=int(sent.params.get("_message_id", 1)), original=original)

    def press_data(self, chat_id: int, data: str, message_id: int = 1, original: dict[str, Any] | None = None) -> None:
        """A callback query on a message (by default one without buttons), with any data, as a tampered client could
        send."""
        message = self._message(chat_id, **(original or {"text": "…"}))
        message["message_id"] = message_id
        message["from"] = BOT_USER
        query = {
            "id": f"cb{self.next_update_id}",
            "from": self._user(chat_id),
            "chat_instance": "ci",
            "data": data,
            "message": message,
        }
        self._push({"callback_query": query})

    # --- what the bot did ---

    def messages(self, chat_id: int) -> list[Call]:
        return [c for c in self.calls if c.method == "sendMessage" and int(c.params["chat_id"]) == chat_id]

    def texts(self, chat_id: int) -> list[str]:
        return [str(c.params["text"]) for c in self.messages(chat_id)]

    def buttons(self, chat_id: int) -> list[str]:
        markup = json.loads(self.messages(chat_id)[-1].params.get("reply_markup", "{}"))
        return [button["text"] for row in markup.get("inline_keyboard", []) for button in row]

    def keyboard(self, chat_id: int) -> list[dict[str, Any]]:
        markup = json.loads(self.messages(chat_id)[-1].params.get("reply_markup", "{}"))
        return [button for row in markup.get("keyboard", []) for button in row]

    async def wait_for(self, chat_id: int, count: int, seconds: float = 10.0) -> list[str]:
        """Wait until the bot has sent `count` messages to the chat in all."""
        await self._until(
            lambda: len(self.messages(chat_id)) >= count,
            seconds,
            lambda: f"bot sent {self.texts(chat_id)} — expected {count} messages",
        )
        return self.texts(chat_id)

    async def wait_for_documents(self, chat_id: int, count: int, seconds: float = 10.0) -> list[tuple[str, bytes]]:
        """Wait until the bot has sent `count` files to the chat in all."""
        await self._until(
            lambda: len(self.documents(chat_id)) >= count,
            seconds,
            lambda: f"bot sent {len(self.documents(chat_id))} files — expected {count}",
        )
        return self.documents(chat_id)

    async def _until(self, done: Callable[[], bool], seconds: float, failure: Callable[[], str]) -> None:
        deadline = asyncio.get_running_loop().time() + seconds
        while not done():
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(failure())
            self.called.clear()
            try:
                await asyncio.wait_for(self.called.wait(), remaining)
            except TimeoutError:
                continue

    # --- the HTTP side ---

    async def handle(self, request: Request) -> JSONResponse:
        token, method = request.path_params["token"], request.path_params["method"]
        if token != TOKEN:
            return JSONResponse({"ok": False, "error_code": 401, "description": "Unauthorized"}, status_code=401)
        params = await _params(request)
        if method == "sendMessage" and time.monotonic() < self.hang_until:
            return await self._hang(params)
        if method == "getUpdates":
            return JSONResponse({"ok": True, "result": await self._get_updates(params)})
        if method in {"sendMessage", "sendDocument"}:
            refusal = self._refuse(int(params["chat_id"]))
            if refusal is not None:
                return refusal
        self.calls.append(Call(method, params))
        self.called.set()
        return JSONResponse({"ok": True, "result": self._result(method, params)})

    def _refuse(self, chat_id: int) -> JSONResponse | None:
        """Telegram's answers when a message cannot go: blocked, no such chat, too many requests."""
        if chat_id in self.blocked:
            return _error(403, "Forbidden: bot was blocked by the user")
        if chat_id in self.missing:
            return _error(400, "Bad Request: chat not found")
        if self.fail_next > 0:
            self.fail_next -= 1
            return _error(502, "Bad Gateway")
        now = time.monotonic()
        recent = [at for at in self.accepted_at if at > now - 1.0]
        if self.throttle_next > 0 or (self.per_second and len(recent) >= self.per_second):
            self.throttle_next = max(0, self.throttle_next - 1)
            self.refused_429 += 1
            return _error(429, "Too Many Requests: retry after 1", retry_after=1)
        self.accepted_at.append(now)
        return None

    async def _hang(self, params: dict[str, Any]) -> JSONResponse:
        """No answer until the hang is over. Every other message reached Telegram before it stopped answering (it
        arrives; its answer comes late, if the client still waits); the others never did (a late 502)."""
        self.hung += 1
        arrived = self.hung % 2 == 1
        if arrived:
            self.calls.append(Call("sendMessage", params))
            self.called.set()
        await asyncio.sleep(max(0.0, self.hang_until - time.monotonic()))
        if arrived:
            return JSONResponse({"ok": True, "result": self._result("sendMessage", params)})
        return _error(502, "Bad Gateway")

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        self.updates = [u for u in self.updates if u["update_id"] >= offset]
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 2.0)
        while not self.updates and time.monotonic() < deadline:
            self.pushed.clear()
            try:
                await asyncio.wait_for(self.pushed.wait(), max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                break
        return list(self.updates)

    def documents(self, chat_id: int) -> list[tuple[str, bytes]]:
        """The files sent to a chat: (file name, content) as uploaded."""
        return [
            (c.params["_filename"], c.params["_content"])
            for c in self.calls
            if c.method == "sendDocument" and int(c.params["chat_id"]) == chat_id
        ]

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT_USER
        if method == "getFile":
            file_id = params["file_id"]
            return {
                "file_id": file_id,
                "file_unique_id": f"u-{file_id}",
                "file_size": len(self.files[file_id]),
                "file_path": file_id,
            }
        if method in {"sendMessage", "sendDocument"}:
            self.next_message_id += 1
            params["_message_id"] = self.next_message_id
            message: dict[str, Any] = {
                "message_id": self.next_message_id,
                "date": int(time.time()),
                "chat": {"id": int(params["chat_id"]), "type": "private"},
                "from": BOT_USER,
            }
            if method == "sendMessage":
                message["text"] = params.get("text", "")
            else:
                document = {"file_id": f"doc{self.next_message_id}", "file_unique_id": f"u{self.next_message_id}"}
                message["document"] = document | {"file_name": params["_filename"]}
            return message
        return True


def _error(code: int, description: str, retry_after: int | None = None) -> JSONResponse:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return JSONResponse(body, status_code=code)


async def _params(request: Request) -> dict[str, Any]:
    if request.headers.get("content-type", "").startswith("application/json"):
        body = await request.body()
        loaded: dict[str, Any] = json.loads(body) if body else {}
        return loaded
    params: dict[str, Any] = {}
    async with request.form() as form:  # closes the uploads' temporary files (else a ResourceWarning)
        for key, value in form.items():
            if isinstance(value, str):
                params[key] = value
            else:  # an uploaded file (sendDocument): keep its name and bytes
                params["_filename"], params["_content"] = value.filename, await value.read()
    return params


def text_update(update_id: int, chat: int, text: str, *, message_id: int | None = None) -> dict[str, Any]:
    """A private chat's text message as the Bot API posts it to a webhook."""
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id if message_id is None else message_id,
            "date": int(time.time()),
            "text": text,
            "chat": {"id": chat, "type": "private"},
            "from": {"id": chat, "is_bot": False, "first_name": "Peserta"},
        },
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Served:
    """Runs an ASGI app with uvicorn on 127.0.0.1 inside the test's event loop."""

    def __init__(self, app: Starlette, port: int) -> None:
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Served:
        self.task = asyncio.create_task(self.server.serve())
        while not self.server.started:  # noqa: ASYNC110 (uvicorn offers only this flag)
            await asyncio.sleep(0.01)
        return self

    async def __aexit__(self, *_: object) -> None:
        self.server.should_exit = True
        if self.task is not None:
            await self.task


def fake_app(fake: FakeTelegram) -> Starlette:
    return Starlette(
        routes=[
            Route("/bot{token}/{method}", fake.handle, methods=["GET", "POST"]),
            Route("/file/bot{token}/{path}", fake.download, methods=["GET"]),
        ]
    )
