"""Files stay out of the dialogs and out of the conversation's lock: an admin's spreadsheet is read by the service
before the chat is locked, and a dialog that sends a file asks for it; the service makes it after the commit."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from bot.dialogs.core import DialogConfig, ErrorFile, ExportFile, Incoming, StaffView
from bot.texts import t
from domain.member_rows import RowError, RowProblem, Sheet
from domain.regions import sulawesi_selatan
from domain.vocabulary import OfficerRole
from files import member_sheet
from service.conversations import Conversations
from storage import members as store
from tests.dialog_driver import Chat
from tests.service.test_admin import ADMIN_CHAT, staff_chat
from tests.service.test_conversation_db import Person
from tests.service.test_import import branch_file, send_file

CONFIG = DialogConfig(service_area=("73.12", "73.14"), data_holder="BPJS Ketenagakerjaan (uji)", consent_version="t")
TODAY = date(2026, 11, 23)


@pytest.fixture
def service(conversations: Conversations) -> Conversations:
    config = dataclasses.replace(conversations.config, admins=frozenset({f"telegram:{ADMIN_CHAT}"}))
    return dataclasses.replace(conversations, config=config)


def admin_chat() -> Chat:
    chat = Chat(CONFIG, sulawesi_selatan())
    chat.lookups.role = StaffView(OfficerRole.ADMIN)
    return chat


def test_a_dialog_asks_for_an_export_and_never_makes_one() -> None:
    [reply] = admin_chat().send("/ekspor")
    assert reply.text == t("admin.exported", count=0)
    assert reply.attachment is None
    assert reply.file_request == ExportFile((), TODAY)


def test_the_import_dialog_gets_checked_rows_and_asks_for_the_error_file() -> None:
    errors = (RowError(3, "nik", "nik_length"), RowError(4, "nik", RowProblem.DUPLICATE_NIK, first=2))
    [reply] = admin_chat().send(Incoming.checked("data.xlsx", Sheet((), errors, fingerprint="ab")))
    counts = {"new": 0, "updated": 0, "unchanged": 0, "invalid": 2}
    preview = t("admin.import_preview", filename="data.xlsx", skipped="", notes="", **counts)
    assert reply.text == f"{preview}\n\n{t('admin.import_nothing')}"
    assert reply.file_request == ErrorFile(errors)
    assert reply.attachment is None


def test_a_file_the_service_did_not_read_is_unsupported_even_for_an_admin() -> None:
    [reply] = admin_chat().send(Incoming.file("data.xlsx", branch_file()))
    assert reply.text.startswith(t("invalid.unsupported"))


def test_the_sheet_is_read_before_the_chat_is_locked_and_its_errors_made_after_the_commit(
    service: Conversations,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    events: list[str] = []

    def spy(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def called(*args: Any, **kwargs: Any) -> Any:
            events.append(name)
            return real(*args, **kwargs)

        return called

    monkeypatch.setattr(member_sheet, "read", spy("read", member_sheet.read))
    monkeypatch.setattr(member_sheet, "error_file", spy("error file", member_sheet.error_file))
    monkeypatch.setattr(store, "lock_conversation", spy("lock", store.lock_conversation))
    monkeypatch.setattr(store, "save_conversations", spy("save", store.save_conversations))
    [preview] = send_file(Person(service, ADMIN_CHAT), "sutasoma.xlsx", branch_file())
    assert events == ["read", "lock", "save", "error file"]
    assert preview.attachment is not None
    assert preview.attachment.filename == "kesalahan-impor.xlsx"
    assert preview.file_request is None  # the channels get the file itself


def test_a_bound_admins_file_is_read_and_a_coordinators_is_not(service: Conversations) -> None:
    bound = staff_chat(service, "702", OfficerRole.ADMIN, [])
    [preview] = send_file(bound, "sutasoma.xlsx", branch_file())
    assert "• baru: 5" in preview.text
    coordinator = staff_chat(service, "703", OfficerRole.COORDINATOR, ["73.12.06"])
    [reply] = send_file(coordinator, "sutasoma.xlsx", branch_file())
    assert reply.text.startswith(t("invalid.unsupported"))
