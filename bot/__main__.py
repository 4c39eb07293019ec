"""`sipakainge` command line: run, demo, chat, migrate, scan, dispatch, why, officer-add, payer add, invitation,
import, export."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.exc import InternalError, OperationalError

from bot import app
from bot.channels.console import ConsoleSender, chat_loop
from bot.channels.whatsapp import incoming_from_text
from bot.demo import SimulatedPhones, run_demo
from bot.dialogs.core import Incoming, Reply
from bot.settings import Settings
from bot.texts import long_date, t
from domain.delivery import Sender
from domain.identity import parse_phone
from domain.regions import inside, sulawesi_selatan
from domain.vocabulary import BILLED_PAYERS, Channel, OfficerRole, Payer
from scheduler.dispatch import Dispatcher
from scheduler.imports import report
from service import imports, staff, why
from service.conversations import Conversations
from service.daily import scan_once
from service.imports import apply_next
from service.keys import rotate_keys
from storage.db import make_engine, migrate


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as error:  # one line saying what to fix, not a traceback
        problems = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in error.errors())
        print(t("cli.bad_settings", problems=problems), file=sys.stderr)
        return 2
    app.configure_logging(settings, quiet=args.command == "demo")
    try:
        return _COMMANDS[args.command](settings, args)
    except (OperationalError, InternalError) as error:  # the database unreachable or read-only: one line, status 3
        print(t("cli.database_down", error=type(error.orig).__name__), file=sys.stderr)
        return 3


class _Formatter(argparse.HelpFormatter):
    def add_usage(self, usage: str | None, actions: Any, groups: Any, prefix: str | None = None) -> None:
        super().add_usage(usage, actions, groups, t("cli.help.usage") + " " if prefix is None else prefix)


class _Parser(argparse.ArgumentParser):
    """argparse in Indonesian: the help texts come from the catalog, and so do its own headings (argparse itself
    speaks English; its error messages stay so)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs, add_help=False, formatter_class=_Formatter)
        self._positionals.title = t("cli.help.positionals")
        self._optionals.title = t("cli.help.optionals")
        self.add_argument("-h", "--help", action="help", help=t("cli.help.help"))


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="sipakainge", description=t("cli.help.description"))
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help=t("cli.help.run"))
    commands.add_parser("migrate", help=t("cli.help.migrate"))
    chat = commands.add_parser("chat", help=t("cli.help.chat"))
    chat.add_argument(
        "--channel",
        choices=["console", "whatsapp"],
        default="console",
        help=t("cli.help.chat_channel"),
    )
    chat.add_argument("--as", dest="address", default="terminal", help=t("cli.help.chat_as"))
    scan = commands.add_parser("scan", help=t("cli.help.scan"))
    scan.add_argument("--date", type=date.fromisoformat, default=None, help=t("cli.help.scan_date"))
    dispatch = commands.add_parser("dispatch", help=t("cli.help.dispatch"))
    dispatch.add_argument("--once", action="store_true", required=True, help=t("cli.help.dispatch_once"))
    dispatch.add_argument("--print", action="store_true", help=t("cli.help.dispatch_print"))
    why_parser = commands.add_parser("why", help=t("cli.help.why"))
    why_parser.add_argument("who", help=t("cli.help.why_who"))
    _add_staff_and_data_commands(commands)
    demo = commands.add_parser("demo", help=t("cli.help.demo"))
    demo.add_argument("--members", type=int, default=300, help=t("cli.help.demo_members"))
    demo.add_argument("--database", type=Path, default=Path("data/demo.db"), help=t("cli.help.demo_database"))
    demo.add_argument("--days", type=int, default=60, help=t("cli.help.demo_days"))
    return parser


