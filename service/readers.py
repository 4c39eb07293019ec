"""The dialogs' window on the database while one message (or one digest) is handled, a reader per concern: this
chat's members (`ChatMembers`), its staff role (`StaffRoles`), an officer's area and list (`OfficerLists`), the admin
commands' views (`AdminViews`). They serve the dialogs' reader protocols (`bot.dialogs.core`) and, with a few checks
of their own (`owned`, `answerable`, `scope`, `officer`, `broadcast_members`), the effect handlers.

Each reads through the message's session and keeps what it read for the rest of the message; `Readers.forget` drops
what an effect may have changed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal, Protocol
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.dialogs.core import DialogConfig, MemberView, ReminderView, StaffLine, StaffView, UnreachedView
from bot.texts import t
from domain.identity import NIK_TRY_WINDOW, KpjProblem, Nik, parse_kpj, parse_nik
from domain.member_rows import Plan as ImportPlan
from domain.member_rows import Row as ImportRow
from domain.policy import ReminderPolicy
from domain.regions import RegionIndex, inside
from domain.rules import Standing
from domain.stats import AreaStats
from domain.tariffs import Tariffs
from domain.vocabulary import Channel, OfficerRole
from service import stats
from service.unreached import AreaLists, area_lists
from service.why import find_members, timeline
from storage import audit as audit_log
from storage import broadcasts, controls, imports, officers, outbox, sponsors
from storage import members as store
from storage.crypto import Cipher
from storage.models import Address, AuditEntry, Member, Officer, Reminder


class Setup(Protocol):
    """The service's fixed parts that readers and effect handlers use (`Conversations` has them)."""

    @property
    def cipher(self) -> Cipher: ...

    @property
    def regions(self) -> RegionIndex: ...

    @property
    def config(self) -> DialogConfig: ...

    @property
    def zone(self) -> ZoneInfo: ...

    @property
    def tariffs(self) -> Tariffs: ...

    @property
    def policy(self) -> ReminderPolicy: ...


class ChatMembers:
    """The members registered from this chat, the reminders sent to it, the sponsor and invitations it may accept."""

    def __init__(
        self, session: Session, cipher: Cipher, address_id: int, *, invitations_since: datetime, now: datetime | None
    ) -> None:
        self._session, self._cipher, self._address_id = session, cipher, address_id
        self.invitations_since = invitations_since  # codes issued before this have expired
        self._now = now or datetime.now(UTC)
        self._members: list[MemberView] | None = None
        self._address: Address | None = None

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
        """Whom a working code invites; None for a code unknown, used, revoked or expired alike."""
        since = self.invitations_since
        if code.startswith("of_"):
            officer = officers.officer_by_code(session=self._session, code=code, issued_after=since)
            return officer.name if officer else None
        sponsor = sponsors.sponsor_by_code(session=self._session, code=code, issued_after=since)
        return sponsor.name if sponsor else None

    def is_sponsor(self) -> bool:
        return sponsors.sponsor_of_address(session=self._session, address_id=self._address_id) is not None

    def own_number(self) -> str | None:
        return store.number_of_address(session=self._session, address_id=self._address_id)

    def _here(self) -> Address:
        if self._address is None:
            self._address = self._session.get(Address, self._address_id)
        assert self._address is not None
        return self._address

    def proves(self, phone: str | None) -> bool:
        return store.proof_for(self._here(), phone)[0] is not None

    def waiting(self) -> int:
        return store.waiting_of_address(session=self._session, address_id=self._address_id)

    def waiting_with_phone(self, phone: str) -> int:
        return store.waiting_with_phone(session=self._session, address_id=self._address_id, phone=phone)

    def nik_attempts(self) -> int:
        since = self._now - NIK_TRY_WINDOW
        return store.nik_attempts(session=self._session, address_id=self._address_id, since=since)

    def can_claim(self, nik: str, shared: str | None = None) -> bool:
        member = store.member_by_nik(session=self._session, nik_hash=self._cipher.lookup_hash(nik))
        if member is None or not member.phone:
            return False
        if shared is not None:
            return self._here().channel == Channel.TELEGRAM and shared == member.phone
        return store.proof_for(self._here(), member.phone)[0] in store.NUMBER_PROOFS

    def owned(self) -> set[int]:
        """The members registered from this chat."""
        return {m.id for m in self.members_here()}

    def answerable(self) -> set[int]:
        """Reminders can be answered by the members' own chats and by the chat of whoever pays for them."""
        return self.owned() | sponsors.sponsored_member_ids(session=self._session, address_id=self._address_id)

    def forget(self) -> None:
        self._members, self._address = None, None


