"""Broadcasts: a message to a segment of members, staged until the staff member who wrote it says "Kirim"."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.dialogs.core import DecideBroadcast, Reply, StageBroadcast
from bot.texts import t
from storage import broadcasts as stored

if TYPE_CHECKING:
    from service.effect_context import EffectContext, Handled


def on_stage(ctx: EffectContext, effect: StageBroadcast) -> Handled:
    if ctx.readers.staff.here() is None:
        return None, []
    stored.stage(
        session=ctx.session,
        token=effect.token,
        address_id=ctx.address_id,
        text=effect.text,
        segment=effect.segment,
        now=ctx.now,
    )
    return ("broadcast.stage", 0, effect.segment), []


def on_decide(ctx: EffectContext, effect: DecideBroadcast) -> Handled:
    """Queued for the segment's members as they are now, inside this chat's staff area (the preview may be old)."""
    found = stored.decide(session=ctx.session, token=effect.token, address_id=ctx.address_id, go=effect.go)
    if found is None:
        return None, [Reply(t("broadcast.stale"))]
    if not effect.go:
        return ("broadcast.cancel", found.id or 0, found.segment), [Reply(t("broadcast.cancelled"))]
    members = ctx.readers.admin.broadcast_members(found.segment)
    count = stored.queue(session=ctx.session, broadcast=found, member_ids=members, zone=ctx.zone.key, now=ctx.now)
    return ("broadcast.queue", found.id or 0, f"{count} members {found.segment}"), [
        Reply(t("broadcast.queued", members=count))
    ]
