"""The scheduling solver: seats at the main venue (主场) and secondary venues (副场), and a random
draw of experts from each venue's regional pool under the committee rules. Secondary venues (and
so their pools) are only those of partners that may serve the host (domain.partners.may_serve:
a partner region only the centres it signed with), in the first plan, a re-plan and a seat move.

Pure: the caller passes the directory, offers and bookings (:class:`MarketView`), the experts,
their history and a seed; the answer is a :class:`Schedule` or an :class:`Infeasible` that names
the failed constraint in words and, when one exists, the nearest feasible alternative.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from services.remote_eval.domain.draw import (
    ALGORITHM_VERSION,
    Candidate,
    DrawInputs,
    DrawItem,
    DrawResult,
    DrawVenue,
    candidate_pool_sha256,
    inputs_sha256,
    run_draw,
)
from services.remote_eval.domain.model import (
    Assignment,
    EvaluationRequest,
    Expert,
    ExpertDirectory,
    ExpertHistory,
    MarketView,
    SchedulingPolicy,
    SeatOffer,
    Slot,
    Venue,
    VenueAllocation,
    VenueRole,
    slot_day_problem,
)
from services.remote_eval.domain.partners import (
    Partner,
    no_agreement_reason,
    owner_may_serve,
    unserved_note,
)
from services.remote_eval.domain.seat_plan import plan_seats


class FailedConstraint(StrEnum):
    COMMITTEE_COMPOSITION = "COMMITTEE_COMPOSITION"
    SEATS = "SEATS"
    EXPERT_AVAILABILITY = "EXPERT_AVAILABILITY"
    AVOIDANCE = "AVOIDANCE"
    REQUIRED_PARTNER = "REQUIRED_PARTNER"
    SUBSTITUTES_EXHAUSTED = "SUBSTITUTES_EXHAUSTED"
    TRADE_ENDED = "TRADE_ENDED"  # awarded or terminated before the request was decided


@dataclass(frozen=True)
class DrawRecord:
    """A draw as recorded for the draw proof: re-running ``inputs`` with ``seed_hex`` under
    ``algorithm_version`` gives ``expert_ids`` again."""

    seed_hex: str
    algorithm_version: str
    candidate_pool_sha256: str
    inputs_sha256: str
    inputs: DrawInputs
    expert_ids: tuple[str, ...]


@dataclass(frozen=True)
class Schedule:
    slot: Slot
    allocations: tuple[VenueAllocation, ...]
    assignments: tuple[Assignment, ...]
    draw: DrawRecord


@dataclass(frozen=True)
class Alternative:
    slot: Slot
    allocations: tuple[VenueAllocation, ...]
    description: str


@dataclass(frozen=True)
class Infeasible:
    constraint: FailedConstraint
    detail: str
    alternative: Alternative | None = None


@dataclass(frozen=True)
class Substitution:
    replaced_expert_id: str
    substitute: Assignment


@dataclass(frozen=True)
class Replan:
    """A re-plan after a partner declined: the new schedule and who replaces whom."""

    schedule: Schedule
    substitutions: tuple[Substitution, ...]


@dataclass(frozen=True)
class SchedulingContext:
    """What the solver decides against: seats, the pools, the experts' history, the policy, and
    the partners with their agreements (who may serve which host: domain.partners)."""

    market: MarketView
    experts: ExpertDirectory
    history: ExpertHistory
    policy: SchedulingPolicy
    # None: a world without agreements (the benchmark's, small test worlds), where any partner
    # serves any host. The scheduler always passes the reference partners.
    partners: Mapping[str, Partner] | None = None

    def may_serve(self, venue: Venue, host_code: str) -> bool:
        """Whether ``venue`` (its owner's seats and pool) may serve ``host_code``'s evaluation."""
        return owner_may_serve(self.partners, venue.owner_code, host_code)

    def unserved_note(self, venues: Iterable[Venue], host_code: str) -> str:
        """Names the venues' owners left out for lack of an agreement (refusals' wording)."""
        return unserved_note((v.owner_code for v in venues), host_code, self.partners)


def _unserved_with_experts(
    request: EvaluationRequest,
    slot: Slot,
    context: SchedulingContext,
    venues: Iterable[Venue],
    item: DrawItem,
) -> str:
    """For an expert shortage: the partners left out for lack of an agreement whose pools had
    eligible experts of the missing specialty (the ones a reader would ask about)."""
    left_out = {v.owner_code for v in venues if not context.may_serve(v, request.host_code)}
    if not left_out:
        return ""
    had_them = {
        e.pool_code
        for e in _screen(request, slot, left_out, context).eligible
        if e.kind is item.kind and item.specialty_code in e.specialties
    }
    return unserved_note(had_them, request.host_code, context.partners)


# ---------------------------------------------------------------------------------------------
# Committee composition (招标投标法 art. 37)


def composition_problems(request: EvaluationRequest) -> list[str]:
    problems: list[str] = []
    size = request.committee_size
    if size < 5:
        problems.append(f"the committee must have at least 5 members, not {size}")
    if size % 2 == 0:
        problems.append(f"the committee must have an odd number of members, not {size}")
    if not request.needs:
        problems.append("at least one specialty must be asked for")
    for need in request.needs:
        if need.count < 1:
            problems.append(f"specialty {need.specialty_code} asks for {need.count} experts")
    experts = request.expert_count
    if experts > size:
        problems.append(f"{experts} experts asked for do not fit a committee of {size}")
    elif experts * 3 < size * 2:
        problems.append(
            f"technical and economic experts must be at least two thirds of the committee: "
            f"{experts} of {size} is less (at least {-(-size * 2 // 3)} needed)"
        )
    if request.main_venue_experts is not None and not 0 <= request.main_venue_experts <= experts:
        problems.append(
            f"main-venue experts must be between 0 and {experts}, not {request.main_venue_experts}"
        )
    return problems


def main_venue_expert_count(request: EvaluationRequest, policy: SchedulingPolicy) -> int:
    if request.main_venue_experts is not None:
        return request.main_venue_experts
    return (request.expert_count * policy.main_venue_percent + 50) // 100


# ---------------------------------------------------------------------------------------------
# Screening: who may be drawn for a slot


@dataclass
class _Screen:
    """Experts of the relevant pools that fit a need, and why the others were left out."""

    eligible: list[Expert]
    fitting: Counter[tuple[str, str, str]]  # (pool, kind, specialty) -> experts fitting at all
    avoided: Counter[tuple[str, str, str]]
    unavailable: Counter[tuple[str, str, str]]  # inactive, unavailable, busy or drawn recently


def _screen(
    request: EvaluationRequest,
    slot: Slot,
    pools: set[str],
    context: SchedulingContext,
    *,
    with_reasons: bool = False,
) -> _Screen:
    """Who may be drawn; ``with_reasons`` also counts why the others may not (for refusals)."""
    history, window = context.history, context.policy.recent_draw_days
    needed = {(need.kind, need.specialty_code) for need in request.needs}
    avoided_units = request.avoided_unit_codes
    busy = history.busy.get(slot, frozenset())
    screen = _Screen([], Counter(), Counter(), Counter())
    no_keys: list[tuple[str, str, str]] = []
    for expert in context.experts.fitting(pools, sorted(needed)):
        # The reasons are counted only for a refusal's wording: screening runs for every
        # draw, and counting for nothing was most of its time.
        keys = (
            [
                (expert.pool_code, expert.kind.value, code)
                for code in expert.specialties
                if (expert.kind, code) in needed
            ]
            if with_reasons
            else no_keys
        )
        if with_reasons:
            screen.fitting.update(keys)
        if (
            not expert.active
            or slot in expert.unavailable
            or expert.expert_id in busy
            or history.drawn_recently(expert.expert_id, slot.day, window)
        ):
            if with_reasons:
                screen.unavailable.update(keys)
            continue
        if expert.employer_code in avoided_units:
            if with_reasons:
                screen.avoided.update(keys)
            continue
        screen.eligible.append(expert)
    return screen


def _seed_for(seed: bytes, purpose: str) -> bytes:
    return hashlib.sha256(seed + purpose.encode()).digest()


def _record(inputs: DrawInputs, seed: bytes, result: DrawResult) -> DrawRecord:
    pool_sha256 = candidate_pool_sha256(inputs.candidates)
    return DrawRecord(
        seed_hex=seed.hex(),
        algorithm_version=ALGORITHM_VERSION,
        candidate_pool_sha256=pool_sha256,
        inputs_sha256=inputs_sha256(inputs, pool_sha256),
        inputs=inputs,
        expert_ids=tuple(a.expert_id for a in result.assignments),
    )


def _shortage_answer(
    request: EvaluationRequest,
    slot: Slot,
    context: SchedulingContext,
    pools: Sequence[str],
    item: DrawItem,
) -> tuple[FailedConstraint, str]:
    policy = context.policy
    screen = _screen(request, slot, set(pools), context, with_reasons=True)
    keys = [(pool, item.kind.value, item.specialty_code) for pool in pools]
    fitting = sum(screen.fitting[k] for k in keys)
    avoided = sum(screen.avoided[k] for k in keys)
    unavailable = sum(screen.unavailable[k] for k in keys)
    needed = sum(
        n.count
        for n in request.needs
        if n.specialty_code == item.specialty_code and n.kind is item.kind
    )
    constraint = (
        FailedConstraint.AVOIDANCE
        if avoided and fitting - unavailable >= needed
        else FailedConstraint.EXPERT_AVAILABILITY
    )
    detail = (
        f"not enough {item.kind.value.lower()} experts of specialty {item.specialty_code} "
        f"(need {needed}) in the pools of {', '.join(pools) or 'no venue with seats left'}: "
        f"{fitting} fit, {unavailable} unavailable, on another committee in the slot or drawn "
        f"within {policy.recent_draw_days} days, {avoided} employed by an avoided unit (回避); "
        "at most one expert per employer"
    )
    return constraint, detail


def _secondary_order(
    request: EvaluationRequest, venues: Iterable[Venue], market: MarketView, slot: Slot
) -> list[Venue]:
    def rank(venue: Venue) -> tuple[int, int, int, str]:
        if venue.owner_code in request.required_partner_codes:
            group = 0
        elif venue.owner_code in request.preferred_partner_codes:
            group = 1
        else:
            group = 2
        # Most free seats first spreads the load, which keeps every venue able to host its
        # own main sessions; the fee breaks ties.
        return (
            group,
            -market.free_seats(venue.venue_id, slot),
            market.fee(venue.venue_id, slot),
            venue.venue_id,
        )

    return sorted(venues, key=rank)


# ---------------------------------------------------------------------------------------------
# Scheduling


def _plan(  # noqa: PLR0911 - one answer per failed rule
    request: EvaluationRequest,
    slot: Slot,
    context: SchedulingContext,
    seed: bytes,
    *,
    declined_venue_ids: frozenset[str],
    enforce_required: bool = True,
) -> Schedule | Infeasible:
    market, policy = context.market, context.policy
    main = market.venues.get(request.main_venue_id)
    if main is None:
        return Infeasible(
            FailedConstraint.SEATS, f"main venue {request.main_venue_id} is not in the directory"
        )
    main_experts = main_venue_expert_count(request, policy)
    secondary_experts = request.expert_count - main_experts
    main_seats = main_experts + request.representative_count
    main_free = market.free_seats(main.venue_id, slot)
    if main_free < main_seats:
        return Infeasible(
            FailedConstraint.SEATS,
            f"main venue {main.venue_id} has {main_free} free seats in {slot.describe()}, "
            f"{main_seats} needed ({main_experts} experts and "
            f"{request.representative_count} tenderer representatives)",
        )
    required = request.required_partner_codes if enforce_required else ()
    open_venues = [
        v
        for v in market.venues.values()
        # 副场 are partners' venues: the host's other rooms are not secondary venues. Of
        # those, only partners that may serve the host are offered (below).
        if v.owner_code != request.host_code
        and v.venue_id not in declined_venue_ids
        and market.free_seats(v.venue_id, slot) > 0
    ]
    secondary = _secondary_order(
        request, (v for v in open_venues if context.may_serve(v, request.host_code)), market, slot
    )
    required_venues: list[str] = []
    for partner in required:
        own = [v for v in secondary if v.owner_code == partner]
        if not own:
            return Infeasible(
                FailedConstraint.REQUIRED_PARTNER,
                f"required partner {partner} has no venue with free seats in {slot.describe()}"
                + (" (its venue declined)" if declined_venue_ids else ""),
            )
        required_venues.append(own[0].venue_id)
    if len(required_venues) > secondary_experts:
        return Infeasible(
            FailedConstraint.REQUIRED_PARTNER,
            f"{len(required_venues)} required partners but only {secondary_experts} experts "
            "sit at secondary venues under the main/secondary split",
        )
    secondary_free = sum(market.free_seats(v.venue_id, slot) for v in secondary)
    if secondary_free < secondary_experts:
        return Infeasible(
            FailedConstraint.SEATS,
            f"{secondary_experts} secondary-venue seats needed in {slot.describe()}, partner "
            f"venues offer {secondary_free} free"
            # Partners with seats but no agreement with the host: why "no seats" when there are.
            + context.unserved_note(open_venues, request.host_code),
        )

    # Draw first from a short list (required venues and the best-ranked ones, with room to
    # spare): fewer pools to screen. Only if that falls short, from every venue with seats.
    # Seats a venue's own host may still need for its main sessions are kept back (trunk
    # reservation) as long as the other venues can take the secondary experts.
    def short_list(kept_back: int) -> list[Venue]:
        chosen: list[Venue] = []
        room = 0
        for venue in secondary:
            free = market.free_seats(venue.venue_id, slot) - kept_back
            if free <= 0 and venue.venue_id not in required_venues:
                continue
            if venue.venue_id in required_venues or room < 2 * secondary_experts or len(chosen) < 3:
                chosen.append(venue)
                room += max(0, free)
        return chosen

    reserve = policy.host_reserve_seats
    reserved_room = sum(max(0, market.free_seats(v.venue_id, slot) - reserve) for v in secondary)
    attempts: list[tuple[list[Venue], int]] = []
    if reserve and reserved_room >= secondary_experts:
        attempts.append((short_list(reserve), reserve))
    attempts += [(short_list(0), 0), (secondary, 0)]
    for venues, kept_back in attempts:
        draw_venues = (
            DrawVenue(main.venue_id, main.owner_code, VenueRole.MAIN, main_experts),
            *(
                DrawVenue(
                    v.venue_id,
                    v.owner_code,
                    VenueRole.SECONDARY,
                    market.free_seats(v.venue_id, slot) - kept_back,
                )
                for v in venues
                if market.free_seats(v.venue_id, slot) > kept_back
                or (kept_back == 0 and v.venue_id in required_venues)
            ),
        )
        pools = {v.pool_code for v in draw_venues}
        screen = _screen(request, slot, pools, context)
        inputs = DrawInputs(
            items=tuple(
                DrawItem(need.specialty_code, need.kind)
                for need in request.needs
                for _ in range(need.count)
            ),
            venues=draw_venues,
            main_quota=main_experts,
            secondary_quota=secondary_experts,
            candidates=tuple(
                sorted((Candidate.of(e) for e in screen.eligible), key=lambda c: c.expert_id)
            ),
            required_venue_ids=tuple(required_venues),
        )
        result = run_draw(inputs, seed)
        if isinstance(result, DrawResult):
            break
    if not isinstance(result, DrawResult):
        shortage_pools = sorted(
            {v.pool_code for v in draw_venues if v.venue_id in result.venue_ids}
        )
        constraint, detail = _shortage_answer(request, slot, context, shortage_pools, result.item)
        note = _unserved_with_experts(request, slot, context, open_venues, result.item)
        return Infeasible(constraint, detail + note)
    placed = {a.venue_id for a in result.assignments}
    missing = [v for v in required_venues if v not in placed]
    if missing:
        return Infeasible(
            FailedConstraint.REQUIRED_PARTNER,
            f"no eligible expert of the needed specialties in the pools of required venue(s) "
            f"{', '.join(missing)}",
        )
    allocations = tuple(
        VenueAllocation(
            venue_id,
            market.venues[venue_id].owner_code,
            VenueRole.MAIN if venue_id == main.venue_id else VenueRole.SECONDARY,
            seats + (request.representative_count if venue_id == main.venue_id else 0),
        )
        for venue_id, seats in result.seats_by_venue
    )
    if main.venue_id not in placed:  # representatives still sit at the main venue
        allocations = (
            VenueAllocation(
                main.venue_id, main.owner_code, VenueRole.MAIN, request.representative_count
            ),
            *allocations,
        )
    return Schedule(slot, allocations, result.assignments, _record(inputs, seed, result))


def _required_without_agreement(
    request: EvaluationRequest, context: SchedulingContext
) -> Infeasible | None:
    """A required partner that may not serve the host. The API refuses such a request; one on
    the log from before (or written past the API) is refused here, in the same words, with the
    other partners' venues as the alternative (a later slot would not change the agreement)."""
    if context.partners is None:
        return None
    for partner in request.required_partner_codes:
        if not owner_may_serve(context.partners, partner, request.host_code):
            return Infeasible(
                FailedConstraint.REQUIRED_PARTNER,
                f"required partner {partner} may not serve this evaluation: "
                + no_agreement_reason(partner, request.host_code, context.partners),
            )
    return None


