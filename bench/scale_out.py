"""Three processes on one PostgreSQL share the scan and the dispatch of 10,000 reminders (as `sipakainge run` x 3):
throughput, and proof of no duplicates and no losses.

    python -m bench.scale_out [--members 10000] [--processes 3] [--database-url URL]
"""

from __future__ import annotations

import argparse
import multiprocessing
import tempfile
import time
from datetime import date
from pathlib import Path

from sqlmodel import Session

from bench.reminders import fresh_database
from storage.crypto import Cipher, new_encryption_key, new_lookup_key
from tests.outbox_fixtures import bulk_members
from tests.system.test_scale_out import _process


def main() -> None:
    parser = argparse.ArgumentParser(description="Scale-out benchmark")
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/sipakainge_bench")
    args = parser.parse_args()
    engine = fresh_database(args.database_url)
    cipher = Cipher(encryption_keys=[new_encryption_key()], lookup_key=new_lookup_key())
    with Session(engine) as session:
        bulk_members(session, cipher, args.members, covered_until=date(2026, 11, 30), encrypt=False)
        session.commit()
    context = multiprocessing.get_context("spawn")
    ready, results = context.Barrier(args.processes), context.Queue()
    with tempfile.TemporaryDirectory() as folder:
        journals = [Path(folder) / f"p{i}.txt" for i in range(args.processes)]
        processes = [
            context.Process(target=_process, args=(args.database_url, f"p{i}", str(journals[i]), ready, results))
            for i in range(args.processes)
        ]
        started = time.perf_counter()
        for process in processes:
            process.start()
        for process in processes:
            process.join()
        reports = [results.get(timeout=5) for _ in processes]
        elapsed = max(seconds for _, _, _, seconds in reports)
        sent = [int(i) for j in journals if j.exists() for line in j.read_text().splitlines() for i in line.split(",")]
    print(
        f"processes          {args.processes} on {engine.dialect.name} (wall {time.perf_counter() - started:.1f} s "
        f"with start-up)"
    )
    print(
        f"reminders          {args.members:,}: sent {len(sent):,}, distinct {len(set(sent)):,}, "
        f"duplicates {len(sent) - len(set(sent))}, lost {args.members - len(set(sent))}"
    )
    for name, created, count, seconds in sorted(reports):
        role = f"led the scan ({created:,} created)" if created else "scan lead taken"
        print(f"  {name}: {role}; sent {count:,} in {seconds:.1f} s")
    print(f"throughput         {args.members / elapsed:,.0f} reminders/s (scan + dispatch, all processes together)")
    engine.dispose()


if __name__ == "__main__":
    main()
