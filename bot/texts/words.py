"""The words people read for the codes the system keeps: reminder stages ("H+7"), reminder states ("sent"), their
reasons ("cap:4"), payment sources, chat channels and address states. Officers' lists, `/peserta`, `sipakainge why`
and the demo all say them through here, so no code reaches a person."""

from __future__ import annotations

from functools import cache

from bot.texts import catalog, current_channel, t
from domain.rules import Stage, stage_of
from domain.unreached import NO_ANSWER_STAGE
from domain.vocabulary import BROADCAST_STAGE, ReminderStatus

# The reasons a reminder carries ("kind" or "kind:detail"), as the scan, the dispatcher, payments, opt-outs and
# officers' outcomes write them; each has a text under `words.reminder_reason`.
REMINDER_REASONS = (
    "cap",  # cap:4 — skipped, the month's reminders reached the cap
    "superseded",  # superseded:H-1 — skipped, a later stage had come by the time of the scan
    "expired",
    "no_channel",
    "busy",
    "outside_window",
    "quiet_period",
    "refused",  # the channel refused the message (a cancelled one: the member refused, as an officer recorded)
    "member_refused",
    "fallback",  # fallback:whatsapp
    "unreachable",
    "gave_up",
    "63016",  # 63016:template — WhatsApp's 24-hour window had closed: sent again as a template
    "undelivered",  # undelivered:30003 — WhatsApp's delivery report, with its error code
    "failed",
    "opted_out",
    "paid",
    "deleted",
    "moved_or_died",
    "uncertain",  # the channel did not answer: sent once more after a back-off
    "resent",  # the one re-send of an uncertain send
    "arrived",  # arrived:reply — unanswered, but the chat wrote since: it arrived
)


# (anchor, before/on/after the anchor day, one day away) → the words; H is the due date, L the lapse date.
_STAGE_KEYS = {
    ("H", -1, False): "words.stage.due_before",
    ("H", -1, True): "words.stage.due_before_one",
    ("H", 0, False): "words.stage.due_on",
    ("H", 1, True): "words.stage.due_after_one",
    ("H", 1, False): "words.stage.due_after",
    ("L", -1, False): "words.stage.lapse_before",
    ("L", -1, True): "words.stage.last_day",
    ("L", 0, False): "words.stage.lapse_on",
    ("L", 1, True): "words.stage.lapse_after_one",
    ("L", 1, False): "words.stage.lapse_after",
}


def stage_words(stage: Stage | str) -> str:
    """`H-7` → "7 hari sebelum batas bayar", `H+7` → "7 hari lewat batas bayar", `L-1` → "hari terakhir sebelum
    nonaktif", `H-1@2` → "sehari sebelum batas bayar bulan ke-2 tunggakan"; a broadcast's stage → "siaran"."""
    if isinstance(stage, str):
        if stage == BROADCAST_STAGE:
            return t("words.stage.broadcast")
        stage = stage_of(stage)
    sign = (stage.offset > 0) - (stage.offset < 0)
    words = t(_STAGE_KEYS[stage.anchor, sign, abs(stage.offset) == 1], days=abs(stage.offset))
    return t("words.stage.later_month", stage=words, month=stage.month + 1) if stage.month else words


def status_words(status: str) -> str:
    """A reminder's state: "terkirim", "sampai", "dilewati"…"""
    return t(f"words.reminder_status.{ReminderStatus(status)}")


def reason_words(reason: str, status: str = "") -> str:
    """Why a reminder is in its state, from its stored reason (`cap:4`, `superseded:H-1`, `fallback:whatsapp`,
    `undelivered:30003`); "-" for none. An unknown reason is shown as it is stored rather than hidden."""
    if not reason:
        return "-"
    kind, _, detail = reason.partition(":")
    if kind == "refused" and status == ReminderStatus.CANCELLED:
        kind = "member_refused"  # an officer's "Menolak": the member, not the channel, refused
    key = f"words.reminder_reason.{kind}"
    if key not in catalog(current_channel()):
        return reason
    if kind == "superseded" and detail:
        detail = stage_words(detail)
    elif kind == "fallback" and detail:
        detail = channel_words(detail)
    return t(key, detail=detail)


def source_words(source: str) -> str:
    """Who recorded a payment: "laporan peserta", "data cabang"…"""
    return t(f"words.payment_source.{source}")


def channel_words(channel: str) -> str:
    return t(f"words.channel.{channel}")


def address_words(status: str) -> str:
    """A chat's state: "aktif", "tidak dapat dihubungi"."""
    return t(f"words.address_status.{status}")


def yes_no(value: bool) -> str:
    return t("why.yes") if value else t("why.no")


def unreached_reason(reason: str) -> str:
    """Why a member is on the officers' list; "no answer" names the stage it counts from, in words."""
    return _unreached_reason(current_channel(), reason)


@cache  # a province's file lists 150,000 members, with a handful of reasons between them
def _unreached_reason(channel: str, reason: str) -> str:
    return t(f"officer.reason.{reason}", stage=stage_words(NO_ANSWER_STAGE))
