"""On the real broker and Redis (an in-process scheduler, the API's route called in-process):

- a committee's seat left empty for want of a substitute is drawn again when the host asks
  (POST /v1/evaluations/{id}/redraws → EmptySeatsRedrawRequested), once an expert is
  available: the seat filled, SubstituteDrawn with its confirm_by, the failure over, the draw
  proven; asked while nobody is available, the failure names the seat still empty; refused
  (409) with no empty seat, once unsealed or cancelled, and (403) to a partner;
- a venue offering fewer seats than are booked (a capacity event the API's check did not
  stop) withdraws the seats of the evaluations booked last, each as if the venue declined:
  a secondary venue's experts are re-planned at another partner's, a main venue's evaluation
  fails saying its seats were withdrawn; the same event again changes nothing."""

from __future__ import annotations

import uuid

import pytest
from google.protobuf.message import Message
from prt.v1 import intake_pb2, remote_eval_pb2

from services.platform_core.auth.principals import Principal, PrincipalKind
from services.platform_core.errors import EventRejected
from services.platform_core.events.envelope import Envelope
from services.platform_core.events.topics import EVALUATIONS, partner_seat_requests_topic
from services.platform_core.http.errors import ApiError
from services.remote_eval import event_codec
from services.remote_eval.domain.model import Slot
from services.remote_eval.http_api.audit import draw_proof
from services.remote_eval.http_api.evaluations import request_redraw
from services.remote_eval.http_api.schemas import RedrawCreate
from services.remote_eval.store import EvaluationState
from tests.integration.remote_eval.scheduler_rig import (
    HOST,
    MAIN_VENUE,
    PARTNER,
    PARTNER_VENUE,
    Rig,
    at_main_venue,
    enveloped,
    far_slot,
)
from tests.integration.remote_eval.topic_reading import events_of

pytestmark = pytest.mark.integration

OTHER_PARTNER, OTHER_VENUE = "370500", "DY-370500-1"
HOST_DEPARTMENT = Principal("test-cq", PrincipalKind.DEPARTMENT, "CQ", "长清区", frozenset({HOST}))
OPERATOR = Principal("test-operator", PrincipalKind.OPERATOR, "OP-TEST", "审计")
A_PARTNER = Principal("test-zb", PrincipalKind.PARTNER, PARTNER, "淄博市")


async def _scheduled(
    rig: Rig, specialty: str, slot: Slot, evaluation_id: str | None = None
) -> EvaluationState:
    """Five technical experts: two at the host's main venue, three at a partner's (370300's
    preferred)."""
    return await rig.scheduled(
        specialty, slot, evaluation_id=evaluation_id, preferred_partner_codes=(PARTNER,)
    )


async def _redraw(
    rig: Rig, evaluation_id: str, principal: Principal = HOST_DEPARTMENT
) -> Envelope[Message]:
    """POST /v1/evaluations/{id}/redraws as ``principal``; the event it recorded, applied by
    the scheduler as the worker applies what it reads from the log."""
    before = len(rig.published.sent)
    answer = await request_redraw(
        evaluation_id,
        principal,
        rig.context,
        RedrawCreate(reason="新专家已入库"),
        str(uuid.uuid4()),
    )
    assert answer.status_code == 202, answer.body  # type: ignore[attr-defined]
    [(topic, envelope)] = rig.published.sent[before:]
    assert topic == EVALUATIONS.name
    assert isinstance(envelope.message, remote_eval_pb2.EmptySeatsRedrawRequested)
    assert envelope.message.requested_by == principal.code
    await rig.scheduler.apply_evaluation_event(envelope)
    return envelope


async def _refused(
    rig: Rig, evaluation_id: str, principal: Principal = HOST_DEPARTMENT
) -> ApiError:
    with pytest.raises(ApiError) as refused:
        await request_redraw(evaluation_id, principal, rig.context, None, str(uuid.uuid4()))
    return refused.value


