"""The member dialog, pure: every step with good and bad input, commands, flows, resuming, tampering."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.dialogs import dialog
from bot.dialogs.core import DeleteMember, Incoming, RecordConsent, SaveMember, UpdateMember
from bot.dialogs.state import Step
from bot.texts import t
from tests.dialog_driver import HAPPY_PATH, Chat, walk_to

# --- a whole registration ---


def test_registration_saves_exactly_what_was_answered(chat: Chat) -> None:
    chat.register()
    saves = [e for e in chat.effects if isinstance(e, SaveMember)]
    assert len(saves) == 1
    fields = saves[0].fields
    assert fields["full_name"] == "La Baco"
    assert fields["nik"] == "7312061506809001"
    assert fields["birth_date"] == date(1980, 6, 15)
    assert fields["sex"] == "L"
    assert fields["phone"] == "+6281200001234"
    assert fields["kecamatan_code"] == "73.12.06"
    assert chat.regions.name(str(fields["desa_code"])) == "Pesse"
    assert (fields["occupation"], fields["bpjs_status"], fields["kpj"]) == ("petani", "member", "12345678901")
    assert fields["covered_until"] == date(2026, 10, 31)
    assert (fields["payer"], fields["period_months"], fields["needs_enrolment"]) == ("self", 3, False)
    assert (fields["declared_income"], fields["with_jht"]) == (1_000_000, False)
    assert RecordConsent(granted=True) in chat.effects
    assert chat.step == Step.AFTER_SAVE
    assert "La Baco sudah tersimpan" in chat.last.text


def test_not_registered_skips_kpj_and_last_paid_and_flags_enrolment(chat: Chat) -> None:
    walk_to(chat, "bpjs_status")
    chat.press("Belum terdaftar")
    assert chat.step == Step.PAYER
    chat.press("Orang lain yang menanggung (jaksa, kerabat)")
    assert chat.step == Step.SPONSOR
    chat.send("Kejaksaan Negeri Soppeng")
    assert chat.step == Step.INCOME
    chat.press("Rp2.000.000")
    chat.press("Tidak, JKK + JKM saja")
    chat.press("6 bulan")
    chat.press("Benar, simpan")
    fields = next(e for e in chat.effects if isinstance(e, SaveMember)).fields
    assert fields["needs_enrolment"] is True
    assert fields["covered_until"] is None
    assert (fields["payer"], fields["sponsor_name"]) == ("sponsor", "Kejaksaan Negeri Soppeng")
    assert (fields["declared_income"], fields["with_jht"]) == (2_000_000, False)
    assert "penyuluh setempat akan menghubungi" in chat.last.text


def test_consent_refused_stores_nothing(chat: Chat) -> None:
    chat.send("/start")
    chat.press("Tidak setuju")
    assert chat.effects == [RecordConsent(granted=False)]
    assert chat.step == Step.MENU
    assert chat.state.draft.full_name is None
    assert chat.last.text == t("consent.refused")


def test_consent_names_the_data_holder(chat: Chat) -> None:
    chat.send("/start")
    assert chat.config.data_holder in chat.last.text
    assert chat.labels == ["Setuju", "Tidak setuju", "Baca selengkapnya"]


# --- every step: good answers in the forms people type ---


@pytest.mark.parametrize(
    ("step", "typed", "field", "value"),
    [
        ("consent", "setuju", None, None),
        ("consent", "1", None, None),
        ("consent", "SETUJU.", None, None),
        ("name", "  la   baco  ", "full_name", "La Baco"),
        ("name", "Hj. Sitti Aminah", "full_name", "Hj. Sitti Aminah"),
        ("name", "Andi Muh. Arif", "full_name", "Andi Muh. Arif"),
        ("name", "ST. HADIJAH", "full_name", "St. Hadijah"),
        ("name", "La Ode-Baco", "full_name", "La Ode-Baco"),
        ("nik", "7312 0615 0680 9001", "nik", "7312061506809001"),
        ("nik", "7312.0615.0680.9001", "nik", "7312061506809001"),
        ("phone", "+62 812-0000-1234", "phone", "+6281200001234"),
        ("phone", "6281200001234", "phone", "+6281200001234"),
        ("kecamatan", "donri donri", "kecamatan_code", "73.12.06"),
        ("kecamatan", "2", "kecamatan_code", "73.12.06"),
        ("kecamatan", "Kec. LILIRILAU", "kecamatan_code", "73.12.03"),  # a typo is confirmed first: test_places
        ("occupation", "buruh tani", "occupation", "buruh_tani"),
        ("occupation", "6", "occupation", "pegawai_syara"),
        ("bpjs_status", "belum terdaftar", "bpjs_status", "not_registered"),
        ("kpj", "lewati", "kpj", None),
        ("kpj", "123 456 789 01", "kpj", "12345678901"),
        ("last_paid", "Oktober 2026", "last_paid", "2026-10"),
        ("last_paid", "okt 26", "last_paid", "2026-10"),
        ("last_paid", "2026-09", "last_paid", "2026-09"),
        ("last_paid", "1", "last_paid", "2026-11"),
        ("last_paid", "tidak ingat", "last_paid", "unknown"),
        ("payer", "keluarga", "payer", "family"),
        ("period", "12 bulan", "period_months", 12),
        ("period", "tiga", "period_months", 3),
        ("period", "6", "period_months", 6),
    ],
)
def test_good_answers(chat: Chat, step: str, typed: str, field: str | None, value: object) -> None:
    walk_to(chat, step)
    assert chat.step == step
    chat.send(typed)
    assert chat.step != step, chat.last.text
    if field is not None:
        assert getattr(chat.state.draft, field) == value


def test_shared_contact_of_the_sender_is_accepted(chat: Chat) -> None:
    walk_to(chat, "phone")
    assert chat.last.request_contact
    chat.send(Incoming.contact("6281200001234", is_sender=True))
    assert chat.state.draft.phone == "+6281200001234"
    assert chat.replies[0].text == t("saved.phone", phone="+62 812-0000-1234")
    assert chat.step == Step.PHONE_OWNER  # still asked: the sender may register their father


def test_typed_village_answers_kecamatan_and_desa(chat: Chat) -> None:
    walk_to(chat, "kecamatan")
    chat.send("pesse")
    assert chat.step == Step.OCCUPATION
    assert chat.regions.name(chat.state.draft.desa_code or "") == "Pesse"
    assert chat.state.draft.kecamatan_code == "73.12.06"


def test_ambiguous_kecamatan_offers_only_the_candidates(chat: Chat) -> None:
    walk_to(chat, "kecamatan")
    chat.send("mario")
    assert chat.step == Step.KECAMATAN
    # ... and the village of Kulo named so (tests/dialogs/test_places.py).
    assert chat.labels[:2] == ["Marioriawa (Soppeng)", "Marioriwawo (Soppeng)"]
    chat.send("2")
    assert chat.state.draft.kecamatan_code == "73.12.01"
    assert chat.step == Step.DESA


def test_kecamatan_list_is_paged(chat: Chat) -> None:
    walk_to(chat, "kecamatan")
    size = chat.config.page_size
    seen: list[str] = []
    assert chat.labels[-1] == "Berikutnya »"
    assert len(chat.labels) == size + 1
    seen += chat.labels[:-1]
    chat.press("Berikutnya »")
    assert chat.labels[-2:] == ["« Sebelumnya", "Berikutnya »"]
    seen += chat.labels[:-2]
    chat.send(str(size + 2))  # typed number of "Berikutnya »" on a numbered channel
    assert chat.labels[-1] == "« Sebelumnya"
    assert "Berikutnya »" not in chat.labels
    seen += chat.labels[:-1]
    assert len(set(seen)) == len(seen) == len(chat.regions.kecamatan_in(chat.config.service_area))
    chat.press("« Sebelumnya")
    assert chat.state.page == 1
    assert chat.step == Step.KECAMATAN


# --- every step: bad input is explained, the question repeated, nothing lost ---


@pytest.mark.parametrize(
    ("step", "typed", "error_key"),
    [
        ("name", "123", "invalid.name"),
        ("name", "🙏🙏🙏", "invalid.name"),
        ("name", "Robert'); DROP TABLE member;--", "invalid.name"),
        ("name", "<b>Baco</b>", "invalid.name"),
        ("name", "B" * 150, "invalid.name_long"),
        ("name", "x", "invalid.name"),
        ("nik", "12 34", "invalid.nik_length"),
        ("nik", "7312O61506809001", "invalid.nik_not_digits"),
        ("nik", "SELECT * FROM member", "invalid.nik_not_digits"),
        ("nik", "9912061506809001", "invalid.nik_region"),
        ("nik", "7312063206809001", "invalid.nik_date"),
        ("nik", "7312061506800000", "invalid.nik_serial"),
        ("phone", "0411 123456", "invalid.phone_not_mobile"),
        ("phone", "+65 9123 4567", "invalid.phone_not_indonesian"),
        ("phone", "halo pak", "invalid.phone_invalid"),
        ("kecamatan", "Jakarta Selatan", "invalid.kecamatan"),
        ("desa", "qwertyuiop", "invalid.desa"),
        ("occupation", "astronot", "invalid.occupation"),
        ("bpjs_status", "entahlah", "invalid.bpjs_status"),
        ("kpj", "abc", "invalid.kpj_not_digits"),
        ("last_paid", "kemarin", "invalid.last_paid"),
        ("last_paid", "13/2026", "invalid.last_paid"),
        ("last_paid", "10/2030", "invalid.last_paid_future"),
        ("payer", "tetangga", "invalid.payer"),
        ("period", "5", "invalid.period"),
        ("period", "sepuluh", "invalid.period"),
        ("period", "²", "invalid.period"),  # a digit to isdigit(), not to int()
    ],
)
def test_bad_answers_repeat_the_question(chat: Chat, step: str, typed: str, error_key: str) -> None:
    walk_to(chat, step)
    before = chat.state.model_copy()
    question = dialog.question(chat.state, chat.context())
    chat.send(typed)
    assert chat.step == step
    assert chat.state.draft == before.draft
    assert chat.last.text.startswith(t(error_key))
    assert chat.last.text.endswith(question.text)
    assert chat.last.choices == question.choices


@pytest.mark.parametrize("step", [name for name, _ in HAPPY_PATH])
@pytest.mark.parametrize(
    ("incoming", "error_key"),
    [
        (Incoming.unsupported(), "invalid.unsupported"),  # sticker, photo, voice note
        (Incoming.from_text("x" * 5000), "invalid.too_long"),
        (Incoming.from_text("   "), "invalid.empty"),
        (Incoming.from_text("/perintahaneh"), "command.unknown"),
        (Incoming.choice("summary:ok"), "invalid.stale_choice"),  # an old button, or forged callback data
        (Incoming.choice("kec:73.71.01"), "invalid.stale_choice"),  # a kecamatan outside the service area
        (Incoming.choice("m:999"), "invalid.stale_choice"),
    ],
)
def test_unexpected_input_at_every_step(chat: Chat, step: str, incoming: Incoming, error_key: str) -> None:
    walk_to(chat, step)
    effects = list(chat.effects)  # the walk's own: the consent, the NIK typed
    before = chat.state.model_copy()
    question = dialog.question(chat.state, chat.context())
    chat.send(incoming)
    assert (chat.step, chat.state.draft, chat.state.page) == (before.step, before.draft, before.page)
    assert chat.last.text.startswith(t(error_key))
    if step == "consent" and error_key in {"invalid.unsupported", "invalid.too_long", "invalid.empty"}:
        # A yes/no question just shown in full (the consent): the hint and its options, not the text again.
        assert (chat.last.text, chat.last.choices) == (t(error_key), question.choices)
    else:
        assert chat.last.text.endswith(question.text)
    assert chat.effects == effects  # the bad input wrote nothing
    assert effects[:1] == ([RecordConsent(granted=True)] if step != "consent" else [])


def test_contact_outside_phone_step_is_explained(chat: Chat) -> None:
    walk_to(chat, "name")
    chat.send(Incoming.contact("+6281200001234", is_sender=True))
    assert chat.step == Step.NAME
    assert chat.last.text.startswith(t("invalid.contact_here"))


def test_contact_of_someone_else_is_refused(chat: Chat) -> None:
    walk_to(chat, "phone")
    chat.send(Incoming.contact("+6281200009999", is_sender=False))
    assert chat.step == Step.PHONE
    assert chat.state.draft.phone is None
    assert chat.last.text.startswith(t("invalid.contact_not_own"))


def test_nik_registered_elsewhere_offers_proof_or_the_officer_without_saying_whose(chat: Chat) -> None:
    chat.lookups.taken_elsewhere.add("7312061506809001")
    walk_to(chat, "nik")
    chat.send("7312061506809001")
    assert chat.step == Step.CLAIM
    assert chat.last.text.startswith(t("ask.claim"))
    assert chat.last.request_contact  # Telegram: the share-contact button proves the number
    assert [c.value for c in chat.last.choices] == ["claim:officer", "claim:other"]
    assert "La Baco" not in chat.last.text


# --- commands ---


def test_batal_ends_the_registration_and_saves_nothing(chat: Chat) -> None:
    walk_to(chat, "phone")
    chat.send("/batal")
    assert chat.step == Step.MENU
    assert chat.state.draft.full_name is None
    assert not any(isinstance(e, SaveMember) for e in chat.effects)
    assert chat.last.text == t("command.registration_cancelled")  # DAFTAR continues it: test_commands_never_steal


def test_ulang_restarts_from_consent(chat: Chat) -> None:
    walk_to(chat, "desa")
    chat.send("/ulang")
    assert chat.step == Step.CONSENT
    assert chat.state.draft.nik is None


def test_start_mid_registration_resumes_without_losing_answers(chat: Chat) -> None:
    walk_to(chat, "occupation")
    draft = chat.state.draft
    chat.send("/start")
    assert chat.step == Step.OCCUPATION
    assert chat.state.draft == draft
    assert chat.last.text.startswith(t("resume.continue"))


def test_start_keeps_a_valid_deep_link_payload_only(chat: Chat) -> None:
    chat.send("/start inv_ABC-123")
    assert chat.state.start_payload == "inv_ABC-123"
    chat.send("/batal")
    chat.send("/start bad payload!")
    assert chat.state.start_payload == "inv_ABC-123"
    chat.send("/start " + "a" * 65)
    assert chat.state.start_payload == "inv_ABC-123"


def test_bantuan_mid_registration_helps_then_asks_again(chat: Chat) -> None:
    walk_to(chat, "nik")
    question = chat.last.text
    replies = chat.send("/bantuan")
    assert replies[0].text == t("help.member")
    assert replies[-1].text == question
    assert chat.step == Step.NIK


def test_status_mid_registration_keeps_progress(chat: Chat) -> None:
    chat.register()
    chat.press("Daftarkan orang lain")
    walk_to_second = chat.step
    assert walk_to_second == Step.CONSENT
    chat.press("Setuju")
    chat.send("Becce")
    replies = chat.send("/status")
    assert "La Baco" in replies[0].text
    assert "7312********9001" in replies[0].text
    assert chat.step == Step.NIK
    assert chat.state.draft.full_name == "Becce"
    chat.send("/ubah")
    assert chat.last.text.startswith(t("command.finish_first"))
    assert chat.step == Step.NIK


def test_status_without_members(chat: Chat) -> None:
    chat.send("/status")
    assert chat.last.text.startswith(t("status.none"))


def test_status_shows_masked_nik_coverage_and_deadline(chat: Chat) -> None:
    chat.register(last_paid="11/2026")
    chat.press("Selesai")
    chat.send("/status")
    text = chat.last.text
    assert "7312********9001" in text
    assert "7312061506809001" not in text
    assert "Iuran sudah dibayar sampai 30 November 2026" in text
    assert "paling lambat Selasa, 15 Desember 2026" in text


# --- several people on one phone ---


def test_family_phone_registers_several_and_asks_whom(chat: Chat) -> None:
    chat.register()
    chat.press("Daftarkan orang lain")
    chat.press("Setuju")
    chat.send("Hasnah")
    chat.send("7312065506809002")
    for _, answer in HAPPY_PATH[3:]:
        chat.send(answer)
    chat.press("Benar, simpan")
    chat.press("Selesai")
    assert [m.full_name for m in chat.lookups.members] == ["La Baco", "Hasnah"]

    chat.send("/status")
    assert chat.labels == ["La Baco", "Hasnah", "Semua peserta"]
    chat.press("Hasnah")
    assert "perempuan" in chat.last.text
    assert "La Baco" not in chat.last.text

    chat.send("/ubah")
    chat.press("Hasnah")
    chat.press("Nama")
    chat.send("Hasnah Daeng Ngiri")
    update = chat.effects[-1]
    assert update == UpdateMember(2, {"full_name": "Hasnah Daeng Ngiri"})

    chat.send("/hapus")
    chat.press("La Baco")
    assert "Hapus semua data La Baco" in chat.last.text
    chat.press("Ya, hapus")
    assert chat.effects[-1] == DeleteMember(1)
    assert [m.full_name for m in chat.lookups.members] == ["Hasnah Daeng Ngiri"]


def test_hapus_can_be_declined(chat: Chat) -> None:
    chat.register()
    chat.press("Selesai")
    chat.send("/hapus")
    chat.press("Tidak")
    assert not any(isinstance(e, DeleteMember) for e in chat.effects)
    assert chat.last.text == t("delete.kept")


# --- changing answers ---


def test_summary_change_area_walks_kecamatan_then_desa_then_back(chat: Chat) -> None:
    walk_to(chat, "summary")
    chat.press("Ubah")
    chat.press("Desa")
    assert chat.step == Step.KECAMATAN
    chat.send("lilirilau")
    assert chat.step == Step.DESA
    chat.send("1")
    assert chat.step == Step.SUMMARY
    assert chat.state.draft.kecamatan_code == "73.12.03"
    assert "Kec. Lilirilau" in chat.last.text


def test_summary_change_can_be_abandoned(chat: Chat) -> None:
    walk_to(chat, "summary")
    chat.press("Ubah")
    chat.press("Tidak jadi")
    assert chat.step == Step.SUMMARY


def test_ubah_nik_allows_own_nik_and_records_birth_data(chat: Chat) -> None:
    chat.register()
    chat.press("Selesai")
    chat.send("/ubah")
    chat.press("NIK")
    chat.send("7312065506809002")
    update = chat.effects[-1]
    assert isinstance(update, UpdateMember)
    assert update.fields == {"nik": "7312065506809002", "birth_date": date(1980, 6, 15), "sex": "P"}


def test_ubah_bpjs_to_not_registered_clears_membership_fields(chat: Chat) -> None:
    chat.register()
    chat.press("Selesai")
    chat.send("/ubah")
    chat.press("Status BPJS")
    chat.press("Belum terdaftar")
    update = chat.effects[-1]
    assert update == UpdateMember(
        1, {"bpjs_status": "not_registered", "kpj": None, "covered_until": None, "needs_enrolment": True}
    )


def test_ubah_bpjs_status_keeps_the_kpj_and_the_last_paid_month(chat: Chat) -> None:
    chat.register()
    chat.press("Selesai")
    chat.send("/ubah")
    chat.press("Status BPJS")
    chat.press("Sudah jadi peserta")
    assert chat.effects[-1] == UpdateMember(1, {"bpjs_status": "member", "needs_enrolment": False})
    assert chat.last.text == t("edit.saved", name="La Baco")
    member = chat.lookups.members[0]
    assert (member.kpj, member.covered_until) == ("12345678901", date(2026, 10, 31))


def test_ubah_last_paid_month_changes_only_that_month(chat: Chat) -> None:
    chat.register(last_paid=t("option.last_paid_unknown"))
    chat.press("Selesai")
    chat.send("/ubah")
    chat.press("Iuran terakhir")
    assert chat.step == Step.LAST_PAID
    chat.send("11/2026")
    assert chat.effects[-1] == UpdateMember(1, {"covered_until": date(2026, 11, 30)})
    assert chat.lookups.members[0].kpj == "12345678901"


def test_ubah_offers_the_last_paid_month_only_to_bpjs_members(chat: Chat) -> None:
    chat.send("/start")
    for step, answer in HAPPY_PATH:
        if step not in ("kpj", "last_paid"):
            chat.send("Belum terdaftar" if step == "bpjs_status" else answer)
    chat.press("Benar, simpan")
    chat.press("Selesai")
    chat.send("/ubah")
    assert "Iuran terakhir" not in chat.labels
    assert "Status BPJS" in chat.labels


def test_unknown_last_paid_month_promises_no_reminders_yet(chat: Chat) -> None:
    chat.register(last_paid=t("option.last_paid_unknown"))
    said = "\n".join(reply.text for reply in chat.replies)
    assert t("saved.member_unknown_month", name="Bapak La Baco") in said
    assert "Kami akan mengirim pengingat" not in said


# --- pauses and stale buttons ---


def test_idle_for_a_day_resumes_where_it_stopped(chat: Chat) -> None:
    walk_to(chat, "occupation")
    draft = chat.state.draft
    chat.now += timedelta(days=1)
    chat.send("halo")  # after a day, a greeting — not an occupation
    assert chat.step == Step.OCCUPATION
    assert chat.state.draft == draft
    assert chat.last.text.startswith(t("resume.welcome_back"))
    chat.send("petani")
    assert chat.state.draft.occupation == "petani"


def test_button_after_a_pause_is_taken_at_once(chat: Chat) -> None:
    walk_to(chat, "occupation")
    chat.now += timedelta(days=2)
    chat.press("Nelayan")
    assert chat.state.draft.occupation == "nelayan"


def test_old_button_from_an_earlier_question_is_refused(chat: Chat) -> None:
    walk_to(chat, "nik")
    chat.send(Incoming.choice("consent:yes"))
    assert chat.step == Step.NIK
    assert chat.last.text.startswith(t("invalid.stale_choice"))


def test_menu_for_strangers_and_known_members(chat: Chat) -> None:
    chat.send("halo")
    assert chat.labels == ["Daftar", "Bantuan"]
    chat.register()
    chat.press("Selesai")
    chat.send("assalamualaikum")
    assert chat.labels == ["Lihat data", "Ubah data", "Daftar", "Hapus data", "Bantuan"]


def test_right_after_saving_other_commands_work(chat: Chat) -> None:
    chat.register()
    chat.send("/hapus")
    assert "Hapus semua data La Baco" in chat.last.text


def test_status_follows_the_configured_lapse_rule(chat: Chat) -> None:
    """`/status` reads the same policy as the reminders: with a 2-month lapse rule, 2 unpaid months is non-active."""
    from dataclasses import replace

    from domain.policy import ReminderPolicy
    from domain.rules import DEFAULT_STAGES, parse_stages

    chat.register(last_paid="09/2026")  # October and November unpaid on 23 November
    chat.press("Selesai")
    chat.policy = replace(ReminderPolicy(stages=parse_stages(DEFAULT_STAGES)), lapse_after=2)
    chat.send("/status")
    assert "Iuran 2 bulan (Oktober–November 2026) belum dibayar, sehingga kepesertaan kemungkinan nonaktif" in (
        chat.last.text
    )