def _nearest_alternative(
    request: EvaluationRequest,
    failure: Infeasible,
    context: SchedulingContext,
    seed: bytes,
    declined_venue_ids: frozenset[str],
) -> Alternative | None:
    if failure.constraint is FailedConstraint.COMMITTEE_COMPOSITION:
        return None
    probe_seed = _seed_for(seed, "alternative")
    if failure.constraint is FailedConstraint.REQUIRED_PARTNER:
        relaxed = _plan(
            request,
            request.slot,
            context,
            probe_seed,
            declined_venue_ids=declined_venue_ids,
            enforce_required=False,
        )
        if isinstance(relaxed, Schedule):
            venues = ", ".join(a.venue_id for a in relaxed.allocations)
            return Alternative(
                relaxed.slot,
                relaxed.allocations,
                f"same slot {relaxed.slot.describe()} with other partners' venues ({venues}) "
                f"instead of required partner(s) {', '.join(request.required_partner_codes)}",
            )
    for step in range(1, context.policy.alternative_horizon_half_days + 1):
        slot = request.slot.shifted(step)
        attempt = _plan(request, slot, context, probe_seed, declined_venue_ids=declined_venue_ids)
        if isinstance(attempt, Schedule):
            venues = ", ".join(a.venue_id for a in attempt.allocations)
            return Alternative(
                slot,
                attempt.allocations,
                f"{step} half-day(s) later, {slot.describe()}, at venues {venues}",
            )
    return None


