"""Why the dispatcher's writer groups commits: each send's result committed alone against commits of whatever has
finished while the previous commit ran (never a result held back behind unsent ones). A sender answering in 20 ms
(about the Bot API's round trip), 64 sends in flight, no rate limit: the database's pace is all that differs.

    python -m bench.outcomes [--reminders 3000] [--database-url URL ...]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from bench.reminders import fresh_database
from domain.delivery import SendResult, Sent, Target
from scheduler import dispatch
from scheduler.dispatch import Dispatcher
from storage.crypto import Cipher, new_encryption_key, new_lookup_key
from tests.scheduler.test_dispatch import MORNING, POLICY, prepare, render


class Answering:
    channel, per_second, per_chat_seconds = "telegram", 0.0, 0.0

    async def send(self, target: Target, message: str) -> SendResult:
        await asyncio.sleep(0.02)
        return Sent(provider_id="m")


class OneByOne(dispatch._Writer):
    """Each result in its own transaction, one after the other."""

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            taken, self._queue = self._queue, []
            for outcome, done in taken:
                await asyncio.to_thread(self._record, outcome)
                done.set_result(None)


def run(url: str, reminders: int, writer: type[dispatch._Writer]) -> tuple[float, int]:
    engine = fresh_database(url)
    prepare(engine, Cipher(encryption_keys=[new_encryption_key()], lookup_key=new_lookup_key()), reminders)
    commits = 0
    record = dispatch.Dispatcher._record

    def counted(self: Dispatcher[str], outcome: dispatch._Outcome) -> None:
        nonlocal commits
        commits += 1
        record(self, outcome)

    dispatch._Writer, original = writer, dispatch._Writer  # type: ignore[misc]
    dispatch.Dispatcher._record = counted  # type: ignore[method-assign,assignment]
    try:
        dispatcher = Dispatcher(
            engine=engine, senders={"telegram": Answering()}, render=render, policy=POLICY, worker="b"
        )
        started = time.perf_counter()
        stats = asyncio.run(dispatcher.drain(MORNING))
        elapsed = time.perf_counter() - started
    finally:
        dispatch._Writer = original  # type: ignore[misc]
        dispatch.Dispatcher._record = record  # type: ignore[method-assign]
    assert stats.sent == reminders
    engine.dispose()
    return reminders / elapsed, commits


def main() -> None:
    parser = argparse.ArgumentParser(description="Outcome commits: grouped or one by one")
    parser.add_argument("--reminders", type=int, default=3000)
    parser.add_argument("--database-url", action="append", default=[])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        urls = args.database_url or [
            f"sqlite:///{Path(folder) / '{}.db'}",  # a fresh file for each run
            "postgresql+psycopg://postgres@127.0.0.1:5432/sipakainge_bench",
        ]
        for url in urls:
            for name, writer in (("one by one", OneByOne), ("grouped", dispatch._Writer)):
                rate, commits = run(url.replace("{}", name.replace(" ", "_")), args.reminders, writer)
                print(f"{url.split(':')[0]:<22} {name:<11} {rate:8.0f} reminders/s  {commits:5d} commits")


if __name__ == "__main__":
    main()
