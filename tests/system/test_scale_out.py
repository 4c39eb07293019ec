"""Three processes on one PostgreSQL, none of them special: each runs the daily scan and the dispatch as
`sipakainge run` does. One of them leads the scan (the others find the lead taken); all three share the dispatch;
10,000 reminders arrive exactly once each."""

from __future__ import annotations

import asyncio
import multiprocessing
import signal
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import Engine, insert
from sqlmodel import Session, col, select
from starlette.applications import Starlette
from twilio.request_validator import RequestValidator

from bot.dialogs.core import DialogConfig
from domain.regions import sulawesi_selatan
from scheduler.dispatch import Dispatcher
from service.conversations import Conversations
from service.daily import scan_once
from storage.crypto import Cipher
from storage.db import make_engine
from storage.models import Member, Reminder, ScanRun
from tests.channels.test_whatsapp import PUBLIC_URL, Phone
from tests.dialog_driver import HAPPY_PATH, Chat
from tests.fake_telegram import FakeTelegram, free_port, text_update
from tests.fake_telegram import Served as ServedApp
from tests.fake_twilio import AUTH_TOKEN
from tests.outbox_fixtures import bulk_members
from tests.scheduler.test_dispatch import MORNING, POLICY, ZONES, render, statuses
from tests.system.processes import due_now, run_env, start
from tests.system.test_faults import Journal

MEMBERS = 10_000
PROCESSES = 3
# The same keys in every process, as the same .env would give them.
CIPHER = Cipher(encryption_keys=["a" * 43 + "="], lookup_key="k" * 32)
CONFIG = DialogConfig(service_area=("73.12", "73.14"), data_holder="BPJS Ketenagakerjaan (uji)", consent_version="t")


def _process(url: str, name: str, journal: str, ready: Any, results: Any) -> None:
    """One `sipakainge run`, as far as the scheduled jobs go: the scan at its hour, then dispatch until done."""
    engine = make_engine(url)
    ready.wait(timeout=120)  # all start the same moment, as after a deployment
    started = time.perf_counter()
    scanned = scan_once(engine=engine, policy=POLICY, zones=ZONES, today=date(2026, 12, 8), now=MORNING)
    # The next dispatch tick comes after the leader's scan is committed (on a loaded machine, however long it took).
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with Session(engine) as session:
            if session.exec(select(ScanRun).where(col(ScanRun.day) == date(2026, 12, 8))).first() is not None:
                break
        time.sleep(0.1)
    dispatcher: Dispatcher[str] = Dispatcher(
        engine=engine, senders={"telegram": Journal(journal, 0.0)}, render=render, policy=POLICY, worker=name
    )
    stats = asyncio.run(dispatcher.drain(MORNING))
    results.put((name, scanned.created if scanned else None, stats.sent, time.perf_counter() - started))
    engine.dispose()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_three_processes_one_scan_leader_shared_dispatch_no_duplicates(
    engine: Engine, cipher: Cipher, db_url: str, tmp_path: Path
) -> None:
    with Session(engine) as session:
        bulk_members(session, cipher, MEMBERS, covered_until=date(2026, 11, 30), encrypt=False)
        session.commit()
    context = multiprocessing.get_context("spawn")
    ready, results = context.Barrier(PROCESSES), context.Queue()
    journals = [tmp_path / f"p{i}.txt" for i in range(PROCESSES)]
    processes = [
        context.Process(target=_process, args=(db_url, f"p{i}", str(journals[i]), ready, results))
        for i in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=300)
        assert process.exitcode == 0
    reports = [results.get(timeout=5) for _ in processes]
    scans = [created for _, created, _, _ in reports]
    # One process led and created them all; the others found the lead taken, or (if later) nothing left to create.
    assert [c for c in scans if c] == [MEMBERS]
    sent = [int(i) for j in journals if j.exists() for line in j.read_text().splitlines() for i in line.split(",")]
    assert len(sent) == len(set(sent)) == MEMBERS  # zero duplicates, zero lost
    # Shared: more than one process sent (how many of the three get a batch depends on the machine's load).
    assert sum(count > 0 for _, _, count, _ in reports) >= 2
    assert statuses(engine) == {"sent": MEMBERS}
    with Session(engine) as session:
        assert len(session.exec(select(Reminder.id).where(col(Reminder.stage) == "H-7")).all()) == MEMBERS


def _webhook_server(url: str, port: int, ready: Any) -> None:
    """One process serving the WhatsApp webhook, as `sipakainge run` does behind the proxy."""
    asyncio.run(_serve(url, port, ready))