def schedule(
    request: EvaluationRequest,
    context: SchedulingContext,
    seed: bytes,
    declined_venue_ids: frozenset[str] = frozenset(),
) -> Schedule | Infeasible:
    """Seats and a random draw for the request, or why not and the nearest alternative."""
    problems = composition_problems(request)
    if problems:
        return Infeasible(FailedConstraint.COMMITTEE_COMPOSITION, "; ".join(problems))
    out_of_range = slot_day_problem(request.slot.day)
    if out_of_range is not None:  # no venue offers seats outside the days scheduled
        return Infeasible(FailedConstraint.SEATS, out_of_range)
    outcome = _required_without_agreement(request, context) or _plan(
        request, request.slot, context, seed, declined_venue_ids=declined_venue_ids
    )
    if isinstance(outcome, Schedule):
        return outcome
    alternative = _nearest_alternative(request, outcome, context, seed, declined_venue_ids)
    return Infeasible(outcome.constraint, outcome.detail, alternative)


# ---------------------------------------------------------------------------------------------
# A batch of requests pending together


@dataclass(frozen=True)
class PendingRequest:
    """A request waiting to be scheduled and the seed of its draw (from its event id)."""

    request: EvaluationRequest
    seed: bytes


def _booked(market: MarketView, slot: Slot, allocations: Iterable[VenueAllocation]) -> MarketView:
    booked = dict(market.booked)
    for allocation in allocations:
        key = (allocation.venue_id, slot)
        booked[key] = booked.get(key, 0) + allocation.seats
    return MarketView(market.venues, market.offers, booked)