# The roles a coordinator may add, re-invite, move or deactivate: officers only (no takeover of a peer or an admin).
MANAGED_BY_COORDINATORS = frozenset({OfficerRole.OFFICER})


class StaffRoles:
    """Who this chat is on the staff side (an admin named in the settings, or a bound officer, coordinator or admin),
    the area that role covers, and the staff it may manage."""

    def __init__(
        self,
        session: Session,
        admins: frozenset[str],
        address_id: int,
        *,
        who: str = "",
        briefed: officers.Briefed | None = None,
    ) -> None:
        self._session, self._admins, self._address_id = session, admins, address_id
        self._who = who  # "channel:external id": settings may name it an admin
        self._briefed = briefed  # the officer and their area, looked up for all officers of a run at once
        self._officer: Officer | Literal[False] | None = briefed.officer if briefed else None  # False: not one

    def _record(self) -> Officer | None:
        if self._officer is None:
            self._officer = officers.officer_of_address(session=self._session, address_id=self._address_id) or False
        return self._officer or None

    def officer(self) -> Officer | None:
        """The officer or coordinator this chat belongs to (admins have no list of their own)."""
        found = self._record()
        return found if found is not None and found.role != OfficerRole.ADMIN else None

    def here(self) -> StaffView | None:
        if self._who in self._admins:
            return StaffView(OfficerRole.ADMIN)
        found = self._record()
        if found is None or found.id is None:
            return None
        codes = () if found.role == OfficerRole.ADMIN else tuple(self.officer_codes())
        return StaffView(found.role, codes)

    def is_admin(self) -> bool:
        staff = self.here()
        return staff is not None and staff.role == OfficerRole.ADMIN

    def scope(self) -> list[str] | None:
        """The area this chat's staff role covers: None everywhere (an admin), [] nowhere."""
        staff = self.here()
        if staff is None:
            return []
        return None if staff.role == OfficerRole.ADMIN else list(staff.codes)

    def area(self, kecamatan: str | None) -> list[str] | None:
        """What a command about `kecamatan` (None: all of it) may cover for this chat's staff role: None everywhere,
        [] nothing; a coordinator of some desa of that kecamatan gets those desa."""
        scope = self.scope()
        if kecamatan is None or scope is None:
            return scope if kecamatan is None else [kecamatan]
        desa_inside = [c for c in scope if inside(c, [kecamatan])]
        if desa_inside:
            return desa_inside
        return [kecamatan] if inside(kecamatan, scope) else []

    def manageable(self) -> Sequence[StaffLine]:
        """Everyone for an admin; for a coordinator the officers inside their area, never a coordinator or admin."""
        scope = self.scope()
        if scope == []:
            return []
        roles = None if scope is None else MANAGED_BY_COORDINATORS
        return [_staff_line(one) for one in officers.staff(session=self._session, within=scope, roles=roles)]

    def officer_codes(self) -> list[str]:
        """The kecamatan and desa codes of this chat's officer ([] for anyone else)."""
        if self._briefed is not None:
            return self._briefed.codes
        found = self._record()
        return officers.area_codes(session=self._session, officer_id=found.id) if found and found.id else []

    def forget(self) -> None:
        self._officer = self._briefed.officer if self._briefed else None


