"""The remote-evaluation flow on the real broker and Redis: request, schedule, seat requests on
the partner's stream, draw proof, a declined venue re-planned, a refusal and a no-show replaced
(补抽), answers over Kafka, the award (or the trade's termination) unsealing the committee — and
no expert identity in any partner stream, SSE message or API response before the award."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

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
    partner_seat_requests_topic,
)
from services.platform_core.kafka.clients import create_producer
from services.platform_core.kafka.publisher import EventPublisher
from services.platform_core.settings import PlatformSettings
from services.remote_eval.domain.pseudonyms import supervision_pseudonym
from tests.integration.remote_eval.topic_reading import events_of, read_topic, read_topic_headers
from tests.integration.remote_eval.world import (
    MAIN_VENUE,
    PARTNERS,
    World,
    logged_events,
    post_headers,
    publish_spare_seats,
    request_body,
    scheduled_evaluation,
    wait_decided,
)
from tests.support.polling import eventually
from tests.support.processes import ServiceProcess
from tests.support.project_events import (
    contract_awarded,
    publish_project_event,
    publish_project_events,
    tender_failed,
)

pytestmark = pytest.mark.integration


def _types(envelopes: list[Envelope[Any]]) -> list[str]:
    return [e.type.removeprefix("prt.v1.") for e in envelopes]


async def test_request_is_refused_when_the_committee_breaks_the_rules(
    world: World, remote_eval_api: ServiceProcess
) -> None:
    async with httpx.AsyncClient(base_url=remote_eval_api.base_url, timeout=10) as client:
        response = await client.post(
            "/v1/evaluations",
            headers=post_headers(world.host),
            json=request_body(world, date(2031, 1, 6), committee_size=6),
        )
        assert response.status_code == 422
        body = response.json()
        assert body["code"] == "committee_composition"
        assert "odd number of members, not 6" in body["message"]
        no_key = await client.post(
            "/v1/evaluations", headers=world.host, json=request_body(world, date(2031, 1, 6))
        )
        assert no_key.status_code == 400 and no_key.json()["code"] == "idempotency_key_required"
        partner = await client.post(
            "/v1/evaluations",
            headers=post_headers(world.partner_keys["370300"]),
            json=request_body(world, date(2031, 1, 6)),
        )
        assert partner.status_code == 403


async def test_full_flow_with_replan_substitutes_award_and_sealed_identities(  # noqa: PLR0915
    world: World, remote_eval_api: ServiceProcess, settings: PlatformSettings
) -> None:
    bootstrap = settings.kafka_bootstrap_servers
    responses: list[str] = []
    slot_day = datetime.now(ZoneInfo("Asia/Shanghai")).date()  # today: check-in is allowed
    async with httpx.AsyncClient(base_url=remote_eval_api.base_url, timeout=30) as client:
        # Today's seats are shared by every run of this test: the owners publish plenty.
        await publish_spare_seats(client, world, slot_day, spare=40)
        headers = post_headers(world.host)
        body = request_body(world, slot_day)
        first = await client.post("/v1/evaluations", headers=headers, json=body)
        again = await client.post("/v1/evaluations", headers=headers, json=body)
        assert first.status_code == 202, first.text
        assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
        evaluation_id = first.json()["evaluation_id"]

        view = await wait_decided(client, world, evaluation_id)
        assert view["status"] == "scheduled", view
        responses.append(json.dumps(view, ensure_ascii=False))
        committee = view["committee"]
        assert len(committee) == 5
        assert sum(1 for m in committee if m["venue_id"] == MAIN_VENUE) == 2
        secondary = [a for a in view["allocations"] if a["role"] == "SECONDARY"]
        assert secondary and secondary[0]["partner_code"] == "370300"  # preferred partner

        # The schedule and the seat request are events on the real broker.
        evaluation_events = await logged_events(settings, evaluation_id)
        kinds = _types(evaluation_events)
        assert kinds[:2] == ["EvaluationRequested", "EvaluationScheduled"]
        assert kinds.count("ExpertDrawn") == 5 and "SeatRequestSent" in kinds
        partner_events = await events_of(
            bootstrap, partner_seat_requests_topic("370300").name, evaluation_id
        )
        assert "SeatRequestSent" in _types(partner_events)

        # The draw proof re-runs the recorded draw to the identical experts.
        proof = await client.get(
            f"/v1/evaluations/{evaluation_id}/draws/0/proof", headers=world.operator
        )
        assert proof.status_code == 200 and proof.json()["identical"] is True
        assert proof.json()["rerun_expert_ids"] == proof.json()["recorded_expert_ids"]
        refused = await client.get(f"/v1/evaluations/{evaluation_id}/draws", headers=world.host)
        assert refused.status_code == 403

        # Another partner cannot answer 370300's seat request.
        venue = secondary[0]["venue_id"]
        wrong = await client.post(
            f"/v1/evaluations/{evaluation_id}/venue-decisions",
            headers=post_headers(world.partner_keys["370500"]),
            json={"venue_id": venue, "decision": "ACCEPTED"},
        )
        assert wrong.status_code == 403 and wrong.json()["code"] == "forbidden_owner"

        # 370300 declines: the scheduler re-plans with another partner's venue.
        declined = await client.post(
            f"/v1/evaluations/{evaluation_id}/venue-decisions",
            headers=post_headers(world.partner_keys["370300"]),
            json={"venue_id": venue, "decision": "DECLINED", "reason": "评标室检修"},
        )
        assert declined.status_code == 202, declined.text

        async def replanned() -> dict[str, Any]:
            r = await client.get(f"/v1/evaluations/{evaluation_id}", headers=world.host)
            return dict(r.json())

        after_decline = await eventually(
            replanned, lambda b: venue not in {a["venue_id"] for a in b["allocations"]}
        )
        responses.append(json.dumps(after_decline, ensure_ascii=False))
        assert len(after_decline["committee"]) == 5
        assert all(m["venue_id"] != venue for m in after_decline["committee"])
        assert after_decline["draws"] == 2
        events = _types(await logged_events(settings, evaluation_id))
        assert "PartnerVenueDecision" in events
        assert events.count("EvaluationScheduled") == 2
        substitutes = [
            e.message
            for e in await logged_events(settings, evaluation_id)
            if isinstance(e.message, remote_eval_pb2.SubstituteDrawn)
        ]
        assert substitutes and all(
            s.reason == remote_eval_pb2.SUBSTITUTION_REASON_VENUE_DECLINED for s in substitutes
        )

        # A main-venue expert confirmed, then did not show up: the host reports it, a
        # substitute is drawn. (Only a confirmed expert can be absent.)
        absent = next(m for m in after_decline["committee"] if m["venue_id"] == MAIN_VENUE)
        confirmed = await client.post(
            f"/v1/evaluations/{evaluation_id}/experts/{absent['expert_pseudonym']}/answer",
            headers=post_headers(world.host),
            json={"confirmed": True},
        )
        assert confirmed.status_code == 202, confirmed.text
        await eventually(
            replanned,
            lambda b: any(
                (m["expert_pseudonym"], m["status"]) == (absent["expert_pseudonym"], "confirmed")
                for m in b["committee"]
            ),
        )
        no_show = await client.post(
            f"/v1/evaluations/{evaluation_id}/experts/{absent['expert_pseudonym']}/no-show",
            headers=post_headers(world.host),
            json={"venue_id": MAIN_VENUE},
        )
        assert no_show.status_code == 202, no_show.text
        after_no_show = await eventually(
            replanned,
            lambda b: absent["expert_pseudonym"] in {m["expert_pseudonym"] for m in b["replaced"]},
        )
        responses.append(json.dumps(after_no_show, ensure_ascii=False))
        replacement = [m for m in after_no_show["committee"] if m["venue_id"] == MAIN_VENUE]
        assert len(replacement) == 2
        reasons = [
            e.message.reason
            for e in await logged_events(settings, evaluation_id)
            if isinstance(e.message, remote_eval_pb2.SubstituteDrawn)
        ]
        assert remote_eval_pb2.SUBSTITUTION_REASON_NO_SHOW in reasons
        # Supervision hears of the absence under the expert's pseudonym for every evaluation:
        # one of the registry's experts', and not the one the host and partners see here.
        [absence] = [
            e.message
            for e in await logged_events(settings, evaluation_id)
            if isinstance(e.message, remote_eval_pb2.ExpertAbsenceRecorded)
        ]
        assert (absence.expert_pseudonym, absence.venue_id) == (
            absent["expert_pseudonym"],
            MAIN_VENUE,
        )
        secret = settings.remote_eval_draw_secret
        assert absence.supervision_pseudonym in {
            supervision_pseudonym(secret, expert_id) for expert_id in world.expert_ids
        }

        # A secondary-pool expert refuses (reported by the pool's partner): 补抽 under the same
        # rules, from the same pool, for the same seat.
        refusing = next(m for m in after_no_show["committee"] if m["venue_id"] != MAIN_VENUE)
        refusal = await client.post(
            f"/v1/evaluations/{evaluation_id}/experts/{refusing['expert_pseudonym']}/answer",
            headers=post_headers(world.partner_keys[refusing["pool_partner_code"]]),
            json={"confirmed": False, "reason": "CONFLICT_OF_INTEREST"},
        )
        assert refusal.status_code == 202, refusal.text
        after_no_show = await eventually(
            replanned,
            lambda b: (
                refusing["expert_pseudonym"] in {m["expert_pseudonym"] for m in b["replaced"]}
            ),
        )
        responses.append(json.dumps(after_no_show, ensure_ascii=False))
        successor = [
            m
            for m in after_no_show["committee"]
            if m["venue_id"] == refusing["venue_id"]
            and m["specialty_code"] == refusing["specialty_code"]
            and m["expert_pseudonym"] != refusing["expert_pseudonym"]
        ]
        assert successor and successor[-1]["pool_partner_code"] == refusing["pool_partner_code"]
        reasons = [
            e.message.reason
            for e in await logged_events(settings, evaluation_id)
            if isinstance(e.message, remote_eval_pb2.SubstituteDrawn)
        ]
        assert remote_eval_pb2.SUBSTITUTION_REASON_DECLINED in reasons
        proofs = await client.get(f"/v1/evaluations/{evaluation_id}/draws", headers=world.operator)
        assert [d["purpose"] for d in proofs.json()] == [
            "initial",
            "venue_declined",
            "no_show",
            "declined",
        ]
        responses.append(proofs.text)
        for index in range(4):
            proof = await client.get(
                f"/v1/evaluations/{evaluation_id}/draws/{index}/proof", headers=world.operator
            )
            assert proof.json()["identical"] is True

        # A partner confirms one of its experts over Kafka, on its own answers topic.
        secondary_member = next(
            m for m in after_no_show["committee"] if m["venue_id"] != MAIN_VENUE
        )
        pool = secondary_member["pool_partner_code"]
        producer = create_producer(settings, client_id="test-partner")
        await producer.start()
        try:
            answer = remote_eval_pb2.ExpertConfirmed(
                evaluation_id=evaluation_id,
                occurred_at=to_timestamp(datetime.now(UTC)),
                partner_code=pool,
                expert_pseudonym=secondary_member["expert_pseudonym"],
            )
            await EventPublisher(producer).publish(
                partner_answers_topic(pool),
                Envelope(message=answer, source=f"partner/{pool}", subject=evaluation_id),
                key=evaluation_id,
            )
            await eventually(
                replanned,
                lambda b: any(
                    m["expert_pseudonym"] == secondary_member["expert_pseudonym"]
                    and m["status"] == "confirmed"
                    for m in b["committee"]
                ),
            )
            # The SSE gateway gives the partner the same stream; another partner is refused.
            stream = await client.get(
                f"/v1/partners/{pool}/stream",
                params={"max_events": 1},
                headers=world.partner_keys[pool],
            )
            assert stream.status_code == 200
            sse_text = stream.text
            assert "event: prt.v1." in sse_text
            other = next(code for code in PARTNERS if code != pool)
            denied = await client.get(
                f"/v1/partners/{pool}/stream", headers=world.partner_keys[other]
            )
            assert denied.status_code == 403

            # Committee names are sealed before the award...
            sealed = await client.get(
                f"/v1/evaluations/{evaluation_id}/committee", headers=world.host
            )
            assert sealed.status_code == 409 and sealed.json()["code"] == "committee_sealed"
            # ...and identities are shown to the checking-in venue, on the day only, to it only.
            check_in = await client.get(
                f"/v1/venues/{MAIN_VENUE}/check-in",
                params={"evaluation_id": evaluation_id},
                headers=world.host,
            )
            assert check_in.status_code == 200 and len(check_in.json()) == 2
            assert all(p["name"] in world.planted for p in check_in.json())
            foreign = await client.get(
                f"/v1/venues/{MAIN_VENUE}/check-in",
                params={"evaluation_id": evaluation_id},
                headers=world.partner_keys[pool],
            )
            assert foreign.status_code == 403

            # Nothing before the award carries a planted name, phone or ID number: not the API
            # responses, not the partners' topics, not the SSE streams, not the evaluations log.
            texts = [*responses, sse_text]
            for partner in PARTNERS:
                records = await read_topic(bootstrap, partner_seat_requests_topic(partner).name)
                for _, raw, _ in records:
                    texts.append((raw or b"").decode("utf-8", "replace"))
                if records:
                    whole = await client.get(
                        f"/v1/partners/{partner}/stream",
                        params={"max_events": len(records)},
                        headers=world.partner_keys[partner],
                    )
                    assert whole.text.count("event: prt.v1.") == len(records)
                    texts.append(whole.text)
            # The pseudonym that links an expert's evaluations stays with supervision.
            assert not [t for t in texts if absence.supervision_pseudonym in t]
            for _, raw, _ in await read_topic(bootstrap, EVALUATIONS.name):
                texts.append((raw or b"").decode("utf-8", "replace"))
            leaked = [p for p in world.planted for t in texts if p in t]
            assert leaked == []
            assert len(texts) > 10

            # The award arrives on intake's topic: the committee is unsealed.
            state = await client.get(f"/v1/evaluations/{evaluation_id}", headers=world.host)
            project_id = state.json()["project_id"]
            await publish_project_event(EventPublisher(producer), contract_awarded(project_id))
        finally:
            await producer.stop()

        async def committee() -> httpx.Response:
            return await client.get(
                f"/v1/evaluations/{evaluation_id}/committee", headers=world.host
            )

        unsealed = await eventually(committee, lambda r: r.status_code == 200)
        names = [m["name"] for m in unsealed.json() if m["attendance"] == "SAT"]
        assert len(names) == 5 and all(name in world.planted for name in names)
        # The expert who did not come is listed too, under the pseudonym the no-show named.
        [missing] = [m for m in unsealed.json() if m["attendance"] == "NO_SHOW"]
        assert missing["pseudonym"] == absent["expert_pseudonym"]
        assert missing["name"] in world.planted and missing["name"] not in names
        [unsealing] = [
            e.message
            for e in await logged_events(settings, evaluation_id)
            if isinstance(e.message, remote_eval_pb2.CommitteeUnsealed)
        ]
        assert unsealing.cause == remote_eval_pb2.UNSEALING_CAUSE_CONTRACT_AWARDED


async def _dead_lettered(settings: PlatformSettings, evaluation_id: str) -> list[bytes]:
    """The reasons remote_eval's scheduler gave for the records on ``evaluation_id`` it refused,
    once there is one."""
    dead_letters = dead_letter_topic("remote_eval.scheduler").name

    async def reasons() -> list[bytes]:
        return [
            dict(headers)["dlq-reason"]
            for key, _, headers in await read_topic_headers(
                settings.kafka_bootstrap_servers, dead_letters
            )
            if key == evaluation_id.encode()
        ]

    return await eventually(reasons, bool)


async def _answer_on_kafka(settings: PlatformSettings, partner: str, answer: Message) -> None:
    """``answer`` as ``partner`` writes it on its own answers topic."""
    evaluation_id = getattr(answer, "evaluation_id")  # noqa: B009 - every answer has one
    producer = create_producer(settings, client_id=f"test-partner-{partner}")
    await producer.start()
    try:
        await EventPublisher(producer).publish(
            partner_answers_topic(partner),
            Envelope(message=answer, source=f"partner/{partner}", subject=evaluation_id),
            key=evaluation_id,
        )
    finally:
        await producer.stop()


async def test_a_trade_terminated_on_the_day_unseals_its_committee(
    world: World, remote_eval_api: ServiceProcess, settings: PlatformSettings
) -> None:
    """No award will come for a section terminated on (or after) its evaluation's day, so the
    termination unseals the committee, saying why; another section's leaves it sealed."""
    slot_day = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    async with httpx.AsyncClient(base_url=remote_eval_api.base_url, timeout=30) as client:
        await publish_spare_seats(client, world, slot_day, spare=40)
        view = await scheduled_evaluation(client, world, slot_day)
        evaluation_id = view["evaluation_id"]
        project_id = view["project_id"]
        await publish_project_events(  # another section first: it unseals nothing
            settings, tender_failed(project_id, "002"), tender_failed(project_id, "001")
        )

        async def committee() -> httpx.Response:
            return await client.get(
                f"/v1/evaluations/{evaluation_id}/committee", headers=world.host
            )

        unsealed = await eventually(committee, lambda r: r.status_code == 200)
        assert [m["attendance"] for m in unsealed.json()] == ["SAT"] * 5
        # The committee's work is over: a no-show reported now is refused, saying why.
        member = next(m for m in view["committee"] if m["venue_id"] == MAIN_VENUE)
        late = await client.post(
            f"/v1/evaluations/{evaluation_id}/experts/{member['expert_pseudonym']}/no-show",
            headers=post_headers(world.host),
            json={"venue_id": MAIN_VENUE},
        )
        assert late.status_code == 409 and late.json()["code"] == "committee_unsealed", late.text
    # Nor is an answer written on a partner's own topic: it is dead-lettered, saying why.
    remote = next(m for m in view["committee"] if m["pool_partner_code"] in PARTNERS)
    confirmed = remote_eval_pb2.ExpertConfirmed(
        evaluation_id=evaluation_id,
        occurred_at=to_timestamp(datetime.now(UTC)),
        partner_code=remote["pool_partner_code"],
        expert_pseudonym=remote["expert_pseudonym"],
    )
    await _answer_on_kafka(settings, remote["pool_partner_code"], confirmed)
    assert b"is unsealed" in (await _dead_lettered(settings, evaluation_id))[0]
    logged = await logged_events(settings, evaluation_id)
    [unsealing] = [
        e.message for e in logged if isinstance(e.message, remote_eval_pb2.CommitteeUnsealed)
    ]
    assert unsealing.cause == remote_eval_pb2.UNSEALING_CAUSE_TRADE_TERMINATED
    assert unsealing.project_id == project_id and unsealing.bid_section_code == "001"
    assert "EvaluationCancelled" not in _types(logged)


