"""Contribution calendar rules, pure: which month is owed next, when it is due, and how far behind a member is."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from domain.workdays import WorkCalendar

SUNDAYS_ONLY = WorkCalendar()


@dataclass(frozen=True, order=True, slots=True)
class ContributionMonth:
    year: int
    month: int

    @classmethod
    def of(cls, day: date) -> ContributionMonth:
        return cls(day.year, day.month)

    def plus(self, months: int) -> ContributionMonth:
        index = self.year * 12 + (self.month - 1) + months
        return ContributionMonth(index // 12, index % 12 + 1)

    def minus(self, other: ContributionMonth) -> int:
        """Whole months from `other` to `self`."""
        return (self.year - other.year) * 12 + (self.month - other.month)

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def due_date(self, due_day: int = 15) -> date:
        """The contribution for a month is due on `due_day` of that month (clamped to the month's length)."""
        return date(self.year, self.month, min(due_day, calendar.monthrange(self.year, self.month)[1]))

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


class Standing(StrEnum):
    ACTIVE = "active"
    ARREARS = "arrears"
    LAPSED = "lapsed"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Coverage:
    standing: Standing
    next_month: ContributionMonth | None
    due: date | None
    months_unpaid: int


def coverage(
    covered_until: date | None,
    today: date,
    *,
    due_day: int = 15,
    lapse_after: int = 3,
    workdays: WorkCalendar = SUNDAYS_ONLY,
) -> Coverage:
    """Where a member stands today: the first unpaid month, its due date, and unpaid months already due.

    A month counts as unpaid once its effective deadline (`deadline`) has passed; after `lapse_after` such months in
    a row the membership is non-active (nonaktif). `due` stays the month's own due date: the advice is the 15th.
    """
    if covered_until is None:
        return Coverage(Standing.UNKNOWN, None, None, 0)
    next_month = ContributionMonth.of(covered_until).plus(1)
    unpaid = 0
    month = next_month
    while deadline(month, due_day, workdays) < today:
        unpaid += 1
        month = month.plus(1)
    if unpaid >= lapse_after:
        standing = Standing.LAPSED
    elif unpaid > 0:
        standing = Standing.ARREARS
    else:
        standing = Standing.ACTIVE
    return Coverage(standing, next_month, next_month.due_date(due_day), unpaid)


# --- deadlines: the one a message names ---


def deadline(month: ContributionMonth, due_day: int = 15, workdays: WorkCalendar = SUNDAYS_ONLY) -> date:
    """The effective deadline of `month`'s contribution: its due date, or when that is a Sunday or a holiday, the
    next working day. Lapses count from it; the advice to members stays the due date itself."""
    return workdays.deadline(month.due_date(due_day))


def lapse_date(
    month: ContributionMonth, due_day: int = 15, lapse_after: int = 3, *, workdays: WorkCalendar = SUNDAYS_ONLY
) -> date:
    """The first day the membership is non-active when `month` and the next ones stay unpaid: the day after the
    effective deadline of the `lapse_after`-th unpaid month (after 3 unpaid months, DESIGN.md §2 from BPJS
    Ketenagakerjaan's BPU rules; a 15th on a Sunday or holiday moves to the next working day)."""
    return deadline(last_month(month, lapse_after), due_day, workdays) + timedelta(days=1)


def last_month(first_unpaid: ContributionMonth, lapse_after: int = 3) -> ContributionMonth:
    """The last month whose deadline still saves the membership when `first_unpaid` and the next stay unpaid."""
    return first_unpaid.plus(lapse_after - 1)


def stated_deadline(
    month: ContributionMonth, today: date, due_day: int = 15, workdays: WorkCalendar = SUNDAYS_ONLY
) -> date:
    """The date a message names for `month`'s contribution: the due date (the 15th: the advice), and only once that
    has passed, the effective deadline (the working day after a Sunday or holiday 15th) — never a day gone by."""
    due = month.due_date(due_day)
    return due if today <= due else deadline(month, due_day, workdays)


def next_deadline(
    first_unpaid: ContributionMonth,
    today: date,
    *,
    due_day: int = 15,
    lapse_after: int = 3,
    workdays: WorkCalendar = SUNDAYS_ONLY,
) -> date:
    """The deadline that still matters: the first unpaid month's own until it has passed; after it, the last
    month's, the last day a payment keeps the membership active (stated as that month's 15th)."""
    if today <= deadline(first_unpaid, due_day, workdays):
        return stated_deadline(first_unpaid, today, due_day, workdays)
    return stated_deadline(last_month(first_unpaid, lapse_after), today, due_day, workdays)


# --- reminder stages ---

# Five moments, so that no calendar month holds more than four reminders for anyone (the default cap, `per_month`):
# a week before the 15th, the day before it, a week after it while unpaid; for a member in arrears, the next months'
# own H-7/H-1/H+7 with the arrears in the same message; on the last day a payment saves the membership (L-1) and on
# the lapse day (L0). The last month thus holds H-7, H-1, L-1 and L0: four, even when its 15th is a Sunday.
DEFAULT_STAGES = "H-7,H-1,H+7,L-1,L0"
LAST_DAY = "L-1"  # always in the schedule, listed or not: the last day a payment keeps the membership active
_STAGE = re.compile(r"^([HL])(0|[+-]\d{1,3})?$")
_CODE = re.compile(r"^([HL])(0|[+-]\d{1,3})?(?:@(\d))?$")
_EARLIEST = -27  # an H stage earlier than this would fall before the previous month's due date


class StageKind(StrEnum):
    """What a stage's message is about, which decides its deadline words."""

    DUE = "due"  # before or on a month's due date: that month's 15th (with any arrears beside it)
    OVERDUE = "overdue"  # after a due date: what is owed, by the last day a payment keeps the membership active
    LAST_DAY = "last_day"  # that last day itself (L-1)
    LAPSED = "lapsed"  # the lapse day and after: guidance, and no payment asked against a past date


@dataclass(frozen=True, slots=True)
class Stage:
    """A reminder moment: `H-7` is seven days before the due date, `L-14` fourteen days before the lapse date.

    A member in arrears also gets the next months' H stages, in the same run of unpaid months (the same cycle):
    `H-7@2` is seven days before the due date of the cycle's second month. `month` is that index, from 0.
    """

    code: str
    anchor: str  # "H" due date, "L" lapse date
    offset: int
    month: int = 0

    @property
    def kind(self) -> StageKind:
        if self.anchor == "H":
            return StageKind.DUE if self.offset <= 0 else StageKind.OVERDUE
        if self.offset >= 0:
            return StageKind.LAPSED
        return StageKind.LAST_DAY if self.offset == -1 else StageKind.OVERDUE

    @property
    def order(self) -> tuple[bool, int, int]:
        """Where the stage falls in any cycle, for listing codes: the H stages month by month, then the L stages."""
        return (self.anchor == "L", self.month, self.offset)

    @property
    def priority(self) -> bool:
        """The last-day reminder and the lapse notice go out whatever the monthly cap."""
        return self.anchor == "L" and self.offset in {-1, 0}

    def about(self, first_unpaid: ContributionMonth, lapse_after: int = 3) -> ContributionMonth:
        """The month whose due date this stage is counted from (an L stage: the last month before the lapse)."""
        return first_unpaid.plus(self.month) if self.anchor == "H" else last_month(first_unpaid, lapse_after)

    def day(
        self,
        month: ContributionMonth,
        *,
        due_day: int = 15,
        lapse_after: int = 3,
        workdays: WorkCalendar = SUNDAYS_ONLY,
    ) -> date:
        """The stage's day in the cycle whose first unpaid month is `month`."""
        if self.anchor == "H":
            anchor = month.plus(self.month).due_date(due_day)
        else:
            anchor = lapse_date(month, due_day, lapse_after, workdays=workdays)
        return anchor + timedelta(days=self.offset)


def parse_stages(text: str) -> tuple[Stage, ...]:
    """`H-7,H-1,H+7,L-1,L0` → stages; refuses anything else so a typo cannot silence reminders."""
    stages = []
    for raw in text.split(","):
        code = raw.strip().upper()
        match = _STAGE.match(code)
        if not match:
            raise ValueError(f"unknown reminder stage {raw!r} (use H-7, H0, H+7, L-14, L-1, L0 ...)")
        stage = Stage(code, match.group(1), int(match.group(2) or 0))
        if stage.anchor == "H" and stage.offset < _EARLIEST:
            raise ValueError(f"reminder stage {raw!r} is before the previous month's due date (H-27 at most)")
        stages.append(stage)
    if len({s.code for s in stages}) != len(stages):
        raise ValueError("a reminder stage is listed twice")
    return tuple(stages)


def stage_of(code: str) -> Stage:
    """A stored stage code (`H-7`, `H-7@2`, `L-1`) back to its stage."""
    match = _CODE.match(code)
    if not match:
        raise ValueError(f"unknown reminder stage {code!r}")
    index = int(match.group(3) or 1) - 1
    return Stage(code, match.group(1), int(match.group(2) or 0), index)


def cycle_stages(stages: tuple[Stage, ...], lapse_after: int = 3) -> tuple[Stage, ...]:
    """Every stage of a run of unpaid months: the H stages once for each month before the lapse (`@2`, `@3` for
    the later ones), the L stages, and the last-day reminder whether listed or not."""
    base = [s for s in stages if s.month == 0]
    later = [
        Stage(f"{s.code}@{index + 1}", s.anchor, s.offset, index)
        for index in range(1, lapse_after)
        for s in base
        if s.anchor == "H"
    ]
    last_day = [] if any(s.code == LAST_DAY for s in base) else [Stage(LAST_DAY, "L", -1)]
    return (*base, *later, *last_day)


def ordered_stages(
    stages: tuple[Stage, ...],
    month: ContributionMonth,
    *,
    due_day: int = 15,
    lapse_after: int = 3,
    workdays: WorkCalendar = SUNDAYS_ONLY,
) -> list[tuple[date, Stage]]:
    """The cycle's schedule in calendar order (`cycle_stages`): H stages stop at the lapse, and of two stages on one
    day only one is kept (the last-day reminder or the lapse notice, else the later-listed), so nobody gets two
    reminders of one cycle on one day."""
    lapses = lapse_date(month, due_day, lapse_after, workdays=workdays)
    days = []
    for order, stage in enumerate(cycle_stages(stages, lapse_after)):
        day = stage.day(month, due_day=due_day, lapse_after=lapse_after, workdays=workdays)
        if stage.anchor == "H" and day >= lapses:
            continue
        days.append((day, stage.priority, order, stage))
    days.sort(key=lambda d: d[:3])
    return [
        (day, stage)
        for index, (day, _, _, stage) in enumerate(days)
        if index + 1 == len(days) or days[index + 1][0] != day
    ]


def current_stage(
    stages: tuple[Stage, ...],
    month: ContributionMonth,
    today: date,
    *,
    due_day: int = 15,
    lapse_after: int = 3,
    workdays: WorkCalendar = SUNDAYS_ONLY,
) -> tuple[date, Stage] | None:
    """The latest stage of the cycle that has come by `today` (after downtime, the only one still worth sending)."""
    ordered = ordered_stages(stages, month, due_day=due_day, lapse_after=lapse_after, workdays=workdays)
    reached = [p for p in ordered if p[0] <= today]
    return reached[-1] if reached else None


# --- quiet periods: no reminders then ---

_WEEKDAYS = {"sen": 0, "mon": 0, "sel": 1, "tue": 1, "rab": 2, "wed": 2, "kam": 3, "thu": 3,
             "jum": 4, "fri": 4, "sab": 5, "sat": 5, "min": 6, "sun": 6}  # fmt: skip


@dataclass(frozen=True, slots=True)
class QuietPeriod:
    """Either every week on `weekday` from `start` to `end` (local time), or whole days `first`..`last`."""

    weekday: int | None = None
    start: time | None = None
    end: time | None = None
    first: date | None = None
    last: date | None = None

    def ends_after(self, local: datetime) -> datetime | None:
        """When the quiet period that contains `local` ends; None if `local` is not quiet."""
        if self.first is not None and self.last is not None:
            if self.first <= local.date() <= self.last:
                return datetime.combine(self.last + timedelta(days=1), time(0, 0), tzinfo=local.tzinfo)
            return None
        assert self.start is not None
        assert self.end is not None
        if local.weekday() == self.weekday and self.start <= local.time() < self.end:
            return datetime.combine(local.date(), self.end, tzinfo=local.tzinfo)
        return None


def parse_quiet_periods(text: str) -> tuple[QuietPeriod, ...]:
    """`Jum 11:30-13:00; 2027-03-09..2027-03-11` → quiet periods (weekday names in Indonesian or English)."""
    periods = []
    for raw in (part.strip() for part in text.split(";")):
        if not raw:
            continue
        days = re.fullmatch(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})", raw)
        weekly = re.fullmatch(r"([A-Za-z]{3})[a-z]*\s+(\d{1,2}:\d{2})-(\d{1,2}:\d{2})", raw)
        if days:
            first, last = date.fromisoformat(days.group(1)), date.fromisoformat(days.group(2))
            if last < first:
                raise ValueError(f"quiet period {raw!r} ends before it starts")
            periods.append(QuietPeriod(first=first, last=last))
        elif weekly and weekly.group(1).lower() in _WEEKDAYS:
            start, end = time.fromisoformat(weekly.group(2).zfill(5)), time.fromisoformat(weekly.group(3).zfill(5))
            if not start < end:
                raise ValueError(f"quiet period {raw!r} ends before it starts")
            periods.append(QuietPeriod(weekday=_WEEKDAYS[weekly.group(1).lower()], start=start, end=end))
        else:
            raise ValueError(f"unknown quiet period {raw!r} (use 'Jum 11:30-13:00' or '2027-03-09..2027-03-11')")
    return tuple(periods)


