"""Partners' answers reach remote-eval.evaluations.v1 only once the scheduler has accepted them
(Scheduler.record_partner_answer), on the real broker and Redis with the live worker and API.

Reporting counts what the log says (副场远程异地评标数 from accepted venue decisions,
共享评标专家人次 from confirmations). An accept for a venue never asked for seats, an accept
for an evaluation that does not exist and a confirmation for a pseudonym not on the
committee are dead-lettered, saying why, and never written on the log; a valid accept is,
with the state it changed. Over HTTP, an accept that a decision taken meanwhile made void
(the partner's own decline re-planned the venue away) is refused, not recorded."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from google.protobuf.message import Message
from prt.v1 import remote_eval_pb2

from services.platform_core.events.envelope import Envelope
from services.platform_core.events.proto_values import to_timestamp
from services.platform_core.events.topics import (
    EVALUATIONS,
    dead_letter_topic,
    partner_answers_topic,
)
from services.platform_core.kafka.clients import create_producer
from services.platform_core.kafka.publisher import EventPublisher
from services.platform_core.settings import PlatformSettings
from services.remote_eval.reference import venue_directory
from tests.integration.remote_eval.topic_reading import events_of, read_topic_headers
from tests.integration.remote_eval.world import (
    PARTNERS,
    World,
    post_headers,
    publish_spare_seats,
    scheduled_evaluation,
)
from tests.support.polling import eventually
from tests.support.processes import ServiceProcess
from tests.support.remote_eval_outbox import remote_eval_outbox_empty

pytestmark = pytest.mark.integration

SCHEDULER_DEAD_LETTERS = dead_letter_topic("remote_eval.scheduler").name


def _venue_of(partner: str) -> str:
    return next(v for v, e in venue_directory().items() if e.venue.owner_code == partner)


def _accept(
    evaluation_id: str, partner: str, venue_id: str
) -> remote_eval_pb2.PartnerVenueDecision:
    return remote_eval_pb2.PartnerVenueDecision(
        evaluation_id=evaluation_id,
        occurred_at=to_timestamp(datetime.now(UTC)),
        partner_code=partner,
        venue_id=venue_id,
        decision=remote_eval_pb2.VENUE_DECISION_ACCEPTED,
    )


async def _on_answers_topic(
    settings: PlatformSettings, partner: str, *answers: Message
) -> list[str]:
    """``answers`` as ``partner`` writes them on its own answers topic, in order; their ids."""
    producer = create_producer(settings, client_id=f"test-answers-{partner}")
    await producer.start()
    ids: list[str] = []
    try:
        for answer in answers:
            evaluation_id = getattr(answer, "evaluation_id")  # noqa: B009 - every answer has one
            envelope = Envelope(message=answer, source=f"partner/{partner}", subject=evaluation_id)
            await EventPublisher(producer).publish(
                partner_answers_topic(partner), envelope, key=evaluation_id
            )
            ids.append(envelope.id)
    finally:
        await producer.stop()
    return ids


async def _dead_letter_reasons(settings: PlatformSettings, evaluation_id: str) -> list[str]:
    return [
        dict(headers)["dlq-reason"].decode()
        for key, _, headers in await read_topic_headers(
            settings.kafka_bootstrap_servers, SCHEDULER_DEAD_LETTERS
        )
        if key == evaluation_id.encode()
    ]


def _answers_on_log(
    logged: list[Envelope[Message]],
    *answer_types: type[Message],
) -> list[Any]:
    kinds = answer_types or (remote_eval_pb2.PartnerVenueDecision, remote_eval_pb2.ExpertConfirmed)
    return [e.message for e in logged if isinstance(e.message, kinds)]


async def test_answers_the_scheduler_refuses_are_dead_lettered_and_never_logged(
    world: World, remote_eval_api: ServiceProcess, settings: PlatformSettings
) -> None:
    slot_day = date(2047, 1, 1) + timedelta(days=random.randrange(1000))  # no other draws near
    async with httpx.AsyncClient(base_url=remote_eval_api.base_url, timeout=30) as client:
        await publish_spare_seats(client, world, slot_day, spare=40)
        view = await scheduled_evaluation(client, world, slot_day)
    evaluation_id = view["evaluation_id"]
    [asked] = [a for a in view["allocations"] if a["role"] == "SECONDARY"]
    asked_partner = venue_directory()[asked["venue_id"]].venue.owner_code
    # A partner of the world whose venue this evaluation did not ask for seats.
    unasked = next(p for p in PARTNERS if p != asked_partner)
    ghost = f"EV-GHOST-{uuid.uuid4()}"
    stranger = remote_eval_pb2.ExpertConfirmed(
        evaluation_id=evaluation_id,
        occurred_at=to_timestamp(datetime.now(UTC)),
        partner_code=asked_partner,
        expert_pseudonym=f"E-{uuid.uuid4().hex[:16]}",  # on no committee
    )
    # Three invalid answers, then a valid one.
    await _on_answers_topic(settings, unasked, _accept(evaluation_id, unasked, _venue_of(unasked)))
    await _on_answers_topic(settings, unasked, _accept(ghost, unasked, _venue_of(unasked)))
    await _on_answers_topic(
        settings,
        asked_partner,
        stranger,
        _accept(evaluation_id, asked_partner, asked["venue_id"]),
    )

    async def logged() -> list[Envelope[Message]]:
        await remote_eval_outbox_empty(settings)
        return await events_of(settings.kafka_bootstrap_servers, EVALUATIONS.name, evaluation_id)

    def accepted(events: list[Envelope[Message]]) -> bool:
        return any(
            isinstance(m, remote_eval_pb2.PartnerVenueDecision) for m in _answers_on_log(events)
        )

    # Each refused answer is dead-lettered, saying why. (Before the fix they were too, but
    # only after they had been written on the log, which the scheduler then read them from.)
    reasons = await eventually(
        lambda: _dead_letter_reasons(settings, evaluation_id), lambda r: len(r) >= 2
    )
    assert any(f"venue {_venue_of(unasked)} of partner {unasked}" in r for r in reasons), reasons
    assert any(stranger.expert_pseudonym in r for r in reasons), reasons
    [ghostly] = await eventually(lambda: _dead_letter_reasons(settings, ghost), bool)
    assert f"evaluation {ghost} is not scheduled" in ghostly
    # Only the valid accept is on the log: no accept for the venue never asked, none for the
    # evaluation that does not exist, no confirmation for the stranger (reporting would count
    # them as served and shared).
    events = await eventually(logged, accepted)
    [recorded] = _answers_on_log(events)
    assert (recorded.partner_code, recorded.venue_id) == (asked_partner, asked["venue_id"])
    assert recorded.decision == remote_eval_pb2.VENUE_DECISION_ACCEPTED
    assert await events_of(settings.kafka_bootstrap_servers, EVALUATIONS.name, ghost) == []


async def test_an_http_accept_made_void_by_the_partner_s_own_decline_is_refused(
    world: World, remote_eval_api: ServiceProcess, settings: PlatformSettings
) -> None:
    """The decline is applied (and the venue re-planned away) before its 202: the accept that
    follows is refused, and the log holds the decline alone for that venue."""
    slot_day = date(2049, 1, 1) + timedelta(days=random.randrange(1000))
    async with httpx.AsyncClient(base_url=remote_eval_api.base_url, timeout=30) as client:
        await publish_spare_seats(client, world, slot_day, spare=40)
        view = await scheduled_evaluation(client, world, slot_day)
        evaluation_id = view["evaluation_id"]
        # The plan may use one secondary venue or more: the first is declined.
        asked = next(a for a in view["allocations"] if a["role"] == "SECONDARY")
        venue = asked["venue_id"]
        owner = world.partner_keys[venue_directory()[venue].venue.owner_code]
        url = f"/v1/evaluations/{evaluation_id}/venue-decisions"
        declined = await client.post(
            url,
            headers=post_headers(owner),
            json={"venue_id": venue, "decision": "DECLINED", "reason": "评标室检修"},
        )
        assert declined.status_code == 202, declined.text
        # Applied before the answer came back: no waiting for the worker.
        now = (await client.get(f"/v1/evaluations/{evaluation_id}", headers=world.host)).json()
        assert venue not in {a["venue_id"] for a in now["allocations"]}, now
        accepted = await client.post(
            url, headers=post_headers(owner), json={"venue_id": venue, "decision": "ACCEPTED"}
        )
        assert accepted.status_code == 409, accepted.text
        assert accepted.json()["code"] in {"no_seat_request", "answer_refused"}
    await remote_eval_outbox_empty(settings)
    logged = await events_of(settings.kafka_bootstrap_servers, EVALUATIONS.name, evaluation_id)
    decisions = [
        m.decision
        for m in _answers_on_log(logged)
        if isinstance(m, remote_eval_pb2.PartnerVenueDecision) and m.venue_id == venue
    ]
    assert decisions == [remote_eval_pb2.VENUE_DECISION_DECLINED]


async def test_a_retried_answer_gets_its_recorded_202_not_a_refusal(
    world: World, remote_eval_api: ServiceProcess, settings: PlatformSettings
) -> None:
    """A decline changes the evaluation (the venue leaves it, the expert leaves the committee):
    a retry with the same Idempotency-Key — its 202 lost to a timeout, or a 503 while the broker
    was away — gets that 202 again (replayed), not 409 no_seat_request or 404
    expert_not_on_committee (found in the resilience review), and records nothing twice."""
    slot_day = date(2051, 1, 1) + timedelta(days=random.randrange(1000))
    async with httpx.AsyncClient(base_url=remote_eval_api.base_url, timeout=30) as client:
        await publish_spare_seats(client, world, slot_day, spare=40)
        view = await scheduled_evaluation(client, world, slot_day)
        evaluation_id = view["evaluation_id"]
        member = next(m for m in view["committee"] if m["pool_partner_code"] in PARTNERS)
        pool_key = world.partner_keys[member["pool_partner_code"]]
        refusal = {"confirmed": False, "reason": "CONFLICT_OF_INTEREST"}
        headers = post_headers(pool_key)
        url = f"/v1/evaluations/{evaluation_id}/experts/{member['expert_pseudonym']}/answer"
        answers = [await client.post(url, headers=headers, json=refusal) for _ in range(2)]
        assert [a.status_code for a in answers] == [202, 202], [a.text for a in answers]
        assert answers[1].headers.get("Idempotent-Replayed") == "true"
        assert answers[1].json() == answers[0].json()

        now = (await client.get(f"/v1/evaluations/{evaluation_id}", headers=world.host)).json()
        asked = next(a for a in now["allocations"] if a["role"] == "SECONDARY")
        venue = asked["venue_id"]
        owner = world.partner_keys[venue_directory()[venue].venue.owner_code]
        headers = post_headers(owner)
        decline = {"venue_id": venue, "decision": "DECLINED", "reason": "评标室检修"}
        url = f"/v1/evaluations/{evaluation_id}/venue-decisions"
        decisions = [await client.post(url, headers=headers, json=decline) for _ in range(2)]
        assert [d.status_code for d in decisions] == [202, 202], [d.text for d in decisions]
        assert decisions[1].headers.get("Idempotent-Replayed") == "true"
    await remote_eval_outbox_empty(settings)
    logged = await events_of(settings.kafka_bootstrap_servers, EVALUATIONS.name, evaluation_id)
    declines = _answers_on_log(logged, remote_eval_pb2.ExpertDeclined)
    venue_declines = [
        m
        for m in _answers_on_log(logged)
        if isinstance(m, remote_eval_pb2.PartnerVenueDecision) and m.venue_id == venue
    ]
    assert len(declines) == 1 and len(venue_declines) == 1
