"""Runs one dialog step per incoming message, all in one transaction: lock the conversation, load its state, step,
write each effect through its handler (`service.effects.HANDLERS`), save."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, InternalError, OperationalError
from sqlmodel import Session

from bot.dialogs import dialog
from bot.dialogs.core import Context, DeleteMember, DialogConfig, Incoming, Outcome, Reply, ViewedMembers
from bot.dialogs.state import EditField, Flow, State, Step
from bot.texts import current_channel, speaking, t
from domain.policy import ReminderPolicy
from domain.regions import RegionIndex
from domain.rules import DEFAULT_STAGES, parse_stages
from domain.tariffs import Tariffs, default_tariffs
from domain.vocabulary import Channel
from service.effect_context import EffectContext
from service.effects import apply_all
from service.files import may_import, read_upload, render
from service.members import viewed_entry
from service.readers import Readers
from service.unreached import AreaLists, area_lists
from storage import audit as audit_log
from storage import members as store
from storage import officers, outbox
from storage import unreached as listing
from storage.crypto import Cipher
from storage.db import LISTING_LOCK, try_lead
from storage.models import Conversation

__all__ = ["AreaLists", "Conversations"]

log = logging.getLogger(__name__)

Within = Callable[[Session], None]  # runs in a step's transaction just before its commit


@dataclass(frozen=True, slots=True)
class Conversations:
    engine: Engine
    cipher: Cipher
    regions: RegionIndex
    config: DialogConfig
    zone: ZoneInfo
    tariffs: Tariffs = field(default_factory=default_tariffs)
    policy: ReminderPolicy = field(default_factory=lambda: ReminderPolicy(stages=parse_stages(DEFAULT_STAGES)))

    def handle(
        self, channel: str, external_id: str, incoming: Incoming, now: datetime, *, within: Within | None = None
    ) -> list[Reply]:
        """Answer one message from one address. Database trouble becomes a polite 'try again', never silence.
        `within` runs in the step's transaction just before its commit (the inbox marks its row processed there);
        it does not run when the step fails."""
        # The terminal speaks as the channel it imitates (the caller's `speaking`); the others as themselves.
        with speaking(current_channel() if channel == Channel.CONSOLE else channel):
            return self._answer(channel, external_id, incoming, now, within)

    def _answer(
        self, channel: str, external_id: str, incoming: Incoming, now: datetime, within: Within | None = None
    ) -> list[Reply]:
        try:
            # A sheet is read before the chat is locked, files are made after the commit.
            chat, today = (channel, external_id), self.today(now)
            upload = read_upload(self.engine, self.config, self.regions, incoming, chat=chat, today=today)
            return render(self._handle(channel, external_id, upload, now, within), self.regions)
        except IntegrityError as error:
            if "nik_hash" in str(error.orig):  # the constraint's name, on SQLite and PostgreSQL alike
                # Two chats finished registering the same NIK at the same moment: the loser is asked for it again.
                log.info("duplicate NIK at save on %s", channel)
                return self._back_to_nik(channel, external_id, now, within)
            log.exception("integrity error while handling a %s message", channel)  # a bug: say so, never a wrong "NIK"
            return [Reply(t("error.temporary"))]
        except (OperationalError, InternalError):  # InternalError: PostgreSQL read-only (tests/channels/test_degraded)
            log.exception("database unavailable while handling a %s message", channel)
            return [Reply(t("error.temporary"))]

    def may_import(self, channel: str, external_id: str) -> bool:
        """Whether this chat may import member spreadsheets (an admin's): a channel fetches a file only then."""
        return may_import(self.engine, self.config, channel, external_id)

    def today(self, now: datetime) -> date:
        return now.astimezone(self.zone).date()

    def _handle(
        self, channel: str, external_id: str, incoming: Incoming, now: datetime, within: Within | None = None
    ) -> list[Reply]:
        with Session(self.engine) as session:
            address = store.get_or_create_address(session=session, channel=channel, external_id=external_id, now=now)
            assert address.id is not None
            address.last_inbound_at = now
            session.add(address)
            if channel == Channel.WHATSAPP:
                store.link_members_by_phone(session=session, address=address, now=now)
            state = self._load(session, address.id)
            readers = Readers.of(session, self, address.id, self.today(now), who=f"{channel}:{external_id}", now=now)
            new_state, outcome = dialog.step(state, incoming, self._context(readers, now))
            effects = EffectContext.of(session, self, readers, address_id=address.id, channel=channel, now=now)
            outcome.replies.extend(apply_all(effects, outcome.effects))
            # Deleting a member removes their WhatsApp number, which may be this very chat: then nothing is kept of
            # it, not even the conversation (the next message starts afresh).
            deleted = any(isinstance(e, DeleteMember) for e in outcome.effects)
            if not deleted or store.address_exists(session=session, address_id=address.id):
                self._save(session, address.id, new_state, now)
            if new_state.resting and not state.resting:
                outbox.release_busy(session=session, address_id=address.id, now=now)
            if within is not None:
                within(session)
            session.commit()
        return outcome.replies

    def _context(self, readers: Readers, now: datetime) -> Context:
        return Context(
            config=self.config,
            policy=self.policy,
            regions=self.regions,
            chat=readers.chat,
            staff=readers.staff,
            area=readers.area,
            admin=readers.admin,
            now=now,
            today=self.today(now),
            tariffs=self.tariffs,
        )

    def _load(self, session: Session, address_id: int) -> State:
        row = store.lock_conversation(session=session, address_id=address_id)
        return State() if row is None else self._state_of(row)

    def _load_many(self, session: Session, address_ids: list[int]) -> dict[int, State]:
        rows = store.lock_conversations(session=session, address_ids=address_ids)
        return {row.address_id: self._state_of(row) for row in rows}

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
        sealed = {address_id: self._seal(state) for address_id, state in states.items()}
        resting = {address_id for address_id, state in states.items() if state.resting}
        store.save_conversations(session=session, states=sealed, resting=resting, now=now)

    def _seal(self, state: State) -> str:
        return self.cipher.encrypt(state.model_dump_json(exclude_defaults=True))

    def area_lists(self, session: Session, codes: Sequence[str] | None, today: date) -> AreaLists:
        """The unreached members of the area (None: everywhere), as the officers' lists show them. Everywhere is
        the daily run, which puts newcomers on the listing clock today (`keep_listing_clock` writes it down)."""
        return area_lists(
            session,
            codes,
            today,
            policy=self.policy,
            tariffs=self.tariffs,
            cipher=self.cipher,
            channels=self.config.channels,
        )

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
            batch = _Batch(session, now, lists, self._load_many(session, [one.address.id or 0 for one in mine]))
            results = {one.officer.id or 0: self._run_one(batch, one, task) for one in mine}
            audit_log.audit_viewed(session=session, views=batch.viewed, now=now)
            self._save_many(session, batch.remembered, now)
            session.commit()
        return [None if (said := results.get(i)) is None else render(said, self.regions) for i in ids]  # files made now

    def _run_one(self, batch: _Batch, one: officers.Briefed, task: Callable[[Context, Outcome], object]) -> list[Reply]:
        """One officer's part of `run_for`: the task, its effects, and what the officer's chat should remember."""
        session, now, address_id, channel = batch.session, batch.now, one.address.id or 0, one.address.channel
        readers = Readers.of(session, self, address_id, self.today(now), lists=batch.lists, briefed=one)
        outcome = Outcome()
        task(self._context(readers, now), outcome)
        viewed = [e for e in outcome.effects if isinstance(e, ViewedMembers)]  # audited for the whole batch at once
        batch.viewed.extend(viewed_entry(effect, channel, address_id) for effect in viewed)
        others = [e for e in outcome.effects if not isinstance(e, ViewedMembers)]
        effects = EffectContext.of(session, self, readers, address_id=address_id, channel=channel, now=now)
        outcome.replies.extend(apply_all(effects, others))
        state = batch.states.get(address_id) or State()
        if state.flow in (Flow.NONE, Flow.OFFICER):  # a typed answer may refer to what was just sent
            batch.remembered[address_id] = dialog.remember(state, outcome)
        return outcome.replies

    def _back_to_nik(self, channel: str, external_id: str, now: datetime, within: Within | None = None) -> list[Reply]:
        with Session(self.engine) as session:
            address = store.get_or_create_address(session=session, channel=channel, external_id=external_id, now=now)
            assert address.id is not None
            state = self._load(session, address.id)
            draft = state.draft.model_copy(update={"nik": None})
            # Back at the NIK question; once a free NIK is typed the flow returns to its summary or saves the edit.
            state = state.at(Step.NIK, draft=draft, edit_field=EditField.NIK, updated_at=now)
            readers = Readers.of(session, self, address.id, self.today(now))
            reply = dialog.question(state, self._context(readers, now))
            self._save(session, address.id, state, now)
            if within is not None:
                within(session)
            session.commit()
        return [Reply(f"{t('invalid.nik_taken')}\n\n{reply.text}", reply.choices)]


@dataclass(slots=True)
class _Batch:
    """One transaction of `run_for`: the officers' states as loaded, what their chats remember, who saw whom."""

    session: Session
    now: datetime
    lists: AreaLists | None
    states: dict[int, State]
    remembered: dict[int, State] = field(default_factory=dict)
    viewed: list[audit_log.Viewed] = field(default_factory=list)
