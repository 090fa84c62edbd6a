"""Reporting's aggregation worker: every event topic in, figures out.

Two ways to read the topics, one way to apply (PRT_REPORTING_AGGREGATION_CONSUMER):
- ``batch`` (default): one aiokafka consumer of the worker's consumer group reads every topic
  a fetch at a time, applies the fetch and commits it; the next fetch is decoded, and planned
  (the read model's script argument, computed from the states this one leaves) while Redis
  applies. 22-26k events/s per worker on the 2-CPU test machine;
- ``faust``: one Faust agent per event topic (intake, large-amount records, abnormal reports
  and pushes, venues, evaluations), each with concurrency 1, takes batches from its stream and
  hands them to the read model. Faust hands a worker its records one by one (about 4 tasks
  and 3 event-loop turns per record): a Faust agent that applies nothing tops out near 11k
  records/s whatever its settings (bench/reporting_faust_ceiling.py variants), below the 20k
  events/s wanted, and applying brings it to about 7k.
Reporting is the one service whose stream side is not Faust agents by default: it is the only
one that must keep up with every topic at once, and it does per-record work worth less than
Faust's per-record delivery (measured by bench/reporting_aggregation.py).
Either way a batch is applied in one atomic, idempotent read-model step before its offsets are
committed; undecodable records, events that cannot be counted, and events the read model
cannot apply (a counter would overflow; the batch's other events are applied) go to
``reporting.aggregator.dead-letters.v1``.

Run: python -m services.reporting.stream_worker
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError
from google.protobuf.message import Message
from redis.asyncio import Redis

from services.platform_core.errors import EventDecodeError
from services.platform_core.events.envelope import Envelope, decode_record
from services.platform_core.events.topics import EVENT_TOPICS, TopicSpec, dead_letter_topic
from services.platform_core.garbage_collection import collect_less_often_for_good
from services.platform_core.kafka.clients import (
    CONSUMER_SETTINGS,
    create_producer,
    security_options,
)
from services.platform_core.kafka.dead_letters import DeadLetterPublisher, SourceRecord
from services.platform_core.kafka.faust_worker import (
    EventRejected,
    Undecodable,
    create_faust_app,
    faust_topic,
    run_worker,
)
from services.platform_core.kafka.retrying import TRANSIENT_INFRASTRUCTURE_ERRORS, retry_delay
from services.platform_core.kafka.stop_deadline import exit_unless_stopped_within
from services.platform_core.kafka.topic_admin import ensure_topics
from services.platform_core.settings import get_settings
from services.reporting.domain.facts import Fact
from services.reporting.event_codec import fact_from_envelope
from services.reporting.read_model import EventsNotApplied, MetricsReadModel, PlannedBatch
from services.reporting.settings import DEFAULT_CONSUMER_GROUP, get_reporting_settings

CONSUMED_TOPICS: tuple[TopicSpec, ...] = EVENT_TOPICS

settings = get_settings()
reporting_settings = get_reporting_settings()
# A rebuild beside the live read model (another consumer group) is another consumer, with
# dead letters of its own, so the live consumer's dead-letter topic holds each record once.
CONSUMER = (
    "reporting.aggregator"
    if reporting_settings.consumer_group == DEFAULT_CONSUMER_GROUP
    else f"reporting.aggregator.{reporting_settings.consumer_group}"
)
app = create_faust_app(reporting_settings.consumer_group, settings)
# A batch is applied in one round trip; a deeper prefetch than Faust's 4,096 keeps the next
# batch filling meanwhile (measured: 2.9k -> 4.2k events/s on the 2-CPU test machine).
app.conf.stream_buffer_maxsize = max(4096, 16 * reporting_settings.aggregation_batch_size)


# Events are applied in batches: one state read and one pipelined Redis round trip per batch.
# Faust acknowledges a batch's events only after it was applied, so a kill mid-batch replays
# them, and the read model ignores what it had already applied. A Redis (or Kafka) outage is
# retried at the platform's backoff (services.platform_core.kafka.retrying); the dead letters
# the batch makes are retried by their publisher.

log = logging.getLogger(__name__)
# Logged once the batch consumer has joined its group and reads.
BATCH_CONSUMER_READY = "Ready: batch consumer of group"


def _faust_source(event: Any) -> SourceRecord:
    message = event.message
    return SourceRecord(
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        key=message.key,
        value=message.value,
        headers=list(message.headers or []),
    )


def _kafka_source(record: ConsumerRecord[bytes, bytes]) -> SourceRecord:
    return SourceRecord(
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        key=record.key,
        value=record.value,
        headers=list(record.headers or []),
    )


def decode(record: ConsumerRecord[bytes, bytes]) -> Envelope[Message] | Undecodable:
    """What Faust's CloudEventSchema makes of a record, for records read without Faust."""
    spec = _TOPICS_BY_NAME.get(record.topic)
    try:
        return decode_record(record.value, record.headers, spec.message_types if spec else None)
    except EventDecodeError as exc:
        return Undecodable(str(exc))


