"""How a deployment reminds: stages, due day, lapse, working days, send window, quiet periods; months as keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from domain.rules import (
    SUNDAYS_ONLY,
    ContributionMonth,
    Coverage,
    QuietPeriod,
    Stage,
    coverage,
    lapse_date,
    last_month,
    next_deadline,
    stated_deadline,
)
from domain.workdays import WorkCalendar


@dataclass(frozen=True, slots=True)
class ReminderPolicy:
    """The defaults are the rules for BPU members. Sources:
    - `due_day`: BPU contributions are paid every month, at the latest on the 15th of the contribution month; when
      the 15th is a holiday, on the next working day (PP 44/2015 as amended, as summarised by Kompas.com / Kontan,
      "Iuran JKK BPJS Ketenagakerjaan: Rincian hingga Denda Keterlambatan"). No fine for paying late.
    - `lapse_after`: "Apabila setelah 3 (tiga) bulan berturut-turut peserta BPU belum melakukan pelunasan tunggakan,
      maka kepesertaan dan perlindungannya akan nonaktif" (BPJS Ketenagakerjaan's BPU FAQ, as published for PERISAI
      agents, perisaiblora.blogspot.com).
    - `workdays`: Sundays and the national holidays and cuti bersama of the `holidays` package (SKB of three
      ministers each year), plus configured extra days. Saturdays count as working days: BPJS's own procedure for
      employers counts Saturday as a holiday, but no source says so for BPU; the advice stays the 15th either way.
    """

    stages: tuple[Stage, ...]
    due_day: int = 15
    lapse_after: int = 3
    window_start: time = time(8, 0)
    window_end: time = time(20, 0)
    quiet: tuple[QuietPeriod, ...] = ()  # the holidays' quiet days are included here when the deployment wants them
    workdays: WorkCalendar = SUNDAYS_ONLY  # Sundays and national holidays: deadlines on them move to the next day
    per_month: int = 4  # reminders per member per calendar month at most (the last day and the lapse notice always)

    def coverage(self, covered_until: date | None, today: date) -> Coverage:
        """A member's coverage today under this policy's due day, lapse rule and working days."""
        return coverage(
            covered_until, today, due_day=self.due_day, lapse_after=self.lapse_after, workdays=self.workdays
        )

    def lapse_date(self, first_unpaid: ContributionMonth) -> date:
        """The day a membership lapses when `first_unpaid` and the months after it stay unpaid."""
        return lapse_date(first_unpaid, self.due_day, self.lapse_after, workdays=self.workdays)

    def last_month(self, first_unpaid: ContributionMonth) -> ContributionMonth:
        """The last month whose payment deadline still keeps the membership active."""
        return last_month(first_unpaid, self.lapse_after)

    def pay_by(self, month: ContributionMonth, today: date) -> date:
        """The deadline a message names for `month`'s contribution today (`rules.stated_deadline`)."""
        return stated_deadline(month, today, self.due_day, self.workdays)

    def next_deadline(self, first_unpaid: ContributionMonth, today: date) -> date:
        """The deadline that still matters for a member whose first unpaid month is `first_unpaid`."""
        return next_deadline(
            first_unpaid, today, due_day=self.due_day, lapse_after=self.lapse_after, workdays=self.workdays
        )


def cycle_key(month: ContributionMonth) -> int:
    return month.year * 100 + month.month


def month_of(cycle: int) -> ContributionMonth:
    return ContributionMonth(cycle // 100, cycle % 100)


def local_moment(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)
