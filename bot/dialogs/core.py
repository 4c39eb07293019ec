"""What every channel hands the dialogs, and what the dialogs hand back.

Channels translate their input into `Incoming` once and render `Reply` their own way (inline buttons on Telegram,
numbered options on WhatsApp and in the terminal). Dialogs never see a channel.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol

from bot.texts import t
from domain.identity import format_phone
from domain.member_rows import Plan as ImportPlan
from domain.member_rows import Row as ImportRow
from domain.member_rows import RowError, Sheet
from domain.policy import ReminderPolicy
from domain.regions import RegionIndex
from domain.rules import Standing
from domain.stats import AreaStats
from domain.tariffs import Tariffs, default_tariffs

# Longest text the dialogs read; anything longer is refused before any parsing (a 5,000-character paste).
MAX_TEXT = 500
_COMMAND = re.compile(r"^/([A-Za-z_]{1,32})(?:@\w+)?(?:(?:\s+|(?=:))(.*))?$", re.DOTALL)  # "/siaran: …" too


class Kind(StrEnum):
    TEXT = "text"
    COMMAND = "command"
    CHOICE = "choice"
    CONTACT = "contact"
    FILE = "file"
    UNSUPPORTED = "unsupported"


@dataclass(frozen=True, slots=True)
class Incoming:
    kind: Kind
    text: str = ""
    command: str = ""
    contact_phone: str = ""
    contact_is_sender: bool = False
    filename: str = ""
    content: bytes = b""  # as the channel fetched it; never seen by a dialog (the service reads it, or drops it)
    size: int = 0  # of the file as sent (content stays empty when it was not worth fetching)
    sheet: Sheet | None = None  # an admin's file, read and checked by the service; None: not read

    @classmethod
    def from_text(cls, text: str) -> Incoming:
        """Typed text; `/cmd args` (also `/cmd@BotName`) becomes a command with its arguments in `text`."""
        stripped = text.strip()
        match = _COMMAND.match(stripped) if len(stripped) <= MAX_TEXT else None
        if match:
            return cls(Kind.COMMAND, text=(match.group(2) or "").strip(), command=match.group(1).lower())
        return cls(Kind.TEXT, text=stripped)

    @classmethod
    def choice(cls, value: str) -> Incoming:
        return cls(Kind.CHOICE, text=value)

    @classmethod
    def contact(cls, phone: str, *, is_sender: bool) -> Incoming:
        return cls(Kind.CONTACT, contact_phone=phone, contact_is_sender=is_sender)

    @classmethod
    def file(cls, filename: str, content: bytes, *, size: int | None = None) -> Incoming:
        """A document sent to the bot (an admin's member spreadsheet)."""
        return cls(Kind.FILE, filename=filename, content=content, size=len(content) if size is None else size)

    @classmethod
    def checked(cls, filename: str, sheet: Sheet) -> Incoming:
        """A member spreadsheet as the dialogs get it: read and checked, row by row, before the chat is locked."""
        return cls(Kind.FILE, filename=filename, sheet=sheet)

    @classmethod
    def unsupported(cls) -> Incoming:
        return cls(Kind.UNSUPPORTED)


@dataclass(frozen=True, slots=True)
class Choice:
    """An option. `key` is what selects it when typed (default: its position, 1-based)."""

    label: str
    value: str
    key: str = ""


@dataclass(frozen=True, slots=True)
class Template:
    """A pre-approved message form and its values, for channels that only allow those at times (WhatsApp outside
    the 24 hours after the person's last message)."""

    kind: str
    variables: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file sent after the reply's text (an officer's whole list as a spreadsheet)."""

    filename: str
    media_type: str
    content: bytes


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    choices: tuple[Choice, ...] = ()
    request_contact: bool = False
    template: Template | None = None
    attachment: Attachment | None = None  # what the channels send
    file_request: FileRequest | None = None  # what a dialog asks for: made into `attachment` after the commit


# --- files a dialog asks for: the service makes them (after the commit) and attaches them to the reply ---


@dataclass(frozen=True, slots=True)
class ListFile:
    """The officer's whole list (or the escalations), in the order of the chat pages."""

    items: tuple[UnreachedView, ...]
    day: date


@dataclass(frozen=True, slots=True)
class ChartFile:
    """/statistik's chart: coverage per kecamatan, and its trend week by week."""

    areas: tuple[AreaStats, ...]
    weekly: tuple[AreaStats, ...]
    day: date


@dataclass(frozen=True, slots=True)
class ExportFile:
    """/ekspor: members in the import's own columns."""

    rows: tuple[ImportRow, ...]
    day: date


