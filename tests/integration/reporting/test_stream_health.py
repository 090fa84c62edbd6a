"""``GET /v1/operations/streams`` against the real broker: a consumer group's exact lag and a
dead-letter topic's exact count, for operators only; a broker that cannot be reached is a 503.

The topics are fresh (a partner stream of a partner that does not exist, and a dead-letter
topic of a consumer that does not exist), so nothing else writes to them and their offsets are
exactly what the test made them.
"""

from __future__ import annotations

import dataclasses
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, RecordsToDelete

from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.events.topics import TopicSpec, dead_letter_topic, partner_answers_topic
from services.platform_core.kafka.clients import create_producer
from services.platform_core.kafka.log_replay import commit_offsets
from services.platform_core.kafka.topic_admin import ensure_topics
from services.platform_core.settings import PlatformSettings
from tests.conftest import IssueKey
from tests.support.polling import eventually
from tests.support.processes import ServiceProcess, api_process, free_port

pytestmark = pytest.mark.integration

STREAMS = "/v1/operations/streams"


async def publish(settings: PlatformSettings, topic: str, by_partition: dict[int, int]) -> None:
    """``by_partition[p]`` records on partition ``p`` of ``topic``."""
    producer = create_producer(settings, client_id="stream-health-tests")
    await producer.start()
    try:
        for partition, count in by_partition.items():
            for n in range(count):
                await producer.send_and_wait(topic, f"record {n}".encode(), partition=partition)
    finally:
        await producer.stop()


async def delete_before(settings: PlatformSettings, partition: TopicPartition, offset: int) -> None:
    """What retention does to old segments: the partition's beginning offset moves on."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        await admin.delete_records({partition: RecordsToDelete(before_offset=offset)})
    finally:
        await admin.close()


async def streams(client: httpx.AsyncClient, key: str) -> dict[str, Any]:
    response = await client.get(STREAMS, headers={"X-API-Key": key})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_groups_exact_lag_and_a_dead_letter_topics_exact_count(
    settings: PlatformSettings, own_api: ServiceProcess, issue_key: IssueKey
) -> None:
    run = uuid.uuid4().hex[:8]
    stream = dataclasses.replace(partner_answers_topic(f"test-{run}"), partitions=3)
    dead_letters = dead_letter_topic(f"test-{run}")
    not_ours = TopicSpec(
        name=f"test-not-the-platforms-{run}", key="none", message_types=frozenset(), partitions=1
    )
    await ensure_topics(settings, [stream, dead_letters, not_ours])
    await publish(settings, stream.name, {0: 10, 1: 7, 2: 5})
    await publish(settings, dead_letters.name, {0: 4})
    await publish(settings, not_ours.name, {0: 2})
    # Partition 2's first two records are gone, as after retention: the group, which never
    # committed there, has 3 records left to read on it, not 5.
    await delete_before(settings, TopicPartition(stream.name, 2), 2)
    group = f"test-stream-health-{run}"
    await commit_offsets(
        settings, group, {TopicPartition(stream.name, 0): 6, TopicPartition(stream.name, 1): 7}
    )
    elsewhere = f"test-stream-health-elsewhere-{run}"
    await commit_offsets(settings, elsewhere, {TopicPartition(not_ours.name, 0): 0})
    operator = await issue_key(PrincipalKind.OPERATOR, "op-streams", "联席办值班员")

    async with httpx.AsyncClient(base_url=own_api.base_url, timeout=30) as client:
        # A reading is shared for a few seconds: wait for one taken after the commits.
        body = await eventually(
            lambda: streams(client, operator.key),
            lambda body: any(g["group_id"] == group for g in body["groups"]),
            timeout_s=30,
        )
        by_header = await client.get(STREAMS, headers={"X-API-Key": operator.key})

    assert next(g for g in body["groups"] if g["group_id"] == group) == {
        "group_id": group,
        "state": "Empty",  # committed by a consumer that has stopped
        "members": 0,
        "lag": 4 + 3,
        "topics": [{"topic": stream.name, "lag": 7}],
        "behind": [
            {"topic": stream.name, "partition": 0, "committed": 6, "end": 10, "lag": 4},
            {"topic": stream.name, "partition": 2, "committed": None, "end": 5, "lag": 3},
        ],
    }
    assert {
        "topic": dead_letters.name,
        "consumer": f"test-{run}",
        "records": 4,
    } in body["dead_letters"]
    assert elsewhere not in {g["group_id"] for g in body["groups"]}
    lags = [g["lag"] for g in body["groups"]]
    assert lags == sorted(lags, reverse=True)
    assert body["total_lag"] == sum(lags)
    assert body["dead_letter_records"] == sum(d["records"] for d in body["dead_letters"])
    assert by_header.status_code == 200, by_header.text


async def test_departments_and_callers_without_a_key_are_refused(
    own_api: ServiceProcess, issue_key: IssueKey
) -> None:
    department = await issue_key(
        PrincipalKind.DEPARTMENT, "ZJJ", "市住房城乡建设局", frozenset({"370102"})
    )
    async with httpx.AsyncClient(base_url=own_api.base_url, timeout=30) as client:
        as_header = await client.get(STREAMS, headers={"X-API-Key": department.key})
        without_key = await client.get(STREAMS)

    for refused in (as_header,):
        assert refused.status_code == 403, refused.text
        body = refused.json()
        assert set(body) == {"code", "message", "details"}
        assert body["code"] == "forbidden"
        assert "operator" in body["message"]
    assert without_key.status_code == 401, without_key.text
    assert without_key.json()["code"] == "unauthenticated"


async def test_a_broker_that_cannot_be_reached_is_a_503_in_the_platforms_error_format(
    stack_env: dict[str, str], log_dir: Path, issue_key: IssueKey
) -> None:
    nobody_listens = f"127.0.0.1:{free_port()}"
    api = api_process(
        "reporting-api-no-broker",
        "services.reporting.http_api:app",
        {**stack_env, "PRT_KAFKA_BOOTSTRAP_SERVERS": nobody_listens},
        log_dir,
    )
    operator = await issue_key(PrincipalKind.OPERATOR, "op-streams", "联席办值班员")
    api.start()
    try:
        api.wait_healthy()  # the API starts without the broker
        async with httpx.AsyncClient(base_url=api.base_url, timeout=30) as client:
            response = await client.get(STREAMS, headers={"X-API-Key": operator.key})
    finally:
        api.stop()

    assert response.status_code == 503, response.text
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == "event_log_unavailable"
    assert "KafkaConnectionError" in body["message"]
    assert response.headers["Retry-After"]
