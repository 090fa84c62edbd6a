"""Each service on the secured broker as its own user, with only the ACLs of
services/kafka_access_plan.py: intake's API and worker as ``intake``, abnormal_push's worker as
``abnormal-push``, reporting's worker and API as ``reporting`` (remote_eval as ``remote-eval`` is
tests/integration/remote_eval/test_secure_stack.py). A registration goes through all of them;
reporting's stream-health page sees every group; no process logs an authorisation refusal. The
operator, as ``operator``, reviews and re-drives a dead letter. Redis database 4 keeps this
stack's state apart from the other tests'.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from redis.asyncio import Redis

from services.kafka_access_plan import ABNORMAL_PUSH_APP, INTAKE_APP, OPERATOR_USER
from services.platform_core.auth.api_keys import ApiKeyStore
from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.errors import PlatformError
from services.platform_core.events.envelope import encode_envelope
from services.platform_core.events.topics import (
    ABNORMAL_PUSHES,
    EVENT_TOPICS,
    PROJECT_EVENTS,
    dead_letter_topic,
)
from services.platform_core.kafka.clients import create_producer
from services.platform_core.kafka.dead_letter_review import redrive, review
from services.platform_core.kafka.dead_letters import DeadLetterPublisher, SourceRecord
from services.platform_core.kafka.log_replay import ReplayCounts, replay_topic
from services.platform_core.kafka.topic_admin import ensure_topics
from services.platform_core.settings import PlatformSettings
from services.reporting.recompute import recompute_from_log
from services.reporting.settings import DEFAULT_CONSUMER_GROUP
from tests.conftest import WORKER_READY
from tests.integration.conftest import secured_env
from tests.integration.intake.conftest import CHANGQING, registration_body
from tests.support.polling import eventually
from tests.support.processes import ServiceProcess, api_process, worker_process
from tests.support.project_events import registration
from tests.support.reporting_figures import registrations_of_department
from tests.support.secure_broker import SecureBroker

pytestmark = pytest.mark.integration

REDIS_DB = 4
INTAKE_PROJECTOR = "intake.projector"
# What aiokafka and Faust log when the broker refuses a request for want of an ACL.
REFUSALS = ("AuthorizationFailed", "Authorization failed", "not authorized", "refused it to user")


@pytest.fixture(scope="module")
def services(
    stack_env: dict[str, str], secure_broker: SecureBroker, log_dir: Path
) -> Iterator[dict[str, ServiceProcess]]:
    def env(user: str) -> dict[str, str]:
        return secured_env(stack_env, secure_broker, user, redis_db=REDIS_DB)

    processes = {
        "intake-api": api_process(
            "intake-api-secure", "services.intake.http_api.app:app", env("intake"), log_dir
        ),
        "intake-worker": worker_process(
            "intake-worker-secure", "services.intake.stream_worker", env("intake"), log_dir
        ),
        "abnormal-push-worker": worker_process(
            "abnormal-push-worker-secure",
            "services.abnormal_push.stream_worker",
            env("abnormal-push"),
            log_dir,
        ),
        "reporting-worker": worker_process(
            "reporting-worker-secure", "services.reporting.stream_worker", env("reporting"), log_dir
        ),
        "reporting-api": api_process(
            "reporting-api-secure", "services.reporting.http_api:app", env("reporting"), log_dir
        ),
    }
    try:
        for process in processes.values():  # started together: the workers join in parallel
            process.start()
        for process in processes.values():
            if process.port is not None:
                process.wait_healthy()
            else:
                process.wait_for_log(WORKER_READY, timeout_s=120)
        yield processes
    finally:
        for process in processes.values():
            process.stop()


@pytest.fixture(scope="module")
async def keys(stack_env: dict[str, str], secure_broker: SecureBroker) -> dict[str, str]:
    """Keys in the secured stack's Redis database (as the services there read them)."""
    env = secured_env(stack_env, secure_broker, "intake", redis_db=REDIS_DB)
    redis = Redis.from_url(env["PRT_REDIS_URL"])
    store = ApiKeyStore(redis, PlatformSettings().api_key_pepper)
    marker = uuid.uuid4().hex[:6].upper()
    department = await store.issue(
        PrincipalKind.DEPARTMENT, f"ACL{marker}", "长清区住建局", frozenset({CHANGQING})
    )
    operator = await store.issue(PrincipalKind.OPERATOR, f"op-{marker}", "联席办值班员")
    await redis.aclose()
    return {"department": department.key, "code": f"ACL{marker}", "operator": operator.key}