async def test_an_empty_seat_is_drawn_again_once_an_expert_is_available(rig: Rig) -> None:
    specialty = await rig.fresh_pools({HOST: 2, PARTNER: 3})
    state = await _scheduled(rig, specialty, far_slot())
    evaluation_id = state.request.evaluation_id
    assert (await _refused(rig, evaluation_id)).code == "no_empty_seat"

    # A main-venue expert declines; the host's pool has nobody left and a main seat never moves.
    refusing = at_main_venue(state)
    await rig.apply(
        remote_eval_pb2.ExpertDeclined(
            evaluation_id=evaluation_id, partner_code=HOST, expert_pseudonym=refusing.pseudonym
        )
    )
    state = await rig.state(evaluation_id)
    assert state.unfilled_seats == 1 and state.vacated == [refusing.pseudonym]
    assert state.failure is not None and state.failure["constraint"] == "SUBSTITUTES_EXHAUSTED"
    assert (await _refused(rig, evaluation_id, A_PARTNER)).status == 403

    # Asked while still nobody is available: the failure names the seat still empty.
    await _redraw(rig, evaluation_id)
    state = await rig.state(evaluation_id)
    assert state.unfilled_seats == 1 and state.vacated == [refusing.pseudonym]
    assert state.failure is not None
    assert "redraw asked by CQ: 1 of 1 empty seat(s) still empty" in state.failure["detail"]
    assert refusing.pseudonym in state.failure["detail"]
    assert not rig.published.of(evaluation_id, remote_eval_pb2.SubstituteDrawn)

    # An expert joins the host's pool; the operator asks again: the seat is filled.
    await rig.add_experts(specialty, HOST, 1, first=50)
    rig.published.sent.clear()
    redraw = await _redraw(rig, evaluation_id, OPERATOR)
    state = await rig.state(evaluation_id)
    assert state.unfilled_seats == 0 and state.vacated == [] and state.failure is None
    [drawn] = rig.published.of(evaluation_id, remote_eval_pb2.SubstituteDrawn)
    assert drawn.replaced_expert_pseudonym == refusing.pseudonym
    assert drawn.reason == remote_eval_pb2.SUBSTITUTION_REASON_DECLINED
    assert drawn.assignment.venue_id == MAIN_VENUE and drawn.HasField("confirm_by")
    newcomer = state.member_by_pseudonym(drawn.assignment.expert_pseudonym)
    assert newcomer is not None and newcomer.assignment.expert_id == f"X-{specialty}-{HOST}-50"
    # Told to the pool's owner on its stream, as every substitute.
    assert rig.published.of(
        evaluation_id, remote_eval_pb2.SubstituteDrawn, partner_seat_requests_topic(HOST).name
    )
    assert state.draws[-1]["purpose"] == "redraw" and state.draws[-1]["event_id"] == redraw.id
    assert drawn.draw.seed == state.draws[-1]["seed_hex"]
    proof = await draw_proof(evaluation_id, len(state.draws) - 1, OPERATOR, rig.context)
    assert proof.identical and proof.rerun_expert_ids == [newcomer.assignment.expert_id]

    # The same event again (a redelivery) draws nobody else; a new request finds no empty seat.
    rig.published.sent.clear()
    await rig.scheduler.apply_evaluation_event(redraw)
    assert rig.published.sent == [] and len((await rig.state(evaluation_id)).draws) == len(
        state.draws
    )
    assert (await _refused(rig, evaluation_id)).code == "no_empty_seat"

    # On the real log: the operator's request, then the substitute it drew.
    logged = [
        (e.id, type(e.message).__name__)
        for e in await events_of(
            rig.context.settings.kafka_bootstrap_servers, EVALUATIONS.name, evaluation_id
        )
    ]
    asked = logged.index((redraw.id, "EmptySeatsRedrawRequested"))
    assert [name for _, name in logged[asked:]].count("SubstituteDrawn") == 1


async def test_a_redraw_is_refused_once_the_committee_is_unsealed_or_cancelled(rig: Rig) -> None:
    specialty = await rig.fresh_pools({HOST: 4, PARTNER: 6})
    slot = far_slot()
    # Both scheduled first: then the host's four experts all sit in the slot, and a main-venue
    # seat (which never moves) declined in either has no substitute.
    ended = {how: await _scheduled(rig, specialty, slot) for how in ("award", "termination")}
    for state in ended.values():
        refusing = at_main_venue(state)
        await rig.apply(
            remote_eval_pb2.ExpertDeclined(
                evaluation_id=state.request.evaluation_id,
                partner_code=HOST,
                expert_pseudonym=refusing.pseudonym,
            )
        )
    for how, state in ended.items():
        assert (await rig.state(state.request.evaluation_id)).unfilled_seats == 1
        message: Message
        if how == "award":
            message = intake_pb2.ContractAwarded(
                project_id=state.request.project_id, bid_section_code="001"
            )
        else:
            message = intake_pb2.ProjectTerminated(
                project_id=state.request.project_id, bid_section_code="001"
            )
        await rig.scheduler.apply_project_event(enveloped(message))
    assert (await _refused(rig, ended["award"].request.evaluation_id)).code == "committee_unsealed"
    cancelled = await _refused(rig, ended["termination"].request.evaluation_id)
    assert (cancelled.status, cancelled.code) == (409, "evaluation_cancelled")


def _capacity(venue_id: str, owner: str, slot: Slot, seats: int) -> Envelope[Message]:
    return enveloped(
        remote_eval_pb2.VenueCapacityPublished(
            venue_id=venue_id,
            partner_code=owner,
            slot=event_codec.slot_message(slot),
            seats=seats,
            fee_fen=20_000,
        ),
        subject=venue_id,
    )


