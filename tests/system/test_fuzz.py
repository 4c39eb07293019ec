"""Hostile and random input against every dialog (property-based, hypothesis): whatever arrives — any text, any
command, forged or stale button data, contacts, files, stickers — the dialog answers in Indonesian from its
catalog, never raises, and leaves a state that survives the trip through the database.

Each persona (a new person, a registered member, an officer, a coordinator, an admin) gets 500 sequences of up to
40 inputs: over 10,000 inputs per dialog per run, each sequence worded for Telegram or for WhatsApp, typed the way
South Sulawesi types (Bugis and Makassar particles and words: "iye puang", "de' gaga", "sudah mi").
"""

from __future__ import annotations

import re
import string
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.dialogs.admin import COMMANDS as ADMIN_COMMANDS
from bot.dialogs.core import (
    MAX_TEXT,
    AddStaff,
    ChangeStaff,
    DecideBroadcast,
    DecideImport,
    DialogConfig,
    Incoming,
    MemberView,
    StaffView,
    UnreachedView,
)
from bot.texts import VARIANTS, catalog, speaking
from domain.regions import sulawesi_selatan
from files import member_sheet
from tests.dialog_driver import Chat

CONFIG = DialogConfig(service_area=("73.12", "73.14"), data_holder="BPJS Ketenagakerjaan (uji)", consent_version="t")
REGIONS = sulawesi_selatan()
COMMANDS = ["start", "batal", "ulang", "status", "ubah", "hapus", "bantuan", "help", "daftar", "cari", "rekap",
            "peserta_baru", "eskalasi", *ADMIN_COMMANDS, "keluar", "x"]  # fmt: skip
# Button data as the bot makes it, and as someone tampering with it would.
VALUES = ["consent:yes", "consent:no", "summary:ok", "summary:change", "menu:register", "menu:status", "menu:help",
          "nav:next", "nav:prev", "m:1", "m:2", "m:999", "m:all", "dg:0", "dg:99", "es:1", "of:1", "of:999",
          "oc:1:contacted", "oc:1:paid:3", "oc:999:refused", "oc:1:wrong_number", "rem:1:paid", "rem:999:help",
          "imp:go:0123", "imp:no:", "bc:go:abc", "bc:maybe:x", "paid:2026-10", "paid:unknown", "field:nik",
          "delete:yes", "after:done", "", ":", "x" * 70]  # fmt: skip
# Text fragments from the catalog, between its placeholders: every reply must contain one.
CHANNELS = ("telegram", *VARIANTS)
FRAGMENTS = {
    part.strip()
    for channel in CHANNELS
    for text in catalog(channel).values()
    for part in re.split(r"\{[^}]*\}", text)
    if len(part.strip()) >= 10
}
# How people here answer: yes/no with Bugis and Makassar particles, a "tabe'" before speaking, "de' gaga" (there is
# none), "-mi"/"-ji" endings, polite "puang", and the typos of a thumb on a small keyboard.
LOCAL_WORDS = ["iye", "iyye", "iye puang", "iyo", "tabe'", "tabe puang", "de'", "de' gaga", "degaga", "nda",
               "ndak", "nda ji", "tidak ji", "sudah mi", "sudah mi bayar", "bayar mi", "sudahmi", "iye sudah",
               "engka", "ndi", "kodong", "anu", "tani", "pattani", "paggalung", "bertani", "ojek", "tukang ojek",
               "kembali", "batal", "ubah", "hapus", "daftar", "status", "lewati", "tidak punya hp", "pese",
               "leworen", "watansoppeng", "sidrap", "Soppeng", "baca selengkapnya"]  # fmt: skip

