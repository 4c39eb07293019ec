"""APScheduler wiring: a few fixed jobs, never one per member (the database is the schedule).

- scan: daily at a configurable local time, and once at start-up so a restart after downtime catches up at once;
- dispatch: every few seconds, in every process (PostgreSQL's SKIP LOCKED shares the work);
- lapses: daily, marks memberships that became non-active;
- digests and statements (`add_daily`): the officers' morning lists, and the offices' monthly statements (each claimed
  once per officer and day, or per office and month, so every process may run them).
What each job does to the database is in `service.daily` (scan, lapses, snapshot, purge) and `service.dispatch`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, time
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger


def build_scheduler(
    *,
    zone: ZoneInfo,
    scan_at: time,
    dispatch_every: float,
    on_scan: Callable[[], Awaitable[None]],
    on_dispatch: Callable[[], Awaitable[None]],
    on_lapses: Callable[[], Awaitable[None]],
    now: datetime,
) -> AsyncIOScheduler:
    """The fixed jobs; misfires (the machine was asleep) coalesce into one run, never a burst."""
    scheduler = AsyncIOScheduler(
        timezone=zone, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 6 * 3600}
    )
    daily = CronTrigger(hour=scan_at.hour, minute=scan_at.minute, timezone=zone)
    scheduler.add_job(on_scan, daily, id="scan", next_run_time=now)
    scheduler.add_job(on_lapses, daily, id="lapses", next_run_time=now)
    scheduler.add_job(on_dispatch, IntervalTrigger(seconds=dispatch_every), id="dispatch")
    return scheduler


def add_daily(
    scheduler: AsyncIOScheduler, job_id: str, *, at: time, zone: ZoneInfo, run: Callable[[], Awaitable[None]]
) -> None:
    """A job once a day at a local time (the officers' digests, the offices' statements)."""
    scheduler.add_job(run, CronTrigger(hour=at.hour, minute=at.minute, timezone=zone), id=job_id)