_TOPICS_BY_NAME = {spec.name: spec for spec in CONSUMED_TOPICS}


@dataclass(frozen=True)
class DecodedBatch:
    """A batch's facts in order, and where to find the record each came from: an event the
    read model cannot apply is dead-lettered with its record, byte for byte."""

    facts: list[Fact]
    values: Sequence[Envelope[Message] | Undecodable]
    source: Callable[[int], SourceRecord]

    def source_of(self, event_id: str) -> SourceRecord:
        """The record of an event of the batch (the first, if it came twice). Searched for,
        not indexed while decoding: it is wanted only when an event is refused, rarely."""
        for n, value in enumerate(self.values):
            if isinstance(value, Envelope) and value.id == event_id:
                return self.source(n)
        raise KeyError(event_id)


class Aggregator:
    def __init__(self, read_model: MetricsReadModel, dead_letters: DeadLetterPublisher) -> None:
        self._read_model = read_model
        self._dead_letters = dead_letters

    async def apply_events(self, events: Sequence[Any]) -> None:
        """A batch of Faust events (values decoded by CloudEventSchema)."""
        values = [event.value for event in events]
        await self.apply(await self.decoded(values, lambda n: _faust_source(events[n])))

    async def decode_records(self, records: Sequence[ConsumerRecord[bytes, bytes]]) -> DecodedBatch:
        """The facts of a batch of Kafka records, decoded here."""
        values = [decode(record) for record in records]
        return await self.decoded(values, lambda n: _kafka_source(records[n]))

    async def decoded(
        self,
        values: Sequence[Envelope[Message] | Undecodable],
        source: Callable[[int], SourceRecord],
    ) -> DecodedBatch:
        """The facts to count, in order; what cannot be decoded or counted is dead-lettered."""
        facts: list[Fact] = []
        for n, value in enumerate(values):
            if isinstance(value, Undecodable):
                await self._dead_letters.send(source(n), value.reason)
                continue
            try:
                fact = fact_from_envelope(value)
            except EventRejected as exc:
                await self._dead_letters.send(source(n), f"rejected: {exc}")
                continue
            if fact is not None:
                facts.append(fact)
        return DecodedBatch(facts, values, source)

    @property
    def read_model(self) -> MetricsReadModel:
        return self._read_model

    async def apply(self, batch: DecodedBatch) -> None:
        await self._applied(batch, lambda: self._read_model.apply_facts(batch.facts))

    async def execute(self, planned: PlannedBatch, batch: DecodedBatch) -> None:
        """Apply a batch planned from ``batch``'s facts."""
        await self._applied(batch, lambda: self._read_model.execute(planned))

    async def _applied(self, batch: DecodedBatch, step: Callable[[], Awaitable[int]]) -> None:
        """Run an apply step; the events it could not apply (the rest were applied) are
        dead-lettered, so the batch can be committed and the worker goes on."""
        try:
            await self._retried(step)
        except EventsNotApplied as exc:
            for refused in exc.refused:
                await self._dead_letters.send(
                    batch.source_of(refused.event_id), f"not applied: {refused.reason}"
                )

    @staticmethod
    async def _retried(step: Callable[[], Awaitable[int]]) -> None:
        attempt = 0
        while True:
            try:
                await step()
                return
            except TRANSIENT_INFRASTRUCTURE_ERRORS as exc:  # retried: the batch is idempotent
                delay = retry_delay(attempt)
                attempt += 1
                log.warning("applying a batch failed (%s); retry %d in %.1fs", exc, attempt, delay)
                await asyncio.sleep(delay)

    async def read_states(self, facts: Sequence[Fact]) -> dict[str, str]:
        attempt = 0
        while True:
            try:
                return await self._read_model.read_states(facts)
            except TRANSIENT_INFRASTRUCTURE_ERRORS as exc:
                delay = retry_delay(attempt)
                attempt += 1
                log.warning("reading states failed (%s); retry %d in %.1fs", exc, attempt, delay)
                await asyncio.sleep(delay)


