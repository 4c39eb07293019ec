"""Runs one dialog step per incoming message: load state, step, apply effects, save, all in one transaction."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import chain
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session

from bot.dialogs import dialog
from bot.dialogs.core import (
    AcceptInvitation,
    AddStaff,
    ChangeStaff,
    Context,
    DecideBroadcast,
    DecideImport,
    DeleteMember,
    DialogConfig,
    Effect,
    Exported,
    Incoming,
    MemberView,
    Outcome,
    RecordConsent,
    RecordFollowUp,
    RecordPayment,
    RecordVerifiedPayment,
    Refused,
    ReminderView,
    Reply,
    RequestHelp,
    SaveMember,
    SetOptOut,
    SetPaused,
    StaffLine,
    StaffView,
    StageBroadcast,
    StageImport,
    UnbindSponsor,
    UnreachedView,
    UpdateMember,
    ViewedMembers,
)
from bot.dialogs.state import EditField, Flow, State, Step
from bot.texts import short_date, t
from domain.identity import Nik, mask_nik, parse_kpj, parse_nik
from domain.member_rows import Plan as ImportPlan
from domain.member_rows import Row as ImportRow
from domain.policy import ReminderPolicy, cycle_key, month_of
from domain.regions import RegionIndex, inside
from domain.rules import DEFAULT_STAGES, ContributionMonth, Standing, coverage, parse_stages
from domain.stats import AreaStats
from domain.tariffs import Tariffs, default_tariffs
from domain.unreached import Unreached
from domain.vocabulary import Channel, ConsentDecision, FollowUpOutcome, OfficerRole, PaymentSource
from service import stats
from service.files import read_upload, render
from service.unreached import unreached
from service.why import find_members, timeline
from storage import audit as audit_log
from storage import broadcasts, controls, imports, officers, outbox, sponsors
from storage import members as store
from storage import staff as admin_store
from storage import unreached as listing
from storage.crypto import Cipher
from storage.db import LISTING_LOCK, try_lead
from storage.models import Conversation, FollowUp, Member, Officer, Reminder
from storage.payments import record_payment

log = logging.getLogger(__name__)


class _Lookups:
    """The dialog's window on the database, scoped to one address."""

    def __init__(
        self,
        session: Session,
        service: Conversations,
        address_id: int,
        today: date,
        *,
        lists: AreaLists | None = None,
        briefed: officers.Briefed | None = None,
        who: str = "",
    ) -> None:
        self._session = session
        self._who = who  # "channel:external id": settings may name it an admin
        self._lists = lists  # everyone's lists, computed once for a run of digests
        self._briefed = briefed  # the officer and their area, looked up for all officers of a run at once
        self._service = service
        self._cipher = service.cipher
        self._address_id = address_id
        self._today = today
        self._members: list[MemberView] | None = None
        self._unreached: list[UnreachedView] | None = None
        self._standings: dict[date | None, Standing] = {}
        self._officer: Officer | Literal[False] | None = briefed.officer if briefed else None  # False: not one

    def nik_registered(self, nik: str, *, except_member: int | None) -> bool:
        nik_hash = self._cipher.lookup_hash(nik)
        return store.nik_registered(session=self._session, nik_hash=nik_hash, except_member=except_member)

    def members_here(self) -> Sequence[MemberView]:
        if self._members is None:
            rows = store.members_of_address(session=self._session, address_id=self._address_id)
            self._members = [member_view(row, self._cipher) for row in rows]
        return self._members

    def reminder(self, reminder_id: int) -> ReminderView | None:
        found = outbox.reminder_of_address(session=self._session, address_id=self._address_id, reminder_id=reminder_id)
        return _reminder_view(found)

    def latest_reminders(self) -> Sequence[ReminderView]:
        rows = outbox.latest_sent_to_address(session=self._session, address_id=self._address_id)
        return [view for view in (_reminder_view(row) for row in rows) if view is not None]

    def invitation(self, code: str) -> str | None:
        if code.startswith("of_"):
            officer = officers.officer_by_code(session=self._session, code=code)
            return officer.name if officer else None
        sponsor = sponsors.sponsor_by_code(session=self._session, code=code)
        return sponsor.name if sponsor else None

    def owned(self) -> set[int]:
        """The members registered from this chat."""
        return {m.id for m in self.members_here()}

    def answerable(self) -> set[int]:
        """Reminders can be answered by the members' own chats and by the chat of whoever pays for them."""
        return self.owned() | sponsors.sponsored_member_ids(session=self._session, address_id=self._address_id)

    def _staff_record(self) -> Officer | None:
        if self._officer is None:
            self._officer = officers.officer_of_address(session=self._session, address_id=self._address_id) or False
        return self._officer or None

    def officer(self) -> Officer | None:
        """The officer or coordinator this chat belongs to (admins have no list of their own)."""
        found = self._staff_record()
        return found if found is not None and found.role != OfficerRole.ADMIN else None

    def staff(self) -> StaffView | None:
        if self._who in self._service.config.admins:
            return StaffView(OfficerRole.ADMIN)
        found = self._staff_record()
        if found is None or found.id is None:
            return None
        codes = () if found.role == OfficerRole.ADMIN else tuple(self._officer_codes())
        return StaffView(found.role, codes)

    def is_admin(self) -> bool:
        staff = self.staff()
        return staff is not None and staff.role == OfficerRole.ADMIN

    def _area(self, kecamatan: str | None) -> list[str] | None:
        """What a command about `kecamatan` (None: all of it) may cover for this chat's staff role: None everywhere,
        [] nothing; a coordinator of some desa of that kecamatan gets those desa."""
        scope = self._scope()
        if kecamatan is None or scope is None:
            return scope if kecamatan is None else [kecamatan]
        return [c for c in scope if inside(c, [kecamatan])] or (
            [kecamatan] if inside(kecamatan, scope) else [])  # fmt: skip

    def _scope(self) -> list[str] | None:
        """The area this chat's staff role covers: None everywhere (an admin), [] nowhere."""
        staff = self.staff()
        if staff is None:
            return []
        return None if staff.role == OfficerRole.ADMIN else list(staff.codes)

    def staff_list(self) -> Sequence[StaffLine]:
        scope = self._scope()
        if scope == []:
            return []
        return [
            StaffLine(one.officer.id or 0, one.officer.name, one.officer.role, tuple(one.codes),
                      one.officer.address_id is not None)
            for one in admin_store.staff(session=self._session, within=scope)
        ]  # fmt: skip

    def member_timelines(self, query: str) -> Sequence[str]:
        found = self._find_members(query)
        policy = self._service.policy
        return ["\n".join(timeline(self._session, self._cipher, m, policy, self._today)) for m in found[:5]]

    def _find_members(self, query: str) -> list[Member]:
        scope = self._scope()
        if scope == []:
            return []
        found = find_members(self._session, self._cipher, self._service.regions, query, self._today)
        if not found and not query.strip().isdigit():  # a name
            found = list(officers.search_area(session=self._session, codes=scope, nik_hash=None, kpj=None,
                                              name=query.strip()))  # fmt: skip
        return [m for m in found if scope is None or inside(m.desa_code, scope)]

    def member_by_nik(self, nik: str) -> MemberView | None:
        found = self._find_members(nik)
        return member_view(found[0], self._cipher) if len(found) == 1 else None

    def paused(self) -> bool:
        return controls.paused(session=self._session)

    def import_plan(self, rows: Sequence[ImportRow]) -> ImportPlan:
        return imports.plan(self._session, self._cipher, rows)

    def statistics(self, kecamatan: str | None) -> tuple[Sequence[AreaStats], Sequence[AreaStats]]:
        area = self._area(kecamatan)
        if area == []:
            return [], []
        policy = self._service.policy
        areas = stats.compute(session=self._session, today=self._today, policy=policy, codes=area)
        weekly = stats.trend(session=self._session, today=self._today, kecamatan=[a.kecamatan for a in areas])
        return areas, weekly

    def broadcast_audience(self, segment: str) -> tuple[int, int]:
        found = self.broadcast_members(segment)
        return len(found), broadcasts.reachable_chats(session=self._session, member_ids=found)

    def broadcast_members(self, segment: str) -> list[int]:
        """The members of a segment (`kecamatan=…;status=…;occupation=…`) inside this chat's staff area."""
        spec = dict(part.split("=", 1) for part in segment.split(";") if "=" in part)
        codes = self._area(spec.get("kecamatan"))
        if codes == []:
            return []
        standing = Standing(spec["status"]) if "status" in spec else None

        def covered(day: date | None) -> bool:
            return self._standing(day) == standing

        wanted = broadcasts.Segment(None if codes is None else tuple(codes), covered if standing else None,
                                    spec.get("occupation"))  # fmt: skip
        return broadcasts.members(session=self._session, segment=wanted)

    def export_rows(self, kecamatan: str | None, status: Standing | None) -> Sequence[ImportRow]:
        area = self._area(kecamatan)
        if area == []:
            return []
        found = imports.export_rows(session=self._session, cipher=self._cipher, codes=area)
        return found if status is None else [row for row in found if self._standing(row.covered_until) == status]

    def _standing(self, covered_until: date | None) -> Standing:
        """A member's standing today, by their covered-until date (a few distinct dates for thousands of members)."""
        if covered_until not in self._standings:
            policy = self._service.policy
            self._standings[covered_until] = coverage(covered_until, self._today, due_day=policy.due_day,
                                                      lapse_after=policy.lapse_after).standing  # fmt: skip
        return self._standings[covered_until]

    def audit_lines(self) -> Sequence[str]:
        return [
            t("admin.audit_line", at=e.at.astimezone(self._service.zone).strftime("%d-%m %H:%M"), actor=e.actor,
              action=e.action, subject=e.subject)
            for e in audit_log.recent_audit(session=self._session)
        ]  # fmt: skip

    def officer_name(self) -> str | None:
        found = self.officer()
        return found.name if found else None

    def is_coordinator(self) -> bool:
        found = self.officer()
        return found is not None and found.role == OfficerRole.COORDINATOR

    def unreached_here(self) -> Sequence[UnreachedView]:
        if self._unreached is None:
            self._unreached = self._compute_unreached()
        return self._unreached

    def _compute_unreached(self) -> list[UnreachedView]:
        codes = self._officer_codes()
        if not codes:
            return []
        lists = self._lists or self._service.area_lists(self._session, codes, self._today)
        return lists.for_codes(codes)

    def _officer_codes(self) -> list[str]:
        if self._briefed is not None:
            return self._briefed.codes
        found = self._staff_record()
        return officers.area_codes(session=self._session, officer_id=found.id) if found and found.id else []

    def search_area(self, query: str) -> Sequence[MemberView]:
        codes = self._officer_codes()
        if not codes:
            return []
        nik = parse_nik(query, regions=self._service.regions, today=self._today)
        rows = officers.search_area(
            session=self._session,
            codes=codes,
            nik_hash=self._cipher.lookup_hash(nik.value) if isinstance(nik, Nik) else None,
            kpj=parse_kpj(query),
            name="" if query.strip().isdigit() else query.strip(),
        )
        return [member_view(row, self._cipher) for row in rows]

    def area_members(self) -> Sequence[MemberView]:
        codes = self._officer_codes()
        rows = officers.members_in_area(session=self._session, codes=codes) if codes else []
        return [member_view(row, self._cipher) for row in rows]

    def is_sponsor(self) -> bool:
        return sponsors.sponsor_of_address(session=self._session, address_id=self._address_id) is not None

    def forget(self) -> None:
        self._members = None
        self._unreached = None
        self._officer = self._briefed.officer if self._briefed else None


