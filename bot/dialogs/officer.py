"""The officer's side: today's list of unreached members, paged, and one-tap outcomes — pure, like every dialog.

Buttons carry member ids, so every one is checked against the officer's own list: a forged or stale id changes
nothing, whatever the callback data says.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta

from bot.dialogs.core import (
    Choice,
    Context,
    ListFile,
    Outcome,
    RecordFollowUp,
    Reply,
    Template,
    UnreachedView,
    ViewedMembers,
)
from bot.dialogs.fields import PERIODS
from bot.dialogs.state import Flow, State, Step
from bot.texts import long_date, pay_by, rupiah, t
from bot.texts.words import unreached_reason
from domain.answers import MAX_PAID_MONTHS
from domain.identity import format_phone, mask_nik, parse_phone
from domain.rules import ContributionMonth, Standing
from domain.vocabulary import CHAT_OUTCOMES, FollowUpOutcome

PAGE = 8
# dg: a page of the list, es: a page of the escalations, of: a member's outcomes, oc: an outcome
_VALUE = re.compile(r"^(dg|es|of|oc):(\d{1,12})(?::([a-z_]+))?(?::(\d{1,2}))?$")


def is_officer_value(value: str) -> bool:
    return value[:3] in {"dg:", "es:", "of:", "oc:"}


def escalated(ctx: Context) -> list[UnreachedView]:
    """The members of the list who have been on it for the configured days without an outcome."""
    days = ctx.config.escalate_after_days
    return [i for i in ctx.area.unreached_here() if i.listed_since and (ctx.today - i.listed_since).days >= days]


def show_list(
    page: int, ctx: Context, out: Outcome, *, attach: bool = False, escalation: bool = False, why: str = ""
) -> None:
    """One page of the officer's list (or, for a coordinator, of the escalations), grouped by desa, most urgent first;
    with `attach`, a list longer than a page also comes whole as a spreadsheet. `why`: what showed it, for the audit
    (default: the list's command)."""
    items = escalated(ctx) if escalation else ctx.area.unreached_here()
    kind, prefix = ("coordinator", "es") if escalation else ("officer", "dg")
    if not items:
        out.say(Reply(t(f"{kind}.list_empty")))
        return
    pages = (len(items) - 1) // PAGE + 1
    page = min(max(page, 0), pages - 1)
    shown = items[page * PAGE : (page + 1) * PAGE]
    days = ctx.config.escalate_after_days
    header = t(f"{kind}.list_header", day=long_date(ctx.today), count=len(items), page=page + 1, pages=pages, days=days)
    lines = [header]
    desa = None
    for number, item in enumerate(shown, start=page * PAGE + 1):
        if item.desa_code != desa:
            desa = item.desa_code
            lines.append(f"\n{t('officer.desa', desa=ctx.regions.name(desa))}")
        lines.append(line(number, item, ctx))
        if escalation and item.listed_since is not None:
            lines.append("   " + t("coordinator.listed_for", days=(ctx.today - item.listed_since).days))
    # Keyed by the number in the list, so a typed "12" on WhatsApp means the twelfth person, on any page.
    choices = [Choice(i.name, f"of:{i.member_id}", key=str(n)) for n, i in enumerate(shown, start=page * PAGE + 1)]
    if page > 0:
        choices.append(Choice(t("option.nav.prev"), f"{prefix}:{page - 1}", key="<"))
    if page < pages - 1:
        choices.append(Choice(t("option.nav.next"), f"{prefix}:{page + 1}", key=">"))
    whole = None
    if attach and pages > 1:
        lines.append(f"\n{t('officer.list_attached')}")
        for item in items:
            standing(item, ctx)  # kept in the item's memo: the spreadsheet's "Batas bayar" column
        whole = ListFile(tuple(items), ctx.today)  # the service makes the spreadsheet, after the commit
    why = why or ("eskalasi" if escalation else "daftar")
    out.effects.append(ViewedMembers(tuple(item.member_id for item in (items if whole else shown)), why=why))
    out.say(Reply("\n".join(lines), tuple(choices), file_request=whole))


def line(number: int, item: UnreachedView, ctx: Context) -> str:
    phone = item.contact()
    arrears = standing(item, ctx)
    arrears = f"{arrears} ·" if arrears else ""
    attempt = item.last_attempt or t("officer.never_tried")
    reason = unreached_reason(item.reason)
    line = t(
        "officer.line",
        number=number,
        name=item.name,
        phone=phone,
        nik=item.masked_nik(),
        arrears=arrears,
        reason=reason,
        attempt=attempt,
    )
    return line.replace("  ", " ")


def standing(item: UnreachedView, ctx: Context) -> str:
    """What the member owes and by when, in the members' own words (`pay_by`); since when, once lapsed."""
    memo = item.memo.get("standing")
    if memo is not None:
        return memo
    text = ""
    if item.days_left is not None and item.days_left < 0:
        since = long_date(ctx.today + timedelta(days=item.days_left))
        text = t("officer.arrears_lapsed", months=item.months_due, amount=rupiah(item.amount_due), since=since)
    elif item.days_left is not None:
        words = {"months": item.months_due, "amount": rupiah(item.amount_due), "deadline": ""}
        if item.covered_until is not None:
            first = ContributionMonth.of(item.covered_until).plus(1)
            words["deadline"] = ", " + pay_by(ctx.policy.next_deadline(first, ctx.today))
        text = t("officer.arrears" if item.months_due else "officer.not_yet_due", **words)
    item.memo["standing"] = text
    return text


def answer(value: str, state: State, ctx: Context, out: Outcome) -> State:
    """A button of the list: a page, a member's outcome menu, or an outcome."""
    match = _VALUE.match(value)
    if match is None or ctx.area.officer_name() is None:
        out.say(Reply(t("invalid.stale_choice")))
        return state
    kind, number, outcome, months = match.group(1), int(match.group(2)), match.group(3), match.group(4)
    if kind in {"dg", "es"}:
        show_list(number, ctx, out, escalation=kind == "es" and ctx.area.is_coordinator())
        return state
    item = next((i for i in ctx.area.unreached_here() if i.member_id == number), None)
    if item is None:  # not on this officer's list (another area, or already dealt with)
        out.say(Reply(t("officer.not_yours")))
        return state
    if kind == "of":
        out.say(Reply(t("officer.what_happened", name=item.name), _outcomes(item)))
        return state
    if outcome == FollowUpOutcome.PAID and months is None:
        choices = tuple(
            Choice(t("option.period", months=m), f"oc:{item.member_id}:paid:{m}", key=str(m)) for m in PERIODS
        )
        out.say(Reply(t("officer.how_many", name=item.name), choices))
        return state
    if outcome == FollowUpOutcome.WRONG_NUMBER:
        out.say(Reply(t("officer.new_number", name=item.name)))
        return state.at(Step.OFFICER_NEW_NUMBER, flow=Flow.OFFICER, member_id=item.member_id)
    offered = outcome in set(FollowUpOutcome) and (item.waiting or outcome not in CHAT_OUTCOMES)
    if not offered or (months is not None and not 1 <= int(months) <= MAX_PAID_MONTHS):
        out.say(Reply(t("invalid.stale_choice")))
        return state
    out.effects.append(RecordFollowUp(item.member_id, outcome, int(months) if months else None))
    out.say(Reply(t(f"officer.done.{outcome}", name=item.name)))
    return state


def new_number(text: str, state: State, ctx: Context, out: Outcome) -> State:
    """The typed new number after "Nomor salah"."""
    item = next((i for i in ctx.area.unreached_here() if i.member_id == state.member_id), None)
    if item is None:
        out.say(Reply(t("officer.not_yours")))
        return State(start_payload=state.start_payload)
    phone = parse_phone(text)
    if not phone.startswith("+"):
        out.say(Reply(f"{t(f'invalid.phone_{phone}')}\n\n{t('officer.new_number', name=item.name)}"))
        return state
    out.effects.append(RecordFollowUp(item.member_id, FollowUpOutcome.WRONG_NUMBER, phone=phone))
    out.say(Reply(t("officer.done.wrong_number", name=item.name, phone=format_phone(phone))))
    return State(start_payload=state.start_payload)


def _outcomes(item: UnreachedView) -> tuple[Choice, ...]:
    """The outcomes that apply: whose the waiting chats are only when some wait."""
    shown = [o for o in FollowUpOutcome if item.waiting or o not in CHAT_OUTCOMES]
    return tuple(Choice(t(f"officer.outcome.{o}"), f"oc:{item.member_id}:{o}") for o in shown)


def digest(ctx: Context, out: Outcome, *, weekly_all_clear: bool) -> int:
    """The morning digest: the first page of the list — for a coordinator, of the members officers left on it without
    an outcome — and nothing when it is empty, except a weekly all-clear. Returns how many members are on it."""
    coordinator = ctx.area.is_coordinator()
    kind = "coordinator" if coordinator else "officer"
    items = escalated(ctx) if coordinator else ctx.area.unreached_here()
    if items:
        show_list(0, ctx, out, attach=True, escalation=coordinator, why="digest")
        name = ctx.area.officer_name() or ""
        first = out.replies[-1]
        template = Template(f"{kind}_digest", (name, str(len(items))))
        out.replies[-1] = dataclasses.replace(first, template=template)
    elif weekly_all_clear:
        out.say(Reply(t(f"{kind}.all_clear")))
    return len(items)


def search(query: str, ctx: Context, out: Outcome) -> None:
    """`/cari <nama|NIK|KPJ>`: members of the officer's own area only; NIK masked; the view is audited."""
    if len(query.strip()) < 3:
        out.say(Reply(t("officer.search_how")))
        return
    found = ctx.area.search(query.strip())
    if not found:
        out.say(Reply(t("officer.search_none")))
        return
    out.effects.append(ViewedMembers(tuple(m.id for m in found), why="cari"))
    lines = [t("officer.search_header", count=len(found))]
    for member in found:
        state = ctx.policy.coverage(member.covered_until, ctx.today)
        phone = format_phone(member.phone) if member.phone else t("officer.no_phone")
        desa = ctx.regions.name(member.desa_code)
        standing = t(f"officer.standing.{state.standing}")
        line = t(
            "officer.search_line",
            name=member.full_name,
            desa=desa,
            nik=mask_nik(member.nik),
            phone=phone,
            standing=standing,
        )
        lines.append(line)
    out.say(Reply("\n".join(lines)))


def summary(ctx: Context, out: Outcome) -> None:
    """`/rekap`: the area's numbers today."""
    members = ctx.area.all_members()
    standings = [ctx.policy.coverage(m.covered_until, ctx.today) for m in members]
    due_soon = sum(1 for c in standings if c.due is not None and ctx.today <= c.due <= ctx.today + timedelta(days=7))
    numbers = {
        "total": len(members),
        "active": sum(1 for c in standings if c.standing == Standing.ACTIVE),
        "due_soon": due_soon,
        "arrears": sum(1 for c in standings if c.standing == Standing.ARREARS),
        "lapsed": sum(1 for c in standings if c.standing == Standing.LAPSED),
        "unknown": sum(1 for c in standings if c.standing == Standing.UNKNOWN),
        "opted_out": sum(1 for m in members if m.opted_out),
        "unreached": len(ctx.area.unreached_here()),
    }
    out.say(Reply(t("officer.summary", name=ctx.area.officer_name() or "", day=long_date(ctx.today), **numbers)))
