"""The branch's member spreadsheet in and out: an import is checked, compared, staged until an admin confirms it,
then applied a slice at a time (`scheduler.import_progress`); an export writes members in the import's columns."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlmodel import Session

from bot.dialogs.core import DecideImport, Exported, Reply, StageImport
from bot.texts import t
from domain.member_rows import Row
from storage import imports as stored
from storage.crypto import Cipher
from storage.models import ImportBatch

if TYPE_CHECKING:
    from service.effects import EffectContext, Handled


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


def members_for_export(session: Session, cipher: Cipher, codes: Sequence[str] | None) -> list[Row]:
    """Members of the area (None: everywhere) as spreadsheet rows, by kecamatan, desa and name."""
    return stored.export_rows(session=session, cipher=cipher, codes=codes)


def export_detail(count: int, wanted: str) -> str:
    """What the audit log says of an export: how many members, and the filter asked for."""
    return f"{count} members {wanted}".strip()