async def test_a_trade_terminated_before_the_day_cancels_its_evaluation(
    world: World, remote_eval_api: ServiceProcess, settings: PlatformSettings
) -> None:
    """A section terminated before its evaluation's day: the evaluation is cancelled, its seats
    are free again, each partner it used is told its part, and the committee stays sealed."""
    slot_day = date(2051, 1, 1) + timedelta(days=random.randrange(1000))  # no other draws near
    slot = {"date": slot_day.isoformat(), "half_day": "AM"}
    async with httpx.AsyncClient(base_url=remote_eval_api.base_url, timeout=30) as client:
        view = await scheduled_evaluation(client, world, slot_day)
        evaluation_id = view["evaluation_id"]
        booked = await client.get(
            f"/v1/venues/{MAIN_VENUE}/capacity", params=slot, headers=world.host
        )
        assert booked.json()["booked"] > 0
        await publish_project_events(settings, tender_failed(view["project_id"], "001"))

        async def current() -> dict[str, Any]:
            r = await client.get(f"/v1/evaluations/{evaluation_id}", headers=world.host)
            return dict(r.json())

        await eventually(current, lambda v: v["status"] == "cancelled")
        freed = await client.get(
            f"/v1/venues/{MAIN_VENUE}/capacity", params=slot, headers=world.host
        )
        assert freed.json()["booked"] == 0
        sealed = await client.get(f"/v1/evaluations/{evaluation_id}/committee", headers=world.host)
        assert sealed.status_code == 409 and sealed.json()["code"] == "committee_sealed"
    logged = await logged_events(settings, evaluation_id)
    [cancelled] = [
        e.message for e in logged if isinstance(e.message, remote_eval_pb2.EvaluationCancelled)
    ]
    assert "CommitteeUnsealed" not in _types(logged)
    pseudonyms = sorted(m["expert_pseudonym"] for m in view["committee"])
    assert list(cancelled.released_expert_pseudonyms) == pseudonyms
    assert set(cancelled.released_venue_ids) == {a["venue_id"] for a in view["allocations"]}
    assert "流标" in cancelled.reason and "投标人不足三家" in cancelled.reason
    # A partner's answer to the cancelled evaluation is dead-lettered, saying why.
    secondary = next(a for a in view["allocations"] if a["role"] == "SECONDARY")
    accepted = remote_eval_pb2.PartnerVenueDecision(
        evaluation_id=evaluation_id,
        occurred_at=to_timestamp(datetime.now(UTC)),
        partner_code=secondary["partner_code"],
        venue_id=secondary["venue_id"],
        decision=remote_eval_pb2.VENUE_DECISION_ACCEPTED,
    )
    await _answer_on_kafka(settings, secondary["partner_code"], accepted)
    assert b"is not scheduled" in (await _dead_lettered(settings, evaluation_id))[0]
    # Each partner it used hears of its own venue and experts only.
    for allocation in (a for a in view["allocations"] if a["role"] == "SECONDARY"):
        partner = allocation["partner_code"]
        told = [
            e.message
            for e in await events_of(
                settings.kafka_bootstrap_servers,
                partner_seat_requests_topic(partner).name,
                evaluation_id,
            )
            if isinstance(e.message, remote_eval_pb2.EvaluationCancelled)
        ]
        assert len(told) == 1, told
        assert list(told[0].released_venue_ids) == [allocation["venue_id"]]
        own = sorted(
            m["expert_pseudonym"] for m in view["committee"] if m["pool_partner_code"] == partner
        )
        assert list(told[0].released_expert_pseudonyms) == own


