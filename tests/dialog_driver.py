"""Drives the pure dialog like a person would, with a hand-written fake for its database reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.dialogs import dialog
from bot.dialogs.core import (
    Context,
    DeleteMember,
    DialogConfig,
    Effect,
    Incoming,
    MemberView,
    ReminderView,
    Reply,
    SaveMember,
    StaffLine,
    StaffView,
    UnreachedView,
    UpdateMember,
)
from bot.dialogs.state import State, Step
from domain.member_rows import Plan as ImportPlan
from domain.member_rows import Row as ImportRow
from domain.policy import ReminderPolicy
from domain.regions import RegionIndex
from domain.rules import DEFAULT_STAGES, Standing, parse_stages
from domain.stats import AreaStats

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 WITA
WITA = ZoneInfo("Asia/Makassar")

# The answers of one complete registration, in order (fake NIK: serial 9xxx; fake phone 0812-0000-xxxx).
HAPPY_PATH: tuple[tuple[str, str], ...] = (
    ("consent", "Setuju"),
    ("name", "La Baco"),
    ("nik", "7312061506809001"),
    ("phone", "081200001234"),
    ("phone_owner", "Peserta sendiri"),
    ("kecamatan", "Donri-Donri"),
    ("desa", "Pesse"),
    ("occupation", "Petani"),
    ("bpjs_status", "Sudah jadi peserta"),
    ("kpj", "12345678901"),
    ("last_paid", "10/2026"),
    ("payer", "Sendiri"),
    ("income", "1"),  # the first option: the minimum, Rp1.000.000
    ("programs", "Tidak, JKK + JKM saja"),
    ("period", "3"),
)


def walk_to(chat: Chat, step: str, **overrides: str) -> None:
    """Answer the registration correctly up to (not including) `step`."""
    chat.send("/start")
    for name, answer in HAPPY_PATH:
        if name == step:
            return
        chat.send(overrides.get(name, answer))
    assert step == "summary"


class FakeLookups:
    """All four readers of the dialogs (`Context.chat`, `.staff`, `.area`, `.admin`) over one set of test data."""

    def __init__(self) -> None:
        self.members: list[MemberView] = []
        self.taken_elsewhere: set[str] = set()
        self.reminders: list[ReminderView] = []
        self.invitations: dict[str, str] = {}
        self.sponsor_here = False
        self.officer: str | None = None
        self.unreached: list[UnreachedView] = []
        self.coordinator = False
        self.role: StaffView | None = None  # an admin or coordinator chat (officers: `officer` above)
        self.staff_lines: list[StaffLine] = []
        self.timelines: dict[str, list[str]] = {}
        self.audit: list[str] = []
        self.is_paused = False
        self.number: str | None = None  # the chat's own number (a WhatsApp chat's)
        self.unproven = False  # registrations from here are not proven (a typed number of someone else)
        self.waiting_count = 0  # members registered here this chat may not see yet
        self.waiting_phones: dict[str, int] = {}  # of those, how many have each number
        self.nik_tries = 0  # NIKs typed here within the throttle's window
        self.claimable: dict[str, str | None] = {}  # NIK -> the number on its record this chat holds (None: held)

    def nik_registered(self, nik: str, *, except_member: int | None) -> bool:
        mine = any(m.nik == nik and m.id != except_member for m in self.members)
        return mine or nik in self.taken_elsewhere

    def members_here(self) -> Sequence[MemberView]:
        return list(self.members)

    def reminder(self, reminder_id: int) -> ReminderView | None:
        return next((r for r in self.reminders if r.id == reminder_id), None)

    def latest_reminders(self) -> Sequence[ReminderView]:
        return self.reminders[-1:]

    def invitation(self, code: str) -> str | None:
        return self.invitations.get(code)

    def officer_name(self) -> str | None:
        return self.officer

    def is_coordinator(self) -> bool:
        return self.coordinator

    def unreached_here(self) -> Sequence[UnreachedView]:
        return list(self.unreached)

    def search(self, query: str) -> Sequence[MemberView]:
        return [m for m in self.members if self.officer and query.lower() in m.full_name.lower()]

    def all_members(self) -> Sequence[MemberView]:
        return list(self.members) if self.officer else []

    def is_sponsor(self) -> bool:
        return self.sponsor_here

    def own_number(self) -> str | None:
        return self.number

    def proves(self, phone: str | None) -> bool:
        return not self.unproven

    def waiting(self) -> int:
        return self.waiting_count

    def waiting_with_phone(self, phone: str) -> int:
        return self.waiting_phones.get(phone, 0)

    def nik_attempts(self) -> int:
        return self.nik_tries

    def can_claim(self, nik: str, shared: str | None = None) -> bool:
        if nik not in self.claimable:
            return False
        held = self.claimable[nik]
        return held is None if shared is None else shared == held

    def here(self) -> StaffView | None:
        if self.role is not None:
            return self.role
        if self.officer is None:
            return None
        return StaffView("coordinator" if self.coordinator else "officer", ("73.12.06",))

    def manageable(self) -> Sequence[StaffLine]:
        return list(self.staff_lines) if self.role is not None else []

    def member_timelines(self, query: str) -> Sequence[tuple[int, str]]:
        return list(enumerate(self.timelines.get(query, []), start=1))

    def member_by_nik(self, nik: str) -> MemberView | None:
        return next((m for m in self.members if m.nik == nik), None)

    def paused(self) -> bool:
        return self.is_paused

    def audit_lines(self) -> Sequence[str]:
        return list(self.audit)

    def import_plan(self, rows: Sequence[ImportRow]) -> ImportPlan:
        known = {m.nik for m in self.members}
        return ImportPlan(sum(1 for r in rows if r.nik not in known), 0, sum(1 for r in rows if r.nik in known))

    def statistics(self, kecamatan: str | None) -> tuple[Sequence[AreaStats], Sequence[AreaStats]]:
        return [], []

    def broadcast_audience(self, segment: str) -> tuple[int, int]:
        return 0, 0

    def export_rows(self, kecamatan: str | None, status: Standing | None) -> Sequence[ImportRow]:
        return []


class Chat:
    """One chat with the bot; applies the dialog's effects to the fake as the real service would."""

    def __init__(self, config: DialogConfig, regions: RegionIndex, now: datetime = NOW) -> None:
        self.config = config
        self.regions = regions
        self.state = State()
        self.lookups = FakeLookups()
        self.now = now
        self.effects: list[Effect] = []
        self.policy = ReminderPolicy(stages=parse_stages(DEFAULT_STAGES))
        self.replies: list[Reply] = []
        self._next_id = 1

    def context(self) -> Context:
        today: date = self.now.astimezone(WITA).date()
        return Context(
            config=self.config,
            policy=self.policy,
            regions=self.regions,
            chat=self.lookups,
            staff=self.lookups,
            area=self.lookups,
            admin=self.lookups,
            now=self.now,
            today=today,
        )

    def send(self, said: str | Incoming) -> list[Reply]:
        incoming = Incoming.from_text(said) if isinstance(said, str) else said
        self.state, outcome = dialog.step(self.state, incoming, self.context())
        # Every state must survive the trip through the database as JSON.
        assert State.model_validate_json(self.state.model_dump_json()) == self.state
        for effect in outcome.effects:
            self._apply(effect)
        self.effects.extend(outcome.effects)
        self.replies = outcome.replies
        self.now += timedelta(seconds=30)
        return outcome.replies

    def press(self, label: str) -> list[Reply]:
        """Tap the button with this label on the last message."""
        for choice in self.last.choices:
            if choice.label == label:
                return self.send(Incoming.choice(choice.value))
        raise AssertionError(f"no button {label!r} in {[c.label for c in self.last.choices]}")

    @property
    def step(self) -> Step:
        return self.state.step

    @property
    def last(self) -> Reply:
        return self.replies[-1]

    @property
    def labels(self) -> list[str]:
        return [choice.label for choice in self.last.choices]

    def register(self, **overrides: str) -> None:
        """Walk the whole registration (answers from HAPPY_PATH unless overridden) and save it."""
        self.send("/start")
        if self.state.step != "consent":
            self.press("Daftar")
        for step, answer in HAPPY_PATH:
            assert self.state.step == step, (self.state.step, step, self.last.text)
            self.send(overrides.get(step, answer))
        assert self.state.step == "summary", self.last.text
        self.press("Benar, simpan")

    def _apply(self, effect: Effect) -> None:
        if isinstance(effect, SaveMember):
            self.lookups.members.append(_view(self._next_id, effect.fields))
            self._next_id += 1
        elif isinstance(effect, UpdateMember):
            self.lookups.members = [
                _updated(m, effect.fields) if m.id == effect.member_id else m for m in self.lookups.members
            ]
        elif isinstance(effect, DeleteMember):
            self.lookups.members = [m for m in self.lookups.members if m.id != effect.member_id]


_VIEW_FIELDS = set(MemberView.__dataclass_fields__)


def _view(member_id: int, fields: dict[str, Any]) -> MemberView:
    known = {key: value for key, value in fields.items() if key in _VIEW_FIELDS}
    return MemberView(id=member_id, opted_out=False, **known)


def _updated(member: MemberView, fields: dict[str, Any]) -> MemberView:
    return replace(member, **{key: value for key, value in fields.items() if key in _VIEW_FIELDS})
