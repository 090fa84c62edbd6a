"""Seat planning for a batch of requests for the same half-day slot.

Scheduling requests one at a time, in arrival order, strands seats: an early request spreads its
secondary experts over venues a later request needed for its main session, and a large committee
arriving last finds no room although smaller ones could have moved. When several requests for a
slot are pending together, this module decides first *which* of them get seats and *how many at
each venue*, maximising the seats filled (committee members seated), and only then are the
experts drawn, request by request, inside the seats planned for each.

The model is the one the benchmark's exact optimum uses: a request is seated whole or not at all;
its main-venue seats (main-venue experts and the tenderer's representatives) are fixed at its
main venue; its secondary experts may sit at any partner venue with free seats that may serve
the host (not the host's own, nor a partner region's without an agreement with the host:
domain.partners), at least one at each required partner's venue. Whether a set of requests fits is
a transport problem, answered exactly by augmenting paths. Which set: largest committees first
(fewest usable venues first among equals), then a local search that swaps a seated request for
one or two unseated ones while that fills more seats.

Pure and deterministic: the same requests and market give the same plan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from services.remote_eval.domain.model import (
    EvaluationRequest,
    MarketView,
    Slot,
)
from services.remote_eval.domain.partners import Partner, owner_may_serve

# Local-search rounds are bounded so that a large batch cannot stall the scheduler; each round
# that changes the plan fills strictly more seats, so the bound is rarely reached.
MAX_IMPROVEMENT_ROUNDS = 50


@dataclass(frozen=True)
class _Demand:
    request: EvaluationRequest
    main_seats: int
    secondary: int
    usable: tuple[str, ...]  # partner venues with free seats, best first
    preferred: frozenset[str]  # of those, the preferred or required partners' venues
    required: tuple[tuple[str, ...], ...]  # per required partner: that partner's usable venues

    @property
    def seats(self) -> int:
        return self.main_seats + self.secondary


def _demand(
    request: EvaluationRequest,
    slot: Slot,
    market: MarketView,
    main_experts: int,
    *,
    declined_venue_ids: frozenset[str],
    partners: Mapping[str, Partner] | None,
) -> _Demand:
    usable = [
        v
        for v in sorted(market.venues.values(), key=lambda v: v.venue_id)
        if v.owner_code != request.host_code
        and v.venue_id not in declined_venue_ids
        and market.free_seats(v.venue_id, slot) > 0
        and owner_may_serve(partners, v.owner_code, request.host_code)
    ]
    preferred = set(request.preferred_partner_codes) | set(request.required_partner_codes)
    usable.sort(key=lambda v: (v.owner_code not in preferred, v.venue_id))
    required = tuple(
        tuple(v.venue_id for v in usable if v.owner_code == partner)
        for partner in request.required_partner_codes
    )
    return _Demand(
        request,
        main_experts + request.representative_count,
        request.expert_count - main_experts,
        tuple(v.venue_id for v in usable),
        frozenset(v.venue_id for v in usable if v.owner_code in preferred),
        required,
    )


class _Fit:
    """Seats per venue of a set of requests, built by augmenting paths (exact feasibility)."""

    def __init__(self, capacity: dict[str, int]) -> None:
        self.residual = dict(capacity)
        self.seats: dict[str, dict[str, int]] = {}  # evaluation id -> venue id -> seats

    def copy(self) -> _Fit:
        other = _Fit({})
        other.residual = dict(self.residual)
        other.seats = {k: dict(v) for k, v in self.seats.items()}
        return other

    def add(self, demand: _Demand, demands: dict[str, _Demand]) -> bool:
        """Seats ``demand`` (moving others' secondary seats if need be); False if impossible."""
        request = demand.request
        main = request.main_venue_id
        while self.residual.get(main, 0) < demand.main_seats:
            if not self._augment(None, (main,), demands):
                return False  # no secondary seat at the main venue can move elsewhere
        self.residual[main] -= demand.main_seats
        own = self.seats.setdefault(request.evaluation_id, {})
        own[main] = own.get(main, 0) + demand.main_seats
        left = demand.secondary
        for venues in demand.required:
            if left == 0 or not self._augment(request.evaluation_id, venues, demands):
                return False
            left -= 1
        for _ in range(left):
            if not self._augment(request.evaluation_id, demand.usable, demands):
                return False
        return True

    def _augment(
        self, claimant: str | None, targets: Sequence[str], demands: dict[str, _Demand]
    ) -> bool:
        """One more secondary seat for ``claimant`` at one of ``targets`` (or, with no
        claimant, one seat freed at the single target): breadth-first over venues, moving other
        requests' secondary seats to venues they may also use until one with room is reached."""
        parent: dict[str, tuple[str, str] | None] = {}  # venue -> (previous venue, mover) | None
        queue: list[str] = []
        # Preferred venues first (targets come in that order), then the emptiest: spreading the
        # experts over more pools leaves more of each pool for later draws.
        preferred = set(targets[:1]) if claimant is None else self._preferred(claimant, demands)
        ranked = sorted(targets, key=lambda v: (v not in preferred, -self.residual.get(v, 0), v))
        for venue_id in ranked:
            if venue_id not in parent:
                parent[venue_id] = None
                queue.append(venue_id)
        head = 0
        while head < len(queue):
            venue_id = queue[head]
            head += 1
            if self.residual.get(venue_id, 0) > 0 and (claimant is not None or head > 1):
                self._apply(claimant, venue_id, parent)
                return True
            for mover, seats in self.seats.items():
                demand = demands[mover]
                if venue_id == demand.request.main_venue_id:
                    continue  # main-venue seats stay at the main venue
                movable = seats.get(venue_id, 0) - sum(1 for r in demand.required if venue_id in r)
                if movable <= 0:
                    continue
                for other in demand.usable:
                    if other not in parent:
                        parent[other] = (venue_id, mover)
                        queue.append(other)
        return False

    def _preferred(self, claimant: str, demands: dict[str, _Demand]) -> set[str]:
        return set(demands[claimant].preferred)

    def _apply(
        self, claimant: str | None, end: str, parent: dict[str, tuple[str, str] | None]
    ) -> None:
        self.residual[end] -= 1
        venue_id = end
        step = parent[venue_id]
        while step is not None:
            previous, mover = step
            seats = self.seats[mover]
            seats[venue_id] = seats.get(venue_id, 0) + 1
            seats[previous] -= 1
            venue_id = previous
            step = parent[venue_id]
        if claimant is None:
            self.residual[venue_id] += 1
        else:
            own = self.seats.setdefault(claimant, {})
            own[venue_id] = own.get(venue_id, 0) + 1


def _fit(
    chosen: Sequence[str], demands: dict[str, _Demand], capacity: dict[str, int]
) -> _Fit | None:
    fit = _Fit(capacity)
    for evaluation_id in chosen:
        if not fit.add(demands[evaluation_id], demands):
            return None
    return fit


def plan_seats(
    requests: Sequence[EvaluationRequest],
    slot: Slot,
    market: MarketView,
    main_experts: dict[str, int],
    *,
    declined_venue_ids: frozenset[str] = frozenset(),
    partners: Mapping[str, Partner] | None = None,
) -> dict[str, dict[str, int]]:
    """Seats per venue for the requests of ``slot`` that can be seated together (evaluation id ->
    venue id -> seats, the main venue's including the representatives); requests left out are
    absent. ``main_experts``: each request's main-venue expert count under the policy;
    ``partners``: who may serve which host (None: any partner serves any host)."""
    demands = {
        r.evaluation_id: _demand(
            r,
            slot,
            market,
            main_experts[r.evaluation_id],
            declined_venue_ids=declined_venue_ids,
            partners=partners,
        )
        for r in requests
        if r.slot == slot
    }
    capacity = {venue_id: market.free_seats(venue_id, slot) for venue_id in market.venues}
    order = sorted(
        demands.values(),
        key=lambda d: (-d.seats, len(d.usable), d.request.evaluation_id),
    )
    fit = _Fit(capacity)
    chosen: list[str] = []
    for demand in order:
        attempt = fit.copy()
        if attempt.add(demand, demands):
            fit = attempt
            chosen.append(demand.request.evaluation_id)
    fit = _improve(chosen, order, demands, capacity, fit)
    return {k: {v: s for v, s in seats.items() if s > 0} for k, seats in fit.seats.items()}


def _improve(
    chosen: list[str],
    order: list[_Demand],
    demands: dict[str, _Demand],
    capacity: dict[str, int],
    fit: _Fit,
) -> _Fit:
    """Swap one seated request for one or two unseated ones while that fills more seats."""
    for _ in range(MAX_IMPROVEMENT_ROUNDS):
        left_out = [d for d in order if d.request.evaluation_id not in chosen]
        if not left_out:
            return fit
        better = _better_swap(chosen, left_out, demands, capacity)
        if better is None:
            return fit
        chosen, fit = better
    return fit


def _better_swap(
    chosen: list[str],
    left_out: list[_Demand],
    demands: dict[str, _Demand],
    capacity: dict[str, int],
) -> tuple[list[str], _Fit] | None:
    seated = sum(demands[c].seats for c in chosen)
    for drop in [None, *sorted(chosen, key=lambda c: (demands[c].seats, c))]:
        kept = [c for c in chosen if c != drop]
        base = _fit(kept, demands, capacity)
        if base is None:
            continue
        for first_index, first in enumerate(left_out):
            attempt = base.copy()
            if not attempt.add(first, demands):
                continue
            added = [first.request.evaluation_id]
            for second in left_out[first_index + 1 :]:
                extra = attempt.copy()
                if extra.add(second, demands):
                    attempt = extra
                    added.append(second.request.evaluation_id)
            total = sum(demands[c].seats for c in [*kept, *added])
            if total > seated:
                return [*kept, *added], attempt
    return None
