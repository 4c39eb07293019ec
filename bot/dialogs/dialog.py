"""The member conversation as a pure state machine: `step(state, incoming, ctx) -> (state, outcome)`.

Every input gets an answer: a valid one moves on, anything else is explained and the same question is asked again,
so progress is never lost. Writes leave as effects for the caller to apply with the new state.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import NamedTuple

from bot.dialogs import admin, officer
from bot.dialogs.core import (
    MAX_TEXT,
    AcceptInvitation,
    AskOfficerAboutNik,
    Choice,
    ClaimNik,
    Context,
    DeleteMember,
    Incoming,
    Kind,
    MemberView,
    NikTyped,
    Outcome,
    ProvePhone,
    RecordConsent,
    RecordPayment,
    Refused,
    ReminderView,
    Reply,
    RequestHelp,
    SaveMember,
    SetOptOut,
    UnbindSponsor,
    UpdateMember,
    choice_keys,
)
from bot.dialogs.fields import (
    FIELD_STEPS,
    PERIODS,
    Accept,
    Answer,
    Narrow,
    Reject,
    Taken,
    monthly_cost,
    next_month,
    typed_choice,
)
from bot.dialogs.state import Draft, EditField, Flow, SetAside, State, Step
from bot.texts import duration, long_date, month_span, month_year, named, pay_by, programs, rupiah, short_date, t
from domain.answers import MAX_PAID_MONTHS, command_word, months_said, yes_or_no
from domain.identity import Nik, format_phone, mask_nik, parse_nik, parse_phone
from domain.rules import ContributionMonth, Standing
from domain.vocabulary import BILLED_PAYERS, BpjsStatus, Payer

REGISTRATION_ORDER = (
    Step.CONSENT,
    Step.NAME,
    Step.NIK,
    Step.PHONE,
    Step.PHONE_OWNER,
    Step.KECAMATAN,
    Step.DESA,
    Step.OCCUPATION,
    Step.BPJS_STATUS,
    Step.KPJ,
    Step.LAST_PAID,
    Step.PAYER,
    Step.SPONSOR,
    Step.INCOME,
    Step.PROGRAMS,
    Step.PERIOD,
    Step.SUMMARY,
)

EDIT_STEPS: dict[EditField, tuple[Step, ...]] = {
    EditField.NAME: (Step.NAME,),
    EditField.NIK: (Step.NIK,),
    EditField.PHONE: (Step.PHONE, Step.PHONE_OWNER),
    EditField.AREA: (Step.KECAMATAN, Step.DESA),
    EditField.OCCUPATION: (Step.OCCUPATION,),
    EditField.BPJS: (Step.BPJS_STATUS, Step.KPJ, Step.LAST_PAID),
    EditField.LAST_PAID: (Step.LAST_PAID,),
    EditField.PAYER: (Step.PAYER, Step.SPONSOR),
    EditField.INCOME: (Step.INCOME,),
    EditField.PROGRAMS: (Step.PROGRAMS,),
    EditField.PERIOD: (Step.PERIOD,),
}

# A saved member who stays a BPJS member: the status alone changes (their KPJ and last paid month are kept).
STATUS_COLUMNS = ("bpjs_status", "needs_enrolment")

EDIT_COLUMNS: dict[EditField, tuple[str, ...]] = {
    EditField.NAME: ("full_name",),
    EditField.NIK: ("nik", "birth_date", "sex"),
    EditField.PHONE: ("phone", "phone_owner"),
    EditField.AREA: ("kecamatan_code", "desa_code"),
    EditField.OCCUPATION: ("occupation",),
    EditField.BPJS: ("bpjs_status", "kpj", "covered_until", "needs_enrolment"),
    EditField.LAST_PAID: ("covered_until",),
    EditField.PAYER: ("payer", "sponsor_name"),
    EditField.INCOME: ("declared_income",),
    EditField.PROGRAMS: ("with_jht",),
    EditField.PERIOD: ("period_months",),
}

_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def step(state: State, incoming: Incoming, ctx: Context) -> tuple[State, Outcome]:
    """Answer one input: the next state, the replies, and the writes to make."""
    out = Outcome()
    new_state = _route(state, incoming, ctx, out)
    return new_state.model_copy(update={"updated_at": ctx.now}), out


def question(state: State, ctx: Context) -> Reply:
    """The question the conversation is waiting on."""
    field_step = FIELD_STEPS.get(state.step)
    if field_step is not None:
        return _with_keep(field_step.question(state, ctx), state, ctx)
    match state.step:
        case Step.CONSENT:
            # Short enough to read on a cheap phone; the full text on request ("Baca selengkapnya").
            text = t("ask.consent", holder=ctx.config.data_holder, retention=duration(ctx.config.retention_days))
            return Reply(text, _options("consent", ("yes", "no", "more")))
        case Step.SUMMARY:
            body = describe(state.draft, ctx, unreached=state.on_behalf)
            return Reply(t("ask.summary", body=body), _options("summary", ("ok", "change")))
        case Step.EDIT_FIELD:
            return Reply(t("ask.edit_field"), _options("field", [*editable(state.draft), "cancel"]))
        case Step.AFTER_SAVE:
            return Reply(t("ask.after_save"), _options("after", ("another", "done")))
        case Step.PICK_MEMBER:
            members = [Choice(m.full_name, f"m:{m.id}") for m in ctx.chat.members_here()]
            if state.flow is Flow.STATUS:
                members.append(Choice(t("option.m.all"), "m:all"))
            return Reply(t(f"ask.pick_member_{state.flow}"), tuple(members))
        case Step.CLAIM:
            return Reply(t("ask.claim"), _options("claim", ("officer", "other")), request_contact=True)
        case Step.CONFIRM_DELETE:
            member = _member(state.member_id, ctx)
            name = member.full_name if member else ""
            return Reply(t("ask.confirm_delete", name=name), _options("delete", ("yes", "no")))
        case _:
            known = bool(ctx.chat.members_here())
            actions = ("status", "edit", "register", "delete", "help") if known else ("register", "help")
            return Reply(t("menu.known" if known else "menu.new"), _options("menu", actions))


def _with_keep(asked: Reply, state: State, ctx: Context) -> Reply:
    """A question asked again in a registration (after KEMBALI) offers its earlier answer to keep."""
    earlier = earlier_answer(state, ctx) if state.flow is Flow.REGISTER and state.edit_field is None else None
    if earlier is None:
        return asked
    return replace(asked, choices=(*asked.choices, Choice(t("option.keep", value=earlier), "keep:", key="0")))


KEEP_WORDS = frozenset({"0", "tetap", "tetap saja", "sama", "sama saja"})


def _typed_option(text: str, choices: Sequence[Choice], *, by_label: bool) -> Choice | None:
    """The option a typed answer names; the earlier answer is kept only by its key or a "tetap", never because a new
    answer looks like it (a NIK one digit off)."""
    others = [c for c in choices if c.value != "keep:"]
    if len(others) < len(choices) and " ".join(text.casefold().strip(" .!").split()) in KEEP_WORDS:
        return next(c for c in choices if c.value == "keep:")
    chosen = typed_choice(text, others, by_label=by_label)
    if chosen is None and not by_label:  # names are read by the step, but "berikutnya" still turns the page
        navigation = [c for c in others if c.value.startswith("nav:")]
        chosen = typed_choice(text, navigation) if navigation else None
    return chosen


def _options(group: str, names: Sequence[str]) -> tuple[Choice, ...]:
    return tuple(Choice(t(f"option.{group}.{name}"), f"{group}:{name}") for name in names)


def _route(state: State, incoming: Incoming, ctx: Context, out: Outcome) -> State:
    offered, state = state.offered, state.model_copy(update={"offered": []})  # any input consumes them
    if incoming.kind is Kind.TEXT and offered:
        # A typed number or word answers the options last shown outside the conversation (WhatsApp has no buttons);
        # a command word ("CARI la baco" under an officer's list naming La Baco) only when it is exactly an option.
        options = [Choice(*option) for option in offered]
        months = _months_options(options)
        if months is not None and command_word(incoming.text) is None:
            # "How many months?": a typed count is read as a count ("2 bulan" is two, never the "12 bulan" option),
            # any from 1 to 12; anything else asks again rather than falling through to the menu.
            count = months_said(incoming.text)
            if count is None:
                out.say(Reply(t("invalid.months"), tuple(options)))
                return remember(state, out)
            return _out_of_band(f"{months}:{count}", state, ctx, out)
        chosen = None
        if command_word(incoming.text) is None or _exactly_an_option(incoming.text, options):
            chosen = typed_choice(incoming.text, options)
        chosen = chosen or admin.typed_decision(incoming.text, options)  # "lanjut" at a preview: not /lanjut
        if chosen is not None:
            return _out_of_band(chosen.value, state, ctx, out)
    beside = _beside_the_question(state, incoming, ctx, out)
    if beside is not None:
        return beside
    if incoming.kind is Kind.TEXT:
        incoming = _typed_command(state, incoming, ctx) or incoming
    if incoming.kind is Kind.COMMAND:
        return _command(state, incoming, ctx, out)
    problem = _unusable(state, incoming, ctx)
    if problem is not None and state.step in YES_NO and not _idle(state, ctx):
        out.say(Reply(problem, question(state, ctx).choices))  # the long question (the consent) was just shown
        return state
    if problem is not None:
        return _ask(state, ctx, out, problem)
    return _answer(state, incoming, ctx, out)


_MONTHS_VALUE = re.compile(r"^(rem:\d{1,12}:paid|pay:\d{1,12}:\d{6}|oc:\d{1,12}:paid):\d{1,2}$")


def _months_options(options: Sequence[Choice]) -> str | None:
    """The value all these options share but their number of months, when they ask how many months were paid."""
    found = {match.group(1) if match else None for match in (_MONTHS_VALUE.match(c.value) for c in options)}
    return next(iter(found)) if len(found) == 1 and None not in found else None


def _exactly_an_option(text: str, options: Sequence[Choice]) -> bool:
    typed = " ".join(text.casefold().strip(" .!").split())
    return any(
        typed in (key.casefold(), c.label.casefold()) for key, c in zip(choice_keys(options), options, strict=True)
    )


def _beside_the_question(state: State, incoming: Incoming, ctx: Context, out: Outcome) -> State | None:
    """Inputs that are no answer to the conversation's question: the buttons of a reminder, an import, a broadcast or
    an officer's list, an uploaded sheet, an officer's new number, a typed answer to the latest reminder."""
    if incoming.kind is Kind.CHOICE and _is_out_of_band(incoming.text):
        return _out_of_band(incoming.text, state, ctx, out)
    if incoming.kind is Kind.FILE and admin.on_file(incoming, ctx, out):
        return remember(state, out)
    if state.step is Step.OFFICER_NEW_NUMBER and incoming.kind is Kind.TEXT:
        return officer.new_number(incoming.text, state, ctx, out)
    if state.flow is Flow.NONE and incoming.kind is Kind.TEXT:
        return _typed_reminder_answer(state, incoming.text, ctx, out)
    return None


def _typed_command(state: State, incoming: Incoming, ctx: Context) -> Incoming | None:
    """A typed command word ("ubah", "cari baco") as the command it names — unless it answers the open question
    ("Ubah" at the summary, "hapus" at "Ya, hapus") or this chat's role may not use it (then it is ordinary text)."""
    found = command_word(incoming.text) if len(incoming.text) <= MAX_TEXT else None
    if found is None or not _may_use(found[0], ctx) or _answers(state, incoming.text, ctx):
        return None
    return Incoming(Kind.COMMAND, text=found[1], command=found[0])