@dataclass(frozen=True, slots=True)
class AreaLists:
    """The unreached members of an area, decided once and handed out per officer: a run of digests decides for the
    whole service area in one pass instead of once per officer."""

    by_desa: dict[str, list[UnreachedView]]  # each desa's members, most urgent first
    desa_rank: dict[str, int]  # desa code -> the place of its most urgent member in the definition's order
    desa_of: dict[str, set[str]]  # kecamatan code -> its desa with someone on the list

    @classmethod
    def of(cls, listed: Sequence[Unreached], cipher: Cipher, *, new_since: date | None = None) -> AreaLists:
        """`listed` in the definition's order; `new_since`: when members not on the listing clock yet came on it."""
        by_desa: dict[str, list[UnreachedView]] = {}
        desa_rank: dict[str, int] = {}
        desa_of: dict[str, set[str]] = {}
        attempts: dict[tuple[str, date | None, str] | None, str] = {}  # thousands share a (stage, day, status)
        for place, item in enumerate(listed):
            desa, attempt = item.member.desa_code, item.last_attempt
            key = (attempt.stage, attempt.sent_at and attempt.sent_at.date(), attempt.status) if attempt else None
            tried = attempts.get(key)
            if tried is None:
                tried = attempts[key] = _attempt_text(key)
            views = by_desa.get(desa)
            if views is None:  # the desa's most urgent member
                views = by_desa[desa] = []
                desa_rank[desa] = place
                desa_of.setdefault(desa.rsplit(".", 1)[0], set()).add(desa)
            views.append(_unreached_view(item, cipher, item.member.listed_since or new_since, tried))
        return cls(by_desa, desa_rank, desa_of)

    def for_codes(self, codes: Sequence[str]) -> list[UnreachedView]:
        """The share of an area given as desa and kecamatan codes, as the officer's list shows it: grouped by desa,
        the desa with the most urgent member first, most urgent first within each desa."""
        villages = set().union(*(self.desa_of.get(code, {code}) for code in codes))
        listed = sorted((desa for desa in villages if desa in self.by_desa), key=self.desa_rank.__getitem__)
        return list(chain.from_iterable(self.by_desa[desa] for desa in listed))

    def member_ids(self) -> set[int]:
        return {view.member_id for views in self.by_desa.values() for view in views}


