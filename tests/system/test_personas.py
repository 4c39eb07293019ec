"""Four people, each on WhatsApp and on Telegram, through the real service and database (SQLite and PostgreSQL), as
they would type (issue 14 point 9): a farmer answering in his own words, a daughter registering her father with her
own number, an elderly member typing in lower case with typos, and an officer registering door to door a member who
has no phone. Every message each of them reads is checked for the channel's words: on WhatsApp no slash command and
nothing to press; anywhere no stage code.

Inputs reach the service as each channel hands them over (WhatsApp: the webhook's form through `translate`;
Telegram: typed text, or a button's data) and replies are read as each channel shows them (WhatsApp: numbered,
`render_plain` in WhatsApp's words, as the TwiML does; Telegram: the text and the buttons' labels).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from bot.channels.plain import render_plain
from bot.channels.whatsapp import translate
from bot.dialogs.core import Incoming, Reply
from bot.texts import speaking
from domain.vocabulary import Channel, PhoneOwner
from service.conversations import Conversations
from storage.models import Member
from storage.officers import create_officer

SLASH_COMMAND = re.compile(r"(?:^|[\s(\"'«:])/[a-z]")
BUTTONS = re.compile(r"\b(tekan|menekan|tombol)\b", re.IGNORECASE)
STAGE_CODE = re.compile(r"(?<![\w.])[HL][+-]?\d+(?:@\d+)?(?![\w.])")
START = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 WITA


class Phone:
    """One person's chat: what they type, what they press (Telegram), and what they read."""

    def __init__(self, conversations: Conversations, channel: str, address: str) -> None:
        self.conversations, self.channel, self.address = conversations, channel, address
        self.now = START
        self.replies: list[Reply] = []
        self.read: list[str] = []  # every message shown, in order

    def type(self, text: str) -> str:
        if self.channel == Channel.WHATSAPP:
            translated = translate({"From": f"whatsapp:{self.address}", "Body": text, "MessageSid": "SM1"})
            assert translated is not None
            incoming = translated[1]
        else:
            incoming = Incoming.from_text(text)
        return self._send(incoming)

    def share_contact(self, phone: str) -> str:
        assert self.channel == Channel.TELEGRAM, "only Telegram shares a contact"
        return self._send(Incoming.contact(phone, is_sender=True))

    def press(self, label: str) -> str:
        assert self.channel == Channel.TELEGRAM, "WhatsApp has no buttons"
        [choice] = [c for c in self.replies[-1].choices if c.label == label]
        return self._send(Incoming.choice(choice.value))

    def answer(self, whatsapp: str, telegram: str | None = None) -> str:
        """Typed on WhatsApp; on Telegram the button of that label when given (else the same words typed)."""
        if self.channel == Channel.TELEGRAM and telegram is not None:
            return self.press(telegram)
        return self.type(whatsapp)

    def _send(self, incoming: Incoming) -> str:
        self.replies = self.conversations.handle(self.channel, self.address, incoming, self.now)
        self.now += timedelta(seconds=40)
        with speaking(self.channel):
            shown = [self._shown(reply) for reply in self.replies]
        for text in shown:
            self._check_words(text)
        self.read += shown
        return "\n\n".join(shown)

    def _shown(self, reply: Reply) -> str:
        if self.channel == Channel.WHATSAPP:
            return render_plain(reply)
        return "\n".join([reply.text, *(f"[{choice.label}]" for choice in reply.choices)])

    def _check_words(self, text: str) -> None:
        assert not STAGE_CODE.search(text), text
        if self.channel == Channel.WHATSAPP:
            assert not SLASH_COMMAND.search(text), text
            assert not BUTTONS.search(text), text


def member_named(conversations: Conversations, name: str) -> Member:
    with Session(conversations.engine) as session:
        return session.exec(select(Member).where(Member.full_name == name)).one()


CHANNELS = pytest.mark.parametrize("channel", [Channel.WHATSAPP, Channel.TELEGRAM])


@CHANNELS
def test_a_farmer_in_his_own_words(conversations: Conversations, channel: str) -> None:
    farmer = Phone(conversations, channel, "+6281200009101" if channel == Channel.WHATSAPP else "5101")
    menu = farmer.type("Assalamualaikum")
    assert "Selamat datang" in menu
    consent = farmer.answer("daftar", "Daftar")
    assert "setuju" in consent
    assert "Selamat datang" not in consent  # one welcome
    assert "nama lengkap" in farmer.type("iye")
    farmer.type("la baco")
    assert "nomor HP" in farmer.type("'7312061506809101")  # the apostrophe Excel leaves before a NIK
    # On WhatsApp the chat is his number: "nomor ini" gives it; on Telegram he types it.
    assert "milik siapa" in farmer.type("nomor ini" if channel == Channel.WHATSAPP else "0812 0000 9101")
    assert "kecamatan" in farmer.type("punya sendiri")
    assert "Desa/kelurahan" in farmer.type("Donri-Donri")
    assert "pekerjaan" in farmer.type("pesse")
    assert "terdaftar di BPJS" in farmer.type("tani")
    assert "KPJ" in farmer.answer("iye", "Sudah jadi peserta")
    farmer.type("12345678901")
    farmer.type("10/2026")
    assert "penghasilan" in farmer.type("sendiri")
    assert "JHT" in farmer.type("1")
    farmer.type("nda")
    summary = farmer.type("1")
    assert "Pekerjaan: Petani" in summary
    assert "Nomor HP: +62 812-0000-9101 (milik peserta sendiri)" in summary
    saved = farmer.type("iye")
    assert "data Bapak La Baco sudah tersimpan" in saved
    if channel == Channel.TELEGRAM:  # a typed number proves nothing: he is asked to press the button, and does
        assert '"Kirim nomor HP saya"' in saved
        assert "tersambung" in farmer.share_contact("+62 812-0000-9101")
    status = farmer.type("status")
    assert "Nama: La Baco" in status
    assert "NIK: 7312********9101" in status
    member = member_named(conversations, "La Baco")
    assert (member.occupation, member.desa_code, member.phone_owner) == ("petani", "73.12.06.2007", PhoneOwner.SELF)
    assert (member.with_jht, member.period_months, member.payer) == (False, 1, "self")