def _busy(history: ExpertHistory, schedule_: Schedule) -> ExpertHistory:
    busy = dict(history.busy)
    drawn = {a.expert_id for a in schedule_.assignments}
    busy[schedule_.slot] = busy.get(schedule_.slot, frozenset()) | drawn
    draw_days = dict(history.draw_days)
    for expert_id in drawn:
        draw_days[expert_id] = (*draw_days.get(expert_id, ()), schedule_.slot.day)
    return ExpertHistory(busy, draw_days)


def schedule_batch(
    pending: Sequence[PendingRequest], context: SchedulingContext
) -> list[tuple[EvaluationRequest, Schedule | Infeasible]]:
    """Schedules requests pending together: per slot, first which requests get seats and how
    many at each venue (:func:`seat_plan.plan_seats`, most seats filled), then each request's
    draw, in the order given, inside its planned seats. A request whose planned draw falls
    short (not enough eligible experts at a planned venue), or that the plan leaves out, is
    scheduled on its own afterwards against the seats still free, which also gives a refusal its
    reason and nearest alternative. The answers come in the order they were decided (planned
    ones first, each in the order given): each schedule holds against the seats and experts
    left by the ones before it. Each draw is recorded with its own inputs and seed, so its proof
    re-runs it alone."""
    market, history = context.market, context.history
    policy = context.policy
    valid = [
        p.request
        for p in pending
        if not composition_problems(p.request) and slot_day_problem(p.request.slot.day) is None
    ]
    main_experts = {r.evaluation_id: main_venue_expert_count(r, policy) for r in valid}
    plans: dict[str, dict[str, int]] = {}
    for slot in sorted({r.slot for r in valid}):
        plans.update(plan_seats(valid, slot, market, main_experts, partners=context.partners))
    planning_policy = replace(policy, host_reserve_seats=0)
    decided: dict[int, Schedule | Infeasible] = {}  # insertion order: the order of decision
    # First the planned draws, so that nothing scheduled on its own takes their seats ...
    for index, item in enumerate(pending):
        request = item.request
        plan = plans.get(request.evaluation_id)
        if plan is None or any(
            seats > market.free_seats(venue_id, request.slot) for venue_id, seats in plan.items()
        ):
            continue
        offers = {
            (venue_id, request.slot): SeatOffer(
                venue_id, request.slot, seats, market.fee(venue_id, request.slot)
            )
            for venue_id, seats in plan.items()
        }
        planned = replace(
            context,
            market=MarketView(market.venues, offers),
            history=history,
            policy=planning_policy,
        )
        attempt = _plan(request, request.slot, planned, item.seed, declined_venue_ids=frozenset())
        if isinstance(attempt, Schedule):
            decided[index] = attempt
            market = _booked(market, attempt.slot, attempt.allocations)
            history = _busy(history, attempt)
    # ... then the others, each on its own against the seats left.
    for index, item in enumerate(pending):
        if index in decided:
            continue
        outcome = schedule(
            item.request, replace(context, market=market, history=history), item.seed
        )
        decided[index] = outcome
        if isinstance(outcome, Schedule):
            market = _booked(market, outcome.slot, outcome.allocations)
            history = _busy(history, outcome)
    return [(pending[index].request, outcome) for index, outcome in decided.items()]


