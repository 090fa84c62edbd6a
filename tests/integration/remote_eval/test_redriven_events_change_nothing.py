"""A dead letter re-driven after its key moved on changes nothing in remote_eval's projections
of venues and experts, on the real broker and Redis: the offer of a venue and slot, and an
expert's registration, are the latest by ce_time (then id) whatever order the log holds them
in — on the live path (Scheduler.apply_venue_event / apply_expert_event) and in the rebuild.

Before, each overwrote: a re-driven older VenueCapacityPublished brought 10 seats back over
the 4 published since, and a rebuild reproduced the stale 10."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from google.protobuf.message import Message
from prt.v1 import remote_eval_pb2

from services.platform_core.events.envelope import Envelope, decode_record, encode_envelope
from services.platform_core.events.proto_values import to_timestamp
from services.platform_core.events.topics import VENUE_CAPACITY, TopicSpec, dead_letter_topic
from services.platform_core.kafka.dead_letter_review import redrive
from services.platform_core.kafka.dead_letters import DeadLetterPublisher, SourceRecord
from services.platform_core.kafka.topic_admin import ensure_topics
from services.remote_eval import event_codec
from services.remote_eval.domain.model import Expert, ExpertKind, HalfDay, Slot
from services.remote_eval.rebuild import rebuild
from services.remote_eval.sealed_registry import ExpertIdentity
from tests.integration.remote_eval.scheduler_rig import Rig, enveloped
from tests.integration.remote_eval.world import credit_code

pytestmark = pytest.mark.integration

VENUE, OWNER = "ZB-370300-1", "370300"


async def _logged(rig: Rig, topic: TopicSpec, envelope: Envelope[Message]) -> SourceRecord:
    """``envelope`` written on ``topic`` (keyed by its subject), as a consumer reads it."""
    value, headers = encode_envelope(envelope)
    key = envelope.subject.encode()
    sent = await rig.producer.send_and_wait(topic.name, value, key=key, headers=headers)
    return SourceRecord(topic.name, sent.partition, sent.offset, key, value, headers)


async def _redriven(rig: Rig, record: SourceRecord) -> Envelope[Message]:
    """``record`` dead-lettered, then re-driven onto its topic: what consumers read again
    (the same ce_id and ce_time)."""
    consumer = f"tests.redrive-order-{uuid.uuid4().hex[:8]}"
    await ensure_topics(rig.settings, [dead_letter_topic(consumer)])
    await DeadLetterPublisher(rig.producer, consumer).send(record, "refused for the test")
    outcome = await redrive(rig.settings, consumer)
    [letter] = outcome.redriven
    assert letter.value is not None
    return decode_record(letter.value, list(letter.original_headers))


def _capacity(slot: Slot, seats: int, at: datetime) -> Envelope[Message]:
    message = remote_eval_pb2.VenueCapacityPublished(
        venue_id=VENUE,
        occurred_at=to_timestamp(at),
        partner_code=OWNER,
        slot=event_codec.slot_message(slot),
        seats=seats,
        fee_fen=20_000,
    )
    return enveloped(message, at, subject=VENUE)


async def _seats(rig: Rig, slot: Slot) -> int:
    return (await rig.store.published_offers([(VENUE, slot)]))[(VENUE, slot)].seats


async def test_an_older_offer_re_driven_keeps_the_newer_seats_live_and_in_the_rebuild(
    rig: Rig,
) -> None:
    slot = Slot(date(2070, 1, 1) + timedelta(days=random.randrange(8000)), HalfDay.AM)
    published = datetime.now(UTC) - timedelta(hours=1)
    old, new = _capacity(slot, 10, published), _capacity(slot, 4, published + timedelta(minutes=5))
    old_record = await _logged(rig, VENUE_CAPACITY, old)
    await rig.scheduler.apply_venue_event(old)
    await _logged(rig, VENUE_CAPACITY, new)
    await rig.scheduler.apply_venue_event(new)
    assert await _seats(rig, slot) == 4

    again = await _redriven(rig, old_record)
    assert (again.id, again.time) == (old.id, old.time)
    await rig.scheduler.apply_venue_event(again)
    assert await _seats(rig, slot) == 4  # not 10 again

    # The rebuild reads old, new, then old once more: it keeps the newer too.
    await rebuild(rig.settings, wipe_first=True)
    assert await _seats(rig, slot) == 4


async def test_an_older_registration_re_driven_keeps_the_newer_one(rig: Rig) -> None:
    specialty = f"RO{uuid.uuid4().hex[:8].upper()}"
    expert = Expert(
        f"X-{specialty}", OWNER, ExpertKind.TECHNICAL, frozenset({specialty}), credit_code(7)
    )
    sealed = rig.registry.seal(
        expert, ExpertIdentity("专家甲", "13800000000", "11010519491231002X")
    )
    at = datetime.now(UTC) - timedelta(hours=1)

    def registered(version: Expert, when: datetime) -> Envelope[Message]:
        message = event_codec.expert_registered(version, sealed, when)
        return enveloped(message, when, subject=expert.expert_id)

    moved = Expert(
        expert.expert_id, OWNER, ExpertKind.ECONOMIC, frozenset({specialty}), credit_code(8)
    )
    old, new = registered(expert, at), registered(moved, at + timedelta(minutes=5))
    await rig.scheduler.apply_expert_event(old)
    await rig.scheduler.apply_expert_event(new)
    # The older one read again (re-driven with --overwrite-newer, or redelivered): the
    # registry keeps the newer.
    await rig.scheduler.apply_expert_event(old)
    kept = await rig.registry.get(expert.expert_id)
    assert kept is not None and kept.kind is ExpertKind.ECONOMIC
    assert kept.employer_code == credit_code(8)