def _may_use(command: str, ctx: Context) -> bool:
    if command in admin.COMMANDS:
        return admin.allowed(command, ctx.staff.here())
    staff_only = _STAFF_COMMANDS.get(command)
    return command in _COMMANDS or (staff_only is not None and staff_only.may_use(ctx))


def _answers(state: State, text: str, ctx: Context) -> bool:
    """Whether typed text is a valid answer to the open question (at the menu, with no question open, it is not)."""
    if state.flow is Flow.NONE or _idle(state, ctx):
        return False
    current = question(state, ctx)
    field_step = FIELD_STEPS.get(state.step)
    if _typed_option(text, current.choices, by_label=field_step is None or field_step.by_label) is not None:
        return True
    if field_step is not None:
        return isinstance(field_step.on_text(state, text, ctx), Accept)
    return state.step in YES_NO and yes_or_no(text) is not None


def _is_out_of_band(value: str) -> bool:
    prefixes = ("rem:", "pay:", admin.IMPORT_PREFIX, admin.BROADCAST_PREFIX)
    return value.startswith(prefixes) or officer.is_officer_value(value)


def _typed_reminder_answer(state: State, text: str, ctx: Context, out: Outcome) -> State | None:
    # The newest thing this chat saw is a reminder: a typed "1" or "sudah bayar" answers it, not the menu.
    latest = ctx.chat.latest_reminders()
    if latest and (state.updated_at is None or (latest[0].sent_at or state.updated_at) > state.updated_at):
        chosen = typed_choice(text, reminder_choices(latest))
        if chosen is not None:
            return _out_of_band(chosen.value, state, ctx, out)
    return None


def _unusable(state: State, incoming: Incoming, ctx: Context) -> str | None:
    """Why this input cannot answer the question (said before asking it again), or None."""
    if incoming.kind in (Kind.UNSUPPORTED, Kind.FILE):
        return t("invalid.unsupported")
    if incoming.kind is Kind.TEXT and len(incoming.text) > MAX_TEXT:
        return t("invalid.too_long")
    if incoming.kind is Kind.TEXT and not incoming.text:
        return t("invalid.empty")
    if state.flow is not Flow.NONE and incoming.kind is not Kind.CHOICE and _idle(state, ctx):
        # After a long pause a typed word is more likely a greeting than an answer: re-orient first.
        return t("resume.welcome_back")
    return None


