"""Reviewing a consumer's dead letters and re-driving them once their cause is fixed.

A dead letter (see dead_letters.py) is the refused record byte for byte, with ``dlq-*`` headers
naming where it came from and why. Once the cause is fixed (a worker deployed that can apply
it, reference data it lacked), an operator re-drives it: the record goes back to the topic it
came from, with its own key, value and CloudEvents headers, and a ``prt-redriven-from`` header
naming the dead letter. Every consumer of that topic reads it again; they apply an event id
once, so those that applied it the first time pass over it. Its aggregate's later events were
applied before it: the operator decides whether that order is acceptable (the reason says what
was refused), and may stop before a letter (``through``) or pass over it (``skip``).

What has been re-driven is kept as a consumer group's committed offset on the dead-letter topic
(``operations.redrive.<consumer>``): a re-drive takes the letters after it, and commits once
they are all on the broker (acks=all). A re-drive interrupted before its commit sends its
letters again on the next run, under the same event ids, which consumers apply once. A letter
refused again comes back to the dead-letter topic as a new letter, after the committed offset —
and to the dead-letter topics of the topic's other consumers that refuse it too: a record no
consumer can read (the reason says so: not protobuf, a header missing) is skipped, not re-driven.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from services.platform_core.errors import PlatformError
from services.platform_core.events.envelope import Headers
from services.platform_core.events.topics import dead_letter_topic, is_dead_letter_topic
from services.platform_core.kafka.clients import create_consumer, create_producer
from services.platform_core.settings import PlatformSettings

DLQ_PREFIX = "dlq-"
REDRIVEN_FROM = "prt-redriven-from"


class RedriveRefused(PlatformError):
    """A re-drive that would send a letter nowhere sensible: nothing was sent."""


@dataclass(frozen=True)
class DeadLetter:
    """One record of a dead-letter topic, as an operator reviews it."""

    offset: int  # in the dead-letter topic (one partition)
    consumer: str
    reason: str
    source_topic: str
    source_partition: int | None
    source_offset: int | None
    dead_lettered_at: str
    event_id: str | None  # ce_id, when the record had one
    event_type: str | None  # ce_type
    key: bytes | None
    value: bytes | None
    original_headers: tuple[tuple[str, bytes], ...] = field(repr=False)
    redriven_from: str | None = None  # the letter it was re-driven from, if it was

    @property
    def source(self) -> str:
        where = self.source_topic or "?"
        if self.source_partition is not None:
            where += f"[{self.source_partition}]"
        if self.source_offset is not None:
            where += f"@{self.source_offset}"
        return where

    def summary(self, redriven: bool) -> dict[str, object]:
        """What the review shows: where it came from, what it was and why it was refused.
        Never the value: it may carry personal data the event protects."""
        return {
            "offset": self.offset,
            "dead_lettered_at": self.dead_lettered_at,
            "consumer": self.consumer,
            "source": self.source,
            "event_type": self.event_type,
            "event_id": self.event_id,
            "key": self.key.decode("utf-8", "replace") if self.key is not None else None,
            "value_bytes": len(self.value) if self.value is not None else 0,
            "reason": self.reason,
            "redriven_from": self.redriven_from,
            "redriven": redriven,
        }


def _text(headers: dict[str, bytes], name: str) -> str | None:
    value = headers.get(name)
    return None if value is None else value.decode("utf-8", "replace")


def _number(headers: dict[str, bytes], name: str) -> int | None:
    text = _text(headers, name)
    return int(text) if text is not None and text.lstrip("-").isdigit() else None


def dead_letter_from_record(
    offset: int, key: bytes | None, value: bytes | None, headers: Headers
) -> DeadLetter:
    """A dead-letter record as a DeadLetter; headers a letter lacks read as empty."""
    named = {name: value for name, value in headers}
    original = tuple(
        (name, data)
        for name, data in headers
        if not name.startswith(DLQ_PREFIX) and name != REDRIVEN_FROM
    )
    return DeadLetter(
        offset=offset,
        consumer=_text(named, "dlq-consumer") or "",
        reason=_text(named, "dlq-reason") or "",
        source_topic=_text(named, "dlq-topic") or "",
        source_partition=_number(named, "dlq-partition"),
        source_offset=_number(named, "dlq-offset"),
        dead_lettered_at=_text(named, "dlq-time") or "",
        event_id=_text(named, "ce_id"),
        event_type=_text(named, "ce_type"),
        key=key,
        value=value,
        original_headers=original,
        redriven_from=_text(named, REDRIVEN_FROM),
    )


@dataclass(frozen=True)
class Redrive:
    """One letter going back: where, and with what."""

    letter: DeadLetter
    topic: str
    headers: tuple[tuple[str, bytes], ...]


def plan_redrive(
    dead_letter_topic_name: str,
    letters: Iterable[DeadLetter],
    known_topics: Collection[str],
    skip: Collection[int] = (),
) -> tuple[list[Redrive], list[DeadLetter]]:
    """The letters to send back, each to the topic it came from, and those passed over
    (``skip``). Raises RedriveRefused, naming every letter that cannot go back, when one does
    not say where it came from, came from a dead-letter topic or from a topic the broker does
    not have: nothing is sent until the operator skips it or stops before it."""
    planned: list[Redrive] = []
    skipped: list[DeadLetter] = []
    problems: list[str] = []
    for letter in letters:
        if letter.offset in skip:
            skipped.append(letter)
            continue
        topic = letter.source_topic
        if not topic:
            problems.append(f"@{letter.offset}: it does not say which topic it came from")
        elif is_dead_letter_topic(topic):
            problems.append(f"@{letter.offset}: it came from a dead-letter topic ({topic})")
        elif topic not in known_topics:
            problems.append(f"@{letter.offset}: its topic {topic} is not on the broker")
        else:
            marker = f"{dead_letter_topic_name}@{letter.offset}".encode()
            planned.append(
                Redrive(letter, topic, (*letter.original_headers, (REDRIVEN_FROM, marker)))
            )
    if problems:
        raise RedriveRefused(
            "Nothing was re-driven; these letters cannot go back (skip them, or stop before "
            "them): " + "; ".join(problems)
        )
    return planned, skipped


# ── reading and sending ────────────────────────────────────────────────────────────────────


def redrive_group(consumer: str) -> str:
    return f"operations.redrive.{consumer}"


@dataclass(frozen=True)
class Review:
    consumer: str
    topic: str
    redriven_through: int  # letters before this offset were re-driven (or passed over)
    letters: tuple[DeadLetter, ...]

    @property
    def pending(self) -> tuple[DeadLetter, ...]:
        return tuple(letter for letter in self.letters if letter.offset >= self.redriven_through)


async def _read(
    consumer: AIOKafkaConsumer, tp: TopicPartition, start: int, end: int
) -> list[DeadLetter]:
    letters: list[DeadLetter] = []
    if start >= end:
        return letters
    consumer.seek(tp, start)
    while True:
        batches = await consumer.getmany(tp, timeout_ms=1000, max_records=1000)
        for record in batches.get(tp, []):
            if record.offset >= end:
                return letters
            letters.append(
                dead_letter_from_record(record.offset, record.key, record.value, record.headers)
            )
        if await consumer.position(tp) >= end:
            return letters


@dataclass(frozen=True)
class _Position:
    consumer: AIOKafkaConsumer
    tp: TopicPartition
    beginning: int  # the first offset the topic still keeps
    redriven_through: int  # the committed offset, or the beginning when later
    end: int
    topics: frozenset[str]  # every topic on the broker


@asynccontextmanager
async def _opened(settings: PlatformSettings, consumer_name: str) -> AsyncIterator[_Position]:
    """The consumer's dead-letter topic, assigned to a client of its re-drive group."""
    topic = dead_letter_topic(consumer_name).name
    tp = TopicPartition(topic, 0)
    consumer = create_consumer(
        settings, group_id=redrive_group(consumer_name), client_id="operations.dead-letters"
    )
    await consumer.start()
    try:
        topics = await consumer.topics()  # fresh from the broker
        if topic not in topics:
            raise RedriveRefused(f"{consumer_name} has no dead-letter topic ({topic})")
        consumer.assign([tp])
        committed = await consumer.committed(tp) or 0
        beginning = (await consumer.beginning_offsets([tp]))[tp]
        end = (await consumer.end_offsets([tp]))[tp]
        yield _Position(consumer, tp, beginning, max(committed, beginning), end, frozenset(topics))
    finally:
        await consumer.stop()