def quiet_until(periods: tuple[QuietPeriod, ...], local: datetime) -> datetime | None:
    """The end of the quiet time `local` falls in (following back-to-back periods), or None."""
    ends = None
    moment = local
    for _ in range(len(periods) + 1):
        found = [end for period in periods if (end := period.ends_after(moment)) is not None]
        if not found:
            break
        ends = moment = max(found)
    return ends


def holiday_quiet_periods(workdays: WorkCalendar) -> tuple[QuietPeriod, ...]:
    """The calendar's holidays as whole quiet days for reminders, consecutive days joined into one period."""
    periods: list[QuietPeriod] = []
    for day in sorted(workdays.holidays):
        last = periods[-1] if periods else None
        if last is not None and last.last is not None and last.last + timedelta(days=1) == day:
            periods[-1] = QuietPeriod(first=last.first, last=day)
        else:
            periods.append(QuietPeriod(first=day, last=day))
    return tuple(periods)


def open_cycles(
    today: date,
    *,
    due_day: int = 15,
    lapse_after: int = 3,
    due_within: int = 7,
    lapsed_within: int = 30,
    workdays: WorkCalendar = SUNDAYS_ONLY,
) -> tuple[ContributionMonth, ContributionMonth]:
    """The first unpaid months whose cycle is open today — due within `due_within` days, overdue, or lapsed within
    the last `lapsed_within` days — as an inclusive range."""
    latest = ContributionMonth.of(today).plus(1)
    while latest.due_date(due_day) > today + timedelta(days=due_within):
        latest = latest.plus(-1)
    earliest = latest
    while lapse_date(earliest.plus(-1), due_day, lapse_after, workdays=workdays) >= today - timedelta(
        days=lapsed_within
    ):
        earliest = earliest.plus(-1)
    return earliest, latest


