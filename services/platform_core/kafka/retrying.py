"""What the stream side retries, and how: one classification for every worker.

The platform's rule: bad input gets a dead-letter record, infrastructure failures are retried,
never a crash and never a silent drop. A worker's handler writes to Redis and to Kafka (the
events it derives, and dead letters), so both clients' "the server is unreachable or busy just
now" errors are the infrastructure's. An error escaping a Faust agent is worse than either
choice: Faust acknowledges the event in hand as the agent's stream iterator unwinds (the
``finally`` after ``yield`` in faust/streams.py), so the event is skipped; and an error escaping a
timer crashes the whole worker (mode's Service crashes on a task's exception).

Kafka's side, read from aiokafka/errors.py (0.14) and its producer:

- every error aiokafka marks ``retriable`` (connection lost, no leader, leader moved, not
  enough in-sync replicas, request timed out, coordinator moving, unknown topic while metadata
  is refreshed ...). Our producers are idempotent, so aiokafka itself retries a record already
  queued for a partition whose leader it knows, for as long as the broker is out (measured: a
  send to a stopped single broker waits, and completes once it is back). What reaches a handler
  is a send whose topic's metadata was not fetched yet (UnknownTopicOrPartitionError after the
  request timeout - a handler's first send to a topic, a first dead letter) or whose partition
  has no leader for that long (NotLeaderForPartitionError, LeaderNotAvailableError);
- :class:`KafkaTimeoutError`, which aiokafka does not mark retriable but raises when a record
  cannot even be queued within the request timeout (the broker is not draining the queue);
- :class:`BrokerNotAvailableError`, not marked either, but it says what it says.

What the broker or producer refuses because of the record itself (too large, a bad
timestamp) is not transient: :data:`RECORD_REFUSED_ERRORS`, which callers dead-letter.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiokafka.errors import (
    BrokerNotAvailableError,
    CorruptRecordException,
    InvalidTimestampError,
    KafkaError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from services.platform_core.redis_lease import LeaseLost

log = logging.getLogger(__name__)


def _retriable_kafka_errors() -> tuple[type[KafkaError], ...]:
    """Every KafkaError class aiokafka marks retriable, found by walking its hierarchy, so an
    aiokafka upgrade that adds or re-marks one is followed without editing a list here."""
    found: list[type[KafkaError]] = []
    pending: list[type[KafkaError]] = [KafkaError]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.retriable:
            found.append(cls)
    return tuple(sorted(found, key=lambda cls: cls.__name__))


#: Retried with :func:`retry_delay`, never skipped and never dead-lettered: the handler's work
#: is idempotent by event id, so applying the event again once the server is back is safe.
#: ``OSError`` covers the builtin ConnectionError and TimeoutError (asyncio's too, on 3.11);
#: redis-py's errors are not OSErrors (its BusyLoadingError is a ConnectionError of its own).
TRANSIENT_INFRASTRUCTURE_ERRORS: tuple[type[BaseException], ...] = (
    RedisConnectionError,
    RedisTimeoutError,
    OSError,
    KafkaTimeoutError,
    BrokerNotAvailableError,
    *_retriable_kafka_errors(),
    LeaseLost,  # another process took a lease this work held: nothing was stored, do it again
)

#: Kafka refused a record an event made because of the record itself: retrying cannot succeed,
#: so the event is dead-lettered with the reason (see faust_worker.handle_event).
RECORD_REFUSED_ERRORS: tuple[type[KafkaError], ...] = (
    MessageSizeTooLargeError,  # the producer's max_request_size, or the broker's errno 10
    RecordTooLargeError,
    RecordListTooLargeError,
    InvalidTimestampError,
    CorruptRecordException,
)

# The backoff between attempts: quick at first (a leader election is usually brief), then
# every 5 s for as long as the outage lasts.
RETRY_DELAYS_S = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0)


def retry_delay(attempt: int) -> float:
    """The wait before retry number ``attempt + 1`` (0 for the first retry)."""
    return RETRY_DELAYS_S[min(attempt, len(RETRY_DELAYS_S) - 1)]


async def run_timer_round(what: str, body: Callable[[], Awaitable[object]]) -> None:
    """One round of a worker's timer; whatever fails is logged and the next round tries again.

    A timer has no record to dead-letter, and its work starts afresh from Redis each round
    (what it publishes has ids derived from what the event states, so a round repeated after a
    failure halfway publishes nothing new). Letting the error out would crash the worker: mode
    stops the app when a task raises, taking every agent of the service down with the timer.
    So transient errors are a warning, anything else an error with its traceback - loud, but
    never fatal.
    """
    try:
        await body()
    except TRANSIENT_INFRASTRUCTURE_ERRORS as exc:
        log.warning("%s: round skipped (%r); the next round tries again", what, exc)
    except Exception:
        log.exception("%s: round failed; the next round tries again", what)
