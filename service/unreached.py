"""The unreached members of an area, as the one definition in `domain.unreached` decides them over the database."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlmodel import Session

from domain.policy import ReminderPolicy, cycle_key
from domain.rules import ContributionMonth, open_cycles
from domain.tariffs import Tariffs, member_cost
from domain.unreached import Cycle, Unreached, handled, reason_for
from storage import unreached as storage


def unreached(
    *, session: Session, codes: list[str] | None, today: date, policy: ReminderPolicy, tariffs: Tariffs
) -> list[Unreached]:
    """The area's (None: everyone's) unreached members, most urgent first (fewest days before lapse), then by desa
    and name."""
    earliest, latest = open_cycles(today, due_day=policy.due_day, lapse_after=policy.lapse_after)
    known = storage.facts(
        session=session,
        codes=codes,
        covered_from=earliest.plus(-1).last_day,
        covered_to=latest.plus(-1).last_day,
        first_cycle=cycle_key(earliest),
        since=datetime.combine(earliest.plus(-1).first_day, time(0), tzinfo=UTC),
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
