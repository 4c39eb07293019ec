"""Conversation state: one per address, persisted as JSON between messages."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from domain.rules import ContributionMonth


class Flow(StrEnum):
    NONE = "none"
    REGISTER = "register"
    STATUS = "status"
    EDIT = "edit"
    DELETE = "delete"
    OFFICER = "officer"


class Step(StrEnum):
    MENU = "menu"
    CONSENT = "consent"
    NAME = "name"
    NIK = "nik"
    PHONE = "phone"
    PHONE_OWNER = "phone_owner"
    KECAMATAN = "kecamatan"
    DESA = "desa"
    OCCUPATION = "occupation"
    BPJS_STATUS = "bpjs_status"
    KPJ = "kpj"
    LAST_PAID = "last_paid"
    PAYER = "payer"
    SPONSOR = "sponsor"
    INCOME = "income"
    PROGRAMS = "programs"
    PERIOD = "period"
    SUMMARY = "summary"
    EDIT_FIELD = "edit_field"
    AFTER_SAVE = "after_save"
    PICK_MEMBER = "pick_member"
    CLAIM = "claim"  # the NIK typed is registered already: prove it is theirs, or ask the officer
    OFFICER_NEW_NUMBER = "officer_new_number"
    CONFIRM_DELETE = "confirm_delete"


class EditField(StrEnum):
    """Fields a person can change; some span several steps (kecamatan then desa)."""

    NAME = "name"
    NIK = "nik"
    PHONE = "phone"
    AREA = "area"
    OCCUPATION = "occupation"
    BPJS = "bpjs"
    LAST_PAID = "last_paid"
    PAYER = "payer"
    INCOME = "income"
    PROGRAMS = "programs"
    PERIOD = "period"


class Draft(BaseModel):
    """Answers collected so far; every field is optional until the summary."""

    model_config = ConfigDict(extra="forbid")

    full_name: str | None = None
    nik: str | None = None
    phone: str | None = None  # None at the summary: registered without a number
    phone_owner: str | None = None  # whose phone the number is (`PhoneOwner`); None without a number
    kecamatan_code: str | None = None
    desa_code: str | None = None
    occupation: str | None = None
    bpjs_status: str | None = None
    kpj: str | None = None
    last_paid: str | None = None  # "YYYY-MM", or "unknown"
    payer: str | None = None
    sponsor_name: str | None = None
    declared_income: int | None = None  # rupiah a month; not asked when an office pays (the minimum then)
    with_jht: bool | None = None  # JKK + JKM always; JHT optional
    period_months: int | None = None

    def last_paid_month(self) -> ContributionMonth | None:
        """The last month paid for, when the member knows it."""
        if not self.last_paid or self.last_paid == "unknown":
            return None
        year, month = self.last_paid.split("-")
        return ContributionMonth(int(year), int(month))


class SetAside(BaseModel):
    """A registration cancelled with BATAL: kept so that DAFTAR continues it where it stopped (ULANG starts over)."""

    model_config = ConfigDict(extra="forbid")

    step: Step
    draft: Draft
    on_behalf: bool = False


class State(BaseModel):
    model_config = ConfigDict(extra="forbid")

    flow: Flow = Flow.NONE
    step: Step = Step.MENU
    draft: Draft = Field(default_factory=Draft)
    member_id: int | None = None
    edit_field: EditField | None = None
    page: int = 0
    candidates: list[str] = Field(default_factory=list)
    confirm: bool = False  # `candidates` is the one place a typed name was only close to: "Maksud …?" is asked
    start_payload: str | None = None
    on_behalf: bool = False  # an officer registering someone door to door: not linked to the officer's chat
    # Options shown outside the current question (a reminder's months, an officer's list): label, value, key.
    offered: list[tuple[str, str, str]] = Field(default_factory=list)
    before_edit: Draft | None = None  # the draft before this field's change began: BATAL and KEMBALI restore it
    set_aside: SetAside | None = None
    updated_at: datetime | None = None

    def at(self, step: Step, **changes: object) -> State:
        """The same conversation moved to `step`, with paging, narrowed candidates and a pending confirmation reset."""
        return self.model_copy(update={"step": step, "page": 0, "candidates": [], "confirm": False, **changes})

    @property
    def resting(self) -> bool:
        """Nothing is being asked: at the menu, or a registration just saved (its "anyone else?" is optional), and no
        reminder answer half-given. A due reminder may then go out at once instead of waiting out the busy hold."""
        return (self.flow is Flow.NONE or self.step is Step.AFTER_SAVE) and not self.offered
