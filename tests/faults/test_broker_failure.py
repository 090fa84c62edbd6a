"""Broker failure: registrations through intake's real API and abnormal-behaviour reports
through abnormal_push's, on a 3-node KRaft cluster (replication factor 3,
min.insync.replicas=2, unclean leader election off), while the leader of the busiest partition
of intake.projects.v1 is SIGKILLed several times, and then two of the three nodes are down at
once (below min.insync.replicas: no write can be made durable).

A client with an Idempotency-Key per write retries on 503 (after Retry-After), on a
409 "still in flight" and on a dropped connection, always with the same key, until the API
acknowledges. Afterwards the topics are read from the start: every acknowledged write is in
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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from redis.asyncio import Redis

from services.platform_core.auth.api_keys import ApiKeyStore
from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.events.envelope import decode_record
from services.platform_core.events.topics import ABNORMAL_REPORTS, PROJECT_EVENTS, TopicSpec
from services.platform_core.settings import PlatformSettings
from tests.faults.conftest import HOME_REGION
from tests.support import fault_figures
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
CREDIT_CODE = "91110000600037341L"
DOWN_S = 8.0  # how long a killed leader stays down
# The clustered APIs keep their read models and keys in a Redis database of their own, as their
# events go to a Kafka of their own: in the test stack's database, their projects would stand
# without events in the test stack's log, and later parts compare that Redis with its rebuild.
CLUSTER_REDIS_DB = 1
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
def clustered_apis(
    cluster: str, stack_env: dict[str, str], log_dir: Path
) -> Iterator[dict[str, ServiceProcess]]:
    """intake's and abnormal_push's APIs on the cluster, creating topics with RF 3 and
    min.insync.replicas=2, answering 503 when the broker has not confirmed a write in 10 s."""
    env = {
        **stack_env,
        "PRT_REDIS_URL": _cluster_redis_url(stack_env["PRT_REDIS_URL"]),
        "PRT_KAFKA_BOOTSTRAP_SERVERS": cluster,
        "PRT_TOPIC_REPLICATION_FACTOR": "3",
        "PRT_TOPIC_MIN_INSYNC_REPLICAS": "2",
        "PRT_IDEMPOTENT_ANSWER_WITHIN_S": "10",
        "PRT_FAUST_DATA_DIR": str(CLUSTER_RUNTIME / "faust"),
    }
    processes = {
        "registrations": api_process(
            "faults-cluster-intake-api", "services.intake.http_api.app:app", env, log_dir
        ),
        "reports": api_process(
            "faults-cluster-abnormal-push-api",
            "services.abnormal_push.http_api.app:app",
            env,
            log_dir,
        ),
    }
    try:
        for process in processes.values():
            process.start()
        for process in processes.values():
            process.wait_healthy(timeout_s=90)
        yield processes
    finally:
        for process in processes.values():
            process.stop()


def _cluster_redis_url(stack_url: str) -> str:
    return f"{stack_url.rsplit('/', 1)[0]}/{CLUSTER_REDIS_DB}"


@dataclass(frozen=True)
class WriteKind:
    """One kind of write the clients drive: where it goes and how it is found in the log."""

    label: str
    path: str
    topic: TopicSpec
    event_type: str
    marker_field: str  # the event field carrying the write's unique marker

    def body(self, marker: str) -> dict[str, Any]:
        if self.label == "registrations":
            return _registration(marker)
        return _report(marker)


WRITES = (
    WriteKind("registrations", "/v1/projects", PROJECT_EVENTS, "ProjectRegistered", "name"),
    WriteKind("reports", "/v1/reports", ABNORMAL_REPORTS, "AbnormalReportFiled", "description"),
)
CLIENTS_PER_KIND = {"registrations": 10, "reports": 6}


@dataclass
class Figures:
    sent: int = 0
    acknowledged: set[str] = field(default_factory=set)  # markers of acknowledged writes
    unavailable_503: int = 0
    unavailable_without_retry_after: int = 0
    in_flight_409: int = 0
    connection_errors: int = 0
    other_5xx: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    given_up: int = 0


def _report(marker: str) -> dict[str, Any]:
    return {
        "subjects": [{"kind": "BIDDER", "credit_code": CREDIT_CODE, "name": "某建设有限公司"}],
        "project_id": f"p-{uuid.uuid4()}",
        "bid_section_code": "BD01",
        "project_category": "HOUSING",
        "behaviour_type": "FALSE_MATERIALS",
        "severity": "MEDIUM",
        "description": marker,
        "evidence": [{"sha256": "a" * 64, "location": "docstore://evidence/1.pdf"}],
        "act_at": datetime.now(UTC).isoformat(),
    }


def _registration(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "category": "HOUSING",
        "region_code": HOME_REGION,
        "tenderer": {"name": "济南市长清区住房和城乡建设局", "credit_code": CREDIT_CODE},
        "budget_fen": 98_000_000,
    }


async def _write_until_acknowledged(
    client: httpx.AsyncClient,
    *,
    url: str,
    key: str,
    body: dict[str, Any],
    marker: str,
    figures: Figures,
) -> None:
    """One write as a careful client sends it: one Idempotency-Key, retried as told."""
    figures.sent += 1
    headers = {"X-API-Key": key, "Idempotency-Key": str(uuid.uuid4())}
    deadline = time.monotonic() + GIVE_UP_S
    while time.monotonic() < deadline:
        try:
            response = await client.post(url, json=body, headers=headers)
        except httpx.TransportError:
            figures.connection_errors += 1
            await asyncio.sleep(1.0)
            continue
        status = response.status_code
        if status in (201, 202):
            figures.acknowledged.add(marker)
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


async def _kill_leaders(kills: list[tuple[int, int]], stop: asyncio.Event) -> None:
    try:
        await asyncio.sleep(3.0)  # load first
        for _ in range(KILLS):
            node, partition = await _leader_of_busiest_partition()
            await asyncio.to_thread(_kafka, "kill-node", str(node))
            kills.append((node, partition))
            await asyncio.sleep(DOWN_S)
            await asyncio.to_thread(_kafka, "start-node", str(node))
            await _wait_fully_replicated()
            await asyncio.sleep(2.0)
        if BELOW_MIN_ISR_S > 0:
            node, partition = await _leader_of_busiest_partition()
            other = 1 + node % 3
            for victim in (node, other):
                await asyncio.to_thread(_kafka, "kill-node", str(victim))
                kills.append((victim, partition))
            await asyncio.sleep(BELOW_MIN_ISR_S)
            for victim in (node, other):
                await asyncio.to_thread(_kafka, "start-node", str(victim))
            await _wait_fully_replicated()
            await asyncio.sleep(2.0)
    finally:
        stop.set()


async def _markers_in_log(write: WriteKind, prefix: str) -> Counter[str]:
    """How often each write of this run is in its topic (committed records)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=BOOTSTRAP, group_id=None, isolation_level="read_committed"
    )
    await consumer.start()
    try:
        count = write.topic.partitions or PlatformSettings().topic_partitions
        partitions = [TopicPartition(write.topic.name, p) for p in range(count)]
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
                    marker = getattr(envelope.message, write.marker_field, "")
                    if envelope.type.endswith(write.event_type) and marker.startswith(prefix):
                        found[marker] += 1
            for tp in list(remaining):
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
        return found
    finally:
        await consumer.stop()


