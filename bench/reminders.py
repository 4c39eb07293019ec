"""Reminder benchmarks: scan time at 1,000,000 members, end-to-end reminders per second, share of a rate limit.

    python -m bench.reminders scan --members 1000000 [--database-url URL]
    python -m bench.reminders rate --sends 3000 --limit 30

`scan` seeds synthetic members (covered-until dates spread over 14 month-ends, as a branch's list looks when most
pay a little late or ahead), then times the daily scan on a quiet day (no stage reached; only members changed since
yesterday are looked at) and on a stage day (H-7 of December reached by one cycle), then sends the stage day's
reminders through the real dispatcher and renderer to a zero-latency sender.

`rate` sends reminders to distinct chats through the real TelegramSender to a local Bot API stand-in that answers
429 once more than `--limit` messages arrive within any second, and prints the share of that rate achieved.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, create_engine, insert, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel

from bot.dialogs.core import Reply
from domain.delivery import SendResult, Sent, Target
from domain.policy import ReminderPolicy
from domain.rules import DEFAULT_STAGES, ContributionMonth, parse_stages
from domain.tariffs import default_tariffs
from scheduler.dispatch import Dispatcher
from scheduler.messages import ReminderRenderer
from storage.crypto import Cipher, new_encryption_key, new_lookup_key
from storage.db import make_engine, migrate
from storage.models import Address, Member, MemberAddress, ScanRun
from storage.scan import scan
from tests.outbox_fixtures import synthetic_fields

POLICY = ReminderPolicy(stages=parse_stages(DEFAULT_STAGES))
ZONES = {"73": ZoneInfo("Asia/Makassar")}
STAGE_DAY = date(2026, 12, 8)  # H-7 of December 2026
QUIET_DAY = date(2026, 12, 9)
T0 = datetime(2026, 11, 1, tzinfo=UTC)
CHUNK = 20_000


def month_ends() -> list[date]:
    first = ContributionMonth(2025, 11)
    return [first.plus(i).last_day for i in range(14)]  # 30 Nov 2025 … 31 Dec 2026


def seed(engine: Engine, cipher: Cipher, members: int) -> float:
    """Insert synthetic members, one chat each. NIKs are one shared ciphertext: the scan never reads them."""
    started = time.perf_counter()
    ends = month_ends()
    sample = cipher.encrypt("7312060101809000")
    with engine.begin() as connection:
        for offset in range(0, members, CHUNK):
            ids = range(offset + 1, min(members, offset + CHUNK) + 1)
            connection.execute(
                insert(Address),
                [
                    {"id": i, "channel": "telegram", "external_id": str(i), "status": "active", "created_at": T0}
                    for i in ids
                ],
            )
            connection.execute(insert(Member), [_member(i, ends[i % len(ends)], sample) for i in ids])
            connection.execute(
                insert(MemberAddress),
                [{"member_id": i, "address_id": i, "created_at": T0, "proof": "staff"} for i in ids],
            )
        if engine.dialect.name == "postgresql":
            for table in ("address", "member"):
                connection.execute(text(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))"))  # noqa: S608 (fixed names)
    if engine.dialect.name == "postgresql":
        # As after a branch's bulk import: without it the first scan also pays for setting hint bits on a million rows.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    return time.perf_counter() - started


def _member(i: int, covered_until: date, nik: str) -> dict[str, object]:
    return synthetic_fields(
        i, covered_until, id=i, nik_encrypted=nik, nik_hash=f"{i:064d}", period_months=3, created_at=T0, updated_at=T0
    )


def timed_scan(engine: Engine, day: date) -> tuple[float, int]:
    now = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=1)
    started = time.perf_counter()
    with Session(engine) as session:
        result = scan(session=session, today=day, policy=POLICY, zones=ZONES, now=now)
        session.commit()
    return time.perf_counter() - started, result.created


class NullSender:
    channel = "telegram"
    per_second = 0.0
    per_chat_seconds = 0.0

    async def send(self, target: Target, message: Reply) -> SendResult:
        return Sent(provider_id=target.external_id)


def fresh_database(url: str) -> Engine:
    """The benchmark's own database, created if missing and emptied if not."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            exists = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database}
            ).first()
            if exists is None:
                connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
        admin.dispose()
    engine = make_engine(url)
    migrate(engine)
    if engine.dialect.name == "postgresql":
        tables = ", ".join(t.name for t in SQLModel.metadata.sorted_tables)
        with engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    return engine


def bench_scan(members: int, url: str) -> None:
    engine = fresh_database(url)
    cipher = Cipher(encryption_keys=[new_encryption_key()], lookup_key=new_lookup_key())
    seconds = seed(engine, cipher, members)
    print(f"database                {engine.dialect.name}")
    print(f"members                 {members:,} (seeded in {seconds:.0f} s, then VACUUM ANALYZE on PostgreSQL)")
    with Session(engine) as session:  # yesterday's scan has run
        session.add(ScanRun(day=STAGE_DAY - timedelta(days=1), ran_at=T0 + timedelta(days=1)))
        session.commit()
    stage_seconds, created = timed_scan(engine, STAGE_DAY)
    print(f"scan, stage day         {stage_seconds:.2f} s, {created:,} reminders created (H-7 of one cycle)")
    again, none = timed_scan(engine, STAGE_DAY)
    print(f"scan, same day again    {again:.2f} s, {none} created")
    quiet, quiet_created = timed_scan(engine, QUIET_DAY)
    print(f"scan, quiet day         {quiet:.2f} s, {quiet_created} created")

    renderer = ReminderRenderer(cipher, default_tariffs(), POLICY, "BRILink, Alfamart", "penyuluh desa")
    dispatcher = Dispatcher(
        engine=engine,
        senders={"telegram": NullSender()},
        render=renderer,
        policy=POLICY,
        worker="bench",
        batch_size=2000,
    )
    morning = datetime(2026, 12, 8, 1, 0, tzinfo=UTC)
    started = time.perf_counter()
    stats = asyncio.run(dispatcher.drain(morning))
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(
        f"dispatch end to end     {stats.sent:,} reminders in {elapsed:.1f} s = {stats.sent / elapsed:,.0f} reminders/s"
    )
    print(f"peak memory (process)   {peak / 2**20:.0f} MiB")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description="Reminder benchmarks")
    sub = parser.add_subparsers(dest="part", required=True)
    scan_args = sub.add_parser("scan")
    scan_args.add_argument("--members", type=int, default=1_000_000)
    scan_args.add_argument("--database-url", default="")
    rate_args = sub.add_parser("rate")
    rate_args.add_argument("--sends", type=int, default=3000)
    rate_args.add_argument("--limit", type=float, default=30.0)
    rate_args.add_argument("--channel", choices=["telegram", "whatsapp"], default="telegram")
    args = parser.parse_args()
    if args.part == "scan":
        if args.database_url:
            bench_scan(args.members, args.database_url)
        else:
            with tempfile.TemporaryDirectory() as folder:
                bench_scan(args.members, f"sqlite:///{Path(folder) / 'bench.db'}")
    else:
        from bench.rate import bench_rate

        asyncio.run(bench_rate(args.sends, args.limit, args.channel))


if __name__ == "__main__":
    main()
