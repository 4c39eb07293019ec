"""`sipakainge` command line: run, demo, chat, migrate, scan, dispatch, why, officer-add."""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
from datetime import date
from pathlib import Path

from sqlmodel import Session
from telegram import Bot

from bot import app
from bot.channels.console import ConsoleSender, chat_loop
from bot.channels.telegram import TelegramSender
from bot.channels.whatsapp import incoming_from_text
from bot.demo import SimulatedPhones, run_demo
from bot.dialogs.core import Incoming, Reply
from bot.settings import Settings, looks_placeholder
from bot.texts import t
from domain.identity import parse_phone
from domain.regions import sulawesi_selatan
from domain.vocabulary import OfficerRole
from files import member_sheet
from scheduler.dispatch import Dispatcher
from scheduler.import_progress import report
from service.conversations import Conversations
from service.daily import scan_once
from service.import_runs import apply_next
from service.keys import rotate_keys
from service.why import find_members, timeline
from storage import audit as audit_log
from storage import imports
from storage import members as store
from storage.db import make_engine, migrate
from storage.officers import create_officer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sipakainge", description="Pengingat iuran BPJS Ketenagakerjaan.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="run the Telegram bot (polling, or webhook when TELEGRAM_WEBHOOK_URL is set)")
    commands.add_parser("migrate", help="bring the database schema up to date")
    chat = commands.add_parser("chat", help="talk to the bot in this terminal")
    chat.add_argument(
        "--channel",
        choices=["console", "whatsapp"],
        default="console",
        help="whatsapp: the dialog as WhatsApp shows it, typed words such as 'status' work as commands",
    )
    chat.add_argument("--as", dest="address", default="terminal", help="the chat address to continue")
    scan = commands.add_parser("scan", help="create the reminders due on a day (default: today, local time)")
    scan.add_argument("--date", type=date.fromisoformat, default=None)
    dispatch = commands.add_parser("dispatch", help="send the reminders that are due")
    dispatch.add_argument("--once", action="store_true", required=True, help="send what is due now, then stop")
    dispatch.add_argument("--print", action="store_true", help="development: print instead of sending")
    why = commands.add_parser("why", help="a member's reminder timeline")
    why.add_argument("who", help="NIK, KPJ or phone number")
    officer = commands.add_parser("officer-add", help="create an officer and print their invitation link")
    officer.add_argument("--name", required=True)
    officer.add_argument("--phone", default=None)
    officer.add_argument(
        "--area", required=True, help="kecamatan and/or desa codes, comma-separated (73.12.06,73.12.01.2003)"
    )
    officer.add_argument("--bot", default="sipakainge_bot", help="the Telegram bot's username, for the deep link")
    officer.add_argument(
        "--coordinator", action="store_true", help="an area coordinator: gets what officers leave without an outcome"
    )
    commands.add_parser(
        "rotate-keys",
        help="re-encrypt NIKs and conversations with the first NIK_ENCRYPTION_KEYS key and rehash NIKs with "
        "NIK_LOOKUP_KEY (stop the bot first; see docs/operations.md)",
    )
    importing = commands.add_parser("import", help="import the branch's member spreadsheet (XLSX or CSV)")
    importing.add_argument("file", type=Path)
    importing.add_argument("--yes", action="store_true", help="apply it (without: only the preview)")
    exporting = commands.add_parser("export", help="write members to an XLSX file in the import's columns")
    exporting.add_argument("--kecamatan", default=None, help="only this kecamatan code (73.12.06)")
    exporting.add_argument("--output", type=Path, default=Path("peserta.xlsx"))
    demo = commands.add_parser("demo", help="simulated demo on a fresh SQLite database, no accounts needed")
    demo.add_argument("--members", type=int, default=300)
    demo.add_argument("--database", type=Path, default=Path("data/demo.db"))
    demo.add_argument("--days", type=int, default=60, help="days of reminders to simulate")
    args = parser.parse_args(argv)

    settings = Settings()
    app.configure_logging(settings)
    match args.command:
        case "run":
            asyncio.run(app.serve(settings))
        case "migrate":
            engine = make_engine(settings.database_url)
            migrate(engine)
            print("schema is up to date")
        case "scan":
            engine = app.build_engine(settings)
            today = args.date or app.local_today(settings)
            moment = app.utc_now()
            result = scan_once(
                engine=engine,
                policy=app.build_policy(settings),
                zones=app.area_zones(settings),
                today=today,
                now=moment,
            )
            print(f"{today}: {result.created} created, {result.skipped} skipped" if result else "another process leads")
        case "dispatch":
            return asyncio.run(_dispatch(settings, printing=args.print))
        case "why":
            return _why(settings, args.who)
        case "officer-add":
            role = OfficerRole.COORDINATOR if args.coordinator else OfficerRole.OFFICER
            return _officer_add(settings, args.name, args.phone, args.area, args.bot, role)
        case "rotate-keys":
            done = rotate_keys(engine=app.build_engine(settings), cipher=app.build_cipher(settings))
            print(f"rotated: {done.members} members, {done.conversations} conversations, {done.imports} imports")
        case "import":
            return _import(settings, args.file, apply=args.yes)
        case "export":
            return _export(settings, args.kecamatan, args.output)
        case "chat":
            engine = app.build_engine(settings)
            conversations = app.build_conversations(settings, engine, app.build_cipher(settings))
            translate = incoming_from_text if args.channel == "whatsapp" else Incoming.from_text
            chat_loop(conversations, address=args.address, clock=app.utc_now, translate=translate)
        case "demo":
            cipher = app.build_cipher(settings)

            def make(url: str) -> Conversations:
                demo_settings = settings.model_copy(update={"database_url": url})
                return app.build_conversations(demo_settings, app.build_engine(demo_settings), cipher)

            def dispatcher_for(conversations: Conversations, phones: SimulatedPhones) -> Dispatcher[Reply]:
                return app.build_dispatcher(settings, conversations.engine, cipher, {phones.channel: phones})

            run_demo(
                database=args.database,
                make_conversations=make,
                members=args.members,
                days=args.days,
                dispatcher_for=dispatcher_for,
                policy=app.build_policy(settings),
                zones=app.area_zones(settings),
            )
    return 0