def _add_staff_and_data_commands(commands: argparse._SubParsersAction[_Parser]) -> None:
    officer = commands.add_parser("officer-add", help=t("cli.help.officer_add"))
    officer.add_argument("--name", required=True, help=t("cli.help.officer_name"))
    officer.add_argument("--phone", default=None, help=t("cli.help.officer_phone"))
    officer.add_argument("--area", required=True, help=t("cli.help.officer_area"))
    officer.add_argument("--bot", default=None, help=t("cli.help.bot"))
    officer.add_argument("--coordinator", action="store_true", help=t("cli.help.officer_coordinator"))
    payer = commands.add_parser("payer", help=t("cli.help.payer"))
    payer_commands = payer.add_subparsers(dest="payer_command", required=True)
    office = payer_commands.add_parser("add", help=t("cli.help.payer_add"))
    office.add_argument("name", help=t("cli.help.payer_name"))
    office.add_argument("--payer", required=True, choices=[payer.value for payer in Payer if payer in BILLED_PAYERS])
    office.add_argument(
        "--area",
        default="",
        help=t("cli.help.payer_area"),
    )
    office.add_argument("--bot", default=None, help=t("cli.help.bot"))
    commands.add_parser(
        "rotate-keys",
        help=t("cli.help.rotate_keys"),
    )
    importing = commands.add_parser("import", help=t("cli.help.import"))
    importing.add_argument("file", type=Path, help=t("cli.help.import_file"))
    importing.add_argument("--yes", action="store_true", help=t("cli.help.import_yes"))
    importing.add_argument("--errors", type=Path, default=None, metavar="FILE", help=t("cli.help.import_errors"))
    invitation = commands.add_parser("invitation", help=t("invite.cli_help"))
    invitation_commands = invitation.add_subparsers(dest="invitation_command", required=True)
    for verb, said in (("renew", t("invite.cli_help_renew")), ("revoke", t("invite.cli_help_revoke"))):
        one = invitation_commands.add_parser(verb, help=said)
        one.add_argument("code", help=t("invite.cli_help_code"))
        if verb == "renew":
            one.add_argument("--bot", default=None, help=t("cli.help.bot"))
    exporting = commands.add_parser("export", help=t("cli.help.export"))
    exporting.add_argument("--kecamatan", default=None, help=t("cli.help.export_kecamatan"))
    exporting.add_argument("--output", type=Path, default=Path("peserta.xlsx"), help=t("cli.help.export_output"))


def _run(settings: Settings, args: argparse.Namespace) -> int:
    asyncio.run(app.serve(settings))
    return 0


def _migrate(settings: Settings, args: argparse.Namespace) -> int:
    engine = make_engine(settings.database_url)
    migrate(engine)
    print(t("cli.migrated"))
    return 0


def _scan(settings: Settings, args: argparse.Namespace) -> int:
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
    if result is None:
        print(t("cli.scan_elsewhere"))
    else:
        print(t("cli.scan", day=long_date(today), created=result.created, skipped=result.skipped))
    return 0


def _rotate_keys(settings: Settings, args: argparse.Namespace) -> int:
    done = rotate_keys(engine=app.build_engine(settings), cipher=app.build_cipher(settings))
    print(t("cli.rotated", members=done.members, conversations=done.conversations, imports=done.imports))
    return 0


CHAT_NUMBER = "+6281200000000"  # `chat --channel whatsapp` without --as: clearly a fake number


def _chat(settings: Settings, args: argparse.Namespace) -> int:
    engine = app.build_engine(settings)
    conversations = app.build_conversations(settings, engine, app.build_cipher(settings))
    whatsapp = args.channel == "whatsapp"  # else the terminal speaks as Telegram does
    translate = incoming_from_text if whatsapp else Incoming.from_text
    channel = Channel.WHATSAPP if whatsapp else Channel.TELEGRAM
    address = args.address
    if whatsapp:  # a WhatsApp chat is a number: --as names it (a fake one by default)
        address = parse_phone(CHAT_NUMBER if address == "terminal" else address)
        if not address.startswith("+"):
            print(t("cli.chat_number"), file=sys.stderr)
            return 2
    chat_loop(conversations, address=address, clock=app.utc_now, translate=translate, channel=channel)
    return 0


def _demo(settings: Settings, args: argparse.Namespace) -> int:
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
        statement_days_before=settings.statement_days_before,
    )
    return 0


def _dispatch(settings: Settings, args: argparse.Namespace) -> int:
    return asyncio.run(_drain(settings, printing=args.print))


async def _drain(settings: Settings, *, printing: bool) -> int:
    """Send what is due through every configured channel, as `run` does; with `printing`, print each message with
    its channel and address instead, and leave every reminder as it was (tests/service/test_dispatch_command.py)."""
    engine = app.build_engine(settings)
    try:
        return await (_preview(settings, engine) if printing else _send_due(settings, engine))
    finally:
        engine.dispose()


