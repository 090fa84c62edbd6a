"""The stream side retries Kafka's transient errors like Redis's, in one place.

An error let out of a Faust agent has Faust acknowledge the event in hand unapplied (the
stream iterator's ``finally`` acks it as the agent unwinds), and one let out of a timer crashes
the worker. These tests hold :func:`handle_event`, the dead-letter publisher and the workers'
timers to "retried, dead-lettered or logged - never raised", without a broker: the failures
are the exceptions aiokafka raises, thrown by stand-ins for the apply function and producer.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaError,
    KafkaTimeoutError,
    LeaderNotAvailableError,
    MessageSizeTooLargeError,
    NodeNotReadyError,
    NotEnoughReplicasError,
    NotLeaderForPartitionError,
    ProducerFenced,
    RequestTimedOutError,
    TopicAuthorizationFailedError,
    UnknownTopicOrPartitionError,
)
from redis.exceptions import ConnectionError as RedisConnectionError

from services.platform_core.errors import EventRejected
from services.platform_core.kafka import dead_letters, faust_worker, retrying
from services.platform_core.kafka.dead_letters import DeadLetterPublisher
from services.platform_core.kafka.faust_worker import Undecodable, handle_event

# Long enough for any retry below (they wait 0 s), short enough that a handler retrying for
# ever instead of dead-lettering fails the test rather than hanging it.
GIVE_UP_S = 5.0

# What aiokafka raises while a broker is unreachable or a partition's leader moves.
TRANSIENT_KAFKA_ERRORS = [
    KafkaTimeoutError(),  # not marked retriable by aiokafka, but a send not queued in time
    KafkaConnectionError("connection refused"),
    NotLeaderForPartitionError(),
    LeaderNotAvailableError(),
    RequestTimedOutError(),
    NotEnoughReplicasError(),
    NodeNotReadyError("node 1 not ready"),
    UnknownTopicOrPartitionError(),
]


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(faust_worker, "retry_delay", lambda attempt: 0.0)
    monkeypatch.setattr(dead_letters, "retry_delay", lambda attempt: 0.0)


class Producer:
    """Stands in for AIOKafkaProducer: raises the given errors, then records what it sends."""

    def __init__(self, *failures: BaseException) -> None:
        self.failures = list(failures)
        self.attempts = 0
        self.sent: list[tuple[str, bytes | None, bytes | None, dict[str, bytes]]] = []

    async def send_and_wait(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> None:
        self.attempts += 1
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append((topic, key, value, dict(headers or [])))


class Apply:
    """An apply function that raises the given errors first, then applies."""

    def __init__(self, *failures: BaseException) -> None:
        self.failures = list(failures)
        self.calls = 0
        self.applied: list[str] = []

    async def __call__(self, envelope: Any) -> None:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        self.applied.append(envelope.id)


def _event(value: Any) -> Any:
    """A Faust event as handle_event reads it: its value and the record it came from."""
    message = SimpleNamespace(
        topic="abnormal.reports.v1",
        partition=3,
        offset=41,
        key=b"report-1",
        value=b"\x0a\x01x",
        headers=[("ce_id", b"event-1")],
    )
    return SimpleNamespace(value=value, message=message)


def _envelope() -> Any:
    return SimpleNamespace(id="event-1")


async def _handle(event: Any, apply: Apply, publisher: DeadLetterPublisher) -> None:
    await asyncio.wait_for(handle_event(event, apply, publisher), GIVE_UP_S)


@pytest.mark.parametrize("error", TRANSIENT_KAFKA_ERRORS, ids=lambda e: type(e).__name__)
async def test_an_event_whose_apply_hits_a_transient_kafka_error_is_applied_once(
    error: KafkaError, caplog: pytest.LogCaptureFixture
) -> None:
    apply = Apply(error, error)
    producer = Producer()
    with caplog.at_level(logging.WARNING, logger=faust_worker.__name__):
        await _handle(_event(_envelope()), apply, DeadLetterPublisher(producer, "test.consumer"))
    assert apply.calls == 3
    assert apply.applied == ["event-1"]
    assert producer.attempts == 0  # nothing dead-lettered
    # Retried as an outage (a warning), not as an error only an operator can fix.
    assert [r.levelno for r in caplog.records] == [logging.WARNING, logging.WARNING]


async def test_redis_errors_are_still_retried() -> None:
    apply = Apply(RedisConnectionError("Connection refused"))
    producer = Producer()
    await _handle(_event(_envelope()), apply, DeadLetterPublisher(producer, "test.consumer"))
    assert apply.applied == ["event-1"]
    assert producer.attempts == 0


async def test_a_record_kafka_refuses_as_too_large_is_dead_lettered_with_the_reason() -> None:
    apply = Apply(MessageSizeTooLargeError("The message is 2000000 bytes when serialized"))
    producer = Producer()
    await _handle(_event(_envelope()), apply, DeadLetterPublisher(producer, "test.consumer"))
    assert apply.calls == 1  # no retry can make it fit
    assert apply.applied == []
    [(topic, key, value, headers)] = producer.sent
    assert topic == "test.consumer.dead-letters.v1"
    assert (key, value) == (b"report-1", b"\x0a\x01x")  # the source record, byte for byte
    assert b"MessageSizeTooLargeError" in headers["dlq-reason"]
    assert (headers["dlq-partition"], headers["dlq-offset"]) == (b"3", b"41")


async def test_a_handler_bug_dead_letters_the_event_instead_of_skipping_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    apply = Apply(KeyError("bid_section_code"))
    producer = Producer()
    with caplog.at_level(logging.ERROR, logger=faust_worker.__name__):
        await _handle(_event(_envelope()), apply, DeadLetterPublisher(producer, "test.consumer"))
    assert apply.calls == 1
    [(topic, key, value, headers)] = producer.sent
    assert topic == "test.consumer.dead-letters.v1"
    assert (key, value) == (b"report-1", b"\x0a\x01x")
    assert headers["dlq-reason"].startswith(b"handler failed: KeyError")
    assert any(record.exc_info for record in caplog.records)  # the traceback is logged


async def test_a_non_retriable_kafka_error_keeps_the_event_and_logs_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Authorisation refused is the deployment's fault, not the event's: the event is kept
    # (retried) rather than dead-lettered, and each failure is an ERROR in the log.
    refused = TopicAuthorizationFailedError("abnormal.pushes.v1")
    apply = Apply(refused, refused)
    producer = Producer()
    with caplog.at_level(logging.WARNING, logger=faust_worker.__name__):
        await _handle(_event(_envelope()), apply, DeadLetterPublisher(producer, "test.consumer"))
    assert apply.applied == ["event-1"]
    assert producer.attempts == 0
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 2
    assert "TopicAuthorizationFailedError" in errors[0].getMessage()


async def test_a_dead_letter_send_failing_transiently_is_retried_until_it_lands(
    caplog: pytest.LogCaptureFixture,
) -> None:
    producer = Producer(KafkaTimeoutError(), NotLeaderForPartitionError(), KafkaConnectionError())
    apply = Apply()
    with caplog.at_level(logging.WARNING, logger=dead_letters.__name__):
        await _handle(
            _event(Undecodable("no ce_type header")), apply, DeadLetterPublisher(producer, "c")
        )
    assert producer.attempts == 4
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    [(_, _, _, headers)] = producer.sent
    assert headers["dlq-reason"] == b"no ce_type header"
    assert apply.calls == 0


async def test_a_rejected_event_is_dead_lettered_through_a_broker_outage() -> None:
    producer = Producer(RequestTimedOutError(), KafkaTimeoutError())
    apply = Apply(EventRejected("sign-for before routing"))
    await _handle(_event(_envelope()), apply, DeadLetterPublisher(producer, "c"))
    assert apply.calls == 1
    [(_, _, _, headers)] = producer.sent
    assert headers["dlq-reason"] == b"rejected: sign-for before routing"


async def test_a_dead_letter_send_failing_non_retriably_is_kept_loudly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Nowhere else to put the record: it is tried again (and logged as an error), never dropped.
    producer = Producer(ProducerFenced(), TopicAuthorizationFailedError("c.dead-letters.v1"))
    publisher = DeadLetterPublisher(producer, "c")
    with caplog.at_level(logging.WARNING, logger=dead_letters.__name__):
        await asyncio.wait_for(
            publisher.send(faust_worker._source_record(_event(None)), "poison"), GIVE_UP_S
        )
    assert len(producer.sent) == 1
    assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == 2


def test_no_error_is_both_retried_and_dead_lettered() -> None:
    # handle_event checks RECORD_REFUSED_ERRORS first; one also listed as transient would be
    # dead-lettered by a handler and retried by the dead-letter publisher - inconsistent.
    for error in retrying.RECORD_REFUSED_ERRORS:
        assert not issubclass(error, retrying.TRANSIENT_INFRASTRUCTURE_ERRORS), error
    assert not issubclass(TopicAuthorizationFailedError, retrying.TRANSIENT_INFRASTRUCTURE_ERRORS)


# -- timers ----------------------------------------------------------------------------------


def _timer_body(timer: Any) -> Any:
    """The function under ``@app.timer`` (Faust wraps it in a loop, and that in a task)."""
    return inspect.unwrap(timer)


async def _body_raising(error: BaseException) -> None:
    raise error


@pytest.mark.parametrize(
    ("error", "level"),
    [
        (KafkaConnectionError("Unable to bootstrap"), logging.WARNING),
        (NotLeaderForPartitionError(), logging.WARNING),
        (KafkaError("Unexpected error during batch delivery"), logging.ERROR),
        (RuntimeError("a bug"), logging.ERROR),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else str(v),
)
async def test_a_timer_round_that_fails_is_logged_not_raised(
    error: BaseException, level: int, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger=retrying.__name__):
        await retrying.run_timer_round("test timer", lambda: _body_raising(error))
    [record] = caplog.records
    assert record.levelno == level
    assert record.getMessage().startswith("test timer: round")


async def test_a_timer_round_does_not_swallow_cancellation() -> None:
    # A worker stopping cancels its timers; the round must let that through.
    with pytest.raises(asyncio.CancelledError):
        await retrying.run_timer_round(
            "test timer", lambda: _body_raising(asyncio.CancelledError())
        )


async def test_remote_evals_answer_deadline_timer_survives_a_kafka_outage(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from services.remote_eval import stream_worker

    class Scheduler:
        async def fire_due_timers(self, now: Any) -> int:
            raise KafkaConnectionError("Unable to bootstrap from [('127.0.0.1', 28392)]")

    async def get() -> tuple[Any, Any]:
        return Scheduler(), None

    monkeypatch.setattr(stream_worker.shared, "get", get)
    await _timer_body(stream_worker.fire_answer_deadlines)()


async def test_remote_evals_answer_deadline_timer_survives_a_producer_failing_to_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from services.remote_eval import stream_worker

    async def get() -> tuple[Any, Any]:
        raise KafkaConnectionError("Unable to bootstrap from [('127.0.0.1', 28392)]")

    monkeypatch.setattr(stream_worker.shared, "get", get)
    await _timer_body(stream_worker.fire_answer_deadlines)()


@pytest.mark.parametrize("timer", ["watch_deadlines", "deliver_webhooks"])
async def test_abnormal_pushs_timers_survive_a_kafka_outage(
    timer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from services.abnormal_push import stream_worker

    async def failing(*args: Any) -> Any:
        raise KafkaTimeoutError()

    held = SimpleNamespace(
        watch=SimpleNamespace(tick=failing), deliverer=SimpleNamespace(deliver_due=failing)
    )

    async def resources() -> Any:
        return held

    monkeypatch.setattr(stream_worker, "resources", resources)
    await _timer_body(getattr(stream_worker, timer))()