# ---------------------------------------------------------------------------------------------
# Re-plan after a partner declines, and substitutes (补抽)


def _pair(moved: Sequence[Assignment], drawn: Sequence[Assignment]) -> tuple[Substitution, ...]:
    left = list(drawn)
    pairs: list[Substitution] = []
    for old in moved:
        match = next(
            a for a in left if a.specialty_code == old.specialty_code and a.kind is old.kind
        )
        left.remove(match)
        pairs.append(Substitution(old.expert_id, match))
    return tuple(pairs)


def replan_after_decline(
    request: EvaluationRequest,
    current: Schedule,
    context: SchedulingContext,
    seed: bytes,
    *,
    declined_venue_ids: frozenset[str],
    involved_expert_ids: frozenset[str],
) -> Replan | Infeasible:
    """Move the seats and experts of declined venues to other partners' venues.

    ``market`` must not count this evaluation's own bookings; experts staying keep their seats.
    """
    market = context.market
    declined_owners = {
        market.venues[v].owner_code for v in declined_venue_ids if v in market.venues
    }
    for partner in request.required_partner_codes:
        if partner in declined_owners:
            return Infeasible(
                FailedConstraint.REQUIRED_PARTNER,
                f"required partner {partner} declined its venue for {current.slot.describe()}",
            )
    moved = [a for a in current.assignments if a.venue_id in declined_venue_ids]
    if not moved:
        return Replan(current, ())
    return _move_to_other_partners(
        request,
        current,
        context,
        seed,
        moved=moved,
        closed_venue_ids=declined_venue_ids,
        involved_expert_ids=involved_expert_ids,
        why=f"from declined venue(s) {', '.join(sorted(declined_venue_ids))}",
    )


