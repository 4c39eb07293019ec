"""A local stand-in for Twilio's Messages API on 127.0.0.1, spoken to by the real twilio client."""

from __future__ import annotations

import base64
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

ACCOUNT_SID = "ACtest-account-of-the-local-stand-in"
AUTH_TOKEN = "test-auth-token-of-the-local-stand-in"
FROM = "whatsapp:+6281100000000"


@dataclass
class FakeTwilio:
    port: int = 0
    messages: list[dict[str, Any]] = field(default_factory=list)
    free_text_refused: set[str] = field(default_factory=set)  # numbers whose 24-hour window is closed: 63016
    unreachable: set[str] = field(default_factory=set)  # numbers not on WhatsApp: 63003
    per_second: float = 0.0  # enforce a rate over any one-second window (0: none)
    accepted_at: list[float] = field(default_factory=list)
    refused_429: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/2010-04-01/Accounts/{sid}/Messages.json", self.create, methods=["POST"])])

    def sent_to(self, number: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["To"] == f"whatsapp:{number}"]

    async def create(self, request: Request) -> JSONResponse:
        expected = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {expected}":
            return _error(401, 20003, "Authenticate")
        form = {key: str(value) for key, value in (await request.form()).items()}
        number = form.get("To", "").removeprefix("whatsapp:")
        now = time.monotonic()
        if self.per_second and len([t for t in self.accepted_at if t > now - 1.0]) >= self.per_second:
            self.refused_429 += 1
            return _error(429, 20429, "Too Many Requests")
        if number in self.unreachable:
            return _error(400, 63003, "Channel could not find To address")
        if "Body" in form and number in self.free_text_refused:
            return _error(400, 63016, "Failed to send freeform message because you are outside the allowed window")
        self.accepted_at.append(now)
        sid = "SM" + uuid.uuid4().hex
        self.messages.append({**form, "sid": sid})
        return JSONResponse(
            {
                "sid": sid,
                "status": "queued",
                "to": form.get("To"),
                "from": form.get("From"),
                "body": form.get("Body"),
                "account_sid": ACCOUNT_SID,
                "num_segments": "1",
                "direction": "outbound-api",
            },
            status_code=201,
        )


def _error(status: int, code: int, message: str) -> JSONResponse:
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return JSONResponse(body, status_code=status)