@dataclass(frozen=True, slots=True)
class ErrorFile:
    """The rows of an import that were not taken, and why."""

    errors: tuple[RowError, ...]


FileRequest = ListFile | ChartFile | ExportFile | ErrorFile


@dataclass(frozen=True, slots=True)
class MemberView:
    """What the dialogs may know about a member already linked to the chat."""

    id: int
    full_name: str
    nik: str
    birth_date: date
    sex: str
    phone: str | None
    kecamatan_code: str
    desa_code: str
    occupation: str
    bpjs_status: str
    kpj: str | None
    covered_until: date | None
    payer: str
    sponsor_name: str | None
    declared_income: int
    with_jht: bool
    period_months: int
    opted_out: bool
    phone_owner: str | None = None  # `PhoneOwner`; None: no number, or registered before it was asked


@dataclass(frozen=True, slots=True)
class ReminderView:
    """A reminder sent to this chat, which its buttons answer."""

    id: int
    member_id: int
    member_name: str
    cycle: int  # YYYYMM
    covered_until: date | None
    sent_at: datetime | None = None
    member_sex: str = ""  # as the NIK says ("L", "P"): the replies say Bapak or Ibu


@dataclass(slots=True, eq=False)
class UnreachedView:
    """One line of an officer's list. Not frozen: a run of digests makes one for each of 150,000 members listed in a
    province, and a frozen dataclass's __init__ costs four times as much. Nothing changes one after it is made."""

    member_id: int
    name: str
    desa_code: str
    phone: str | None
    masked_nik: Callable[[], str]  # decrypts on first call: only the lines someone is shown pay for it
    reason: str
    days_left: int | None
    months_due: int
    amount_due: int
    last_attempt: str  # "sent 8 Des", "" when never tried
    listed_since: date | None = None  # on the lists without a break since (None: since today)
    covered_until: date | None = None  # the deadline that still matters is counted from it
    # Without a phone, the chat they registered from still reaches them: a WhatsApp chat's number, or a Telegram chat.
    chat_phone: str | None = None
    telegram_chat: bool = False
    waiting: bool = False  # chats wait for the officer's word on whose they are (the "chats" outcomes apply)
    # Renderings of this line kept for the run: one member is on several officers' lists and files.
    memo: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def contact(self) -> str:
        """How the officer can reach them, as the list and its file say it: "tanpa nomor HP" ("visit in person")
        only when no chat links to them."""
        text = self.memo.get("contact")
        if text is None:
            if self.phone:
                text = format_phone(self.phone)
            elif self.chat_phone:
                text = t("officer.whatsapp_chat", phone=format_phone(self.chat_phone))
            else:
                text = t("officer.telegram_chat" if self.telegram_chat else "officer.no_phone")
            self.memo["contact"] = text
        return text


@dataclass(frozen=True, slots=True)
class StaffView:
    """Who this chat belongs to on the staff side. `codes` empty: everywhere (an admin)."""

    role: str  # admin | coordinator | officer
    codes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StaffLine:
    """One line of /petugas."""

    id: int
    name: str
    role: str
    codes: tuple[str, ...]
    bound: bool


@dataclass(frozen=True, slots=True)
class DialogConfig:
    service_area: tuple[str, ...]
    data_holder: str
    consent_version: str
    retention_days: int = 730  # the consent says how long a member's data is kept after they leave
    page_size: int = 8
    resume_after_hours: int = 12
    escalate_after_days: int = 7  # on a list this long without an outcome: the coordinator's digest
    admins: frozenset[str] = frozenset()  # "telegram:<chat id>", "whatsapp:+62…": admins named in the settings
    bot_username: str = ""  # for invitation links t.me/<bot>?start=<code>
    invite_days: int = 14  # an invitation code works this many days after it was issued
    # The channels this deployment sends on; an address on another reaches no one (None: every channel).
    channels: frozenset[str] | None = None


