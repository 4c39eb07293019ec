"""How a deployment reminds: its stages, due day, lapse, send window and quiet periods; contribution months as keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from domain.rules import ContributionMonth, QuietPeriod, Stage


@dataclass(frozen=True, slots=True)
class ReminderPolicy:
    stages: tuple[Stage, ...]
    due_day: int = 15
    lapse_after: int = 3
    window_start: time = time(8, 0)
    window_end: time = time(20, 0)
    quiet: tuple[QuietPeriod, ...] = ()


def cycle_key(month: ContributionMonth) -> int:
    return month.year * 100 + month.month


def month_of(cycle: int) -> ContributionMonth:
    return ContributionMonth(cycle // 100, cycle % 100)


def local_moment(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)