async def test_a_slot_without_seats_fails_with_the_constraint_and_a_later_slot(
    world: World, remote_eval_api: ServiceProcess, settings: PlatformSettings
) -> None:
    slot_day = date(2032, 1, 1) + timedelta(days=random.randrange(3000))
    async with httpx.AsyncClient(base_url=remote_eval_api.base_url, timeout=30) as client:
        withdrawn = await client.post(
            f"/v1/venues/{MAIN_VENUE}/capacity",
            headers=post_headers(world.host),
            json={
                "slot": {"date": slot_day.isoformat(), "half_day": "AM"},
                "seats": 0,
                "fee_fen": 30000,
            },
        )
        assert withdrawn.status_code == 202, withdrawn.text
        foreign = await client.post(
            f"/v1/venues/{MAIN_VENUE}/capacity",
            headers=post_headers(world.partner_keys["370300"]),
            json={
                "slot": {"date": slot_day.isoformat(), "half_day": "AM"},
                "seats": 9,
                "fee_fen": 1,
            },
        )
        assert foreign.status_code == 403

        async def offered() -> int:
            # The worker applies the publication (another topic than the requests'): the
            # request must not be planned before it.
            r = await client.get(
                f"/v1/venues/{MAIN_VENUE}/capacity",
                params={"date": slot_day.isoformat(), "half_day": "AM"},
                headers=world.host,
            )
            return int(r.json()["seats"]) if r.status_code == 200 else -1

        await eventually(offered, lambda seats: seats == 0)
        created = await client.post(
            "/v1/evaluations", headers=post_headers(world.host), json=request_body(world, slot_day)
        )

        async def outcome() -> dict[str, Any]:
            r = await client.get(
                f"/v1/evaluations/{created.json()['evaluation_id']}", headers=world.host
            )
            return r.json() if r.status_code == 200 else {}

        view = await eventually(outcome, lambda b: b.get("status") in ("scheduled", "failed"))
        assert view["status"] == "failed", view
        assert view["failure"]["constraint"] == "SEATS"
        assert f"main venue {MAIN_VENUE} has 0 free seats" in view["failure"]["detail"]
        alternative = view["failure"]["alternative"]
        assert alternative is not None
        assert alternative["slot"] == f"{slot_day.isoformat()}-PM"
        failed = [
            e.message
            for e in await logged_events(settings, created.json()["evaluation_id"])
            if isinstance(e.message, remote_eval_pb2.SchedulingFailed)
        ]
        assert failed and failed[0].failed_constraint == remote_eval_pb2.SCHEDULING_CONSTRAINT_SEATS


