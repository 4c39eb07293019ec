"""`sipakainge run` as a real process: both channels wired on one event loop, answering, and stopping on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path
from urllib.parse import urlencode

import httpx
from twilio.request_validator import RequestValidator

from tests.fake_telegram import TOKEN, FakeTelegram, Served, fake_app, free_port
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM, FakeTwilio

PUBLIC_URL = "https://sipakainge.example.org"


async def test_run_serves_telegram_and_whatsapp_until_sigterm(tmp_path: Path) -> None:
    telegram, twilio = FakeTelegram(port=free_port()), FakeTwilio(port=free_port())
    port = free_port()
    env = _env(tmp_path, telegram, twilio, port)
    async with Served(fake_app(telegram), telegram.port), Served(twilio.app(), twilio.port):
        process = await _start(env, tmp_path)
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                await _until_healthy(client, process)
                telegram.text(4242, "/start")
                assert "Apakah Bapak/Ibu setuju?" in (await telegram.wait_for(4242, 1, seconds=60))[0]

                params = {"MessageSid": "SMrun0001", "From": "whatsapp:+6281200004321", "To": FROM, "Body": "halo"}
                signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + "/twilio/whatsapp", params)
                answer = await client.post(
                    "/twilio/whatsapp",
                    content=urlencode(params),
                    headers={"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"},
                )
                assert answer.status_code == 200
                assert "1. Daftar" in re.sub(r"&\w+;", "", answer.text)
        finally:
            process.send_signal(signal.SIGTERM)
            output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, output.decode()[-2000:]
    assert b"Traceback" not in output


async def test_sigterm_during_start_up_exits_cleanly(tmp_path: Path) -> None:
    """SIGTERM while the database is being migrated (what `systemctl stop` during a slow start sends): the signal
    handlers are installed before anything else is done, so the process stops cleanly, status 0, not by the signal.
    The signal goes once the database file exists: nothing is assumed about how long anything takes."""
    telegram, twilio = FakeTelegram(port=free_port()), FakeTwilio(port=free_port())
    env = _env(tmp_path, telegram, twilio, free_port())
    async with Served(fake_app(telegram), telegram.port), Served(twilio.app(), twilio.port):
        process = await _start(env, tmp_path)
        try:
            for _ in range(12_000):  # 120 s at most: a loaded machine starts Python slowly
                if (tmp_path / "run.db").exists() or process.returncode is not None:
                    break
                await asyncio.sleep(0.01)
            assert (tmp_path / "run.db").exists()
        finally:
            process.send_signal(signal.SIGTERM)
            output, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, output.decode()[-2000:]
    assert b"Traceback" not in output, output.decode()


def _env(tmp_path: Path, telegram: FakeTelegram, twilio: FakeTwilio, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}",
        "DEV_SECRETS_FILE": str(tmp_path / "keys.json"),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": telegram.base_url,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_WHATSAPP_FROM": FROM,
        "TWILIO_PUBLIC_URL": PUBLIC_URL,
        "TWILIO_API_BASE_URL": twilio.base_url,
        "LISTEN_PORT": str(port),
    }


async def _start(env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def _until_healthy(client: httpx.AsyncClient, process: asyncio.subprocess.Process) -> None:
    """Until /healthz answers 200 (120 s at most, the process still running): a failed start fails here, clearly."""
    for _ in range(1200):
        assert process.returncode is None, "sipakainge run stopped during start-up"
        try:
            if (await client.get("/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError("sipakainge run did not answer /healthz within 120 s")
