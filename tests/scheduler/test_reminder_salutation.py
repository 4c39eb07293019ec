"""Reminders name the member as the NIK says (issue 14, point 7): "Bapak La Baco", "Ibu Hasnah" in the text and in
the WhatsApp template's name variable; the sponsor, whose sex no NIK tells, stays "Bapak/Ibu"."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session

from bot.dialogs.core import Reply
from domain.delivery import Target
from domain.tariffs import default_tariffs
from domain.vocabulary import LinkProof
from scheduler.dispatch import Batch, Dispatcher
from scheduler.messages import ReminderRenderer
from storage import members as store
from storage.crypto import Cipher
from storage.members import new_member
from storage.models import Member, Reminder
from storage.scan import scan
from tests.outbox_fixtures import synthetic_fields
from tests.scheduler.test_deadlines import POLICY, Inbox

WITA = ZoneInfo("Asia/Makassar")
H7 = datetime.combine(date(2026, 12, 8), time(8, 0), tzinfo=WITA).astimezone(UTC)  # December's H-7
MAN = "7312061506809001"  # fake NIKs: day 15, a man; day 45 (5 + 40), a woman
WOMAN = "7312064506809002"
NOW = datetime(2026, 11, 2, tzinfo=UTC)


def member(cipher: Cipher, index: int, name: str, nik: str, sex: str) -> Member:
    row = new_member(
        cipher=cipher, nik=nik, fields=synthetic_fields(index, date(2026, 11, 30), full_name=name, sex=sex), now=NOW
    )
    row.id = index
    return row


def render(cipher: Cipher, members: list[Member], *, sponsor: str | None = None, note_for: str | None = None) -> Reply:
    renderer = ReminderRenderer(cipher, default_tariffs(), POLICY, "BRILink", "hubungi penyuluh desa")
    target = Target(address_id=1, channel="whatsapp", external_id="+6281200000001", busy_until=None, sponsor=sponsor)
    items = tuple(
        (Reminder(id=m.id, member_id=m.id or 0, cycle=202612, stage="H-7", stage_rank=0, zone="Asia/Makassar",
                  send_after=H7, expires_at=H7), m)
        for m in members
    )  # fmt: skip
    return renderer(Batch(target=target, items=items, now=H7, note_for=note_for))


def test_a_man_is_bapak_and_a_woman_ibu(cipher: Cipher) -> None:
    la_baco = render(cipher, [member(cipher, 1, "La Baco", MAN, "L")])
    assert "Bapak La Baco (NIK 7312********9001): iuran bulan Desember 2026" in la_baco.text
    assert "Bapak/Ibu La Baco" not in la_baco.text
    hasnah = render(cipher, [member(cipher, 2, "Hasnah", WOMAN, "P")])
    assert "Ibu Hasnah (NIK 7312********9002)" in hasnah.text
    assert hasnah.template is not None
    assert hasnah.template.variables[0] == "Ibu Hasnah"  # inside the variable: the approved text says "untuk {{1}}"


def test_a_family_phone_names_each_as_their_nik_says(cipher: Cipher) -> None:
    family = render(cipher, [member(cipher, 1, "La Baco", MAN, "L"), member(cipher, 2, "Hasnah", WOMAN, "P")])
    assert "Bapak La Baco (NIK" in family.text
    assert "Ibu Hasnah (NIK" in family.text
    assert family.template is not None
    assert family.template.variables[0] == "Bapak La Baco, Ibu Hasnah"


def test_unknown_sex_stays_bapak_ibu(cipher: Cipher) -> None:
    unknown = render(cipher, [member(cipher, 3, "Wa Ode", MAN, "")])
    assert "Bapak/Ibu Wa Ode (NIK" in unknown.text


def test_the_sponsor_is_addressed_bapak_ibu(cipher: Cipher) -> None:
    sponsored = render(cipher, [member(cipher, 2, "Hasnah", WOMAN, "P")], sponsor="Kejari Soppeng")
    assert "peserta yang Bapak/Ibu bantu" in sponsored.text  # the sponsor: no NIK says Bapak or Ibu
    assert "Ibu Hasnah (NIK" in sponsored.text  # the member it pays for, named as her NIK says
    assert sponsored.choices[0].label == "Sudah bayar: Hasnah"


def test_the_note_to_a_sponsored_member_names_her(cipher: Cipher) -> None:
    note = render(cipher, [member(cipher, 2, "Hasnah", WOMAN, "P")], note_for="Kejari Soppeng")
    assert note.text.startswith("Ibu Hasnah: iuran BPJS Ketenagakerjaan bulan Desember 2026 dibayarkan oleh")
    assert note.template is not None
    assert note.template.variables == ("Ibu Hasnah", "Desember 2026", "Kejari Soppeng")


async def test_from_the_member_row_through_scan_and_dispatch(engine: Engine, cipher: Cipher) -> None:
    """The sex registered with the member (from the NIK) reaches the message: no NIK is decrypted to find it."""
    with Session(engine) as session:
        for index, (name, nik, sex) in enumerate([("La Baco", MAN, "L"), ("Hasnah", WOMAN, "P")], start=1):
            address = store.get_or_create_address(session=session, channel="telegram", external_id=f"s{index}", now=NOW)
            fields = synthetic_fields(index, date(2026, 11, 30), full_name=name, sex=sex)
            store.create_member(
                session=session,
                cipher=cipher,
                nik=nik,
                fields=fields,
                address_id=address.id,
                now=NOW,
                proof=LinkProof.STAFF,
            )
        scan(session=session, today=date(2026, 12, 8), policy=POLICY, zones={"73": WITA}, now=H7)
        session.commit()
    inbox = Inbox()
    renderer = ReminderRenderer(cipher, default_tariffs(), POLICY, "BRILink", "hubungi penyuluh desa")
    dispatcher = Dispatcher(engine=engine, senders={"telegram": inbox}, render=renderer, policy=POLICY, worker="t")
    await dispatcher.drain(H7)
    texts = sorted(reply.text for _, reply in inbox.received)
    assert len(texts) == 2
    assert any("Bapak La Baco (NIK 7312********9001)" in text for text in texts)
    assert any("Ibu Hasnah (NIK 7312********9002)" in text for text in texts)
