"""The message catalog: every key the code asks for exists, and nothing in it is dead."""

from __future__ import annotations

import re
from pathlib import Path

from bot.dialogs.dialog import EDIT_STEPS
from bot.dialogs.fields import FIELD_STEPS, EnumStep, FieldStep, RegionStep
from bot.texts import catalog, long_date, t
from bot.texts.words import REMINDER_REASONS
from domain.identity import KpjProblem, NikProblem, PhoneProblem
from domain.member_rows import RowProblem
from domain.rules import Standing
from domain.unreached import Reason
from domain.vocabulary import (
    AddressStatus,
    Channel,
    FollowUpOutcome,
    OfficerRole,
    PaymentSource,
    PhoneOwner,
    ReminderStatus,
)
from files.member_sheet import COLUMNS

ROOT = Path(__file__).resolve().parents[2]
# Any quoted dotted name in the code counts as a key it uses (`t("a.b")`, `key = "a.b" if … else "a.c"`).
LITERAL = re.compile(r"""["']([a-z_]+\.[a-z_.0-9]+)["']""")


def source_text() -> str:
    return "\n".join(
        p.read_text()
        for d in ("domain", "bot", "scheduler", "service", "files", "storage")
        for p in (ROOT / d).rglob("*.py")
    )


def dynamic_keys() -> set[str]:
    """Keys the code builds from names at run time (f-strings), enumerated from the same enums."""
    keys = {f"ask.{step}" for step in FIELD_STEPS} | {"ask.kecamatan_narrowed", "ask.desa_narrowed"}
    keys |= {
        f"invalid.{step}"
        for step, s in FIELD_STEPS.items()
        if type(s).on_text is FieldStep.on_text or isinstance(s, RegionStep)
    }
    keys |= {f"invalid.nik_{p}" for p in NikProblem} | {f"invalid.phone_{p}" for p in PhoneProblem}
    for step in FIELD_STEPS.values():
        if isinstance(step, EnumStep):
            keys |= {f"option.{step.field}.{option}" for option in step.options}
    keys |= {f"option.field.{field}" for field in EDIT_STEPS} | {"option.field.cancel"}
    keys |= {f"option.{g}.{n}" for g, names in _CONTROL_OPTIONS.items() for n in names}
    keys |= {f"ask.pick_member_{flow}" for flow in ("status", "edit", "delete")}
    keys |= {f"calendar.month_{m}" for m in range(1, 13)} | {f"calendar.weekday_{d}" for d in range(1, 8)}
    keys |= {"option.sex.L", "option.sex.P"} | {f"phone_owner.{owner}" for owner in PhoneOwner}
    keys |= {f"officer.{kind}.{o}" for o in FollowUpOutcome for kind in ("outcome", "done")}
    keys |= {f"officer.reason.{r}" for r in Reason}
    keys |= {f"officer.standing.{s}" for s in Standing}
    keys |= {f"words.reminder_status.{s}" for s in ReminderStatus} | {
        f"words.payment_source.{s}" for s in PaymentSource
    }
    keys |= {f"words.channel.{c}" for c in Channel} | {f"words.address_status.{s}" for s in AddressStatus}
    keys |= {f"words.reminder_reason.{r}" for r in REMINDER_REASONS}
    keys |= {f"{role}.{k}" for role in ("officer", "coordinator") for k in ("list_empty", "list_header", "all_clear")}
    keys |= {f"admin.role.{role}" for role in OfficerRole}
    keys |= (
        {f"sheet.nik_{p}" for p in NikProblem}
        | {f"sheet.kpj_{p}" for p in KpjProblem}
        | {f"sheet.column.{key}" for key in COLUMNS}
    )
    keys |= {f"sheet.{p}" for p in RowProblem}
    return keys


_CONTROL_OPTIONS = {
    "claim": ("officer", "other"),
    "consent": ("yes", "no", "more"),
    "summary": ("ok", "change"),
    "after": ("another", "done"),
    "delete": ("yes", "no"),
    "menu": ("register", "status", "edit", "delete", "help"),
    "nav": ("prev", "next"),
    "m": ("all",),
}


def test_every_key_used_in_code_exists() -> None:
    called = set(re.findall(r"""\bt\(\s*["']([a-z_.0-9]+)["']""", source_text()))
    missing = sorted(key for key in called | dynamic_keys() if key not in catalog())
    assert missing == []


def test_no_dead_texts() -> None:
    used = set(LITERAL.findall(source_text())) | dynamic_keys()
    assert sorted(set(catalog()) - used) == []


def test_texts_are_polite_and_short_enough_for_one_message() -> None:
    for key, text in catalog().items():
        assert len(text) < 1500, key  # well under Telegram's 4,096 and WhatsApp's 1,600 characters
        assert text == text.strip(), key


def test_dates_in_indonesian() -> None:
    from datetime import date

    assert long_date(date(2026, 12, 15)) == "Selasa, 15 Desember 2026"
    assert t("option.period", months=3) == "3 bulan"


def test_a_channel_says_only_what_it_says_differently() -> None:
    from bot.texts import VARIANTS, overrides, placeholders, speaking

    for channel in VARIANTS:
        for key in overrides(channel):
            assert key in catalog(), f"{channel}.{key} overrides no text"
            assert placeholders(key, channel) == placeholders(key), f"{channel}.{key} fills other blanks"
    with speaking("whatsapp"):
        assert t("hint.numbered") == catalog("whatsapp")["hint.numbered"]
    assert t("hint.numbered") == catalog()["hint.numbered"]