def _move_to_other_partners(
    request: EvaluationRequest,
    current: Schedule,
    context: SchedulingContext,
    seed: bytes,
    *,
    moved: Sequence[Assignment],
    closed_venue_ids: frozenset[str],
    involved_expert_ids: frozenset[str],
    why: str,
) -> Replan | Infeasible:
    """Draws new experts for the ``moved`` seats at other partners' venues (never the host's,
    never a closed venue, never one of a partner without an agreement with the host), under the
    draw's usual rules; the other experts keep their seats."""
    slot, market = current.slot, context.market
    moved_ids = {a.expert_id for a in moved}
    staying = [a for a in current.assignments if a.expert_id not in moved_ids]
    staying_seats = Counter(a.venue_id for a in staying)
    open_venues = [
        v
        for v in market.venues.values()
        if v.owner_code != request.host_code
        and v.venue_id not in closed_venue_ids
        and market.free_seats(v.venue_id, slot) - staying_seats[v.venue_id] > 0
    ]
    secondary = _secondary_order(
        request, (v for v in open_venues if context.may_serve(v, request.host_code)), market, slot
    )
    draw_venues = tuple(
        DrawVenue(
            v.venue_id,
            v.owner_code,
            VenueRole.SECONDARY,
            market.free_seats(v.venue_id, slot) - staying_seats[v.venue_id],
        )
        for v in secondary
    )
    if sum(v.max_seats for v in draw_venues) < len(moved):
        return Infeasible(
            FailedConstraint.SEATS,
            f"{len(moved)} seat(s) to move {why}; other partners offer "
            f"{sum(v.max_seats for v in draw_venues)} free in {slot.describe()}"
            + context.unserved_note(open_venues, request.host_code),
        )
    pools = {v.pool_code for v in draw_venues}
    screen = _screen(request, slot, pools, context)
    inputs = DrawInputs(
        items=tuple(DrawItem(a.specialty_code, a.kind) for a in moved),
        venues=draw_venues,
        main_quota=0,
        secondary_quota=len(moved),
        candidates=tuple(
            sorted(
                (
                    Candidate.of(e)
                    for e in screen.eligible
                    if e.expert_id not in involved_expert_ids
                ),
                key=lambda c: c.expert_id,
            )
        ),
        excluded_expert_ids=tuple(sorted(involved_expert_ids)),
        committee_employer_codes=tuple(sorted({a.employer_code for a in staying})),
    )
    result = run_draw(inputs, seed)
    if not isinstance(result, DrawResult):
        constraint, detail = _shortage_answer(request, slot, context, sorted(pools), result.item)
        note = _unserved_with_experts(request, slot, context, open_venues, result.item)
        return Infeasible(constraint, f"moving {len(moved)} seat(s) {why}: {detail}{note}")
    # A moved expert's seat goes with them; a partner venue left with no seat drops out (the
    # main venue stays: the representatives sit there).
    seats = Counter({a.venue_id: a.seats for a in current.allocations})
    seats.subtract(a.venue_id for a in moved)
    for venue_id in [v for v, n in seats.items() if n <= 0 and v != request.main_venue_id]:
        del seats[venue_id]
    for venue_id, count in result.seats_by_venue:
        seats[venue_id] += count
    allocations = tuple(
        VenueAllocation(
            venue_id,
            market.venues[venue_id].owner_code,
            VenueRole.MAIN if venue_id == request.main_venue_id else VenueRole.SECONDARY,
            count,
        )
        for venue_id, count in seats.items()
    )
    new_schedule = Schedule(
        slot, allocations, (*staying, *result.assignments), _record(inputs, seed, result)
    )
    return Replan(new_schedule, _pair(moved, result.assignments))