@CHANNELS
def test_a_daughter_registers_her_father_with_her_own_number(conversations: Conversations, channel: str) -> None:
    daughter = Phone(conversations, channel, "+6281200009102" if channel == Channel.WHATSAPP else "5102")
    daughter.type("/start" if channel == Channel.TELEGRAM else "daftar")
    daughter.answer("setuju", "Setuju")
    daughter.type("La Tahang")
    daughter.type("7312060101509102")  # a man born 1 January 1950
    asked = daughter.type("0812 0000 9102")  # hers
    assert "milik siapa" in asked
    daughter.type("anak saya")
    daughter.type("donri-donri")
    daughter.type("Leworeng")
    daughter.answer("petani", "Petani")
    daughter.answer("belum", "Belum terdaftar")
    daughter.answer("keluarga", "Keluarga")  # she pays
    daughter.type("1")
    daughter.answer("tidak", "Tidak, JKK + JKM saja")
    summary = daughter.type("1")
    assert "(milik anak)" in summary
    assert "Pembayar iuran: Keluarga" in summary
    saved = daughter.answer("ya", "Benar, simpan")
    assert "data Bapak La Tahang sudah tersimpan" in saved
    assert "penyuluh setempat akan menghubungi" in saved  # not yet a BPJS member: the officer will enrol him
    father = member_named(conversations, "La Tahang")
    assert (father.phone, father.phone_owner, father.sex) == ("+6281200009102", PhoneOwner.CHILD, "L")
    assert father.needs_enrolment


@CHANNELS
def test_an_elderly_member_in_lower_case_with_typos(conversations: Conversations, channel: str) -> None:
    hasnah = Phone(conversations, channel, "+6281200009103" if channel == Channel.WHATSAPP else "5103")
    hasnah.type("halo")
    hasnah.type("1")  # the menu's first option: Daftar
    asked = hasnah.type("stuju")  # the consent, typed with a letter missing
    assert "nama lengkap" in asked
    hasnah.type("hasnah")
    hasnah.type("7312 0645 0650 9103")  # a woman (day 5 + 40), spaced as on the card
    hasnah.type("081200009103")
    hasnah.type("sendiri")
    hasnah.type("donri donri")
    confirm = hasnah.type("leworen")
    assert "Maksud Bapak/Ibu: Desa Leworeng?" in confirm
    assert "pekerjaan" in hasnah.type("iye")
    hasnah.type("petani sawah")
    hasnah.type("sudah")
    hasnah.type("lewati")  # the KPJ: she does not know it
    hasnah.type("tidak ingat")
    hasnah.type("sendri")
    hasnah.type("1 jt")
    hasnah.type("tdk")
    summary = hasnah.type("1")
    assert "Desa: Leworeng, Kec. Donri-Donri" in summary
    saved = hasnah.type("iyye")
    assert "data Ibu Hasnah sudah tersimpan" in saved
    assert "bulan iuran terakhir belum diketahui" in saved
    hasnah.type("selesai")
    member = member_named(conversations, "Hasnah")
    assert (member.sex, member.desa_code, member.occupation, member.payer) == ("P", "73.12.06.2004", "petani", "self")
    assert member.covered_until is None


@CHANNELS
def test_an_officer_door_to_door_registers_a_member_without_a_phone(conversations: Conversations, channel: str) -> None:
    with Session(conversations.engine) as session:
        officer = create_officer(session=session, name="Penyuluh Donri", phone=None, codes=["73.12.06"], now=START)
        code = officer.invite_code
        session.commit()
    desk = Phone(conversations, channel, "+6281200009104" if channel == Channel.WHATSAPP else "5104")
    welcome = desk.type(f"DAFTAR {code}" if channel == Channel.WHATSAPP else f"/start {code}")
    assert "Penyuluh Donri" in welcome
    desk.now = datetime(2026, 12, 22, 2, 0, tzinfo=UTC)  # H+7 of December: November paid, December not
    consent = desk.type("PESERTA BARU" if channel == Channel.WHATSAPP else "/peserta_baru")
    assert "bacakan" in consent
    desk.answer("setuju", "Setuju")
    desk.type("Ambo Dalle")
    desk.type("7312061203609104")
    assert "kecamatan" in desk.type("tidak punya hp")  # no "whose number" without a number
    desk.type("Donri-Donri")
    desk.type("Pising")
    desk.type("nelayan")
    desk.type("iye")
    desk.type("98765432101")
    desk.type("11/2026")
    desk.type("sendiri")
    desk.type("1")
    desk.type("tidak")
    summary = desk.type("1")
    assert "Nomor HP: tidak ada" in summary
    saved = desk.type("ya")
    assert "tanpa nomor HP" in saved
    desk.type("selesai")
    listing = desk.type("DAFTAR" if channel == Channel.WHATSAPP else "/daftar")
    [line] = [line for line in listing.splitlines() if "Ambo Dalle ·" in line]  # (the options name him too)
    assert "tanpa nomor HP" in line
    assert "kunjungi langsung" in listing
    member = member_named(conversations, "Ambo Dalle")
    assert (member.phone, member.occupation) == (None, "nelayan")