async def _serve(url: str, port: int, ready: Any) -> None:
    from bot.channels.whatsapp import SenderLimit, WhatsAppWebhook

    engine = make_engine(url)
    conversations = Conversations(
        engine=engine, cipher=CIPHER, regions=sulawesi_selatan(), config=CONFIG, zone=ZoneInfo("Asia/Makassar")
    )
    hook = WhatsAppWebhook(
        conversations, RequestValidator(AUTH_TOKEN), PUBLIC_URL, lambda: datetime.now(UTC), SenderLimit(count=1000)
    )
    async with ServedApp(Starlette(routes=hook.routes()), port):
        ready.set()
        await asyncio.Event().wait()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_a_conversation_continues_whichever_process_takes_each_message(db_url: str, engine: Engine) -> None:
    context = multiprocessing.get_context("spawn")
    ports = [free_port() for _ in range(PROCESSES)]
    events = [context.Event() for _ in ports]
    servers = [
        context.Process(target=_webhook_server, args=(db_url, port, event))
        for port, event in zip(ports, events, strict=True)
    ]
    for server in servers:
        server.start()
    try:
        assert all(event.wait(180) for event in events)  # three processes starting on a loaded machine
        clients = [httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") for port in ports]
        phones = [Phone(client) for client in clients]
        answers = ["/start", *(answer for _, answer in HAPPY_PATH), "1"]
        replies = []
        for number, body in enumerate(answers):  # round robin: no two messages in a row reach the same process
            phone = phones[number % PROCESSES]
            phone.count = number  # one sender, one message id sequence, whichever process gets it
            replies.append("\n".join(await phone.say(body)))
        for client in clients:
            await client.aclose()
    finally:
        for server in servers:
            server.terminate()
            server.join()
    assert "tersimpan" in replies[-1]  # the last step saved the registration begun in another process
    with Session(engine) as session:
        [member] = session.exec(select(Member)).all()
    assert member.full_name == dict(HAPPY_PATH)["name"]


async def _serving(client: httpx.AsyncClient, port: int) -> bool:
    try:
        return (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200
    except httpx.TransportError:  # not listening yet, or too slow to answer for now
        return False


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_three_sipakainge_run_processes_share_dispatch_and_updates(
    db_url: str, engine: Engine, telegram: FakeTelegram, tmp_path: Path
) -> None:
    """The real command, three times: webhook mode for Telegram against the Bot API stand-in. Due reminders go out
    once each, shared by whichever process claims them; one person's updates, round robin over the three, make one
    registration."""
    now = datetime.now(UTC)
    with Session(engine) as session:
        # Paid far ahead: the processes' own scan (they run one on start) adds nothing; the rows below are due now.
        ids = bulk_members(session, CIPHER, 300, covered_until=date(2030, 12, 31), encrypt=False)
        due = due_now(ids, now)
        session.execute(insert(Reminder), due)
        session.commit()
    ports = [free_port() for _ in range(PROCESSES)]
    env = run_env(
        db_url,
        telegram.base_url,
        tmp_path,
        TELEGRAM_WEBHOOK_URL="https://bot.example.org/telegram",
        TELEGRAM_WEBHOOK_SECRET="rahasia",
        SEND_WINDOW="00:00-23:59",
        QUIET_PERIODS="",
        DISPATCH_EVERY_SECONDS="0.5",
    )
    runs = [start(env | {"LISTEN_PORT": str(port)}, tmp_path) for port in ports]
    try:
        async with httpx.AsyncClient() as client:
            for run, port in zip(runs, ports, strict=True):  # each process up and serving its webhook
                up_by = time.monotonic() + 120  # a busy machine can take long to start three of them
                while not await _serving(client, port):
                    assert run.poll() is None, f"sipakainge run for port {port} exited with {run.returncode}"
                    assert time.monotonic() < up_by, f"sipakainge run for port {port} not serving after 120 s"
                    await asyncio.sleep(0.1)
            chat = 880_777
            answers = ["/start", *(answer for _, answer in HAPPY_PATH), "1"]
            # The same answers through the pure dialog say how many messages each one gets back (the phone number
            # gets two: saved, then the next question). The next answer goes only once all of them have arrived:
            # each process takes the chat's message after the previous one is answered, never alongside it.
            dialog = Chat(CONFIG, sulawesi_selatan(), now=now)
            expected = 0
            for number, text in enumerate(answers):
                update = text_update(number + 1, chat, text)
                port = ports[number % PROCESSES]
                response = await client.post(
                    f"http://127.0.0.1:{port}/telegram",
                    json=update,
                    headers={"X-Telegram-Bot-Api-Secret-Token": "rahasia"},
                )
                assert response.status_code == 200
                expected += len(dialog.send(text))
                assert len(await telegram.wait_for(chat, expected, seconds=30)) == expected, text
        deadline = time.monotonic() + 60
        chats = [str(10_000_000 + i) for i in range(300)]
        while time.monotonic() < deadline and not all(telegram.messages(int(c)) for c in chats):  # noqa: ASYNC110
            await asyncio.sleep(0.2)  # the processes' dispatch ticks; nothing to wait on in this process
    finally:
        for run in runs:
            run.send_signal(signal.SIGTERM)
        exits = [run.wait(timeout=30) for run in runs]  # all of them reaped, whatever failed above
    assert exits == [0] * PROCESSES  # each stopped cleanly on SIGTERM
    assert [len(telegram.messages(int(c))) for c in chats] == [1] * 300  # each reminder once, whoever sent it
    assert "tersimpan" in telegram.texts(chat)[-1]  # the registration finished across the three processes
    with Session(engine) as session:
        assert session.exec(select(Member).where(col(Member.full_name) == dict(HAPPY_PATH)["name"])).one()
        assert {r.status for r in session.exec(select(Reminder)).all()} == {"sent"}
