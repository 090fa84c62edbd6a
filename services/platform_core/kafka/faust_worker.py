"""Faust set-up shared by the services' stream workers.

Records are decoded by :class:`CloudEventSchema` from their CloudEvents headers and protobuf
value. A record that cannot be decoded is not dropped and does not crash the agent: it arrives as
:class:`Undecodable`, and :func:`handle_event` puts it on the consumer's dead-letter topic.

Agents run with concurrency 1 (faust-streaming #606: with more, an offset can be committed past
a message still in flight), and everything they change is idempotent by event id, because Faust
delivers at least once - and because :func:`handle_event` applies an event again after a Redis or
Kafka failure (:mod:`services.platform_core.kafka.retrying`).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faust
from aiokafka.errors import KafkaError
from faust.types.auth import SASLMechanism
from google.protobuf.message import Message

from services.platform_core.errors import EventDecodeError
from services.platform_core.errors import EventRejected as EventRejected  # noqa: PLC0414 (re-export: its first home)
from services.platform_core.events.envelope import Envelope, decode_record
from services.platform_core.events.topics import TopicSpec
from services.platform_core.kafka.clients import kafka_ssl_context
from services.platform_core.kafka.dead_letters import DeadLetterPublisher, SourceRecord
from services.platform_core.kafka.retrying import (
    RECORD_REFUSED_ERRORS,
    TRANSIENT_INFRASTRUCTURE_ERRORS,
    retry_delay,
)
from services.platform_core.kafka.stop_deadline import WorkerStoppingInTime
from services.platform_core.kafka.topic_admin import ensure_topics
from services.platform_core.settings import PlatformSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Undecodable:
    """Stands in for the value of a record that is not a valid event, with the reason."""

    reason: str


class CloudEventSchema(faust.Schema[bytes, Any]):
    """Decodes a record's value into an Envelope using its headers; never raises."""

    def __init__(self, topic: TopicSpec) -> None:
        super().__init__(key_serializer="raw", value_serializer="raw")
        self._allowed = topic.message_types or None

    def loads_value(
        self, app: Any, message: Any, *, loads: Any = None, serializer: Any = None
    ) -> Any:
        try:
            return decode_record(message.value, message.headers, self._allowed)
        except EventDecodeError as exc:
            return Undecodable(str(exc))


def _broker_credentials(settings: PlatformSettings) -> faust.SASLCredentials | None:
    if settings.kafka_security_protocol == "PLAINTEXT":
        return None
    # With a TLS context Faust speaks SASL_SSL, without one SASL_PLAINTEXT.
    return faust.SASLCredentials(
        username=settings.kafka_sasl_username,
        password=settings.kafka_sasl_password,
        mechanism=SASLMechanism.SCRAM_SHA_512,
        ssl_context=kafka_ssl_context(settings),
    )


def create_faust_app(app_id: str, settings: PlatformSettings) -> faust.App:
    Path(settings.faust_data_dir).mkdir(parents=True, exist_ok=True)
    return faust.App(
        app_id,
        broker=[f"kafka://{server}" for server in settings.kafka_bootstrap_servers.split(",")],
        store="memory://",
        datadir=f"{settings.faust_data_dir}/{app_id}",
        web_enabled=False,
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=settings.broker_session_timeout_s,
        broker_heartbeat_interval=settings.broker_heartbeat_interval_s,
        broker_commit_interval=1.0,
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.topic_replication_factor,
        producer_acks=-1,
        # Our topics are created from the registry; only Faust's own internal topics are
        # declared by Faust.
        topic_allow_declare=True,
        broker_credentials=_broker_credentials(settings),
        Worker=type(
            "Worker", (WorkerStoppingInTime,), {"stop_grace_s": settings.worker_stop_grace_s}
        ),
    )


def faust_topic(app: faust.App, spec: TopicSpec) -> Any:
    return app.topic(spec.name, schema=CloudEventSchema(spec))


ApplyFunction = Callable[[Envelope[Message]], Awaitable[None]]


def _source_record(event: Any) -> SourceRecord:
    message = event.message
    return SourceRecord(
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        key=message.key,
        value=message.value,
        headers=list(message.headers or []),
    )


async def handle_event(event: Any, apply: ApplyFunction, dead_letters: DeadLetterPublisher) -> None:
    """Apply one Faust event, dead-lettering what cannot be decoded or applied.

    Returns only once the event is applied or dead-lettered: an exception let out of an agent
    would have Faust acknowledge the event unapplied (see retrying.py). The errors retried are
    the platform's one list, TRANSIENT_INFRASTRUCTURE_ERRORS, for every worker alike.
    """
    value = event.value
    if isinstance(value, Undecodable):
        await dead_letters.send(_source_record(event), value.reason)
        return
    attempt = 0
    while True:
        try:
            await apply(value)
            return
        except EventRejected as exc:
            await dead_letters.send(_source_record(event), f"rejected: {exc}")
            return
        except RECORD_REFUSED_ERRORS as exc:
            # Kafka refused a record this event made (too large, say): the event's own doing,
            # so no retry can succeed and retrying would hold its partition for good. What the
            # handler changed before is idempotent by event id: replayed from the dead-letter
            # topic after a fix, the event is applied once.
            await dead_letters.send(_source_record(event), f"kafka refused its output: {exc!r}")
            return
        except TRANSIENT_INFRASTRUCTURE_ERRORS as exc:
            delay = retry_delay(attempt)
            attempt += 1
            log.warning("applying %s failed (%s); retry %d in %.1fs", value.id, exc, attempt, delay)
            await asyncio.sleep(delay)
        except KafkaError as exc:
            # Neither the record's fault nor marked retriable: authorisation refused, the
            # producer fenced or its sender stopped, an answer aiokafka does not expect. These
            # are the deployment's, not the event's: every following event would fail alike,
            # so dead-lettering would move the whole stream aside for an operator to replay.
            # The event is kept instead - the agent waits, retried at the backoff's pace and
            # logged as an error each time, until the cause is fixed (or the worker restarted
            # with a fresh producer); nothing is skipped and nothing is quiet about it.
            delay = retry_delay(attempt)
            attempt += 1
            log.error(
                "applying %s failed on Kafka (%r), an error not marked retriable; retry %d in "
                "%.1fs - this agent waits until it is fixed",
                value.id,
                exc,
                attempt,
                delay,
            )
            await asyncio.sleep(delay)
        except Exception as exc:
            # A bug in the handler (or data it did not foresee): let out, Faust would
            # acknowledge the event unapplied and restart the agent - a silent skip. Set aside
            # with the reason instead, to replay once fixed (handlers are idempotent by id).
            log.exception("applying %s failed in its handler; dead-lettered", value.id)
            await dead_letters.send(_source_record(event), f"handler failed: {exc!r}")
            return


def run_worker(app: faust.App, settings: PlatformSettings, topics: Iterable[TopicSpec]) -> None:
    """Create the worker's topics (consumed and dead-letter) explicitly, then run Faust.

    ``--without-web``: Faust's worker command turns its web server on whatever the app config
    says, and every worker on the machine would then fight for port 6066; we have no use for it.
    """
    asyncio.run(ensure_topics(settings, topics))
    sys.argv = [sys.argv[0], "worker", "--without-web", "--loglevel", "info"]
    app.main()
