"""Reminder messages: what a member (or the person holding the family phone) reads, rendered from the catalog."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from bot.dialogs.core import Choice, ReminderView, Reply, Template
from bot.dialogs.dialog import reminder_choices
from bot.texts import long_date, month_span, month_year, named, pay_by, rupiah, speaking, t
from domain.identity import format_phone, mask_nik
from domain.policy import ReminderPolicy, month_of
from domain.rules import ContributionMonth, Stage, StageKind, deadline, months_due, stage_of
from domain.tariffs import Tariffs, member_cost
from domain.vocabulary import BROADCAST_STAGE
from scheduler.dispatch import Batch
from storage.crypto import Cipher
from storage.models import Member, Reminder


@dataclass(frozen=True, slots=True)
class Owed:
    """What one reminder asks of one member today, and by when: the wording and the template share it."""

    kind: StageKind
    first: ContributionMonth  # the first unpaid month (the reminder's cycle)
    about: ContributionMonth  # the month a due-day stage is about (arrears are the months before it)
    last: ContributionMonth  # the last month the amount pays for
    amount: int
    deadline: date  # the deadline the message names (the lapse day itself, once lapsed)
    today: date  # the member's local day the message goes out


@dataclass(frozen=True, slots=True)
class ReminderRenderer:
    cipher: Cipher
    tariffs: Tariffs
    policy: ReminderPolicy
    payment_channels: str
    contact: str  # who to ask when the member's desa has no officer
    officers: Callable[[str], tuple[str, str | None] | None] | None = None
    broadcasts: Callable[[int], str | None] | None = None  # a broadcast's text by its id
    timings: dict[tuple[int, str, date], Owed] = field(default_factory=dict, compare=False, repr=False)

    def __call__(self, batch: Batch) -> Reply:
        """One message for one chat, with a paragraph per person and the reply buttons, worded for the chat's
        channel (WhatsApp: words to type, no buttons to press)."""
        with speaking(batch.target.channel):
            return self._render(batch)

    def _render(self, batch: Batch) -> Reply:
        first = batch.items[0][0]
        if first.stage == BROADCAST_STAGE:  # an admin's broadcast: its text, once however many members share the chat
            text = self.broadcasts(first.cycle) if self.broadcasts is not None else None
            message = t("broadcast.message", text=text or "")
            return Reply(message, template=Template("broadcast", (text or "",)))
        if batch.note_for is not None:
            reminder, member = batch.items[0]
            month = month_of(reminder.cycle)
            month_name = month_year(month.year, month.month)
            name = named(member.full_name, member.sex)
            text = t("reminder.note_sponsored", name=name, month=month_name, sponsor=batch.note_for)
            return Reply(text, template=Template("reminder_note", (name, month_name, batch.note_for)))
        single = len(batch.items) == 1 and batch.target.sponsor is None
        if batch.target.sponsor is not None:
            header = t("reminder.header_sponsor", count=len(batch.items))
        else:
            header = t("reminder.header") if single else t("reminder.header_family", count=len(batch.items))
        contact = self._contact(batch)
        owed = [self.owed(reminder, member, batch) for reminder, member in batch.items]
        paragraphs = [self._paragraph(member, due, contact) for (_, member), due in zip(batch.items, owed, strict=True)]
        if all(due.kind is StageKind.LAPSED for due in owed):  # guidance only: no payment asked after the lapse
            footer = t("reminder.footer_lapsed")
        else:
            footer = t("reminder.footer", channels=self.payment_channels, contact=contact)
        views = [
            ReminderView(r.id or 0, m.id or 0, m.full_name, r.cycle, m.covered_until, member_sex=m.sex)
            for r, m in batch.items
        ]
        choices = reminder_choices(views)
        if batch.target.sponsor is not None and len(views) == 1:  # a sponsor always sees whose payment it is
            choices = (Choice(t("reminder.button_paid_for", name=views[0].member_name), choices[0].value), *choices[1:])
        template = self._template(batch, owed, contact)
        return Reply("\n\n".join([header, *paragraphs, footer]), choices, template=template)

    def _contact(self, batch: Batch) -> str:
        """The member's own officer, named, when their desa has one (the first member's, on a family phone)."""
        officer = self.officers(batch.items[0][1].desa_code) if self.officers is not None else None
        if officer is None:
            return self.contact
        name, phone = officer
        if phone:
            return t("reminder.contact_officer_phone", name=name, phone=format_phone(phone))
        return t("reminder.contact_officer", name=name)

    def _template(self, batch: Batch, owed: list[Owed], contact: str) -> Template:
        """The approved short form: who, which months, how much in all, by when (the most urgent deadline); after
        the lapse, who, since when, and whom to ask. A reply opens the full dialog."""
        payable = [
            (member, due)
            for (_, member), due in zip(batch.items, owed, strict=True)
            if due.kind is not StageKind.LAPSED
        ]
        if not payable:
            names = ", ".join(named(member.full_name, member.sex) for _, member in batch.items)
            lapsed = min(due.deadline for due in owed)
            return Template("reminder_lapsed", (names, long_date(lapsed), contact))
        months = month_span(min(due.first for _, due in payable), max(due.last for _, due in payable))
        total = sum(due.amount for _, due in payable)
        deadline = min(due.deadline for _, due in payable)
        # The approved templates say "untuk {{1}}" / "{{1}}: …": the salutation goes inside the variable.
        names = ", ".join(named(member.full_name, member.sex) for member, _ in payable)
        return Template("reminder", (names, months, rupiah(total), pay_by(deadline)))

    def cost(self, member: Member, first: ContributionMonth, months: int) -> int:
        return member_cost(self.tariffs, member, first, months)

    def owed(self, reminder: Reminder, member: Member, batch: Batch) -> Owed:
        """What the reminder asks of the member today (`timing`), priced for them."""
        today = batch.now.astimezone(ZoneInfo(reminder.zone)).date()
        key = (reminder.cycle, reminder.stage, today)
        timing = self.timings.get(key)
        if timing is None:  # the same for every member of the cycle: a stage day's thousands share it
            if len(self.timings) > 1024:  # a long-running dispatcher: forget the days gone by
                self.timings.clear()
            timing = self.timings[key] = self.timing(month_of(reminder.cycle), stage_of(reminder.stage), today)
        return replace(timing, amount=self.cost(member, timing.first, timing.last.minus(timing.first) + 1))

    def timing(self, first: ContributionMonth, stage: Stage, today: date) -> Owed:
        """What a stage asks today, before pricing. A due-day stage: its month and the arrears before it, by that
        month's 15th; after a due date: every month due so far, by the last day a payment keeps the membership
        active; from the lapse day: nothing (a stage sent late says what is true on the day it goes out)."""
        policy = self.policy
        about = stage.about(first, policy.lapse_after)
        lapses = policy.lapse_date(first)
        kind = stage.kind
        if today >= lapses:
            kind = StageKind.LAPSED
        elif kind is StageKind.DUE and today > deadline(about, policy.due_day, policy.workdays):
            kind = StageKind.OVERDUE
        if kind is StageKind.DUE:
            last, pay = about, policy.pay_by(about, today)
        elif kind is StageKind.LAPSED:
            last, pay = policy.last_month(first), lapses
        else:
            last = first.plus(max(months_due(first, today, policy.due_day), 1) - 1)
            pay = policy.next_deadline(first, today)
        return Owed(kind, first, about, last, 0, pay, today)

    def _paragraph(self, member: Member, due: Owed, contact: str) -> str:
        names = {
            "name": named(member.full_name, member.sex),
            "nik": mask_nik(self.cipher.decrypt(member.nik_encrypted)),
            "span": month_span(due.first, due.last),
            "months": due.last.minus(due.first) + 1,
            "owed": rupiah(due.amount),
            "deadline": pay_by(due.deadline),
        }
        if due.kind is StageKind.LAPSED:
            last_day = long_date(due.deadline - timedelta(days=1))
            lapsed = t("reminder.lapsed", last_day=last_day, lapse=long_date(due.deadline), **names)
            return f"{lapsed} {t('reminder.reactivate', contact=contact)}"
        if due.kind is StageKind.LAST_DAY:
            return t("reminder.last_day", **names)
        if due.kind is StageKind.OVERDUE:
            return t("reminder.overdue", **names)
        return self._due(member, due, names)

    def _due(self, member: Member, due: Owed, names: dict[str, object]) -> str:
        """A due-day stage: the month's amount by its 15th, the arrears beside it, or the usual period's."""
        month = month_year(due.about.year, due.about.month)
        amount = rupiah(self.cost(member, due.about, 1))
        if due.about == due.first:
            key = "reminder.today" if due.deadline == due.today else "reminder.before"
            text = t(key, month=month, amount=amount, **names)
            if member.period_months > 1:
                last = due.first.plus(member.period_months - 1)
                text += "\n" + t(
                    "reminder.period",
                    months=member.period_months,
                    amount=rupiah(self.cost(member, due.first, member.period_months)),
                    until=month_year(last.year, last.month),
                )
            return text
        before = due.about.plus(-1)
        arrears = {
            "arrears_months": due.about.minus(due.first),
            "arrears_span": month_span(due.first, before),
            "arrears": rupiah(self.cost(member, due.first, due.about.minus(due.first))),
        }
        text = t("reminder.due_with_arrears", month=month, amount=amount, **arrears, **names)
        if due.about == self.policy.last_month(due.first):
            text += " " + t("reminder.last_month")
        return text
