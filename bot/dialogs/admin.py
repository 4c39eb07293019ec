"""Admin commands: staff, member lookup, verified payments, pause, audit. Pure like the other dialogs: reads come
from the lookups, writes leave as effects, which the caller checks against the same scope again.

Roles: an admin runs everything everywhere; a coordinator is an admin limited to an area (and cannot grant roles or
pause the service) who manages the officers of that area only, never another coordinator or an admin; officers and
members get none of this. A command someone may not use is answered exactly like an unknown command (nothing
revealed) and audited.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Sequence

from bot.dialogs.core import (
    AddStaff,
    ChangeStaff,
    ChartFile,
    Choice,
    Context,
    DecideBroadcast,
    DecideImport,
    ErrorFile,
    Exported,
    ExportFile,
    Incoming,
    Outcome,
    RecordVerifiedPayment,
    Refused,
    Reply,
    SetPaused,
    SettleChats,
    StaffLine,
    StaffView,
    StageBroadcast,
    StageImport,
    ViewedMembers,
)
from bot.texts import long_date, rupiah, t
from domain.answers import yes_or_no
from domain.identity import Nik, mask_nik, parse_nik
from domain.member_rows import MAX_BYTES, RowProblem, Sheet, settle
from domain.member_rows import Plan as ImportPlan
from domain.regions import inside
from domain.rules import Standing
from domain.stats import AreaStats, total
from domain.tariffs import default_tariffs
from domain.vocabulary import Occupation, OfficerRole

ADMIN, COORDINATOR = OfficerRole.ADMIN.value, OfficerRole.COORDINATOR.value
# Which staff roles may use each admin command.
COMMANDS: dict[str, frozenset[str]] = {
    "petugas": frozenset({ADMIN, COORDINATOR}),
    "peserta": frozenset({ADMIN, COORDINATOR}),
    "bayar": frozenset({ADMIN, COORDINATOR}),
    "sambung": frozenset({ADMIN}),
    "jeda": frozenset({ADMIN}),
    "lanjut": frozenset({ADMIN}),
    "audit": frozenset({ADMIN}),
    "statistik": frozenset({ADMIN, COORDINATOR}),
    "siaran": frozenset({ADMIN, COORDINATOR}),
    "impor": frozenset({ADMIN}),
    "ekspor": frozenset({ADMIN, COORDINATOR}),
}
STANDING_WORDS = {"aktif": Standing.ACTIVE, "menunggak": Standing.ARREARS, "nonaktif": Standing.LAPSED,
                  "belum": Standing.UNKNOWN}  # fmt: skip
IMPORT_PREFIX = "imp:"
BROADCAST_PREFIX = "bc:"
MAX_BROADCAST = 1000
ROLE_WORDS = {"penyuluh": OfficerRole.OFFICER.value, "koordinator": COORDINATOR, "admin": ADMIN}
_ID = re.compile(r"^#?(\d{1,9})$")
MAX_MONTHS = 12


def allowed(command: str, staff: StaffView | None) -> bool:
    return staff is not None and staff.role in COMMANDS.get(command, frozenset())


def handle(incoming: Incoming, ctx: Context, out: Outcome) -> bool:
    """Answer an admin command; False when `incoming` is not one, or is one this chat may not use — the caller then
    answers it exactly as an unknown command (same text, same options), so no reply tells which commands exist; the
    refusal is audited (`admin.refused`, the command's name only)."""
    command = incoming.command
    if command not in COMMANDS:
        return False
    staff = ctx.staff.here()
    if staff is None or not allowed(command, staff):
        out.effects.append(Refused(command))
        return False
    args = incoming.text.strip()
    by_args = _BY_ARGS.get(command)
    if by_args is not None:
        by_args(args, ctx, out)
        return True
    match command:
        case "petugas":
            _staff_command(args, staff, ctx, out)
        case "jeda" | "lanjut":
            pause = command == "jeda"
            out.effects.append(SetPaused(pause))
            out.say(Reply(t("admin.paused" if pause else "admin.resumed")))
        case "audit":
            lines = ctx.admin.audit_lines()
            out.say(Reply("\n".join([t("admin.audit_header"), *lines]) if lines else t("admin.audit_empty")))
        case "impor":
            out.say(Reply(t("admin.import_send_file", mb=MAX_BYTES // 2**20)))
    return True


# --- /siaran ---


def _broadcast(args: str, ctx: Context, out: Outcome) -> None:
    """`/siaran [kecamatan] [status] [pekerjaan]: pesan` → a preview with the count, then Kirim or Batal."""
    words, colon, text = args.partition(":")
    text = text.strip()
    if not colon or not text or len(text) > MAX_BROADCAST:
        out.say(Reply(t("broadcast.usage", most=MAX_BROADCAST)))
        return
    segment = segment_of(words, ctx)
    if segment is None:
        out.say(Reply(t("broadcast.usage", most=MAX_BROADCAST)))
        return
    members, chats = ctx.admin.broadcast_audience(segment)
    if members == 0:
        out.say(Reply(t("broadcast.nobody")))
        return
    token = hashlib.sha256(f"{args}{ctx.now.isoformat()}".encode()).hexdigest()[:24]
    out.effects.append(StageBroadcast(token, segment, text))
    send = Choice(t("broadcast.send"), f"{BROADCAST_PREFIX}go:{token}")
    cancel = Choice(t("admin.import_cancel"), f"{BROADCAST_PREFIX}no:{token}")
    choices = (send, cancel)
    out.say(Reply(t("broadcast.preview", members=members, chats=chats, text=text), choices))


def segment_of(words: str, ctx: Context) -> str | None:
    """The segment in canonical form (`kecamatan=…;status=…;occupation=…`, parts left out for "all"); None when a
    word means nothing."""
    parts, place = [], []
    for word in words.split():
        lower = word.lower()
        if lower in STANDING_WORDS:
            parts.append(f"status={STANDING_WORDS[lower]}")
        elif lower in {o.value for o in Occupation}:
            parts.append(f"occupation={lower}")
        elif lower != "semua":
            place.append(word)
    if place:
        kecamatan = _kecamatan(" ".join(place), ctx)
        if kecamatan is None:
            return None
        parts.insert(0, f"kecamatan={kecamatan}")
    return ";".join(parts)


def on_broadcast_choice(value: str, ctx: Context, out: Outcome) -> None:
    """ "Kirim" or "Batal" under a broadcast's preview."""
    if (decided := _decision(value, BROADCAST_PREFIX, "siaran", ctx, out)) is not None:
        out.effects.append(DecideBroadcast(*decided))


# --- /statistik ---

_LINES = 20  # kecamatan listed in the message (the lowest coverage first); the chart shows more


def _statistics(args: str, ctx: Context, out: Outcome) -> None:
    kecamatan = None
    if args:
        kecamatan = _kecamatan(args, ctx)
        if kecamatan is None:
            out.say(Reply(t("stats.usage")))
            return
    areas, weekly = ctx.admin.statistics(kecamatan)
    if not areas:
        out.say(Reply(t("stats.none")))
        return
    whole = total(areas)
    lines = [t("stats.header", day=long_date(ctx.today)), _numbers(t("stats.all"), whole), ""]
    worst = sorted(areas, key=lambda a: a.coverage)
    lines += [_numbers(ctx.regions.name(a.kecamatan), a) for a in worst[:_LINES]]
    if len(worst) > _LINES:
        lines.append(t("stats.more", count=len(worst) - _LINES))
    today_done = bool(weekly) and weekly[-1].kecamatan == ctx.today.isoformat()  # today is in the trend already
    chart = ChartFile(tuple(areas), tuple(weekly) if today_done else (*weekly, whole), ctx.today)
    out.say(Reply("\n".join(lines), file_request=chart))


def _numbers(label: str, a: AreaStats) -> str:
    return t(
        "stats.line",
        name=label,
        members=a.members,
        active=a.active,
        percent=round(100 * a.coverage),
        due_soon=a.due_soon,
        arrears_1=a.arrears_1,
        arrears_2=a.arrears_2,
        lapsed=a.lapsed_month,
        unreachable=a.unreachable,
        opted_out=a.opted_out,
    )


def _kecamatan(text: str, ctx: Context) -> str | None:
    districts = ctx.regions.kecamatan_in(ctx.config.service_area)
    found = [k for k in districts if k.code == text.strip()] or ctx.regions.match(text, districts)
    return found[0].code if len(found) == 1 else None


# --- /impor ---


def on_file(incoming: Incoming, ctx: Context, out: Outcome) -> bool:
    """A spreadsheet from an admin, read and checked by the service: compared, shown as a preview to confirm. False
    for anyone else, and for a file the service did not read (the caller answers as for any unsupported message)."""
    sheet = incoming.sheet
    if sheet is None or not allowed("impor", ctx.staff.here()):
        return False
    if sheet.problem:
        out.say(Reply(t("admin.import_unusable", reason=sheet.problem)))
        return True
    plan = ctx.admin.import_plan(tuple(row.member for row in sheet.rows))
    sheet = settle(sheet, plan.refused)  # new members nobody can tell the payer of: refused, in the error file
    rows = tuple(row.member for row in sheet.rows)
    token = hashlib.sha256(f"{sheet.fingerprint}{ctx.now.isoformat()}".encode()).hexdigest()[:24]
    text = preview(incoming.filename, sheet, plan)
    choices: tuple[Choice, ...] = ()
    if rows:
        out.effects.append(StageImport(token, incoming.filename, rows))
        go, cancel = f"{IMPORT_PREFIX}go:{token}", f"{IMPORT_PREFIX}no:{token}"
        choices = (Choice(t("admin.import_go"), go), Choice(t("admin.import_cancel"), cancel))
    else:
        text = f"{text}\n\n{t('admin.import_nothing')}"
    noted = (*sheet.errors, *sheet.warnings)
    out.say(Reply(text, choices, file_request=ErrorFile(noted) if noted else None))
    return True


def preview(filename: str, sheet: Sheet, plan: ImportPlan) -> str:
    """What importing `sheet` would do, as the admin reads it before saying "Lanjutkan"."""
    counts = {"new": plan.new, "updated": plan.updated, "unchanged": plan.unchanged, "invalid": len(sheet.errors)}
    skipped = f"{t('admin.import_skipped', count=sheet.skipped)}\n" if sheet.skipped else ""  # totals, blank rows
    notes = "".join(f"{note}\n" for note in import_notes(sheet, plan))
    return t("admin.import_preview", filename=filename[:60], skipped=skipped, notes=notes, **counts)


# Distinct unreadable values named per kind, and unread headers named: the error file has every row, and the
# preview stays one Telegram message (4,096 characters) however odd the file.
_VALUES_SHOWN, _HEADERS_SHOWN = 3, 10
_NOTES = {
    RowProblem.PAYER_UNKNOWN: "admin.import_note.payer_unknown",
    RowProblem.OCCUPATION_UNKNOWN: "admin.import_note.occupation_unknown",
    RowProblem.PROGRAM_UNKNOWN: "admin.import_note.program_unknown",
    RowProblem.INCOME_UNREADABLE: "admin.import_note.income_unreadable",
    RowProblem.INCOME_RAISED: "admin.import_note.income_raised",
}


def import_notes(sheet: Sheet, plan: ImportPlan) -> list[str]:
    """What the preview says besides the counts: members whose report the branch contradicts, columns not read,
    and each kind of value that could not be read (the values, most frequent first, and how many rows)."""
    notes = [t("admin.import_mismatched", count=plan.mismatched)] if plan.mismatched else []
    if sheet.unread:
        columns = [name[:40] for name in sheet.unread[:_HEADERS_SHOWN]]
        if len(sheet.unread) > _HEADERS_SHOWN:
            columns.append(t("admin.import_more", count=len(sheet.unread) - _HEADERS_SHOWN))
        notes.append(t("admin.import_unread", columns=", ".join(columns)))
    by_kind: dict[str, Counter[str]] = {}
    refused = [e for e in sheet.errors if e.reason == RowProblem.PAYER_NEW]  # the same unknown payers, on new members
    for warning in (*sheet.warnings, *refused):
        kind = RowProblem.PAYER_UNKNOWN if warning.reason == RowProblem.PAYER_NEW else warning.reason
        by_kind.setdefault(kind, Counter())[warning.value] += 1
    for kind, key in _NOTES.items():
        if kind not in by_kind:
            continue
        common = by_kind[kind].most_common()
        values = [t("admin.import_value", value=value, count=count) for value, count in common[:_VALUES_SHOWN]]
        if len(common) > _VALUES_SHOWN:
            values.append(t("admin.import_more", count=len(common) - _VALUES_SHOWN))
        minimum = rupiah(default_tariffs().income.minimum)
        notes.append(t(key, values=", ".join(values), minimum=minimum))
    return notes


def on_choice(value: str, ctx: Context, out: Outcome) -> None:
    """ "Lanjutkan" or "Batal" under a preview; the service says what became of the batch."""
    if (decided := _decision(value, IMPORT_PREFIX, "impor", ctx, out)) is not None:
        out.effects.append(DecideImport(*decided))


# Typed under a preview besides its labels (WhatsApp has no buttons): a yes/no word, or these.
GO_WORDS = frozenset({"kirim", "lanjut", "lanjutkan", "impor"})
CANCEL_WORDS = frozenset({"batal", "batalkan"})


def typed_decision(text: str, choices: Sequence[Choice]) -> Choice | None:
    """The option of an import's or a broadcast's preview that a typed "ya", "iye", "kirim", "lanjut" (go) or
    "tidak", "batal" (cancel) means; None when the text is no such word or no preview is open."""
    word = " ".join(text.casefold().strip(" .!").split())
    said = True if word in GO_WORDS else False if word in CANCEL_WORDS else yes_or_no(text)
    if said is None:
        return None
    decision = "go" if said else "no"
    for choice in choices:
        for prefix in (IMPORT_PREFIX, BROADCAST_PREFIX):
            if choice.value.startswith(prefix) and choice.value.removeprefix(prefix).partition(":")[0] == decision:
                return choice
    return None


def _decision(value: str, prefix: str, command: str, ctx: Context, out: Outcome) -> tuple[str, bool] | None:
    """The token and the go-ahead of a button under a preview, if the caller may still decide it (else said so)."""
    decision, _, token = value.removeprefix(prefix).partition(":")
    if not allowed(command, ctx.staff.here()) or decision not in {"go", "no"} or not token:
        out.say(Reply(t("invalid.stale_choice")))
        return None
    return token, decision == "go"


# --- /ekspor ---


def _export(args: str, ctx: Context, out: Outcome) -> None:
    """`/ekspor [kecamatan] [aktif|menunggak|nonaktif|belum]`: the members in the import's columns."""
    words = args.split()
    status = next((STANDING_WORDS[w.lower()] for w in words if w.lower() in STANDING_WORDS), None)
    place = " ".join(w for w in words if w.lower() not in STANDING_WORDS)
    kecamatan = _kecamatan(place, ctx) if place else None
    if place and kecamatan is None:
        out.say(Reply(t("admin.export_usage")))
        return
    rows = ctx.admin.export_rows(kecamatan, status)
    out.effects.append(Exported(len(rows), args[:60]))
    out.say(Reply(t("admin.exported", count=len(rows)), file_request=ExportFile(tuple(rows), ctx.today)))


def help_text(staff: StaffView) -> str:
    """The admin part of /bantuan: exactly this role's commands."""
    return t("help_admin.admin" if staff.role == ADMIN else "help_admin.coordinator")


# --- /petugas ---


def _staff_command(args: str, staff: StaffView, ctx: Context, out: Outcome) -> None:
    verb, _, rest = args.partition(" ")
    match verb.lower():
        case "":
            _list_staff(ctx, out)
        case "tambah":
            _add_staff(rest, staff, ctx, out)
        case "wilayah" | "peran" | "nonaktif" | "undangan" | "cabut":
            _change_staff(verb.lower(), rest, staff, ctx, out)
        case _:
            out.say(Reply(t("admin.staff_usage")))


def _list_staff(ctx: Context, out: Outcome) -> None:
    lines = [_staff_line(s, ctx) for s in ctx.staff.manageable()]
    if not lines:
        out.say(Reply(t("admin.staff_none")))
        return
    out.say(Reply("\n".join([t("admin.staff_header"), *lines, "", t("admin.staff_usage")])))


def _staff_line(s: StaffLine, ctx: Context) -> str:
    area = ", ".join(ctx.regions.name(c) for c in s.codes) or t("admin.everywhere")
    bound = t("admin.bound" if s.bound else "admin.unbound")
    return t("admin.staff_line", id=s.id, name=s.name, role=t(f"admin.role.{s.role}"), area=area, bound=bound)


def _add_staff(rest: str, staff: StaffView, ctx: Context, out: Outcome) -> None:
    """`Nama; kode wilayah, ...[; koordinator|admin]`: a name may hold spaces, hence the semicolons."""
    parts = [part.strip() for part in rest.split(";")]
    if len(parts) not in (2, 3) or not parts[0] or len(parts[0]) > 100:
        out.say(Reply(t("admin.add_usage")))
        return
    role = ROLE_WORDS.get(parts[2].lower()) if len(parts) == 3 else OfficerRole.OFFICER.value
    if role is None or (role != OfficerRole.OFFICER.value and staff.role != ADMIN):
        out.say(Reply(t("admin.role_unknown") if role is None else t("admin.role_admin_only")))
        return
    codes = _area(parts[1], staff, ctx, out, required=role != ADMIN)
    if codes is None:
        return
    out.effects.append(AddStaff(parts[0], codes, role))


def _change_staff(verb: str, rest: str, staff: StaffView, ctx: Context, out: Outcome) -> None:
    target, _, value = rest.strip().partition(" ")
    match = _ID.match(target)
    known = {s.id: s for s in ctx.staff.manageable()}  # only those this chat may manage
    if match is None or int(match.group(1)) not in known:
        out.say(Reply(t("admin.staff_unknown")))
        return
    officer_id = int(match.group(1))
    match verb:
        case "wilayah":
            codes = _area(value, staff, ctx, out, required=True)
            if codes is not None:
                out.effects.append(ChangeStaff(officer_id, "areas", codes=codes))
                area = ", ".join(ctx.regions.name(c) for c in codes)
                out.say(Reply(t("admin.areas_set", name=known[officer_id].name, area=area)))
        case "peran":
            role = ROLE_WORDS.get(value.strip().lower())
            if staff.role != ADMIN:
                out.say(Reply(t("admin.role_admin_only")))
            elif role is None:
                out.say(Reply(t("admin.role_unknown")))
            else:
                out.effects.append(ChangeStaff(officer_id, "role", role=role))
                out.say(Reply(t("admin.role_set", name=known[officer_id].name, role=t(f"admin.role.{role}"))))
        case "nonaktif":
            out.effects.append(ChangeStaff(officer_id, "deactivate"))
            out.say(Reply(t("admin.deactivated", name=known[officer_id].name)))
        case "cabut":  # the pending code stops working; the reply comes with the effect
            out.effects.append(ChangeStaff(officer_id, "revoke"))
        case _:  # undangan: the reply with the new code comes with the effect
            out.effects.append(ChangeStaff(officer_id, "invite"))


def _area(text: str, staff: StaffView, ctx: Context, out: Outcome, *, required: bool) -> tuple[str, ...] | None:
    """Kecamatan/desa codes of the service area (and of a coordinator's own area); None after saying what is wrong."""
    codes = tuple(dict.fromkeys(code.strip() for code in text.replace(" ", ",").split(",") if code.strip()))
    if not codes and not required:
        return ()
    bad = [c for c in codes if not _servable(c, ctx)]
    if not codes or bad:
        out.say(Reply(t("admin.area_unknown", codes=", ".join(bad) or "-")))
        return None
    if staff.codes and not all(inside(c, staff.codes) for c in codes):
        out.say(Reply(t("admin.area_outside")))
        return None
    return codes


# --- /peserta, /bayar ---


def _lookup(query: str, ctx: Context, out: Outcome) -> None:
    if len(query) < 3:
        out.say(Reply(t("admin.lookup_usage")))
        return
    found = ctx.admin.member_timelines(query)
    if found:  # personal data shown: audited (the member ids and the command, never what was typed)
        out.effects.append(ViewedMembers(tuple(member_id for member_id, _ in found), why="peserta"))
    out.say(Reply("\n\n".join(text for _, text in found) if found else t("admin.lookup_none")))


def _payment(args: str, ctx: Context, out: Outcome) -> None:
    parts = args.split()
    months = int(parts[1]) if len(parts) == 2 and parts[1].isdecimal() else 0  # "²" is a digit int() refuses
    nik = parse_nik(parts[0], regions=ctx.regions, today=ctx.today) if parts else None
    if not isinstance(nik, Nik) or not 1 <= months <= MAX_MONTHS:
        out.say(Reply(t("admin.pay_usage", most=MAX_MONTHS)))
        return
    member = ctx.admin.member_by_nik(nik.value)
    if member is None:
        out.say(Reply(t("admin.lookup_none")))
        return
    out.effects.append(RecordVerifiedPayment(member.id, months))
    out.say(Reply(t("admin.paid", name=member.full_name, nik=mask_nik(member.nik), months=months)))


def _settle_chats(args: str, ctx: Context, out: Outcome) -> None:
    """An admin's word on the chats waiting for a member (a claimed NIK, a registration the branch contradicted, a
    number nobody proved): "benar" proves them, "bukan" ends them — as an officer's outcome does."""
    parts = args.split()
    nik = parse_nik(parts[0], regions=ctx.regions, today=ctx.today) if parts else None
    word = parts[1].casefold() if len(parts) == 2 else ""
    said = {"benar": True, "bukan": False}.get(word, yes_or_no(word) if word else None)
    if not isinstance(nik, Nik) or said is None:
        out.say(Reply(t("admin.settle_usage")))
        return
    member = ctx.admin.member_by_nik(nik.value)
    if member is None:
        out.say(Reply(t("admin.lookup_none")))
        return
    out.effects.append(SettleChats(member.id, confirmed=said))
    key = "admin.settled_ok" if said else "admin.settled_wrong"
    out.say(Reply(t(key, name=member.full_name, nik=mask_nik(member.nik))))


def _servable(code: str, ctx: Context) -> bool:
    """A kecamatan or desa code of the service area."""
    region = ctx.regions.get(code)
    return region is not None and region.level in (3, 4) and inside(code, ctx.config.service_area)


# The commands that read only their arguments and the context.
_BY_ARGS: dict[str, Callable[[str, Context, Outcome], None]] = {
    "peserta": _lookup,
    "bayar": _payment,
    "sambung": _settle_chats,
    "ekspor": _export,
    "statistik": _statistics,
    "siaran": _broadcast,
}