class OfficerLists:
    """The officer's area: their list of unreached members and their members (nothing for anyone else)."""

    def __init__(
        self, session: Session, setup: Setup, today: date, staff: StaffRoles, *, lists: AreaLists | None = None
    ) -> None:
        self._session, self._setup, self._today, self._staff = session, setup, today, staff
        self._lists = lists  # everyone's lists, computed once for a run of digests
        self._unreached: list[UnreachedView] | None = None

    def officer_name(self) -> str | None:
        found = self._staff.officer()
        return found.name if found else None

    def is_coordinator(self) -> bool:
        found = self._staff.officer()
        return found is not None and found.role == OfficerRole.COORDINATOR

    def unreached_here(self) -> Sequence[UnreachedView]:
        if self._unreached is None:
            self._unreached = self._compute_unreached()
        return self._unreached

    def _compute_unreached(self) -> list[UnreachedView]:
        codes = self._staff.officer_codes()
        if not codes:
            return []
        setup = self._setup
        lists = self._lists or area_lists(
            self._session,
            codes,
            self._today,
            policy=setup.policy,
            tariffs=setup.tariffs,
            cipher=setup.cipher,
            channels=setup.config.channels,
        )
        return lists.for_codes(codes)

    def search(self, query: str) -> Sequence[MemberView]:
        codes = self._staff.officer_codes()
        if not codes:
            return []
        cipher = self._setup.cipher
        nik = parse_nik(query, regions=self._setup.regions, today=self._today)
        kpj = parse_kpj(query)
        rows = officers.search_area(
            session=self._session,
            codes=codes,
            nik_hash=cipher.lookup_hash(nik.value) if isinstance(nik, Nik) else None,
            kpj=None if isinstance(kpj, KpjProblem) else kpj,
            name="" if query.strip().isdigit() else query.strip(),
        )
        return [member_view(row, cipher) for row in rows]

    def all_members(self) -> Sequence[MemberView]:
        codes = self._staff.officer_codes()
        rows = officers.members_in_area(session=self._session, codes=codes) if codes else []
        return [member_view(row, self._setup.cipher) for row in rows]

    def forget(self) -> None:
        self._unreached = None


class AdminViews:
    """What the admin commands read, each within this chat's staff area."""

    def __init__(self, session: Session, setup: Setup, today: date, staff: StaffRoles) -> None:
        self._session, self._setup, self._today, self._staff = session, setup, today, staff
        self._standings: dict[date | None, Standing] = {}

    def member_timelines(self, query: str) -> Sequence[tuple[int, str]]:
        found = self._find_members(query)
        setup = self._setup
        return [
            (
                m.id or 0,
                "\n".join(timeline(self._session, setup.cipher, m, setup.policy, self._today, tariffs=setup.tariffs)),
            )
            for m in found[:5]
        ]

    def member_by_nik(self, nik: str) -> MemberView | None:
        found = self._find_members(nik)
        return member_view(found[0], self._setup.cipher) if len(found) == 1 else None

    def _find_members(self, query: str) -> list[Member]:
        scope = self._staff.scope()
        if scope == []:
            return []
        found = find_members(self._session, self._setup.cipher, self._setup.regions, query, self._today)
        if not found and not query.strip().isdigit():  # a name
            name = query.strip()
            found = list(officers.search_area(session=self._session, codes=scope, nik_hash=None, kpj=None, name=name))
        return [m for m in found if scope is None or inside(m.desa_code, scope)]

    def paused(self) -> bool:
        return controls.paused(session=self._session)

    def audit_lines(self) -> Sequence[str]:
        return [self._audit_line(entry) for entry in audit_log.recent_audit(session=self._session)]

    def _audit_line(self, entry: AuditEntry) -> str:
        at = entry.at.astimezone(self._setup.zone).strftime("%d-%m %H:%M")
        return t("admin.audit_line", at=at, actor=entry.actor, action=entry.action, subject=entry.subject)

    def import_plan(self, rows: Sequence[ImportRow]) -> ImportPlan:
        return imports.plan(self._session, self._setup.cipher, rows)

    def statistics(self, kecamatan: str | None) -> tuple[Sequence[AreaStats], Sequence[AreaStats]]:
        area = self._staff.area(kecamatan)
        if area == []:
            return [], []
        today, policy = self._today, self._setup.policy
        channels = self._setup.config.channels
        areas = stats.compute(session=self._session, today=today, policy=policy, codes=area, channels=channels)
        weekly = stats.trend(session=self._session, today=today, kecamatan=[a.kecamatan for a in areas])
        return areas, weekly

    def broadcast_audience(self, segment: str) -> tuple[int, int]:
        found = self.broadcast_members(segment)
        channels = self._setup.config.channels
        return len(found), broadcasts.reachable_chats(session=self._session, member_ids=found, channels=channels)

    def broadcast_members(self, segment: str) -> list[int]:
        """The members of a segment (`kecamatan=…;status=…;occupation=…`) inside this chat's staff area."""
        spec = dict(part.split("=", 1) for part in segment.split(";") if "=" in part)
        codes = self._staff.area(spec.get("kecamatan"))
        if codes == []:
            return []
        standing = Standing(spec["status"]) if "status" in spec else None

        def covered(day: date | None) -> bool:
            return self._standing(day) == standing

        within = None if codes is None else tuple(codes)
        wanted = broadcasts.Segment(within, covered if standing else None, spec.get("occupation"))
        return broadcasts.members(session=self._session, segment=wanted)

    def export_rows(self, kecamatan: str | None, status: Standing | None) -> Sequence[ImportRow]:
        area = self._staff.area(kecamatan)
        if area == []:
            return []
        found = imports.export_rows(session=self._session, cipher=self._setup.cipher, codes=area)
        return found if status is None else [row for row in found if self._standing(row.covered_until) == status]

    def _standing(self, covered_until: date | None) -> Standing:
        """A member's standing today, by their covered-until date (a few distinct dates for thousands of members)."""
        if covered_until not in self._standings:
            policy = self._setup.policy
            found = policy.coverage(covered_until, self._today)
            self._standings[covered_until] = found.standing
        return self._standings[covered_until]