def _attempt_text(attempt: tuple[str, date | None, str] | None) -> str:
    """`H-7 8 Desember 2026 (sampai)` from (stage, day sent, status); empty when the bot never tried."""
    if attempt is None:
        return ""
    stage, day, status = attempt
    sent = f" {short_date(day)}" if day is not None else ""
    return f"{stage}{sent} ({t(f'officer.attempt.{status}')})"


def _unreached_view(item: Unreached, cipher: Cipher, since: date | None, tried: str) -> UnreachedView:
    member = item.member
    return UnreachedView(
        member_id=member.id,
        name=member.full_name,
        desa_code=member.desa_code,
        phone=member.phone,
        masked_nik=_MaskedNik(cipher, member.nik_encrypted),
        reason=item.reason,
        days_left=item.days_left,
        months_due=item.months_due,
        amount_due=item.amount_due,
        last_attempt=tried,
        listed_since=since,
    )


class _MaskedNik:
    """The masked NIK of a list line, decrypted once and only if the line is shown (lists run to thousands)."""

    __slots__ = ("_cipher", "_masked", "_sealed")

    def __init__(self, cipher: Cipher, sealed: str) -> None:
        self._cipher, self._sealed, self._masked = cipher, sealed, ""

    def __call__(self) -> str:
        if not self._masked:
            self._masked = mask_nik(self._cipher.decrypt(self._sealed))
        return self._masked


