"""A run of writes driven through the services' real APIs, as careful clients send them, and the
check that every acknowledged write is in the log exactly once.

Four kinds of write, each carrying a marker the log shows again: registrations (intake, marker
in the project name), abnormal-behaviour reports (abnormal_push, in the description), venue
seat publications (remote_eval, the venue and slot) and evaluation requests (remote_eval, the
project id). Each write has one Idempotency-Key and is retried with it on 503 (after
Retry-After), on a 409 "still in flight" and on a dropped connection, until acknowledged or
until it gives up; every other answer is final and counted.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx
from aiokafka import TopicPartition

from services.platform_core.credit_code import check_character
from services.platform_core.errors import EventDecodeError
from services.platform_core.events.envelope import Envelope, decode_record
from services.platform_core.events.topics import (
    ABNORMAL_REPORTS,
    EVALUATIONS,
    PROJECT_EVENTS,
    VENUE_CAPACITY,
    TopicSpec,
)
from services.platform_core.kafka.clients import create_consumer
from services.platform_core.settings import PlatformSettings
from services.remote_eval.event_codec import slot_from

CREDIT_CODE = "91110000600037341L"
HOME_REGION = "370113"  # 长清区: the department key acts for it; its venue is JN-370113-1
HOME_VENUE = "JN-370113-1"
HOST_CENTRE = "370100"  # the city centre hosts the evaluations, in its own venue
HOST_VENUE = "JN-370100-1"


@dataclass(frozen=True)
class WriteKind:
    label: str
    service: str  # which API takes it
    topic: TopicSpec
    event_type: str  # the event the write puts on the log, carrying the marker


REGISTRATION = WriteKind("registrations", "intake", PROJECT_EVENTS, "ProjectRegistered")
REPORT = WriteKind("reports", "abnormal_push", ABNORMAL_REPORTS, "AbnormalReportFiled")
CAPACITY = WriteKind("seat publications", "remote_eval", VENUE_CAPACITY, "VenueCapacityPublished")
EVALUATION = WriteKind("evaluation requests", "remote_eval", EVALUATIONS, "EvaluationRequested")
KINDS = (REGISTRATION, REPORT, CAPACITY, EVALUATION)


@dataclass(frozen=True)
class Write:
    kind: WriteKind
    marker: str
    path: str
    body: dict[str, Any]
    key: str  # the API key it is sent with


@dataclass
class LoadFigures:
    sent: Counter[str] = field(default_factory=Counter)
    acknowledged: dict[str, set[str]] = field(default_factory=dict)  # kind -> markers
    statuses: Counter[int] = field(default_factory=Counter)
    unavailable_503: int = 0
    without_retry_after: int = 0
    server_errors: list[str] = field(default_factory=list)  # 5xx other than 503
    refused: list[str] = field(default_factory=list)  # final answers other than 2xx
    given_up: int = 0
    evaluation_ids: dict[str, str] = field(default_factory=dict)  # marker -> id it was given

    def acknowledge(self, write: Write) -> None:
        self.acknowledged.setdefault(write.kind.label, set()).add(write.marker)

    @property
    def total_sent(self) -> int:
        return sum(self.sent.values())

    @property
    def total_acknowledged(self) -> int:
        return sum(len(markers) for markers in self.acknowledged.values())


@dataclass(frozen=True)
class Keys:
    department: str  # acts for HOME_REGION: registrations and its venue's seats
    host: str  # the city centre (a department of the registry): reports, evaluation requests
    operator: str  # adds experts to the pools


def _code(n: int) -> str:
    body = f"91370100{n:09d}"
    return body + check_character(body)


class WritePlan:
    """The n-th write of a run: mostly registrations, then reports, seats and evaluations."""

    # Out of every 20 writes: 13 registrations, 4 reports, 2 seat publications, 1 evaluation.
    MIX = (REGISTRATION,) * 13 + (REPORT,) * 4 + (CAPACITY,) * 2 + (EVALUATION,)

    def __init__(self, keys: Keys, tag: str, specialty: str) -> None:
        self.keys = keys
        self.tag = tag
        self.specialty = specialty
        # Slots of this run: in the future, apart from other runs' (seats and experts free) as
        # far as the slot range allows (2015-01-01 to 2100-12-31): a run's days start anywhere
        # in 2035-2090, and a run of up to ~3,500 writes (a day each) ends within the range.
        self.first_day = date(2035, 1, 1) + timedelta(days=random.randrange(0, 20_000))

    def write(self, n: int) -> Write:
        kind = self.MIX[n % len(self.MIX)]
        marker = f"{self.tag}-{n}"
        if kind is REGISTRATION:
            body: dict[str, Any] = {
                "name": marker,
                "category": "HOUSING",
                "region_code": HOME_REGION,
                "tenderer": {"name": "济南市长清区住房和城乡建设局", "credit_code": CREDIT_CODE},
                "budget_fen": 98_000_000 + n,
            }
            return Write(kind, marker, "/v1/projects", body, self.keys.department)
        if kind is REPORT:
            body = {
                "subjects": [{"kind": "BIDDER", "credit_code": CREDIT_CODE, "name": "某建设公司"}],
                "project_id": f"p-{marker}",
                "bid_section_code": "BD01",
                "project_category": "HOUSING",
                "behaviour_type": "FALSE_MATERIALS",
                "severity": "MEDIUM",
                "description": marker,
                "evidence": [{"sha256": "a" * 64, "location": "docstore://evidence/1.pdf"}],
                "act_at": "2026-11-20T02:00:00+00:00",
            }
            return Write(kind, marker, "/v1/reports", body, self.keys.host)
        day = self.first_day + timedelta(days=n)
        if kind is CAPACITY:
            # The seats of the next block's evaluation, on its morning: the main venue's from
            # its owner (the host), then the department's venue's, so most evaluations have
            # seats by the time they are requested (the first, and any whose seats a killed
            # worker has not projected yet, fail: scheduling failures are in the mix too).
            block = len(self.MIX)  # its evaluation is the last write of each block
            day = self.first_day + timedelta(days=n - n % block + 2 * block - 1)
            venue, owner = (
                (HOST_VENUE, self.keys.host)
                if self.MIX[(n + 1) % len(self.MIX)] is CAPACITY
                else (HOME_VENUE, self.keys.department)
            )
            body = {"slot": {"date": day.isoformat(), "half_day": "AM"}, "seats": 6, "fee_fen": n}
            slot_key = f"{venue}|{day.isoformat()}-AM"  # Slot.key()
            return Write(kind, slot_key, f"/v1/venues/{venue}/capacity", body, owner)
        body = {
            "project_id": marker,
            "bid_section_code": "001",
            "slot": {"date": day.isoformat(), "half_day": "AM"},
            "committee_size": 5,
            "specialties": [
                {"specialty_code": f"T{self.specialty}", "kind": "TECHNICAL", "count": 3},
                {"specialty_code": f"E{self.specialty}", "kind": "ECONOMIC", "count": 2},
            ],
            "main_venue_id": HOST_VENUE,
        }
        return Write(kind, marker, "/v1/evaluations", body, self.keys.host)


async def add_experts(client: httpx.AsyncClient, keys: Keys, specialty: str) -> None:
    """Experts with the run's specialties, enough for every committee: in the host's pool for
    the main venue and in 长清区's for its venue (a remote evaluation seats partners' experts
    in their own venues), each with an employer of their own."""
    base = int(uuid.uuid4().int % 10**7)
    for p, pool in enumerate((HOST_CENTRE, HOME_REGION)):
        for kind, count in (("TECHNICAL", 5), ("ECONOMIC", 4)):
            for i in range(count):
                n = base + 20 * p + (i if kind == "TECHNICAL" else 10 + i)
                added = await client.post(
                    "/v1/experts",
                    headers={"X-API-Key": keys.operator, "Idempotency-Key": str(uuid.uuid4())},
                    json={
                        "pool_code": pool,
                        "kind": kind,
                        "specialties": [f"{kind[0]}{specialty}"],
                        "employer_code": _code(n),
                        "name": f"专家{n}",
                        "phone": f"137{n:08d}",
                        "id_number": f"37010219800101{n % 10000:04d}",
                    },
                )
                assert added.status_code == 201, added.text


def _retry_after_s(response: httpx.Response) -> float:
    try:
        return min(5.0, max(0.2, float(response.headers.get("Retry-After", "1"))))
    except ValueError:
        return 1.0


async def send(
    client: httpx.AsyncClient, base_url: str, write: Write, figures: LoadFigures, give_up_s: float
) -> None:
    """One write with one Idempotency-Key, retried as a careful client does."""
    figures.sent[write.kind.label] += 1
    headers = {"X-API-Key": write.key, "Idempotency-Key": str(uuid.uuid4())}
    deadline = time.monotonic() + give_up_s
    while time.monotonic() < deadline:
        try:
            response = await client.post(base_url + write.path, json=write.body, headers=headers)
        except httpx.TransportError:
            await asyncio.sleep(0.5)
            continue
        figures.statuses[response.status_code] += 1
        if response.status_code in (200, 201, 202):
            if write.kind is EVALUATION:
                figures.evaluation_ids[write.marker] = response.json()["evaluation_id"]
            figures.acknowledge(write)
            return
        if response.status_code == 503:
            figures.unavailable_503 += 1
            if "Retry-After" not in response.headers:
                figures.without_retry_after += 1
            await asyncio.sleep(_retry_after_s(response))
            continue
        if response.status_code == 409 and "in_flight" in response.text:
            await asyncio.sleep(0.5)
            continue
        line = f"{write.kind.label} {write.marker}: {response.status_code} {response.text[:200]}"
        if response.status_code >= 500:
            figures.server_errors.append(line)
        else:
            figures.refused.append(line)
        return
    figures.given_up += 1


async def drive(
    base_urls: dict[str, str],
    writes: Iterable[Write],
    figures: LoadFigures,
    *,
    concurrency: int = 16,
    give_up_s: float = 120.0,
    keep_going: Callable[[], bool] = lambda: True,
) -> None:
    """Sends ``writes`` with ``concurrency`` clients until done or ``keep_going`` says stop."""
    queue = iter(writes)
    limits = httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:

        async def client_loop() -> None:
            for write in queue:
                await send(client, base_urls[write.kind.service], write, figures, give_up_s)
                if not keep_going():
                    return

        await asyncio.gather(*(client_loop() for _ in range(concurrency)))


def _marker(kind: WriteKind, message: Any) -> str:
    if kind is REGISTRATION:
        return str(message.name)
    if kind is REPORT:
        return str(message.description)
    if kind is CAPACITY:
        return f"{message.venue_id}|{slot_from(message.slot).key()}"
    return str(message.project_id)


async def read_topic(settings: PlatformSettings, topic: TopicSpec) -> list[Envelope[Any]]:
    """Every decodable event on ``topic``, up to its end offsets now, in partition order."""
    consumer = create_consumer(settings, group_id=None, client_id="faults-log-reader")
    await consumer.start()
    try:
        partitions = [
            TopicPartition(topic.name, p)
            for p in sorted(consumer.partitions_for_topic(topic.name) or set())
        ]
        if not partitions:
            partitions = [
                TopicPartition(topic.name, p)
                for p in range(topic.partitions or settings.topic_partitions)
            ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        remaining = {tp for tp in partitions if ends[tp] > 0}
        found: list[Envelope[Any]] = []
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=1000, max_records=10_000)
            for tp, records in batch.items():
                for record in records:
                    if record.offset >= ends[tp]:
                        break
                    try:
                        found.append(decode_record(record.value, list(record.headers)))
                    except EventDecodeError:
                        continue  # the poison records of another test
            for tp in list(remaining):
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
        return found
    finally:
        await consumer.stop()


@dataclass(frozen=True)
class LogCount:
    label: str
    acknowledged: int
    found_once: int
    lost: int
    duplicated: int  # acknowledged writes found more than once
    unacknowledged_in_log: int  # in the log though never acknowledged (a client gave up)


async def count_in_log(
    settings: PlatformSettings, figures: LoadFigures, tag: str
) -> list[LogCount]:
    """For each kind: how many acknowledged writes are in the log once, never, or twice+."""
    counts: list[LogCount] = []
    for kind in KINDS:
        acknowledged = figures.acknowledged.get(kind.label, set())
        if not figures.sent[kind.label]:
            continue
        seen: Counter[str] = Counter()
        for envelope in await read_topic(settings, kind.topic):
            if envelope.message.DESCRIPTOR.name == kind.event_type:
                try:
                    marker = _marker(kind, envelope.message)
                except ValueError:
                    continue  # another test's poison: decodable, but no slot of this run
                if kind is CAPACITY or marker.startswith(f"{tag}-"):
                    seen[marker] += 1
        if kind is CAPACITY:  # seats of other runs share the venue: keep this run's slots
            sent_slots = {m for m in seen if m in acknowledged}
            seen = Counter({m: seen[m] for m in sent_slots})
        counts.append(
            LogCount(
                kind.label,
                acknowledged=len(acknowledged),
                found_once=sum(1 for m in acknowledged if seen[m] == 1),
                lost=sum(1 for m in acknowledged if seen[m] == 0),
                duplicated=sum(1 for m in acknowledged if seen[m] > 1),
                unacknowledged_in_log=sum(1 for m in seen if m not in acknowledged),
            )
        )
    return counts
