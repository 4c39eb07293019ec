"""Tables. Timestamps are stored in UTC and always come back timezone-aware, on SQLite too."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, Index, LargeBinary, UniqueConstraint, text
from sqlalchemy import false as sa_false
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from domain.vocabulary import AddressStatus, OfficerRole, ReminderStatus, SponsorKind


class UTCDateTime(TypeDecorator[datetime]):
    """Refuses naive datetimes on the way in; attaches UTC on the way out (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _utc_field(*, nullable: bool = False, index: bool = False) -> Any:
    if nullable:
        return Field(default=None, sa_type=UTCDateTime, nullable=True, index=index)
    return Field(sa_type=UTCDateTime, nullable=False, index=index)


# Tables whose rows audit entries name by id ("member:12", the actor "telegram:5"): on SQLite, AUTOINCREMENT, so a
# deleted row's id is never given to a new one (migration 0019; PostgreSQL's sequences never reuse one anyway).
NEVER_REUSED: dict[str, Any] = {"sqlite_autoincrement": True}


class Address(SQLModel, table=True):
    """A place the bot can talk to: a Telegram chat, a WhatsApp number, a terminal session."""

    __table_args__ = (UniqueConstraint("channel", "external_id"), NEVER_REUSED)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    external_id: str = Field(max_length=64)
    status: str = Field(default=AddressStatus.ACTIVE, max_length=16)
    verified_phone: str | None = Field(default=None, max_length=20)
    created_at: datetime = _utc_field()
    last_inbound_at: datetime | None = _utc_field(nullable=True)


class Conversation(SQLModel, table=True):
    """The dialog state of one address, so any process continues any conversation."""

    address_id: int = Field(primary_key=True, foreign_key="address.id", ondelete="CASCADE")
    state: str
    updated_at: datetime = _utc_field()
    # The dialog is at rest (nothing asked): the dispatcher's busy hold does not apply. Readable without the key.
    resting: bool = Field(default=False, sa_column_kwargs={"server_default": sa_false()})


class Sponsor(SQLModel, table=True):
    """Someone who pays members' contributions: a person (a prosecutor, a relative), an institution (a company's CSR,
    Baznas) or a public office (the regency's APBD, a desa's Dana Desa). Offices may have several staff chats."""

    __table_args__ = NEVER_REUSED

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    kind: str = Field(default=SponsorKind.PERSON, max_length=12, sa_column_kwargs={"server_default": "person"})
    # An office pays for the members linked to it (`Member.sponsor_id`) and, when set, for those of its `payer`
    # living in its `area` (kabupaten, kecamatan or desa codes, comma-separated) who are linked to no one.
    payer: str | None = Field(default=None, max_length=24)
    area: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})
    invite_code: str = Field(max_length=64, unique=True)  # the deep-link payload that binds their chat
    invite_issued_at: datetime | None = _utc_field(nullable=True)  # the code works INVITE_DAYS from then; None: revoked
    address_id: int | None = Field(default=None, foreign_key="address.id", ondelete="SET NULL")
    created_at: datetime = _utc_field()


class SponsorChat(SQLModel, table=True):
    """The staff chats of an office that pays for members: each gets the office's monthly statement."""

    sponsor_id: int = Field(primary_key=True, foreign_key="sponsor.id", ondelete="CASCADE")
    address_id: int = Field(primary_key=True, foreign_key="address.id", ondelete="CASCADE", index=True)
    created_at: datetime = _utc_field()


class PayerStatement(SQLModel, table=True):
    """A monthly statement to an office that pays for members (or its follow-up when the branch's data still shows
    the month unpaid after the deadline): one per (office, month, kind), whatever restarts or processes."""

    sponsor_id: int = Field(primary_key=True, foreign_key="sponsor.id", ondelete="CASCADE")
    cycle: int = Field(primary_key=True)  # the contribution month, YYYYMM
    kind: str = Field(primary_key=True, max_length=12)  # statement | follow_up
    members: int = 0
    total: int = 0
    created_at: datetime = _utc_field()