async def _preview(settings: Settings, engine: Engine) -> int:
    # Each message on its own lines, flushed at once: the dispatcher's log lines (stderr) never run into it.
    def write(text: str) -> None:
        print(f"\n{text}", flush=True)

    # No channel configured (development): every channel, to see what would go where.
    channels = app.configured_channels(settings) or frozenset({Channel.TELEGRAM, Channel.WHATSAPP})
    consoles: dict[str, Sender[Reply]] = {c: ConsoleSender(channel=c, write=write) for c in sorted(channels)}
    preview = app.build_preview(settings, engine, app.build_cipher(settings), consoles)
    try:
        stats = await preview.drain(app.utc_now())
    finally:  # whatever happened, every reminder it claimed goes back as it was
        await asyncio.to_thread(preview.release, app.utc_now())
    print("\n" + t("cli.previewed", claimed=stats.claimed, messages=stats.messages), flush=True)
    return 0


async def _send_due(settings: Settings, engine: Engine) -> int:
    cipher = app.build_cipher(settings)
    async with contextlib.AsyncExitStack() as stack:
        senders, *_ = await app.open_senders(settings, app.build_conversations(settings, engine, cipher), stack)
        if not senders:
            raise SystemExit(t("cli.no_token"))
        stats = await app.drain_until_stopped(app.build_dispatcher(settings, engine, cipher, senders))
    counts = {name: getattr(stats, name) for name in stats.__slots__}
    print(t("cli.dispatched", **counts), flush=True)
    return 0


def _officer_add(settings: Settings, args: argparse.Namespace) -> int:
    name, role = args.name, OfficerRole.COORDINATOR if args.coordinator else OfficerRole.OFFICER
    regions = sulawesi_selatan()
    codes = [code.strip() for code in args.area.split(",") if code.strip()]
    unknown = [code for code in codes if (region := regions.get(code)) is None or region.level not in (3, 4)]
    if not codes or unknown:
        print(t("cli.area_unknown", codes=", ".join(unknown) or t("cli.none_given")))
        return 2
    number = parse_phone(args.phone) if args.phone else None
    if number is not None and not number.startswith("+"):
        print(t("cli.phone_not_mobile"))
        return 2
    engine = app.build_engine(settings)
    code = staff.add_officer(engine, name=name, phone=number, codes=codes, role=role, now=app.utc_now())
    print(t("cli.officer_added", role=t(f"admin.role.{role}"), name=name, area=", ".join(map(regions.name, codes))))
    _invitation(code, settings, args, whatsapp="cli.whatsapp_once")
    return 0


def _payer(settings: Settings, args: argparse.Namespace) -> int:
    """`payer add`: an office that pays for members, and the invitation its staff bind their chats with."""
    regions = sulawesi_selatan()
    codes = [code.strip() for code in args.area.split(",") if code.strip()]
    unknown = [code for code in codes if (region := regions.get(code)) is None or region.level < 2]
    outside = [code for code in codes if code not in unknown and not inside(code, settings.area_codes)]
    if unknown:
        print(t("cli.payer_area_unknown", codes=", ".join(unknown)))
    if outside:
        print(t("cli.payer_area_outside", area=settings.service_area, codes=", ".join(outside)))
    if unknown or outside:
        return 2
    payer = Payer(args.payer)
    code = staff.add_office(app.build_engine(settings), name=args.name, payer=payer, codes=codes, now=app.utc_now())
    where = ", ".join(regions.name(c) for c in codes) or t("cli.office_linked_only")
    print(t("cli.office_added", name=args.name, payer=t(f"sheet.payer.{payer}"), area=where))
    _invitation(code, settings, args, whatsapp="cli.whatsapp_office")
    return 0


def _invitation(code: str, settings: Settings, args: argparse.Namespace, *, whatsapp: str) -> None:
    """How the invited person binds their chat: the Telegram link to the configured bot (`--bot` names another; none
    configured: the code to send), the WhatsApp words, and how long the code works."""
    link = staff.invitation_link(code, args.bot if args.bot is not None else settings.telegram_bot_username)
    print(t("cli.telegram_link", link=link) if link else t("cli.telegram_code", code=code))
    print(t(whatsapp, code=code))
    print(t("invite.cli_valid", days=settings.invite_days))