async def _log_ends(broker: SecureBroker, topics: list[str]) -> dict[TopicPartition, int]:
    """Each partition's end offset, read as the super user."""
    platform = broker.sasl("platform")
    admin = AIOKafkaAdminClient(**platform)
    reader = AIOKafkaConsumer(**platform)
    await admin.start()
    await reader.start()
    try:
        partitions = [
            TopicPartition(topic["topic"], partition["partition"])
            for topic in await admin.describe_topics(topics)
            for partition in topic["partitions"]
        ]
        assert partitions, f"no partitions for {topics}"
        ends: dict[TopicPartition, int] = await reader.end_offsets(partitions)
        return ends
    finally:
        await reader.stop()
        await admin.close()


async def _caught_up(broker: SecureBroker, group: str) -> bool:
    """Whether ``group`` has committed every record of intake's projects topic (asked as the
    super user, who may see every group)."""
    ends = await _log_ends(broker, [PROJECT_EVENTS.name])
    admin = AIOKafkaAdminClient(**broker.sasl("platform"))
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    assert sum(ends.values()) > 0, "the registration is not on the log"
    return all(
        tp in committed and committed[tp].offset >= end for tp, end in ends.items() if end > 0
    )


def _refusals(process: ServiceProcess) -> list[str]:
    lines = process.log_path.read_text(errors="replace").splitlines()
    return [line for line in lines if any(refusal in line for refusal in REFUSALS)]


async def test_a_registration_goes_through_every_service_each_as_its_own_user(
    services: dict[str, ServiceProcess], secure_broker: SecureBroker, keys: dict[str, str]
) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        registered = await client.post(
            f"{services['intake-api'].base_url}/v1/projects",
            headers={
                "Authorization": f"Bearer {keys['department']}",
                "Idempotency-Key": str(uuid.uuid4()),
            },
            json=registration_body(),
        )
        assert registered.status_code == 201, registered.text

        async def counted() -> int:
            return await registrations_of_department(
                services["reporting-api"], keys["operator"], keys["code"]
            )

        assert await eventually(counted, lambda n: n == 1, timeout_s=60) == 1
        for group in (INTAKE_APP, ABNORMAL_PUSH_APP):

            async def read(group: str = group) -> bool:
                return await _caught_up(secure_broker, group)

            assert await eventually(read, bool, timeout_s=60), f"{group} missed the registration"

        # The stream-health page, read by reporting as its own user: every group, not only its
        # own. A reading is kept for up to 5 s, so one from before a group joined may come first.
        async def groups_seen() -> set[str]:
            streams = await client.get(
                f"{services['reporting-api'].base_url}/v1/operations/streams",
                headers={"Authorization": f"Bearer {keys['operator']}"},
            )
            assert streams.status_code == 200, streams.text
            return {group["group_id"] for group in streams.json()["groups"]}

        wanted = {INTAKE_APP, ABNORMAL_PUSH_APP, DEFAULT_CONSUMER_GROUP}
        await eventually(groups_seen, wanted.issubset, timeout_s=30)

    for name, process in services.items():
        process.check_alive()
        assert _refusals(process) == [], f"{name} was refused by the broker"