@dataclass(frozen=True, slots=True)
class Readers:
    """The four readers of one message (or one officer's digest), over one session."""

    chat: ChatMembers
    staff: StaffRoles
    area: OfficerLists
    admin: AdminViews

    @classmethod
    def of(
        cls,
        session: Session,
        setup: Setup,
        address_id: int,
        today: date,
        *,
        who: str = "",
        lists: AreaLists | None = None,
        briefed: officers.Briefed | None = None,
        now: datetime | None = None,
    ) -> Readers:
        """`who` ("channel:external id") for the settings' admins; `lists` and `briefed` from a run of digests; `now`
        dates the invitations that still work (without it, the start of `today`)."""
        staff = StaffRoles(session, setup.config.admins, address_id, who=who, briefed=briefed)
        since = (now or datetime.combine(today, time.min, tzinfo=UTC)) - timedelta(days=setup.config.invite_days)
        return cls(
            chat=ChatMembers(session, setup.cipher, address_id, invitations_since=since, now=now),
            staff=staff,
            area=OfficerLists(session, setup, today, staff, lists=lists),
            admin=AdminViews(session, setup, today, staff),
        )

    def forget(self) -> None:
        """Drop what an effect may have changed (this chat's members, its officer, the officer's list)."""
        self.chat.forget()
        self.staff.forget()
        self.area.forget()


_VIEW_COLUMNS = [field.name for field in dataclasses.fields(MemberView) if field.name != "nik"]


def member_view(member: Member, cipher: Cipher) -> MemberView:
    """The member as the dialogs see it, NIK decrypted."""
    return MemberView(nik=cipher.decrypt(member.nik_encrypted), **{c: getattr(member, c) for c in _VIEW_COLUMNS})


def _reminder_view(found: tuple[Reminder, Member] | None) -> ReminderView | None:
    if found is None:
        return None
    reminder, member = found
    assert reminder.id is not None
    return ReminderView(
        reminder.id,
        reminder.member_id,
        member.full_name,
        reminder.cycle,
        member.covered_until,
        reminder.sent_at,
        member_sex=member.sex,
    )


def _staff_line(one: officers.Staff) -> StaffLine:
    officer = one.officer
    return StaffLine(officer.id or 0, officer.name, officer.role, tuple(one.codes), officer.address_id is not None)