def _answer(state: State, incoming: Incoming, ctx: Context, out: Outcome) -> State:
    """An answer to the question: a shared contact, a button, a typed option, or typed text for a field."""
    current = question(state, ctx)
    if incoming.kind is Kind.CONTACT:
        return _contact(state, incoming, ctx, out)
    if incoming.kind is Kind.CHOICE:
        if incoming.text not in {choice.value for choice in current.choices}:
            return _ask(state, ctx, out, t("invalid.stale_choice"))
        return _on_choice(state, incoming.text, ctx, out)
    field_step = FIELD_STEPS.get(state.step)
    chosen = _typed_option(incoming.text, current.choices, by_label=field_step is None or field_step.by_label)
    if chosen is not None:
        return _on_choice(state, chosen.value, ctx, out)
    if field_step is not None:
        return _apply(state, field_step.on_text(state, incoming.text, ctx), ctx, out)
    if state.step in YES_NO:
        said = yes_or_no(incoming.text)
        if said is not None:
            return _on_choice(state, YES_NO[state.step][0 if said else 1], ctx, out)
        # A short hint and the options: the question (the consent text, the summary) was just shown in full.
        out.say(Reply(t("invalid.yes_no"), current.choices))
        return state
    if state.step is Step.MENU:  # a greeting gets the menu; a number it does not have, a hint too
        return _ask(state, ctx, out, t("invalid.choose_option") if incoming.text.strip().isdigit() else "")
    return _ask(state, ctx, out, t("invalid.choose_option"))


def _contact(state: State, incoming: Incoming, ctx: Context, out: Outcome) -> State:
    """A shared contact: the sender's own proves this chat holds the number (for the member being registered, a
    claimed NIK, or the members waiting here); someone else's proves nothing."""
    phone = parse_phone(incoming.contact_phone)
    own = incoming.contact_is_sender and phone.startswith("+")
    if own:
        out.effects.append(ProvePhone(phone))
    if state.step is Step.PHONE:
        answer = FIELD_STEPS[Step.PHONE].on_contact(state, incoming.contact_phone, incoming.contact_is_sender, ctx)
        return _apply(state, answer, ctx, out)
    if not own:
        return _ask(state, ctx, out, t("invalid.contact_not_own_here"))
    if state.step is Step.CLAIM and state.draft.nik:
        if ctx.chat.can_claim(state.draft.nik, phone):
            return _claimed(state, state.draft.nik, out)
        return _ask(state, ctx, out, t("claim.no_match"))
    if ctx.chat.waiting():
        proven = ctx.chat.waiting_with_phone(phone)
        return _ask(state, ctx, out, t("link.proven", count=proven) if proven else t("link.no_match"))
    return _ask(state, ctx, out, t("invalid.contact_here"))


def _nik_taken(state: State, nik: str, ctx: Context, out: Outcome) -> State:
    """A registered NIK typed. Changing one's own member: another's NIK cannot be taken. Registering: this chat
    holding the number on that member's record makes it theirs at once; otherwise they may prove it (a Telegram
    contact) or ask the officer. Nothing says whose the NIK is."""
    if state.flow is not Flow.REGISTER or state.on_behalf:
        return _ask(state, ctx, out, t("invalid.nik_taken"))
    if ctx.chat.can_claim(nik):
        return _claimed(state, nik, out)
    return _ask(state.at(Step.CLAIM, draft=state.draft.model_copy(update={"nik": nik})), ctx, out)


def _claimed(state: State, nik: str, out: Outcome) -> State:
    out.effects.append(ClaimNik(nik))
    out.say(Reply(t("claim.done")))
    return _reset(state)


def _claim_to_officer(state: State, name: str, ctx: Context, out: Outcome) -> State:
    if state.draft.nik:
        out.effects.append(AskOfficerAboutNik(state.draft.nik))
    out.say(Reply(t("claim.officer")))
    return _reset(state)


def _claim_other(state: State, name: str, ctx: Context, out: Outcome) -> State:
    return _ask(state.at(Step.NIK, draft=state.draft.model_copy(update={"nik": None})), ctx, out)


def _waiting_note(ctx: Context) -> Reply | None:
    """What a chat whose registrations wait for proof is told instead of "not registered"."""
    if ctx.chat.waiting() == 0:
        return None
    return Reply(t("link.waiting"), request_contact=True)


# The questions a plain yes or no answers (words: domain/answers.py), and the option each means.
YES_NO: dict[Step, tuple[str, str]] = {
    Step.CONSENT: ("consent:yes", "consent:no"),
    Step.SUMMARY: ("summary:ok", "summary:change"),
    Step.AFTER_SAVE: ("after:another", "after:done"),
    Step.CONFIRM_DELETE: ("delete:yes", "delete:no"),
}


def _idle(state: State, ctx: Context) -> bool:
    limit = timedelta(hours=ctx.config.resume_after_hours)
    return state.updated_at is not None and ctx.now - state.updated_at > limit


def _ask(state: State, ctx: Context, out: Outcome, prefix: str = "") -> State:
    current = question(state, ctx)
    text = f"{prefix}\n\n{current.text}" if prefix else current.text
    out.say(Reply(text, current.choices, current.request_contact))
    return state


# --- answers to reminders ---

_REMINDER_ANSWER = re.compile(r"^rem:(\d{1,12}):(paid|help|stop)(?::(\d{1,2}))?$")


def reminder_choices(reminders: Sequence[ReminderView]) -> tuple[Choice, ...]:
    """The options under a reminder message: paid (per person on a family phone or for a sponsor), help, stop."""
    single = len(reminders) == 1
    paid = [
        Choice(
            t("reminder.button_paid") if single else t("reminder.button_paid_for", name=r.member_name),
            f"rem:{r.id}:paid",
        )
        for r in reminders
    ]
    first = reminders[0].id
    return (
        *paid,
        Choice(t("reminder.button_help"), f"rem:{first}:help"),
        Choice(t("reminder.button_stop"), f"rem:{first}:stop"),
    )


def answer_reminder(value: str, ctx: Context, out: Outcome) -> None:
    """Handle a reminder's answer (a button, or a typed choice): paid → how many months → recorded; help; stop."""
    match = _REMINDER_ANSWER.match(value)
    reminder = ctx.chat.reminder(int(match.group(1))) if match else None
    if match is None or reminder is None:
        out.say(Reply(t("invalid.stale_choice")))
        return
    action, months = match.group(2), match.group(3)
    if action == "help":
        out.effects.append(RequestHelp(reminder.member_id))
        out.say(Reply(t("reminder_reply.help", name=named(reminder.member_name, reminder.member_sex))))
    elif action == "stop":
        keyword("stop", ctx, out)
    elif months is None:
        out.say(_ask_months(reminder))
    elif 1 <= int(months) <= MAX_PAID_MONTHS:
        _paid(reminder.member_id, named(reminder.member_name, reminder.member_sex), reminder.cycle, int(months), out)
    else:
        out.say(Reply(t("invalid.stale_choice")))


def keyword(word: str, ctx: Context, out: Outcome) -> None:
    """BERHENTI/STOP, MULAI and SUDAH BAYAR (typed as a whole message, or as /berhenti, /mulai, /sudah_bayar)."""
    members = tuple(m.id for m in ctx.chat.members_here())
    if not members and word == "stop" and ctx.chat.is_sponsor():
        out.effects.append(UnbindSponsor())
        out.say(Reply(t("sponsor.unbound")))
        return
    if not members and (word != "paid" or not ctx.chat.latest_reminders()):
        out.say(Reply(t("status.none")))
        return
    if word == "paid":
        latest = ctx.chat.latest_reminders()
        if not latest:  # paid before any reminder came (at the counter today): report it all the same
            _paid_unprompted(ctx, out)
            return
        if len(latest) > 1:  # a family phone: whose payment?
            out.say(Reply(t("reminder_reply.whose"), reminder_choices(latest)[: len(latest)]))
            return
        answer_reminder(f"rem:{latest[0].id}:paid", ctx, out)
        return
    stopping = word == "stop"
    out.effects.append(SetOptOut(members, opted_out=stopping))
    out.say(Reply(t("reminder_reply.stopped" if stopping else "reminder_reply.resumed")))