@asynccontextmanager
async def _resources() -> AsyncIterator[Aggregator]:
    redis = Redis.from_url(settings.redis_url)
    producer = create_producer(settings, client_id=CONSUMER)
    await producer.start()
    try:
        read_model = MetricsReadModel(redis, reporting_settings.key_prefix)
        yield Aggregator(read_model, DeadLetterPublisher(producer, CONSUMER))
    finally:
        await producer.stop()
        await redis.aclose()


def _aggregate_agent(spec: TopicSpec) -> Callable[[Any], Awaitable[None]]:
    async def aggregate(stream: Any) -> None:
        async with _resources() as aggregator:
            async for events in stream.take_events(
                reporting_settings.aggregation_batch_size,
                within=reporting_settings.aggregation_batch_within_s,
            ):
                await aggregator.apply_events(events)

    aggregate.__name__ = f"aggregate_{spec.name.replace('.', '_').replace('-', '_')}"
    return aggregate


AGENTS = [
    app.agent(faust_topic(app, spec), name=f"reporting.aggregate.{spec.name}")(
        _aggregate_agent(spec)
    )
    for spec in CONSUMED_TOPICS
]


class _AfterTheBatchInHand(ConsumerRebalanceListener):  # type: ignore[misc]
    """A rebalance waits until the batch in hand is applied and committed, so the partitions'
    next reader starts after it (it would be harmless otherwise: the read model ignores what it
    has applied; this only saves the replay)."""

    def __init__(self, in_hand: asyncio.Lock) -> None:
        self._in_hand = in_hand

    async def on_partitions_revoked(self, revoked: Any) -> None:
        async with self._in_hand:
            pass

    async def on_partitions_assigned(self, assigned: Any) -> None:
        log.info("aggregating %d partitions", len(assigned))


