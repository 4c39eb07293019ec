"""Three processes on one PostgreSQL, none of them special: each runs the daily scan and the dispatch as
`sipakainge run` does. One of them leads the scan (the others find the lead taken); all three share the dispatch;
10,000 reminders arrive exactly once each."""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from scheduler.dispatch import Dispatcher
from scheduler.jobs import scan_once
from storage.crypto import Cipher
from storage.db import make_engine
from storage.models import Reminder
from tests.outbox_fixtures import bulk_members
from tests.test_dispatch import MORNING, POLICY, ZONES, render, statuses
from tests.test_faults import Journal

MEMBERS = 10_000
PROCESSES = 3


def _process(url: str, name: str, journal: str, ready: Any, results: Any) -> None:
    """One `sipakainge run`, as far as the scheduled jobs go: the scan at its hour, then dispatch until done."""
    engine = make_engine(url)
    ready.wait(timeout=120)  # all start the same moment, as after a deployment
    started = time.perf_counter()
    scanned = scan_once(engine=engine, policy=POLICY, zones=ZONES, today=date(2026, 12, 8), now=MORNING)
    time.sleep(0.5)  # the next dispatch tick: the leader's scan is committed by then
    dispatcher: Dispatcher[str] = Dispatcher(engine=engine, senders={"telegram": Journal(journal, 0.0)},
                                             render=render, policy=POLICY, worker=name)  # fmt: skip
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
    processes = [context.Process(target=_process, args=(db_url, f"p{i}", str(journals[i]), ready, results))
                 for i in range(PROCESSES)]  # fmt: skip
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
    assert all(count > 0 for _, _, count, _ in reports)  # all three took part in the dispatch
    assert statuses(engine) == {"sent": MEMBERS}
    with Session(engine) as session:
        assert len(session.exec(select(Reminder.id).where(col(Reminder.stage) == "H-7")).all()) == MEMBERS