class Member(SQLModel, table=True):
    """A BPU participant (or someone waiting to be enrolled)."""

    __table_args__ = (
        Index("ix_member_desa", "desa_code"),
        Index("ix_member_covered_until", "covered_until"),
        NEVER_REUSED,
    )

    id: int | None = Field(default=None, primary_key=True)
    nik_encrypted: str = Field(max_length=255)
    nik_hash: str = Field(max_length=64, unique=True)
    full_name: str = Field(max_length=100)
    birth_date: date
    sex: str = Field(max_length=1)
    phone: str | None = Field(default=None, max_length=20)
    phone_owner: str | None = Field(default=None, max_length=16)  # `PhoneOwner`; None: unknown or no phone
    kecamatan_code: str = Field(max_length=8, index=True)
    desa_code: str = Field(max_length=13)
    occupation: str = Field(max_length=20)
    bpjs_status: str = Field(max_length=20)
    kpj: str | None = Field(default=None, max_length=16)
    covered_until: date | None = None
    needs_enrolment: bool = False
    payer: str = Field(max_length=24)
    sponsor_name: str | None = Field(default=None, max_length=100)
    sponsor_id: int | None = Field(default=None, foreign_key="sponsor.id", ondelete="SET NULL", index=True)
    period_months: int = 1
    declared_income: int = Field(default=1_000_000, sa_column_kwargs={"server_default": "1000000"})
    with_jht: bool = Field(default=False, sa_column_kwargs={"server_default": sa_false()})
    opted_out: bool = False
    help_requested_at: datetime | None = _utc_field(nullable=True)
    lapsed_on: date | None = None  # the day the daily lapse job found the membership non-active
    # The branch's data is the truth: `branch_until` is the last month its spreadsheet showed paid; a member's own
    # "sudah bayar" beyond it is `reported_until`, provisional; an import that contradicts a report sets the mark.
    branch_until: date | None = None
    reported_until: date | None = None
    report_mismatch_at: datetime | None = _utc_field(nullable=True)
    # The branch's data names another person or number than the chat that registered them: for the officer.
    registration_mismatch_at: datetime | None = _utc_field(nullable=True)
    created_at: datetime = _utc_field()
    updated_at: datetime = _utc_field()


class MemberAddress(SQLModel, table=True):
    """Which chats reach which members: one family phone may serve several people. Only a proven link that is not
    suspended (`storage.members.SEES`) sees the member's data and gets their reminders."""

    member_id: int = Field(primary_key=True, foreign_key="member.id", ondelete="CASCADE")
    address_id: int = Field(primary_key=True, foreign_key="address.id", ondelete="CASCADE", index=True)
    created_at: datetime = _utc_field()
    proof: str | None = Field(default=None, max_length=12)  # `LinkProof`; None: not proven yet
    proof_phone: str | None = Field(default=None, max_length=20)  # the number a NUMBER or CONTACT proof was by
    # This chat registered the member itself: the branch's first word on them (an import) confirms or contradicts it.
    self_registered: bool = Field(default=False, sa_column_kwargs={"server_default": sa_false()})
    suspended_at: datetime | None = _utc_field(nullable=True)  # the branch contradicted the registration


class ConsentRecord(SQLModel, table=True):
    """Evidence of consent (UU 27/2022): who decided, on which text version, when."""

    id: int | None = Field(default=None, primary_key=True)
    address_id: int = Field(foreign_key="address.id", index=True, ondelete="CASCADE")
    member_id: int | None = Field(default=None, foreign_key="member.id", ondelete="SET NULL")
    consent_version: str = Field(max_length=16)
    decision: str = Field(max_length=16)
    at: datetime = _utc_field()


