"""Remote-evaluation scheduling benchmark: speed, rule violations, seat use against an optimum.

1. Schedule 1,000 requests across the 9 Yellow River cities with 5,000 experts, two ways:
   online, one after the other in arrival order (each schedule books seats and makes its
   experts busy), and as one pending batch (``schedule_batch``: per slot, a seat plan for all
   the slot's requests, then each request's draw inside its planned seats): wall time (target
   <= 10 s) and violations found by the independent checker (must be 0).
2. On small instances, seat use = the seats of the committees seated (main venue with the
   representatives, plus secondary venues) — for the solver and the optimum alike — against the
   exact optimum of a MILP (scipy.optimize.milp, HiGHS) that chooses which requests to seat and
   where, with seats as the only limit (experts plentiful): an upper bound, so the ratio is
   conservative. Online and batch are both reported, over ``--seeds`` seeds.

Run: .venv/bin/python bench/remote_eval_scheduling.py [--requests 1000 --experts 5000 --seed 1
     --seeds 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import time
from collections import Counter
from datetime import date, timedelta

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp  # type: ignore[import-untyped]

from services.remote_eval.domain.checker import check_schedule
from services.remote_eval.domain.model import (
    EvaluationRequest,
    Expert,
    ExpertDirectory,
    ExpertHistory,
    ExpertKind,
    HalfDay,
    MarketView,
    SchedulingPolicy,
    SeatOffer,
    Slot,
    SpecialtyNeed,
    Venue,
)
from services.remote_eval.domain.solver import (
    PendingRequest,
    Schedule,
    SchedulingContext,
    main_venue_expert_count,
    schedule,
    schedule_batch,
)

CITIES = ["370100", "370300", "370500", "370800", "370900", "371400", "371500", "371600", "371700"]
TECHNICAL = [f"A{n:02d}" for n in range(1, 9)]
ECONOMIC = ["B01", "B02"]


def build_world(
    rng: random.Random, experts: int, slots: list[Slot], venues_per_city: int, seats: int
) -> tuple[dict[str, Venue], dict[tuple[str, Slot], SeatOffer], list[Expert]]:
    venues: dict[str, Venue] = {}
    offers: dict[tuple[str, Slot], SeatOffer] = {}
    for city in CITIES:
        for n in range(venues_per_city):
            venue = Venue(f"{city}-V{n}", f"{city} venue {n}", city, city)
            venues[venue.venue_id] = venue
            for slot in slots:
                offers[(venue.venue_id, slot)] = SeatOffer(
                    venue.venue_id, slot, seats, rng.choice([15_000, 20_000, 30_000])
                )
    pool: list[Expert] = []
    for n in range(experts):
        kind = ExpertKind.ECONOMIC if n % 5 == 0 else ExpertKind.TECHNICAL
        codes = ECONOMIC if kind is ExpertKind.ECONOMIC else TECHNICAL
        pool.append(
            Expert(
                expert_id=f"X{n:05d}",
                pool_code=CITIES[n % len(CITIES)],
                kind=kind,
                specialties=frozenset(rng.sample(codes, 2 if len(codes) > 2 else 1)),
                employer_code=f"EMP{rng.randrange(experts // 3):05d}",
                unavailable=frozenset(s for s in slots if rng.random() < 0.1),
            )
        )
    return venues, offers, pool


def make_request(
    rng: random.Random, n: int, slots: list[Slot], employer_space: int
) -> EvaluationRequest:
    host = CITIES[n % len(CITIES)]
    size = rng.choice([5, 5, 7, 7, 9])
    experts = size if rng.random() < 0.7 else -(-size * 2 // 3)
    economic = max(1, experts // 4)
    technical = experts - economic
    first, second = rng.sample(TECHNICAL, 2)
    needs = [SpecialtyNeed(first, ExpertKind.TECHNICAL, technical - technical // 2)]
    if technical // 2:
        needs.append(SpecialtyNeed(second, ExpertKind.TECHNICAL, technical // 2))
    needs.append(SpecialtyNeed(rng.choice(ECONOMIC), ExpertKind.ECONOMIC, economic))
    return EvaluationRequest(
        evaluation_id=f"EV{n:05d}",
        host_code=host,
        project_id=f"P{n:05d}",
        bid_section_code="S1",
        slot=rng.choice(slots),
        committee_size=size,
        needs=tuple(needs),
        main_venue_id=f"{host}-V0",
        preferred_partner_codes=tuple(rng.sample(CITIES, 2)),
        avoided_unit_codes=frozenset(
            f"EMP{rng.randrange(employer_space):05d}" for _ in range(rng.randrange(2, 8))
        ),
    )


def run_online(
    requests: list[EvaluationRequest],
    venues: dict[str, Venue],
    offers: dict[tuple[str, Slot], SeatOffer],
    experts: list[Expert],
    policy: SchedulingPolicy,
    *,
    check: bool,
) -> tuple[tuple[float, float], int, int, int, Counter[str]]:
    """Schedules the requests in arrival order: (wall, CPU) time, scheduled, seats, violations."""
    booked: Counter[tuple[str, Slot]] = Counter()
    busy: dict[Slot, set[str]] = {}
    draw_days: dict[str, list[date]] = {}
    by_id = {e.expert_id: e for e in experts}
    directory = ExpertDirectory(experts)
    scheduled = seats_used = violations = 0
    failures: Counter[str] = Counter()
    elapsed = cpu = 0.0
    for n, request in enumerate(requests):
        market = MarketView(venues, offers, dict(booked))
        history = ExpertHistory(
            {slot: frozenset(ids) for slot, ids in busy.items()},
            {k: tuple(v) for k, v in draw_days.items()},
        )
        started = time.perf_counter()
        cpu_started = time.process_time()
        outcome = schedule(
            request,
            SchedulingContext(market, directory, history, policy),
            n.to_bytes(8, "big") * 4,
        )
        elapsed += time.perf_counter() - started
        cpu += time.process_time() - cpu_started
        if not isinstance(outcome, Schedule):
            failures[outcome.constraint.value] += 1
            continue
        if check:
            problems = check_schedule(
                request,
                outcome.slot,
                allocations=outcome.allocations,
                assignments=outcome.assignments,
                experts=by_id,
                history_before=history,
                market_before=market,
                policy=policy,
            )
            violations += len(problems)
        scheduled += 1
        for allocation in outcome.allocations:
            booked[(allocation.venue_id, outcome.slot)] += allocation.seats
            seats_used += allocation.seats
        for assignment in outcome.assignments:
            busy.setdefault(outcome.slot, set()).add(assignment.expert_id)
            draw_days.setdefault(assignment.expert_id, []).append(outcome.slot.day)
    return (elapsed, cpu), scheduled, seats_used, violations, failures


def run_batch(
    requests: list[EvaluationRequest],
    venues: dict[str, Venue],
    offers: dict[tuple[str, Slot], SeatOffer],
    experts: list[Expert],
    policy: SchedulingPolicy,
) -> tuple[tuple[float, float], int, int, int, Counter[str]]:
    """Schedules the requests as one pending batch (all requests known before the slots are
    planned): (wall, CPU) time, scheduled, seats, violations — each schedule checked against the
    seats and experts left by the ones before it in the batch."""
    directory = ExpertDirectory(experts)
    by_id = {e.expert_id: e for e in experts}
    empty = SchedulingContext(MarketView(venues, offers, {}), directory, ExpertHistory(), policy)
    pending = [PendingRequest(r, n.to_bytes(8, "big") * 4) for n, r in enumerate(requests)]
    started = time.perf_counter()
    cpu_started = time.process_time()
    outcomes = schedule_batch(pending, empty)
    elapsed = (time.perf_counter() - started, time.process_time() - cpu_started)
    booked: Counter[tuple[str, Slot]] = Counter()
    busy: dict[Slot, set[str]] = {}
    draw_days: dict[str, list[date]] = {}
    scheduled = seats_used = violations = 0
    failures: Counter[str] = Counter()
    for request, outcome in outcomes:
        if not isinstance(outcome, Schedule):
            failures[outcome.constraint.value] += 1
            continue
        violations += len(
            check_schedule(
                request,
                outcome.slot,
                allocations=outcome.allocations,
                assignments=outcome.assignments,
                experts=by_id,
                history_before=ExpertHistory(
                    {slot: frozenset(ids) for slot, ids in busy.items()},
                    {k: tuple(v) for k, v in draw_days.items()},
                ),
                market_before=MarketView(venues, offers, dict(booked)),
                policy=policy,
            )
        )
        scheduled += 1
        for allocation in outcome.allocations:
            booked[(allocation.venue_id, outcome.slot)] += allocation.seats
            seats_used += allocation.seats
        for assignment in outcome.assignments:
            busy.setdefault(outcome.slot, set()).add(assignment.expert_id)
            draw_days.setdefault(assignment.expert_id, []).append(outcome.slot.day)
    return elapsed, scheduled, seats_used, violations, failures


def exact_optimum(
    requests: list[EvaluationRequest],
    venues: dict[str, Venue],
    offers: dict[tuple[str, Slot], SeatOffer],
    policy: SchedulingPolicy,
) -> int:
    """Most seats any assignment of requests to venues can fill (seat limits only)."""
    venue_ids = sorted(venues)
    slots = sorted({r.slot for r in requests})
    # Variables: x_r (seat request r or not), then y_(r,v) seats of r at secondary venue v.
    n_r, n_v = len(requests), len(venue_ids)
    size = n_r + n_r * n_v
    c = np.zeros(size)
    integrality = np.ones(size)
    upper = np.zeros(size)
    rows: list[np.ndarray] = []
    lows: list[float] = []
    highs: list[float] = []
    for r, request in enumerate(requests):
        c[r] = -request.committee_size
        upper[r] = 1
        secondary = request.expert_count - main_venue_expert_count(request, policy)
        row = np.zeros(size)
        row[r] = -secondary
        for v, venue_id in enumerate(venue_ids):
            if venues[venue_id].owner_code != request.host_code:
                upper[n_r + r * n_v + v] = offers[(venue_id, request.slot)].seats
                row[n_r + r * n_v + v] = 1
        rows.append(row)
        lows.append(0)
        highs.append(0)
    for slot in slots:
        for v, venue_id in enumerate(venue_ids):
            row = np.zeros(size)
            for r, request in enumerate(requests):
                if request.slot != slot:
                    continue
                if request.main_venue_id == venue_id:
                    row[r] = main_venue_expert_count(request, policy) + (
                        request.representative_count
                    )
                row[n_r + r * n_v + v] = 1
            rows.append(row)
            lows.append(-np.inf)
            highs.append(offers[(venue_id, slot)].seats)
    result = milp(
        c,
        constraints=LinearConstraint(np.array(rows), lows, highs),
        integrality=integrality,
        bounds=Bounds(np.zeros(size), upper),
    )
    if not result.success:
        raise RuntimeError(f"MILP failed: {result.message}")
    optimum: float = -result.fun
    return round(optimum)


def _large(args: argparse.Namespace, policy: SchedulingPolicy, slots: list[Slot]) -> None:
    rng = random.Random(args.seed)
    venues, offers, experts = build_world(rng, args.experts, slots, 2, 30)
    requests = [make_request(rng, n, slots, args.experts // 3) for n in range(args.requests)]
    print(
        f"large: {args.requests} requests, {args.experts} experts, {len(venues)} venues, "
        f"{len(slots)} half-day slots"
    )
    for mode in ("online", "batch"):
        if mode == "online":
            elapsed, scheduled, _, violations, failures = run_online(
                requests, venues, offers, experts, policy, check=True
            )
        else:
            elapsed, scheduled, _, violations, failures = run_batch(
                requests, venues, offers, experts, policy
            )
        wall, cpu = elapsed
        print(
            f"  {mode}: scheduling time (solver only) {wall:.2f} s wall, {cpu:.2f} s CPU "
            f"(target <= 10 s); load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
        )
        print(f"    scheduled {scheduled}, refused {sum(failures.values())} {dict(failures)}")
        print(f"    constraint violations (independent checker): {violations} (must be 0)")


def _small(args: argparse.Namespace, policy: SchedulingPolicy, slots: list[Slot]) -> None:
    """Seat use = seats of the committees seated (main venue incl. representatives, plus the
    secondary venues), for the solver and the optimum alike."""
    for per_instance in (16, 20, 24):
        ratios: dict[str, list[float]] = {"online": [], "batch": []}
        demand: list[float] = []
        violations = 0
        for seed in range(args.seed, args.seed + args.seeds):
            small_rng = random.Random(seed * 1000 + per_instance)
            for _ in range(args.small_instances):
                small_slots = slots[:2]
                s_venues, s_offers, s_experts = build_world(small_rng, 900, small_slots, 1, 8)
                s_requests = [
                    make_request(small_rng, n, small_slots, 300) for n in range(per_instance)
                ]
                optimum = exact_optimum(s_requests, s_venues, s_offers, policy)
                _, _, used, s_violations, _ = run_online(
                    s_requests, s_venues, s_offers, s_experts, policy, check=True
                )
                ratios["online"].append(used / optimum if optimum else 1.0)
                violations += s_violations
                _, _, used, s_violations, _ = run_batch(
                    s_requests, s_venues, s_offers, s_experts, policy
                )
                ratios["batch"].append(used / optimum if optimum else 1.0)
                violations += s_violations
                demand.append(sum(r.committee_size for r in s_requests) / (9 * 8 * 2))
        print(
            f"small: {args.seeds} seeds x {args.small_instances} instances of {per_instance} "
            f"requests, 9 venues x 8 seats, 2 slots (seats asked for / offered: "
            f"{sum(demand) / len(demand):.0%}); violations {violations} (must be 0)"
        )
        for mode, values in ratios.items():
            print(
                f"  {mode}: seat use vs exact MILP optimum: mean {sum(values) / len(values):.1%}, "
                f"worst {min(values):.1%} (target >= 95%)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--experts", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seeds", type=int, default=3, help="small-instance seeds, from --seed")
    parser.add_argument("--small-instances", type=int, default=20)
    args = parser.parse_args()
    policy = SchedulingPolicy()
    start_day = date(2026, 3, 2)
    slots = [Slot(start_day + timedelta(days=d), half) for d in range(10) for half in HalfDay]
    print(f"machine: {platform.node()} {platform.machine()} python {platform.python_version()}")
    _large(args, policy, slots)
    _small(args, policy, slots)


if __name__ == "__main__":
    main()
