"""How an API answers when the broker fails a write: a passing fault asks for a retry with the
same Idempotency-Key; a refusal by the broker's ACLs says retrying will not help."""

from __future__ import annotations

import pytest
from aiokafka.errors import (
    ClusterAuthorizationFailedError,
    GroupAuthorizationFailedError,
    KafkaError,
    KafkaTimeoutError,
    NotLeaderForPartitionError,
    TopicAuthorizationFailedError,
)

from services.platform_core.http.errors import event_log_unavailable


@pytest.mark.parametrize("exc", [KafkaTimeoutError(), NotLeaderForPartitionError()])
def test_a_passing_fault_asks_for_a_retry_with_the_same_key(exc: KafkaError) -> None:
    error = event_log_unavailable(exc)
    assert (error.status, error.code) == (503, "event_log_unavailable")
    assert error.headers == {"Retry-After": "2"}
    assert "same Idempotency-Key" in error.message


@pytest.mark.parametrize(
    "exc",
    [
        TopicAuthorizationFailedError(),
        GroupAuthorizationFailedError(),
        ClusterAuthorizationFailedError(),
    ],
)
def test_a_refusal_by_the_acls_says_a_retry_will_not_help(exc: KafkaError) -> None:
    error = event_log_unavailable(exc)
    assert (error.status, error.code) == (503, "event_log_forbidden")
    assert not error.headers
    assert error.message == (
        "The broker does not let this service write this event; its Kafka user's ACLs need "
        "changing (services/kafka_access_plan.py). Retrying will not help until they do."
    )
