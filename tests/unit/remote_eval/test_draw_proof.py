"""The draw proof: recorded inputs and seed give the identical draw; any change shows."""

from __future__ import annotations

import dataclasses
from collections import Counter

import pytest

from services.remote_eval.domain.draw import (
    DrawInputs,
    DrawRandom,
    candidate_pool_sha256,
    inputs_sha256,
)
from services.remote_eval.domain.model import (
    Assignment,
    EvaluationRequest,
    ExpertDirectory,
    ExpertHistory,
    SchedulingPolicy,
)
from services.remote_eval.domain.solver import (
    DrawRecord,
    FailedConstraint,
    Infeasible,
    Replan,
    Schedule,
    SchedulingContext,
    Substitution,
    draw_substitute,
    replan_after_decline,
    rerun_draw,
    schedule,
)
from tests.unit.remote_eval.fixtures import HOST, MAIN, SLOT, market, request, rich_pools

POLICY = SchedulingPolicy()
SEED = bytes.fromhex("5a" * 32)


def _recorded() -> DrawRecord:
    result = schedule(
        request(),
        SchedulingContext(market(), ExpertDirectory(rich_pools()), ExpertHistory(), POLICY),
        SEED,
    )
    assert isinstance(result, Schedule)
    return result.draw


def test_the_recorded_draw_is_reproduced_exactly_from_its_json_record() -> None:
    record = _recorded()
    stored = record.inputs.to_json()  # what the store keeps
    replayed = dataclasses.replace(record, inputs=DrawInputs.from_json(stored))
    assert rerun_draw(replayed) == record.expert_ids
    assert inputs_sha256(replayed.inputs) == record.inputs_sha256
    assert candidate_pool_sha256(replayed.inputs.candidates) == record.candidate_pool_sha256


def test_the_random_stream_is_sha256_counter_and_uniform_enough() -> None:
    rng = DrawRandom(b"seed")
    values = [rng.below(10) for _ in range(5000)]
    counts = [values.count(n) for n in range(10)]
    assert min(counts) > 400 and max(counts) < 600
    again = DrawRandom(b"seed")
    assert [again.below(10) for _ in range(100)] == values[:100]


def test_another_seed_gives_another_draw() -> None:
    record = _recorded()
    other = dataclasses.replace(record, seed_hex="a5" * 32)
    assert rerun_draw(other) != record.expert_ids


@pytest.mark.parametrize(
    "change",
    [
        "drop_a_candidate",
        "change_an_employer",
        "exclude_an_expert",
        "change_the_split",
    ],
)
def test_changing_any_input_changes_the_proof(change: str) -> None:
    record = _recorded()
    inputs = record.inputs
    drawn_first = record.expert_ids[0]
    if change == "drop_a_candidate":
        changed = dataclasses.replace(
            inputs, candidates=tuple(c for c in inputs.candidates if c.expert_id != drawn_first)
        )
    elif change == "change_an_employer":
        # The second drawn expert now works where the first does: one per employer.
        first_employer = next(c for c in inputs.candidates if c.expert_id == drawn_first)
        changed = dataclasses.replace(
            inputs,
            candidates=tuple(
                dataclasses.replace(c, employer_code=first_employer.employer_code)
                if c.expert_id == record.expert_ids[1]
                else c
                for c in inputs.candidates
            ),
        )
    elif change == "exclude_an_expert":
        changed = dataclasses.replace(inputs, excluded_expert_ids=(drawn_first,))
    else:
        changed = dataclasses.replace(
            inputs, main_quota=inputs.main_quota + 1, secondary_quota=inputs.secondary_quota - 1
        )
    assert inputs_sha256(changed) != record.inputs_sha256
    assert rerun_draw(dataclasses.replace(record, inputs=changed)) != record.expert_ids


