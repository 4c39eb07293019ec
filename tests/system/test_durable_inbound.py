"""Issue 16 point 3, against real `sipakainge run` processes on PostgreSQL and the Bot API / Twilio stand-ins: an
acknowledged webhook update survives `kill -9` (stored before the 200, answered after the restart, once); one
chat's updates posted round robin to three processes are answered in the order sent; a repeated update_id or
MessageSid is processed once."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, col, select

from domain.regions import sulawesi_selatan
from storage.models import InboxEntry, Member
from tests.dialog_driver import HAPPY_PATH, Chat
from tests.fake_telegram import FakeTelegram, Served, free_port, text_update
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM, FakeTwilio
from tests.system.processes import run_env, start
from tests.system.test_scale_out import CONFIG, _serving

SECRET = "rahasia"
PUBLIC_URL = "https://bot.example.org"
UPDATES = 150  # as in the issue: 150 acknowledged, then kill -9


def _env(db_url: str, telegram: FakeTelegram, tmp_path: Path, twilio: FakeTwilio | None = None) -> dict[str, str]:
    env = run_env(
        db_url,
        telegram.base_url,
        tmp_path,
        TELEGRAM_WEBHOOK_URL="https://bot.example.org/telegram",
        TELEGRAM_WEBHOOK_SECRET=SECRET,
        INBOX_LEASE_SECONDS="3",
        DATA_HOLDER=CONFIG.data_holder,  # the processes speak as the dialog driver's CONFIG does
        CONSENT_VERSION=CONFIG.consent_version,
    )
    if twilio is not None:
        env |= {
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_WHATSAPP_FROM": FROM,
            "TWILIO_PUBLIC_URL": PUBLIC_URL,
            "TWILIO_API_BASE_URL": twilio.base_url,
        }
    return env


def _start(env: dict[str, str], port: int, cwd: Path) -> subprocess.Popen[bytes]:
    return start(env | {"LISTEN_PORT": str(port)}, cwd)


async def _until_serving(client: httpx.AsyncClient, run: subprocess.Popen[bytes], port: int) -> None:
    up_by = time.monotonic() + 120  # a busy machine can take long to start (migrations, imports)
    while not await _serving(client, port):
        assert run.poll() is None, f"sipakainge run for port {port} exited with {run.returncode}"
        assert time.monotonic() < up_by, f"sipakainge run for port {port} not serving after 120 s"
        await asyncio.sleep(0.2)


def _stop(runs: list[subprocess.Popen[bytes]]) -> list[int]:
    for run in runs:
        if run.poll() is None:
            run.send_signal(signal.SIGTERM)
    return [run.wait(timeout=60) for run in runs]


@contextmanager
def _conversations_locked(engine: Engine) -> Iterator[None]:
    """No dialog step can commit while this holds: every update stays acknowledged-but-unprocessed, as in a crash
    that comes just after the 200s (the steps wait on the conversation table's lock)."""
    with engine.connect() as connection:
        transaction = connection.begin()
        connection.execute(text("LOCK TABLE conversation IN ACCESS EXCLUSIVE MODE"))
        try:
            yield
        finally:
            transaction.rollback()


async def _post_update(client: httpx.AsyncClient, port: int, update: dict[str, object]) -> int:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    response = await client.post(f"http://127.0.0.1:{port}/telegram", json=update, headers=headers)
    return response.status_code


async def _until(done: object, seconds: float, what: str) -> None:
    assert callable(done)
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.2)


