"""Degraded, not broken (issue 16, point 6): with the database unwritable or unreachable, WhatsApp answers the polite
"sedang ada gangguan" (TwiML, 200) and keeps nothing, so the same message is answered properly once the database is
back; a delivery report it cannot store is refused (503) for Twilio to send again; /healthz says which part is down."""

from __future__ import annotations

import html
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from starlette.applications import Starlette
from starlette.routing import Route
from twilio.request_validator import RequestValidator

from bot import app
from bot.__main__ import main
from bot.channels.whatsapp import SenderLimit, WhatsAppWebhook
from bot.dialogs.core import DialogConfig
from bot.texts import t
from domain.regions import RegionIndex
from service.conversations import Conversations
from storage.crypto import Cipher
from storage.db import make_engine
from tests.fake_telegram import free_port
from tests.fake_twilio import AUTH_TOKEN, FROM

PUBLIC_URL = "https://sipakainge.example.org"
NOW = datetime(2026, 12, 8, 1, 30, tzinfo=UTC)
TIMEOUT = {"connect_timeout": 5}  # a closed port answers at once; this only bounds a test that would hang


def _broken_url(kind: str, db_url: str) -> str:
    url = make_url(db_url)
    if kind == "unwritable" and url.get_backend_name() == "sqlite":
        return f"sqlite:///file:{url.database}?mode=ro&uri=true"
    if kind == "unwritable":
        return url.update_query_dict({"options": "-c default_transaction_read_only=on"}).render_as_string(False)
    if url.get_backend_name() == "sqlite":
        return f"sqlite:///file:{Path(str(url.database)).parent / 'missing' / 'x.db'}?mode=ro&uri=true"
    return url.set(port=free_port()).render_as_string(False)  # nothing listens there


@pytest.fixture(params=["unwritable", "unreachable"])
def broken(request: pytest.FixtureRequest, db_url: str) -> Iterator[Engine]:
    """The same (migrated) database, opened read-only — or a database that is not there at all."""
    url = _broken_url(request.param, db_url)
    engine = make_engine(url, connect_args=TIMEOUT) if url.startswith("postgresql") else make_engine(url)
    yield engine
    engine.dispose()


def _client(routes: list[Route]) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=Starlette(routes=routes), raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://t")


def _webhook(engine: Engine, cipher: Cipher, regions: RegionIndex, config: DialogConfig) -> WhatsAppWebhook:
    conversations = Conversations(
        engine=engine, cipher=cipher, regions=regions, config=config, zone=ZoneInfo("Asia/Makassar")
    )
    return WhatsAppWebhook(conversations, RequestValidator(AUTH_TOKEN), PUBLIC_URL, lambda: NOW, SenderLimit())


async def _post(client: httpx.AsyncClient, path: str, params: dict[str, str]) -> httpx.Response:
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + path, params)
    headers = {"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"}
    return await client.post(path, content=urlencode(params, quote_via=quote), headers=headers)


HALO = {"MessageSid": "SMdegraded0001", "From": "whatsapp:+6281200000777", "To": FROM, "Body": "halo"}


async def test_whatsapp_answers_politely_and_keeps_nothing(
    broken: Engine, engine: Engine, cipher: Cipher, regions: RegionIndex, dialog_config: DialogConfig
) -> None:
    """Before: a 500 with a traceback."""
    async with _client(_webhook(broken, cipher, regions, dialog_config).routes()) as client:
        answer = await _post(client, "/twilio/whatsapp", HALO)
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("application/xml")
        assert t("error.temporary") in html.unescape(answer.text)
    # The database back: the very same message (Twilio's retry, or the person sending it again) is answered.
    async with _client(_webhook(engine, cipher, regions, dialog_config).routes()) as client:
        answer = await _post(client, "/twilio/whatsapp", HALO)
        assert answer.status_code == 200
        assert "1. Daftar" in html.unescape(answer.text)


async def test_a_delivery_report_not_stored_is_not_acknowledged(
    db_url: str, cipher: Cipher, regions: RegionIndex, dialog_config: DialogConfig
) -> None:
    """Before: a 500 with a traceback. Now a plain 503, which Twilio answers by sending the report again."""
    url = _broken_url("unreachable", db_url)
    broken = make_engine(url, connect_args=TIMEOUT) if url.startswith("postgresql") else make_engine(url)
    try:
        async with _client(_webhook(broken, cipher, regions, dialog_config).routes()) as client:
            report = {"MessageSid": "SMdegraded0002", "MessageStatus": "delivered"}
            answer = await _post(client, "/twilio/status", report)
    finally:
        broken.dispose()
    assert answer.status_code == 503
    assert answer.text == ""


async def test_healthz_says_the_database_is_down(broken: Engine) -> None:
    """Before: "ok" whatever the database's state."""
    async with _client([Route("/healthz", app.health_route(broken))]) as client:
        answer = await client.get("/healthz")
    assert answer.status_code == 503
    body = answer.json()
    assert body["status"] == "down"
    assert body["write"] == "down"
    assert body["error"]  # the kind of error, never its text


async def test_healthz_when_the_database_works(engine: Engine) -> None:
    async with _client([Route("/healthz", app.health_route(engine))]) as client:
        answer = await client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "database": "ok", "write": "ok"}


async def test_healthz_names_the_read_only_database_on_postgresql(pg_url: str) -> None:
    """PostgreSQL read-only (a replica, a full disk's emergency mode): readable, not writable: said so."""
    engine = make_engine(_broken_url("unwritable", pg_url), connect_args=TIMEOUT)
    try:
        async with _client([Route("/healthz", app.health_route(engine))]) as client:
            answer = await client.get("/healthz")
    finally:
        engine.dispose()
    assert answer.status_code == 503
    assert (answer.json()["database"], answer.json()["write"]) == ("ok", "down")


@pytest.mark.parametrize("command", [["scan"], ["dispatch", "--once", "--print"], ["migrate"]])
def test_commands_say_the_database_is_down_in_one_line(
    command: list[str],
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Before: a traceback. Now one line naming the error's kind, and exit status 3."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", _broken_url("unreachable", db_url))
    assert main(command) == 3
    said = capsys.readouterr().err
    assert said.strip().startswith("Basis data tidak dapat dipakai saat ini (")
    assert "Traceback" not in said
