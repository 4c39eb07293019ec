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


class LinkProof(StrEnum):
    """How a chat was shown to be the member's (or their family's): only a proven link sees or changes their data
    and receives their reminders; a typed number proves nothing."""

    NUMBER = "number"  # a WhatsApp address equal to the member's phone: the number itself
    CONTACT = "contact"  # a Telegram contact shared by its own user, its number equal to the member's phone
    STAFF = "staff"  # an officer confirmed it face to face
    TERMINAL = "terminal"  # the server's own terminal (`sipakainge chat`, the demo): whoever runs it runs the service
    LEGACY = "legacy"  # linked before links were proven (migration 0017): kept, so no member loses reminders


class FollowUpOutcome(StrEnum):
    CONTACTED = "contacted"
    PAID = "paid"
    WRONG_NUMBER = "wrong_number"
    MOVED_OR_DIED = "moved_or_died"
    REFUSED = "refused"
    # Only for a member with chats waiting for the officer's word (a claimed NIK, a registration the branch's data
    # contradicts, a number nobody proved): the chats are theirs, or not.
    CHATS_CONFIRMED = "chats_ok"
    CHATS_REFUSED = "chats_wrong"


CHAT_OUTCOMES = frozenset({FollowUpOutcome.CHATS_CONFIRMED, FollowUpOutcome.CHATS_REFUSED})


BROADCAST_STAGE = "SIARAN"  # the outbox stage of a broadcast's messages (their `cycle` is the broadcast's id)