def draw_substitute(
    request: EvaluationRequest,
    current: Schedule,
    context: SchedulingContext,
    seed: bytes,
    *,
    replaced_expert_id: str,
    involved_expert_ids: frozenset[str],
    replaced_pseudonym: str = "",
    declined_venue_ids: frozenset[str] = frozenset(),
) -> tuple[Schedule, Substitution] | Infeasible:
    """补抽: a substitute of the same specialty and kind for the same seat, under the same rules.

    When the seat's partner has nobody left to send (or, for a seat given before agreements
    were kept, may not serve the host), the seat moves: a substitute is drawn at another
    partner's venue that may serve the host, as when a venue declines (the main venue's seats
    never move, nor a required partner's last one). So does a seat at a venue its partner
    declined (``declined_venue_ids``: a re-plan that found no other venue left its experts
    there): nobody new is seated at a declined venue, and no seat moves to one.

    A refusal names the replaced expert by ``replaced_pseudonym`` (the evaluation's), never by
    the registry id: the refusal reaches the host and SchedulingFailed before the award, and
    a pool owner can map its registry ids to names. Without a pseudonym, by seat."""
    replaced = next((a for a in current.assignments if a.expert_id == replaced_expert_id), None)
    if replaced is None:
        return Infeasible(
            FailedConstraint.SUBSTITUTES_EXHAUSTED,
            f"expert {replaced_pseudonym or '(replaced)'} is not on the committee",
        )
    named = replaced_pseudonym or (
        f"the {replaced.kind.value.lower()} expert of specialty {replaced.specialty_code}"
    )
    market = context.market
    venue = market.venues[replaced.venue_id]
    staying = [a for a in current.assignments if a.expert_id != replaced_expert_id]
    role = VenueRole.MAIN if venue.venue_id == request.main_venue_id else VenueRole.SECONDARY
    owners_venues = frozenset(
        v.venue_id for v in market.venues.values() if v.owner_code == venue.owner_code
    )
    # A seat that cannot be drawn where it is moves (_seat_moved): at a venue that declined, or
    # at one whose partner may not serve the host — a seat given before the agreements were
    # kept (an evaluation scheduled earlier): its partner's pool is not drawn from again.
    moving: tuple[str, frozenset[str], str] | None = None
    if venue.venue_id in declined_venue_ids:
        moving = (
            "its partner declined it",
            declined_venue_ids,
            f"from venue {replaced.venue_id}, which its partner declined",
        )
    elif (
        role is VenueRole.SECONDARY
        and context.partners is not None
        and not context.may_serve(venue, request.host_code)
    ):
        moving = (
            no_agreement_reason(venue.owner_code, request.host_code, context.partners),
            # The partner's other venues draw from the same pool.
            owners_venues | declined_venue_ids,
            f"from venue {replaced.venue_id}, whose partner has no substitute",
        )
    if moving is not None:
        reason, closed_venue_ids, why = moving
        unplaced = Infeasible(
            FailedConstraint.SUBSTITUTES_EXHAUSTED,
            f"no substitute for {named} at venue {venue.venue_id}: {reason}",
        )
        return _seat_moved(
            request,
            current,
            context,
            seed,
            replaced,
            involved_expert_ids,
            unplaced,
            closed_venue_ids=closed_venue_ids,
            why=why,
        )
    screen = _screen(request, current.slot, {venue.owner_code}, context)
    inputs = DrawInputs(
        items=(DrawItem(replaced.specialty_code, replaced.kind),),
        venues=(DrawVenue(venue.venue_id, venue.owner_code, role, 1),),
        main_quota=1 if role is VenueRole.MAIN else 0,
        secondary_quota=0 if role is VenueRole.MAIN else 1,
        candidates=tuple(
            sorted(
                (
                    Candidate.of(e)
                    for e in screen.eligible
                    if e.expert_id not in involved_expert_ids
                ),
                key=lambda c: c.expert_id,
            )
        ),
        excluded_expert_ids=tuple(sorted(involved_expert_ids)),
        committee_employer_codes=tuple(sorted({a.employer_code for a in staying})),
    )
    result = run_draw(inputs, seed)
    if not isinstance(result, DrawResult):
        _, detail = _shortage_answer(
            request, current.slot, context, [venue.owner_code], result.item
        )
        exhausted = Infeasible(
            FailedConstraint.SUBSTITUTES_EXHAUSTED,
            f"no substitute for {named} at venue {venue.venue_id}: {detail}",
        )
        return _seat_moved(
            request,
            current,
            context,
            seed,
            replaced,
            involved_expert_ids,
            exhausted,
            # The partner's other venues draw from the same exhausted pool.
            closed_venue_ids=owners_venues | declined_venue_ids,
            why=f"from venue {replaced.venue_id}, whose partner has no substitute",
        )
    substitute = result.assignments[0]
    new_schedule = Schedule(
        current.slot, current.allocations, (*staying, substitute), _record(inputs, seed, result)
    )
    return new_schedule, Substitution(replaced_expert_id, substitute)