async def review(settings: PlatformSettings, consumer_name: str, *, all_letters: bool) -> Review:
    """The consumer's dead letters now: every one kept (``all_letters``), or those not yet
    re-driven."""
    async with _opened(settings, consumer_name) as at:
        start = at.beginning if all_letters else at.redriven_through
        letters = await _read(at.consumer, at.tp, start, at.end)
        return Review(consumer_name, at.tp.topic, at.redriven_through, tuple(letters))


@dataclass(frozen=True)
class RedriveOutcome:
    consumer: str
    redriven: tuple[DeadLetter, ...]
    skipped: tuple[DeadLetter, ...]
    redriven_through: int
    dry_run: bool


async def redrive(
    settings: PlatformSettings,
    consumer_name: str,
    *,
    through: int | None = None,
    skip: Collection[int] = (),
    dry_run: bool = False,
) -> RedriveOutcome:
    """Send the letters not yet re-driven (up to offset ``through``, when given) back to
    their topics, passing over ``skip``, then record them as re-driven."""
    async with _opened(settings, consumer_name) as at:
        end = at.end if through is None else min(at.end, through + 1)
        letters = await _read(at.consumer, at.tp, at.redriven_through, end)
        planned, skipped = plan_redrive(at.tp.topic, letters, at.topics, set(skip))
        redriven_through = at.redriven_through
        if letters and not dry_run:
            await _send(settings, planned)  # every one acknowledged (acks=all) ...
            redriven_through = letters[-1].offset + 1
            # ... before they are recorded as re-driven.
            await at.consumer.commit({at.tp: OffsetAndMetadata(redriven_through, "")})
        return RedriveOutcome(
            consumer_name,
            tuple(each.letter for each in planned),
            tuple(skipped),
            redriven_through,
            dry_run,
        )


async def _send(settings: PlatformSettings, planned: Sequence[Redrive]) -> None:
    producer = create_producer(settings, client_id="operations.dead-letters")
    await producer.start()
    try:
        sent = [
            await producer.send(
                each.topic, value=each.letter.value, key=each.letter.key, headers=list(each.headers)
            )
            for each in planned
        ]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()