def _topic_settings(topic: TopicSpec) -> tuple[int, str]:
    described = _kafka("topics", "--describe", "--topic", topic.name)
    factor = re.search(r"ReplicationFactor:\s*(\d+)", described)
    min_isr = re.search(r"min\.insync\.replicas=(\d+)", described)
    return int(factor.group(1)) if factor else 0, min_isr.group(1) if min_isr else "broker default"


async def test_acknowledged_writes_survive_leader_kills_exactly_once(
    clustered_apis: dict[str, ServiceProcess], settings: PlatformSettings
) -> None:
    for write in WRITES:
        factor, min_isr = _topic_settings(write.topic)
        assert factor == 3, f"{write.topic.name} has replication factor {factor}"
        assert min_isr == "2", f"{write.topic.name} has min.insync.replicas {min_isr}"
    redis = Redis.from_url(_cluster_redis_url(settings.redis_url))
    try:
        store = ApiKeyStore(redis, settings.api_key_pepper)
        registering = await store.issue(
            PrincipalKind.DEPARTMENT, "JYZX-CQ", "长清区公共资源交易中心", frozenset({HOME_REGION})
        )
        # Reports are filed by a department of the registry (departments.json).
        reporting = await store.issue(
            PrincipalKind.DEPARTMENT, "JYZX", "济南公共资源交易中心", frozenset({"370100"})
        )
    finally:
        await redis.aclose()
    keys = {"registrations": registering.key, "reports": reporting.key}
    prefix = f"故障演练 {uuid.uuid4().hex[:8]} #"
    figures = {write.label: Figures() for write in WRITES}
    kills: list[tuple[int, int]] = []
    stop = asyncio.Event()
    counter = iter(range(10**9))
    started = time.monotonic()

    async def client_loop(client: httpx.AsyncClient, write: WriteKind) -> None:
        url = f"{clustered_apis[write.label].base_url}{write.path}"
        while not stop.is_set():
            marker = f"{prefix}{next(counter)}"
            await _write_until_acknowledged(
                client,
                url=url,
                key=keys[write.label],
                body=write.body(marker),
                marker=marker,
                figures=figures[write.label],
            )

    async with httpx.AsyncClient(timeout=httpx.Timeout(30.0)) as client:
        await asyncio.gather(
            _kill_leaders(kills, stop),
            *(
                client_loop(client, write)
                for write in WRITES
                for _ in range(CLIENTS_PER_KIND[write.label])
            ),
        )
    elapsed = time.monotonic() - started

    rows = []
    failures: list[str] = []
    for write in WRITES:
        got = figures[write.label]
        found = await _markers_in_log(write, prefix)
        found_once = sum(1 for marker in got.acknowledged if found[marker] == 1)
        lost = sorted(marker for marker in got.acknowledged if found[marker] == 0)
        duplicated = sorted(marker for marker, count in found.items() if count > 1)
        rows.append(
            [
                write.label,
                got.sent,
                len(got.acknowledged),
                found_once,
                len(lost),
                len(duplicated),
                got.unavailable_503,
                got.unavailable_without_retry_after,
                len(got.other_5xx),
                got.in_flight_409,
                got.connection_errors,
                got.given_up,
            ]
        )
        failures += [f"{write.label}: lost {m}" for m in lost[:3]]
        failures += [f"{write.label}: {m} x{found[m]} in the log" for m in duplicated[:3]]
        failures += [f"{write.label}: {line}" for line in got.other_5xx[:3] + got.unexpected[:3]]
        if got.unavailable_without_retry_after or got.given_up or not got.acknowledged:
            failures.append(f"{write.label}: 503 without Retry-After, gave up or none acknowledged")
        fault_figures.record(
            f"broker failure: {write.label}",
            passed=not any(line.startswith(f"{write.label}:") for line in failures),
            sent=got.sent,
            acknowledged=len(got.acknowledged),
            found_once=found_once,
            lost=len(lost),
            duplicated=len(duplicated),
            server_5xx=len(got.other_5xx),
            kills=len(kills),
            note=f"{got.unavailable_503} answers 503 + Retry-After",
        )

    print(
        f"\n== Broker failure: {KILLS} leader kills, then 2 of 3 nodes down for "
        f"{BELOW_MIN_ISR_S:.0f}s; {elapsed:.0f}s, {sum(CLIENTS_PER_KIND.values())} clients"
    )
    print("   kills (node, partition it led): " + ", ".join(f"{n}/{p}" for n, p in kills))
    print(
        table(
            [
                "writes",
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
            rows,
        )
    )
    for line in failures:
        print(f"  FAIL {line}")

    assert len(kills) == KILLS + (2 if BELOW_MIN_ISR_S > 0 else 0)
    if BELOW_MIN_ISR_S > 0:
        unavailable = sum(f.unavailable_503 for f in figures.values())
        assert unavailable > 0, "no 503 while writes could not be made durable"
    assert not failures, f"{len(failures)} failures; see above"
