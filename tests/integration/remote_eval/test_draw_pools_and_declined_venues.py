"""On the real broker and Redis (an in-process scheduler): many substitutes drawn on a large pool
keep the evaluation's state record small, each pool recorded once on the changelog and every
draw still proven by the audit; an outbox Kafka will not take is set aside instead of failing
every later decision; a substitute is told by when to confirm; after a failed re-plan nobody is
seated at the declined venue, and the venue accepting clears the failure."""

from __future__ import annotations

import base64
import json
import logging
import uuid
from datetime import UTC, datetime

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaTimeoutError
from prt.v1 import remote_eval_pb2

from services.platform_core.auth.principals import Principal, PrincipalKind
from services.platform_core.events.envelope import MAX_EVENT_BYTES, Envelope, encode_envelope
from services.platform_core.events.topics import (
    EVALUATION_STATES,
    EVALUATIONS,
    dead_letter_topic,
    partner_seat_requests_topic,
)
from services.platform_core.http.errors import ApiError
from services.remote_eval import event_codec
from services.remote_eval.http_api.audit import draw_proof
from services.remote_eval.rebuild import RebuildReport, _latest_states
from services.remote_eval.store import (
    OUTBOX_KEY,
    EvaluationState,
    draw_keeps_candidates,
    draw_pool_key,
)
from services.remote_eval.stream_worker import CONSUMER
from tests.integration.remote_eval.scheduler_rig import (
    HOST,
    MAIN_VENUE,
    PARTNER,
    PARTNER_VENUE,
    Rig,
    evaluation_request,
    far_slot,
)
from tests.integration.remote_eval.topic_reading import events_of, read_topic, read_topic_headers
from tests.support.polling import eventually

pytestmark = pytest.mark.integration

OPERATOR = Principal("test-operator", PrincipalKind.OPERATOR, "OP-TEST", "审计")


async def _scheduled(rig: Rig, specialty: str) -> EvaluationState:
    """Five technical experts: two at the host's main venue, three at partner 370300's."""
    state = await rig.scheduled(specialty, far_slot())
    assert {a.venue_id: a.seats for a in state.allocations} == {MAIN_VENUE: 2, PARTNER_VENUE: 3}
    return state


async def _decline(rig: Rig, evaluation_id: str, pseudonym: str) -> None:
    await rig.apply(
        remote_eval_pb2.ExpertDeclined(
            evaluation_id=evaluation_id, partner_code=PARTNER, expert_pseudonym=pseudonym
        )
    )


async def _venue_decision(rig: Rig, evaluation_id: str, decision: int) -> None:
    await rig.apply(
        remote_eval_pb2.PartnerVenueDecision(
            evaluation_id=evaluation_id,
            partner_code=PARTNER,
            venue_id=PARTNER_VENUE,
            decision=decision,  # type: ignore[arg-type]
        )
    )


