"""An evaluation's state names each draw's candidates by their pool's hash, the pool kept once
apart: the state record stays small however many substitutes are drawn on however large a
pool, and each draw is still reproduced from the state and its pool. And a substitute is never
seated at a venue its partner declined."""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import UTC, datetime

import pytest
from prt.v1 import remote_eval_pb2

from services.platform_core.events.envelope import MAX_EVENT_BYTES, Envelope, encode_envelope
from services.remote_eval import event_codec
from services.remote_eval.domain.draw import candidate_pool_sha256, inputs_sha256
from services.remote_eval.domain.model import (
    ExpertDirectory,
    ExpertHistory,
    ExpertKind,
    SchedulingPolicy,
    SpecialtyNeed,
    VenueRole,
)
from services.remote_eval.domain.solver import (
    Schedule,
    SchedulingContext,
    draw_substitute,
    rerun_draw,
    schedule,
)
from services.remote_eval.http_api.asyncapi import asyncapi_document
from services.remote_eval.store import (
    EvaluationState,
    Member,
    draw_from_json,
    draw_keeps_candidates,
    draw_to_json,
    pool_bytes,
    pool_from_bytes,
)
from tests.unit.remote_eval.fixtures import HOST, MAIN, market, pool, request, rich_pools

POLICY = SchedulingPolicy()
SEED = bytes.fromhex("5a" * 32)
SUBSTITUTES = 12


def _state_record_bytes(state: EvaluationState) -> int:
    """The EvaluationStateRecorded record the scheduler publishes for ``state``, encoded."""
    message = remote_eval_pb2.EvaluationStateRecorded(
        evaluation_id=state.request.evaluation_id,
        state_json=json.dumps(state.to_json(), ensure_ascii=False),
    )
    value, _ = encode_envelope(
        Envelope(message=message, source="test", subject="EV-1", time=datetime.now(UTC))
    )
    return len(value)


def _large_world() -> tuple[SchedulingContext, list[str]]:
    """9,000 experts: 4,500 technical A01 in each of the host's and partner 370300's pools."""
    experts = pool(HOST, 4_500, employer_base=0) + pool("370300", 4_500, employer_base=10_000)
    experts += pool(HOST, 20, specialty="B02", kind=ExpertKind.ECONOMIC, employer_base=50_000)
    context = SchedulingContext(market(), ExpertDirectory(experts), ExpertHistory(), POLICY)
    return context, [e.expert_id for e in experts]


def test_the_state_of_many_substitutes_on_a_large_pool_stays_far_under_the_limit() -> None:
    context, _ = _large_world()
    wanted = request(
        needs=(
            SpecialtyNeed("A01", ExpertKind.TECHNICAL, 3),
            SpecialtyNeed("B02", ExpertKind.ECONOMIC, 2),
        ),
        main_venue_experts=2,
        required_partner_codes=("370300",),
    )
    outcome = schedule(wanted, context, SEED)
    assert isinstance(outcome, Schedule)
    state = EvaluationState(request=wanted, status="scheduled", slot=outcome.slot)
    state.allocations = list(outcome.allocations)
    state.members = [Member(a, f"pseudo-{a.expert_id}") for a in outcome.assignments]
    state.draws = [draw_to_json(outcome.draw, "initial", "E0")]
    pools = {outcome.draw.candidate_pool_sha256: pool_bytes(outcome.draw.inputs.candidates)}
    records = [outcome.draw]
    for n in range(SUBSTITUTES):
        leaving = next(m for m in state.members if m.assignment.kind is ExpertKind.TECHNICAL)
        drawn = draw_substitute(
            wanted,
            state.schedule(),
            context,
            bytes([n]) * 32,
            replaced_expert_id=leaving.assignment.expert_id,
            involved_expert_ids=state.involved_expert_ids,
        )
        assert not isinstance(drawn, Exception) and isinstance(drawn, tuple), drawn
        new_schedule, substitution = drawn
        leaving.status = "declined"
        state.members.remove(leaving)
        state.former.append(leaving)
        state.members.append(Member(substitution.substitute, f"pseudo-{n}"))
        state.draws.append(draw_to_json(new_schedule.draw, "declined", f"E{n + 1}"))
        pools[new_schedule.draw.candidate_pool_sha256] = pool_bytes(
            new_schedule.draw.inputs.candidates
        )
        records.append(new_schedule.draw)

    # Each draw here had thousands of candidates (their list alone ~0.5 MB of JSON): the
    # state keeps none of them.
    assert all(len(r.inputs.candidates) >= 2_000 for r in records)
    size = _state_record_bytes(state)
    assert size < 50_000 < MAX_EVENT_BYTES, size
    assert not any(draw_keeps_candidates(d) for d in state.to_json()["draws"])

    # The draw proof, from the state as stored and each pool as kept: identical.
    stored = EvaluationState.from_json(json.loads(json.dumps(state.to_json())))
    for draw, record in zip(stored.draws, records, strict=True):
        kept = pools[draw["candidate_pool_sha256"]]
        assert hashlib.sha256(gzip.decompress(kept)).hexdigest() == draw["candidate_pool_sha256"]
        replayed = draw_from_json(draw, pool_from_bytes(kept))
        assert rerun_draw(replayed) == record.expert_ids == tuple(draw["expert_ids"])
        assert inputs_sha256(replayed.inputs) == record.inputs_sha256
        assert candidate_pool_sha256(replayed.inputs.candidates) == record.candidate_pool_sha256


