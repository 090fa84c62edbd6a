"""The remote-evaluation service on the secured broker: the API and the worker authenticate as
the service's own user, ``remote-eval``, with only the ACLs of services/kafka_access_plan.py
(PRT_KAFKA_SECURITY_PROTOCOL=SASL_SSL: TLS, then SCRAM); partner 370300, with
its own SCRAM user, reads its seat request from its topic and accepts on its answers topic; the
host sees the acceptance. Redis database 3 keeps this stack's state apart from the other tests'.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from prt.v1 import remote_eval_pb2
from redis.asyncio import Redis

from services.platform_core.auth.api_keys import ApiKeyStore
from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.credit_code import check_character
from services.platform_core.events.envelope import Envelope, decode_record, encode_envelope
from services.platform_core.events.proto_values import to_timestamp
from services.platform_core.events.topics import partner_answers_topic, partner_seat_requests_topic
from services.platform_core.settings import PlatformSettings
from tests.conftest import REDIS_PORT, _running
from tests.integration.conftest import PARTNER_A, secured_env
from tests.support.polling import eventually
from tests.support.processes import ServiceProcess, api_process, worker_process
from tests.support.secure_broker import SecureBroker

pytestmark = pytest.mark.integration

REDIS_URL = f"redis://127.0.0.1:{REDIS_PORT}/3"


@pytest.fixture(scope="module")
def secure_env(stack_env: dict[str, str], secure_broker: SecureBroker) -> dict[str, str]:
    return secured_env(stack_env, secure_broker, "remote-eval", redis_db=3)


@pytest.fixture(scope="module")
def secure_api(secure_env: dict[str, str], log_dir: Path) -> Iterator[ServiceProcess]:
    yield from _running(
        api_process(
            "remote-eval-api-secure", "services.remote_eval.http_api.app:app", secure_env, log_dir
        )
    )


@pytest.fixture(scope="module")
def secure_worker(secure_env: dict[str, str], log_dir: Path) -> Iterator[ServiceProcess]:
    yield from _running(
        worker_process(
            "remote-eval-worker-secure", "services.remote_eval.stream_worker", secure_env, log_dir
        )
    )


@pytest.fixture(scope="module")
async def keys(settings: PlatformSettings) -> AsyncIterator[dict[str, dict[str, str]]]:
    redis = Redis.from_url(REDIS_URL)
    store = ApiKeyStore(redis, settings.api_key_pepper)
    host = await store.issue(PrincipalKind.DEPARTMENT, "JYZX", "交易中心", frozenset({"370100"}))
    operator = await store.issue(PrincipalKind.OPERATOR, "op", "值班员")
    yield {
        "host": {"Authorization": f"Bearer {host.key}"},
        "operator": {"Authorization": f"Bearer {operator.key}"},
    }
    await redis.aclose()


def _code(n: int) -> str:
    body = f"91370100{n:09d}"
    return body + check_character(body)


async def test_a_partner_answers_its_seat_request_on_the_secured_broker(
    secure_api: ServiceProcess,
    secure_worker: ServiceProcess,
    secure_broker: SecureBroker,
    keys: dict[str, dict[str, str]],
) -> None:
    marker = uuid.uuid4().hex[:8].upper()
    slot_day = date(2045, 1, 1) + timedelta(days=int(marker, 16) % 3000)
    async with httpx.AsyncClient(base_url=secure_api.base_url, timeout=30) as client:
        n = int(marker, 16) % 10**7
        for pool in ("370100", PARTNER_A):
            for kind, count in (("TECHNICAL", 4), ("ECONOMIC", 3)):
                for _ in range(count):
                    n += 1
                    added = await client.post(
                        "/v1/experts",
                        headers={**keys["operator"], "Idempotency-Key": str(uuid.uuid4())},
                        json={
                            "pool_code": pool,
                            "kind": kind,
                            "specialties": [f"{kind[0]}{marker}"],
                            "employer_code": _code(n),
                            "name": f"专家{n}",
                            "phone": f"137{n:08d}",
                            "id_number": f"37010219800101{n % 10000:04d}",
                        },
                    )
                    assert added.status_code == 201, added.text
        created = await client.post(
            "/v1/evaluations",
            headers={**keys["host"], "Idempotency-Key": str(uuid.uuid4())},
            json={
                "project_id": f"P-{marker}",
                "bid_section_code": "001",
                "slot": {"date": slot_day.isoformat(), "half_day": "AM"},
                "committee_size": 5,
                "specialties": [
                    {"specialty_code": f"T{marker}", "kind": "TECHNICAL", "count": 3},
                    {"specialty_code": f"E{marker}", "kind": "ECONOMIC", "count": 2},
                ],
                "main_venue_id": "JN-370100-1",
                "main_venue_experts": 2,
                "required_partner_codes": [PARTNER_A],
            },
        )
        assert created.status_code == 202, created.text
        evaluation_id = created.json()["evaluation_id"]

        partner = secure_broker.sasl(f"partner-{PARTNER_A}")
        consumer = AIOKafkaConsumer(
            partner_seat_requests_topic(PARTNER_A).name,
            **partner,
            group_id=f"partner.{PARTNER_A}.client-{marker}",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        seen: list[Envelope[Any]] = []
        try:

            async def requests() -> list[Any]:
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    seen.extend(decode_record(r.value, r.headers) for r in records)
                return [
                    e.message
                    for e in seen
                    if e.subject == evaluation_id
                    and isinstance(e.message, remote_eval_pb2.SeatRequestSent)
                ]

            request = (await eventually(requests, bool))[0]
        finally:
            await consumer.stop()

        producer = AIOKafkaProducer(**partner, acks="all", enable_idempotence=True)
        await producer.start()
        try:
            accept = remote_eval_pb2.PartnerVenueDecision(
                evaluation_id=evaluation_id,
                occurred_at=to_timestamp(datetime.now(UTC)),
                partner_code=PARTNER_A,
                venue_id=request.venue_id,
                decision=remote_eval_pb2.VENUE_DECISION_ACCEPTED,
            )
            value, headers = encode_envelope(
                Envelope(message=accept, source=f"partner/{PARTNER_A}", subject=evaluation_id)
            )
            await producer.send_and_wait(
                partner_answers_topic(PARTNER_A).name,
                value=value,
                key=evaluation_id.encode(),
                headers=headers,
            )
        finally:
            await producer.stop()

        async def view() -> dict[str, Any]:
            r = await client.get(f"/v1/evaluations/{evaluation_id}", headers=keys["host"])
            return dict(r.json())

        accepted = await eventually(
            view,
            lambda v: any(
                a["venue_id"] == request.venue_id and a.get("decision") == "ACCEPTED"
                for a in v.get("allocations", [])
            ),
        )
        assert accepted["status"] == "scheduled"
