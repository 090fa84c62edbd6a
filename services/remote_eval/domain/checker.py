"""An independent checker of a schedule against every committee and seat rule.

Written apart from the solver (it shares only the value types) so that the benchmark and the
tests can count violations without trusting the code that produced the schedule.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import timedelta

from services.remote_eval.domain.model import (
    Assignment,
    EvaluationRequest,
    Expert,
    ExpertHistory,
    MarketView,
    SchedulingPolicy,
    Slot,
    VenueAllocation,
    VenueRole,
)
from services.remote_eval.domain.partners import Partner, owner_may_serve


def check_schedule(  # noqa: PLR0912, PLR0915 - one branch per rule is the clearest form
    request: EvaluationRequest,
    slot: Slot,
    *,
    allocations: tuple[VenueAllocation, ...],
    assignments: tuple[Assignment, ...],
    experts: Mapping[str, Expert],
    history_before: ExpertHistory,
    market_before: MarketView,
    policy: SchedulingPolicy,
    partners: Mapping[str, Partner] | None = None,
) -> list[str]:
    """Every rule the schedule breaks, in words; empty when it is valid. ``partners``: who may
    serve which host (None: a world without agreements, where any partner serves any host)."""
    violations: list[str] = []
    size = request.committee_size
    if size < 5 or size % 2 == 0:
        violations.append(f"committee size {size} is not odd and at least 5")
    if 3 * len(assignments) < 2 * size:
        violations.append(f"{len(assignments)} experts are under two thirds of {size}")
    wanted = Counter({(n.specialty_code, n.kind): n.count for n in request.needs})
    got = Counter((a.specialty_code, a.kind) for a in assignments)
    if wanted != got:
        violations.append(f"specialty counts {dict(got)} differ from the request {dict(wanted)}")
    ids = [a.expert_id for a in assignments]
    if len(set(ids)) != len(ids):
        violations.append("an expert appears twice")
    employers = Counter(a.employer_code for a in assignments)
    for employer, count in employers.items():
        if count > 1:
            violations.append(f"{count} experts from employer {employer}")
    venue_owner = {v.venue_id: v.owner_code for v in market_before.venues.values()}
    for a in assignments:
        expert = experts.get(a.expert_id)
        if expert is None:
            violations.append(f"unknown expert {a.expert_id}")
            continue
        if expert.kind is not a.kind or a.specialty_code not in expert.specialties:
            violations.append(f"{a.expert_id} lacks {a.kind} / {a.specialty_code}")
        if expert.pool_code != venue_owner.get(a.venue_id):
            violations.append(f"{a.expert_id} of pool {expert.pool_code} sits at {a.venue_id}")
        if expert.employer_code in request.avoided_unit_codes:
            violations.append(f"{a.expert_id} works for avoided unit {expert.employer_code}")
        if not expert.active or slot in expert.unavailable:
            violations.append(f"{a.expert_id} is not available in {slot.key()}")
        if a.expert_id in history_before.busy.get(slot, frozenset()):
            violations.append(f"{a.expert_id} already sits on another committee in {slot.key()}")
        for drawn in history_before.draw_days.get(a.expert_id, ()):
            if abs(slot.day - drawn) < timedelta(days=policy.recent_draw_days):
                violations.append(f"{a.expert_id} was drawn on {drawn}, too recently")
    seats = {a.venue_id: a.seats for a in allocations}
    at_venue = Counter(a.venue_id for a in assignments)
    for venue_id, count in at_venue.items():
        if venue_id != request.main_venue_id and seats.get(venue_id, 0) != count:
            violations.append(f"{count} experts at {venue_id} but {seats.get(venue_id)} seats")
    main_seats = seats.get(request.main_venue_id, 0)
    if main_seats != at_venue[request.main_venue_id] + size - len(assignments):
        violations.append(f"main venue seats {main_seats} do not match experts + representatives")
    for allocation in allocations:
        free = market_before.free_seats(allocation.venue_id, slot)
        if allocation.seats > free:
            violations.append(f"{allocation.seats} seats at {allocation.venue_id}, {free} free")
        is_main = allocation.venue_id == request.main_venue_id
        if not is_main and venue_owner.get(allocation.venue_id) == request.host_code:
            violations.append(f"{allocation.venue_id} is the host's own, not a partner's venue")
        owner = venue_owner.get(allocation.venue_id, "")
        if not is_main and not owner_may_serve(partners, owner, request.host_code):
            violations.append(
                f"{allocation.venue_id} belongs to {owner}, which has no agreement with host "
                f"{request.host_code}"
            )
        if (allocation.role is VenueRole.MAIN) != is_main:
            violations.append(f"{allocation.venue_id} has the wrong role {allocation.role}")
    owners = {venue_owner.get(a.venue_id) for a in allocations if a.seats > 0}
    for partner in request.required_partner_codes:
        if partner not in owners:
            violations.append(f"required partner {partner} has no seats")
    if request.main_venue_experts is not None:
        expected_main = request.main_venue_experts
    else:
        expected_main = (len(assignments) * policy.main_venue_percent + 50) // 100
    if at_venue[request.main_venue_id] != expected_main:
        violations.append(
            f"{at_venue[request.main_venue_id]} experts at the main venue, split says "
            f"{expected_main}"
        )
    return violations
