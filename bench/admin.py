"""Admin benchmarks: importing a branch's spreadsheet, and the statistics over a province.

    python -m bench.admin import --rows 100000 [--database-url URL]
    python -m bench.admin stats --members 1000000 [--database-url URL]

`import` writes a synthetic XLSX as a branch exports it (openpyxl, as Excel would: NIK and phone as text, the last
month paid as a date), with members spread over the desa of the service area; half of them are registered already
(a re-import of last month's list with new members added), then times each step of /impor through the real code:
reading and checking every row, the preview's comparison, staging, and applying it in slices.

`stats` seeds members as `bench.reminders` does, spread over the province as in `bench.digests`, and times
/statistik's numbers for everyone and its chart.
"""

from __future__ import annotations

import argparse
import io
import resource
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from sqlmodel import Session

from bench.digests import spread_over_province
from bench.reminders import POLICY, fresh_database, seed
from bot.dialogs.core import DialogConfig
from domain.member_rows import Row
from domain.regions import sulawesi_selatan
from domain.stats import total
from files import charts, member_sheet
from service.conversations import Conversations
from service.imports import apply_next
from service.stats import compute
from storage import imports
from storage import members as store
from storage.crypto import Cipher, new_encryption_key, new_lookup_key

TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
AREA = ("73.12", "73.14")
# The header row of a branch's member list.
BRANCH_COLUMNS = [
    "NIK",
    "Nama Lengkap",
    "No KPJ",
    "No HP",
    "Desa/Kelurahan",
    "Kecamatan",
    "Bulan Iuran Terakhir",
    "Program",
    "Sumber Iuran",
]


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def branch_sheet(rows: int) -> bytes:
    """`rows` members with distinct fake NIKs (serials from 0001), over the desa of Soppeng and Sidenreng Rappang."""
    regions = sulawesi_selatan()
    villages = [(d.name, k.name) for k in regions.kecamatan_in(AREA) for d in regions.children(k.code)]
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Peserta")
    sheet.append(BRANCH_COLUMNS)
    for i in range(rows):
        day, month, year = 1 + i % 28, 1 + (i // 28) % 12, 60 + (i // 336) % 40
        serial = 1 + i // 13_440
        nik = f"731206{day:02d}{month:02d}{year:02d}{serial:04d}"
        desa, kecamatan = villages[i % len(villages)]
        paid = datetime(2026, 1 + i % 11, 1)  # noqa: DTZ001 (an Excel date has no zone)
        kpj, phone = f"{90_000_000_000 + i}", f"0812{i:08d}"
        sheet.append([nik, f"Peserta Uji {i}", kpj, phone, desa, kecamatan, paid, "SUTASOMA", "mandiri"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def bench_import(rows: int, url: str) -> None:
    engine = fresh_database(url)
    cipher = Cipher(encryption_keys=[new_encryption_key()], lookup_key=new_lookup_key())
    config = DialogConfig(service_area=AREA, data_holder="bench", consent_version="bench")
    service = Conversations(
        engine=engine, cipher=cipher, regions=sulawesi_selatan(), config=config, zone=ZoneInfo("Asia/Makassar")
    )
    started = time.perf_counter()
    content = branch_sheet(rows)
    print(f"database                {engine.dialect.name}")
    print(
        f"file                    {rows:,} rows, {len(content) / 2**20:.1f} MiB XLSX (written in "
        f"{time.perf_counter() - started:.1f} s)"
    )
    # Last month's list, half as long, is in already: the new file adds the other half.
    half = member_sheet.read("lalu.xlsx", branch_sheet(rows // 2), regions=service.regions, area=AREA, today=TODAY)
    _apply(service, [r.member for r in half.rows])
    timings: list[tuple[str, float]] = []
    started = time.perf_counter()
    sheet = member_sheet.read("data.xlsx", content, regions=service.regions, area=AREA, today=TODAY)
    timings.append(("read and check", time.perf_counter() - started))
    members = [row.member for row in sheet.rows]
    started = time.perf_counter()
    with Session(engine) as session:
        plan = imports.plan(session, cipher, members)
    timings.append(("preview (compare)", time.perf_counter() - started))
    started = time.perf_counter()
    slices = _apply(service, members)
    timings.append((f"stage and apply ({slices} slices)", time.perf_counter() - started))
    for label, seconds in timings:
        print(f"{label:<24}{seconds:6.1f} s")
    print(f"{'total':<24}{sum(s for _, s in timings):6.1f} s = {rows / sum(s for _, s in timings):,.0f} rows/s")
    print(
        f"preview                 {plan.new:,} new, {plan.updated:,} updated, {plan.unchanged:,} unchanged, "
        f"{len(sheet.errors):,} invalid"
    )
    print(f"peak memory (process)   {peak_mib():.0f} MiB")
    engine.dispose()


def _apply(service: Conversations, members: list[Row]) -> int:
    with Session(service.engine) as session:
        address = store.get_or_create_address(session=session, channel="console", external_id="bench", now=NOW)
        token = f"bench{time.monotonic_ns()}"[:32]
        imports.stage(
            session=session,
            cipher=service.cipher,
            token=token,
            address_id=address.id or 0,
            filename="data.xlsx",
            rows=members,
            now=NOW,
        )
        imports.set_status(session=session, token=token, address_id=address.id or 0, status="confirmed")
        session.commit()
    slices = 0
    while (progress := apply_next(engine=service.engine, cipher=service.cipher, token=token, now=NOW)) is not None:
        slices += 1
        if progress.finished:
            break
    return slices


def bench_stats(members: int, url: str) -> None:
    engine = fresh_database(url)
    cipher = Cipher(encryption_keys=[new_encryption_key()], lookup_key=new_lookup_key())
    seconds = seed(engine, cipher, members)
    spread_over_province(engine)
    regions = sulawesi_selatan()
    started = time.perf_counter()
    with Session(engine) as session:
        areas = compute(session=session, today=TODAY, policy=POLICY, codes=None)
    counted = time.perf_counter() - started
    started = time.perf_counter()
    chart = charts.coverage_chart(areas, [total(areas)], regions.name)
    drawn = time.perf_counter() - started
    whole = total(areas)
    print(f"database                {engine.dialect.name}")
    print(f"members                 {whole.members:,} (seeded in {seconds:.0f} s), {len(areas)} kecamatan")
    print(f"numbers                 {counted:.2f} s ({whole.active:,} protected, {whole.unreachable:,} unreachable)")
    print(f"chart                   {drawn:.2f} s ({len(chart) / 1024:.0f} KiB PNG)")
    print(f"peak memory (process)   {peak_mib():.0f} MiB")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description="Admin benchmarks")
    parser.add_argument("what", choices=["import", "stats"])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'admin.db'}"
        if args.what == "import":
            bench_import(args.rows, url)
        else:
            bench_stats(args.members, url)


if __name__ == "__main__":
    main()
