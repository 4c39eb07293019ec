"""Invitation codes (SQLite and PostgreSQL): an officer's or an office's code works INVITE_DAYS after it was issued,
and an expired, revoked or used code is answered exactly like an unknown one (codes cannot be probed); codes are
revoked and renewed in chat (/petugas cabut, /petugas undangan) and from the command line (`sipakainge invitation`),
whose links name the configured bot."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, text
from sqlmodel import Session, col, select

from bot.__main__ import main
from bot.dialogs.core import Reply
from bot.texts import t
from domain.vocabulary import OfficerRole, Payer
from service import staff
from service.conversations import Conversations
from storage.db import alembic_config, make_engine
from storage.models import AuditEntry, Officer, SponsorChat
from tests.service import test_cli
from tests.service.test_conversation_db import Person

ISSUED = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
ADMIN_CHAT = "960"


@pytest.fixture
def service(conversations: Conversations) -> Conversations:
    config = dataclasses.replace(conversations.config, admins=frozenset({f"telegram:{ADMIN_CHAT}"}))
    return dataclasses.replace(conversations, config=config)


def _chat(service: Conversations, chat: str, at: datetime, channel: str = "telegram") -> Person:
    person = Person(service, chat, channel=channel)
    person.now = at
    return person


def _unknown(service: Conversations, at: datetime, channel: str = "telegram", word: str = "/start") -> list[Reply]:
    """What a code that never existed gets, from a fresh chat at `at`."""
    return _chat(service, f"+6281200000{at.day:03d}", at, channel).say(f"{word} of_tidakAdaKodeSepertiIni")


def _officer_code(service: Conversations, name: str, at: datetime) -> str:
    return staff.add_officer(
        service.engine, name=name, phone=None, codes=["73.12.06"], role=OfficerRole.OFFICER, now=at
    )


def _bound(service: Conversations, name: str) -> bool:
    with Session(service.engine) as session:
        return session.exec(select(Officer).where(col(Officer.name) == name)).one().address_id is not None


@pytest.mark.parametrize(("channel", "word"), [("telegram", "/start"), ("whatsapp", "DAFTAR")])
def test_an_expired_officer_code_is_answered_like_an_unknown_one(
    service: Conversations, channel: str, word: str
) -> None:
    fresh, stale = _officer_code(service, "Andi", ISSUED), _officer_code(service, "Baso", ISSUED)
    in_time = ISSUED + timedelta(days=13, hours=23)
    said = _chat(service, "+6281200000101", in_time, channel).say(f"{word} {fresh}")
    assert said[0].text.startswith(t("invitation.officer", name="Andi")[:20])
    late = ISSUED + timedelta(days=14, minutes=1)
    assert _chat(service, "+6281200000102", late, channel).say(f"{word} {stale}") == _unknown(
        service, late, channel, word
    )
    assert _bound(service, "Andi")
    assert not _bound(service, "Baso")


def test_invite_days_is_what_decides(service: Conversations) -> None:
    short = dataclasses.replace(service, config=dataclasses.replace(service.config, invite_days=3))
    code = _officer_code(short, "Andi", ISSUED)
    late = ISSUED + timedelta(days=3, minutes=1)
    assert _chat(short, "801", late).say(f"/start {code}") == _unknown(short, late)
    assert not _bound(short, "Andi")


def test_an_expired_office_code_is_refused_until_renewed(service: Conversations) -> None:
    code = staff.add_office(
        service.engine, name="Pemkab Soppeng", payer=Payer.REGIONAL_GOVERNMENT, codes=["73.12"], now=ISSUED
    )
    early = _chat(service, "811", ISSUED + timedelta(days=1))
    assert early.say(f"/start {code}")[0].text == t("invitation.sponsor", name="Pemkab Soppeng")
    late = ISSUED + timedelta(days=20)
    assert _chat(service, "812", late).say(f"/start {code}") == _unknown(service, late)
    renewed = staff.renew_invitation(service.engine, code=code, now=late)
    assert renewed is not None
    assert (renewed.kind, renewed.name, renewed.code != code) == ("sponsor", "Pemkab Soppeng", True)
    assert _chat(service, "813", late).say(f"/start {code}") == _unknown(service, late)  # the old one: gone
    assert _chat(service, "814", late).say(f"/start {renewed.code}")[0].text == t(
        "invitation.sponsor", name="Pemkab Soppeng"
    )
    with Session(service.engine) as session:
        assert len(session.exec(select(SponsorChat)).all()) == 2  # 811 stayed bound; 814 joined


def test_a_code_revoked_in_chat_no_longer_binds(service: Conversations) -> None:
    boss = _chat(service, ADMIN_CHAT, ISSUED)
    invitation = boss.say("/petugas tambah Andi Baso; 73.12.06")[-1].text
    assert t("admin.invitation", name="Andi Baso", code="X", link="", days=14).split("X")[1][:30] in invitation
    code = invitation.split("/start ")[1].split()[0]
    with Session(service.engine) as session:
        officer_id = session.exec(select(Officer.id).where(col(Officer.name) == "Andi Baso")).one()
    assert boss.say(f"/petugas cabut #{officer_id}")[0].text == t("invite.revoked", name="Andi Baso")
    assert boss.say(f"/petugas cabut #{officer_id}")[0].text == t("invite.none_pending", name="Andi Baso")
    later = ISSUED + timedelta(minutes=5)
    assert _chat(service, "821", later).say(f"/start {code}") == _unknown(service, later)
    assert not _bound(service, "Andi Baso")
    with Session(service.engine) as session:
        revoked = session.exec(select(AuditEntry).where(col(AuditEntry.action) == "staff.revoke")).all()
    assert [entry.subject for entry in revoked] == [f"staff:{officer_id}"] * 2
    assert all(code not in entry.detail for entry in revoked)


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "pakareso_sidrap_bot")
    return tmp_path


def _printed_code(out: str) -> str:
    return out.split("start=")[1].split(maxsplit=1)[0]


def test_the_command_line_renews_and_revokes_codes_with_the_configured_bots_link(
    cli: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["officer-add", "--name", "Penyuluh Donri", "--area", "73.12.06"]) == 0
    out = capsys.readouterr().out
    assert "https://t.me/pakareso_sidrap_bot?start=of_" in out
    assert "sipakainge_bot" not in out
    assert t("invite.cli_valid", days=14) in out
    first = _printed_code(out)
    assert main(["invitation", "renew", first]) == 0
    out = capsys.readouterr().out
    assert t("invite.cli_renewed", name="Penyuluh Donri") in out
    assert "https://t.me/pakareso_sidrap_bot?start=of_" in out
    second = _printed_code(out)
    assert second != first
    assert main(["invitation", "revoke", first]) == 1  # replaced already
    assert t("invite.cli_unknown") in capsys.readouterr().out
    assert main(["invitation", "revoke", second]) == 0
    assert t("invite.cli_revoked", name="Penyuluh Donri") in capsys.readouterr().out
    engine = make_engine(f"sqlite:///{cli / 'cli.db'}")
    with Session(engine) as session:
        officer = session.exec(select(Officer)).one()
        actions = session.exec(select(AuditEntry.action).order_by(col(AuditEntry.id))).all()
    engine.dispose()
    assert (officer.invite_code, officer.invite_issued_at) == (None, None)
    assert list(actions) == ["staff.invite", "staff.revoke"]
    args = ["payer", "add", "Pemkab Soppeng", "--payer", "regional_government", "--area", "73.12"]
    assert main(args) == 0
    office = _printed_code(capsys.readouterr().out)
    assert main(["invitation", "revoke", office]) == 0
    assert main(["invitation", "renew", office, "--bot", "lain_bot"]) == 0
    assert "https://t.me/lain_bot?start=sp_" in capsys.readouterr().out


def test_codes_pending_at_the_upgrade_keep_working_for_invite_days(engine: Engine) -> None:
    config = alembic_config(engine)
    command.downgrade(config, "0016")
    with engine.begin() as connection:
        for name, code in (("Menunggu", "of_pending"), ("Terhubung", None)):
            connection.execute(
                text(
                    "INSERT INTO officer (name, role, invite_code, active, created_at) "
                    "VALUES (:name, 'officer', :code, :active, :at)"
                ),
                {"name": name, "code": code, "active": True, "at": ISSUED},
            )
    before = datetime.now(UTC) - timedelta(minutes=1)
    command.upgrade(config, "head")
    with Session(engine) as session:
        rows = {o.name: o.invite_issued_at for o in session.exec(select(Officer)).all()}
    assert rows["Terhubung"] is None
    assert rows["Menunggu"] is not None
    assert rows["Menunggu"] > before  # from the upgrade on, not from when the code was made


@pytest.mark.parametrize("argv", [["invitation"], ["invitation", "renew"], ["invitation", "revoke"]])
def test_the_invitation_commands_help_is_indonesian(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    test_cli.test_the_help_is_indonesian(argv, capsys)
