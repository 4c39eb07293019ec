"""A staff command from someone who may not use it is answered exactly as a command that does not exist — the same
text, the same options, the conversation where it was — on Telegram and WhatsApp, so nobody can tell which commands
exist; the refusal is audited with the command's name only. Through the real service (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlmodel import Session, col, select

from bot.dialogs.dialog import STAFF_ONLY_COMMANDS
from domain.vocabulary import OfficerRole
from service.conversations import Conversations
from storage.models import AuditEntry
from storage.officers import create_officer
from tests.dialog_driver import HAPPY_PATH
from tests.service.test_conversation_db import Person

UNKNOWN = "/tidakada"
# Arguments that would do something for someone allowed to (a NIK, a name, a broadcast).
ARGS = {
    "petugas": "tambah Andi; 73.12.06",
    "peserta": "7312061506809001",
    "bayar": "7312061506809001 1",
    "siaran": "Donri-Donri: Kantor tutup besok",
    "cari": "La Baco",
    "ekspor": "Donri-Donri",
}
CHANNELS = {"telegram": "7", "whatsapp": "+62812000007"}


def _chat(service: Conversations, channel: str, suffix: str) -> Person:
    return Person(service, f"{CHANNELS[channel]}{suffix}", channel=channel)


def _officer(service: Conversations, channel: str, suffix: str, role: OfficerRole) -> Person:
    person = _chat(service, channel, suffix)
    with Session(service.engine) as session:
        code = create_officer(
            session=session, name=f"Staf {suffix}", phone=None, codes=["73.12.06"], now=person.now, role=role
        ).invite_code
        session.commit()
    person.say(f"/start {code}")
    return person


def _people(service: Conversations, channel: str) -> dict[str, Person]:
    stranger = _chat(service, channel, "01")
    registering = _chat(service, channel, "02")  # halfway through the registration: the question comes again
    registering.say("/start")
    for _, answer in HAPPY_PATH[:3]:
        registering.say(answer)
    member = _chat(service, channel, "03")
    member.register_until_summary()
    member.say("1")  # saved
    return {
        "stranger": stranger,
        "registering": registering,
        "member": member,
        "officer": _officer(service, channel, "04", OfficerRole.OFFICER),
    }


@pytest.mark.parametrize("channel", sorted(CHANNELS))
def test_every_staff_command_is_answered_as_an_unknown_one(conversations: Conversations, channel: str) -> None:
    assert {"petugas", "peserta", "impor", "cari", "rekap", "eskalasi", "peserta_baru"} <= STAFF_ONLY_COMMANDS
    refused = 0
    for who, person in _people(conversations, channel).items():
        unknown = person.say(UNKNOWN)
        for command in sorted(STAFF_ONLY_COMMANDS):
            if who == "officer" and command in {"cari", "rekap", "peserta_baru"}:
                continue  # an officer's own commands
            said = person.say(f"/{command} {ARGS.get(command, '')}".strip())
            assert said == unknown, (who, command)
            refused += 1
        assert person.say(UNKNOWN) == unknown  # and the conversation is where it was
    with Session(conversations.engine) as session:
        entries = session.exec(select(AuditEntry).where(col(AuditEntry.action) == "admin.refused")).all()
    assert len(entries) == refused
    assert {entry.detail for entry in entries} == STAFF_ONLY_COMMANDS
    for entry in entries:  # the command's name only: no NIK, name or number typed after it
        assert entry.detail in STAFF_ONLY_COMMANDS
        assert "7312061506809001" not in f"{entry.actor}{entry.subject}{entry.detail}"
