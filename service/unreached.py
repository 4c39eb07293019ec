"""The unreached members of an area, as the one definition in `domain.unreached` decides them over the database,
and `AreaLists`: those lists decided once for a run of digests and handed out per officer, as their lists show them."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from itertools import chain

from sqlmodel import Session

from bot.dialogs.core import UnreachedView
from bot.texts import short_date, t
from bot.texts.words import stage_words, status_words
from domain.identity import mask_nik
from domain.policy import ReminderPolicy, cycle_key
from domain.rules import ContributionMonth, open_cycles
from domain.tariffs import Tariffs, member_cost
from domain.unreached import Cycle, Unreached, handled, reason_for
from storage import unreached as storage
from storage.crypto import Cipher


def unreached(
    *,
    session: Session,
    codes: list[str] | None,
    today: date,
    policy: ReminderPolicy,
    tariffs: Tariffs,
    channels: Collection[str] | None = None,
) -> list[Unreached]:
    """The area's (None: everyone's) unreached members, most urgent first (fewest days before lapse), then by desa
    and name."""
    earliest, latest = open_cycles(
        today, due_day=policy.due_day, lapse_after=policy.lapse_after, workdays=policy.workdays
    )
    known = storage.facts(
        session=session,
        codes=codes,
        covered_from=earliest.plus(-1).last_day,
        covered_to=latest.plus(-1).last_day,
        first_cycle=cycle_key(earliest),
        since=datetime.combine(earliest.plus(-1).first_day, time(0), tzinfo=UTC),
        channels=channels,
    )
    cycles: dict[date | None, Cycle] = {}  # a few distinct months for a province: decided once each
    costs: dict[tuple[str, str, int, bool, ContributionMonth, int], int] = {}
    found = []
    for member in known.candidates:
        cycle = cycles.get(member.covered_until)
        if cycle is None:
            cycle = cycles[member.covered_until] = Cycle.of(member.covered_until, earliest, latest, today, policy)
        reason = reason_for(member, cycle, today)
        if reason is None or (member.followed_up and handled(known.follow_ups[member.id], cycle.key, today)):
            continue
        if member.billed:  # their office gets the statement: nothing for the officer to collect, no deadline to chase
            found.append(Unreached(member, reason, None, 0, 0, member.attempt))
            continue
        amount = 0
        if cycle.first_unpaid is not None and cycle.months:
            key = (
                member.occupation,
                member.payer,
                member.declared_income,
                member.with_jht,
                cycle.first_unpaid,
                cycle.months,
            )
            if (amount := costs.get(key, -1)) < 0:
                amount = costs[key] = member_cost(tariffs, member, cycle.first_unpaid, cycle.months)
        found.append(Unreached(member, reason, cycle.days_left, cycle.months, amount, member.attempt))
    found.sort(key=lambda u: (u.days_left is None, u.days_left or 0, u.member.desa_code, u.member.full_name))
    return found


_Attempt = tuple[str, date | None, str]  # (stage, day sent, status) of a member's last reminder


@dataclass(frozen=True, slots=True)
class AreaLists:
    """The unreached members of an area, decided once and handed out per officer: a run of digests decides for the
    whole service area in one pass instead of once per officer."""

    by_desa: dict[str, list[UnreachedView]]  # each desa's members, most urgent first
    desa_rank: dict[str, int]  # desa code -> the place of its most urgent member in the definition's order
    desa_of: dict[str, set[str]]  # kecamatan code -> its desa with someone on the list

    @classmethod
    def of(cls, listed: Sequence[Unreached], cipher: Cipher, *, new_since: date | None = None) -> AreaLists:
        """`listed` in the definition's order; `new_since`: when members not on the listing clock yet came on it."""
        by_desa: dict[str, list[UnreachedView]] = {}
        desa_rank: dict[str, int] = {}
        desa_of: dict[str, set[str]] = {}
        attempts: dict[_Attempt | None, str] = {}  # thousands share a (stage, day, status)
        for place, item in enumerate(listed):
            desa, attempt = item.member.desa_code, item.last_attempt
            key = (attempt.stage, attempt.sent_at and attempt.sent_at.date(), attempt.status) if attempt else None
            tried = attempts.get(key)
            if tried is None:
                tried = attempts[key] = _attempt_text(key)
            views = by_desa.get(desa)
            if views is None:  # the desa's most urgent member
                views = by_desa[desa] = []
                desa_rank[desa] = place
                desa_of.setdefault(desa.rsplit(".", 1)[0], set()).add(desa)
            views.append(_unreached_view(item, cipher, item.member.listed_since or new_since, tried))
        return cls(by_desa, desa_rank, desa_of)

    def for_codes(self, codes: Sequence[str]) -> list[UnreachedView]:
        """The share of an area given as desa and kecamatan codes, as the officer's list shows it: grouped by desa,
        the desa with the most urgent member first, most urgent first within each desa."""
        villages = set().union(*(self.desa_of.get(code, {code}) for code in codes))
        listed = sorted((desa for desa in villages if desa in self.by_desa), key=self.desa_rank.__getitem__)
        return list(chain.from_iterable(self.by_desa[desa] for desa in listed))

    def member_ids(self) -> set[int]:
        return {view.member_id for views in self.by_desa.values() for view in views}


def area_lists(
    session: Session,
    codes: Sequence[str] | None,
    today: date,
    *,
    policy: ReminderPolicy,
    tariffs: Tariffs,
    cipher: Cipher,
    channels: Collection[str] | None = None,
) -> AreaLists:
    """The unreached members of the area (None: everywhere), as the officers' lists show them. Everywhere is the
    daily run, which puts newcomers on the listing clock today."""
    codes_wanted = None if codes is None else list(codes)
    listed = unreached(
        session=session, codes=codes_wanted, today=today, policy=policy, tariffs=tariffs, channels=channels
    )
    return AreaLists.of(listed, cipher, new_since=today if codes is None else None)


def _attempt_text(attempt: _Attempt | None) -> str:
    """`pengingat 7 hari sebelum batas bayar, 8 Desember 2026 (sampai)` from (stage, day sent, status); empty when
    the bot never tried."""
    if attempt is None:
        return ""
    stage, day, status = attempt
    words = {"stage": stage_words(stage), "status": status_words(status)}
    return t("officer.attempt.dated", day=short_date(day), **words) if day else t("officer.attempt.undated", **words)


def _unreached_view(item: Unreached, cipher: Cipher, since: date | None, tried: str) -> UnreachedView:
    member = item.member
    return UnreachedView(
        member_id=member.id,
        name=member.full_name,
        desa_code=member.desa_code,
        phone=member.phone,
        masked_nik=_MaskedNik(cipher, member.nik_encrypted),
        reason=item.reason,
        days_left=item.days_left,
        months_due=item.months_due,
        amount_due=item.amount_due,
        last_attempt=tried,
        listed_since=since,
        covered_until=member.covered_until,
        chat_phone=member.whatsapp_chat,
        telegram_chat=member.telegram_chats > 0,
        waiting=member.waiting_chats,
    )


class _MaskedNik:
    """The masked NIK of a list line, decrypted once and only if the line is shown (lists run to thousands)."""

    __slots__ = ("_cipher", "_masked", "_sealed")

    def __init__(self, cipher: Cipher, sealed: str) -> None:
        self._cipher, self._sealed, self._masked = cipher, sealed, ""

    def __call__(self) -> str:
        if not self._masked:
            self._masked = mask_nik(self._cipher.decrypt(self._sealed))
        return self._masked