async def test_many_substitutes_on_a_large_pool_keep_the_state_small_and_every_draw_proven(
    rig: Rig,
) -> None:
    specialty = await rig.fresh_pools({HOST: 2, PARTNER: 1_500})
    state = await _scheduled(rig, specialty)
    evaluation_id = state.request.evaluation_id
    substitutes = 8
    for _ in range(substitutes):
        refusing = next(m for m in state.members if m.assignment.venue_id == PARTNER_VENUE)
        await _decline(rig, evaluation_id, refusing.pseudonym)
        state = await rig.state(evaluation_id)
        assert state.failure is None
    assert len(state.draws) == 1 + substitutes
    assert not any(draw_keeps_candidates(d) for d in state.draws)

    # Every state record published stays far under what Kafka and consumers accept (with each
    # draw's ~1,500 candidates in it, the 5th substitute's passed 1 MB).
    states = [
        envelope
        for topic, envelope in rig.published.sent
        if topic == EVALUATION_STATES.name
        and isinstance(envelope.message, remote_eval_pb2.EvaluationStateRecorded)
        and envelope.subject == evaluation_id
    ]
    assert len(states) == 1 + substitutes
    sizes = [len(encode_envelope(e)[0]) for e in states]
    assert max(sizes) < 30_000 < MAX_EVENT_BYTES, sizes
    assert await rig.redis.hget(OUTBOX_KEY, "anything") is None

    # Each pool is on the changelog once, keyed by its hash, with candidates of that hash:
    # what the rebuild stores back for the audit.
    on_log: dict[str, bytes] = {}
    for key, _, envelope in await read_topic(
        rig.settings.kafka_bootstrap_servers, EVALUATION_STATES.name
    ):
        if envelope is not None and isinstance(
            envelope.message, remote_eval_pb2.DrawCandidatePoolRecorded
        ):
            pool_sha256, raw = event_codec.candidate_pool_from(envelope.message)
            assert key == pool_sha256.encode()
            on_log[pool_sha256] = raw
    assert {d["candidate_pool_sha256"] for d in state.draws} <= set(on_log)

    # The audit re-runs every draw from the state and its pool: identical.
    async def every_draw_proven() -> None:
        for index in range(len(state.draws)):
            proof = await draw_proof(evaluation_id, index, OPERATOR, rig.context)
            assert proof.identical, proof
            assert proof.recomputed_candidate_pool_sha256 == proof.recorded_candidate_pool_sha256
            assert proof.rerun_expert_ids == state.draws[index]["expert_ids"]

    await every_draw_proven()

    # Redis lost the pools: the proof says so (not a 500), and the rebuild's reading of the
    # changelog stores them back.
    pools = {d["candidate_pool_sha256"] for d in state.draws}
    await rig.redis.delete(*(draw_pool_key(p) for p in pools))
    with pytest.raises(ApiError) as missing:
        await draw_proof(evaluation_id, 0, OPERATOR, rig.context)
    assert missing.value.status == 409 and missing.value.code == "candidate_pool_missing"
    report = RebuildReport()
    await _latest_states(rig.settings, rig.store, report)
    assert report.candidate_pools >= len(pools)
    await every_draw_proven()


async def test_a_substitute_is_told_by_when_to_confirm(rig: Rig) -> None:
    specialty = await rig.fresh_pools({HOST: 2, PARTNER: 10})
    state = await _scheduled(rig, specialty)
    evaluation_id = state.request.evaluation_id
    refusing = next(m for m in state.members if m.assignment.venue_id == PARTNER_VENUE)
    rig.published.sent.clear()
    await _decline(rig, evaluation_id, refusing.pseudonym)
    drawn = {
        topic: envelope.message
        for topic, envelope in rig.published.sent
        if isinstance(envelope.message, remote_eval_pb2.SubstituteDrawn)
    }
    assert set(drawn) == {EVALUATIONS.name, partner_seat_requests_topic(PARTNER).name}
    state = await rig.state(evaluation_id)
    substitute = state.members[-1]
    [deadline] = [d for d in state.deadlines if d.subject == substitute.pseudonym]
    for message in drawn.values():
        assert isinstance(message, remote_eval_pb2.SubstituteDrawn)
        assert message.HasField("confirm_by")
        assert message.confirm_by.ToDatetime(tzinfo=UTC) == deadline.due


async def test_an_outbox_kafka_refuses_is_set_aside_and_the_next_decisions_go_on(
    rig: Rig,
) -> None:
    """A stored outbox whose state record is over the limit (as the states grew before): it
    is set aside with its reason, named on the dead-letter topic, and the next evaluation is
    decided and published."""
    evaluation_id = f"EV-TEST-{uuid.uuid4()}"
    oversized = Envelope(
        message=remote_eval_pb2.EvaluationStateRecorded(
            evaluation_id=evaluation_id, state_json="x" * (MAX_EVENT_BYTES + 10)
        ),
        source="test",
        subject=evaluation_id,
        time=datetime.now(UTC),
    )
    value, headers = encode_envelope(oversized)
    name = f"cause-{uuid.uuid4()}|{evaluation_id}"
    record = [
        EVALUATION_STATES.name,
        evaluation_id,
        base64.b64encode(value).decode(),
        [[h, base64.b64encode(raw).decode()] for h, raw in headers],
    ]
    await rig.redis.hset(OUTBOX_KEY, name, json.dumps([record]))

    specialty = await rig.fresh_pools({HOST: 2, PARTNER: 10})
    state = await _scheduled(rig, specialty)  # decided, and published, after the flush

    assert await rig.redis.hget(OUTBOX_KEY, name) is None
    set_aside = (await rig.store.set_aside_outboxes())[name]
    assert set_aside["records"] == [record]
    assert f"over the {MAX_EVENT_BYTES}" in set_aside["reason"]
    assert any(
        topic == EVALUATION_STATES.name and envelope.subject == state.request.evaluation_id
        for topic, envelope in rig.published.sent
    )
    notes = [
        dict(headers)
        for _, _, headers in await read_topic_headers(
            rig.settings.kafka_bootstrap_servers, dead_letter_topic(CONSUMER).name
        )
    ]
    assert any(
        n.get("ce_id") == oversized.id.encode() and name.encode() in n.get("dlq-reason", b"")
        for n in notes
    )


