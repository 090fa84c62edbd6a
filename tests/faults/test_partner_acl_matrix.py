"""Isolation on the broker, in full: every partner principal of the registry, and every
service's and the operator's principal, against every topic of the registry (event topics,
every partner's two topics, every consumer's dead-letter topic), reading and writing, on a real
Kafka started by ``kafka.sh start --secure`` (TLS, SASL/SCRAM-SHA-512, KRaft StandardAuthorizer,
prefixed ACLs per partner, the services' ACLs from services/kafka_access_plan.py).

The expected outcome of each cell comes from the registry or the plan, not from a list: a
partner reads the topics under its own prefix (``partner.<code>.``) and writes only its answers
topic; a service or the operator does what its ``PrincipalAccess`` allows; everything else is
refused with an authorisation error. An allowed read must return the record the platform put
there; an allowed write must land. The matrices are written to
.run/faults/partner-acl-matrix.tsv and .run/faults/service-acl-matrix.tsv.

A broker of its own: port PRT_FAULTS_SECURE_KAFKA_PORT (default the test port + 700, clear of
the 3-node cluster's ports from 29692), runtime directory .run/test-secure-<port>. Runs with
PRT_FAULTS_SECURE=1 (deploy/test.sh and deploy/faults.sh set it).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    KafkaError,
    TopicAlreadyExistsError,
    TopicAuthorizationFailedError,
)

from services.kafka_access_plan import platform_plan
from services.platform_core.events.topics import (
    EVENT_TOPICS,
    TopicSpec,
    dead_letter_topic,
    partner_answers_topic,
    partner_seat_requests_topic,
    partner_topic_prefix,
)
from services.platform_core.kafka.access_control import Operation
from services.remote_eval.reference import partners
from tests.conftest import KAFKA_PORT
from tests.faults.test_poison_records import CONSUMERS
from tests.support import fault_figures
from tests.support.faults import table
from tests.support.processes import REPO
from tests.support.secure_broker import SecureBroker

pytestmark = [
    pytest.mark.faults,
    pytest.mark.skipif(
        os.environ.get("PRT_FAULTS_SECURE") != "1",
        reason="needs a secured broker of its own: run bash deploy/test.sh or deploy/faults.sh",
    ),
]

SECURE_PORT = os.environ.get("PRT_FAULTS_SECURE_KAFKA_PORT", str(int(KAFKA_PORT) + 700))
SECURE_RUNTIME = REPO / ".run" / f"test-secure-{SECURE_PORT}"
BOOTSTRAP = f"127.0.0.1:{SECURE_PORT}"
MATRIX_FILE = REPO / ".run" / "faults" / "partner-acl-matrix.tsv"
SERVICE_MATRIX_FILE = REPO / ".run" / "faults" / "service-acl-matrix.tsv"
PARTNERS = sorted(partners())
PLAN = {access.user: access for access in platform_plan(PARTNERS)}
HEADER: list[object] = ["principal", "topic", "operation", "allowed", "outcome", "result"]


def registry_topics() -> list[TopicSpec]:
    """Every topic the registry defines for this deployment."""
    return [
        *EVENT_TOPICS,
        *(partner_seat_requests_topic(code) for code in PARTNERS),
        *(partner_answers_topic(code) for code in PARTNERS),
        *(dead_letter_topic(consumer) for consumer in sorted(CONSUMERS)),
    ]


def expected(partner: str, topic: TopicSpec, operation: str) -> bool:
    """What the registry says a partner may do: read its own prefix, write its answers."""
    if operation == "read":
        return topic.name.startswith(partner_topic_prefix(partner))
    return topic.name == partner_answers_topic(partner).name


def _script(*args: str) -> str:
    env = {**os.environ, "PRT_RUNTIME_DIR": str(SECURE_RUNTIME), "PRT_KAFKA_PORT": SECURE_PORT}
    done = subprocess.run(
        ["bash", str(REPO / "deploy" / "local" / "kafka.sh"), *args],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


@pytest.fixture(scope="module")
def secure_broker() -> Iterator[SecureBroker]:
    _script("start", "--secure")
    try:
        credentials = Path(_script("credentials").strip())
        values = dict(
            line.split("=", 1) for line in credentials.read_text().splitlines() if "=" in line
        )
        for code in PARTNERS:  # a broker set up before a partner joined the registry
            if f"PARTNER_{code}_PASSWORD" not in values:
                _script("add-partner", code)
        values = dict(
            line.split("=", 1) for line in credentials.read_text().splitlines() if "=" in line
        )
        passwords = {"platform": values["PLATFORM_PASSWORD"]}
        passwords |= {f"partner-{c}": values[f"PARTNER_{c}_PASSWORD"] for c in PARTNERS}
        passwords |= {user: values[f"{user.upper().replace('-', '_')}_PASSWORD"] for user in PLAN}
        yield SecureBroker(BOOTSTRAP, passwords, Path(_script("ca").strip()))
    finally:
        _script("stop")


@pytest.fixture(scope="module")
async def seeded(secure_broker: SecureBroker) -> AsyncIterator[str]:
    """The platform (super user) creates every topic and puts one marked record on each."""
    topics = registry_topics()
    admin = AIOKafkaAdminClient(**secure_broker.sasl("platform", request_timeout_ms=15_000))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [NewTopic(t.name, 1, 1) for t in topics if t.name not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
    finally:
        await admin.close()
    marker = f"acl-{uuid.uuid4().hex[:8]}"
    producer = AIOKafkaProducer(
        **secure_broker.sasl("platform", request_timeout_ms=15_000), acks="all"
    )
    await producer.start()
    try:
        for topic in topics:
            await producer.send_and_wait(topic.name, value=marker.encode(), partition=0)
    finally:
        await producer.stop()
    yield marker


async def _can_read(broker: SecureBroker, user: str, topic: str, marker: str) -> bool | str:
    """True if ``user`` reads the platform's marked record, False on an authorisation error;
    any other outcome is returned as a text (the cell fails)."""
    # Subscribing, as a partner's client does: the broker's refusal surfaces from the fetch
    # (an assigned partition only logs it and returns nothing).
    consumer = AIOKafkaConsumer(
        topic,
        **broker.sasl(user, request_timeout_ms=15_000),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    try:
        await consumer.start()
        for _ in range(20):
            batch = await consumer.getmany(timeout_ms=250)
            if any(r.value == marker.encode() for rs in batch.values() for r in rs):
                return True
        return "no error, yet the platform's record was not read"
    except TopicAuthorizationFailedError:
        return False
    except KafkaError as exc:
        return repr(exc)
    finally:
        await consumer.stop()


async def _can_write(producer: AIOKafkaProducer, topic: str) -> bool | str:
    try:
        await producer.send_and_wait(topic, value=b"written by a partner", partition=0)
        return True
    except TopicAuthorizationFailedError:
        return False
    except KafkaError as exc:
        return repr(exc)


Expected = Callable[[str, TopicSpec, str], bool]


async def _matrix(
    broker: SecureBroker, users: list[str], marker: str, expected: Expected, file: Path
) -> tuple[list[list[object]], list[str]]:
    """Each user reads and writes each registry topic; a row per cell, written to ``file``."""
    rows: list[list[object]] = []
    failures: list[str] = []
    for user in users:
        producer = AIOKafkaProducer(**broker.sasl(user, request_timeout_ms=15_000), acks="all")
        await producer.start()
        try:
            for topic in registry_topics():
                for operation in ("read", "write"):
                    if operation == "read":
                        got = await _can_read(broker, user, topic.name, marker)
                    else:
                        got = await _can_write(producer, topic.name)
                    want = expected(user, topic, operation)
                    ok = got is want
                    rows.append([user, topic.name, operation, want, got, "ok" if ok else "FAIL"])
                    if not ok:
                        failures.append(f"{user} {operation} {topic.name}: want {want}, got {got}")
        finally:
            await producer.stop()
    _write(file, rows)
    return rows, failures


def _write(file: Path, rows: list[list[object]]) -> None:
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text("\n".join("\t".join(str(c) for c in row) for row in [HEADER, *rows]) + "\n")


def _report(
    title: str, file: Path, cells: str, rows: list[list[object]], failures: list[str]
) -> None:
    allowed = sum(1 for row in rows if row[3] is True)
    print(
        f"\n== {title} ({file}): {cells} = {len(rows)} cells; {allowed} allowed, "
        f"{len(rows) - allowed} refused; {len(rows) - len(failures)} passed"
    )
    print(_summary(rows))
    for line in failures[:20]:
        print(f"  FAIL {line}")
    fault_figures.record(
        f"{title} on the broker",
        passed=not failures,
        cells_passed=len(rows) - len(failures),
        cells_failed=len(failures),
        note=cells,
    )


def _summary(rows: list[list[object]]) -> str:
    counts = [
        [
            op,
            sum(1 for r in rows if r[2] == op and r[3] is True),
            sum(1 for r in rows if r[2] == op),
        ]
        for op in ("read", "write")
    ]
    return table(["operation", "allowed cells", "cells"], counts)


async def test_every_partner_against_every_topic(secure_broker: SecureBroker, seeded: str) -> None:
    topics = registry_topics()
    rows, failures = await _matrix(
        secure_broker,
        [f"partner-{code}" for code in PARTNERS],
        seeded,
        lambda user, topic, operation: expected(user.removeprefix("partner-"), topic, operation),
        MATRIX_FILE,
    )
    _report(
        "partner ACL matrix",
        MATRIX_FILE,
        f"{len(PARTNERS)} partners x {len(topics)} topics x read/write",
        rows,
        failures,
    )
    assert failures == []


def service_expected(user: str, topic: TopicSpec, operation: str) -> bool:
    """What the plan says a service or the operator may do with a topic."""
    wanted = Operation.READ if operation == "read" else Operation.WRITE
    return PLAN[user].allows(wanted, topic.name)


async def test_every_service_and_the_operator_against_every_topic(
    secure_broker: SecureBroker, seeded: str
) -> None:
    topics = registry_topics()
    rows, failures = await _matrix(
        secure_broker, list(PLAN), seeded, service_expected, SERVICE_MATRIX_FILE
    )
    _report(
        "service ACL matrix",
        SERVICE_MATRIX_FILE,
        f"{len(PLAN)} users (services, operator) x {len(topics)} topics x read/write",
        rows,
        failures,
    )
    assert failures == []
