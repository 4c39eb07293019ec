"""The daily work on the whole membership, each in one transaction: the scan that creates the day's reminders, the
lapse marks, the statistics snapshot, the retention purge.

On PostgreSQL the scan and the lapse marks take a transaction-scoped advisory lock: with several processes, one leads
and the others skip (both are idempotent anyway; the lock only saves duplicated work).
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session

from domain.policy import ReminderPolicy
from domain.rules import ContributionMonth
from service.stats import take_snapshot
from storage import members
from storage.db import LAPSE_LOCK, SCAN_LOCK, try_lead
from storage.retention import Purged, purge
from storage.scan import ScanResult, scan

log = logging.getLogger(__name__)


def scan_once(
    *, engine: Engine, policy: ReminderPolicy, zones: dict[str, ZoneInfo], today: date, now: datetime
) -> ScanResult | None:
    """One scan in one transaction; None when another process holds the lead."""
    with Session(engine) as session:
        if not try_lead(session, SCAN_LOCK):
            return None
        result = scan(session=session, today=today, policy=policy, zones=zones, now=now)
        session.commit()
    log.info("scan %s: %s created, %s skipped", result.day, result.created, result.skipped)
    return result


def mark_lapses(*, engine: Engine, policy: ReminderPolicy, today: date) -> int | None:
    """Mark members non-active once their first unpaid month's lapse date has come; clear it when they pay."""
    month = ContributionMonth.of(today).plus(1)
    while policy.lapse_date(month) > today:
        month = month.plus(-1)
    # Members whose first unpaid month is `month` or earlier have lapsed: covered until before `month` began.
    cutoff = month.plus(-1).last_day
    with Session(engine) as session:
        if not try_lead(session, LAPSE_LOCK):
            return None
        lapsed = members.mark_lapsed(session=session, covered_until_at_most=cutoff, today=today)
        session.commit()
    return lapsed


def snapshot(*, engine: Engine, policy: ReminderPolicy, today: date) -> int:
    """Today's numbers per kecamatan, kept for the trend (any process may do it: a second run replaces them)."""
    with Session(engine) as session:
        count = take_snapshot(session=session, today=today, policy=policy)
        session.commit()
    return count


def purge_old(*, engine: Engine, now: datetime, keep_days: int) -> Purged:
    """The retention rule, once a day (any process: a second run finds nothing left to remove)."""
    with Session(engine) as session:
        done = purge(session=session, now=now, keep=timedelta(days=keep_days))
        session.commit()
    return done
