"""Bulk import of large-amount trade records (大额交易项目信息) from the provincial, city and
county platforms: NDJSON or CSV, read line by line (never the whole file in memory), each line
checked on its own, deduplicated by unified deal code, published in batches.

Used by the API (``POST /v1/large-amount-records/imports``) and from the command line::

    python -m services.intake.bulk_import FILE --source-level provincial|city|county

Deduplication: a Redis set holds every unified deal code ever imported; a record is published
only if adding its code to the set added it, so importing the same file again adds nothing.
A batch whose publishing fails takes its codes back out of the set, so a retry publishes them.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer
from redis.asyncio import Redis

from services.intake.domain.large_amount import (
    LargeAmountRecord,
    RecordRefused,
    SourceLevel,
    parse_record,
)
from services.intake.event_codec import large_amount_record_event
from services.platform_core.errors import PlatformError
from services.platform_core.events.envelope import Envelope, encode_envelope
from services.platform_core.events.ids import new_event_id
from services.platform_core.events.topics import LARGE_AMOUNT_RECORDS
from services.platform_core.kafka.clients import create_producer
from services.platform_core.kafka.topic_admin import ensure_topics
from services.platform_core.settings import get_settings

IMPORTED_CODES = "prt:intake:large-amount:deal-codes"
SOURCE = "/jinan-prt/intake/bulk-import"
MAX_LINE_BYTES = 64 * 1024
MAX_REPORTED_REJECTIONS = 10_000
BATCH_SIZE = 2_000


# SADD member by member in one round trip, answering which members were new: a pipeline of
# single SADDs says the same but costs a reply per record.
_ADD_EACH = """
local added = {}
for i, code in ipairs(ARGV) do
  added[i] = redis.call('SADD', KEYS[1], code)
end
return added
"""


class ImportFormat(StrEnum):
    NDJSON = "ndjson"
    CSV = "csv"


class ImportAborted(PlatformError):
    """The upload cannot be read as lines at all (e.g. no line breaks in a huge body)."""


@dataclass
class RejectedLine:
    line: int
    reason: str


@dataclass
class ImportReport:
    import_batch_id: str
    source_level: str
    lines: int = 0  # records read (a CSV header and blank lines are not records)
    imported: int = 0  # published now
    duplicates: int = 0  # already imported before, or twice in this upload
    rejected: int = 0
    rejected_lines: list[RejectedLine] = field(default_factory=list)
    rejected_lines_truncated: bool = False

    def reject(self, line: int, reason: str) -> None:
        self.rejected += 1
        if len(self.rejected_lines) < MAX_REPORTED_REJECTIONS:
            self.rejected_lines.append(RejectedLine(line, reason))
        else:
            self.rejected_lines_truncated = True

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


async def split_lines(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """Lines of a byte stream, one at a time; only one partial line is ever held."""
    pending = b""
    async for chunk in chunks:
        pending += chunk
        if b"\n" not in chunk:
            if len(pending) > MAX_LINE_BYTES:
                raise ImportAborted(f"a line is longer than {MAX_LINE_BYTES} bytes")
            continue
        *complete, pending = pending.split(b"\n")
        for line in complete:
            yield line
    if pending:
        yield pending


def _fields(line: bytes, import_format: ImportFormat, header: list[str] | None) -> dict[str, Any]:
    if len(line) > MAX_LINE_BYTES:
        raise RecordRefused(f"line longer than {MAX_LINE_BYTES} bytes")
    if import_format is ImportFormat.NDJSON:
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise RecordRefused(f"not a JSON object: {exc}") from None
        if not isinstance(value, dict):
            raise RecordRefused("not a JSON object")
        return value
    assert header is not None
    try:
        values = next(csv.reader([line.decode("utf-8")]))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise RecordRefused(f"not a CSV line: {exc}") from None
    if len(values) != len(header):
        raise RecordRefused(f"{len(values)} columns, the header has {len(header)}")
    return {name: value for name, value in zip(header, values, strict=True) if value != ""}


class BulkImporter:
    def __init__(
        self,
        producer: AIOKafkaProducer,
        redis: Redis,
        *,
        source_level: SourceLevel,
        actor_department: str,
        allowed_regions: frozenset[str] | None = None,
        batch_size: int = BATCH_SIZE,
        pulled_at: datetime | None = None,
    ) -> None:
        self._producer = producer
        self._redis = redis
        self._source_level = source_level
        self._actor = actor_department
        self._regions = allowed_regions
        self._batch_size = batch_size
        # When the records were pulled (occurred_at of their events): now, or a migration's date.
        self._pulled_at = pulled_at
        self._add_codes = redis.register_script(_ADD_EACH)
        self._in_flight: tuple[list[str], list[asyncio.Future[Any]]] | None = None
        self.report = ImportReport(new_event_id(), source_level.value)

    async def run(
        self,
        lines: AsyncIterator[bytes],
        import_format: ImportFormat,
        on_line: Callable[[int], None] | None = None,
    ) -> ImportReport:
        """Import every line; ``on_line`` is told each line's byte count (for a progress bar)."""
        header: list[str] | None = None
        batch: list[LargeAmountRecord] = []
        number = 0
        async for raw in lines:
            number += 1
            if on_line is not None:
                on_line(len(raw) + 1)
            line = raw.rstrip(b"\r")
            if number == 1:
                line = line.removeprefix(b"\xef\xbb\xbf")
            if not line.strip():
                continue
            if import_format is ImportFormat.CSV and header is None:
                header = [name.strip() for name in next(csv.reader([line.decode("utf-8")]))]
                continue
            self.report.lines += 1
            try:
                record = parse_record(
                    _fields(line, import_format, header),
                    from_text=import_format is ImportFormat.CSV,
                )
                if self._regions is not None and record.region_code not in self._regions:
                    raise RecordRefused(
                        f"region {record.region_code} is outside the importing department's "
                        f"regions ({', '.join(sorted(self._regions)) or 'none'})"
                    )
            except RecordRefused as refused:
                self.report.reject(number, str(refused))
                continue
            batch.append(record)
            if len(batch) >= self._batch_size:
                await self._publish(batch)
                batch = []
        if batch:
            await self._publish(batch)
        await self._settle()
        return self.report

    async def _publish(self, batch: list[LargeAmountRecord]) -> None:
        added = await self._add_codes(
            keys=[IMPORTED_CODES], args=[record.unified_deal_code for record in batch]
        )
        fresh = [record for record, was_added in zip(batch, added, strict=True) if was_added]
        self.report.duplicates += len(batch) - len(fresh)
        if not fresh:
            return
        now = self._pulled_at or datetime.now(UTC)
        try:
            deliveries = []
            for record in fresh:
                event = large_amount_record_event(
                    record,
                    occurred_at=now,
                    actor_department=self._actor,
                    source_level=self._source_level,
                    import_batch_id=self.report.import_batch_id,
                )
                envelope = Envelope(
                    message=event, source=SOURCE, subject=record.unified_deal_code, time=now
                )
                value, headers = encode_envelope(envelope)
                deliveries.append(
                    await self._producer.send(
                        LARGE_AMOUNT_RECORDS.name,
                        value=value,
                        key=record.unified_deal_code.encode(),
                        headers=headers,
                    )
                )
        except BaseException:
            await self._forget([r.unified_deal_code for r in fresh])
            await self._settle()
            raise
        # The previous batch's acknowledgements arrived while this one was being read and
        # checked; one batch stays in flight so reading and publishing overlap.
        await self._settle()
        self._in_flight = ([r.unified_deal_code for r in fresh], deliveries)

    async def _settle(self) -> None:
        """Wait for the batch in flight; a batch not acknowledged is taken out of the dedup
        set, so a retry of the import publishes it."""
        if self._in_flight is None:
            return
        codes, deliveries = self._in_flight
        self._in_flight = None
        try:
            await asyncio.gather(*deliveries)
        except BaseException:
            await self._forget(codes)
            raise
        self.report.imported += len(codes)

    async def _forget(self, codes: list[str]) -> None:
        if codes:
            await self._redis.srem(IMPORTED_CODES, *codes)