async def consume_in_batches(stop: asyncio.Event) -> None:
    """The "batch" consumer: the worker's consumer group read a fetch at a time.

    Each fetch (up to the batch size, records of many partitions) is applied in one atomic
    read-model step and then committed, partition by partition, up to its last record: a
    kill before the commit replays the batch, which the read model ignores.
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=reporting_settings.consumer_group,
        client_id=CONSUMER,
        max_poll_records=reporting_settings.aggregation_batch_size,
        # A fetch is answered as soon as a record arrives; this bounds an idle poll only.
        fetch_max_wait_ms=int(reporting_settings.aggregation_batch_within_s * 1000),
        session_timeout_ms=int(settings.broker_session_timeout_s * 1000),
        heartbeat_interval_ms=int(settings.broker_heartbeat_interval_s * 1000),
        **CONSUMER_SETTINGS,
        **security_options(settings),
    )
    in_hand = asyncio.Lock()
    consumer.subscribe(
        [spec.name for spec in CONSUMED_TOPICS], listener=_AfterTheBatchInHand(in_hand)
    )
    await consumer.start()
    try:
        async with _resources() as aggregator:
            log.info("%s: %s %s", CONSUMER, BATCH_CONSUMER_READY, reporting_settings.consumer_group)

            within_ms = int(reporting_settings.aggregation_batch_within_s * 1000)

            async def fetch(
                timeout_ms: int = within_ms,
            ) -> tuple[dict[TopicPartition, int], DecodedBatch]:
                """The next batch: where it ends on each partition, and its facts."""
                fetched = await consumer.getmany(
                    timeout_ms=timeout_ms, max_records=reporting_settings.aggregation_batch_size
                )
                records = [record for batch in fetched.values() for record in batch]
                ends = {tp: batch[-1].offset + 1 for tp, batch in fetched.items()}
                return ends, await aggregator.decode_records(records)

            model = aggregator.read_model
            ends, decoded = await fetch()
            planned = model.plan(decoded.facts, await aggregator.read_states(decoded.facts))
            while not stop.is_set():
                if not ends:
                    ends, decoded = await fetch()
                    planned = model.plan(decoded.facts, await aggregator.read_states(decoded.facts))
                    continue
                # The next batch is fetched (on a quiet stream this waits up to the batch wait,
                # 0.1 s; not waiting measured 28k -> 21k events/s catching up), and its
                # aggregates' states read, before this one is applied. Not while holding
                # in_hand: getmany waits while the group rebalances, and the rebalance waits
                # for in_hand - the worker would hang for good (it did, when a member died
                # during a join and the group rebalanced again).
                following_ends, following_decoded = await fetch()
                states = await aggregator.read_states(following_decoded.facts)
                async with in_hand:
                    # The following batch is planned while Redis applies this one, from the
                    # states this one leaves (the script applies nothing if a state is not as
                    # planned, and the batch is then planned again from what is stored). The
                    # planning runs in a thread so that the event loop keeps sending this
                    # batch's script (megabytes) to Redis meanwhile. Events the read model
                    # cannot apply (a counter would overflow) are dead-lettered by execute,
                    # the rest applied, so the batch is committed either way.
                    applying = asyncio.create_task(aggregator.execute(planned, decoded))
                    try:
                        # Only its own aggregates' (a plan's states after are all it was given).
                        after = planned.states_after
                        states.update({a: after[a] for a in states.keys() & after.keys()})
                        following = await asyncio.to_thread(
                            model.plan, following_decoded.facts, states
                        )
                    finally:
                        await applying
                    await _commit_applied(consumer, ends)
                ends, decoded, planned = following_ends, following_decoded, following
    finally:
        await consumer.stop()


async def _commit_applied(consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> None:
    """Commit an applied batch on the partitions still assigned. A partition that moved on a
    rebalance is replayed by its next reader from the last commit, and the read model ignores
    what it already applied; one that stayed is read again from its last commit too (a new
    assignment starts from the committed offsets), so nothing is left uncommitted."""
    assigned = consumer.assignment()
    offsets = {tp: end for tp, end in ends.items() if tp in assigned}
    if not offsets:
        return
    try:
        await consumer.commit(offsets)
    except (CommitFailedError, IllegalStateError) as exc:
        log.warning("commit refused after a rebalance (%s)", exc)


async def _run_batch_consumer() -> None:
    await ensure_topics(settings, [*CONSUMED_TOPICS, dead_letter_topic(CONSUMER)])
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def stop_soon() -> None:
        stop.set()
        exit_unless_stopped_within(settings.worker_stop_grace_s, CONSUMER)

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop_soon)
    await consume_in_batches(stop)


def main() -> None:
    collect_less_often_for_good()
    if reporting_settings.aggregation_consumer == "batch":
        logging.basicConfig(
            level=logging.INFO, format="[%(asctime)s] [%(process)d] [%(levelname)s] %(message)s"
        )
        asyncio.run(_run_batch_consumer())
    else:
        run_worker(app, settings, [*CONSUMED_TOPICS, dead_letter_topic(CONSUMER)])


if __name__ == "__main__":
    main()