def _inbox_rows(engine: Engine) -> int:
    with Session(engine) as session:
        return len(session.exec(select(InboxEntry.id)).all())


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_updates_acknowledged_then_kill_9_are_all_answered_once_after_restart(
    db_url: str, engine: Engine, telegram: FakeTelegram, tmp_path: Path
) -> None:
    env, port = _env(db_url, telegram, tmp_path), free_port()
    chats = [770_000 + n for n in range(UPDATES)]
    expected = len(Chat(CONFIG, sulawesi_selatan(), now=datetime.now(UTC)).send("/start"))
    run = _start(env, port, tmp_path)
    runs = [run]
    try:
        async with httpx.AsyncClient(timeout=60) as client:
            await _until_serving(client, run, port)
            with _conversations_locked(engine):
                codes = [
                    await _post_update(client, port, text_update(n + 1, chat, "/start")) for n, chat in enumerate(chats)
                ]
                acknowledged = codes.count(200)
                assert acknowledged == UPDATES
                run.send_signal(signal.SIGKILL)
                assert run.wait(timeout=30) == -signal.SIGKILL
            answered_before_restart = sum(len(telegram.messages(chat)) for chat in chats)
            assert answered_before_restart == 0  # none was processed: all 150 were acknowledged-but-unprocessed
            assert _inbox_rows(engine) == UPDATES  # … and all 150 are in the inbox
            again = _start(env, port, tmp_path)
            runs.append(again)
            await _until_serving(client, again, port)
            await _until(
                lambda: all(len(telegram.messages(chat)) >= expected for chat in chats), 120, "not all answered"
            )
            await _until(lambda: _inbox_rows(engine) == 0, 60, "inbox not emptied")
    finally:
        exits = _stop(runs)
    assert exits[-1] == 0
    answers = [len(telegram.messages(chat)) for chat in chats]
    processed = sum(1 for count in answers if count)
    duplicated = sum(1 for count in answers if count > expected)
    print(f"\nacknowledged {acknowledged}, processed {processed}, lost {UPDATES - processed}, duplicated {duplicated}")
    assert answers == [expected] * UPDATES  # each answered exactly once: 0 lost, 0 duplicated


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_one_chats_updates_across_three_processes_are_answered_in_order_and_once(
    db_url: str, engine: Engine, telegram: FakeTelegram, tmp_path: Path
) -> None:
    """The updates go out at once (nobody waits for an answer), round robin to three processes with no proxy in
    front; a repeated update_id and a repeated MessageSid, each posted to two processes, are processed once."""
    twilio = FakeTwilio(port=free_port())
    env, ports = _env(db_url, telegram, tmp_path, twilio), [free_port() for _ in range(3)]
    chat, now = 880_123, datetime.now(UTC)
    answers = ["/start", *(answer for _, answer in HAPPY_PATH), "1"]
    dialog = Chat(CONFIG, sulawesi_selatan(), now=now)
    expected = [reply.text for answer in answers for reply in dialog.send(answer)]
    async with Served(twilio.app(), twilio.port):
        runs = [_start(env, port, tmp_path) for port in ports]
        try:
            async with httpx.AsyncClient(timeout=60) as client:
                for run, port in zip(runs, ports, strict=True):
                    await _until_serving(client, run, port)
                for number, answer in enumerate(answers):
                    update = text_update(1000 + number, chat, answer)
                    assert await _post_update(client, ports[number % 3], update) == 200
                # Telegram sends an update again when it saw no 200 in time: the copy reaches another process.
                assert await _post_update(client, ports[1], text_update(1000, chat, "/start")) == 200
                await _until(lambda: len(telegram.texts(chat)) >= len(expected), 120, "not all answered")
                await _until(lambda: _inbox_rows(engine) == 0, 60, "inbox not emptied")
                whatsapp = [await _whatsapp(client, port, "SMdurable000000001", "halo") for port in ports[:2]]
        finally:
            exits = _stop(runs)
    assert exits == [0, 0, 0]
    sent = telegram.texts(chat)
    assert len(sent) == len(expected)  # each once: the repeated /start was not answered again
    # In the order sent. The last answer (saved) says more on Telegram (how to prove the chat is theirs) than the
    # channel-free dialog driver knows.
    assert sent[:-1] == expected[:-1]
    assert "tersimpan" in sent[-1]
    with Session(engine) as session:
        [member] = session.exec(select(Member).where(col(Member.full_name) == dict(HAPPY_PATH)["name"])).all()
    assert member.nik_hash  # the conversation's state followed the messages in order, to the saved registration
    # The first copy of the WhatsApp message is answered (in its TwiML), the second gets an empty answer.
    assert "<Message>" in whatsapp[0]
    assert "<Message>" not in whatsapp[1]
    assert twilio.messages == []


async def _whatsapp(client: httpx.AsyncClient, port: int, sid: str, body: str) -> str:
    from twilio.request_validator import RequestValidator

    params = {"MessageSid": sid, "From": "whatsapp:+6281200000417", "To": FROM, "Body": body, "WaId": "6281200000417"}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + "/twilio/whatsapp", params)
    headers = {"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"}
    response = await client.post(f"http://127.0.0.1:{port}/twilio/whatsapp", content=urlencode(params), headers=headers)
    assert response.status_code == 200
    return response.text
