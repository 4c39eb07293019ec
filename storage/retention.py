"""Retention (UU 27/2022: keep personal data no longer than needed). A daily job removes what is no longer used:
members who opted out or lapsed and have not changed for the retention period (with everything about them, as a
deletion from the chat would), idle conversations of chats nobody is linked to, old delivery attempts, import
batches (they hold NIKs) once done or abandoned, published files once expired, and then the chats themselves (a
WhatsApp address is a phone number) that wrote but never registered, with their conversation and consent records.
Audit entries stay: they hold no personal data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Delete, delete, exists, func, or_
from sqlmodel import Session, col, select

from storage import members as store
from storage.models import (
    Address,
    AuditEntry,
    Conversation,
    DeliveryAttempt,
    ImportBatch,
    MediaFile,
    Member,
    MemberAddress,
    Officer,
    Sponsor,
    SponsorChat,
)

# Import batches hold the spreadsheet's NIKs (sealed) and exist only between the preview and the end of applying:
# the admin answers a preview within minutes, and a done or cancelled batch is read by nobody. A day leaves room for
# a preview sent in the evening and answered the next morning; nothing needs them longer.
STAGED_FOR = timedelta(days=1)  # a preview nobody confirmed
FINISHED_FOR = timedelta(days=1)  # a done or cancelled import (a cancelled one still holds its rows)


@dataclass(slots=True)
class Purged:
    members: int = 0
    conversations: int = 0
    attempts: int = 0
    imports: int = 0
    media: int = 0
    addresses: int = 0


def purge(*, session: Session, now: datetime, keep: timedelta) -> Purged:
    cutoff = now - keep
    done = Purged()
    inactive = session.exec(
        select(col(Member.id)).where(
            or_(col(Member.opted_out), col(Member.lapsed_on).is_not(None)), col(Member.updated_at) < cutoff
        )
    ).all()
    for member_id in inactive:
        if member_id is not None:
            store.delete_member(session=session, member_id=member_id)
            session.add(AuditEntry(at=now, actor="system", action="member.purge", subject=f"member:{member_id}"))
            done.members += 1
    linked = exists().where(col(MemberAddress.address_id) == col(Conversation.address_id))
    staff = exists().where(col(Officer.address_id) == col(Conversation.address_id))
    idle = delete(Conversation).where(col(Conversation.updated_at) < cutoff, ~linked, ~staff)
    done.conversations = _deleted(session, idle)
    done.attempts = _deleted(session, delete(DeliveryAttempt).where(col(DeliveryAttempt.at) < cutoff))
    abandoned = (col(ImportBatch.status) == "staged") & (col(ImportBatch.created_at) < now - STAGED_FOR)
    finished = col(ImportBatch.status).in_(["done", "cancelled"]) & (col(ImportBatch.created_at) < now - FINISHED_FOR)
    done.imports = _deleted(session, delete(ImportBatch).where(or_(abandoned, finished)))
    # A published file lives as long as its link (`expires_at`, set when published); publishing the next one swept
    # the expired ones, so the last file of a quiet spell stayed until then.
    done.media = _deleted(session, delete(MediaFile).where(col(MediaFile.expires_at) <= now))
    done.addresses = _deleted(session, _unregistered(cutoff))
    return done


def _unregistered(cutoff: datetime) -> Delete:
    """Chats linked to no member, officer or office that have not written for the retention period (or never, since
    created): their conversation, consent records and anything else of theirs go with them (ON DELETE CASCADE)."""
    last_seen = func.coalesce(col(Address.last_inbound_at), col(Address.created_at))
    member = exists().where(col(MemberAddress.address_id) == col(Address.id))
    officer = exists().where(col(Officer.address_id) == col(Address.id))
    sponsor = exists().where(col(Sponsor.address_id) == col(Address.id))
    office = exists().where(col(SponsorChat.address_id) == col(Address.id))
    return delete(Address).where(last_seen < cutoff, ~member, ~officer, ~sponsor, ~office)


def _deleted(session: Session, statement: Delete) -> int:
    result = session.execute(statement.execution_options(preserve_rowcount=True))
    return max(getattr(result, "rowcount", 0) or 0, 0)