def months_due(first: ContributionMonth, today: date, due_day: int = 15) -> int:
    """How many months from `first` on are due by `today` (a month due today counts)."""
    count, month = 0, first
    while month.due_date(due_day) <= today:
        count, month = count + 1, month.plus(1)
    return count


_MONTH_WORDS = {
    "jan": 1, "feb": 2, "peb": 2, "mar": 3, "apr": 4, "mei": 5, "may": 5, "jun": 6, "jul": 7,
    "agu": 8, "agt": 8, "aug": 8, "sep": 9, "okt": 10, "oct": 10, "nov": 11, "nop": 11, "des": 12, "dec": 12,
}  # fmt: skip


def parse_month(text: str) -> ContributionMonth | None:
    """`10/2026`, `10-26`, `2026-10`, `Oktober 2026`, `okt 26`, `Okt-26`, `Agu/2026`, `Oct. 2026` (Indonesian or
    English month names, as spreadsheets abbreviate them) → a month; None when it is not one."""
    cleaned = text.strip().lower()
    numeric = re.fullmatch(r"(\d{1,2})\s*[/\-. ]\s*(\d{2}|\d{4})", cleaned)
    iso = re.fullmatch(r"(\d{4})\s*[/\-.]\s*(\d{1,2})", cleaned)
    worded = re.fullmatch(r"([a-z]+)\.?\s*[/\-.]?\s*(\d{2}|\d{4})", cleaned)
    if numeric:
        month, year = int(numeric.group(1)), int(numeric.group(2))
    elif iso:
        year, month = int(iso.group(1)), int(iso.group(2))
    elif worded and worded.group(1)[:3] in _MONTH_WORDS:
        month, year = _MONTH_WORDS[worded.group(1)[:3]], int(worded.group(2))
    else:
        return None
    year = year + 2000 if year < 100 else year
    return ContributionMonth(year, month) if 1 <= month <= 12 and 2000 <= year <= 2100 else None
