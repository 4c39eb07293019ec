"""Writing what a dialog step asked for: one small handler per effect, found in `HANDLERS`.

A handler gets the `EffectContext` (the message's transaction, the chat, the clock, the readers and the service's
fixed parts) and the effect. It checks again that this chat may do it (the dialog's view could be forged or stale),
writes it, and returns what the audit log records of it (`Audit`: action, subject id, detail; None: nothing) and
anything more to say. `apply` writes that audit entry — column names only, never values: the audit log holds no
personal data.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from bot.dialogs.core import (
    AcceptInvitation,
    AddStaff,
    AskOfficerAboutNik,
    ChangeStaff,
    ClaimNik,
    DecideBroadcast,
    DecideImport,
    DeleteMember,
    Effect,
    Exported,
    NikTyped,
    ProvePhone,
    RecordConsent,
    RecordFollowUp,
    RecordPayment,
    RecordVerifiedPayment,
    Refused,
    Reply,
    RequestHelp,
    SaveMember,
    SetOptOut,
    SetPaused,
    SettleChats,
    StageBroadcast,
    StageImport,
    UnbindSponsor,
    UpdateMember,
    ViewedMembers,
)
from service import broadcasts, follow_ups, imports, members, payments, staff
from service.effect_context import EffectContext, Handled
from storage import audit as audit_log

Handler = Callable[["EffectContext", Any], Handled]  # Any: each handler takes its own effect type (see `_on`)


E = TypeVar("E", bound=Effect)


def _on(kind: type[E], handler: Callable[[EffectContext, E], Handled]) -> tuple[type[Any], Handler]:
    """One row of the table, its handler checked against its effect type (mypy cannot widen `type[E]` to the
    union's `type[Effect]`, hence `type[Any]`)."""
    return kind, handler


HANDLERS: dict[type[Effect], Handler] = dict(
    [
        _on(RecordConsent, members.record_consent),
        _on(SaveMember, members.save),
        _on(UpdateMember, members.update),
        _on(ProvePhone, members.prove_phone),
        _on(NikTyped, members.nik_typed),
        _on(SettleChats, members.settle_chats),
        _on(ClaimNik, members.claim),
        _on(AskOfficerAboutNik, members.ask_officer),
        _on(DeleteMember, members.delete),
        _on(RequestHelp, members.request_help),
        _on(SetOptOut, members.set_opt_out),
        _on(ViewedMembers, members.viewed),
        _on(RecordPayment, payments.record),
        _on(RecordVerifiedPayment, payments.record_verified),
        _on(AcceptInvitation, staff.accept_invitation),
        _on(UnbindSponsor, staff.unbind_sponsor),
        _on(AddStaff, staff.add),
        _on(ChangeStaff, staff.change),
        _on(SetPaused, staff.set_paused),
        _on(Refused, staff.refused),
        _on(RecordFollowUp, follow_ups.record),
        _on(StageImport, imports.on_stage),
        _on(DecideImport, imports.on_decide),
        _on(Exported, imports.on_exported),
        _on(StageBroadcast, broadcasts.on_stage),
        _on(DecideBroadcast, broadcasts.on_decide),
    ]
)


def apply(ctx: EffectContext, effect: Effect) -> list[Reply]:
    """Write one effect (if this chat may), audit it, and return anything more to say (an invitation code)."""
    audit, said = HANDLERS[type(effect)](ctx, effect)
    if audit is not None:
        action, subject_id, detail = audit
        subject = f"{_subject_kind(action)}:{subject_id}"
        audit_log.audit(
            session=ctx.session, actor=ctx.actor, action=action, subject=subject, detail=detail, now=ctx.now
        )
    ctx.readers.forget()
    return said


def apply_all(ctx: EffectContext, effects: Sequence[Effect]) -> list[Reply]:
    return [reply for effect in effects for reply in apply(ctx, effect)]


def _subject_kind(action: str) -> str:
    """What an audit entry is about: staff, sponsor and service actions name them, everything else a member."""
    kind = action.split(".", maxsplit=1)[0]
    named = kind in {"sponsor", "staff", "service", "admin", "broadcast", "chat"} or action == "officer.bind"
    return kind if named else "member"