def _has_replaced(pseudonym: str) -> Callable[[dict[str, Any]], bool]:
    """The expert was replaced, or the evaluation says why not."""
    return lambda view: (
        view["failure"] is not None
        or pseudonym in {m["expert_pseudonym"] for m in view["replaced"]}
    )


async def test_a_seat_whose_partner_has_nobody_left_moves_to_another_partner(
    world: World, remote_eval_api: ServiceProcess, settings: PlatformSettings
) -> None:
    """A partner's experts of one kind refuse one after another. Each refusal draws a substitute
    from the same pool for the same seat (补抽) until the pool has nobody of that kind left;
    the next refusal moves the seat to another partner's venue, which is asked for it, and the
    committee stays whole."""
    slot_day = date(2041, 1, 1) + timedelta(days=random.randrange(1000))  # no other draws near
    async with httpx.AsyncClient(base_url=remote_eval_api.base_url, timeout=30) as client:
        view = await scheduled_evaluation(client, world, slot_day)
        evaluation_id = view["evaluation_id"]
        first = next(m for m in view["committee"] if m["venue_id"] != MAIN_VENUE)
        venue, pool, kind = first["venue_id"], first["pool_partner_code"], first["kind"]

        async def current() -> dict[str, Any]:
            r = await client.get(f"/v1/evaluations/{evaluation_id}", headers=world.host)
            return dict(r.json())

        moved: dict[str, Any] | None = None
        for _ in range(10):  # the world's pools hold 5 technical and 4 economic experts each
            refusing = next(
                m
                for m in view["committee"]
                if (m["venue_id"], m["pool_partner_code"], m["kind"]) == (venue, pool, kind)
            )
            refusal = await client.post(
                f"/v1/evaluations/{evaluation_id}/experts/{refusing['expert_pseudonym']}/answer",
                headers=post_headers(world.partner_keys[pool]),
                json={"confirmed": False, "reason": "UNAVAILABLE"},
            )
            assert refusal.status_code == 202, refusal.text
            before = {m["expert_pseudonym"] for m in view["committee"]}
            view = await eventually(current, _has_replaced(refusing["expert_pseudonym"]))
            assert view["failure"] is None, view
            assert len(view["committee"]) == 5
            (newcomer,) = [m for m in view["committee"] if m["expert_pseudonym"] not in before]
            assert (newcomer["kind"], newcomer["specialty_code"]) == (
                refusing["kind"],
                refusing["specialty_code"],
            )
            if newcomer["venue_id"] != venue:
                moved = newcomer
                break
            assert newcomer["pool_partner_code"] == pool  # 补抽: the same pool, the same seat
        assert moved is not None, view  # the pool ran out: the seat moved
        assert moved["pool_partner_code"] not in {pool, "370100"}  # another partner's pool
        allocations = {a["venue_id"]: a["seats"] for a in view["allocations"]}
        assert allocations[moved["venue_id"]] >= 1
        events = await logged_events(settings, evaluation_id)
        asked = {
            e.message.venue_id
            for e in events
            if isinstance(e.message, remote_eval_pb2.SeatRequestSent)
        }
        assert moved["venue_id"] in asked  # the new partner is asked for its seat
        assert not [e for e in events if isinstance(e.message, remote_eval_pb2.SchedulingFailed)]
        assert _types(events).count("EvaluationScheduled") == 2  # the first plan, the move
        reasons = {
            e.message.reason
            for e in events
            if isinstance(e.message, remote_eval_pb2.SubstituteDrawn)
        }
        assert reasons == {remote_eval_pb2.SUBSTITUTION_REASON_DECLINED}
        proof = await client.get(
            f"/v1/evaluations/{evaluation_id}/draws/{view['draws'] - 1}/proof",
            headers=world.operator,
        )
        assert proof.status_code == 200 and proof.json()["identical"] is True