async def test_the_operator_reviews_and_redrives_a_dead_letter_as_its_own_user(
    services: dict[str, ServiceProcess], secure_broker: SecureBroker, keys: dict[str, str]
) -> None:
    department = f"DL{uuid.uuid4().hex[:6].upper()}"
    letter = registration(department, CHANGQING, "权限测试项目")
    # Set aside as intake's projector sets one aside: as the intake user, on its topic.
    producer = create_producer(secure_broker.settings("intake"), client_id="test-set-aside")
    await producer.start()
    try:
        value, headers = encode_envelope(letter)
        record = SourceRecord(PROJECT_EVENTS.name, 0, 7, letter.subject.encode(), value, headers)
        await DeadLetterPublisher(producer, INTAKE_PROJECTOR).send(record, "a test letter")
    finally:
        await producer.stop()

    # Operators see it on reporting's page, which reads it as the reporting user. (A busy
    # broker may answer 503 with Retry-After first, as the page's contract allows.)
    async with httpx.AsyncClient(timeout=30) as client:

        async def page() -> httpx.Response:
            return await client.get(
                f"{services['reporting-api'].base_url}/v1/operations/dead-letters/"
                f"{INTAKE_PROJECTOR}",
                headers={"Authorization": f"Bearer {keys['operator']}"},
                params={"pending_only": "true"},
            )

        shown = await eventually(page, lambda r: r.status_code != 503, timeout_s=60)
    assert shown.status_code == 200, shown.text
    assert letter.id in {each["event_id"] for each in shown.json()["letters"]}

    operator = secure_broker.settings(OPERATOR_USER)
    found = await review(operator, INTAKE_PROJECTOR, all_letters=False)
    mine = [each for each in found.pending if each.event_id == letter.id]
    assert len(mine) == 1
    outcome = await redrive(
        operator, INTAKE_PROJECTOR, skip=[e.offset for e in found.pending if e not in mine]
    )
    assert [each.event_id for each in outcome.redriven] == [letter.id]

    async def counted() -> int:
        return await registrations_of_department(
            services["reporting-api"], keys["operator"], department
        )

    assert await eventually(counted, lambda n: n == 1, timeout_s=60) == 1


async def test_a_service_starting_without_the_acl_for_a_topic_is_told_which_and_where(
    secure_broker: SecureBroker,
) -> None:
    """abnormal_push's topics ensured as intake: refused, naming the user and the plan."""
    with pytest.raises(PlatformError) as refused:
        await ensure_topics(secure_broker.settings("intake"), [ABNORMAL_PUSHES])
    assert str(refused.value) == (
        "cannot create topic abnormal.pushes.v1: the broker refused it to user 'intake' (no "
        "Create ACL on the topic; the services' ACLs are in services/kafka_access_plan.py)"
    )


async def test_dead_letters_the_reporting_user_may_not_read_are_refused_as_forbidden(
    services: dict[str, ServiceProcess], secure_broker: SecureBroker, keys: dict[str, str]
) -> None:
    """A consumer outside the plan: its dead-letter topic exists and holds a letter (both by
    the super user); the reporting user sees the topic but may not read it, and the page says
    so instead of "retry later"."""
    consumer = f"tests.outside-the-plan-{uuid.uuid4().hex[:6]}"
    platform = secure_broker.settings("platform")
    await ensure_topics(platform, [dead_letter_topic(consumer)])
    producer = create_producer(platform, client_id="test-outside-the-plan")
    await producer.start()
    try:
        await producer.send_and_wait(dead_letter_topic(consumer).name, b"a letter", key=b"k")
    finally:
        await producer.stop()
    async with httpx.AsyncClient(timeout=30) as client:

        async def answer() -> httpx.Response:
            return await client.get(
                f"{services['reporting-api'].base_url}/v1/operations/dead-letters/{consumer}",
                headers={"Authorization": f"Bearer {keys['operator']}"},
            )

        # A passing fault (event_log_unavailable, Retry-After) may come first on a busy broker.
        page = await eventually(
            answer, lambda r: r.json().get("code") != "event_log_unavailable", timeout_s=60
        )
    assert page.status_code == 503, page.text
    assert page.json()["code"] == "event_log_forbidden"
    assert "Retry-After" not in page.headers


async def _records_on(broker: SecureBroker, topics: list[str]) -> int:
    """How many records the topics hold (from offset 0: event topics keep theirs forever)."""
    return sum((await _log_ends(broker, topics)).values())


async def test_the_rebuild_tools_read_the_log_as_their_services_users(
    services: dict[str, ServiceProcess], secure_broker: SecureBroker
) -> None:
    """intake's rebuild replays its topic as ``intake``; reporting's recompute folds every event
    topic as ``reporting``. (They once connected without the settings' credentials.)"""
    counts = ReplayCounts()
    replayed = [
        event
        async for event in replay_topic(
            secure_broker.settings("intake"), PROJECT_EVENTS, counts, client_id="test-rebuild"
        )
    ]
    on_the_log = await _records_on(secure_broker, [PROJECT_EVENTS.name])
    assert counts.records == on_the_log > 0
    assert len(replayed) == counts.records - counts.undecodable

    recomputed = await recompute_from_log(secure_broker.settings("reporting"))
    assert recomputed.records == await _records_on(
        secure_broker, [spec.name for spec in EVENT_TOPICS]
    )