def test_a_declined_venue_is_replanned_to_another_partner() -> None:
    experts = rich_pools()
    req = request(main_venue_experts=2)
    first = schedule(
        req, SchedulingContext(market(), ExpertDirectory(experts), ExpertHistory(), POLICY), SEED
    )
    assert isinstance(first, Schedule)
    declined = next(a.venue_id for a in first.allocations if a.venue_id != MAIN)
    involved = frozenset(a.expert_id for a in first.assignments)
    replan = replan_after_decline(
        req,
        first,
        SchedulingContext(market(), ExpertDirectory(experts), ExpertHistory(), POLICY),
        bytes(32),
        declined_venue_ids=frozenset({declined}),
        involved_expert_ids=involved,
    )
    assert isinstance(replan, Replan), replan
    new = replan.schedule
    assert declined not in {a.venue_id for a in new.allocations}
    assert declined not in {a.venue_id for a in new.assignments}
    moved = [a for a in first.assignments if a.venue_id == declined]
    assert len(replan.substitutions) == len(moved)
    assert sum(a.seats for a in new.allocations) == req.committee_size
    assert rerun_draw(new.draw) == new.draw.expert_ids


def test_a_required_partner_declining_is_refused() -> None:
    experts = rich_pools()
    req = request(main_venue_experts=2, required_partner_codes=("370300",))
    first = schedule(
        req, SchedulingContext(market(), ExpertDirectory(experts), ExpertHistory(), POLICY), SEED
    )
    assert isinstance(first, Schedule)
    outcome = replan_after_decline(
        req,
        first,
        SchedulingContext(market(), ExpertDirectory(experts), ExpertHistory(), POLICY),
        bytes(32),
        declined_venue_ids=frozenset({"ZB-1"}),
        involved_expert_ids=frozenset(),
    )
    assert "required partner 370300 declined its venue" in getattr(outcome, "detail", "")


def test_a_no_show_gets_a_substitute_of_the_same_specialty_at_the_same_seat() -> None:
    experts = rich_pools()
    req = request()
    first = schedule(
        req, SchedulingContext(market(), ExpertDirectory(experts), ExpertHistory(), POLICY), SEED
    )
    assert isinstance(first, Schedule)
    gone = first.assignments[0]
    involved = frozenset(a.expert_id for a in first.assignments)
    outcome = draw_substitute(
        req,
        first,
        SchedulingContext(market(), ExpertDirectory(experts), ExpertHistory(), POLICY),
        bytes(32),
        replaced_expert_id=gone.expert_id,
        involved_expert_ids=involved,
    )
    assert isinstance(outcome, tuple), outcome
    new, substitution = outcome
    assert substitution.replaced_expert_id == gone.expert_id
    sub = substitution.substitute
    assert (sub.venue_id, sub.specialty_code, sub.kind) == (
        gone.venue_id,
        gone.specialty_code,
        gone.kind,
    )
    assert sub.expert_id not in involved
    assert sub.employer_code not in {a.employer_code for a in first.assignments}
    assert len(new.assignments) == len(first.assignments)


def test_substitutes_run_out_with_a_reason() -> None:
    experts = rich_pools(per_pool=3)
    req = request()
    first = schedule(
        req, SchedulingContext(market(), ExpertDirectory(experts), ExpertHistory(), POLICY), SEED
    )
    assert isinstance(first, Schedule)
    gone = first.assignments[0]
    everyone = frozenset(e.expert_id for e in experts)
    outcome = draw_substitute(
        req,
        first,
        SchedulingContext(market(), ExpertDirectory(experts), ExpertHistory(), POLICY),
        bytes(32),
        replaced_expert_id=gone.expert_id,
        involved_expert_ids=everyone,
        replaced_pseudonym="EP-0f3a",
    )
    assert isinstance(outcome, Infeasible), outcome
    # Named by the evaluation's pseudonym: the registry id reaches the host and SchedulingFailed
    # before the award, and the pool owner can map it to a name.
    assert "no substitute for EP-0f3a" in outcome.detail
    assert gone.expert_id not in outcome.detail
    assert SLOT  # the slot is the same; nothing else to offer for a seat already taken


def _partner_pool_exhausted(
    main_venue_experts: int = 2, required_partner_codes: tuple[str, ...] = ()
) -> tuple[EvaluationRequest, Schedule, Assignment, SchedulingContext, frozenset[str]]:
    """A schedule whose first partner seat has lost its expert while everyone else of that
    partner's pool is already involved: nobody left there to send."""
    experts = rich_pools()
    req = request(
        main_venue_experts=main_venue_experts, required_partner_codes=required_partner_codes
    )
    context = SchedulingContext(market(), ExpertDirectory(experts), ExpertHistory(), POLICY)
    first = schedule(req, context, SEED)
    assert isinstance(first, Schedule)
    gone = next(a for a in first.assignments if a.venue_id != MAIN)
    owner = context.market.venues[gone.venue_id].owner_code
    involved = frozenset(a.expert_id for a in first.assignments) | frozenset(
        e.expert_id for e in experts if e.pool_code == owner
    )
    return req, first, gone, context, involved


