"""`sipakainge demo`: a demo database of synthetic members and a scripted registration, with no accounts."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.channels.plain import render_plain
from bot.dialogs.core import Incoming, Reply
from bot.texts import short_date, speaking, t
from bot.texts.words import stage_words, status_words
from domain.delivery import SendResult, Sent, Target, Unreachable
from domain.policy import ReminderPolicy
from domain.regions import RegionIndex
from domain.rules import ContributionMonth, stage_of
from domain.statements import next_statement_day
from domain.vocabulary import BpjsStatus, Channel, Occupation, Payer, ReminderStatus
from scheduler.digest import send_digests
from scheduler.dispatch import Dispatcher
from scheduler.statements import send_statements
from service import demo, staff, statements
from service.conversations import Conversations
from service.daily import mark_lapses, scan_once

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
    "punya sendiri",  # whose phone it is
    "donri donri",
    "1",
    "petani",
    "sudah jadi peserta",
    "lewati",
    "10/2026",
    "sendiri",
    "1",  # the declared income: the minimum
    "tidak",  # no JHT
    "3",
    "benar",
    "selesai",
    "STATUS",  # WhatsApp has no slash commands: the word is typed
)


def synthetic_members(*, regions: RegionIndex, area: tuple[str, ...], count: int, today: date) -> Iterator[demo.Person]:
    """Synthetic members across the service area, with a spread of coverage states."""
    rng = random.Random(7312)  # noqa: S311 (synthetic data, not security)
    villages = [d for k in regions.kecamatan_in(area) for d in regions.children(k.code)]
    this_month = ContributionMonth.of(today)
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
        # About one in ten shares a family phone with the person before.
        yield demo.Person(nik, fields, phone_of=index - 1 if index % 10 == 1 else index)


@dataclass
class SimulatedPhones:
    """The demo's WhatsApp: most chats receive, a few numbers are unreachable; keeps what each chat received today."""

    blocked: set[str]
    channel: str = Channel.WHATSAPP
    per_second: float = 0.0
    per_chat_seconds: float = 0.0
    inbox: list[tuple[str, Reply]] = field(default_factory=list)
    example: str = ""

    async def send(self, target: Target, message: Reply) -> SendResult:
        if target.external_id in self.blocked:
            return Unreachable("number unreachable on WhatsApp")
        self.inbox.append((target.external_id, message))
        if not self.example and len(message.choices) > 3:
            self.example = render_plain(message)  # a family phone's combined reminder, to show once
        return Sent(provider_id=str(len(self.inbox)))


def simulate(
    *,
    conversations: Conversations,
    dispatcher_for: Callable[[SimulatedPhones], Dispatcher[Reply]],
    policy: ReminderPolicy,
    zones: dict[str, ZoneInfo],
    days: int,
    write: Callable[[str], None],
) -> None:
    """Days of reminders: each day the real scan, dispatcher and lapse job run, and people answer some reminders."""
    rng = random.Random(2026)  # noqa: S311 (simulation, not security)
    phones = SimulatedPhones(blocked={chat for chat in demo.chats(conversations.engine) if rng.random() < 0.05})
    dispatcher = dispatcher_for(phones)
    answers: Counter[str] = Counter()
    for offset in range(days):
        morning = DEMO_NOW + timedelta(days=offset)  # 09:00 WITA
        today = morning.astimezone(conversations.zone).date()
        scan_once(engine=conversations.engine, policy=policy, zones=zones, today=today, now=morning)
        phones.inbox.clear()
        asyncio.run(dispatcher.drain(morning))
        for chat, message in phones.inbox:
            answers[_answer(conversations, rng, chat, message, morning + timedelta(hours=2))] += 1
        mark_lapses(engine=conversations.engine, policy=policy, today=today)
    _summary(conversations, phones, answers, days, write)
    _officer(conversations, DEMO_NOW + timedelta(days=days - 1, hours=1), write)