class ChatReader(Protocol):
    """What the dialogs read about this chat: its members, the reminders sent to it, the invitations it may accept.
    Writes go back as effects (as for every reader)."""

    def nik_registered(self, nik: str, *, except_member: int | None) -> bool: ...

    def members_here(self) -> Sequence[MemberView]:
        """The members registered from this chat."""
        ...

    def reminder(self, reminder_id: int) -> ReminderView | None:
        """A reminder of one of this chat's members; None for anyone else's (or a forged id)."""
        ...

    def latest_reminders(self) -> Sequence[ReminderView]:
        """The reminders of the newest message sent to this chat (several on a family phone)."""
        ...

    def invitation(self, code: str) -> str | None:
        """The name of whoever this invitation code (sponsor `sp_…`, officer `of_…`) was made for."""
        ...

    def is_sponsor(self) -> bool:
        """Whether this chat receives reminders for members someone here pays for."""
        ...

    def own_number(self) -> str | None:
        """This chat's own phone number when the channel says it (a WhatsApp chat is its number), else None."""
        ...

    def proves(self, phone: str | None) -> bool:
        """Whether this chat is proven to hold `phone` (its WhatsApp number, its Telegram user's shared contact; the
        terminal holds any): a registration with it is seen here at once."""
        ...

    def waiting(self) -> int:
        """Members registered or claimed here that this chat may not see yet (not proven, or suspended)."""
        ...

    def waiting_with_phone(self, phone: str) -> int:
        """How many of those have `phone` on their record (what sharing that contact proves)."""
        ...

    def nik_attempts(self) -> int:
        """NIKs typed here within the throttle's window."""
        ...

    def can_claim(self, nik: str, shared: str | None = None) -> bool:
        """Whether this chat holds the number on the record of the member with this (registered) NIK; `shared`: a
        number its Telegram user just shared as their own."""
        ...


class StaffReader(Protocol):
    """Who this chat is on the staff side, and the staff it may manage."""

    def here(self) -> StaffView | None:
        """This chat's staff role (an admin named in the settings, or a bound officer, coordinator or admin)."""
        ...

    def manageable(self) -> Sequence[StaffLine]:
        """The staff this chat may manage: everyone for an admin, those inside the area for a coordinator."""
        ...


class AreaReader(Protocol):
    """The officer's area: their list and their members (nothing for a chat that is not an officer's)."""

    def officer_name(self) -> str | None:
        """The officer this chat belongs to, if it is an officer's."""
        ...

    def is_coordinator(self) -> bool:
        """Whether this chat is an area coordinator's (an officer who also gets the escalations)."""
        ...

    def unreached_here(self) -> Sequence[UnreachedView]:
        """The officer's list (empty for anyone else): the only members an officer's buttons may touch. Grouped by
        desa, the desa with the most urgent member first, most urgent first within each."""
        ...

    def search(self, query: str) -> Sequence[MemberView]:
        """Members of the officer's area matching a name, NIK or KPJ (nothing for anyone else)."""
        ...

    def all_members(self) -> Sequence[MemberView]:
        """Every member of the officer's area (nothing for anyone else)."""
        ...


class AdminReader(Protocol):
    """What the admin commands read, each within this chat's staff area."""

    def member_timelines(self, query: str) -> Sequence[tuple[int, str]]:
        """Masked lookup by NIK, KPJ or name within this chat's staff area: each member's id and "why" timeline."""
        ...

    def member_by_nik(self, nik: str) -> MemberView | None:
        """A member within this chat's staff area, by NIK."""
        ...

    def paused(self) -> bool:
        """Whether an admin paused all reminders."""
        ...

    def audit_lines(self) -> Sequence[str]:
        """The most recent audit entries, newest first."""
        ...

    def import_plan(self, rows: Sequence[ImportRow]) -> ImportPlan:
        """How checked spreadsheet rows compare with the members already registered."""
        ...

    def statistics(self, kecamatan: str | None) -> tuple[Sequence[AreaStats], Sequence[AreaStats]]:
        """Today's numbers per kecamatan of this chat's staff area (or one kecamatan of it), and the weekly trend."""
        ...

    def broadcast_audience(self, segment: str) -> tuple[int, int]:
        """How many members (who have not opted out) and how many of their chats a segment reaches, in this chat's
        staff area."""
        ...

    def export_rows(self, kecamatan: str | None, status: Standing | None) -> Sequence[ImportRow]:
        """Members of this chat's staff area (optionally one kecamatan, one standing) in the spreadsheet's form."""
        ...


@dataclass(frozen=True, slots=True)
class Context:
    config: DialogConfig
    policy: ReminderPolicy  # due day and lapse rule, the same the reminders use
    regions: RegionIndex
    chat: ChatReader  # the reads of the database, by concern; writes go back as effects
    staff: StaffReader
    area: AreaReader
    admin: AdminReader
    now: datetime
    today: date
    tariffs: Tariffs = field(default_factory=default_tariffs)  # what the summary says a month will cost


# --- effects: what the caller must write, in the same transaction as the new state ---


@dataclass(frozen=True, slots=True)
class SaveMember:
    fields: dict[str, object]
    on_behalf: bool = False


@dataclass(frozen=True, slots=True)
class ProvePhone:
    """A Telegram user shared their own contact: this chat holds the number (it proves links to members with it)."""

    phone: str


@dataclass(frozen=True, slots=True)
class SettleChats:
    """An admin's word on the chats waiting for this member: theirs (proven by staff) or not (ended)."""

    member_id: int
    confirmed: bool


