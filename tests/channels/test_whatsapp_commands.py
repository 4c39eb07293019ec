"""Commands never steal an answer on WhatsApp, at the HTTP boundary: the real webhook, signed requests, the real
service and database. Typed words answer the open question first; a command word acts only where it answers nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlmodel import Session, select

from bot.texts import speaking, t
from domain.vocabulary import Channel
from service.conversations import Conversations
from storage.models import Member
from tests.channels.test_whatsapp import NUMBER, Phone, served_webhook, unescape
from tests.dialog_driver import HAPPY_PATH


@pytest.fixture
async def webhook(conversations: Conversations) -> AsyncIterator[httpx.AsyncClient]:
    async with served_webhook(conversations) as client:
        yield client


async def summary(phone: Phone) -> str:
    await phone.say("daftar")
    replies: list[str] = []
    for _, answer in HAPPY_PATH:
        replies = await phone.say(answer)
    return unescape(replies[-1])


def members(conversations: Conversations) -> list[Member]:
    with Session(conversations.engine) as session:
        return list(session.exec(select(Member)).all())


async def test_ubah_at_the_summary_opens_the_edit_menu(webhook: httpx.AsyncClient) -> None:
    phone = Phone(webhook)
    assert "NIK: 7312********9001" in await summary(phone)
    menu = unescape((await phone.say("ubah"))[0])
    with speaking(Channel.WHATSAPP):
        assert t("command.finish_first") not in menu
        assert menu.startswith(t("ask.edit_field"))
    assert f"1. {t('option.field.name')}" in menu


async def test_hapus_and_ya_at_the_delete_confirmation_delete(
    webhook: httpx.AsyncClient, conversations: Conversations
) -> None:
    phone = Phone(webhook)
    await summary(phone)
    await phone.say("1")  # Benar, simpan
    await phone.say("2")  # Selesai
    asked = unescape((await phone.say("hapus"))[0])
    assert "Hapus semua data La Baco" in asked
    done = unescape((await phone.say("hapus"))[0])  # the confirmation's own word: yes, not a new picker
    assert done == t("delete.done", name="La Baco")
    assert members(conversations) == []


async def test_ya_at_the_delete_confirmation_deletes(webhook: httpx.AsyncClient, conversations: Conversations) -> None:
    phone = Phone(webhook)
    await summary(phone)
    await phone.say("1")
    await phone.say("2")
    await phone.say("HAPUS")
    done = unescape((await phone.say("ya"))[0])
    assert done == t("delete.done", name="La Baco")
    assert members(conversations) == []


async def test_batal_mid_registration_is_recoverable_and_kembali_goes_back(
    webhook: httpx.AsyncClient, conversations: Conversations
) -> None:
    phone = Phone(webhook)
    await phone.say("daftar")
    for _, answer in HAPPY_PATH[:5]:  # consent, name, NIK, phone, whose phone: the kecamatan is asked
        await phone.say(answer)
    back = unescape((await phone.say("kembali"))[0])
    assert back.startswith(t("command.back_answer", value=t("option.phone_owner.self")))
    await phone.say("0")  # keep whose number it is
    cancelled = unescape((await phone.say("batal"))[0])
    with speaking(Channel.WHATSAPP):
        assert cancelled == t("command.registration_cancelled")
    assert "/" not in cancelled  # WhatsApp's words, never a slash command
    assert members(conversations) == []
    resumed = unescape((await phone.say("daftar"))[0])
    with speaking(Channel.WHATSAPP):
        assert resumed.startswith(t("resume.continue"))
    assert t("ask.kecamatan") in resumed
    for _, answer in HAPPY_PATH[5:]:
        await phone.say(answer)
    saved = unescape((await phone.say("1"))[0])
    assert "La Baco sudah tersimpan" in saved
    [member] = members(conversations)
    assert member.phone == NUMBER