_PAYMENT_ANSWER = re.compile(r"^pay:(\d{1,12})(?::(\d{6}):(\d{1,2}))?$")


def _paid_unprompted(ctx: Context, out: Outcome) -> None:
    """SUDAH BAYAR with no reminder to answer: whose payment (a family phone), then how many months from the month
    after the last one paid."""
    members = ctx.chat.members_here()
    if len(members) > 1:
        out.say(Reply(t("reminder_reply.whose"), tuple(Choice(m.full_name, f"pay:{m.id}") for m in members)))
        return
    out.say(_months_from_last_paid(members[0]))


def _months_from_last_paid(member: MemberView) -> Reply:
    whom = named(member.full_name, member.sex)
    if member.covered_until is None:  # which month was paid cannot be told: the officer checks with the branch
        return Reply(t("reminder_reply.month_unknown", name=whom))
    first = ContributionMonth.of(member.covered_until).plus(1)
    cycle = first.year * 100 + first.month
    choices = tuple(Choice(t("option.period", months=m), f"pay:{member.id}:{cycle}:{m}", key=str(m)) for m in PERIODS)
    return Reply(t("reminder_reply.how_many", name=whom, month=month_year(first.year, first.month)), choices)


def answer_payment(value: str, ctx: Context, out: Outcome) -> None:
    """The answers of an unprompted SUDAH BAYAR: whose, then how many months (from the month it was asked for)."""
    match = _PAYMENT_ANSWER.match(value)
    member = _member(int(match.group(1)), ctx) if match else None
    if match is None or member is None:
        out.say(Reply(t("invalid.stale_choice")))
        return
    if match.group(2) is None:
        out.say(_months_from_last_paid(member))
        return
    cycle, months = int(match.group(2)), int(match.group(3))
    expected = ContributionMonth.of(member.covered_until).plus(1) if member.covered_until else None
    if expected is None or cycle != expected.year * 100 + expected.month or not 1 <= months <= MAX_PAID_MONTHS:
        out.say(Reply(t("invalid.stale_choice")))  # asked before another payment moved the month on
        return
    _paid(member.id, named(member.full_name, member.sex), cycle, months, out)