def test_a_pool_record_round_trips_and_one_not_matching_its_hash_is_refused() -> None:
    record = schedule(
        request(),
        SchedulingContext(market(), ExpertDirectory(rich_pools()), ExpertHistory(), POLICY),
        SEED,
    )
    assert isinstance(record, Schedule)
    candidates = record.draw.inputs.candidates
    raw = pool_bytes(candidates)
    assert raw == pool_bytes(candidates)  # the same pool, the same bytes (no gzip timestamp)
    message = event_codec.candidate_pool_recorded(
        record.draw.candidate_pool_sha256, raw, "EV-1", datetime.now(UTC)
    )
    assert event_codec.candidate_pool_from(message) == (record.draw.candidate_pool_sha256, raw)
    assert pool_from_bytes(raw) == candidates

    message.candidate_pool_sha256 = "0" * 64
    with pytest.raises(event_codec.UnreadableEvent, match="holds candidates of hash"):
        event_codec.candidate_pool_from(message)
    message.candidates_json_gzip = b"not gzip"
    with pytest.raises(event_codec.UnreadableEvent, match="not gzip"):
        event_codec.candidate_pool_from(message)


def test_a_draw_stored_with_its_candidates_before_still_reads_whole() -> None:
    """States stored before the pools were kept apart hold each draw's candidates."""
    record = schedule(
        request(),
        SchedulingContext(market(), ExpertDirectory(rich_pools()), ExpertHistory(), POLICY),
        SEED,
    )
    assert isinstance(record, Schedule)
    old = draw_to_json(record.draw, "initial", "E0")
    old["inputs"] = record.draw.inputs.to_json()  # the former layout
    assert draw_keeps_candidates(old)
    assert rerun_draw(draw_from_json(old)) == record.draw.expert_ids


def test_no_substitute_is_seated_at_a_venue_its_partner_declined() -> None:
    """A re-plan that found no other venue left the experts at ZB-1, which 370300 declined:
    one of them refusing, the substitute is drawn elsewhere and the seat moves with them."""
    context = SchedulingContext(market(), ExpertDirectory(rich_pools()), ExpertHistory(), POLICY)
    wanted = request(main_venue_experts=2, preferred_partner_codes=("370300",))
    outcome = schedule(wanted, context, SEED)
    assert isinstance(outcome, Schedule)
    leaving = next(a for a in outcome.assignments if a.venue_id == "ZB-1")
    involved = frozenset(a.expert_id for a in outcome.assignments)

    at_same_venue = draw_substitute(
        wanted,
        outcome,
        context,
        SEED,
        replaced_expert_id=leaving.expert_id,
        involved_expert_ids=involved,
    )
    assert isinstance(at_same_venue, tuple)
    assert at_same_venue[1].substitute.venue_id == "ZB-1"  # not declined: the same venue

    moved = draw_substitute(
        wanted,
        outcome,
        context,
        SEED,
        replaced_expert_id=leaving.expert_id,
        involved_expert_ids=involved,
        declined_venue_ids=frozenset({"ZB-1"}),
    )
    assert isinstance(moved, tuple), moved
    new_schedule, substitution = moved
    assert substitution.substitute.venue_id not in {"ZB-1", MAIN}
    seats = {a.venue_id: a.seats for a in new_schedule.allocations}
    before = {a.venue_id: a.seats for a in outcome.allocations}
    assert seats.get("ZB-1", 0) == before["ZB-1"] - 1
    assert (
        seats[substitution.substitute.venue_id]
        == before.get(substitution.substitute.venue_id, 0) + 1
    )
    assert all(
        a.role is VenueRole.SECONDARY
        for a in new_schedule.allocations
        if a.venue_id == substitution.substitute.venue_id
    )
    assert rerun_draw(new_schedule.draw) == new_schedule.draw.expert_ids


def test_the_asyncapi_document_shows_by_when_a_substitute_must_confirm() -> None:
    """Generated from the descriptors: SubstituteDrawn's confirm_by, on the partner stream
    and the evaluations log alike."""
    channels = asyncapi_document()["channels"]
    for channel in ("partnerSeatRequests", "evaluations"):
        payload = channels[channel]["messages"]["SubstituteDrawn"]["payload"]
        assert payload["properties"]["confirm_by"] == {"type": "string", "format": "date-time"}
