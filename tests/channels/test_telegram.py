"""The real python-telegram-bot client against a local Bot API stand-in: registration, /status, /hapus, webhook."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
from sqlmodel import Session, select
from starlette.applications import Starlette
from telegram.ext import Application

from bot.app import utc_now
from bot.channels.telegram import TelegramChannel, build_application, webhook_routes
from bot.texts import t
from service.conversations import Conversations
from storage.models import Member
from tests.fake_telegram import TOKEN, FakeTelegram, Served, free_port

CHAT = 777001


async def test_registration_with_buttons_and_shared_contact(
    telegram: FakeTelegram,
    polling_bot: Application,  # type: ignore[type-arg]
    conversations: Conversations,
) -> None:
    sent = 0

    async def expect(count: int = 1) -> list[str]:
        nonlocal sent
        sent += count
        return (await telegram.wait_for(CHAT, sent))[-count:]

    telegram.text(CHAT, "/start")
    assert "Apakah Bapak/Ibu setuju?" in (await expect())[0]
    assert telegram.buttons(CHAT) == ["Setuju", "Tidak setuju", "Baca selengkapnya"]
    telegram.press(CHAT, "Setuju")
    assert (await expect())[0].endswith(t("ask.name"))
    assert any(c.method == "answerCallbackQuery" for c in telegram.calls)
    echoed = [c.params["text"] for c in telegram.calls if c.method == "editMessageText"]
    assert echoed[-1].startswith("Sipakainge mengingatkan iuran")
    assert echoed[-1].endswith("✅ Setuju")

    telegram.sticker(CHAT)
    assert (await expect())[0].startswith(t("invalid.unsupported"))
    telegram.text(CHAT, "La Baco")
    await expect()
    telegram.text(CHAT, "7312 0615 0680 9001")
    await expect()
    assert telegram.keyboard(CHAT) == [
        {"text": t("button.share_contact"), "request_contact": True},
        {"text": t("option.phone.none")},  # no phone: registered all the same
    ]

    telegram.contact(CHAT, "6281200009999", user_id=CHAT + 1)  # someone else's card from the phonebook
    assert (await expect())[0].startswith(t("invalid.contact_not_own"))
    telegram.contact(CHAT, "6281200001234", user_id=CHAT)
    saved, owner = await expect(2)
    assert saved == t("saved.phone", phone="+62 812-0000-1234")
    assert owner == t("ask.phone_owner")  # the sender's own number, yet it may be for someone else
    telegram.press(CHAT, t("option.phone_owner.self"))
    assert (await expect())[0].startswith(t("ask.kecamatan"))

    for label in (
        "Donri-Donri (Soppeng)",
        "Pesse",
        "Petani",
        "Sudah jadi peserta",
        "Lewati",
        "Oktober 2026",
        "Sendiri",
        "Rp1.000.000 (paling umum)",
        "Ya, ikut JHT (+Rp20.000/bulan)",
    ):
        telegram.press(CHAT, label)
        await expect()
    telegram.press(CHAT, "3 bulan")
    summary = (await expect())[0]
    assert "NIK: 7312********9001" in summary
    assert "Desa: Pesse, Kec. Donri-Donri" in summary
    assert "Iuran per bulan: Rp28.400 (untuk November 2026)" in summary
    telegram.press(CHAT, "Benar, simpan")
    assert "La Baco sudah tersimpan" in (await expect())[0]
    telegram.press(CHAT, "Selesai")
    await expect()

    telegram.text(CHAT, "/status")
    status = (await expect())[0]
    assert "7312********9001" in status
    assert "7312061506809001" not in status

    telegram.text(CHAT, "/hapus")
    assert "Hapus semua data La Baco" in (await expect())[0]
    telegram.press(CHAT, "Ya, hapus")
    assert (await expect())[0] == t("delete.done", name="La Baco")
    with Session(conversations.engine) as session:
        assert session.exec(select(Member)).all() == []


async def test_forged_callback_data_changes_nothing(
    telegram: FakeTelegram,
    polling_bot: Application,  # type: ignore[type-arg]
) -> None:
    telegram.text(CHAT, "/start")
    await telegram.wait_for(CHAT, 1)
    telegram.press_data(CHAT, "delete:yes")
    replies = await telegram.wait_for(CHAT, 2)
    assert replies[-1].startswith(t("invalid.stale_choice"))
    assert any(c.method == "editMessageReplyMarkup" for c in telegram.calls)
    assert telegram.buttons(CHAT) == ["Setuju", "Tidak setuju", "Baca selengkapnya"]


async def test_group_chats_are_ignored(
    telegram: FakeTelegram,
    polling_bot: Application,  # type: ignore[type-arg]
) -> None:
    telegram._push(
        {
            "message": {
                "message_id": 1,
                "date": int(datetime.now(UTC).timestamp()),
                "chat": {"id": -100, "type": "group", "title": "Kelompok Tani"},
                "from": {"id": 5, "is_bot": False, "first_name": "Baco"},
                "text": "/start",
            }
        }
    )
    telegram.text(CHAT, "/start")
    await telegram.wait_for(CHAT, 1)
    assert telegram.messages(-100) == []


async def test_webhook_checks_the_secret_and_answers(telegram: FakeTelegram, conversations: Conversations) -> None:
    application = build_application(
        token=TOKEN, base_url=telegram.base_url, channel=TelegramChannel(conversations, utc_now), webhook=True
    )
    port = free_port()
    update = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": int(datetime.now(UTC).timestamp()),
            "chat": {"id": CHAT, "type": "private", "first_name": "Peserta"},
            "from": {"id": CHAT, "is_bot": False, "first_name": "Peserta"},
            "text": "/start",
        },
    }
    async with application, Served(Starlette(routes=webhook_routes(application, "s3cret-webhook-token")), port):
        await application.start()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            missing = await client.post("/telegram", json=update)
            forged = await client.post("/telegram", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "guess"})
            assert (missing.status_code, forged.status_code) == (403, 403)
            garbage = await client.post(
                "/telegram", content=b"{not json", headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-webhook-token"}
            )
            assert garbage.status_code == 200  # from Telegram, so answered (else resent), and ignored
            good = await client.post(
                "/telegram", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-webhook-token"}
            )
            assert good.status_code == 200
        replies = await telegram.wait_for(CHAT, 1)
        await application.stop()
    assert len(replies) == 1
    assert "Apakah Bapak/Ibu setuju?" in replies[0]
    assert json.loads(telegram.messages(CHAT)[0].params["reply_markup"])["inline_keyboard"]
