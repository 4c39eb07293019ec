"""Admin commands through the real python-telegram-bot client and a Bot API stand-in."""

from __future__ import annotations

import dataclasses

import pytest
from sqlmodel import Session, select
from telegram.ext import Application

from bot.dialogs.core import DialogConfig
from bot.texts import t
from service.conversations import Conversations
from storage.models import AuditEntry, Control, ImportBatch
from tests.fake_telegram import FakeTelegram
from tests.service.test_import import branch_file, sheet_of

ADMIN_USER = 770001
OFFICER_USER = 770002
STRANGER = 770003


@pytest.fixture
def dialog_config(dialog_config: DialogConfig) -> DialogConfig:
    """The suite's configuration with one admin named, as ADMIN_TELEGRAM_IDS would."""
    return dataclasses.replace(dialog_config, admins=frozenset({f"telegram:{ADMIN_USER}"}), bot_username="uji_bot")


async def test_admin_runs_staff_and_pause_from_telegram(
    telegram: FakeTelegram,
    polling_bot: Application,  # type: ignore[type-arg]
) -> None:
    telegram.text(ADMIN_USER, "/petugas tambah Andi Baso; 73.12.06")
    invitation = (await telegram.wait_for(ADMIN_USER, 1))[-1]
    assert "https://t.me/uji_bot?start=of_" in invitation
    code = invitation.split("start=")[1].split()[0]
    telegram.text(OFFICER_USER, f"/start {code}")
    assert (await telegram.wait_for(OFFICER_USER, 1))[0] == t("invitation.officer", name="Andi Baso")
    telegram.text(OFFICER_USER, "/tidakada")
    unknown = (await telegram.wait_for(OFFICER_USER, 2))[-1]
    telegram.text(OFFICER_USER, "/jeda")  # an officer is not an admin: answered as a command that does not exist
    assert (await telegram.wait_for(OFFICER_USER, 3))[-1] == unknown
    telegram.text(STRANGER, "/tidakada")
    unknown = (await telegram.wait_for(STRANGER, 1))[-1]
    telegram.text(STRANGER, "/audit")
    assert (await telegram.wait_for(STRANGER, 2))[-1] == unknown
    assert unknown.startswith(t("command.unknown"))
    telegram.text(ADMIN_USER, "/jeda")
    assert (await telegram.wait_for(ADMIN_USER, 2))[-1] == t("admin.paused")
    telegram.text(ADMIN_USER, "/petugas")
    assert "Andi Baso · penyuluh · Donri-Donri · terhubung" in (await telegram.wait_for(ADMIN_USER, 3))[-1]
    telegram.text(ADMIN_USER, "/audit")
    trail = (await telegram.wait_for(ADMIN_USER, 4))[-1]
    for action in ("staff.add", "officer.bind", "admin.refused", "service.pause"):
        assert action in trail


async def test_refusals_and_pause_are_stored(
    telegram: FakeTelegram,
    polling_bot: Application,  # type: ignore[type-arg]
    conversations: Conversations,
) -> None:
    telegram.text(STRANGER, "/petugas tambah Orang Lain; 73.12.06")
    await telegram.wait_for(STRANGER, 1)
    telegram.text(ADMIN_USER, "/jeda")
    await telegram.wait_for(ADMIN_USER, 1)
    with Session(conversations.engine) as session:  # the database the bot writes to
        refused = session.exec(select(AuditEntry).where(AuditEntry.action == "admin.refused")).all()
        pause = session.get(Control, "paused")
    assert [(entry.actor.split(":")[0], entry.detail) for entry in refused] == [("telegram", "petugas")]
    assert pause is not None
    assert pause.value == "1"


async def test_admin_imports_a_spreadsheet_sent_as_a_document(
    telegram: FakeTelegram,
    polling_bot: Application,  # type: ignore[type-arg]
    conversations: Conversations,
) -> None:
    telegram.document(ADMIN_USER, "sutasoma.xlsx", branch_file())  # fetched through getFile, as from Telegram
    preview = (await telegram.wait_for(ADMIN_USER, 1))[-1]
    assert "• baru: 5" in preview
    assert "• tidak valid: 6" in preview
    [(name, errors)] = await telegram.wait_for_documents(ADMIN_USER, 1)
    assert name == "kesalahan-impor.xlsx"
    # The header, six refused rows, and three imported rows whose Program ("SUTASOMA") was not read.
    assert len(list(sheet_of(errors).iter_rows())) == 10
    telegram.press(ADMIN_USER, t("admin.import_go"))
    assert (await telegram.wait_for(ADMIN_USER, 2))[-1] == t("admin.import_started", total=5)
    with Session(conversations.engine) as session:
        assert session.exec(select(ImportBatch.status)).all() == ["confirmed"]
    telegram.document(STRANGER, "sutasoma.xlsx", branch_file())  # anyone else: not read
    assert (await telegram.wait_for(STRANGER, 1))[-1].startswith(t("invalid.unsupported"))
