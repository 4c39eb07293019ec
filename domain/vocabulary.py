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
    SELF = "self"
    FAMILY = "family"
    REGIONAL_GOVERNMENT = "regional_government"
    SPONSOR = "sponsor"


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