class AuditEntry(SQLModel, table=True):
    """Who did what to which record. Never holds a NIK or a phone number."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _utc_field(index=True)
    actor: str = Field(max_length=64)
    action: str = Field(max_length=48)
    subject: str = Field(default="", max_length=64)
    detail: str = Field(default="", max_length=500)


class Reminder(SQLModel, table=True):
    """The outbox: one row per (member, contribution month, stage), so no scan can create a reminder twice."""

    __table_args__ = (
        UniqueConstraint("member_id", "cycle", "stage"),
        Index("ix_reminder_due", "status", "send_after"),
        Index("ix_reminder_cycle", "cycle", "stage_rank"),
        # Partial: rows are inserted without one (a million at a time), and only sent rows are looked up by it.
        Index(
            "ix_reminder_provider_message_id",
            "provider_message_id",
            postgresql_where=text("provider_message_id IS NOT NULL"),
            sqlite_where=text("provider_message_id IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    # No foreign key on purpose: its per-row check (a row lock on the member) was a third of the scan's time at
    # 1,000,000 members. Deleting a member deletes its reminders explicitly (storage.members.delete_member).
    member_id: int
    cycle: int  # the contribution month as YYYYMM
    stage: str = Field(max_length=8)
    stage_rank: int  # the stage's place in the cycle's calendar; a later stage supersedes an earlier one
    status: str = Field(default=ReminderStatus.PENDING, max_length=12)
    send_after: datetime = _utc_field()
    expires_at: datetime = _utc_field()
    zone: str = Field(max_length=32)
    attempts: int = 0
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_at: datetime | None = _utc_field(nullable=True)
    address_id: int | None = Field(default=None, foreign_key="address.id", ondelete="SET NULL")
    provider_message_id: str | None = Field(default=None, max_length=64)
    reason: str = Field(default="", max_length=120)
    created_at: datetime = _utc_field()
    sent_at: datetime | None = _utc_field(nullable=True)
    delivered_at: datetime | None = _utc_field(nullable=True)
    # When a send's outcome was unknown (timed out, connection lost): it is sent again once unless the chat has
    # written since (migration 0020).
    uncertain_at: datetime | None = _utc_field(nullable=True)


class DeliveryAttempt(SQLModel, table=True):
    """Every try at sending a reminder, whatever happened."""

    id: int | None = Field(default=None, primary_key=True)
    reminder_id: int = Field(foreign_key="reminder.id", ondelete="CASCADE", index=True)
    at: datetime = _utc_field()
    channel: str = Field(max_length=16)
    outcome: str = Field(max_length=16)
    error: str = Field(default="", max_length=200)


class Payment(SQLModel, table=True):
    """A payment: self-reported ones advance coverage provisionally until the branch's data confirms them."""

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", ondelete="CASCADE", index=True)
    first_cycle: int
    months: int
    amount: int
    source: str = Field(max_length=16)
    verified: bool = False
    reported_at: datetime = _utc_field()


class ScanRun(SQLModel, table=True):
    """Days the scan has covered, so the next one knows which stages an outage skipped."""

    day: date = Field(primary_key=True)
    ran_at: datetime = _utc_field()
    created: int = 0
    skipped: int = 0


class MediaFile(SQLModel, table=True):
    """A file published for a channel to fetch (WhatsApp media is sent by URL), briefly: it holds personal data."""

    token: str = Field(primary_key=True, max_length=64)  # unguessable: the URL is the only key
    filename: str = Field(max_length=100)
    media_type: str = Field(max_length=100)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    expires_at: datetime = _utc_field(index=True)


class NikAttempt(SQLModel, table=True):
    """A NIK a chat typed that was already registered: counted so that guessing which NIKs are registered is slow.
    Kept only for the throttle's window (each check drops the chat's older ones)."""

    id: int | None = Field(default=None, primary_key=True)
    address_id: int = Field(foreign_key="address.id", ondelete="CASCADE", index=True)
    at: datetime = _utc_field()


class InboundMessage(SQLModel, table=True):
    """Message ids already received (Twilio retries webhooks): a second delivery is acknowledged, not processed."""

    sid: str = Field(primary_key=True, max_length=64)
    received_at: datetime = _utc_field(index=True)


class InboxEntry(SQLModel, table=True):
    """An update or message acknowledged to its channel and not yet answered (issue 16): stored before the
    acknowledgement, processed in order per chat by whichever process is free, deleted once its answer is sent."""

    __tablename__ = "inbox"
    __table_args__ = (Index("ix_inbox_chat_order", "chat", "sequence", "id"), NEVER_REUSED)

    id: int | None = Field(default=None, primary_key=True)  # Twilio's order: the order of arrival
    channel: str = Field(max_length=16)
    chat: str = Field(max_length=64)  # a keyed hash of the channel's address: the chat's order, no number in clear
    sequence: int = Field(default=0, sa_type=BigInteger)  # Telegram's update_id; 0 for Twilio (ordered by id)
    payload: str  # the update or form as received, sealed like conversation state
    received_at: datetime = _utc_field()
    attempts: int = Field(default=0)
    lease_until: datetime | None = _utc_field(nullable=True)  # claimed (or being answered) until then
    token: str | None = Field(default=None, max_length=40)  # who holds the lease
    processed_at: datetime | None = _utc_field(nullable=True)  # the dialog step is committed; its answer not yet sent


