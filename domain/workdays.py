"""Working days, pure: Sundays and the national holidays and cuti bersama a deployment is given.

The dates themselves are data from outside the core: the `holidays` package's Indonesia calendar (public holidays and
the government's joint leave days, "cuti bersama", set each year by the SKB of the Minister of Religious Affairs, the
Minister of Manpower and the Minister of State Apparatus) plus the deployment's `EXTRA_HOLIDAYS`, built in
`bot/settings.py`. The core only receives the set, so its rules stay deterministic and testable with any calendar.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

SUNDAY = 6  # offices, banks' counters and BPJS branches are closed on Sundays; Saturday counts as a working day


@dataclass(frozen=True, slots=True)
class WorkCalendar:
    """The days no payment can be expected: every Sunday and the given holidays."""

    holidays: frozenset[date] = frozenset()

    def is_working(self, day: date) -> bool:
        return day.weekday() != SUNDAY and day not in self.holidays

    def deadline(self, due: date) -> date:
        """The effective deadline of a payment due on `due`: that day, or the next working day after it."""
        day = due
        while not self.is_working(day):
            day += timedelta(days=1)
        return day
