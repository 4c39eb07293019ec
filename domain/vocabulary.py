"""The domain's vocabulary: the kinds of things the bot, the rules and the database all speak of."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    TELEGRAM = "telegram"
    WHATSAPP = "whatsapp"
    CONSOLE = "console"


class AddressStatus(StrEnum):
    ACTIVE = "active"
    UNREACHABLE = "unreachable"


class Occupation(StrEnum):
    PETANI = "petani"
    PEKEBUN = "pekebun"
    PETERNAK = "peternak"
    NELAYAN = "nelayan"
    BURUH_TANI = "buruh_tani"
    PEGAWAI_SYARA = "pegawai_syara"
    PEDAGANG = "pedagang"
    PENGEMUDI = "pengemudi"
    LAINNYA = "lainnya"


class BpjsStatus(StrEnum):
    MEMBER = "member"
    NOT_REGISTERED = "not_registered"


class Payer(StrEnum):
    """Who pays a member's contribution. The stored values of the first four predate the others: kept as they are."""

    SELF = "self"
    FAMILY = "family"
    SPONSOR = "sponsor"  # a person: a prosecutor in "Satu Adhyaksa Menanggung Satu Petani", a relative elsewhere
    INSTITUTION = "institution"  # a company's CSR, Baznas, a bank (an OPD, a Dinas, pays from the APBD)
    REGIONAL_GOVERNMENT = "regional_government"  # APBD (Pemkab / Pemprov)
    CENTRAL_GOVERNMENT = "central_government"  # APBN
    VILLAGE_FUND = "village_fund"  # Dana Desa, through the desa's APBDes


# Paid by an office from a budget: the member is never asked to pay, the office gets a monthly statement instead.
BILLED_PAYERS = frozenset({Payer.INSTITUTION, Payer.REGIONAL_GOVERNMENT, Payer.CENTRAL_GOVERNMENT, Payer.VILLAGE_FUND})
# Public money: PP 50/2025's relief does not apply to contributions paid from the state's or a region's budget.
PUBLIC_PAYERS = frozenset({Payer.REGIONAL_GOVERNMENT, Payer.CENTRAL_GOVERNMENT, Payer.VILLAGE_FUND})


class SponsorKind(StrEnum):
    """What a `Sponsor` row is: one person's chat, or an office whose staff chats all get its statements."""

    PERSON = "person"
    INSTITUTION = "institution"
    PUBLIC = "public"


class PhoneOwner(StrEnum):
    """Whose phone a member's number is: a farmer without a phone is often reached through a child or a neighbour."""

    SELF = "self"
    CHILD = "child"
    SPOUSE = "spouse"
    PARENT = "parent"
    SIBLING = "sibling"  # saudara in the wide sense: a brother, a cousin, an in-law
    NEIGHBOUR = "neighbour"
    GROUP_LEADER = "group_leader"  # ketua kelompok tani
    OTHER = "other"


class ConsentDecision(StrEnum):
    GRANTED = "granted"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


class ReminderStatus(StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


class PaymentSource(StrEnum):
    SELF_REPORT = "self_report"
    OFFICER = "officer"
    ADMIN = "admin"
    IMPORT = "import"


class OfficerRole(StrEnum):
    OFFICER = "officer"  # chases the members of their area the bot could not reach
    COORDINATOR = "coordinator"  # an admin limited to an area; also gets what its officers left without an outcome
    ADMIN = "admin"  # runs the program: imports, statistics, officers, broadcasts, pause


class FollowUpOutcome(StrEnum):
    CONTACTED = "contacted"
    PAID = "paid"
    WRONG_NUMBER = "wrong_number"
    MOVED_OR_DIED = "moved_or_died"
    REFUSED = "refused"


BROADCAST_STAGE = "SIARAN"  # the outbox stage of a broadcast's messages (their `cycle` is the broadcast's id)