async def test_after_a_failed_replan_nobody_is_seated_at_the_declined_venue(rig: Rig) -> None:
    """Only 370300's pool has the specialty: its venue declined, the re-plan fails and the
    experts stay there; one of them refusing is not replaced at the declined venue; the
    venue accepting after all ends the failure the re-plan left."""
    specialty = await rig.fresh_pools({HOST: 2, PARTNER: 10})
    state = await _scheduled(rig, specialty)
    evaluation_id = state.request.evaluation_id
    await _venue_decision(rig, evaluation_id, remote_eval_pb2.VENUE_DECISION_DECLINED)
    state = await rig.state(evaluation_id)
    assert state.failure is not None and state.status == "scheduled"
    at_declined = [m for m in state.members if m.assignment.venue_id == PARTNER_VENUE]
    assert len(at_declined) == 3

    await _decline(rig, evaluation_id, at_declined[0].pseudonym)
    state = await rig.state(evaluation_id)
    seated_there = [m for m in state.members if m.assignment.venue_id == PARTNER_VENUE]
    assert [m.pseudonym for m in seated_there] == [m.pseudonym for m in at_declined[1:]]
    assert {a.venue_id: a.seats for a in state.allocations}.get(PARTNER_VENUE, 0) <= 3
    assert state.failure is not None  # the seat could not move: nobody else has the specialty

    # A second evaluation, whose re-plan failed but whose committee is whole: the venue's
    # acceptance ends the failure.
    other = await _scheduled(rig, specialty)
    await _venue_decision(rig, other.request.evaluation_id, remote_eval_pb2.VENUE_DECISION_DECLINED)
    assert (await rig.state(other.request.evaluation_id)).failure is not None
    await _venue_decision(rig, other.request.evaluation_id, remote_eval_pb2.VENUE_DECISION_ACCEPTED)
    accepted = await rig.state(other.request.evaluation_id)
    assert accepted.venue_decisions[PARTNER_VENUE] == "ACCEPTED"
    assert accepted.failure is None