async def test_seats_cut_below_bookings_move_the_evaluation_booked_last(rig: Rig) -> None:
    specialty = await rig.fresh_pools({HOST: 4, PARTNER: 6})
    slot = far_slot()
    # Requested one after the other: evaluation ids are time-ordered, the later sorts after.
    shared = uuid.uuid4().hex
    first = await _scheduled(rig, specialty, slot, f"EV-TEST-{shared}-1")
    last = await _scheduled(rig, specialty, slot, f"EV-TEST-{shared}-2")
    for state in (first, last):
        assert {a.venue_id: a.seats for a in state.allocations} == {MAIN_VENUE: 2, PARTNER_VENUE: 3}
    await rig.add_experts(specialty, OTHER_PARTNER, 4)  # where the withdrawn seats can go

    rig.published.sent.clear()
    cut = _capacity(PARTNER_VENUE, PARTNER, slot, 4)  # 6 booked
    await rig.scheduler.apply_venue_event(cut)

    kept, moved = (
        await rig.state(first.request.evaluation_id),
        await rig.state(last.request.evaluation_id),
    )
    assert kept.to_json() == first.to_json()
    assert moved.venue_decisions[PARTNER_VENUE] == "WITHDRAWN" and moved.failure is None
    assert {a.venue_id: a.seats for a in moved.allocations} == {MAIN_VENUE: 2, OTHER_VENUE: 3}
    assert {m.assignment.venue_id for m in moved.members} == {MAIN_VENUE, OTHER_VENUE}
    assert [m.status for m in moved.former] == ["replaced"] * 3
    bookings = (await rig.store.bookings(slot))[PARTNER_VENUE]
    assert bookings == {first.request.evaluation_id: 3}

    evaluation_id = moved.request.evaluation_id
    [withdrawn] = rig.published.of(evaluation_id, remote_eval_pb2.VenueSeatsWithdrawn)
    assert (withdrawn.venue_id, withdrawn.seats, withdrawn.seats_offered) == (PARTNER_VENUE, 3, 4)
    assert withdrawn.capacity_event_id == cut.id
    assert rig.published.of(
        evaluation_id,
        remote_eval_pb2.VenueSeatsWithdrawn,
        partner_seat_requests_topic(PARTNER).name,
    )
    substitutes = rig.published.of(evaluation_id, remote_eval_pb2.SubstituteDrawn)
    assert [s.reason for s in substitutes] == [
        remote_eval_pb2.SUBSTITUTION_REASON_VENUE_DECLINED
    ] * 3
    [request] = rig.published.of(evaluation_id, remote_eval_pb2.SeatRequestSent)
    assert request.venue_id == OTHER_VENUE
    assert not rig.published.of(first.request.evaluation_id, remote_eval_pb2.VenueSeatsWithdrawn)

    # The partner's answer to the withdrawn request is refused; the same event again does nothing.
    with pytest.raises(EventRejected, match="withdrawn by its owner"):
        await rig.scheduler.record_partner_answer(
            enveloped(
                remote_eval_pb2.PartnerVenueDecision(
                    evaluation_id=evaluation_id,
                    partner_code=PARTNER,
                    venue_id=PARTNER_VENUE,
                    decision=remote_eval_pb2.VENUE_DECISION_ACCEPTED,
                ),
                subject=evaluation_id,
            ),
            PARTNER,
        )
    rig.published.sent.clear()
    await rig.scheduler.apply_venue_event(cut)
    assert rig.published.sent == []
    assert (await rig.state(evaluation_id)).to_json() == moved.to_json()

    # The host cuts its own main venue below the two evaluations' four seats: the one booked
    # last cannot move, so it is cancelled, saying why — its seats released (the venue is no
    # longer overbooked) and the partners told; no expert is drawn for it any more.
    await rig.scheduler.apply_venue_event(_capacity(MAIN_VENUE, HOST, slot, 3))
    failed = await rig.state(evaluation_id)
    assert failed.failure is not None and failed.failure["constraint"] == "SEATS"
    assert f"seats of main venue {MAIN_VENUE}" in failed.failure["detail"]
    assert "withdrawn" in failed.failure["detail"]
    assert failed.venue_decisions[MAIN_VENUE] == "WITHDRAWN"
    assert (await rig.state(first.request.evaluation_id)).to_json() == first.to_json()
    [main_withdrawn] = rig.published.of(evaluation_id, remote_eval_pb2.VenueSeatsWithdrawn)
    assert main_withdrawn.role == remote_eval_pb2.VENUE_ROLE_MAIN
    [scheduling_failed] = rig.published.of(evaluation_id, remote_eval_pb2.SchedulingFailed)
    assert "withdrawn" in scheduling_failed.detail
    assert failed.status == "cancelled" and failed.deadlines == []
    cancelled = rig.published.of(evaluation_id, remote_eval_pb2.EvaluationCancelled)
    assert cancelled and all("席位撤回" in c.reason for c in cancelled)
    booked = await rig.store.bookings(slot)
    assert evaluation_id not in booked.get(MAIN_VENUE, {})