@dataclass(frozen=True, slots=True)
class NikTyped:
    """A NIK typed at the NIK question: counted, so that guessing which NIKs are registered is slow."""


@dataclass(frozen=True, slots=True)
class ClaimNik:
    """This chat holds the number on the record of the member with this NIK: it becomes theirs."""

    nik: str


@dataclass(frozen=True, slots=True)
class AskOfficerAboutNik:
    """This chat says a registered NIK is theirs but cannot prove it: the officer decides."""

    nik: str


@dataclass(frozen=True, slots=True)
class UpdateMember:
    member_id: int
    fields: dict[str, object]


@dataclass(frozen=True, slots=True)
class DeleteMember:
    member_id: int


@dataclass(frozen=True, slots=True)
class RecordConsent:
    granted: bool


@dataclass(frozen=True, slots=True)
class RecordPayment:
    member_id: int
    cycle: int
    months: int


@dataclass(frozen=True, slots=True)
class RequestHelp:
    member_id: int


@dataclass(frozen=True, slots=True)
class SetOptOut:
    member_ids: tuple[int, ...]
    opted_out: bool


@dataclass(frozen=True, slots=True)
class AcceptInvitation:
    """Bind this chat to the sponsor or officer the code was made for."""

    code: str


@dataclass(frozen=True, slots=True)
class UnbindSponsor:
    pass


@dataclass(frozen=True, slots=True)
class ViewedMembers:
    """Staff saw these members' personal data: every such view is audited — who, which member ids, and why (the
    command or list that showed them: `daftar`, `cari`, `eskalasi`, `digest`, `peserta`)."""

    member_ids: tuple[int, ...]
    why: str = ""


@dataclass(frozen=True, slots=True)
class RecordFollowUp:
    member_id: int
    outcome: str
    months: int | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class Refused:
    """A command this chat's role may not use: answered like an unknown one, and audited."""

    command: str


@dataclass(frozen=True, slots=True)
class AddStaff:
    """A new officer, coordinator or admin; the reply with their invitation comes from whoever applies this."""

    name: str
    codes: tuple[str, ...]
    role: str


@dataclass(frozen=True, slots=True)
class ChangeStaff:
    """`areas` (new codes), `role`, `deactivate`, or `invite` (a new one-time code, e.g. for a new phone)."""

    officer_id: int
    action: str
    codes: tuple[str, ...] = ()
    role: str = ""


@dataclass(frozen=True, slots=True)
class RecordVerifiedPayment:
    """A payment an admin checked against the branch's records."""

    member_id: int
    months: int


@dataclass(frozen=True, slots=True)
class SetPaused:
    paused: bool


@dataclass(frozen=True, slots=True)
class StageImport:
    """Checked spreadsheet rows, kept until the admin says "Lanjutkan"."""

    token: str
    filename: str
    rows: tuple[ImportRow, ...]


@dataclass(frozen=True, slots=True)
class DecideImport:
    token: str
    go: bool


@dataclass(frozen=True, slots=True)
class StageBroadcast:
    """A broadcast waiting for "Kirim": `segment` as `kecamatan=…;status=…;occupation=…`."""

    token: str
    segment: str
    text: str


@dataclass(frozen=True, slots=True)
class DecideBroadcast:
    token: str
    go: bool


@dataclass(frozen=True, slots=True)
class Exported:
    """Members' data left in a file: how many, and the filter asked for (audited)."""

    count: int
    detail: str


Effect = (
    SaveMember
    | ProvePhone
    | SettleChats
    | NikTyped
    | ClaimNik
    | AskOfficerAboutNik
    | UpdateMember
    | DeleteMember
    | RecordConsent
    | RecordPayment
    | RequestHelp
    | SetOptOut
    | AcceptInvitation
    | RecordFollowUp
    | ViewedMembers
    | UnbindSponsor
    | Refused
    | AddStaff
    | ChangeStaff
    | RecordVerifiedPayment
    | SetPaused
    | StageImport
    | DecideImport
    | Exported
    | StageBroadcast
    | DecideBroadcast
)


@dataclass(slots=True)
class Outcome:
    replies: list[Reply] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)

    def say(self, reply: Reply) -> Outcome:
        self.replies.append(reply)
        return self


def choice_keys(choices: Sequence[Choice]) -> list[str]:
    return [choice.key or str(index) for index, choice in enumerate(choices, start=1)]


def numbered(choices: Sequence[Choice]) -> str:
    """Options as text lines, for channels without buttons."""
    return "\n".join(f"{key}. {choice.label}" for key, choice in zip(choice_keys(choices), choices, strict=True))
