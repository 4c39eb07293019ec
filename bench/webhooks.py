"""Webhook load on loopback: inbound Telegram updates and WhatsApp messages through the real webhook handlers.

    python -m bench.webhooks --chats 200 --messages 10 [--database-url URL]

A child process runs the bot's webhook server as `sipakainge run` does (the PTB application in webhook mode behind
the secret header, the Twilio webhook checking signatures) with a local Bot API stand-in for Telegram's replies.
The parent plays Telegram and Twilio: `--chats` people each register step by step (`--messages` messages each, one
after the other, as a person types), all people at once. It prints requests per second and latency percentiles:
for WhatsApp the whole answer (the reply comes back in the response), for Telegram the webhook's acknowledgement and
the time until every update was answered through the Bot API.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from twilio.request_validator import RequestValidator

from bench.reminders import fresh_database
from bot.channels.telegram import TelegramChannel, TelegramInbox, build_application, webhook_routes
from bot.channels.whatsapp import SenderLimit, WhatsAppWebhook
from bot.dialogs.core import DialogConfig
from domain.regions import sulawesi_selatan
from service.conversations import Conversations
from service.inbound import InboxWorker
from storage.crypto import Cipher, new_encryption_key, new_lookup_key
from tests.dialog_driver import HAPPY_PATH
from tests.fake_telegram import TOKEN, FakeTelegram, Served, fake_app, free_port, text_update

SECRET = "bench-secret"  # noqa: S105 (a loopback benchmark's own webhook secret)
AUTH = "bench-twilio-auth-token-0123456789"
PUBLIC = "https://bot.example.org"
ANSWERS = ["/start", *(answer for _, answer in HAPPY_PATH), "1", "/status"]


def serve(url: str, port: int, bot_api_port: int, ready: multiprocessing.synchronize.Event) -> None:
    asyncio.run(_serve(url, port, bot_api_port, ready))


async def _serve(url: str, port: int, bot_api_port: int, ready: multiprocessing.synchronize.Event) -> None:
    engine = fresh_database(url)
    cipher = Cipher(encryption_keys=[new_encryption_key()], lookup_key=new_lookup_key())
    config = DialogConfig(service_area=("73.12", "73.14"), data_holder="bench", consent_version="bench")
    conversations = Conversations(
        engine=engine, cipher=cipher, regions=sulawesi_selatan(), config=config, zone=ZoneInfo("Asia/Makassar")
    )
    fake = FakeTelegram(port=bot_api_port)

    async def answered(_: Request) -> JSONResponse:  # how many replies the bot has sent through the Bot API
        return JSONResponse({"sent": sum(1 for call in fake.calls if call.method == "sendMessage")})

    bot_api = fake_app(fake)
    bot_api.router.routes.append(Route("/_answered", answered))
    channel = TelegramChannel(conversations, lambda: datetime.now(UTC))
    application = build_application(token=TOKEN, base_url=fake.base_url, channel=channel, webhook=True)
    whatsapp = WhatsAppWebhook(
        conversations, RequestValidator(AUTH), PUBLIC, lambda: datetime.now(UTC), SenderLimit(count=10**6)
    )
    # As `sipakainge run` does: every message stored in the inbox before it is acknowledged, answered by its worker.
    inbox = TelegramInbox(application, channel, "bench", timedelta(seconds=30))
    worker = InboxWorker(
        engine, cipher, {"telegram": inbox.process, "whatsapp": whatsapp.process}, "bench", timedelta(seconds=30)
    )
    inbox.wake = whatsapp.wake = worker.wake
    app = Starlette(routes=webhook_routes(application, SECRET, inbox=inbox) + whatsapp.routes())
    async with Served(bot_api, bot_api_port), application:
        await application.start()
        running = asyncio.create_task(worker.run())
        async with Served(app, port):
            ready.set()
            await asyncio.Event().wait()  # until the parent terminates us
        await worker.stop(running)


async def drive(port: int, bot_api_port: int, chats: int, messages: int) -> None:
    answers = ANSWERS[:messages]
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
        whatsapp: list[float] = []
        started = time.perf_counter()
        await asyncio.gather(*(_whatsapp_person(client, n, answers, whatsapp) for n in range(chats)))
        whatsapp_seconds = time.perf_counter() - started
        _report("WhatsApp", whatsapp, whatsapp_seconds, "answered in the response")

        telegram: list[float] = []
        started = time.perf_counter()
        await asyncio.gather(*(_telegram_person(client, n, answers, telegram) for n in range(chats)))
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{bot_api_port}") as bot_api:
            while (await bot_api.get("/_answered")).json()["sent"] < chats * len(answers):  # noqa: ASYNC110 (another process)
                await asyncio.sleep(0.02)
        _report("Telegram", telegram, time.perf_counter() - started, "acknowledged; all answered by the end")


async def _whatsapp_person(client: httpx.AsyncClient, n: int, answers: list[str], latencies: list[float]) -> None:
    number = f"+62813{n:08d}"
    for i, body in enumerate(answers):
        params = {
            "MessageSid": f"SM{n:06d}{i:04d}",
            "From": f"whatsapp:{number}",
            "To": "whatsapp:+1",
            "Body": body,
            "NumMedia": "0",
            "AccountSid": "AC",
        }
        signature = RequestValidator(AUTH).compute_signature(f"{PUBLIC}/twilio/whatsapp", params)
        sent = time.perf_counter()
        response = await client.post(
            "/twilio/whatsapp",
            content=urlencode(params),
            headers={"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"},
        )
        latencies.append(time.perf_counter() - sent)
        assert response.status_code == 200, response.status_code


async def _telegram_person(client: httpx.AsyncClient, n: int, answers: list[str], latencies: list[float]) -> None:
    chat = 700_000 + n
    for i, text in enumerate(answers):
        update = text_update(n * 100 + i + 1, chat, text, message_id=i + 1)
        sent = time.perf_counter()
        response = await client.post(
            "/telegram",
            content=json.dumps(update),
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"},
        )
        latencies.append(time.perf_counter() - sent)
        assert response.status_code == 200, response.status_code
        await asyncio.sleep(0.05)  # a person does not type faster than this


def _report(channel: str, latencies: list[float], seconds: float, what: str) -> None:
    ordered = sorted(latencies)
    p50, p95 = statistics.median(ordered), ordered[int(len(ordered) * 0.95) - 1]
    print(
        f"{channel:<9} {len(ordered):,} requests in {seconds:.1f} s = {len(ordered) / seconds:,.0f}/s; "
        f"p50 {p50 * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms ({what})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Webhook load on loopback")
    parser.add_argument("--chats", type=int, default=200)
    parser.add_argument("--messages", type=int, default=len(ANSWERS))
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'webhooks.db'}"
        port, bot_api_port = free_port(), free_port()
        ready = multiprocessing.get_context("spawn").Event()
        server = multiprocessing.get_context("spawn").Process(target=serve, args=(url, port, bot_api_port, ready))
        server.start()
        try:
            if not ready.wait(60):
                raise SystemExit("the webhook server did not start")
            print(
                f"database  {url.split(':', 1)[0]}; {args.chats} people x {min(args.messages, len(ANSWERS))} messages"
            )
            asyncio.run(drive(port, bot_api_port, args.chats, args.messages))
        finally:
            server.terminate()
            server.join()


if __name__ == "__main__":
    main()
