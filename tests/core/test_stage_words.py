"""Stages, reminder states, reasons, payment sources and channels as people read them: words, never codes."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import date

import pytest
from openpyxl import load_workbook

from bot.dialogs.core import DialogConfig, ListFile, UnreachedView
from bot.texts import catalog, speaking, t
from bot.texts.words import (
    REMINDER_REASONS,
    address_words,
    channel_words,
    reason_words,
    source_words,
    stage_words,
    status_words,
    unreached_reason,
)
from domain.identity import KpjProblem, parse_kpj
from domain.member_rows import RowCheck, RowError
from domain.regions import RegionIndex
from domain.rules import DEFAULT_STAGES, cycle_stages, parse_stages, stage_of
from domain.unreached import NO_ANSWER_AFTER, NO_ANSWER_STAGE, Reason
from domain.vocabulary import AddressStatus, Channel, PaymentSource, ReminderStatus
from files import officer_list
from tests.dialog_driver import Chat, walk_to

CODE = re.compile(r"\b[HL][+-]?\d+\b|@\d")  # a stage code: H-7, H0, L-1, H-1@2


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("H-7", "7 hari sebelum batas bayar"),
        ("H-1", "sehari sebelum batas bayar"),
        ("H0", "hari batas bayar"),
        ("H+1", "sehari lewat batas bayar"),
        ("H+7", "7 hari lewat batas bayar"),
        ("L-14", "14 hari sebelum kepesertaan nonaktif"),
        ("L-1", "hari terakhir sebelum nonaktif"),
        ("L0", "hari kepesertaan nonaktif"),
        ("L+3", "3 hari setelah kepesertaan nonaktif"),
        ("H-7@2", "7 hari sebelum batas bayar (bulan tunggakan ke-2)"),
        ("H-1@3", "sehari sebelum batas bayar (bulan tunggakan ke-3)"),
        ("SIARAN", "siaran"),
    ],
)
def test_a_stage_in_words(code: str, words: str) -> None:
    assert stage_words(code) == words
    if code != "SIARAN":
        assert stage_words(stage_of(code)) == words  # the stage itself or its stored code: the same words


def test_every_stage_of_the_default_schedule_has_words_without_a_code() -> None:
    stages = cycle_stages(parse_stages(DEFAULT_STAGES))
    said = [stage_words(stage) for stage in stages]
    assert all(not CODE.search(words) for words in said), said
    assert len(set(said)) == len(said)  # no two stages of a cycle read the same


def test_every_state_source_and_channel_has_its_words() -> None:
    for enum, words in (
        (ReminderStatus, status_words),
        (PaymentSource, source_words),
        (Channel, channel_words),
        (AddressStatus, address_words),
    ):
        for value in enum:
            assert words(value) not in {"", value}, value
    assert status_words("sent") == "terkirim"
    assert source_words("self_report") == "laporan peserta"
    assert source_words("import") == "data cabang"
    assert channel_words("whatsapp") == "WhatsApp"
    assert address_words("unreachable") == "tidak dapat dihubungi"


def test_reasons_in_words() -> None:
    assert all(f"words.reminder_reason.{r}" in catalog() for r in REMINDER_REASONS)
    assert reason_words("cap:4") == "sudah 4 pengingat bulan ini (batas per bulan)"
    assert reason_words("superseded:H-1") == f"digantikan pengingat {stage_words('H-1')} yang lebih baru"
    assert reason_words("fallback:whatsapp") == "dialihkan ke WhatsApp"
    assert reason_words("undelivered:30003") == "tidak sampai (kode 30003)"
    # "refused": the channel refused a failed one; an officer's "Menolak" cancelled the others.
    assert reason_words("refused", "failed") != reason_words("refused", "cancelled")
    assert reason_words("") == "-"


def test_no_answer_names_the_stage_it_counts_from() -> None:
    assert NO_ANSWER_AFTER.days == NO_ANSWER_STAGE.offset
    said = unreached_reason(Reason.NO_ANSWER)
    assert said == "belum bayar dan belum menjawab sejak 7 hari lewat batas bayar"
    for reason in Reason:
        assert not CODE.search(unreached_reason(reason)), reason
        with speaking(Channel.WHATSAPP):
            assert not CODE.search(unreached_reason(reason)), reason


def test_the_officer_line_and_file_say_the_stage_in_words(dialog_config: DialogConfig, regions: RegionIndex) -> None:
    chat = Chat(dialog_config, regions)
    chat.lookups.officer = "Penyuluh Donri"
    attempt = t("officer.attempt.dated", stage=stage_words("H-1"), day="14 Desember 2026", status=status_words("sent"))
    view = UnreachedView(
        member_id=1,
        name="Peserta 1",
        desa_code="73.12.06.2002",
        phone="+6281200001234",
        masked_nik=lambda: "7312********9001",
        reason=Reason.NO_ANSWER,
        days_left=56,
        months_due=1,
        amount_due=8_400,
        last_attempt=attempt,
        covered_until=date(2026, 11, 30),
    )
    chat.lookups.unreached = [view, *(replace(view, member_id=n, memo={}) for n in range(2, 10))]
    [listing] = chat.send("/daftar")
    assert "belum menjawab sejak 7 hari lewat batas bayar" in listing.text
    assert "terakhir: pengingat sehari sebelum batas bayar, 14 Desember 2026 (terkirim)" in listing.text
    assert "H+7" not in listing.text
    assert isinstance(listing.file_request, ListFile)
    book = load_workbook(io.BytesIO(officer_list.workbook(listing.file_request.items, regions)))
    header, first, *_ = list(book.active.iter_rows(values_only=True))  # type: ignore[union-attr]
    cells = dict(zip(header, first, strict=True))
    assert cells["Alasan"] == "belum bayar dan belum menjawab sejak 7 hari lewat batas bayar"
    assert cells["Terakhir dihubungi bot"] == attempt


def test_kpj_says_what_is_wrong(dialog_config: DialogConfig, regions: RegionIndex) -> None:
    assert parse_kpj("1234567") == KpjProblem.LENGTH
    assert parse_kpj("KPJ-1234") == KpjProblem.NOT_DIGITS
    chat = Chat(dialog_config, regions)
    walk_to(chat, "kpj")
    chat.send("1234 567")
    assert chat.last.text.startswith("Maaf, nomor KPJ biasanya 11 angka; yang diketik 7 angka.")
    chat.send("12345678901234567")
    assert "yang diketik 17 angka" in chat.last.text
    chat.send("abc123")
    assert chat.last.text.startswith("Maaf, nomor KPJ hanya berisi angka")
    assert chat.step == "kpj"
    chat.send("123 456 789 01")
    assert chat.state.draft.kpj == "12345678901"


@pytest.mark.parametrize(
    ("cell", "reason", "says"),
    [
        ("1234567", "kpj_length", "nomor KPJ biasanya 11 angka; yang tertulis 7 angka"),
        ("KPJ 1234", "kpj_not_digits", "nomor KPJ hanya boleh berisi angka"),
    ],
)
def test_the_import_says_what_is_wrong_with_a_kpj(cell: str, reason: str, says: str, regions: RegionIndex) -> None:
    values = {"nik": "7312060101809101", "nama": "Wa Ode", "desa": "Donri Donri", "kecamatan": "Donri-Donri"}
    error = RowCheck(regions, ("73.12",), date(2026, 11, 23)).row(5, values | {"kpj": cell})
    assert isinstance(error, RowError)
    assert (error.column, error.reason) == ("kpj", reason)
    assert t(f"sheet.{error.reason}", value=error.value) == says
