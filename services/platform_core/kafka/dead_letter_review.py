"""Reviewing a consumer's dead letters and re-driving them once their cause is fixed.

A dead letter (see dead_letters.py) is the refused record byte for byte, with ``dlq-*`` headers
naming where it came from and why. Once the cause is fixed (a worker deployed that can apply
it, reference data it lacked), an operator re-drives it: the record goes back to the topic it
came from, with its own key, value and CloudEvents headers, and a ``prt-redriven-from`` header
naming the dead letter. Every consumer of that topic reads it again, after its key's later
records. Consumers that keep the latest record per key (remote_eval's venues and experts) keep
it by event time, so an older letter changes nothing there; a consumer that keys nothing by time
applies it over newer state. So the re-drive looks at the letter's source partition first: when
it holds later records of the letter's key (other events than the letter's own), it warns, naming
them (``RedriveOutcome.warnings``); and onto a compacted topic it refuses, since there the letter
would become its key's newest record and compaction would delete the newer one for good — unless
the operator says so explicitly (``overwrite_newer``, the CLI's ``--overwrite-newer``). The
operator decides whether the order is acceptable (the reason says what was refused), and may stop
before a letter (``through``) or pass over it (``skip``).

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
from collections.abc import AsyncIterator, Collection, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.structs import OffsetAndMetadata

from services.platform_core.errors import PlatformError
from services.platform_core.events.envelope import Headers
from services.platform_core.events.topics import (
    EVALUATION_STATES,
    EVENT_TOPICS,
    EXPERT_REGISTRY,
    dead_letter_topic,
    is_dead_letter_topic,
)
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


# The registry's compacted topics: there the latest record of a key is the only one kept.
COMPACTED_TOPICS = frozenset(
    spec.name
    for spec in (*EVENT_TOPICS, EXPERT_REGISTRY, EVALUATION_STATES)
    if spec.cleanup_policy == "compact"
)


@dataclass(frozen=True)
class LaterRecords:
    """What a letter's source partition holds after the letter's record, of the letter's key
    and another event id (so newer state than the letter's); ``unknown`` says why nobody can
    tell, when so (the letter names no partition and offset, or no key; the source topic
    could not be read, e.g. the operator's ACLs grant no Read on it)."""

    count: int = 0
    first_offset: int | None = None
    unknown: str = ""

    @property
    def known(self) -> bool:
        return not self.unknown


def check_order(
    planned: Sequence[Redrive],
    later: Mapping[int, LaterRecords],
    *,
    compacted: Collection[str] = COMPACTED_TOPICS,
    overwrite_newer: bool = False,
) -> list[str]:
    """The warnings about letters going back behind later records of their key (``later``,
    by letter offset). Raises RedriveRefused, naming every such letter bound for a compacted
    topic (or one whose later records cannot be told), unless ``overwrite_newer``: there it
    would become its key's newest record, and compaction would delete the newer one."""
    warnings: list[str] = []
    refused: list[str] = []
    for each in planned:
        found = later.get(each.letter.offset, LaterRecords(unknown="it was not looked for"))
        if found.known and not found.count:
            continue
        what = (
            f"@{each.letter.offset} ({each.letter.event_type or 'event'} {each.letter.event_id}, "
            f"key {_key_text(each.letter.key)})"
        )
        where = (
            f"{found.count} later record(s) of its key on {each.letter.source}'s partition, "
            f"the first at offset {found.first_offset}"
            if found.known
            else f"whether {each.topic} has later records of its key is unknown ({found.unknown})"
        )
        if each.topic in compacted and not overwrite_newer:
            refused.append(f"{what}: {where}; {each.topic} is compacted")
        else:
            warnings.append(
                f"{what}: {where}; it goes back after them, and consumers that do not keep "
                "the latest by event time apply it over newer state"
            )
    if refused:
        raise RedriveRefused(
            "Nothing was re-driven; on a compacted topic these letters would become their key's "
            "newest record and compaction would delete the newer one for good: "
            + "; ".join(refused)
            + ". Skip them, stop before them, or re-drive with --overwrite-newer if the older "
            "record must win."
        )
    return warnings


def _key_text(key: bytes | None) -> str:
    return "none" if key is None else key.decode("utf-8", "replace")


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
            # Consumer names are not the topics' prefixes (remote_eval.scheduler reads
            # remote-eval.* topics): say which names have one.
            suffix = dead_letter_topic("").name
            named = sorted(t[: -len(suffix)] for t in topics if t.endswith(suffix))
            raise RedriveRefused(
                f"{consumer_name} has no dead-letter topic ({topic}); consumers with one: "
                f"{', '.join(named) or 'none yet'}"
            )
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
    warnings: tuple[str, ...] = ()  # letters sent back behind later records of their key


async def redrive(
    settings: PlatformSettings,
    consumer_name: str,
    *,
    through: int | None = None,
    skip: Collection[int] = (),
    dry_run: bool = False,
    overwrite_newer: bool = False,
) -> RedriveOutcome:
    """Send the letters not yet re-driven (up to offset ``through``, when given) back to
    their topics, passing over ``skip``, then record them as re-driven. Letters behind later
    records of their key are warned of, and refused on a compacted topic unless
    ``overwrite_newer`` (:func:`check_order`)."""
    async with _opened(settings, consumer_name) as at:
        end = at.end if through is None else min(at.end, through + 1)
        letters = await _read(at.consumer, at.tp, at.redriven_through, end)
        planned, skipped = plan_redrive(at.tp.topic, letters, at.topics, set(skip))
        later = await _later_records(at.consumer, planned)
        warnings = check_order(planned, later, overwrite_newer=overwrite_newer)
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
            tuple(warnings),
        )


async def _later_records(
    consumer: AIOKafkaConsumer, planned: Sequence[Redrive]
) -> dict[int, LaterRecords]:
    """For each letter (by offset), the records after it on its source partition with its key
    and another event id. Reads each source partition once, from the earliest letter on it,
    with the re-drive's client (assigned, not subscribed: its group's commit is untouched)."""
    found: dict[int, LaterRecords] = {}
    by_partition: dict[TopicPartition, list[DeadLetter]] = {}
    for each in planned:
        letter = each.letter
        if letter.source_partition is None or letter.source_offset is None or letter.key is None:
            found[letter.offset] = LaterRecords(
                unknown="the letter names no source partition and offset, or no key"
            )
            continue
        tp = TopicPartition(each.topic, letter.source_partition)
        by_partition.setdefault(tp, []).append(letter)
    if not by_partition:
        return found
    previous = consumer.assignment()
    try:
        for tp, letters in by_partition.items():
            counts: dict[int, list[int]] = {letter.offset: [] for letter in letters}
            start = min(letter.source_offset or 0 for letter in letters) + 1
            consumer.assign([*previous, tp])
            try:
                end = (await consumer.end_offsets([tp]))[tp]
                records = await _keys_after(consumer, tp, start, end)
            except KafkaError as exc:
                for letter in letters:
                    found[letter.offset] = LaterRecords(unknown=f"{tp.topic} unreadable: {exc!r}")
                continue
            for offset, key, event_id in records:
                for letter in letters:
                    if (
                        key == letter.key
                        and offset > (letter.source_offset or 0)
                        and event_id != letter.event_id
                    ):
                        counts[letter.offset].append(offset)
            for letter in letters:
                offsets = counts[letter.offset]
                found[letter.offset] = LaterRecords(len(offsets), offsets[0] if offsets else None)
    finally:
        consumer.assign(list(previous))
    return found


async def _keys_after(
    consumer: AIOKafkaConsumer, tp: TopicPartition, start: int, end: int
) -> list[tuple[int, bytes | None, str | None]]:
    """(offset, key, ce_id) of the partition's records from ``start`` to ``end``."""
    keys: list[tuple[int, bytes | None, str | None]] = []
    if start >= end:
        return keys
    consumer.seek(tp, start)
    while await consumer.position(tp) < end:
        batches = await consumer.getmany(tp, timeout_ms=1000, max_records=1000)
        for record in batches.get(tp, []):
            if record.offset < end:
                event_id = _text(dict(record.headers), "ce_id")
                keys.append((record.offset, record.key, event_id))
    return keys


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