def _officer(conversations: Conversations, now: datetime, write: Callable[[str], None]) -> None:
    """An extension officer for Donri-Donri: invited, briefed with the morning digest, records one outcome."""
    invite = demo.add_officer(conversations.engine, name="Penyuluh Donri-Donri", codes=["73.12.06"], now=now)
    chat = "demo-officer"
    write("\n" + t("demo.officer_title"))
    for reply in conversations.handle(Channel.CONSOLE, chat, Incoming.from_text(f"/start {invite}"), now):
        write(_bot(reply.text))
    phone = SimulatedPhones(blocked=set(), channel=Channel.CONSOLE)
    today = now.astimezone(conversations.zone).date()
    asyncio.run(send_digests(conversations=conversations, senders={phone.channel: phone}, today=today, now=now))
    digest = [message for address, message in phone.inbox if address == chat]
    if not digest:
        write(_bot(t("officer.list_empty")))
        return
    write(_bot(render_plain(digest[0])))
    first = digest[0].choices[0]
    write(_said("demo.officer", first.label))
    menu = conversations.handle(Channel.CONSOLE, chat, Incoming.choice(first.value), now)
    write(_bot(render_plain(menu[0])))
    contacted = next(c for c in menu[0].choices if c.value.endswith(":contacted"))
    write(_said("demo.officer", contacted.label))
    for reply in conversations.handle(Channel.CONSOLE, chat, Incoming.choice(contacted.value), now):
        write(_bot(reply.text))


def _said(who: str, text: str) -> str:
    """A line a person typed in the transcript: `PETANI  > halo`."""
    return f"{t(who):<8}> {text}"


def _bot(text: str) -> str:
    """The bot's answer in the transcript, its lines indented under the first."""
    return f"{t('demo.bot'):<8}< " + text.replace("\n", "\n" + " " * 10)


def _answer(conversations: Conversations, rng: random.Random, chat: str, message: Reply, at: datetime) -> str:
    """What a person does with a reminder: usually nothing yet, sometimes pays, asks for help or stops them."""
    roll = rng.random()
    paid = [c.value for c in message.choices if c.value.endswith(":paid")]
    if roll < 0.40 and paid:
        for button in paid:  # on a family phone, one payment per person
            replies = conversations.handle(Channel.WHATSAPP, chat, Incoming.choice(button), at)
            months = rng.choice([c.value for c in replies[-1].choices]) if replies[-1].choices else None
            if months:
                conversations.handle(Channel.WHATSAPP, chat, Incoming.choice(months), at)
        return "demo.answer.paid"
    if roll < 0.43:
        help_button = next(c.value for c in message.choices if c.value.endswith(":help"))
        conversations.handle(Channel.WHATSAPP, chat, Incoming.choice(help_button), at)
        return "demo.answer.help"
    if roll < 0.45:
        conversations.handle(Channel.WHATSAPP, chat, Incoming.from_text("BERHENTI"), at)
        return "demo.answer.stopped"
    return "demo.answer.waiting"


def _summary(
    conversations: Conversations,
    phones: SimulatedPhones,
    answers: Counter[str],
    days: int,
    write: Callable[[str], None],
) -> None:
    tally = demo.tally(conversations.engine)
    write("\n" + t("demo.simulated", days=days))
    if phones.example:
        write(t("demo.example") + "\n  " + phones.example.replace("\n", "\n  "))
    by_stage: dict[str, Counter[str]] = {}
    for stage, status in tally.reminders:
        by_stage.setdefault(stage, Counter())[status] += 1
    statuses = [ReminderStatus.SENT, ReminderStatus.SKIPPED, ReminderStatus.CANCELLED, ReminderStatus.FAILED]
    statuses.append(ReminderStatus.PENDING)
    stages = {code: stage_words(code) for code in sorted(by_stage, key=lambda code: stage_of(code).order)}
    wide = max(map(len, [t("demo.stage"), *stages.values()]))
    write(f"{t('demo.stage'):<{wide}}" + "".join(f"{status_words(s):>18}" for s in statuses))
    for code, words in stages.items():
        write(f"{words:<{wide}}" + "".join(f"{by_stage[code][s]:>18}" for s in statuses))
    write(t("demo.reminders", count=len(tally.reminders), blocked=len(phones.blocked)))
    # Two units, said as such: what the reminder messages got back, and the members the database now records (a
    # family phone's one answer speaks for several members; a member may ask for help twice).
    said = [t("demo.answer_count", count=count, answer=t(key)) for key, count in answers.most_common()]
    write(t("demo.answers", messages=answers.total(), answers=", ".join(said) or "-"))
    write(
        t(
            "demo.tally",
            payments=tally.payments,
            payers=tally.payers,
            helped=tally.helped,
            opted_out=tally.opted_out,
            lapsed=tally.lapsed,
        )
    )
    write(t("demo.counts_note"))


