"""The branch's member spreadsheet in and out: an import is checked, compared, staged until an admin confirms it,
then applied a slice at a time (`scheduler.imports`); an export writes members in the import's columns.
The chat (/impor, /ekspor) and the command line (`sipakainge import`, `export`) take the same steps."""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlmodel import Session

from bot.dialogs.admin import import_notes
from bot.dialogs.core import DecideImport, Exported, Reply, StageImport
from bot.texts import t
from domain.delivery import Target
from domain.member_rows import Plan, Row, settle
from domain.regions import RegionIndex
from files import member_sheet
from storage import audit as audit_log
from storage import imports
from storage import imports as stored
from storage import members as store
from storage.crypto import Cipher
from storage.models import Address, ImportBatch

if TYPE_CHECKING:
    from service.effect_context import EffectContext, Handled

CLI_ACTOR = "cli"  # who the audit log says imported or exported from the command line


def stage(
    session: Session, cipher: Cipher, *, token: str, address_id: int, filename: str, rows: Sequence[Row], now: datetime
) -> None:
    """Keep checked rows, sealed, until the admin who sent them decides."""
    stored.stage(
        session=session, cipher=cipher, token=token, address_id=address_id, filename=filename, rows=rows, now=now
    )


def decide(session: Session, *, token: str, address_id: int, go: bool) -> ImportBatch | None:
    """Confirm (the slices are then applied in the background) or cancel a batch this chat staged; None when there
    is none (or it was decided already)."""
    status = "confirmed" if go else "cancelled"
    return stored.set_status(session=session, token=token, address_id=address_id, status=status)


def on_stage(ctx: EffectContext, effect: StageImport) -> Handled:
    if not ctx.readers.staff.is_admin():
        return None, []
    stage(
        ctx.session,
        ctx.cipher,
        token=effect.token,
        address_id=ctx.address_id,
        filename=effect.filename,
        rows=effect.rows,
        now=ctx.now,
    )
    return ("import.stage", 0, f"{len(effect.rows)} rows"), []


def on_decide(ctx: EffectContext, effect: DecideImport) -> Handled:
    if not ctx.readers.staff.is_admin():
        return None, []
    go = effect.go
    batch = decide(ctx.session, token=effect.token, address_id=ctx.address_id, go=go)
    if batch is None:
        return None, [Reply(t("admin.import_stale"))]
    said = t("admin.import_started", total=batch.total) if go else t("admin.import_cancelled")
    return ("import.confirm" if go else "import.cancel", 0, f"{batch.total} rows"), [Reply(said)]


def on_exported(ctx: EffectContext, effect: Exported) -> Handled:
    return ("member.export", 0, export_detail(effect.count, effect.detail)), []


@dataclass(frozen=True, slots=True)
class Checked:
    """A spreadsheet checked and compared with the members registered."""

    problem: str  # the whole file is unusable: why (and nothing else is set)
    rows: tuple[Row, ...]
    invalid: int  # rows refused
    skipped: int  # totals rows and blank rows inside the table, passed over
    plan: Plan
    error_file: bytes  # the refused rows and why, and the values not read, as a spreadsheet (empty: none)
    notes: tuple[str, ...] = ()  # what the preview says besides the counts (admin.import_notes), in Indonesian


def check_file(
    engine: Engine,
    cipher: Cipher,
    regions: RegionIndex,
    *,
    area: Sequence[str],
    filename: str,
    content: bytes,
    today: date,
) -> Checked:
    """The same checks and comparison as /impor's preview, for `sipakainge import`."""
    sheet = member_sheet.read(filename, content, regions=regions, area=area, today=today)
    if sheet.problem:
        return Checked(sheet.problem, (), 0, 0, Plan(0, 0, 0), b"")
    with Session(engine) as session:
        plan = stored.plan(session, cipher, tuple(row.member for row in sheet.rows))
    sheet = settle(sheet, plan.refused)
    noted = (*sheet.errors, *sheet.warnings)
    errors = member_sheet.error_file(noted) if noted else b""
    rows = tuple(row.member for row in sheet.rows)
    return Checked("", rows, len(sheet.errors), sheet.skipped, plan, errors, tuple(import_notes(sheet, plan)))


def confirm(engine: Engine, cipher: Cipher, *, filename: str, rows: Sequence[Row], now: datetime) -> str:
    """Stage and confirm at once, as the command line's own admin chat; returns the batch's token (its slices are
    then applied as a confirmed chat import's are)."""
    token = secrets.token_hex(12)
    with Session(engine) as session:
        address = store.get_or_create_address(session=session, channel="console", external_id="cli", now=now)
        address_id = address.id or 0
        stage(session, cipher, token=token, address_id=address_id, filename=filename, rows=rows, now=now)
        decide(session, token=token, address_id=address_id, go=True)
        audit_log.audit(
            session=session,
            actor=CLI_ACTOR,
            action="import.confirm",
            subject=f"import:{token}",
            detail=f"{len(rows)} rows",
            now=now,
        )
        session.commit()
    return token


def members_for_export(session: Session, cipher: Cipher, codes: Sequence[str] | None) -> list[Row]:
    """Members of the area (None: everywhere) as spreadsheet rows, by kecamatan, desa and name."""
    return stored.export_rows(session=session, cipher=cipher, codes=codes)


def export_detail(count: int, wanted: str) -> str:
    """What the audit log says of an export: how many members, and the filter asked for."""
    return f"{count} members {wanted}".strip()


def export_sheet(
    engine: Engine, cipher: Cipher, regions: RegionIndex, *, kecamatan: str | None, now: datetime
) -> tuple[int, bytes]:
    """`sipakainge export`: the members (of one kecamatan, or all), audited; how many, and the XLSX file."""
    with Session(engine) as session:
        rows = members_for_export(session, cipher, [kecamatan] if kecamatan else None)
        audit_log.audit(
            session=session,
            actor=CLI_ACTOR,
            action="member.export",
            subject="member:*",
            detail=export_detail(len(rows), kecamatan or ""),
            now=now,
        )
        session.commit()
    return len(rows), member_sheet.export(rows, regions=regions)


@dataclass(frozen=True, slots=True)
class Progress:
    done: int
    total: int
    finished: bool
    summary: imports.Applied
    target: Target | None  # the chat of the admin who sent the file


def apply_next(*, engine: Engine, cipher: Cipher, token: str, now: datetime) -> Progress | None:
    """One slice of a confirmed import, in its own transaction; None when the batch is not (or no longer) to do."""
    with Session(engine, expire_on_commit=False) as session:
        batch = imports.apply_slice(session=session, cipher=cipher, token=token, now=now)
        if batch is None:
            return None
        address = session.get(Address, batch.address_id)
        session.commit()
    target = None
    if address is not None and address.id is not None:
        target = Target(address.id, address.channel, address.external_id, None, last_inbound_at=address.last_inbound_at)
    summary = imports.Applied(**json.loads(batch.summary))
    return Progress(batch.applied, batch.total, batch.status == "done", summary, target)


def confirmed(engine: Engine) -> list[str]:
    """The tokens of the confirmed imports still to apply."""
    with Session(engine) as session:
        return imports.confirmed(session=session)
