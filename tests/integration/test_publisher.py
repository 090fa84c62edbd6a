"""EventPublisher.publish_all against the real broker: one wait for a decision's events, their
order kept, and a lot with an event off the topic's contract refused before any is sent."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from prt.v1 import remote_eval_pb2

from services.platform_core.errors import TopicContractError
from services.platform_core.events.envelope import Envelope
from services.platform_core.events.proto_values import to_timestamp
from services.platform_core.events.topics import EVALUATION_STATES, TopicSpec
from services.platform_core.kafka.clients import create_producer
from services.platform_core.kafka.publisher import EventPublisher
from services.platform_core.kafka.topic_admin import ensure_topics
from services.platform_core.settings import PlatformSettings
from tests.integration.remote_eval.topic_reading import events_of

pytestmark = pytest.mark.integration

# A topic of the test's own, with the evaluation-states contract: the services' topics are read
# by the services and by rebuilds, which need the events on them to be real ones.
TOPIC = TopicSpec(
    name="test.publish-all.v1",
    key="evaluation_id",
    message_types=EVALUATION_STATES.message_types,
    partitions=3,
)


def _recorded(evaluation_id: str, n: int) -> Envelope[remote_eval_pb2.EvaluationStateRecorded]:
    return Envelope(
        message=remote_eval_pb2.EvaluationStateRecorded(
            evaluation_id=evaluation_id,
            occurred_at=to_timestamp(datetime.now(UTC)),
            state_json=f'{{"n": {n}}}',
        ),
        source="test",
        subject=evaluation_id,
    )


async def test_publish_all_sends_the_lot_in_order(settings: PlatformSettings) -> None:
    evaluation_id = f"EV-PUBLISH-{uuid.uuid4()}"
    await ensure_topics(settings, [TOPIC])
    producer = create_producer(settings, client_id="test-publish-all")
    await producer.start()
    try:
        publisher = EventPublisher(producer)
        lot = [(TOPIC, _recorded(evaluation_id, n), evaluation_id) for n in range(60)]
        await publisher.publish_all(lot)  # returns once all are acknowledged

        wrong = Envelope(
            message=remote_eval_pb2.ExpertAvailabilitySet(expert_id="x"),
            source="test",
            subject=evaluation_id,
        )
        with pytest.raises(TopicContractError, match="is not an event of topic"):
            await publisher.publish_all([lot[0], (TOPIC, wrong, evaluation_id)])
    finally:
        await producer.stop()

    found = await events_of(settings.kafka_bootstrap_servers, TOPIC.name, evaluation_id)
    # Each once, in the order sent; nothing of the refused lot (its first event is not twice).
    assert [e.id for e in found] == [envelope.id for _, envelope, _ in lot]