def format_of(path: Path, given: str | None) -> ImportFormat:
    if given:
        return ImportFormat(given)
    return ImportFormat.CSV if path.suffix.lower() == ".csv" else ImportFormat.NDJSON


async def _file_chunks(path: Path, chunk_bytes: int = 256 * 1024) -> AsyncIterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_bytes):
            yield chunk


async def _import_file(args: argparse.Namespace) -> ImportReport:
    from tqdm import tqdm  # type: ignore[import-untyped]

    settings = get_settings()
    await ensure_topics(settings, [LARGE_AMOUNT_RECORDS])
    producer = create_producer(settings, client_id="intake-bulk-import")
    redis = Redis.from_url(settings.redis_url)
    await producer.start()
    try:
        importer = BulkImporter(
            producer,
            redis,
            source_level=SourceLevel(args.source_level),
            actor_department=args.department,
            pulled_at=args.pulled_at,
        )
        path = Path(args.file)
        with tqdm(
            total=args.size_bytes, unit="B", unit_scale=True, desc=path.name, file=sys.stderr
        ) as bar:
            return await importer.run(
                split_lines(_file_chunks(path)), format_of(path, args.format), bar.update
            )
    finally:
        await producer.stop()
        await redis.aclose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", help="an .ndjson or .csv file")
    parser.add_argument("--source-level", choices=[s.value for s in SourceLevel], required=True)
    parser.add_argument("--format", choices=[f.value for f in ImportFormat])
    parser.add_argument(
        "--department", default="JYZX", help="code of the department running the import"
    )
    parser.add_argument(
        "--pulled-at",
        type=datetime.fromisoformat,
        help="when a historical pull happened (ISO 8601 with offset); default now",
    )
    args = parser.parse_args(argv)
    if args.pulled_at is not None and args.pulled_at.tzinfo is None:
        parser.error("--pulled-at needs a UTC offset, e.g. 2023-03-31T17:00:00+08:00")
    args.size_bytes = Path(args.file).stat().st_size
    report = asyncio.run(_import_file(args))
    print(json.dumps(report.as_json(), ensure_ascii=False, indent=1))
    return 0 if report.rejected == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