def run_demo(
    *,
    database: Path,
    make_conversations: Callable[[str], Conversations],
    members: int,
    write: Callable[[str], None] = print,
    days: int = 0,
    dispatcher_for: Callable[[Conversations, SimulatedPhones], Dispatcher[Reply]] | None = None,
    policy: ReminderPolicy | None = None,
    zones: dict[str, ZoneInfo] | None = None,
    statement_days_before: int = 7,
) -> None:
    """Build a fresh demo database and play a registration as a farmer on a cheap phone would type it."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    conversations = make_conversations(f"sqlite:///{database}")
    zone: ZoneInfo = conversations.zone
    today = DEMO_NOW.astimezone(zone).date()
    people = synthetic_members(
        regions=conversations.regions, area=conversations.config.service_area, count=members, today=today
    )
    demo.seed(conversations.engine, cipher=conversations.cipher, people=people, now=_midnight(today))
    write(t("demo.title", members=members, database=database) + "\n")
    write(t("demo.registration") + "\n")
    with speaking(Channel.WHATSAPP):  # the terminal shows what the farmer reads on WhatsApp
        for step, said in enumerate(SCRIPT):
            incoming = said if isinstance(said, Incoming) else Incoming.from_text(said)
            write(_said("demo.farmer", said if isinstance(said, str) else t("demo.sticker")))
            for reply in conversations.handle(Channel.CONSOLE, "demo-farmer", incoming, DEMO_NOW.replace(second=step)):
                write(_bot(render_plain(reply)) + "\n")
    overview = demo.overview(conversations.engine)
    write(t("demo.database"))
    write(t("demo.members", count=overview.members))
    for code, count in sorted(overview.per_kabupaten.items()):
        write("  " + t("demo.members_in", region=conversations.regions.name(code), count=count))
    write(t("demo.sealed_nik", sample=overview.sample_nik[:12]))
    if days and dispatcher_for is not None and policy is not None and zones is not None:
        simulate(
            conversations=conversations,
            dispatcher_for=lambda phones: dispatcher_for(conversations, phones),
            policy=policy,
            zones=zones,
            days=days,
            write=write,
        )
    _regency_statement(conversations, days_before=statement_days_before, folder=database.parent, write=write)


def _regency_statement(
    conversations: Conversations, *, days_before: int, folder: Path, write: Callable[[str], None]
) -> None:
    """Sidenreng Rappang's regency pays for its APBD members: a staff member binds a chat with the office's invitation,
    and on the next statement day (`days_before` the 15th) the chat gets the month's statement and its XLSX file."""
    policy, zone = conversations.policy, conversations.zone
    day = next_statement_day(DEMO_NOW.astimezone(zone).date(), days_before=days_before, policy=policy)
    moment = datetime.combine(day, time(7, 0), tzinfo=zone)
    engine = conversations.engine
    code = staff.add_office(
        engine, name="Pemkab Sidenreng Rappang", payer=Payer.REGIONAL_GOVERNMENT, codes=["73.14"], now=moment
    )
    write("\n" + t("demo.office_title", day=short_date(day)))
    chat = "demo-pemkab"
    write(_said("demo.staff", f"/start {code}"))
    for reply in conversations.handle(Channel.CONSOLE, chat, Incoming.from_text(f"/start {code}"), moment):
        write(_bot(reply.text))
    phone = SimulatedPhones(blocked=set(), channel=Channel.CONSOLE)
    setup = statements.Setup(conversations.cipher, conversations.regions, policy, conversations.tariffs, days_before)
    asyncio.run(send_statements(engine=engine, setup=setup, senders={phone.channel: phone}, today=day, now=moment))
    for _, message in phone.inbox:
        write(_bot(render_plain(message)))
        if message.attachment is not None:
            path = folder / message.attachment.filename
            path.write_bytes(message.attachment.content)
            write(t("demo.statement_saved", path=path))


def _midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC)