def _substitute(
    req: EvaluationRequest,
    first: Schedule,
    context: SchedulingContext,
    replaced_expert_id: str,
    involved: frozenset[str],
    *,
    replaced_pseudonym: str = "",
) -> tuple[Schedule, Substitution] | Infeasible:
    return draw_substitute(
        req,
        first,
        context,
        bytes(32),
        replaced_expert_id=replaced_expert_id,
        involved_expert_ids=involved,
        replaced_pseudonym=replaced_pseudonym,
    )


def test_a_seat_whose_partner_has_nobody_left_moves_to_another_partner() -> None:
    req, first, gone, context, involved = _partner_pool_exhausted()
    outcome = _substitute(req, first, context, gone.expert_id, involved)
    assert isinstance(outcome, tuple), outcome
    new, substitution = outcome
    sub = substitution.substitute
    owner = context.market.venues[gone.venue_id].owner_code
    assert substitution.replaced_expert_id == gone.expert_id
    assert (sub.specialty_code, sub.kind) == (gone.specialty_code, gone.kind)
    assert sub.pool_code not in {owner, HOST} and sub.venue_id != gone.venue_id
    assert sub.expert_id not in involved
    seats_before = {a.venue_id: a.seats for a in first.allocations}
    seats_after = {a.venue_id: a.seats for a in new.allocations}
    assert seats_after.get(gone.venue_id, 0) == seats_before[gone.venue_id] - 1
    assert seats_after[sub.venue_id] == seats_before.get(sub.venue_id, 0) + 1
    assert sum(seats_after.values()) == sum(seats_before.values())
    assert Counter(a.venue_id for a in new.assignments) == Counter(
        {v: n for v, n in seats_after.items() if v != MAIN}
    ) + Counter({MAIN: seats_after[MAIN]})
    assert rerun_draw(new.draw) == new.draw.expert_ids == (sub.expert_id,)


def test_a_main_venue_seat_or_a_required_partners_last_seat_never_moves() -> None:
    experts = rich_pools()
    req = request(main_venue_experts=2)
    context = SchedulingContext(market(), ExpertDirectory(experts), ExpertHistory(), POLICY)
    first = schedule(req, context, SEED)
    assert isinstance(first, Schedule)
    at_main = next(a for a in first.assignments if a.venue_id == MAIN)
    host_pool = frozenset(e.expert_id for e in experts if e.pool_code == HOST)
    outcome = _substitute(
        req, first, context, at_main.expert_id, host_pool | {a.expert_id for a in first.assignments}
    )
    assert getattr(outcome, "constraint", None) is FailedConstraint.SUBSTITUTES_EXHAUSTED

    # One seat at a required partner: moving it would leave that partner out.
    req, first, gone, context, involved = _partner_pool_exhausted(
        required_partner_codes=("370300",), main_venue_experts=4
    )
    assert [a.venue_id for a in first.assignments if a.venue_id != MAIN] == [gone.venue_id]
    outcome = _substitute(req, first, context, gone.expert_id, involved)
    assert getattr(outcome, "constraint", None) is FailedConstraint.SUBSTITUTES_EXHAUSTED


def test_a_seat_nobody_can_take_says_why_at_its_venue_and_elsewhere() -> None:
    req, first, gone, context, _ = _partner_pool_exhausted()
    everyone = frozenset(context.experts.by_id)
    outcome = _substitute(
        req, first, context, gone.expert_id, everyone, replaced_pseudonym="EP-77c1"
    )
    assert isinstance(outcome, Infeasible)
    assert outcome.constraint is FailedConstraint.SUBSTITUTES_EXHAUSTED
    assert f"no substitute for EP-77c1 at venue {gone.venue_id}" in outcome.detail
    assert gone.expert_id not in outcome.detail
    assert f"moving 1 seat(s) from venue {gone.venue_id}" in outcome.detail