def _seat_moved(  # noqa: PLR0917
    request: EvaluationRequest,
    current: Schedule,
    context: SchedulingContext,
    seed: bytes,
    replaced: Assignment,
    involved_expert_ids: frozenset[str],
    exhausted: Infeasible,
    *,
    closed_venue_ids: frozenset[str],
    why: str,
) -> tuple[Schedule, Substitution] | Infeasible:
    """The replaced expert's seat moved to another partner's venue (none of
    ``closed_venue_ids``), with a substitute drawn there; ``exhausted`` when it cannot move."""
    owner = context.market.venues[replaced.venue_id].owner_code
    others_there = [
        a
        for a in current.assignments
        if a.venue_id == replaced.venue_id and a.expert_id != replaced.expert_id
    ]
    if replaced.venue_id == request.main_venue_id or (
        owner in request.required_partner_codes and not others_there
    ):
        return exhausted
    moved = _move_to_other_partners(
        request,
        current,
        context,
        _seed_for(seed, "seat moved"),
        moved=(replaced,),
        closed_venue_ids=closed_venue_ids,
        involved_expert_ids=involved_expert_ids,
        why=why,
    )
    if isinstance(moved, Infeasible):
        return Infeasible(exhausted.constraint, f"{exhausted.detail}; {moved.detail}")
    return moved.schedule, moved.substitutions[0]


def rerun_draw(record: DrawRecord) -> tuple[str, ...]:
    """The draw proof: the experts the recorded inputs and seed give, in draw order."""
    result = run_draw(record.inputs, bytes.fromhex(record.seed_hex))
    if not isinstance(result, DrawResult):
        return ()
    return tuple(a.expert_id for a in result.assignments)