texts = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=string.digits + " -+/.", max_size=20),
    st.text(min_size=MAX_TEXT - 5, max_size=MAX_TEXT + 200),  # at and past the length limit
    st.sampled_from(
        [
            "1",
            "2",
            "ya",
            "Tidak",
            "sudah bayar",
            "BERHENTI",
            "MULAI",
            "7312060101809001",
            "0812 0000 9001",
            "Donri",
            '=HYPERLINK("x")',
            "<b>Andi</b>",
            "'; DROP TABLE member; --",
            "\u202e\u0000",
        ]
    ),
    st.sampled_from(LOCAL_WORDS),
    st.tuples(st.sampled_from(LOCAL_WORDS), st.sampled_from(LOCAL_WORDS)).map(" ".join),
)
inputs = st.one_of(
    texts.map(Incoming.from_text),
    st.tuples(st.sampled_from(COMMANDS), texts).map(lambda c: Incoming.from_text(f"/{c[0]} {c[1]}")),
    st.sampled_from(VALUES).map(Incoming.choice),
    st.text(max_size=80).map(Incoming.choice),
    st.tuples(st.text(alphabet=string.digits + "+ ", max_size=16), st.booleans()).map(
        lambda c: Incoming.contact(c[0], is_sender=c[1])
    ),
    st.tuples(st.sampled_from(["a.xlsx", "b.csv", "c.pdf", ""]), st.binary(max_size=300)).map(
        lambda f: Incoming.file(f[0], f[1])  # a file the service did not read (not an admin's)
    ),
    st.tuples(st.sampled_from(["a.xlsx", "b.csv", "c.pdf", ""]), st.binary(max_size=300)).map(
        lambda f: Incoming.checked(
            f[0], member_sheet.read(f[0], f[1], regions=REGIONS, area=CONFIG.service_area, today=date(2026, 11, 23))
        )  # as it hands on an admin's
    ),
    st.just(Incoming.unsupported()),
)
ANSWERED_BY_SERVICE = (AddStaff, ChangeStaff, DecideBroadcast, DecideImport)
MEMBER = MemberView(
    id=1,
    full_name="Siti Aminah",
    nik="7312064101809001",
    birth_date=date(1980, 1, 1),
    sex="P",
    phone="+6281200009001",
    kecamatan_code="73.12.06",
    desa_code="73.12.06.2002",
    occupation="petani",
    bpjs_status="member",
    kpj=None,
    covered_until=date(2026, 10, 31),
    payer="self",
    sponsor_name=None,
    declared_income=1_000_000,
    with_jht=False,
    period_months=1,
    opted_out=False,
)


def chat(persona: str) -> Chat:
    person = Chat(CONFIG, REGIONS)
    lookups = person.lookups
    if persona != "new":
        lookups.members.append(MEMBER)
    if persona in {"officer", "coordinator"}:
        lookups.officer, lookups.coordinator = "Penyuluh Donri", persona == "coordinator"
        blocked = UnreachedView(
            1, "Siti Aminah", "73.12.06.2002", "+6281200009001", lambda: "7312****", "blocked", 10, 2, 33600, ""
        )
        lookups.unreached = [blocked]
    if persona == "admin":
        lookups.role = StaffView("admin")
    return person


def check(persona: str, sequence: list[Incoming]) -> None:
    person = chat(persona)
    for incoming in sequence:
        done = len(person.effects)
        replies = person.send(incoming)  # the driver checks the state's round trip through JSON
        # A few effects carry their own answer, which the service adds when it applies them (tested on the database).
        answering = [e for e in person.effects[done:] if isinstance(e, ANSWERED_BY_SERVICE)]
        assert replies or answering, incoming
        for reply in replies:
            assert reply.text.strip(), incoming
            assert any(fragment in reply.text for fragment in FRAGMENTS), (incoming, reply.text)


def persona_test(persona: str) -> None:
    seen = [0]

    @settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.sampled_from(CHANNELS), st.lists(inputs, min_size=20, max_size=40))
    def run(channel: str, sequence: list[Incoming]) -> None:
        seen[0] += len(sequence)
        with speaking(channel):
            check(persona, sequence)

    run()
    assert seen[0] >= 10_000  # the promise: at least ten thousand random inputs per dialog per run


def test_a_new_person() -> None:
    persona_test("new")


def test_a_registered_member() -> None:
    persona_test("member")


def test_an_officer() -> None:
    persona_test("officer")


def test_a_coordinator() -> None:
    persona_test("coordinator")


def test_an_admin() -> None:
    persona_test("admin")
