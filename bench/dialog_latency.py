"""Dialog step latency, in process: N simulated users register at once through the real service and database.

Each user's messages are interleaved with everyone else's (round robin), as on a busy morning. Prints p50/p95/p99
of one step (load state, decrypt, step, apply effects, encrypt, save, commit).

    python -m bench.dialog_latency [--users 1000] [--database-url postgresql+psycopg://postgres@127.0.0.1/test]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import text

from bot.dialogs.core import DialogConfig, Incoming
from domain.regions import sulawesi_selatan
from service.conversations import Conversations
from storage.crypto import Cipher, new_encryption_key, new_lookup_key
from storage.db import make_engine, migrate

ANSWERS = (
    "/start",
    "Setuju",
    "La Baco",
    None,  # the user's own fake NIK
    "081200001234",
    "Peserta sendiri",
    "Donri-Donri",
    "Pesse",
    "Petani",
    "Sudah jadi peserta",
    "Lewati",
    "10/2026",
    "Sendiri",
    "1",  # the declared income: the minimum
    "Tidak, JKK + JKM saja",
    "3",
    "Benar, simpan",
    "Selesai",
    "/status",
)


def fake_nik(index: int) -> str:
    """Distinct synthetic NIKs (serial 9xxx, birth dates spread over 1960–1999)."""
    day, month, year = index % 28 + 1, index // 28 % 12 + 1, 60 + index // 336 % 40
    return f"731206{day:02d}{month:02d}{year:02d}9{index % 1000:03d}"


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run(users: int, database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("TRUNCATE member, address, conversation, consentrecord, auditentry CASCADE"))
    conversations = Conversations(
        engine=engine,
        cipher=Cipher(encryption_keys=[new_encryption_key()], lookup_key=new_lookup_key()),
        regions=sulawesi_selatan(),
        config=DialogConfig(service_area=("73.12", "73.14"), data_holder="bench", consent_version="bench"),
        zone=ZoneInfo("Asia/Makassar"),
    )
    now = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    latencies: list[float] = []
    started = time.perf_counter()
    for step, answer in enumerate(ANSWERS):
        for user in range(users):
            said = answer if answer is not None else fake_nik(user)
            begin = time.perf_counter()
            replies = conversations.handle("telegram", f"bench-{user}", Incoming.from_text(said), now)
            latencies.append(time.perf_counter() - begin)
            assert replies, f"no reply at step {step}"
        now += timedelta(seconds=30)
    elapsed = time.perf_counter() - started
    with engine.connect() as connection:
        saved = connection.execute(text("SELECT count(*) FROM member")).scalar_one()
    engine.dispose()
    assert saved == users, f"{saved} of {users} registrations saved"
    print(f"database            {engine.dialect.name}")
    print(f"users               {users} (all registered: {saved})")
    print(f"steps               {len(latencies)} in {elapsed:.1f} s = {len(latencies) / elapsed:.0f} steps/s")
    print(f"step latency p50    {percentile(latencies, 0.50) * 1000:.2f} ms")
    print(f"step latency p95    {percentile(latencies, 0.95) * 1000:.2f} ms")
    print(f"step latency p99    {percentile(latencies, 0.99) * 1000:.2f} ms")
    print(f"step latency mean   {statistics.fmean(latencies) * 1000:.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    if args.database_url:
        run(args.users, args.database_url)
        return
    with tempfile.TemporaryDirectory() as folder:
        run(args.users, f"sqlite:///{Path(folder) / 'bench.db'}")


if __name__ == "__main__":
    main()
