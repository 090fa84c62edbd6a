"""Broker failure: registrations through intake's real API on a 3-node KRaft cluster
(replication factor 3, min.insync.replicas=2, unclean leader election off) while the leader of
the busiest partition of intake.projects.v1 is SIGKILLed several times.

A client with an Idempotency-Key per registration retries on 503 (after Retry-After), on a
409 "still in flight" and on a dropped connection, always with the same key, until the API
acknowledges. Afterwards the topic is read from the start: every acknowledged registration is in
the log exactly once (0 lost, 0 duplicated), and the API never answered a 5xx other than 503,
nor a 503 without Retry-After.

Slow (a cluster of its own, several broker restarts): runs only with PRT_FAULTS_CLUSTER=1, as
``bash deploy/faults.sh`` sets it. PRT_FAULTS_KAFKA_PORT picks the cluster's first port.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.events.envelope import decode_record
from services.platform_core.events.topics import PROJECT_EVENTS
from services.platform_core.settings import PlatformSettings
from tests.conftest import IssueKey
from tests.faults.conftest import HOME_REGION
from tests.support.faults import table
from tests.support.processes import REPO, ServiceProcess, api_process

pytestmark = [
    pytest.mark.faults,
    pytest.mark.skipif(
        os.environ.get("PRT_FAULTS_CLUSTER") != "1",
        reason="needs its own 3-node Kafka cluster: run bash deploy/faults.sh",
    ),
]

CLUSTER_PORT = int(os.environ.get("PRT_FAULTS_KAFKA_PORT", "29692"))
CLUSTER_RUNTIME = REPO / ".run" / f"faults-{CLUSTER_PORT}"
BOOTSTRAP = ",".join(f"127.0.0.1:{CLUSTER_PORT + 2 * i}" for i in range(3))
KILLS = int(os.environ.get("PRT_FAULTS_KILLS", "3"))
CLIENTS = 16
DOWN_S = 8.0  # how long a killed leader stays down
# Then the leader and one more node at once: below min.insync.replicas no write can be made
# durable, so the API must answer 503 with Retry-After (and nothing it refused may appear twice).
BELOW_MIN_ISR_S = float(os.environ.get("PRT_FAULTS_BELOW_MIN_ISR_S", "25"))
GIVE_UP_S = 180.0  # a registration not acknowledged by then counts as given up


def _kafka(*args: str) -> str:
    env = {
        **os.environ,
        "PRT_RUNTIME_DIR": str(CLUSTER_RUNTIME),
        "PRT_KAFKA_PORT": str(CLUSTER_PORT),
    }
    done = subprocess.run(
        ["bash", str(REPO / "deploy" / "local" / "kafka.sh"), *args],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    _kafka("start", "--nodes", "3")
    yield BOOTSTRAP
    _kafka("start")  # every node back, for the next run; deploy/faults.sh stops the cluster


@pytest.fixture(scope="module")
def clustered_intake_api(
    cluster: str, stack_env: dict[str, str], log_dir: Path
) -> Iterator[ServiceProcess]:
    env = {
        **stack_env,
        "PRT_KAFKA_BOOTSTRAP_SERVERS": cluster,
        "PRT_TOPIC_REPLICATION_FACTOR": "3",
        "PRT_TOPIC_MIN_INSYNC_REPLICAS": "2",
        "PRT_IDEMPOTENT_ANSWER_WITHIN_S": "10",
        "PRT_FAUST_DATA_DIR": str(CLUSTER_RUNTIME / "faust"),
    }
    process = api_process(
        "faults-cluster-intake-api", "services.intake.http_api.app:app", env, log_dir
    )
    process.start()
    try:
        process.wait_healthy(timeout_s=90)
        yield process
    finally:
        process.stop()


@dataclass
class Figures:
    sent: int = 0
    acknowledged: dict[str, str] = field(default_factory=dict)  # registration name -> event id
    unavailable_503: int = 0
    unavailable_without_retry_after: int = 0
    in_flight_409: int = 0
    connection_errors: int = 0
    other_5xx: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    given_up: int = 0
    kills: list[tuple[int, int]] = field(default_factory=list)  # (node, partition it led)


def _registration(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "category": "HOUSING",
        "region_code": HOME_REGION,
        "tenderer": {"name": "济南市长清区住房和城乡建设局", "credit_code": "91110000600037341L"},
        "budget_fen": 98_000_000,
    }


async def _register_until_acknowledged(
    client: httpx.AsyncClient, url: str, key: str, name: str, figures: Figures
) -> None:
    """One registration as a careful client sends it: one Idempotency-Key, retried as told."""
    figures.sent += 1
    headers = {"X-API-Key": key, "Idempotency-Key": str(uuid.uuid4())}
    body = _registration(name)
    deadline = time.monotonic() + GIVE_UP_S
    while time.monotonic() < deadline:
        try:
            response = await client.post(url, json=body, headers=headers)
        except httpx.TransportError:
            figures.connection_errors += 1
            await asyncio.sleep(1.0)
            continue
        status = response.status_code
        if status == 201:
            figures.acknowledged[name] = response.json()["event_id"]
            return
        if status == 503:
            figures.unavailable_503 += 1
            retry_after = response.headers.get("Retry-After")
            if retry_after is None:
                figures.unavailable_without_retry_after += 1
            await asyncio.sleep(min(float(retry_after or 1), 5.0))
        elif status == 409 and response.json().get("code") == "idempotency_key_in_flight":
            figures.in_flight_409 += 1
            await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
        elif status >= 500:
            figures.other_5xx.append(f"{status} {response.text[:300]}")
            await asyncio.sleep(1.0)
        else:
            figures.unexpected.append(f"{status} {response.text[:300]}")
            return
    figures.given_up += 1


async def _leader_of_busiest_partition() -> tuple[int, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=BOOTSTRAP, group_id=None)
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await consumer.start()
    await admin.start()
    try:
        described = (await admin.describe_topics([PROJECT_EVENTS.name]))[0]["partitions"]
        ends = await consumer.end_offsets(
            [TopicPartition(PROJECT_EVENTS.name, p["partition"]) for p in described]
        )
        busiest = max(
            described, key=lambda p: ends[TopicPartition(PROJECT_EVENTS.name, p["partition"])]
        )
        return int(busiest["leader"]), int(busiest["partition"])
    finally:
        await admin.close()
        await consumer.stop()


async def _wait_fully_replicated(timeout_s: float = 90.0) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            described = (await admin.describe_topics([PROJECT_EVENTS.name]))[0]["partitions"]
            if all(len(p["isr"]) == 3 for p in described):
                return
            await asyncio.sleep(0.5)
        raise TimeoutError("intake.projects.v1 did not get back to 3 in-sync replicas")
    finally:
        await admin.close()


async def _kill_leaders(figures: Figures, stop: asyncio.Event) -> None:
    try:
        await asyncio.sleep(3.0)  # load first
        for _ in range(KILLS):
            node, partition = await _leader_of_busiest_partition()
            await asyncio.to_thread(_kafka, "kill-node", str(node))
            figures.kills.append((node, partition))
            await asyncio.sleep(DOWN_S)
            await asyncio.to_thread(_kafka, "start-node", str(node))
            await _wait_fully_replicated()
            await asyncio.sleep(2.0)
        if BELOW_MIN_ISR_S > 0:
            node, partition = await _leader_of_busiest_partition()
            other = 1 + node % 3
            for victim in (node, other):
                await asyncio.to_thread(_kafka, "kill-node", str(victim))
                figures.kills.append((victim, partition))
            await asyncio.sleep(BELOW_MIN_ISR_S)
            for victim in (node, other):
                await asyncio.to_thread(_kafka, "start-node", str(victim))
            await _wait_fully_replicated()
            await asyncio.sleep(2.0)
    finally:
        stop.set()


async def _registrations_in_log(prefix: str) -> Counter[str]:
    """How often each registration name of this run is in the log (committed records)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=BOOTSTRAP, group_id=None, isolation_level="read_committed"
    )
    await consumer.start()
    try:
        count = PROJECT_EVENTS.partitions or PlatformSettings().topic_partitions
        partitions = [TopicPartition(PROJECT_EVENTS.name, p) for p in range(count)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        found: Counter[str] = Counter()
        remaining = {tp for tp in partitions if ends[tp] > 0}
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=1000, max_records=10_000)
            for messages in batch.values():
                for record in messages:
                    envelope = decode_record(record.value, list(record.headers))
                    name = getattr(envelope.message, "name", "")
                    if envelope.type.endswith("ProjectRegistered") and name.startswith(prefix):
                        found[name] += 1
            for tp in list(remaining):
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
        return found
    finally:
        await consumer.stop()