def _reminder_view(found: tuple[Reminder, Member] | None) -> ReminderView | None:
    if found is None:
        return None
    reminder, member = found
    assert reminder.id is not None
    return ReminderView(
        reminder.id, reminder.member_id, member.full_name, reminder.cycle, member.covered_until, reminder.sent_at
    )


_VIEW_COLUMNS = [field.name for field in dataclasses.fields(MemberView) if field.name != "nik"]


def member_view(member: Member, cipher: Cipher) -> MemberView:
    """The member as the dialogs see it, NIK decrypted."""
    return MemberView(nik=cipher.decrypt(member.nik_encrypted), **{c: getattr(member, c) for c in _VIEW_COLUMNS})


@dataclass(frozen=True, slots=True)
class Conversations:
    engine: Engine
    cipher: Cipher
    regions: RegionIndex
    config: DialogConfig
    zone: ZoneInfo
    tariffs: Tariffs = field(default_factory=default_tariffs)
    policy: ReminderPolicy = field(default_factory=lambda: ReminderPolicy(stages=parse_stages(DEFAULT_STAGES)))

    def handle(self, channel: str, external_id: str, incoming: Incoming, now: datetime) -> list[Reply]:
        """Answer one message from one address. Database trouble becomes a polite 'try again', never silence."""
        try:
            upload = read_upload(self, channel, external_id, incoming, now)  # a sheet is read before the chat is locked
            return render(self._handle(channel, external_id, upload, now), self.regions)  # files: after the commit
        except IntegrityError as error:
            if "nik_hash" in str(error.orig):  # the constraint's name, on SQLite and PostgreSQL alike
                # Two chats finished registering the same NIK at the same moment: the loser is asked for it again.
                log.info("duplicate NIK at save on %s", channel)
                return self._back_to_nik(channel, external_id, now)
            log.exception("integrity error while handling a %s message", channel)  # a bug: say so, never a wrong "NIK"
            return [Reply(t("error.temporary"))]
        except OperationalError:
            log.exception("database unavailable while handling a %s message", channel)
            return [Reply(t("error.temporary"))]

    def today(self, now: datetime) -> date:
        return now.astimezone(self.zone).date()

    def _context(self, lookups: _Lookups, now: datetime) -> Context:
        return Context(
            config=self.config,
            policy=self.policy,
            regions=self.regions,
            lookups=lookups,
            now=now,
            today=self.today(now),
        )

    def _load(self, session: Session, address_id: int) -> State:
        row = store.lock_conversation(session=session, address_id=address_id)
        return State() if row is None else self._state_of(row)

    def _state_of(self, row: Conversation) -> State:
        try:
            return State.model_validate_json(self.cipher.decrypt(row.state))
        except (ValueError, ValidationError):
            # A state written by an incompatible older version, or under a retired key: start over rather than fail.
            log.warning("unreadable conversation state for address %s; starting fresh", row.address_id)
            return State()

    def _save(self, session: Session, address_id: int, state: State, now: datetime) -> None:
        self._save_many(session, {address_id: state}, now)

    def _save_many(self, session: Session, states: Mapping[int, State], now: datetime) -> None:
        sealed = {address_id: self.cipher.encrypt(state.model_dump_json(exclude_defaults=True))
                  for address_id, state in states.items()}  # fmt: skip
        store.save_conversations(session=session, states=sealed, now=now)

    def _handle(self, channel: str, external_id: str, incoming: Incoming, now: datetime) -> list[Reply]:
        with Session(self.engine) as session:
            address = store.get_or_create_address(session=session, channel=channel, external_id=external_id, now=now)
            assert address.id is not None
            address.last_inbound_at = now
            session.add(address)
            if channel == Channel.WHATSAPP:
                store.link_members_by_phone(session=session, address=address, now=now)
            state = self._load(session, address.id)
            lookups = _Lookups(session, self, address.id, self.today(now), who=f"{channel}:{external_id}")
            new_state, outcome = dialog.step(state, incoming, self._context(lookups, now))
            for effect in outcome.effects:
                said = self._apply(session, effect, address_id=address.id, channel=channel, now=now, lookups=lookups)
                outcome.replies.extend(said)
            # Deleting a member removes their WhatsApp number, which may be this very chat: then nothing is kept of
            # it, not even the conversation (the next message starts afresh).
            deleted = any(isinstance(e, DeleteMember) for e in outcome.effects)
            if not deleted or store.address_exists(session=session, address_id=address.id):
                self._save(session, address.id, new_state, now)
            session.commit()
        return outcome.replies

    def area_lists(self, session: Session, codes: Sequence[str] | None, today: date) -> AreaLists:
        """The unreached members of the area (None: everywhere), as the officers' lists show them. Everywhere is
        the daily run, which puts newcomers on the listing clock today (`keep_listing_clock` writes it down)."""
        listed = unreached(
            session=session,
            codes=None if codes is None else list(codes),
            today=today,
            policy=self.policy,
            tariffs=self.tariffs,
        )
        return AreaLists.of(listed, self.cipher, new_since=today if codes is None else None)

    def keep_listing_clock(self, lists: AreaLists, today: date) -> None:
        """Write down who is on today's lists, in one process, in a transaction of its own that the digests need not
        wait for (a province's first day writes 150,000 rows; `area_lists` already gave the lists the readings)."""
        with Session(self.engine) as session:
            if try_lead(session, LISTING_LOCK):
                listing.track(session=session, member_ids=lists.member_ids(), today=today)
            session.commit()

    def run_for(
        self,
        chats: Sequence[officers.Briefed],
        task: Callable[[Context, Outcome], object],
        now: datetime,
        *,
        lists: AreaLists | None = None,
        claim: Callable[[Session, list[int]], set[int]] | None = None,
    ) -> list[list[Reply] | None]:
        """Run a pure dialog function for several officers' chats outside a conversation (their digests), applying
        its effects, all in one transaction: a thousand digests a morning are a few dozen transactions, not a
        thousand. With a `claim` (given the officer ids, returns those it got): None, and nothing done, for the
        officers it did not get (already done elsewhere)."""
        with Session(self.engine) as session:
            ids = [one.officer.id or 0 for one in chats]
            claimed = set(ids) if claim is None else claim(session, ids)
            mine = [one for one in chats if (one.officer.id or 0) in claimed]
            states = self._load_many(session, [one.address.id or 0 for one in mine])
            results: dict[int, list[Reply]] = {}
            remembered: dict[int, State] = {}
            viewed: list[tuple[str, str, Sequence[int]]] = []  # audited for the whole batch in one statement
            for one in mine:
                address_id, channel = one.address.id or 0, one.address.channel
                lookups = _Lookups(session, self, address_id, self.today(now), lists=lists, briefed=one)
                outcome = Outcome()
                task(self._context(lookups, now), outcome)
                for effect in outcome.effects:
                    if isinstance(effect, ViewedMembers):
                        viewed.append(_viewed(effect, channel, address_id))
                        continue
                    outcome.replies.extend(self._apply(session, effect, address_id=address_id, channel=channel,
                                                       now=now, lookups=lookups))  # fmt: skip
                state = states.get(address_id) or State()
                if state.flow in (Flow.NONE, Flow.OFFICER):  # a typed answer may refer to what was just sent
                    remembered[address_id] = dialog.remember(state, outcome)
                results[one.officer.id or 0] = outcome.replies
            audit_log.audit_viewed(session=session, views=viewed, now=now)
            self._save_many(session, remembered, now)
            session.commit()
        return [None if (said := results.get(i)) is None else render(said, self.regions) for i in ids]  # files made now

    def _load_many(self, session: Session, address_ids: list[int]) -> dict[int, State]:
        rows = store.lock_conversations(session=session, address_ids=address_ids)
        return {row.address_id: self._state_of(row) for row in rows}

    def _apply(
        self,
        session: Session,
        effect: Effect,
        *,
        address_id: int,
        channel: str,
        now: datetime,
        lookups: _Lookups,
    ) -> list[Reply]:
        """Write one effect (if this chat may), audit it, and return anything more to say (an invitation code)."""
        action, subject, detail, said = "", 0, "", list[Reply]()
        match effect:
            case RecordConsent(granted=granted):
                decision = ConsentDecision.GRANTED if granted else ConsentDecision.REFUSED
                store.record_consent(
                    session=session,
                    address_id=address_id,
                    decision=decision,
                    version=self.config.consent_version,
                    now=now,
                )
            case SaveMember(fields=fields, on_behalf=on_behalf):
                # Registered door to door by an officer: reachable at their own number, never at the officer's chat.
                behalf = on_behalf and lookups.officer() is not None
                member = store.create_member(
                    session=session,
                    cipher=self.cipher,
                    nik=str(fields["nik"]),
                    fields=fields,
                    address_id=None if behalf else address_id,
                    now=now,
                )
                assert member.id is not None
                store.link_consent(session=session, address_id=address_id, member_id=member.id)
                if member.phone:
                    store.link_phone_address(session=session, member_id=member.id, phone=member.phone, now=now)
                action, subject = ("member.register_by_officer" if behalf else "member.register"), member.id
            case UpdateMember(member_id=member_id, fields=fields) if member_id in lookups.owned():
                row = session.get(Member, member_id)
                assert row is not None
                changed = store.update_member(session=session, cipher=self.cipher, member=row, fields=fields, now=now)
                action, subject, detail = "member.update", member_id, ",".join(changed)
            case DeleteMember(member_id=member_id) if member_id in lookups.owned():
                store.delete_member(session=session, member_id=member_id)
                action, subject = "member.delete", member_id
            case RecordPayment(member_id=member_id, cycle=cycle, months=months) if member_id in lookups.answerable():
                row = session.get(Member, member_id)
                assert row is not None
                record_payment(
                    session=session,
                    tariffs=self.tariffs,
                    member=row,
                    first=month_of(cycle),
                    months=months,
                    source=PaymentSource.SELF_REPORT,
                    now=now,
                )
                action, subject, detail = "payment.self_report", member_id, f"{cycle}+{months}"
            case RequestHelp(member_id=member_id) if member_id in lookups.answerable():
                row = session.get(Member, member_id)
                assert row is not None
                row.help_requested_at = now
                session.add(row)
                action, subject = "member.help_requested", member_id
            case SetOptOut(member_ids=member_ids, opted_out=opted_out):
                for member_id in set(member_ids) & lookups.owned():
                    row = session.get(Member, member_id)
                    assert row is not None
                    row.opted_out, row.updated_at = opted_out, now
                    session.add(row)
                    if opted_out:  # processing stops at once: nothing already queued goes out
                        outbox.cancel_pending(
                            session=session, member_id=member_id, before_cycle=999999, reason="opted_out"
                        )
                    audit_log.audit(
                        session=session,
                        actor=f"{channel}:{address_id}",
                        action="member.opt_out" if opted_out else "member.opt_in",
                        subject=f"member:{member_id}",
                        now=now,
                    )
            case AcceptInvitation(code=code) if code.startswith("of_"):
                officer = officers.bind_officer(session=session, code=code, address_id=address_id)
                if officer is not None:
                    action, subject = "officer.bind", officer.id or 0
            case AcceptInvitation(code=code):
                sponsor = sponsors.sponsor_by_code(session=session, code=code)
                if sponsor is not None:  # a new phone of the same sponsor takes over from the old one
                    sponsor.address_id = address_id
                    session.add(sponsor)
                    action, subject = "sponsor.bind", sponsor.id or 0
            case UnbindSponsor():
                sponsor = sponsors.sponsor_of_address(session=session, address_id=address_id)
                if sponsor is not None:
                    sponsor.address_id = None
                    session.add(sponsor)
                    action, subject = "sponsor.unbind", sponsor.id or 0
            case ViewedMembers():
                audit_log.audit_viewed(session=session, views=[_viewed(effect, channel, address_id)], now=now)
            case RecordFollowUp() if (follow := self._follow_up(session, effect, lookups.officer(), now)) is not None:
                action, subject, detail = "officer.outcome", effect.member_id, follow
            case Refused(command=command):
                action, detail = "admin.refused", command[:40]
            case AddStaff() | ChangeStaff() | RecordVerifiedPayment() | SetPaused():
                action, subject, detail, said = self._admin(session, effect, lookups, now)
            case StageImport(token=token, filename=filename, rows=rows) if lookups.is_admin():
                imports.stage(session=session, cipher=self.cipher, token=token, address_id=address_id,
                              filename=filename, rows=rows, now=now)  # fmt: skip
                action, detail = "import.stage", f"{len(rows)} rows"
            case DecideImport(token=token, go=go) if lookups.is_admin():
                batch = imports.set_status(session=session, token=token, address_id=address_id,
                                           status="confirmed" if go else "cancelled")  # fmt: skip
                if batch is None:
                    said = [Reply(t("admin.import_stale"))]
                else:
                    action, detail = ("import.confirm" if go else "import.cancel"), f"{batch.total} rows"
                    said = [Reply(t("admin.import_started", total=batch.total) if go else t("admin.import_cancelled"))]
            case StageBroadcast(token=token, segment=segment, text=text) if lookups.staff() is not None:
                broadcasts.stage(session=session, token=token, address_id=address_id, text=text, segment=segment,
                                 now=now)  # fmt: skip
                action, detail = "broadcast.stage", segment
            case DecideBroadcast(token=token, go=go):
                found = broadcasts.decide(session=session, token=token, address_id=address_id, go=go)
                if found is None:
                    said = [Reply(t("broadcast.stale"))]
                elif go:
                    members = lookups.broadcast_members(found.segment)  # counted again: the preview may be old
                    count = broadcasts.queue(session=session, broadcast=found, member_ids=members,
                                             zone=self.zone.key, now=now)  # fmt: skip
                    action, subject, detail = "broadcast.queue", found.id or 0, f"{count} members {found.segment}"
                    said = [Reply(t("broadcast.queued", members=count))]
                else:
                    action, subject, detail = "broadcast.cancel", found.id or 0, found.segment
                    said = [Reply(t("broadcast.cancelled"))]
            case Exported(count=count, detail=wanted):
                action, detail = "member.export", f"{count} members {wanted}".strip()
            case (
                UpdateMember(member_id=member_id)
                | DeleteMember(member_id=member_id)
                | RecordPayment(member_id=member_id)
                | RequestHelp(member_id=member_id)
            ):
                # The dialog only offers this chat's members; anything else is tampering or a race. Refuse quietly.
                action, subject = "member.denied", member_id
        if action:
            # Column names only, never values: the audit log holds no personal data.
            audit_log.audit(
                session=session,
                actor=f"{channel}:{address_id}",
                action=action,
                subject=f"{_subject_kind(action)}:{subject}",
                detail=detail,
                now=now,
            )
        lookups.forget()
        return said

    def _admin(
        self, session: Session, effect: Effect, lookups: _Lookups, now: datetime
    ) -> tuple[str, int, str, list[Reply]]:
        """An admin command's write, checked again against the caller's role and area (the dialog's view of them
        could be forged or stale): (audit action, subject id, detail, replies)."""
        staff = lookups.staff()
        scope = None if staff is not None and staff.role == OfficerRole.ADMIN else list(staff.codes if staff else ())
        is_admin = scope is None
        manageable = {line.id for line in lookups.staff_list()}
        match effect:
            case AddStaff(name=name, codes=codes, role=role) if is_admin or (
                role == OfficerRole.OFFICER and codes and all(inside(c, scope or []) for c in codes)
            ):
                added = officers.create_officer(session=session, name=name, phone=None, codes=codes, now=now,
                                                role=OfficerRole(role))  # fmt: skip
                return "staff.add", added.id or 0, role, [self._invitation(added)]
            case ChangeStaff(officer_id=officer_id, action=change) if officer_id in manageable:
                row = session.get(Officer, officer_id)
                assert row is not None
                said: list[Reply] = []
                if change == "areas" and (is_admin or all(inside(c, scope or []) for c in effect.codes)):
                    admin_store.set_areas(session=session, officer_id=officer_id, codes=effect.codes)
                elif change == "role" and is_admin:
                    admin_store.set_role(row, OfficerRole(effect.role))
                elif change == "deactivate":
                    admin_store.deactivate(row)
                elif change == "invite":
                    admin_store.new_invitation(row)
                    said = [self._invitation(row)]
                else:
                    return "staff.denied", officer_id, change, []
                session.add(row)
                return f"staff.{change}", officer_id, effect.role or ",".join(effect.codes), said
            case RecordVerifiedPayment(member_id=member_id, months=months):
                member = session.get(Member, member_id)
                if member is None or not (is_admin or inside(member.desa_code, scope or [])):
                    return "payment.denied", member_id, "", []
                first = ContributionMonth.of(member.covered_until).plus(1) if member.covered_until else None
                first = first or ContributionMonth(self.today(now).year, self.today(now).month)
                payment = record_payment(session=session, tariffs=self.tariffs, member=member, first=first,
                                         months=months, source=PaymentSource.ADMIN, now=now)  # fmt: skip
                payment.verified = True
                session.add(payment)
                return "payment.verified", member_id, f"{cycle_key(first)}+{months}", []
            case SetPaused(paused=paused) if is_admin:
                controls.set_paused(session=session, value=paused, now=now)
                return ("service.pause" if paused else "service.resume"), 0, "", []
        return "admin.denied", 0, type(effect).__name__, []

    def _invitation(self, officer: Officer) -> Reply:
        code = officer.invite_code or ""
        link = f"https://t.me/{self.config.bot_username}?start={code}" if self.config.bot_username else ""
        return Reply(t("admin.invitation", name=officer.name, code=code, link=link).strip())

    def _follow_up(
        self, session: Session, effect: RecordFollowUp, officer: Officer | None, now: datetime
    ) -> str | None:
        """Apply an officer's outcome, if the member lives in that officer's area; returns what was recorded."""
        member = session.get(Member, effect.member_id)
        if officer is None or officer.id is None or member is None or member.id is None:
            return None
        if not officers.covers(session=session, officer_id=officer.id, member=member):
            return None
        first_unpaid = ContributionMonth.of(member.covered_until).plus(1) if member.covered_until else None
        session.add(
            FollowUp(member_id=member.id, officer_id=officer.id, outcome=effect.outcome, at=now,
                     cycle=cycle_key(first_unpaid) if first_unpaid else None)
        )  # fmt: skip
        member.help_requested_at, member.updated_at = None, now
        if effect.outcome == FollowUpOutcome.PAID and effect.months and first_unpaid is not None:
            record_payment(session=session, tariffs=self.tariffs, member=member, first=first_unpaid,
                           months=effect.months, source=PaymentSource.OFFICER, now=now)  # fmt: skip
        elif effect.outcome in {FollowUpOutcome.MOVED_OR_DIED, FollowUpOutcome.REFUSED}:
            member.opted_out = True
            outbox.cancel_pending(session=session, member_id=member.id, before_cycle=999999, reason=effect.outcome)
        elif effect.outcome == FollowUpOutcome.WRONG_NUMBER and effect.phone:
            member.phone = effect.phone
            store.link_phone_address(session=session, member_id=member.id, phone=effect.phone, now=now)
        session.add(member)
        return effect.outcome

    def _back_to_nik(self, channel: str, external_id: str, now: datetime) -> list[Reply]:
        with Session(self.engine) as session:
            address = store.get_or_create_address(session=session, channel=channel, external_id=external_id, now=now)
            assert address.id is not None
            state = self._load(session, address.id)
            draft = state.draft.model_copy(update={"nik": None})
            # Back at the NIK question; once a free NIK is typed the flow returns to its summary or saves the edit.
            state = state.at(Step.NIK, draft=draft, edit_field=EditField.NIK, updated_at=now)
            lookups = _Lookups(session, self, address.id, self.today(now))
            reply = dialog.question(state, self._context(lookups, now))
            self._save(session, address.id, state, now)
            session.commit()
        return [Reply(f"{t('invalid.nik_taken')}\n\n{reply.text}", reply.choices)]


def _viewed(effect: ViewedMembers, channel: str, address_id: int) -> tuple[str, str, Sequence[int]]:
    """Who saw which members, as `audit_viewed` records it."""
    return f"{channel}:{address_id}", f"officer:{address_id}", effect.member_ids


def _subject_kind(action: str) -> str:
    """What an audit entry is about: staff, sponsor and service actions name them, everything else a member."""
    kind = action.split(".", maxsplit=1)[0]
    return (
        kind if kind in {"sponsor", "staff", "service", "admin", "broadcast"} or action == "officer.bind" else "member"
    )
