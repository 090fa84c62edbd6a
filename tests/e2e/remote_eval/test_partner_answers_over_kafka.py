"""End to end, the way a partner city with a Kafka client works: it reads its seat request and
its drawn experts from its own stream, and answers on its own answers topic — accepting the
venue and confirming the experts — and the host sees the schedule confirmed."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from prt.v1 import remote_eval_pb2

from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.credit_code import check_character
from services.platform_core.events.envelope import Envelope, decode_record
from services.platform_core.events.proto_values import to_timestamp
from services.platform_core.events.topics import partner_answers_topic, partner_seat_requests_topic
from services.platform_core.kafka.clients import create_producer
from services.platform_core.kafka.publisher import EventPublisher
from services.platform_core.settings import PlatformSettings
from services.remote_eval.reference import venue_directory
from tests.conftest import IssueKey
from tests.support.polling import eventually
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.integration

PARTNER = "370300"


def _code(n: int) -> str:
    body = f"91370300{n:09d}"
    return body + check_character(body)


def _concerns_only_partner(message: Any) -> bool:
    if isinstance(message, remote_eval_pb2.SeatRequestSent | remote_eval_pb2.VenueSeatsWithdrawn):
        return bool(message.partner_code == PARTNER)
    if isinstance(message, remote_eval_pb2.EvaluationCancelled):
        # Another test's cancellation: only this partner's venues are named.
        owners = {venue_directory()[v].venue.owner_code for v in message.released_venue_ids}
        return owners <= {PARTNER}
    return bool(message.assignment.pool_partner_code == PARTNER)


async def test_a_partner_accepts_and_confirms_over_its_own_topics(
    remote_eval_api: ServiceProcess,
    remote_eval_worker: ServiceProcess,
    issue_key: IssueKey,
    settings: PlatformSettings,
) -> None:
    marker = uuid.uuid4().hex[:8].upper()
    host_key = await issue_key(PrincipalKind.DEPARTMENT, "JYZX", "交易中心", frozenset({"370100"}))
    operator_key = await issue_key(PrincipalKind.OPERATOR, "op", "值班员")
    host = {"Authorization": f"Bearer {host_key.key}"}
    operator = {"Authorization": f"Bearer {operator_key.key}"}
    slot_day = date(2040, 1, 1) + timedelta(days=int(marker, 16) % 3000)
    async with httpx.AsyncClient(base_url=remote_eval_api.base_url, timeout=30) as client:
        n = int(marker, 16) % 10**7
        for pool in ("370100", PARTNER):
            for kind, count in (("TECHNICAL", 4), ("ECONOMIC", 3)):
                for _ in range(count):
                    n += 1
                    r = await client.post(
                        "/v1/experts",
                        headers={**operator, "Idempotency-Key": str(uuid.uuid4())},
                        json={
                            "pool_code": pool,
                            "kind": kind,
                            "specialties": [f"{kind[0]}{marker}"],
                            "employer_code": _code(n),
                            "name": f"专家{n}",
                            "phone": f"138{n:08d}",
                            "id_number": f"37030219800101{n % 10000:04d}",
                        },
                    )
                    assert r.status_code == 201, r.text
        created = await client.post(
            "/v1/evaluations",
            headers={**host, "Idempotency-Key": str(uuid.uuid4())},
            json={
                "project_id": f"P-{marker}",
                "bid_section_code": "001",
                "slot": {"date": slot_day.isoformat(), "half_day": "PM"},
                "committee_size": 5,
                "specialties": [
                    {"specialty_code": f"T{marker}", "kind": "TECHNICAL", "count": 3},
                    {"specialty_code": f"E{marker}", "kind": "ECONOMIC", "count": 2},
                ],
                "main_venue_id": "JN-370100-1",
                "main_venue_experts": 2,
                "required_partner_codes": [PARTNER],
            },
        )
        assert created.status_code == 202, created.text
        evaluation_id = created.json()["evaluation_id"]

        # The partner's client: its own consumer group, its own topic.
        consumer = AIOKafkaConsumer(
            partner_seat_requests_topic(PARTNER).name,
            bootstrap_servers=settings.kafka_bootstrap_servers,
            group_id=f"partner.{PARTNER}.client-{marker}",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        seen: list[Envelope[Any]] = []
        try:

            async def read() -> list[Envelope[Any]]:
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    seen.extend(decode_record(r.value, r.headers) for r in records)
                return [e for e in seen if e.subject == evaluation_id]

            mine = await eventually(
                read,
                lambda events: (
                    sum(isinstance(e.message, remote_eval_pb2.ExpertDrawn) for e in events) == 3
                    and any(isinstance(e.message, remote_eval_pb2.SeatRequestSent) for e in events)
                ),
            )
        finally:
            await consumer.stop()
        # The partner's stream carries only what concerns the partner.
        assert [e for e in seen if not _concerns_only_partner(e.message)] == []
        request = next(
            e.message for e in mine if isinstance(e.message, remote_eval_pb2.SeatRequestSent)
        )
        drawn = [
            e.message.assignment for e in mine if isinstance(e.message, remote_eval_pb2.ExpertDrawn)
        ]
        assert request.seats == 3 and {a.venue_id for a in drawn} == {request.venue_id}

        producer = create_producer(settings, client_id=f"partner-{PARTNER}")
        await producer.start()
        try:
            publisher = EventPublisher(producer)
            answers = partner_answers_topic(PARTNER)
            now = to_timestamp(datetime.now(UTC))
            messages: list[Any] = [
                remote_eval_pb2.PartnerVenueDecision(
                    evaluation_id=evaluation_id,
                    occurred_at=now,
                    partner_code=PARTNER,
                    venue_id=request.venue_id,
                    decision=remote_eval_pb2.VENUE_DECISION_ACCEPTED,
                ),
                *(
                    remote_eval_pb2.ExpertConfirmed(
                        evaluation_id=evaluation_id,
                        occurred_at=now,
                        partner_code=PARTNER,
                        expert_pseudonym=a.expert_pseudonym,
                    )
                    for a in drawn
                ),
            ]
            await asyncio.gather(
                *(
                    publisher.publish(
                        answers,
                        Envelope(message=m, source=f"partner/{PARTNER}", subject=evaluation_id),
                        key=evaluation_id,
                    )
                    for m in messages
                )
            )
        finally:
            await producer.stop()

        async def view() -> dict[str, Any]:
            r = await client.get(f"/v1/evaluations/{evaluation_id}", headers=host)
            return dict(r.json())

        confirmed = await eventually(
            view,
            lambda v: (
                all(
                    m["status"] == "confirmed"
                    for m in v["committee"]
                    if m["pool_partner_code"] == PARTNER
                )
                and any(a.get("decision") == "ACCEPTED" for a in v["allocations"])
            ),
        )
        assert {a["partner_code"] for a in confirmed["allocations"]} == {"370100", PARTNER}
