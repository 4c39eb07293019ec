"""Officers' morning digests: time and peak memory to build every officer's list.

    python -m bench.digests --members 100000 --officers 100 [--database-url URL]

A province: members are seeded as in `bench.reminders` (covered-until dates over 14 month-ends) and spread over the
desa of South Sulawesi; one chat in thirteen is unreachable, one member in three wrote back after their reminder,
and every member with an open cycle was reminded once (one in twenty failed). Each officer covers three desa of their
own (1,000 officers: 3,000 desa). The daily digests then run through the real path (`bot.digest.send_digests`: the
unreached definition decided once for everyone and the listing clock kept, then per officer a claim, the first page
with masked NIKs, the whole list as an XLSX file, audit) to a sender that only counts what it is given: for the
first day (everyone new on the listing clock, every officer's conversation created) and for the day after.
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

from sqlalchemy import Engine, insert, text, update
from sqlmodel import Session, col, select

from bench.reminders import fresh_database, seed
from bot.dialogs.core import DialogConfig, Reply
from domain.delivery import Sent, Target
from domain.policy import cycle_key
from domain.regions import sulawesi_selatan
from domain.rules import ContributionMonth, open_cycles
from scheduler.digest import send_digests
from service.conversations import Conversations
from storage.crypto import Cipher, new_encryption_key, new_lookup_key
from storage.models import Address, Member, Reminder
from storage.officers import bind_officer, create_officer

TODAY = date(2026, 12, 22)
NOW = datetime(2026, 12, 22, 0, 0, tzinfo=UTC)
ANSWERED = datetime(2026, 12, 20, 3, 0, tzinfo=UTC)


def remind_everyone_due(engine: Engine) -> int:
    """Every member with an open cycle was reminded for their first unpaid month: delivered, one in twenty failed."""
    earliest, latest = open_cycles(TODAY)
    with engine.begin() as connection:
        due = connection.execute(
            select(col(Member.id), col(Member.covered_until)).where(
                col(Member.covered_until).between(earliest.plus(-1).last_day, latest.plus(-1).last_day)
            )
        ).all()
        for start in range(0, len(due), 20_000):
            rows = []
            for member_id, covered_until in due[start : start + 20_000]:
                month = ContributionMonth.of(covered_until or TODAY).plus(1)
                sent = datetime.combine(month.due_date(15) - timedelta(days=7), datetime.min.time(), tzinfo=UTC)
                status = "failed" if (member_id or 0) % 20 == 0 else "delivered"
                rows.append(
                    {
                        "member_id": member_id,
                        "cycle": cycle_key(month),
                        "stage": "H-7",
                        "stage_rank": 0,
                        "status": status,
                        "send_after": sent,
                        "expires_at": sent,
                        "zone": "Asia/Makassar",
                        "created_at": sent,
                        "sent_at": sent,
                    }
                )
            connection.execute(insert(Reminder), rows)
    return len(due)


def spread_over_province(engine: Engine) -> list[str]:
    """Spread the seeded members over 3,053 desa of South Sulawesi (coprime with the 14 month-ends and the 13 and 3
    below, so every desa gets its share of each); one chat in thirteen unreachable, one member in three wrote back
    after their reminder. Returns the desa codes."""
    regions = sulawesi_selatan()
    kabupaten = [k.code for k in regions.children("73")]
    villages = [d.code for k in regions.kecamatan_in(kabupaten) for d in regions.children(k.code)][:3053]
    with engine.begin() as connection:
        connection.execute(text("CREATE TEMPORARY TABLE bench_desa (idx INTEGER PRIMARY KEY, desa TEXT, kec TEXT)"))
        connection.execute(
            text("INSERT INTO bench_desa VALUES (:idx, :desa, :kec)"),
            [{"idx": i, "desa": code, "kec": code.rsplit(".", 1)[0]} for i, code in enumerate(villages)],
        )
        pick = f"FROM bench_desa WHERE idx = member.id % {len(villages)}"
        spread = f"UPDATE member SET desa_code = (SELECT desa {pick}), kecamatan_code = (SELECT kec {pick})"  # noqa: S608 (no input)
        connection.execute(text(spread))
        connection.execute(update(Address).where(text("address.id % 13 = 0")).values(status="unreachable"))
        connection.execute(update(Address).where(text("address.id % 3 = 0")).values(last_inbound_at=ANSWERED))
    return villages


def run(members: int, officers: int, url: str) -> None:
    engine = fresh_database(url)
    cipher = Cipher(encryption_keys=[new_encryption_key()], lookup_key=new_lookup_key())
    seconds = seed(engine, cipher, members)
    regions = sulawesi_selatan()
    villages = spread_over_province(engine)
    reminders = remind_everyone_due(engine)
    if engine.dialect.name == "postgresql":
        # As every morning finds it: statistics current (autovacuum after such mass updates) and the seeding's
        # gigabyte of dirty pages written out, not still being flushed while the digests are timed.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
            connection.execute(text("CHECKPOINT"))
    with Session(engine) as session:
        for number in range(officers):
            area = [villages[(3 * number + k) % len(villages)] for k in range(3)]
            officer = create_officer(session=session, name=f"Penyuluh {number}", phone=None, codes=area, now=NOW)
            address = Address(channel="console", external_id=f"officer-{number}", created_at=NOW)
            session.add(address)
            session.flush()
            code, since = officer.invite_code or "", NOW - timedelta(days=1)
            bind_officer(session=session, code=code, address_id=address.id or 0, issued_after=since)
        session.commit()
    conversations = Conversations(
        engine=engine,
        cipher=cipher,
        regions=regions,
        config=DialogConfig(service_area=("73",), data_holder="bench", consent_version="bench"),
        zone=ZoneInfo("Asia/Makassar"),
    )
    # The first day puts everyone on the listing clock and creates every officer's conversation; any later day
    # finds them there. Both are timed: the first is the heavier.
    timings = []
    seeded_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # the peak so far is the seeding's
    for day in (0, 1):
        started = time.perf_counter()
        stats = asyncio.run(
            send_digests(
                conversations=conversations,
                senders={"console": _Counting()},
                today=TODAY + timedelta(days=day),
                now=NOW + timedelta(days=day),
            )
        )
        timings.append((time.perf_counter() - started, stats.sent))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    with engine.connect() as connection:
        total = connection.execute(text("SELECT count(*) FROM member")).scalar_one()
        unreachable = connection.execute(text("SELECT count(*) FROM address WHERE status = 'unreachable'")).scalar_one()
    engine.dispose()
    print(f"database                {engine.dialect.name}")
    print(f"members                 {total:,} (seeded in {seconds:.0f} s; {unreachable:,} chats unreachable)")
    print(f"reminders               {reminders:,} (each member with an open cycle reminded once; 1 in 20 failed)")
    print(f"officers                {officers:,} (three desa each, of {len(villages):,} desa)")
    for label, (elapsed, sent) in zip(("first day", "next day"), timings, strict=True):
        each = elapsed / max(officers, 1) * 1000
        print(f"digests, {label:<14} {officers:,} in {elapsed:.1f} s = {each:.1f} ms each ({sent:,} sent)")
    print(f"peak memory (process)   {peak / 2**20:.0f} MiB (seeding alone: {seeded_peak / 2**20:.0f} MiB)")


class _Counting:
    channel = "console"
    per_second = 0.0
    per_chat_seconds = 0.0

    async def send(self, target: Target, message: Reply) -> Sent:
        return Sent()


def main() -> None:
    parser = argparse.ArgumentParser(description="Officers' digest benchmark")
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--officers", type=int, default=100)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    if args.database_url:
        run(args.members, args.officers, args.database_url)
        return
    with tempfile.TemporaryDirectory() as folder:
        run(args.members, args.officers, f"sqlite:///{Path(folder) / 'digests.db'}")


if __name__ == "__main__":
    main()
