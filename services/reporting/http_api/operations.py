"""``/v1/operations/streams``: whether the platform's stream workers keep up and what they have
set aside - each consumer group's lag and each dead-letter topic's records. For operators (联席办
duty officers) only: group and topic names say how the platform is built, which is no
department's business.

``/v1/operations/api-keys/due``: the API keys due for rotation and those that ended lately, so
no department's system is cut off unawares.

The dashboard's page calls both with the key in the X-API-Key header.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from aiokafka.errors import KafkaError
from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from services.platform_core.auth.api_keys import keys_ending_between
from services.platform_core.auth.dependencies import (
    CurrentPrincipal,
    api_key_store,
    require_kind,
)
from services.platform_core.auth.principals import Principal, PrincipalKind
from services.platform_core.http.errors import (
    BROKER_REFUSALS,
    ApiError,
    ErrorBody,
    event_log_forbidden,
)
from services.platform_core.kafka.dead_letter_review import RedriveRefused, review
from services.platform_core.settings import get_settings
from services.reporting.stream_health_probe import (
    CACHE_TTL_S,
    StreamHealthProbe,
    StreamHealthReading,
    StreamHealthUnavailable,
)

router = APIRouter(prefix="/v1/operations", tags=["operations"])

# What every route here answers a caller who is not an operator.
OPERATORS_ONLY: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "no key, or a key not known"},
    403: {"model": ErrorBody, "description": "a department's or partner's key"},
}


class TopicLagPublic(BaseModel):
    topic: str
    lag: int = Field(description="records of this topic the group has still to read")


class PartitionBehindPublic(BaseModel):
    topic: str
    partition: int
    committed: int | None = Field(
        description="the group's committed offset; null: nothing committed, so it reads from "
        "the partition's beginning offset"
    )
    end: int = Field(description="the partition's end offset (the next record's)")
    lag: int


class ConsumerGroupPublic(BaseModel):
    group_id: str
    state: str | None = Field(
        description="the broker's word for the group: Stable (consuming), Empty (no consumer "
        "running), PreparingRebalance, CompletingRebalance; null if it could not be described"
    )
    members: int | None = Field(description="consumers in the group now")
    lag: int = Field(description="records the group has still to read, over all its topics")
    topics: list[TopicLagPublic] = Field(description="every topic it reads, most behind first")
    behind: list[PartitionBehindPublic] = Field(description="the partitions with records left")


class DeadLetterTopicPublic(BaseModel):
    topic: str
    consumer: str = Field(description="the consumer that set the records aside")
    records: int = Field(description="records the topic holds (kept 30 days)")


class StreamHealthPublic(BaseModel):
    observed_at: datetime = Field(
        description=f"when the broker was read; a reading is shared for {CACHE_TTL_S:g} s"
    )
    total_lag: int
    dead_letter_records: int
    groups: list[ConsumerGroupPublic] = Field(
        description="every consumer group reading the platform's topics, most behind first"
    )
    dead_letters: list[DeadLetterTopicPublic] = Field(description="fullest first")


EXAMPLE: dict[str, Any] = {
    "observed_at": "2026-12-02T06:30:05.120431Z",
    "total_lag": 1240,
    "dead_letter_records": 3,
    "groups": [
        {
            "group_id": "prt-reporting",
            "state": "Stable",
            "members": 1,
            "lag": 1240,
            "topics": [
                {"topic": "intake.projects.v1", "lag": 1200},
                {"topic": "abnormal.pushes.v1", "lag": 40},
                {"topic": "abnormal.reports.v1", "lag": 0},
            ],
            "behind": [
                {
                    "topic": "abnormal.pushes.v1",
                    "partition": 4,
                    "committed": 8812,
                    "end": 8852,
                    "lag": 40,
                },
                {
                    "topic": "intake.projects.v1",
                    "partition": 2,
                    "committed": 40211,
                    "end": 41411,
                    "lag": 1200,
                },
            ],
        },
        {
            "group_id": "prt-abnormal-push",
            "state": "Stable",
            "members": 1,
            "lag": 0,
            "topics": [{"topic": "abnormal.reports.v1", "lag": 0}],
            "behind": [],
        },
    ],
    "dead_letters": [
        {
            "topic": "reporting.aggregator.dead-letters.v1",
            "consumer": "reporting.aggregator",
            "records": 3,
        },
        {"topic": "intake.projector.dead-letters.v1", "consumer": "intake.projector", "records": 0},
    ],
}


def _operator(principal: CurrentPrincipal) -> Principal:
    require_kind(principal, PrincipalKind.OPERATOR)
    return principal


def _probe(request: Request) -> StreamHealthProbe:
    # Made on first use, not in the lifespan: the app starts and serves figures without the
    # broker, and only this route needs it.
    probe: StreamHealthProbe | None = getattr(request.app.state, "stream_health_probe", None)
    if probe is None:
        probe = StreamHealthProbe(get_settings())
        request.app.state.stream_health_probe = probe
    return probe


Operator = Annotated[Principal, Depends(_operator)]
Probe = Annotated[StreamHealthProbe, Depends(_probe)]


def stream_health_public(reading: StreamHealthReading) -> StreamHealthPublic:
    health = reading.health
    return StreamHealthPublic(
        observed_at=reading.observed_at,
        total_lag=health.total_lag,
        dead_letter_records=health.dead_letter_records,
        groups=[
            ConsumerGroupPublic(
                group_id=group.group_id,
                state=group.state,
                members=group.members,
                lag=group.lag,
                topics=[TopicLagPublic(topic=t.topic, lag=t.lag) for t in group.topics],
                behind=[
                    PartitionBehindPublic(
                        topic=p.topic,
                        partition=p.partition,
                        committed=p.committed,
                        end=p.end,
                        lag=p.lag,
                    )
                    for p in group.behind
                ],
            )
            for group in health.groups
        ],
        dead_letters=[
            DeadLetterTopicPublic(topic=d.topic, consumer=d.consumer, records=d.records)
            for d in health.dead_letters
        ],
    )


@router.get(
    "/streams",
    response_model=StreamHealthPublic,
    responses={
        200: {"content": {"application/json": {"example": EXAMPLE}}},
        **OPERATORS_ONLY,
        503: {"model": ErrorBody, "description": "the broker could not be read; Retry-After"},
    },
    summary="Stream health (数据流健康): consumer groups' lag and the dead-letter topics",
)
async def get_streams(_: Operator, probe: Probe) -> StreamHealthPublic:
    """Each consumer group reading the platform's topics with its lag (records it has still to
    read: end offset less committed offset, from the beginning offset where nothing is
    committed), and each dead-letter topic (``<consumer>.dead-letters.v1``) with the records it
    holds. Read from the broker at most every few seconds."""
    try:
        reading = await probe.read()
    except StreamHealthUnavailable as exc:
        raise ApiError(
            503,
            "event_log_unavailable",
            f"Consumer offsets cannot be read just now: {exc}; retry later.",
            headers={"Retry-After": str(round(CACHE_TTL_S))},
        ) from exc
    return stream_health_public(reading)


class DeadLetterPublic(BaseModel):
    offset: int = Field(description="its offset in the dead-letter topic")
    dead_lettered_at: str
    consumer: str = Field(description="the consumer that set it aside")
    source: str = Field(description="where it was read: topic[partition]@offset")
    event_type: str | None = Field(description="ce_type, when the record had one")
    event_id: str | None = Field(description="ce_id, when the record had one")
    key: str | None
    value_bytes: int = Field(description="the record's size; its value is not shown")
    reason: str = Field(description="why the consumer could not decode or apply it")
    redriven_from: str | None = Field(
        description="the dead letter it was re-driven from, when it came back refused again"
    )
    redriven: bool = Field(description="re-driven (or passed over) already")


class DeadLettersPublic(BaseModel):
    consumer: str
    topic: str
    redriven_through: int = Field(description="letters before this offset were re-driven")
    pending: int = Field(description="letters not yet re-driven")
    letters: list[DeadLetterPublic] = Field(description="newest first, at most `limit`")


ConsumerName = Annotated[
    str,
    Path(
        pattern=r"^[a-z0-9_][a-z0-9_.-]{0,99}$",
        description="the consumer, e.g. reporting.aggregator (its topic is "
        "<consumer>.dead-letters.v1)",
        examples=["reporting.aggregator"],
    ),
]


@router.get(
    "/dead-letters/{consumer}",
    response_model=DeadLettersPublic,
    responses={
        **OPERATORS_ONLY,
        404: {"model": ErrorBody, "description": "the consumer has no dead-letter topic"},
        503: {"model": ErrorBody, "description": "the broker could not be read; Retry-After"},
    },
    summary="One consumer's dead-letter records, with why each was set aside",
)
async def get_dead_letters(
    _: Operator,
    consumer: ConsumerName,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    pending_only: Annotated[bool, Query(description="only those not yet re-driven")] = False,
) -> DeadLettersPublic:
    """What a consumer set aside: each letter's source, event type and id and the reason it
    was refused — never the record's value, which may carry what the event protects. Re-drive
    them, once the cause is fixed, with ``python -m services.platform_core.kafka.dead_letter_cli
    redrive <consumer>``."""
    try:
        async with asyncio.timeout(10):
            found = await review(get_settings(), consumer, all_letters=not pending_only)
    except RedriveRefused as exc:
        raise ApiError(404, "no_dead_letter_topic", str(exc)) from exc
    except BROKER_REFUSALS as exc:
        raise event_log_forbidden(exc, f"read {consumer}'s dead letters") from exc
    except (KafkaError, OSError, TimeoutError) as exc:
        raise ApiError(
            503,
            "event_log_unavailable",
            f"The dead letters cannot be read just now: {type(exc).__name__}; retry later.",
            headers={"Retry-After": "5"},
        ) from exc
    newest = sorted(found.letters, key=lambda letter: -letter.offset)[:limit]
    return DeadLettersPublic(
        consumer=consumer,
        topic=found.topic,
        redriven_through=found.redriven_through,
        pending=len(found.pending),
        letters=[
            DeadLetterPublic.model_validate(
                letter.summary(redriven=letter.offset < found.redriven_through)
            )
            for letter in newest
        ],
    )


class ApiKeyDuePublic(BaseModel):
    key_id: str
    kind: PrincipalKind
    code: str
    name: str
    status: Literal["active", "expired"]
    expires_at: datetime
    replaced_by: str | None = Field(default=None, description="its successor, once rotated")


class ApiKeysDuePublic(BaseModel):
    within_days: int
    keys: list[ApiKeyDuePublic] = Field(
        description="keys ending in the next `within_days` days (to rotate) or ended in the "
        "last `within_days` (their holders are refused), soonest end first; revoked keys and "
        "keys without an end are left out"
    )


@router.get(
    "/api-keys/due",
    response_model=ApiKeysDuePublic,
    responses=OPERATORS_ONLY,
    summary="API keys due for rotation, and those that ended lately",
)
async def get_api_keys_due(
    _: Operator,
    request: Request,
    within_days: Annotated[int, Query(ge=1, le=366)] = 30,
) -> ApiKeysDuePublic:
    """So that no department's system is cut off unawares: rotate a key with ``python -m
    services.platform_core.auth.cli rotate <key id>`` (its successor is printed once; the old
    key keeps working for the overlap). Never a key's secret."""
    now = datetime.now(UTC)
    window = timedelta(days=within_days)
    listed = await api_key_store(request).list_keys()
    return ApiKeysDuePublic(
        within_days=within_days,
        keys=[
            ApiKeyDuePublic.model_validate(entry)
            for entry in keys_ending_between(listed, now - window, now + window)
        ],
    )