def _ask_months(reminder: ReminderView) -> Reply:
    month = ContributionMonth(reminder.cycle // 100, reminder.cycle % 100)
    whom = named(reminder.member_name, reminder.member_sex)
    if reminder.covered_until is not None and reminder.covered_until >= month.last_day:
        until = month_year(reminder.covered_until.year, reminder.covered_until.month)
        return Reply(t("reminder_reply.already", name=whom, until=until))
    choices = tuple(Choice(t("option.period", months=m), f"rem:{reminder.id}:paid:{m}", key=str(m)) for m in PERIODS)
    return Reply(t("reminder_reply.how_many", name=whom, month=month_year(month.year, month.month)), choices)


def _paid(member_id: int, whom: str, cycle: int, months: int, out: Outcome) -> None:
    first = ContributionMonth(cycle // 100, cycle % 100)
    last = first.plus(months - 1)
    out.effects.append(RecordPayment(member_id, cycle, months))
    # A report, checked later against the branch's data: the month it reaches, never "covered until" as a fact.
    out.say(Reply(t("reminder_reply.thanks", name=whom, until=month_year(last.year, last.month))))


def _out_of_band(value: str, state: State, ctx: Context, out: Outcome) -> State:
    """Answer options that came with a reminder or an officer's list, then go back to what the person was doing."""
    if officer.is_officer_value(value):
        state = officer.answer(value, state, ctx, out)
    elif value.startswith(admin.IMPORT_PREFIX):
        admin.on_choice(value, ctx, out)
    elif value.startswith(admin.BROADCAST_PREFIX):
        admin.on_broadcast_choice(value, ctx, out)
    elif value.startswith("pay:"):
        answer_payment(value, ctx, out)
    else:
        answer_reminder(value, ctx, out)
    return _resume(state, ctx, out)


def _resume(state: State, ctx: Context, out: Outcome) -> State:
    """New options of their own (months, outcomes) wait for an answer; otherwise the interrupted question again."""
    last = out.replies[-1] if out.replies else None
    if last is not None and last.choices:
        return remember(state, out)
    if state.flow in (Flow.NONE, Flow.OFFICER):
        return state
    return _ask(state, ctx, out)


# --- commands ---


def _command(state: State, incoming: Incoming, ctx: Context, out: Outcome) -> State:
    command = incoming.command
    staff_only = _STAFF_COMMANDS.get(command)
    if staff_only is not None and staff_only.may_use(ctx):  # an officer's /daftar is their list, not registration
        return staff_only.run(state, incoming, ctx, out)
    if admin.handle(incoming, ctx, out):
        return remember(state, out)  # a preview's "Kirim"/"Batal" may come back typed
    if staff_only is not None and command not in _COMMANDS:
        out.effects.append(Refused(command))  # a staff command from someone else: audited, answered as unknown
    return _COMMANDS.get(command, _unknown_command)(state, incoming, ctx, out)


_Command = Callable[[State, Incoming, Context, Outcome], State]


class _StaffCommand(NamedTuple):
    may_use: Callable[[Context], bool]
    run: _Command


def _start(state: State, incoming: Incoming, ctx: Context, out: Outcome) -> State:
    payload = incoming.text if _PAYLOAD.match(incoming.text) else state.start_payload
    if incoming.text.startswith(INVITATIONS) and _PAYLOAD.match(incoming.text):
        return _accept_invitation(state, incoming.text, ctx, out)
    state = state.model_copy(update={"start_payload": payload})
    if state.flow in (Flow.NONE, Flow.OFFICER) and ctx.area.officer_name() is not None:
        officer.show_list(0, ctx, out)
        return remember(state, out)
    if state.flow is Flow.REGISTER:
        return _ask(state, ctx, out, t("resume.continue"))
    if state.flow in (Flow.EDIT, Flow.DELETE):  # a change half made (the terminal sends /start at each session)
        return _ask(state, ctx, out, t("resume.continue_change"))
    if ctx.chat.members_here():
        return _ask(_reset(state), ctx, out, t("menu.welcome_back"))
    waiting = _waiting_note(ctx)
    if waiting is not None:
        out.say(waiting)
        return _reset(state)
    return _begin_registration(state, ctx, out)


def _cancel(state: State, incoming: Incoming, ctx: Context, out: Outcome) -> State:
    """BATAL: a change of one answer goes back to where the person was; a registration is set aside (DAFTAR
    continues it); anything else simply ends."""
    if state.edit_field is not None or state.step is Step.EDIT_FIELD:
        return _cancel_edit(state, "", ctx, out)
    if state.flow is Flow.REGISTER and state.step not in (Step.CONSENT, Step.AFTER_SAVE):
        kept = SetAside(step=state.step, draft=state.draft, on_behalf=state.on_behalf)
        out.say(
            Reply(
                t("command.registration_cancelled_on_behalf" if state.on_behalf else "command.registration_cancelled")
            )
        )
        return _reset(state).model_copy(update={"set_aside": kept})
    if state.flow is Flow.DELETE:
        return _keep_member(state, "", ctx, out)
    if state.flow is Flow.NONE:
        return _ask(_reset(state), ctx, out, t("command.nothing_to_cancel"))
    out.say(Reply(t("command.cancelled")))
    return _reset(state)


def _back(state: State, incoming: Incoming, ctx: Context, out: Outcome) -> State:
    """KEMBALI: the question asked before this one, its earlier answer shown (and offered to keep)."""
    previous = _previous(state, ctx)
    if previous is None:
        return _ask(state, ctx, out, t("command.nothing_back"))
    earlier = earlier_answer(previous, ctx)
    return _ask(previous, ctx, out, t("command.back_answer", value=earlier) if earlier else t("command.back"))


def _previous(state: State, ctx: Context) -> State | None:
    several = len(ctx.chat.members_here()) > 1
    if state.step is Step.EDIT_FIELD:
        if state.flow is Flow.REGISTER:
            return state.at(Step.SUMMARY)
        return state.at(Step.PICK_MEMBER, member_id=None, draft=Draft()) if several else None
    if state.step is Step.CONFIRM_DELETE:
        return state.at(Step.PICK_MEMBER, member_id=None) if several else None
    if state.edit_field is not None:
        steps = EDIT_STEPS[state.edit_field]
        before = _asked_before(steps[0], state.step, state.draft)
        if before is None or before not in steps:  # the first question of this change: back to the list of fields
            restored = state.before_edit or state.draft
            return state.at(Step.EDIT_FIELD, edit_field=None, before_edit=None, draft=restored)
        return state.at(before)
    if state.flow is Flow.REGISTER and state.step in REGISTRATION_ORDER:
        before = _asked_before(Step.NAME, state.step, state.draft)  # the consent is given, not asked again
        return state.at(before) if before is not None else None
    return None


def _asked_before(first: Step, current: Step, draft: Draft) -> Step | None:
    """The question asked just before `current`, walking the registration from `first` as the answers lead."""
    previous, step = None, first
    while step is not current:
        if step is Step.SUMMARY:
            return None
        previous, step = step, next_step(step, draft)
    return previous


def earlier_answer(state: State, ctx: Context) -> str | None:
    """The answer already given to the state's question, as the person reads it; None if none yet."""
    read = _EARLIER.get(state.step)
    return read(state.draft, ctx) if read is not None else None


def _last_paid(draft: Draft) -> str | None:
    month = draft.last_paid_month()
    if month is not None:
        return month_year(month.year, month.month)
    return t("option.last_paid_unknown") if draft.last_paid == "unknown" else None


def _region(code: str | None, ctx: Context) -> str | None:
    return ctx.regions.name(code) if code else None


def _option(group: str, name: str | None) -> str | None:
    return t(f"option.{group}.{name}") if name else None


_EARLIER: dict[Step, Callable[[Draft, Context], str | None]] = {
    Step.NAME: lambda d, ctx: d.full_name,
    Step.NIK: lambda d, ctx: d.nik,
    Step.PHONE: lambda d, ctx: format_phone(d.phone) if d.phone else None,
    Step.PHONE_OWNER: lambda d, ctx: _option("phone_owner", d.phone_owner),
    Step.KECAMATAN: lambda d, ctx: _region(d.kecamatan_code, ctx),
    Step.DESA: lambda d, ctx: _region(d.desa_code, ctx),
    Step.OCCUPATION: lambda d, ctx: _option("occupation", d.occupation),
    Step.BPJS_STATUS: lambda d, ctx: _option("bpjs_status", d.bpjs_status),
    Step.KPJ: lambda d, ctx: d.kpj,
    Step.LAST_PAID: lambda d, ctx: _last_paid(d),
    Step.PAYER: lambda d, ctx: _option("payer", d.payer),
    Step.SPONSOR: lambda d, ctx: d.sponsor_name,
    Step.INCOME: lambda d, ctx: rupiah(d.declared_income) if d.declared_income else None,
    Step.PROGRAMS: lambda d, ctx: programs(with_jht=d.with_jht) if d.with_jht is not None else None,
    Step.PERIOD: lambda d, ctx: t("option.period", months=d.period_months) if d.period_months else None,
}


def _show_help(state: State, incoming: Incoming, ctx: Context, out: Outcome) -> State:
    out.say(Reply(_help(ctx)))
    return _ask(state, ctx, out) if state.flow is not Flow.NONE else state


def _unknown_command(state: State, incoming: Incoming, ctx: Context, out: Outcome) -> State:
    return _ask(state, ctx, out, t("command.unknown"))


def _register_on_behalf(state: State, incoming: Incoming, ctx: Context, out: Outcome) -> State:
    return _begin_registration(state, ctx, out, t("officer.register_on_behalf"), on_behalf=True)


def _search(state: State, incoming: Incoming, ctx: Context, out: Outcome) -> State:
    officer.search(incoming.text, ctx, out)
    return state


def _register(state: State, incoming: Incoming, ctx: Context, out: Outcome) -> State:
    if incoming.text.startswith(INVITATIONS) and _PAYLOAD.match(incoming.text):  # "DAFTAR of_…" from WhatsApp
        return _accept_invitation(state, incoming.text, ctx, out)
    if state.flow is Flow.REGISTER and state.step is not Step.AFTER_SAVE:  # already registering: on with it
        return _ask(state, ctx, out, t("resume.continue"))
    return _begin_registration(state, ctx, out)


def _keyword(word: str) -> _Command:
    def run(state: State, incoming: Incoming, ctx: Context, out: Outcome) -> State:
        keyword(word, ctx, out)
        return _resume(state, ctx, out)

    return run


def _summary(state: State, incoming: Incoming, ctx: Context, out: Outcome) -> State:
    officer.summary(ctx, out)
    return state


def _officer_list(state: State, incoming: Incoming, ctx: Context, out: Outcome) -> State:
    officer.show_list(0, ctx, out, attach=True)
    return remember(state, out)


def _escalation_list(state: State, incoming: Incoming, ctx: Context, out: Outcome) -> State:
    officer.show_list(0, ctx, out, attach=True, escalation=True)
    return remember(state, out)


def _is_officer(ctx: Context) -> bool:
    return ctx.area.officer_name() is not None


def _is_coordinator(ctx: Context) -> bool:
    return ctx.area.is_coordinator()


# Tried first, and only for the staff they name; for anyone else the command means what `_COMMANDS` says, if anything.
_STAFF_COMMANDS: dict[str, _StaffCommand] = {
    "peserta_baru": _StaffCommand(_is_officer, _register_on_behalf),
    "cari": _StaffCommand(_is_officer, _search),
    "rekap": _StaffCommand(_is_officer, _summary),
    "daftar": _StaffCommand(_is_officer, _officer_list),
    "eskalasi": _StaffCommand(_is_coordinator, _escalation_list),
}

_COMMANDS: dict[str, _Command] = {
    "start": _start,
    "batal": _cancel,
    "kembali": _back,
    "daftar": _register,
    "ulang": lambda state, _, ctx, out: _begin_registration(
        state, ctx, out, t("command.restarted"), on_behalf=state.on_behalf, fresh=True
    ),
    "bantuan": _show_help,
    "help": _show_help,
    "status": lambda state, _, ctx, out: _start_status(state, ctx, out),
    "ubah": lambda state, _, ctx, out: _start_member_flow(state, Flow.EDIT, ctx, out),
    "hapus": lambda state, _, ctx, out: _start_member_flow(state, Flow.DELETE, ctx, out),
    "berhenti": _keyword("stop"),
    "mulai": _keyword("start"),
    "sudah_bayar": _keyword("paid"),
}

# Commands only staff may use (an officer's /daftar is a member's registration too): anyone else gets the answer to an
# unknown command (tests/dialogs/test_refused_like_unknown.py).
STAFF_ONLY_COMMANDS = frozenset(admin.COMMANDS) | (frozenset(_STAFF_COMMANDS) - frozenset(_COMMANDS))


INVITATIONS = ("sp_", "of_")  # sponsor, officer


def _help(ctx: Context) -> str:
    """Exactly the commands the caller may use."""
    staff = ctx.staff.here()
    if staff is None:
        return t("help.member")
    if staff.role == admin.ADMIN:
        return admin.help_text(staff)
    if staff.role == admin.COORDINATOR:
        return f"{t('help_officer.text')}\n\n{t('help_officer.coordinator')}\n\n{admin.help_text(staff)}"
    return t("help_officer.text")


def _accept_invitation(state: State, code: str, ctx: Context, out: Outcome) -> State:
    """An invitation link: a sponsor's chat then receives the reminders of the members they pay for; an officer's
    chat their daily list."""
    name = ctx.chat.invitation(code)
    if name is None:
        out.say(Reply(t("invitation.unknown")))
        return state
    out.effects.append(AcceptInvitation(code))
    out.say(Reply(t("invitation.sponsor" if code.startswith("sp_") else "invitation.officer", name=name)))
    if state.flow is Flow.REGISTER and state.step is Step.CONSENT:  # the chat's first message opened a consent
        return _reset(state)
    return state


def remember(state: State, out: Outcome) -> State:
    """Remember the options just shown, so that a typed answer can refer to them (WhatsApp has no buttons)."""
    last = out.replies[-1] if out.replies else None
    if last is None or not last.choices:
        return state
    return state.model_copy(update={"offered": [(c.label, c.value, c.key) for c in last.choices]})


def _reset(state: State) -> State:
    return State(start_payload=state.start_payload, updated_at=state.updated_at, set_aside=state.set_aside)


def _begin_registration(
    state: State, ctx: Context, out: Outcome, prefix: str = "", *, on_behalf: bool = False, fresh: bool = False
) -> State:
    """A new registration; or, unless `fresh` (ULANG), the one set aside with BATAL, where it stopped."""
    kept = state.set_aside
    if kept is not None and not fresh and kept.on_behalf == on_behalf:
        resumed = State(
            flow=Flow.REGISTER, step=kept.step, draft=kept.draft, start_payload=state.start_payload, on_behalf=on_behalf
        )
        return _ask(resumed, ctx, out, t("resume.continue"))
    new = State(
        flow=Flow.REGISTER,
        step=Step.CONSENT,
        start_payload=state.start_payload,
        on_behalf=on_behalf,
        set_aside=None if fresh else kept,  # someone else's set-aside registration stays (an officer's own)
    )
    return _ask(new, ctx, out, prefix)


def _start_status(state: State, ctx: Context, out: Outcome) -> State:
    members = ctx.chat.members_here()
    waiting = _waiting_note(ctx) if not members else None
    if waiting is not None:
        out.say(waiting)
        return state
    if not members:
        return _ask(state, ctx, out, t("status.none"))
    if len(members) == 1 or state.flow is not Flow.NONE:
        # Inside another flow show everyone rather than asking, so the flow's progress stays untouched.
        out.say(Reply("\n\n".join(status_text(m, ctx) for m in members)))
        return _ask(state, ctx, out) if state.flow is not Flow.NONE else state
    return _ask(state.at(Step.PICK_MEMBER, flow=Flow.STATUS), ctx, out)


def _start_member_flow(state: State, flow: Flow, ctx: Context, out: Outcome) -> State:
    if state.flow is Flow.REGISTER and state.step is not Step.AFTER_SAVE:  # after saving, the registration is done
        if flow is Flow.EDIT and state.step is Step.SUMMARY:  # /ubah at the summary: its own "Ubah"
            return _ask(state.at(Step.EDIT_FIELD), ctx, out)
        return _ask(state, ctx, out, t("command.finish_first"))
    members = ctx.chat.members_here()
    waiting = _waiting_note(ctx) if not members else None
    if waiting is not None:
        out.say(waiting)
        return _reset(state)
    if not members:
        return _ask(_reset(state), ctx, out, t("status.none"))
    base = _reset(state).model_copy(update={"flow": flow})
    if len(members) == 1:
        return _ask(_open_member(base, members[0]), ctx, out)
    return _ask(base.at(Step.PICK_MEMBER), ctx, out)


def _open_member(state: State, member: MemberView) -> State:
    if state.flow is Flow.DELETE:
        return state.at(Step.CONFIRM_DELETE, member_id=member.id)
    return state.at(Step.EDIT_FIELD, member_id=member.id, draft=draft_of(member))


def _member(member_id: int | None, ctx: Context) -> MemberView | None:
    return next((m for m in ctx.chat.members_here() if m.id == member_id), None)


# --- choices on the control steps ---


def _on_choice(state: State, value: str, ctx: Context, out: Outcome) -> State:
    group, _, name = value.partition(":")
    if group == "keep":  # the earlier answer, kept after KEMBALI
        return _apply(state, Accept(state.draft), ctx, out)
    if group == "nav":
        return _ask(state.model_copy(update={"page": state.page + (1 if name == "next" else -1)}), ctx, out)
    field_step = FIELD_STEPS.get(state.step)
    if field_step is not None:
        return _apply(state, field_step.on_choice(state, value, ctx), ctx, out)
    chosen = _CHOICES.get((group, name)) or _CHOICE_GROUPS.get(group, _keep_member)
    return chosen(state, name, ctx, out)


_OnChoice = Callable[[State, str, Context, Outcome], State]


def _menu_help(state: State, name: str, ctx: Context, out: Outcome) -> State:
    out.say(Reply(t("help.member")))
    return state


def _consent_given(state: State, name: str, ctx: Context, out: Outcome) -> State:
    out.effects.append(RecordConsent(granted=True))
    return _ask(state.at(Step.NAME), ctx, out, t("consent.thanks"))


def _consent_explained(state: State, name: str, ctx: Context, out: Outcome) -> State:
    full = t("ask.consent_full", holder=ctx.config.data_holder, retention=duration(ctx.config.retention_days))
    out.say(Reply(full, _options("consent", ("yes", "no"))))
    return state


def _consent_refused(state: State, name: str, ctx: Context, out: Outcome) -> State:
    out.effects.append(RecordConsent(granted=False))
    out.say(Reply(t("consent.refused")))
    return _reset(state)


def _save(state: State, name: str, ctx: Context, out: Outcome) -> State:
    fields = member_fields(state.draft, ctx)
    out.effects.append(SaveMember(fields, on_behalf=state.on_behalf))
    saved = saved_text(state.draft, str(fields["sex"]), on_behalf=state.on_behalf)
    if not state.on_behalf and not ctx.chat.proves(state.draft.phone):
        # Seen here only once proven: say how (the share-contact button on Telegram, the officer everywhere).
        name = named(state.draft.full_name or "", str(fields["sex"]))
        after = state.at(Step.AFTER_SAVE)
        asked = question(after, ctx)
        text = f"{saved}\n{t('saved.unproven', name=name)}\n\n{asked.text}"
        out.say(Reply(text, asked.choices, request_contact=True))
        return after
    return _ask(state.at(Step.AFTER_SAVE), ctx, out, saved)


def _cancel_edit(state: State, name: str, ctx: Context, out: Outcome) -> State:
    if state.flow is Flow.REGISTER:  # back to the summary as it was before this change began
        restored = state.before_edit or state.draft
        return _ask(state.at(Step.SUMMARY, edit_field=None, before_edit=None, draft=restored), ctx, out)
    out.say(Reply(t("edit.cancelled")))
    return _reset(state)


def editable(draft: Draft) -> list[EditField]:
    """The fields the edit menu offers: the last paid month only for a BPJS member, how many months at once only
    to a member who pays (an office paying from a budget is never asked)."""
    hidden: set[EditField] = set()
    if draft.bpjs_status != BpjsStatus.MEMBER:
        hidden.add(EditField.LAST_PAID)
    if draft.payer in BILLED_PAYERS:
        hidden.add(EditField.PERIOD)
    return [field for field in EditField if field not in hidden]


def _edit_field(state: State, name: str, ctx: Context, out: Outcome) -> State:
    field = EditField(name)
    if field not in editable(state.draft):  # a stale button
        return _ask(state, ctx, out)
    return _ask(state.at(EDIT_STEPS[field][0], edit_field=field, before_edit=state.draft), ctx, out)


def _done(state: State, name: str, ctx: Context, out: Outcome) -> State:
    out.say(Reply(t("after_save.done")))
    return _reset(state)


def _status_of_all(state: State, name: str, ctx: Context, out: Outcome) -> State:
    out.say(Reply("\n\n".join(status_text(m, ctx) for m in ctx.chat.members_here())))
    return _reset(state)


def _member_chosen(state: State, name: str, ctx: Context, out: Outcome) -> State:
    member = _member(int(name), ctx)
    if member is None:
        return _ask(state, ctx, out, t("invalid.stale_choice"))
    if state.flow is Flow.STATUS:
        out.say(Reply(status_text(member, ctx)))
        return _reset(state)
    return _ask(_open_member(state, member), ctx, out)


def _delete(state: State, name: str, ctx: Context, out: Outcome) -> State:
    if state.member_id is None:
        return _keep_member(state, name, ctx, out)
    out.effects.append(DeleteMember(state.member_id))
    member = _member(state.member_id, ctx)
    out.say(Reply(t("delete.done", name=member.full_name if member else "")))
    return _reset(state)


def _keep_member(state: State, name: str, ctx: Context, out: Outcome) -> State:
    out.say(Reply(t("delete.kept")))
    return _reset(state)


# The options of the control steps, as "group:name" → what choosing it does.
_CHOICES: dict[tuple[str, str], _OnChoice] = {
    ("menu", "register"): lambda state, _, ctx, out: _begin_registration(state, ctx, out),
    ("menu", "status"): lambda state, _, ctx, out: _start_status(state, ctx, out),
    ("menu", "edit"): lambda state, _, ctx, out: _start_member_flow(state, Flow.EDIT, ctx, out),
    ("menu", "delete"): lambda state, _, ctx, out: _start_member_flow(state, Flow.DELETE, ctx, out),
    ("menu", "help"): _menu_help,
    ("consent", "yes"): _consent_given,
    ("consent", "no"): _consent_refused,
    ("consent", "more"): _consent_explained,
    ("summary", "ok"): _save,
    ("summary", "change"): lambda state, _, ctx, out: _ask(state.at(Step.EDIT_FIELD), ctx, out),
    ("field", "cancel"): _cancel_edit,
    ("after", "another"): lambda state, _, ctx, out: _begin_registration(state, ctx, out, on_behalf=state.on_behalf),
    ("m", "all"): _status_of_all,
    ("delete", "yes"): _delete,
    ("claim", "officer"): _claim_to_officer,
    ("claim", "other"): _claim_other,
}
# Any other name in these groups (a field, a member id, "done"); anything else keeps the member ("delete:no").
_CHOICE_GROUPS: dict[str, _OnChoice] = {"field": _edit_field, "after": _done, "m": _member_chosen}


# --- field answers ---


def _apply(state: State, answer: Answer, ctx: Context, out: Outcome) -> State:
    if state.step is Step.NIK and isinstance(answer, Accept | Taken):
        out.effects.append(NikTyped())
    if isinstance(answer, Reject):
        return _ask(state, ctx, out, answer.message)
    if isinstance(answer, Taken):
        return _nik_taken(state, answer.nik, ctx, out)
    if isinstance(answer, Narrow):
        narrowed = state.model_copy(update={"candidates": answer.codes, "page": 0, "confirm": answer.confirm})
        return _ask(narrowed, ctx, out)
    assert isinstance(answer, Accept)
    if state.step is Step.PHONE and answer.draft.phone:
        out.say(Reply(t("saved.phone", phone=format_phone(answer.draft.phone))))
    if _status_alone(state, answer.draft):
        return _finish_edit(state.model_copy(update={"draft": answer.draft}), ctx, out, STATUS_COLUMNS)
    state = state.model_copy(update={"draft": answer.draft})
    following = next_step(answer.skip_to or state.step, state.draft)
    if state.edit_field is not None and following not in EDIT_STEPS[state.edit_field]:
        return _finish_edit(state, ctx, out)
    return _ask(state.at(following), ctx, out)


def _status_alone(state: State, draft: Draft) -> bool:
    """A saved BPJS member's status answered "member" again: nothing more to ask, nothing else to change."""
    return (
        state.flow is Flow.EDIT
        and state.step is Step.BPJS_STATUS
        and state.draft.bpjs_status == draft.bpjs_status == BpjsStatus.MEMBER
    )


def next_step(current: Step, draft: Draft) -> Step:
    """The registration question after `current`, skipping those that do not apply."""
    for candidate in REGISTRATION_ORDER[REGISTRATION_ORDER.index(current) + 1 :]:
        if candidate in (Step.KPJ, Step.LAST_PAID) and draft.bpjs_status != BpjsStatus.MEMBER:
            continue
        if candidate is Step.SPONSOR and draft.payer != Payer.SPONSOR:
            continue
        # An office pays from a budget: the member is never asked to pay, so neither their income nor how often.
        if candidate in (Step.INCOME, Step.PERIOD) and draft.payer in BILLED_PAYERS:
            continue
        return candidate
    return Step.SUMMARY


def _finish_edit(state: State, ctx: Context, out: Outcome, columns: Sequence[str] | None = None) -> State:
    assert state.edit_field is not None
    if state.flow is Flow.REGISTER:
        return _ask(state.at(Step.SUMMARY, edit_field=None, before_edit=None), ctx, out)
    fields = member_fields(state.draft, ctx)
    changes = {column: fields[column] for column in columns or EDIT_COLUMNS[state.edit_field]}
    assert state.member_id is not None
    out.effects.append(UpdateMember(state.member_id, changes))
    out.say(Reply(t("edit.saved", name=state.draft.full_name or "")))
    return _reset(state)


# --- conversions and descriptions ---


def member_fields(draft: Draft, ctx: Context) -> dict[str, object]:
    """The member row a finished draft describes (birth date and sex come from the NIK)."""
    nik = parse_nik(draft.nik or "", regions=ctx.regions, today=ctx.today)
    assert isinstance(nik, Nik), "the NIK step only accepts valid NIKs"
    last_paid = draft.last_paid_month()
    return {
        "full_name": draft.full_name,
        "nik": nik.value,
        "birth_date": nik.birth_date,
        "sex": str(nik.sex),
        "phone": draft.phone,
        "phone_owner": draft.phone_owner if draft.phone else None,
        "kecamatan_code": draft.kecamatan_code,
        "desa_code": draft.desa_code,
        "occupation": draft.occupation,
        "bpjs_status": draft.bpjs_status,
        "kpj": draft.kpj,
        "covered_until": last_paid.last_day if last_paid else None,
        "needs_enrolment": draft.bpjs_status == BpjsStatus.NOT_REGISTERED,
        "payer": draft.payer,
        "sponsor_name": draft.sponsor_name,
        "declared_income": ctx.tariffs.income.priced(draft.declared_income or 0),
        "with_jht": bool(draft.with_jht),
        "period_months": draft.period_months or 1,
    }


def draft_of(member: MemberView) -> Draft:
    last_paid = None
    if member.covered_until is not None:
        last_paid = str(ContributionMonth.of(member.covered_until))
    elif member.bpjs_status == BpjsStatus.MEMBER:
        last_paid = "unknown"
    copied = {name: getattr(member, name) for name in Draft.model_fields if name != "last_paid"}
    return Draft(last_paid=last_paid, **copied)


def describe(draft: Draft, ctx: Context, *, unreached: bool = False) -> str:
    """The member's data as lines a person can check; `unreached`: no chat of theirs gets the reminders (an
    officer's registration door to door), so without a number only an officer can reach them.

    The NIK is always masked, the summary too: a chat's history (a shared phone, Twilio's logs for WhatsApp) must not
    hold a whole NIK. The mask hides the kecamatan code and the birth date DDMMYY; the area line names the kecamatan
    and this one the birth month and year, so the birth day (28–31 candidates) is what the mask keeps hidden:
    the full birth date is never shown beside it. The sex stays: it only says whether 40 was added to the day, not
    which day (the salutation "Bapak/Ibu" tells it anyway). Month and year rather than age: the person can check
    them against the KTP (digits 9–12 of the NIK); a mistyped day or serial is corrected by typing the NIK again
    (Ubah → NIK), as the summary says."""
    nik = parse_nik(draft.nik or "", regions=ctx.regions, today=ctx.today)
    lines = [t("field.name", value=draft.full_name or "-")]
    if isinstance(nik, Nik):
        lines.append(t("field.nik", value=mask_nik(nik.value)))
        born = month_year(nik.birth_date.year, nik.birth_date.month)
        lines.append(t("field.born", month=born, sex=t(f"option.sex.{nik.sex}")))
    lines.append(phone_line(draft, unreached=unreached))
    lines.append(
        t(
            "field.area",
            desa=ctx.regions.name(draft.desa_code or ""),
            kecamatan=ctx.regions.name(draft.kecamatan_code or ""),
        )
    )
    lines.append(t("field.occupation", value=t(f"option.occupation.{draft.occupation}")))
    lines.append(t("field.bpjs", value=t(f"option.bpjs_status.{draft.bpjs_status}")))
    if draft.bpjs_status == BpjsStatus.MEMBER:
        lines.append(t("field.kpj", value=draft.kpj or "-"))
        last_paid = draft.last_paid_month()
        known = month_year(last_paid.year, last_paid.month) if last_paid else t("option.last_paid_unknown")
        lines.append(t("field.last_paid", value=known))
    payer = t(f"option.payer.{draft.payer}")
    if draft.sponsor_name:
        payer = f"{payer} ({draft.sponsor_name})"
    lines.append(t("field.payer", value=payer))
    lines.extend(_contribution_lines(draft, ctx))
    return "\n".join(lines)


def phone_line(draft: Draft, *, unreached: bool) -> str:
    """ "Nomor HP: +62 812-0000-1234 (milik anak)"; without a number, who can reach the member then."""
    if not draft.phone:
        return t("field.no_phone_unreached" if unreached else "field.no_phone")
    if not draft.phone_owner:  # registered before it was asked
        return t("field.phone", value=format_phone(draft.phone))
    return t("field.phone_owned", value=format_phone(draft.phone), owner=t(f"phone_owner.{draft.phone_owner}"))


def _contribution_lines(draft: Draft, ctx: Context) -> list[str]:
    """Programs, declared income, what the next month costs, and (when the member pays) how many months at once."""
    held = programs(with_jht=bool(draft.with_jht))
    first = next_month(draft, ctx)
    lines = [
        t("field.programs", value=held),
        t("field.income", value=rupiah(ctx.tariffs.income.priced(draft.declared_income or 0))),
        t("field.monthly", amount=rupiah(monthly_cost(draft, ctx)), month=month_year(first.year, first.month)),
    ]
    if draft.payer not in BILLED_PAYERS:
        lines.append(t("field.period", value=t("option.period", months=draft.period_months or 1)))
    return lines


def saved_text(draft: Draft, sex: str, *, on_behalf: bool = False) -> str:
    """What saving means for the member (named as their NIK says); without a number, who gets the reminders (the
    registering chat), or that none can be sent (registered door to door by an officer: the officer's list shows
    them "tanpa nomor HP")."""
    key = "saved.not_registered"
    if draft.bpjs_status == BpjsStatus.MEMBER:
        # Without a last paid month no reminder can be timed: say so, and that the officer will help.
        key = "saved.member" if draft.last_paid and draft.last_paid != "unknown" else "saved.member_unknown_month"
    name = named(draft.full_name or "", sex)
    if draft.phone or draft.payer in BILLED_PAYERS:  # an office pays: no reminder to send either way
        return t(key, name=name)
    if on_behalf:
        return t("saved.no_phone_unreached", name=name)
    return f"{t(key, name=name)}\n{t('saved.no_phone_here', name=name)}"


def status_text(member: MemberView, ctx: Context) -> str:
    """`/status` for one member: the data (NIK masked), how far it is paid and covered, and the next deadline in
    the reminders' words (`bot.texts.pay_by` of `ReminderPolicy.next_deadline`)."""
    body = describe(draft_of(member), ctx)
    state = ctx.policy.coverage(member.covered_until, ctx.today)
    if member.bpjs_status == BpjsStatus.NOT_REGISTERED:
        standing = t("status.not_registered")
    elif state.standing is Standing.UNKNOWN or state.next_month is None or member.covered_until is None:
        standing = t("status.unknown")
    else:
        first = state.next_month
        unpaid = month_span(first, first.plus(max(state.months_unpaid, 1) - 1))
        words = {
            "until": short_date(member.covered_until),
            "month": month_year(first.year, first.month),
            "months": state.months_unpaid,
            "span": unpaid,
        }
        if state.standing is Standing.LAPSED:
            since = long_date(ctx.policy.lapse_date(first))
            reactivate = t("reminder.reactivate", contact=t("status.contact"))
            standing = t("status.lapsed", since=since, **words) + " " + reactivate
        else:
            deadline = pay_by(ctx.policy.next_deadline(first, ctx.today))
            key = "status.active" if state.standing is Standing.ACTIVE else "status.arrears"
            standing = t(key, deadline=deadline, **words)
    reminders = t("status.reminders_off") if member.opted_out else t("status.reminders_on")
    return f"{body}\n\n{standing}\n{reminders}"