async def test_asyncapi_document_lists_partner_topics(
    world: World, remote_eval_api: ServiceProcess
) -> None:
    async with httpx.AsyncClient(base_url=remote_eval_api.base_url, timeout=10) as client:
        document = (
            await client.get("/v1/asyncapi.json", headers=world.partner_keys["370300"])
        ).json()
    assert document["asyncapi"] == "3.0.0"
    requests = document["channels"]["partnerSeatRequests"]
    assert requests["address"] == "partner.{partnerCode}.seat-requests.v1"
    assert set(requests["messages"]) == {
        "SeatRequestSent",
        "ExpertDrawn",
        "SubstituteDrawn",
        "EvaluationCancelled",
        "VenueSeatsWithdrawn",
    }
    assert "370300" in requests["parameters"]["partnerCode"]["enum"]
    answers = document["channels"]["partnerAnswers"]["messages"]
    assert "expert_pseudonym" in answers["ExpertConfirmed"]["payload"]["properties"]


async def test_a_forged_partner_answer_is_dead_lettered(
    world: World, remote_eval_api: ServiceProcess, settings: PlatformSettings
) -> None:
    """An answer on 370300's topic claiming to come from 370500 is not recorded."""
    marker = f"EV-forged-{uuid.uuid4().hex[:8]}"
    producer = create_producer(settings, client_id="test-forger")
    await producer.start()
    try:
        forged = remote_eval_pb2.PartnerVenueDecision(
            evaluation_id=marker,
            partner_code="370500",
            venue_id="DY-370500-1",
            decision=remote_eval_pb2.VENUE_DECISION_DECLINED,
        )
        await EventPublisher(producer).publish(
            partner_answers_topic("370300"),
            Envelope(message=forged, source="partner/370300", subject=marker),
            key=marker,
        )
    finally:
        await producer.stop()
    found = await _dead_lettered(settings, marker)
    assert b"names partner '370500', not 370300" in found[0]
    assert not await events_of(settings.kafka_bootstrap_servers, EVALUATIONS.name, marker)