def _invitation_command(settings: Settings, args: argparse.Namespace) -> int:
    """`invitation renew CODE` (a fresh code in its place, printed as officer-add does) or `invitation revoke CODE`."""
    engine, now = app.build_engine(settings), app.utc_now()
    if args.invitation_command == "revoke":
        found = staff.revoke_invitation(engine, code=args.code, now=now)
    else:
        found = staff.renew_invitation(engine, code=args.code, now=now)
    if found is None:
        print(t("invite.cli_unknown"))
        return 1
    print(t("invite.cli_renewed" if args.invitation_command == "renew" else "invite.cli_revoked", name=found.name))
    if args.invitation_command == "renew":
        whatsapp = "cli.whatsapp_once" if found.kind == "officer" else "cli.whatsapp_office"
        _invitation(found.code, settings, args, whatsapp=whatsapp)
    return 0


def _import(settings: Settings, args: argparse.Namespace) -> int:
    """The same checks, preview and slices as /impor in chat, from a terminal."""
    path: Path = args.file
    if not path.is_file():
        print(t("cli.import_no_file", path=str(path)), file=sys.stderr)
        return 2
    engine = app.build_engine(settings)
    conversations = app.build_conversations(settings, engine, app.build_cipher(settings))
    now = app.utc_now()
    checked = imports.check_file(
        engine,
        conversations.cipher,
        conversations.regions,
        area=conversations.config.service_area,
        filename=path.name,
        content=path.read_bytes(),
        today=app.local_today(settings),
    )
    if checked.problem:
        print(checked.problem)
        return 2
    plan, rows = checked.plan, checked.rows
    skipped = t("cli.import_skipped", count=checked.skipped) if checked.skipped else ""
    counts = {"new": plan.new, "updated": plan.updated, "unchanged": plan.unchanged, "invalid": checked.invalid}
    print(t("cli.import_counts", filename=path.name, **counts) + skipped)
    for note in checked.notes:  # as the chat's preview says them
        print(note)
    errors: Path | None = args.errors
    if checked.error_file and errors is not None:
        errors.write_bytes(checked.error_file)
        print(t("cli.import_errors_written", path=errors))
    elif checked.error_file:
        print(t("cli.import_errors_hint"))
    if not args.yes or not rows:
        print(t("cli.import_preview_only") if rows else t("admin.import_nothing"))
        return 0
    token = imports.confirm(engine, conversations.cipher, filename=path.name, rows=rows, now=now)
    cipher = conversations.cipher
    while (progress := apply_next(engine=engine, cipher=cipher, token=token, now=app.utc_now())) is not None:
        print(report(progress))
        if progress.finished:
            break
    return 0


def _export(settings: Settings, args: argparse.Namespace) -> int:
    engine = app.build_engine(settings)
    cipher = app.build_cipher(settings)
    output: Path = args.output
    count, content = imports.export_sheet(
        engine, cipher, sulawesi_selatan(), kecamatan=args.kecamatan, now=app.utc_now()
    )
    output.write_bytes(content)
    print(t("cli.exported", count=count, path=output))
    return 0


def _why(settings: Settings, args: argparse.Namespace) -> int:
    engine = app.build_engine(settings)
    cipher = app.build_cipher(settings)
    today = app.local_today(settings)
    policy, now = app.build_policy(settings), app.utc_now()
    found = why.timelines(engine, cipher, sulawesi_selatan(), policy, query=args.who, today=today, now=now)
    if not found:
        print(t("why.not_found"))
        return 1
    for lines in found:
        print("\n".join(lines) + "\n")
    return 0


_COMMANDS: dict[str, Callable[[Settings, argparse.Namespace], int]] = {
    "run": _run,
    "migrate": _migrate,
    "scan": _scan,
    "dispatch": _dispatch,
    "why": _why,
    "officer-add": _officer_add,
    "payer": _payer,
    "rotate-keys": _rotate_keys,
    "import": _import,
    "export": _export,
    "invitation": _invitation_command,
    "chat": _chat,
    "demo": _demo,
}

if __name__ == "__main__":
    sys.exit(main())