class Officer(SQLModel, table=True):
    """An extension officer (penyuluh), PERISAI agent or area coordinator, bound to a chat by a one-time code."""

    __table_args__ = NEVER_REUSED

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    role: str = Field(default=OfficerRole.OFFICER, max_length=16, sa_column_kwargs={"server_default": "officer"})
    phone: str | None = Field(default=None, max_length=20)
    invite_code: str | None = Field(default=None, max_length=64, unique=True)  # cleared once used
    invite_issued_at: datetime | None = _utc_field(nullable=True)  # the code works INVITE_DAYS from then; None: none
    address_id: int | None = Field(default=None, foreign_key="address.id", ondelete="SET NULL")
    active: bool = True
    created_at: datetime = _utc_field()


class OfficerArea(SQLModel, table=True):
    """Where an officer works: kecamatan codes (all their desa) and/or single desa codes."""

    officer_id: int = Field(primary_key=True, foreign_key="officer.id", ondelete="CASCADE")
    code: str = Field(primary_key=True, max_length=13, index=True)


class FollowUp(SQLModel, table=True):
    """What an officer recorded about an unreached member; it takes them off the list for that cycle."""

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", ondelete="CASCADE", index=True)
    officer_id: int = Field(foreign_key="officer.id", ondelete="CASCADE")
    cycle: int | None = None  # the contribution month it concerned (YYYYMM), if any
    outcome: str = Field(max_length=16)
    at: datetime = _utc_field()


class Listing(SQLModel, table=True):
    """Since when a member has been on the officers' lists without a break: the clock the escalation reads. Kept by
    the daily digest run; a member leaves (and the clock stops) when they drop off the list. No foreign key: the run
    writes 150,000 rows on a province's first day, and each would lock its member row. `delete_member` removes it; a
    row written for a member deleted during the run is dropped by the next run, which no longer lists them."""

    member_id: int = Field(primary_key=True)
    since: date


class Control(SQLModel, table=True):
    """Switches an admin sets for the whole service (e.g. `paused`: no reminder goes out), shared by all processes."""

    key: str = Field(primary_key=True, max_length=32)
    value: str = Field(max_length=200)
    updated_at: datetime = _utc_field()


class StatSnapshot(SQLModel, table=True):
    """One kecamatan's numbers on one day, kept by the daily run: the trend in /statistik reads these."""

    day: date = Field(primary_key=True)
    kecamatan_code: str = Field(primary_key=True, max_length=8)
    members: int = 0
    active: int = 0
    due_soon: int = 0  # due within 7 days
    arrears_1: int = 0  # one month in arrears
    arrears_2: int = 0  # two months in arrears
    lapsed_month: int = 0  # lapsed this month
    unreachable: int = 0
    opted_out: int = 0


class ImportBatch(SQLModel, table=True):
    """A member spreadsheet checked and waiting for the admin's "Lanjutkan", then applied a slice at a time (so a
    restart resumes it). The rows hold NIKs: sealed with the same cipher as the member table."""

    token: str = Field(primary_key=True, max_length=32)
    address_id: int = Field(foreign_key="address.id", ondelete="CASCADE", index=True)
    filename: str = Field(max_length=100)
    rows_sealed: str  # the valid rows, as JSON, encrypted
    total: int = 0
    applied: int = 0
    status: str = Field(default="staged", max_length=12)  # staged | confirmed | done | cancelled
    summary: str = Field(default="", max_length=500)
    created_at: datetime = _utc_field()


class Broadcast(SQLModel, table=True):
    """An admin's message to a segment of members, sent through the outbox like the reminders once confirmed."""

    __table_args__ = NEVER_REUSED

    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(max_length=32, unique=True)  # what the preview's buttons carry
    address_id: int = Field(foreign_key="address.id", ondelete="CASCADE")  # the admin's chat
    text: str = Field(max_length=1000)
    segment: str = Field(max_length=200)  # as the admin wrote it, for the audit and the preview
    status: str = Field(default="staged", max_length=12)  # staged | queued | cancelled
    recipients: int = 0
    created_at: datetime = _utc_field()


class OfficerDigest(SQLModel, table=True):
    """Digests already sent: one per officer per day, whatever restarts or how many processes."""

    officer_id: int = Field(primary_key=True, foreign_key="officer.id", ondelete="CASCADE")
    day: date = Field(primary_key=True)
    items: int = 0