def _topic_settings() -> tuple[int, str]:
    described = _kafka("topics", "--describe", "--topic", PROJECT_EVENTS.name)
    factor = re.search(r"ReplicationFactor:\s*(\d+)", described)
    min_isr = re.search(r"min\.insync\.replicas=(\d+)", described)
    return int(factor.group(1)) if factor else 0, min_isr.group(1) if min_isr else "broker default"


async def test_acknowledged_registrations_survive_leader_kills_exactly_once(
    clustered_intake_api: ServiceProcess, issue_key: IssueKey
) -> None:
    factor, min_isr = _topic_settings()
    assert factor == 3, f"intake.projects.v1 has replication factor {factor}"
    assert min_isr == "2", f"intake.projects.v1 has min.insync.replicas {min_isr}"
    department = await issue_key(
        PrincipalKind.DEPARTMENT, "JYZX-CQ", "长清区公共资源交易中心", frozenset({HOME_REGION})
    )
    prefix = f"故障演练 {uuid.uuid4().hex[:8]} #"
    url = f"{clustered_intake_api.base_url}/v1/projects"
    figures = Figures()
    stop = asyncio.Event()
    counter = iter(range(10**9))
    started = time.monotonic()

    async def client_loop(client: httpx.AsyncClient) -> None:
        while not stop.is_set():
            name = f"{prefix}{next(counter)}"
            await _register_until_acknowledged(client, url, department.key, name, figures)

    async with httpx.AsyncClient(timeout=httpx.Timeout(30.0)) as client:
        await asyncio.gather(
            _kill_leaders(figures, stop), *(client_loop(client) for _ in range(CLIENTS))
        )
    elapsed = time.monotonic() - started

    found = await _registrations_in_log(prefix)
    acknowledged = set(figures.acknowledged)
    found_once = sum(1 for name in acknowledged if found[name] == 1)
    lost = sorted(name for name in acknowledged if found[name] == 0)
    duplicated = sorted(name for name, count in found.items() if count > 1)
    in_log_unacknowledged = sorted(set(found) - acknowledged)

    print(
        f"\n== Broker failure: {KILLS} leader kills, then 2 of 3 nodes down for "
        f"{BELOW_MIN_ISR_S:.0f}s; {elapsed:.0f}s, {CLIENTS} clients"
    )
    print("   kills (node, partition it led): " + ", ".join(f"{n}/{p}" for n, p in figures.kills))
    print(
        table(
            [
                "sent",
                "acknowledged",
                "found once",
                "lost",
                "duplicated",
                "503s",
                "503 w/o Retry-After",
                "5xx other than 503",
                "409 in flight",
                "conn. errors",
                "given up",
            ],
            [
                [
                    figures.sent,
                    len(acknowledged),
                    found_once,
                    len(lost),
                    len(duplicated),
                    figures.unavailable_503,
                    figures.unavailable_without_retry_after,
                    len(figures.other_5xx),
                    figures.in_flight_409,
                    figures.connection_errors,
                    figures.given_up,
                ]
            ],
        )
    )
    for line in figures.other_5xx[:5] + figures.unexpected[:5]:
        print(f"  {line}")
    for name in duplicated[:5]:
        print(f"  duplicated: {name} x{found[name]}")
    if in_log_unacknowledged:
        print(f"  in the log but never acknowledged (client gave up): {len(in_log_unacknowledged)}")

    assert len(figures.kills) == KILLS + (2 if BELOW_MIN_ISR_S > 0 else 0)
    if BELOW_MIN_ISR_S > 0:
        assert figures.unavailable_503 > 0, "no 503 while writes could not be made durable"
    assert acknowledged and figures.sent > 0
    assert not lost, f"{len(lost)} acknowledged registrations are not in the log: {lost[:5]}"
    assert not duplicated, f"{len(duplicated)} registrations are in the log more than once"
    assert not figures.other_5xx, f"5xx other than 503: {figures.other_5xx[:3]}"
    assert figures.unavailable_without_retry_after == 0
    assert not figures.unexpected, f"unexpected answers: {figures.unexpected[:3]}"
    assert figures.given_up == 0
