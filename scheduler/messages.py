"""Reminder messages: what a member (or the person holding the family phone) reads, rendered from the catalog."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.dialogs.core import Choice, ReminderView, Reply, Template
from bot.dialogs.dialog import reminder_choices
from bot.texts import long_date, month_year, rupiah, t
from domain.identity import format_phone, mask_nik
from domain.policy import ReminderPolicy, month_of
from domain.rules import ContributionMonth, months_due
from domain.tariffs import Tariffs, member_cost
from domain.vocabulary import BROADCAST_STAGE
from scheduler.dispatch import Batch
from storage.crypto import Cipher
from storage.models import Member, Reminder


@dataclass(frozen=True, slots=True)
class ReminderRenderer:
    cipher: Cipher
    tariffs: Tariffs
    policy: ReminderPolicy
    payment_channels: str
    contact: str  # who to ask when the member's desa has no officer
    officers: Callable[[str], tuple[str, str | None] | None] | None = None
    broadcasts: Callable[[int], str | None] | None = None  # a broadcast's text by its id

    def __call__(self, batch: Batch) -> Reply:
        """One message for one chat, with a paragraph per person and the reply buttons."""
        first = batch.items[0][0]
        if first.stage == BROADCAST_STAGE:  # an admin's broadcast: its text, once however many members share the chat
            text = self.broadcasts(first.cycle) if self.broadcasts is not None else None
            message = t("broadcast.message", text=text or "")
            return Reply(message, template=Template("broadcast", (text or "",)))
        if batch.note_for is not None:
            reminder, member = batch.items[0]
            month = month_of(reminder.cycle)
            month_name = month_year(month.year, month.month)
            text = t("reminder.note_sponsored", name=member.full_name, month=month_name, sponsor=batch.note_for)
            return Reply(text, template=Template("reminder_note", (member.full_name, month_name, batch.note_for)))
        single = len(batch.items) == 1 and batch.target.sponsor is None
        if batch.target.sponsor is not None:
            header = t("reminder.header_sponsor", count=len(batch.items))
        else:
            header = t("reminder.header") if single else t("reminder.header_family", count=len(batch.items))
        paragraphs = [self._paragraph(reminder, member, batch) for reminder, member in batch.items]
        footer = t("reminder.footer", channels=self.payment_channels, contact=self._contact(batch))
        views = [ReminderView(r.id or 0, m.id or 0, m.full_name, r.cycle, m.covered_until) for r, m in batch.items]
        choices = reminder_choices(views)
        if batch.target.sponsor is not None and len(views) == 1:  # a sponsor always sees whose payment it is
            choices = (Choice(t("reminder.button_paid_for", name=views[0].member_name), choices[0].value), *choices[1:])
        return Reply("\n\n".join([header, *paragraphs, footer]), choices, template=self._template(batch))

    def _contact(self, batch: Batch) -> str:
        """The member's own officer, named, when their desa has one (the first member's, on a family phone)."""
        officer = self.officers(batch.items[0][1].desa_code) if self.officers is not None else None
        if officer is None:
            return self.contact
        name, phone = officer
        if phone:
            return t("reminder.contact_officer_phone", name=name, phone=format_phone(phone))
        return t("reminder.contact_officer", name=name)

    def _template(self, batch: Batch) -> Template:
        """The approved short form: who, which month, how much in all, by when. A reply opens the full dialog."""
        names = ", ".join(member.full_name for _, member in batch.items)
        month = month_of(batch.items[0][0].cycle)
        total = sum(self.owed(reminder, member, batch) for reminder, member in batch.items)
        return Template(
            "reminder",
            (names, month_year(month.year, month.month), rupiah(total), long_date(month.due_date(self.policy.due_day))),
        )

    def cost(self, member: Member, first: ContributionMonth, months: int) -> int:
        return member_cost(self.tariffs, member, first, months)

    def owed(self, reminder: Reminder, member: Member, batch: Batch) -> int:
        """What is due now: the cycle's month before its deadline, every month already due after it."""
        month = month_of(reminder.cycle)
        today = batch.now.astimezone(ZoneInfo(reminder.zone)).date()
        return self.cost(member, month, max(months_due(month, today, self.policy.due_day), 1))

    def _paragraph(self, reminder: Reminder, member: Member, batch: Batch) -> str:
        month = month_of(reminder.cycle)
        today = batch.now.astimezone(ZoneInfo(reminder.zone)).date()
        due = month.due_date(self.policy.due_day)
        lapses = self.policy.lapse_date(month)
        names = {
            "name": member.full_name,
            "nik": mask_nik(self.cipher.decrypt(member.nik_encrypted)),
            "month": month_year(month.year, month.month),
            "amount": rupiah(self.cost(member, month, 1)),
            "due": long_date(due),
            "lapse": long_date(lapses),
        }
        if today <= due:
            text = t("reminder.today" if today == due else "reminder.before", **names)
            if member.period_months > 1:
                last = month.plus(member.period_months - 1)
                text += "\n" + t(
                    "reminder.period",
                    months=member.period_months,
                    amount=rupiah(self.cost(member, month, member.period_months)),
                    until=month_year(last.year, last.month),
                )
            return text
        if today >= lapses:
            return t("reminder.lapsed", **names)
        key = "reminder.lapse_soon" if lapses - today <= timedelta(days=14) else "reminder.overdue"
        months = max(months_due(month, today, self.policy.due_day), 1)
        return t(key, months=months, owed=rupiah(self.owed(reminder, member, batch)), **names)
