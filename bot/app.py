"""The one place that wires settings → engine → conversations → channels (and later the scheduler)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import shutil
import signal
import socket
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import uvicorn
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from telegram import Bot
from telegram.ext import Application
from twilio.request_validator import RequestValidator

from bot.channels.telegram import (
    ALLOWED_UPDATES,
    TelegramChannel,
    TelegramInbox,
    TelegramSender,
    build_application,
    file_base_url,
    webhook_routes,
)
from bot.channels.whatsapp import MediaHost, SenderLimit, WhatsAppSender, WhatsAppWebhook, twilio_client
from bot.dialogs.core import DialogConfig, Reply
from bot.settings import Settings, looks_placeholder
from domain.delivery import Sender
from domain.policy import ReminderPolicy
from domain.redact import RedactingFilter
from domain.regions import sulawesi_selatan, timezone_for
from domain.rules import holiday_quiet_periods, parse_quiet_periods, parse_stages
from domain.tariffs import default_tariffs
from domain.vocabulary import Channel, ReminderStatus
from domain.workdays import WorkCalendar
from scheduler.digest import send_digests
from scheduler.dispatch import Dispatcher, DispatchStats
from scheduler.imports import run_imports
from scheduler.jobs import add_daily, build_scheduler
from scheduler.messages import ReminderRenderer
from scheduler.statements import send_statements
from service import dispatch as dispatching
from service import health, statements
from service.conversations import Conversations
from service.daily import mark_lapses, purge_old, scan_once, snapshot
from service.directory import BroadcastTexts, OfficerDirectory
from service.dispatch import Claimed
from service.inbound import Handler, InboxWorker
from storage.crypto import Cipher, new_encryption_key, new_lookup_key
from storage.db import make_engine, migrate
from storage.models import Reminder
from storage.outbox import ReminderUpdate

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


# Libraries whose DEBUG output carries whole update bodies, SQL parameters or result rows: names and message texts
# that no pattern can recognise. They stay at INFO (SQLAlchemy at WARNING) even when LOG_LEVEL=DEBUG.
_CAPPED = {"telegram": logging.INFO, "httpcore": logging.INFO, "sqlalchemy": logging.WARNING}


def configure_logging(settings: Settings, *, quiet: bool = False) -> None:
    """`quiet` (the demo) logs warnings only, so its own printout reads uninterrupted, unless LOG_LEVEL is set.

    Every handler on the root logger (where every library's records end up) masks NIKs, KPJs, phone numbers, bot
    tokens and the configured secrets (domain/redact; tests/system/test_log_privacy).
    """
    level = "WARNING" if quiet and "log_level" not in settings.model_fields_set else settings.log_level
    root = logging.getLogger()
    if not root.handlers:
        stderr = logging.StreamHandler()
        stderr.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(stderr)
    root.setLevel(level)
    secrets = (settings.telegram_bot_token, settings.telegram_webhook_secret, settings.twilio_auth_token)
    for handler in root.handlers:
        for old in [f for f in handler.filters if isinstance(f, RedactingFilter)]:
            handler.removeFilter(old)
        handler.addFilter(RedactingFilter(secrets))
    # httpx logs one line per request (its URL, the bot token masked): wanted only when debugging. Alembic: noise.
    quiet_unless_debugging = logging.INFO if root.level <= logging.DEBUG else logging.WARNING
    for name, cap in {**_CAPPED, "httpx": quiet_unless_debugging, "alembic": logging.WARNING}.items():
        logging.getLogger(name).setLevel(max(cap, root.level))  # a cap never lowers the configured level


def build_cipher(settings: Settings) -> Cipher:
    """The configured keys; in development, keys generated once and kept in a local file outside git."""
    keys = [key for key in settings.encryption_keys if not looks_placeholder(key)]
    if keys and not looks_placeholder(settings.nik_lookup_key):
        return Cipher(encryption_keys=keys, lookup_key=settings.nik_lookup_key)
    if settings.environment != "development":
        raise RuntimeError("NIK_ENCRYPTION_KEYS and NIK_LOOKUP_KEY are required outside development")
    secrets = _dev_secrets(settings.dev_secrets_file)
    return Cipher(encryption_keys=[secrets["encryption_key"]], lookup_key=secrets["lookup_key"])


# Before issue 15 the development keys lay beside the database, in the folder its backups copy.
_OLD_DEV_SECRETS = Path("data/dev-secrets.json")


def _dev_secrets(path: Path) -> dict[str, str]:
    """The development keys: kept outside the database's folder (DEV_SECRETS_FILE, `keys/` by default), readable by
    their owner only (tests/storage/test_private_files.py); keys from the old place are moved there, not remade."""
    if not path.exists() and _OLD_DEV_SECRETS.exists() and path.resolve() != _OLD_DEV_SECRETS.resolve():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        shutil.move(_OLD_DEV_SECRETS, path)  # a rename, or a copy then a removal across file systems
        path.chmod(0o600)
        log.warning("moved the development keys from %s to %s", _OLD_DEV_SECRETS, path)
    if path.exists():
        loaded: dict[str, str] = json.loads(path.read_text())
        return loaded
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    secrets = {"encryption_key": new_encryption_key(), "lookup_key": new_lookup_key()}
    # Created 0600 before the keys are written: a chmod afterwards leaves a moment in which anyone could read them.
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
        file.write(json.dumps(secrets))
    log.warning("generated development keys in %s (never use them in production)", path)
    return secrets


def build_engine(settings: Settings) -> Engine:
    engine = make_engine(settings.database_url)
    migrate(engine)
    return engine


def build_conversations(settings: Settings, engine: Engine, cipher: Cipher) -> Conversations:
    config = DialogConfig(
        service_area=settings.area_codes,
        data_holder=settings.data_holder,
        consent_version=settings.consent_version,
        retention_days=settings.retention_days,
        resume_after_hours=settings.dialog_resume_after_hours,
        escalate_after_days=settings.escalate_after_days,
        admins=settings.admins,
        bot_username=settings.telegram_bot_username,
        invite_days=settings.invite_days,
        channels=configured_channels(settings) or None,  # none configured (demo, terminal): every channel
    )
    return Conversations(
        engine=engine,
        cipher=cipher,
        regions=sulawesi_selatan(),
        config=config,
        zone=ZoneInfo(settings.timezone),
        policy=build_policy(settings),
    )


def build_policy(settings: Settings, today: date | None = None) -> ReminderPolicy:
    start, end = settings.window
    workdays = WorkCalendar(settings.holiday_dates(today or datetime.now(ZoneInfo(settings.timezone)).date()))
    quiet = parse_quiet_periods(settings.quiet_periods)
    if settings.holidays_quiet:
        quiet += holiday_quiet_periods(workdays)
    return ReminderPolicy(
        stages=parse_stages(settings.reminder_stages),
        due_day=settings.due_day,
        lapse_after=settings.lapse_after_months,
        window_start=start,
        window_end=end,
        quiet=quiet,
        workdays=workdays,
        per_month=settings.reminders_per_month,
    )


def area_zones(settings: Settings) -> dict[str, ZoneInfo]:
    """The time zone of each province in the service area (WIB, WITA or WIT by province code)."""
    return {code[:2]: timezone_for(code, settings.timezone) for code in settings.area_codes}


def build_dispatcher(
    settings: Settings, engine: Engine, cipher: Cipher, senders: Mapping[str, Sender[Reply]]
) -> Dispatcher[Reply]:
    policy = build_policy(settings)
    renderer = ReminderRenderer(
        cipher,
        default_tariffs(),
        policy,
        settings.payment_channels,
        settings.help_contact,
        officers=OfficerDirectory(engine),
        broadcasts=BroadcastTexts(engine),
    )
    worker = f"{socket.gethostname()}:{os.getpid()}"
    busy_for = timedelta(minutes=settings.busy_hold_minutes)
    return Dispatcher(engine=engine, senders=senders, render=renderer, policy=policy, worker=worker, busy_for=busy_for)


@dataclass
class Preview(Dispatcher[Reply]):
    """A dispatcher whose passes record nothing: its senders print, the rows it claims stay claimed (so the next pass
    claims others) until `release` puts each back exactly as it was, pending. `dispatch --once --print`."""

    seen: list[Reminder] = field(default_factory=list)

    def _claim(self, now: datetime) -> Claimed:
        claimed = super()._claim(now)
        self.seen.extend(claimed.reminders)
        return claimed

    def _record(self, work: object) -> None:
        return None

    def release(self, now: datetime) -> None:
        unchanged = [
            ReminderUpdate(
                reminder_id=r.id or 0,
                status=ReminderStatus.PENDING,
                at=now,
                send_after=r.send_after,
                attempts=r.attempts,
                address_id=r.address_id,
                provider_message_id=r.provider_message_id,
                reason=r.reason,
            )
            for r in self.seen
        ]
        dispatching.record(self.engine, updates=unchanged, notes=(), unreachable=())
        self.seen.clear()


def build_preview(settings: Settings, engine: Engine, cipher: Cipher, senders: Mapping[str, Sender[Reply]]) -> Preview:
    built = build_dispatcher(settings, engine, cipher, senders)
    names = [f.name for f in dataclasses.fields(Dispatcher) if f.init and f.name != "limiters"]
    return Preview(**{name: getattr(built, name) for name in names})


def statement_setup(settings: Settings, conversations: Conversations) -> statements.Setup:
    """What the offices' monthly statements are made with."""
    return statements.Setup(
        cipher=conversations.cipher,
        regions=conversations.regions,
        policy=build_policy(settings),
        tariffs=conversations.tariffs,
        days_before=settings.statement_days_before,
    )


def local_today(settings: Settings) -> date:
    return utc_now().astimezone(ZoneInfo(settings.timezone)).date()


def start_jobs(settings: Settings, conversations: Conversations, dispatcher: Dispatcher[Reply]) -> AsyncIOScheduler:
    """The scheduler on the running event loop: scan, dispatch, lapses, officers' digests."""
    engine = conversations.engine
    policy, zones = build_policy(settings), area_zones(settings)

    async def on_scan() -> None:
        today, now = local_today(settings), utc_now()
        await asyncio.to_thread(scan_once, engine=engine, policy=policy, zones=zones, today=today, now=now)

    async def on_dispatch() -> None:
        await dispatcher.run_once(utc_now())
        if dispatcher.stopping:
            return
        await run_imports(conversations, dispatcher.senders, utc_now)  # confirmed member imports, if any

    async def on_lapses() -> None:
        today = local_today(settings)
        await asyncio.to_thread(mark_lapses, engine=engine, policy=policy, today=today)
        await asyncio.to_thread(snapshot, engine=engine, policy=policy, today=today)  # the /statistik trend
        purged = await asyncio.to_thread(purge_old, engine=engine, now=utc_now(), keep_days=settings.retention_days)
        log.info("retention: %s", purged)

    async def on_digests() -> None:
        stats = await send_digests(
            conversations=conversations, senders=dispatcher.senders, today=local_today(settings), now=utc_now()
        )
        log.info("digests: %s", stats)

    async def on_statements() -> None:
        stats = await send_statements(
            engine=engine,
            setup=statement_setup(settings, conversations),
            senders=dispatcher.senders,
            today=local_today(settings),
            now=utc_now(),
        )
        log.info("payer statements: %s", stats)

    scheduler = build_scheduler(
        zone=ZoneInfo(settings.timezone),
        scan_at=time.fromisoformat(settings.scan_at),
        dispatch_every=settings.dispatch_every_seconds,
        on_scan=on_scan,
        on_dispatch=on_dispatch,
        on_lapses=on_lapses,
        now=utc_now(),
    )
    digest_at, zone = time.fromisoformat(settings.digest_at), ZoneInfo(settings.timezone)
    add_daily(scheduler, "digests", at=digest_at, zone=zone, run=on_digests)
    add_daily(scheduler, "statements", at=digest_at, zone=zone, run=on_statements)
    scheduler.start()
    return scheduler


async def serve(settings: Settings) -> None:
    """Run the bot until SIGINT/SIGTERM: Telegram (long polling, or its webhook), WhatsApp through Twilio's webhook,
    and the reminder jobs, all on one event loop; one Starlette app serves every webhook.

    The signal handlers come first: a SIGTERM during start-up (migrations can take seconds) stops the bot as cleanly
    as one while it serves, exit status 0 (tests/channels/test_app_run.py)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if not telegram_configured(settings) and not settings.twilio_enabled:
        raise SystemExit("TELEGRAM_BOT_TOKEN is not set. Try `sipakainge demo` or `sipakainge chat` without one.")
    engine = build_engine(settings)
    conversations = build_conversations(settings, engine, build_cipher(settings))
    routes: list[BaseRoute] = [Route("/healthz", health_route(engine))]
    async with contextlib.AsyncExitStack() as stack:
        senders, application, _, worker = await open_senders(settings, conversations, stack, routes=routes)
        await asyncio.sleep(0)  # a signal received while starting is seen now
        if not stop.is_set():  # else stopped during start-up: no jobs, no server to start
            inbox = asyncio.create_task(worker.run()) if worker.handlers else None
            dispatcher = build_dispatcher(settings, engine, conversations.cipher, senders)
            scheduler = start_jobs(settings, conversations, dispatcher)
            await _serve_until(stop, settings, routes)
            # Claim nothing more; sends on the wire finish (bounded) and are recorded, unsent claims go back.
            dispatcher.stop()
            await dispatcher.stopped()
            scheduler.shutdown(wait=False)
            if inbox is not None:
                await worker.stop(inbox)
        if application is not None:
            if application.updater is not None and application.updater.running:
                await application.updater.stop()
            await application.stop()
    engine.dispose()


async def drain_until_stopped(dispatcher: Dispatcher[Reply]) -> DispatchStats:
    """`dispatch --once`: drain what is due; SIGINT/SIGTERM stop it gracefully as they stop `run`."""
    loop = asyncio.get_running_loop()
    handled = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, dispatcher.stop)
            handled.append(sig)
        except (ValueError, RuntimeError):  # not the main thread (a caller running it in one): no signals to take
            break
    try:
        return await dispatcher.drain(utc_now())
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)


def telegram_configured(settings: Settings) -> bool:
    return not looks_placeholder(settings.telegram_bot_token)


async def open_senders(
    settings: Settings,
    conversations: Conversations,
    stack: contextlib.AsyncExitStack,
    *,
    routes: list[BaseRoute] | None = None,
) -> tuple[dict[str, Sender[Reply]], Application | None, TelegramInbox | None, InboxWorker]:  # type: ignore[type-arg]
    """A sender for every channel this deployment configures, closed with `stack`: `run` and `dispatch --once` send
    through the same ones (tests/service/test_dispatch_command.py). `run` passes its webhook `routes`: then the
    Telegram application receives updates and the inbox worker answers what the webhooks stored before they
    acknowledged it; `dispatch --once` passes none (a plain Bot, no routes served, the worker never started)."""
    senders: dict[str, Sender[Reply]] = {}
    serving = routes is not None
    served: list[BaseRoute] = [] if routes is None else routes
    token, lease = f"{socket.gethostname()}:{os.getpid()}"[:40], timedelta(seconds=settings.inbox_lease_seconds)
    handlers: dict[str, Handler] = {}
    hooks: list[WhatsAppWebhook] = []
    application, telegram_inbox = None, None
    if settings.twilio_enabled:
        whatsapp, hook = _whatsapp(settings, conversations, served, token, lease)
        senders[whatsapp.channel] = whatsapp
        stack.push_async_callback(whatsapp.close)
        handlers[Channel.WHATSAPP] = hook.process
        hooks.append(hook)
    if serving and telegram_configured(settings):
        channel = TelegramChannel(conversations, utc_now)
        application = build_application(
            token=settings.telegram_bot_token,
            base_url=settings.telegram_api_base_url,
            channel=channel,
            webhook=bool(settings.telegram_webhook_url),
            file_url=settings.telegram_file_base_url,
        )
        if settings.telegram_webhook_url:
            telegram_inbox = TelegramInbox(application, channel, token, lease)
            handlers[Channel.TELEGRAM] = telegram_inbox.process
        await stack.enter_async_context(application)
        await _start_telegram(settings, application, senders, served, telegram_inbox)
    elif telegram_configured(settings):
        file_url = file_base_url(settings.telegram_api_base_url, settings.telegram_file_base_url)
        bot = Bot(settings.telegram_bot_token, base_url=settings.telegram_api_base_url, base_file_url=file_url)
        await stack.enter_async_context(bot)
        telegram = TelegramSender(bot, per_second=settings.telegram_per_second)
        senders[telegram.channel] = telegram
    tasks = 4 if conversations.engine.dialect.name == "postgresql" else 1  # SQLite has one writer anyway
    worker = InboxWorker(conversations.engine, conversations.cipher, handlers, token, lease, tasks=tasks)
    for hook in hooks:
        hook.wake = worker.wake
    if telegram_inbox is not None:
        telegram_inbox.wake = worker.wake
    return senders, application, telegram_inbox, worker


def configured_channels(settings: Settings) -> frozenset[str]:
    """The channels this deployment can send on: an address on any other reaches no one."""
    channels = {Channel.TELEGRAM} if telegram_configured(settings) else set()
    return frozenset(channels | ({Channel.WHATSAPP} if settings.twilio_enabled else set()))


def _whatsapp(
    settings: Settings, conversations: Conversations, routes: list[BaseRoute], token: str, lease: timedelta
) -> tuple[WhatsAppSender, WhatsAppWebhook]:
    """Twilio's webhook and the files it fetches (their routes added to `routes`), and the WhatsApp sender."""
    host = MediaHost(conversations.engine, settings.twilio_public_url, utc_now)
    hook = WhatsAppWebhook(
        conversations,
        RequestValidator(settings.twilio_auth_token),
        settings.twilio_public_url,
        utc_now,
        SenderLimit(count=settings.whatsapp_sender_limit_per_minute, seconds=60.0),
        media=host,
        token=token,
        lease=lease,
    )
    routes += hook.routes()
    client = twilio_client(settings.twilio_account_sid, settings.twilio_auth_token, settings.twilio_api_base_url)
    routes += host.routes()
    hook.sender = WhatsAppSender(
        client,
        from_number=settings.twilio_whatsapp_from,
        templates=settings.templates,
        status_callback=settings.twilio_public_url.rstrip("/") + "/twilio/status",
        clock=utc_now,
        per_second=settings.whatsapp_per_second,
        media=host,
    )
    return hook.sender, hook


async def _start_telegram(
    settings: Settings,
    application: Application,  # type: ignore[type-arg]
    senders: dict[str, Sender[Reply]],
    routes: list[BaseRoute],
    inbox: TelegramInbox | None,
) -> None:
    """Start the Telegram application (entered already), its sender, and its webhook route (storing each update in
    the inbox) or long polling (PTB's own update queue)."""
    await application.start()
    sender = TelegramSender(application.bot, per_second=settings.telegram_per_second)
    senders[sender.channel] = sender
    if settings.telegram_webhook_url:
        await application.bot.set_webhook(
            url=settings.telegram_webhook_url,
            secret_token=settings.telegram_webhook_secret,
            allowed_updates=ALLOWED_UPDATES,
        )
        routes += webhook_routes(application, settings.telegram_webhook_secret, inbox=inbox)
    else:
        assert application.updater is not None
        await application.updater.start_polling(allowed_updates=ALLOWED_UPDATES)
        log.info("polling Telegram for updates")


async def _serve_until(stop: asyncio.Event, settings: Settings, routes: list[BaseRoute]) -> None:
    """Serve the webhooks (when there is more than /healthz) until `stop` is set."""
    if len(routes) <= 1:
        await stop.wait()
        return
    server = uvicorn.Server(
        uvicorn.Config(
            Starlette(routes=routes),
            host=settings.listen_host,
            port=settings.listen_port,
            log_level="warning",
            log_config=None,  # no handlers of its own: its records reach the root's, which mask personal data
        )
    )
    server_task = asyncio.create_task(server.serve())
    log.info("webhooks on %s:%s", settings.listen_host, settings.listen_port)
    await stop.wait()
    server.should_exit = True
    await server_task


def health_route(engine: Engine) -> Callable[[Request], Awaitable[Response]]:
    """/healthz: the database read (a SELECT) and written (an UPDATE rolled back), as JSON; 503 when a part is down,
    naming it (tests/channels/test_degraded.py). A database that does not answer within HEALTH_TIMEOUT is down."""

    async def healthz(_: Request) -> Response:
        try:
            parts = await asyncio.wait_for(asyncio.to_thread(health.check, engine), HEALTH_TIMEOUT)
        except TimeoutError:
            parts = {"database": "down", "write": "down", "error": "no answer"}
        healthy = all(parts.get(part) == "ok" for part in ("database", "write"))
        body = {"status": "ok" if healthy else "down", **parts}
        return JSONResponse(body, status_code=200 if healthy else 503)

    return healthz


HEALTH_TIMEOUT = 5.0