async def _dispatch(settings: Settings, *, printing: bool) -> int:
    engine = app.build_engine(settings)
    cipher = app.build_cipher(settings)
    if printing:
        if settings.environment != "development":
            raise SystemExit("--print marks reminders as sent without sending them: development only")
        console = ConsoleSender()
        stats = await app.build_dispatcher(settings, engine, cipher, {console.channel: console}).drain(app.utc_now())
    else:
        if looks_placeholder(settings.telegram_bot_token):
            raise SystemExit("TELEGRAM_BOT_TOKEN is not set (or use --print in development).")
        async with Bot(settings.telegram_bot_token, base_url=settings.telegram_api_base_url) as bot:
            sender = TelegramSender(bot, per_second=settings.telegram_per_second)
            stats = await app.build_dispatcher(settings, engine, cipher, {sender.channel: sender}).drain(app.utc_now())
    print(
        f"claimed {stats.claimed}, sent {stats.sent} in {stats.messages} messages, retried {stats.retried}, "
        f"failed {stats.failed}, unreachable {stats.unreachable}, deferred {stats.deferred}, expired {stats.expired}"
    )
    return 0


def _officer_add(  # noqa: PLR0917 (the command's arguments)
    settings: Settings, name: str, phone: str | None, area: str, bot: str, role: OfficerRole
) -> int:
    regions = sulawesi_selatan()
    codes = [code.strip() for code in area.split(",") if code.strip()]
    unknown = [code for code in codes if (region := regions.get(code)) is None or region.level not in (3, 4)]
    if not codes or unknown:
        print(f"unknown kecamatan/desa codes: {', '.join(unknown) or '(none given)'}")
        return 2
    number = parse_phone(phone) if phone else None
    if number is not None and not number.startswith("+"):
        print("the phone number is not an Indonesian mobile number")
        return 2
    engine = app.build_engine(settings)
    with Session(engine) as session:
        officer = create_officer(session=session, name=name, phone=number, codes=codes, now=app.utc_now(), role=role)
        code = officer.invite_code
        session.commit()
    print(f"{role} {name}: {', '.join(regions.name(c) for c in codes)}")
    print(f"Telegram: https://t.me/{bot}?start={code}")
    print(f"WhatsApp: send '/start {code}' to the bot's number (works once)")
    return 0


