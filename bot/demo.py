"""`sipakainge demo`: a demo database of synthetic members and a scripted registration, with no accounts."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import Session, func, select

from bot.channels.plain import render_plain
from bot.conversation import Conversations
from bot.dialogs.core import Incoming
from scheduler.rules import ContributionMonth
from storage import members as store
from storage.crypto import Cipher
from storage.models import BpjsStatus, Channel, Member, Occupation, Payer
from storage.regions import RegionIndex

# Synthetic people only: NIK serials start with 9 and phones are +62 812-0000-xxxx, so nothing here is anyone's.
FIRST_NAMES = ("Baco", "Becce", "Hasnah", "Muhammad Arif", "Hadijah", "Sitti", "Andi Tenri", "Kamaruddin", "Nurhayati")
FAMILY_NAMES = ("Lamba", "Mappa", "Sengkang", "Daeng Ngiri", "Tappa", "Mallarangeng", "Pawelloi", "Sultan")

DEMO_NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 23 November 2026, 09:00 WITA

SCRIPT: tuple[str | Incoming, ...] = (
    "halo",
    "1",
    Incoming.unsupported(),
    "setuju",
    "La Baco 123",
    "LA BACO",
    "12345",
    "7312 0615 0680 9001",
    "0812-0000-1234",
    "donri donri",
    "1",
    "petani",
    "sudah jadi peserta",
    "lewati",
    "10/2026",
    "sendiri",
    "3",
    "benar",
    "selesai",
    "/status",
)


def seed_members(
    *, session: Session, cipher: Cipher, regions: RegionIndex, area: tuple[str, ...], count: int, today: date
) -> None:
    """Synthetic members across the service area, with a spread of coverage states."""
    rng = random.Random(7312)  # noqa: S311 (synthetic data, not security)
    villages = [d for k in regions.kecamatan_in(area) for d in regions.children(k.code)]
    this_month = ContributionMonth.of(today)
    now = datetime.combine(today, datetime.min.time(), tzinfo=UTC)
    for index in range(count):
        desa = rng.choice(villages)
        born = date(rng.randint(1960, 2004), rng.randint(1, 12), rng.randint(1, 28))
        female = rng.random() < 0.45
        day = born.day + 40 if female else born.day
        nik = f"{desa.code[:8].replace('.', '')}{day:02d}{born.month:02d}{born.year % 100:02d}{9000 + index % 1000:04d}"
        member_status = rng.random() < 0.85
        paid = this_month.plus(-rng.choice((0, 0, 0, 1, 1, 2, 3, 5))) if member_status else None
        fields = {
            "full_name": f"{rng.choice(FIRST_NAMES)} {rng.choice(FAMILY_NAMES)}",
            "birth_date": born,
            "sex": "P" if female else "L",
            "phone": f"+62812000{index:05d}",
            "kecamatan_code": desa.parent_code,
            "desa_code": desa.code,
            "occupation": rng.choice(list(Occupation)),
            "bpjs_status": BpjsStatus.MEMBER if member_status else BpjsStatus.NOT_REGISTERED,
            "kpj": None,
            "covered_until": paid.last_day if paid else None,
            "needs_enrolment": not member_status,
            "payer": rng.choice((Payer.SELF, Payer.SELF, Payer.FAMILY, Payer.REGIONAL_GOVERNMENT, Payer.SPONSOR)),
            "period_months": rng.choice((1, 1, 3, 6, 12)),
        }
        address = store.get_or_create_address(
            session=session, channel=Channel.TELEGRAM, external_id=f"demo-{index}", now=now
        )
        assert address.id is not None
        store.create_member(session=session, cipher=cipher, nik=nik, fields=fields, address_id=address.id, now=now)


def run_demo(
    *,
    database: Path,
    make_conversations: Callable[[str], Conversations],
    members: int,
    write: Callable[[str], None] = print,
) -> None:
    """Build a fresh demo database and play a registration as a farmer on a cheap phone would type it."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    conversations = make_conversations(f"sqlite:///{database}")
    zone: ZoneInfo = conversations.zone
    today = DEMO_NOW.astimezone(zone).date()
    with Session(conversations.engine) as session:
        seed_members(
            session=session,
            cipher=conversations.cipher,
            regions=conversations.regions,
            area=conversations.config.service_area,
            count=members,
            today=today,
        )
        session.commit()
    write(f"== Sipakainge demo: {members} peserta sintetis di {database} ==\n")
    write("== Pendaftaran lewat chat (tampilan seperti WhatsApp/terminal) ==\n")
    for step, said in enumerate(SCRIPT):
        incoming = said if isinstance(said, Incoming) else Incoming.from_text(said)
        shown = said if isinstance(said, str) else "[stiker]"
        write(f"PETANI  > {shown}")
        for reply in conversations.handle(Channel.CONSOLE, "demo-farmer", incoming, DEMO_NOW.replace(second=step)):
            write("BOT     < " + render_plain(reply).replace("\n", "\n          ") + "\n")
    with Session(conversations.engine) as session:
        total = session.exec(select(func.count()).select_from(Member)).one()
        per_kabupaten = Counter(code[:5] for code in session.exec(select(Member.kecamatan_code)).all())
        sample = session.exec(select(Member.nik_encrypted)).first() or ""
    write("== Database ==")
    write(f"Peserta: {total}")
    for code, count in sorted(per_kabupaten.items()):
        write(f"  {conversations.regions.name(code)}: {count}")
    write(f"NIK tersimpan terenkripsi, contoh: {sample[:24]}…")