async def test_an_outbox_the_broker_has_not_taken_waits_and_is_named(
    rig: Rig, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The broker does not acknowledge a decision's events (here: a timeout on every send): the
    decision stands (stored with its outbox in one MULTI), the outbox stays in Redis, and the
    log names the outbox and its topics — every later decision waits for it, so the operator
    must see what it is. Once the broker takes it, the worker's timer tick publishes it
    (publish_waiting_outboxes), or the next decision does, first."""
    specialty = await rig.fresh_pools({HOST: 2, PARTNER: 10})
    inner = rig.published._inner

    async def broker_away(*_: object) -> None:
        raise KafkaTimeoutError()

    monkeypatch.setattr(inner, "publish_all", broker_away)
    request = evaluation_request(specialty, far_slot())
    with caplog.at_level(logging.ERROR, logger="services.remote_eval.scheduler"):
        await rig.apply(event_codec.evaluation_requested(request, datetime.now(UTC)))
    [stuck] = [n for n in await rig.store.pending_outboxes() if request.evaluation_id in n]
    assert any(
        stuck in r.getMessage() and EVALUATION_STATES.name in r.getMessage() for r in caplog.records
    ), [r.getMessage() for r in caplog.records]
    with pytest.raises(KafkaTimeoutError):  # still away: a new decision waits (not taken)
        await rig.apply(
            event_codec.evaluation_requested(
                evaluation_request(specialty, far_slot()), datetime.now(UTC)
            )
        )

    monkeypatch.undo()
    await rig.scheduler.publish_waiting_outboxes()  # the worker's timer tick
    assert stuck not in await rig.store.pending_outboxes()
    assert (await rig.state(request.evaluation_id)).status == "scheduled"
    # On the log (by this scheduler, or a worker's tick beside the test: the outbox is shared).
    bootstrap = rig.settings.kafka_bootstrap_servers
    assert await events_of(bootstrap, EVALUATION_STATES.name, request.evaluation_id)


async def test_a_partner_topic_deleted_under_the_scheduler_is_made_again(rig: Rig) -> None:
    """A partner's seat-request topic deleted by mistake: the decision that needs it fails and
    its outbox waits (as any unacknowledged outbox), but the scheduler makes the missing topic
    again with its registered partitions, so the next decision publishes it — no restart."""
    specialty = await rig.fresh_pools({HOST: 2, PARTNER: 10})
    topic = partner_seat_requests_topic(PARTNER)
    admin = AIOKafkaAdminClient(bootstrap_servers=rig.settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        await admin.delete_topics([topic.name])
        await eventually(admin.list_topics, lambda names: topic.name not in names)
        request = evaluation_request(specialty, far_slot())
        # Stored, its outbox waiting (the partner topic is missing).
        await rig.apply(event_codec.evaluation_requested(request, datetime.now(UTC)))
        assert [n for n in await rig.store.pending_outboxes() if request.evaluation_id in n]
        assert topic.name in await admin.list_topics()  # made again
        [described] = await admin.describe_topics([topic.name])
        assert len(described["partitions"]) == (topic.partitions or rig.settings.topic_partitions)
    finally:
        await admin.close()
    await _scheduled(rig, specialty)  # the next decision publishes the waiting outbox first
    assert not [n for n in await rig.store.pending_outboxes() if request.evaluation_id in n]
    # On the partner's topic (published by this scheduler or, at its timer tick, by a worker
    # running beside the test: the outbox is the store's, not one process's).
    logged = await events_of(
        rig.settings.kafka_bootstrap_servers, topic.name, request.evaluation_id
    )
    assert any(isinstance(e.message, remote_eval_pb2.SeatRequestSent) for e in logged)


async def test_an_answer_applied_while_the_broker_is_away_stands(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A partner's decline is applied and stored, and only then the broker fails: the answer
    stands (no error: the API answers 202 and stores it under the Idempotency-Key, so a retry
    is not told 404 expert_not_on_committee by the evaluation the answer changed — diff
    review), its events wait in the outbox and go out at the worker's next tick."""
    specialty = await rig.fresh_pools({HOST: 2, PARTNER: 10})
    state = await _scheduled(rig, specialty)
    evaluation_id = state.request.evaluation_id
    refusing = next(m for m in state.members if m.assignment.pool_code == PARTNER)
    inner = rig.published._inner

    async def broker_away(*_: object) -> None:
        raise KafkaTimeoutError()

    # Nothing waits before the decision (the pre-decision flush has nothing to send): only the
    # decision's own events meet the broker away.
    await rig.scheduler.publish_waiting_outboxes()
    monkeypatch.setattr(inner, "publish_all", broker_away)
    declined = Envelope(
        message=remote_eval_pb2.ExpertDeclined(
            evaluation_id=evaluation_id, partner_code=PARTNER, expert_pseudonym=refusing.pseudonym
        ),
        source=f"partner/{PARTNER}",
        subject=evaluation_id,
        time=datetime.now(UTC),
    )
    await rig.scheduler.record_partner_answer(declined, PARTNER)  # no error
    after = await rig.state(evaluation_id)
    assert [m.status for m in after.former] == ["declined"]
    assert [n for n in await rig.store.pending_outboxes() if evaluation_id in n]
    monkeypatch.undo()
    await rig.scheduler.publish_waiting_outboxes()
    assert not [n for n in await rig.store.pending_outboxes() if evaluation_id in n]
    logged = await events_of(rig.settings.kafka_bootstrap_servers, EVALUATIONS.name, evaluation_id)
    assert any(isinstance(e.message, remote_eval_pb2.ExpertDeclined) for e in logged)