def _import(settings: Settings, path: Path, *, apply: bool) -> int:
    """The same checks, preview and slices as /impor in chat, from a terminal."""
    engine = app.build_engine(settings)
    conversations = app.build_conversations(settings, engine, app.build_cipher(settings))
    now = app.utc_now()
    sheet = member_sheet.read(path.name, path.read_bytes(), regions=conversations.regions,
                              area=conversations.config.service_area, today=app.local_today(settings))  # fmt: skip
    if sheet.problem:
        print(sheet.problem)
        return 2
    rows = [row.member for row in sheet.rows]
    with Session(engine) as session:
        plan = imports.plan(session, conversations.cipher, rows)
    print(
        f"{path.name}: {plan.new} new, {plan.updated} updated, {plan.unchanged} unchanged, {len(sheet.errors)} invalid"
    )
    if sheet.errors:
        errors = path.with_name(f"{path.stem}-kesalahan.xlsx")
        errors.write_bytes(member_sheet.error_file(sheet.errors))
        print(f"invalid rows and why: {errors}")
    if not apply or not rows:
        print("nothing changed (add --yes to apply)" if rows else "nothing to import")
        return 0
    token = secrets.token_hex(12)
    with Session(engine) as session:
        address = store.get_or_create_address(session=session, channel="console", external_id="cli", now=now)
        imports.stage(session=session, cipher=conversations.cipher, token=token, address_id=address.id or 0,
                      filename=path.name, rows=rows, now=now)  # fmt: skip
        imports.set_status(session=session, token=token, address_id=address.id or 0, status="confirmed")
        audit_log.audit(session=session, actor="cli", action="import.confirm", subject=f"import:{token}",
                    detail=f"{len(rows)} rows", now=now)  # fmt: skip
        session.commit()
    cipher = conversations.cipher
    while (progress := apply_next(engine=engine, cipher=cipher, token=token, now=app.utc_now())) is not None:
        print(report(progress))
        if progress.finished:
            break
    return 0


def _export(settings: Settings, kecamatan: str | None, output: Path) -> int:
    engine = app.build_engine(settings)
    cipher = app.build_cipher(settings)
    with Session(engine) as session:
        rows = imports.export_rows(session=session, cipher=cipher, codes=[kecamatan] if kecamatan else None)
        audit_log.audit(session=session, actor="cli", action="member.export", subject="member:*",
                    detail=f"{len(rows)} members {kecamatan or ''}".strip(), now=app.utc_now())  # fmt: skip
        session.commit()
    output.write_bytes(member_sheet.export(rows, regions=sulawesi_selatan()))
    print(f"{len(rows)} members written to {output} (it holds NIKs: keep it safe)")
    return 0


def _why(settings: Settings, who: str) -> int:
    engine = app.build_engine(settings)
    cipher = app.build_cipher(settings)
    today = app.local_today(settings)
    with Session(engine) as session:
        members = find_members(session, cipher, sulawesi_selatan(), who, today)
        if not members:
            print(t("why.not_found"))
            return 1
        for member in members:
            print("\n".join(timeline(session, cipher, member, app.build_policy(settings), today)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
