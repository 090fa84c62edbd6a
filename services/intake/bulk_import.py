"""Bulk import of large-amount trade records (大额交易项目信息) from the provincial, city and
county platforms: NDJSON or CSV, read line by line (never the whole file in memory), each line
checked on its own, deduplicated by unified deal code, published in batches.

Used by the API (``POST /v1/large-amount-records/imports``) and from the command line::

    python -m services.intake.bulk_import FILE --source-level provincial|city|county

Deduplication: a Redis set holds every unified deal code ever imported; a record is published
only if adding its code to the set added it, so importing the same file again adds nothing.
A batch whose publishing fails takes its codes back out of the set, so a retry publishes them.
Each duplicate is reported with its line and what it repeats: an earlier import, or an earlier
line of this file (a Redis hash of the import's own codes and their lines, deleted at the end,
says which line; the file's codes are never all held here).

The file must be UTF-8 (NDJSON by its RFC, CSV by this import): the API and the command line
check the whole file first and refuse it, naming the line and byte offset, before anything is
published. A deal time later than the pull time (``pulled_at``: stated, or when the import
starts) by more than ``DEAL_AT_CLOCK_SKEW`` is a bad line.
"""

from __future__ import annotations

import argparse
import asyncio
import codecs
import contextlib
import csv
import json
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer
from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.intake.domain.large_amount import (
    LargeAmountRecord,
    RecordRefused,
    SourceLevel,
    parse_record,
)
from services.intake.event_codec import large_amount_record_encoder, large_amount_record_event
from services.platform_core.auth.principals import Principal, PrincipalKind
from services.platform_core.errors import PlatformError
from services.platform_core.events.envelope import Envelope, encode_envelope
from services.platform_core.events.ids import new_event_id
from services.platform_core.events.topics import LARGE_AMOUNT_RECORDS
from services.platform_core.garbage_collection import collecting_less_often
from services.platform_core.http.business_time import business_time
from services.platform_core.http.errors import ApiError
from services.platform_core.kafka.clients import create_producer
from services.platform_core.kafka.topic_admin import ensure_topics
from services.platform_core.settings import get_settings

IMPORTED_CODES = "prt:intake:large-amount:deal-codes"
# Per import: each code it added and the line that added it, for naming the line a later
# duplicate repeats. Deleted when the import ends; the expiry only clears a crashed import's.
IMPORT_FIRST_LINES = "prt:intake:large-amount:import:{import_batch_id}:first-lines"
IMPORT_FIRST_LINES_TTL_SECONDS = 24 * 3600
SOURCE = "/jinan-prt/intake/bulk-import"
MAX_LINE_BYTES = 64 * 1024
MAX_REPORTED_REJECTIONS = 10_000
# Duplicates are listed as rejections are: the first 10,000, with the total in the count.
MAX_REPORTED_DUPLICATES = MAX_REPORTED_REJECTIONS
BATCH_SIZE = 2_000


# Adds a batch's codes (ARGV[1]) to the set KEYS[1], answering for each whether it was new:
# '1' when it was not in the set and not earlier in the batch (what SADD member by member would
# say); '2' when this import added it from an earlier line; '0' when it was in the set before
# (an earlier import). The lines the new codes came from (ARGV[2]) go into the import's hash
# KEYS[2]; the answer's second string is the earlier line of each '2', in order.
# The codes and lines come as one argument each, one per line, and the flags as one string:
# 2,000 arguments and 2,000 integer replies cost the importer ~1 us of CPU per record to write
# and read. The set is asked and added to a thousand codes per call: a call per code cost Redis
# ~2.5 us per record, which the import waited for. The hash is only read for duplicates.
_ADD_NEW = """
local codes = {}
local n = 0
for code in string.gmatch(ARGV[1], '[^\\n]+') do
  n = n + 1
  codes[n] = code
end
local lines = {}
local m = 0
for line in string.gmatch(ARGV[2], '[^\\n]+') do
  m = m + 1
  lines[m] = line
end
local flags = {}
local earlier = {}
local seen = {}
for first = 1, n, 1000 do
  local last = math.min(first + 999, n)
  local members = redis.call('SMISMEMBER', KEYS[1], unpack(codes, first, last))
  local first_lines = {}
  for i = first, last do
    local code = codes[i]
    if members[i - first + 1] == 0 and not seen[code] then
      seen[code] = lines[i]
      flags[i] = '1'
      first_lines[#first_lines + 1] = code
      first_lines[#first_lines + 1] = lines[i]
    else
      local line = seen[code] or redis.call('HGET', KEYS[2], code)
      if line then
        flags[i] = '2'
        earlier[#earlier + 1] = line
      else
        flags[i] = '0'
      end
    end
  end
  redis.call('SADD', KEYS[1], unpack(codes, first, last))
  if #first_lines > 0 then
    redis.call('HSET', KEYS[2], unpack(first_lines))
  end
end
redis.call('EXPIRE', KEYS[2], ARGV[3])
return {table.concat(flags), table.concat(earlier, '\\n')}
"""


def _text_of(reply: bytes | str) -> str:
    """A reply as text, whether or not the client decodes replies."""
    return reply.decode() if isinstance(reply, bytes) else reply


class ImportFormat(StrEnum):
    NDJSON = "ndjson"
    CSV = "csv"


class ImportAborted(PlatformError):
    """The upload cannot be read as lines at all (e.g. no line breaks in a huge body)."""


class NotUtf8(ImportAborted):
    """The upload is not UTF-8 text (e.g. a CSV saved by Excel in GBK on Chinese Windows).
    Refused as a whole, naming where: guessing another encoding could import wrong names."""

    def __init__(self, line: int, byte_offset: int, byte: int) -> None:
        self.line = line
        self.byte_offset = byte_offset
        super().__init__(
            f"the file is not UTF-8 text: line {line} (byte offset {byte_offset}) holds byte "
            f"0x{byte:02x}, which UTF-8 does not allow there. The import takes UTF-8 only: save "
            'the file as UTF-8 (in Excel: Save As, "CSV UTF-8 (Comma delimited) (*.csv)") and '
            "import it again. Nothing was imported"
        )


class Utf8Check:
    """Checks that a byte stream is UTF-8, fed chunk by chunk (a character may be split
    between chunks); ``feed`` and ``finish`` raise ``NotUtf8`` at the first bad byte."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._bytes_fed = 0
        self._line_breaks = 0  # in the bytes fed, before the decoder's held-back bytes

    def feed(self, chunk: bytes, *, final: bool = False) -> None:
        held_back = len(self._decoder.getstate()[0])
        try:
            self._decoder.decode(chunk, final)
        except UnicodeDecodeError as exc:
            # exc.object is the held-back bytes (an unfinished character, no line break) and
            # then the chunk; exc.start indexes it.
            start = self._bytes_fed - held_back
            raise NotUtf8(
                line=self._line_breaks + exc.object[: exc.start].count(b"\n") + 1,
                byte_offset=start + exc.start,
                byte=exc.object[exc.start],
            ) from None
        self._bytes_fed += len(chunk)
        self._line_breaks += chunk.count(b"\n")

    def finish(self) -> None:
        """The stream ended: an unfinished character at its end is not UTF-8 either."""
        self.feed(b"", final=True)


class DuplicateOf(StrEnum):
    EARLIER_IMPORT = "earlier_import"  # its code was imported before this import
    EARLIER_LINE = "earlier_line"  # an earlier line of this file has its code


@dataclass
class RejectedLine:
    line: int
    reason: str


@dataclass
class DuplicateLine:
    line: int
    unified_deal_code: str
    duplicate_of: str  # a DuplicateOf
    earlier_line: int | None  # the line of this file it repeats, for EARLIER_LINE


@dataclass
class ImportReport:
    import_batch_id: str
    source_level: str
    # The pull time deal times are checked against: stated, or when the import started.
    pulled_at: str = ""
    lines: int = 0  # records read (a CSV header and blank lines are not records)
    imported: int = 0  # published now
    duplicates: int = 0  # already imported before, or twice in this upload
    duplicate_lines: list[DuplicateLine] = field(default_factory=list)
    duplicate_lines_truncated: bool = False
    rejected: int = 0
    rejected_lines: list[RejectedLine] = field(default_factory=list)
    rejected_lines_truncated: bool = False

    def reject(self, line: int, reason: str) -> None:
        self.rejected += 1
        if len(self.rejected_lines) < MAX_REPORTED_REJECTIONS:
            self.rejected_lines.append(RejectedLine(line, reason))
        else:
            self.rejected_lines_truncated = True

    def duplicate(self, line: int, unified_deal_code: str, earlier_line: int | None) -> None:
        self.duplicates += 1
        if len(self.duplicate_lines) < MAX_REPORTED_DUPLICATES:
            of = DuplicateOf.EARLIER_IMPORT if earlier_line is None else DuplicateOf.EARLIER_LINE
            self.duplicate_lines.append(
                DuplicateLine(line, unified_deal_code, of.value, earlier_line)
            )
        else:
            self.duplicate_lines_truncated = True

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


async def split_lines(chunks: AsyncIterator[bytes]) -> AsyncIterator[list[bytes]]:
    """The complete lines of a byte stream, a chunk's worth at a time (handing them over one
    by one cost more per line than checking one); only one partial line is ever held."""
    pending = b""
    async for chunk in chunks:
        pending += chunk
        if b"\n" not in chunk:
            if len(pending) > MAX_LINE_BYTES:
                raise ImportAborted(f"a line is longer than {MAX_LINE_BYTES} bytes")
            continue
        *complete, pending = pending.split(b"\n")
        yield complete
    if pending:
        yield [pending]


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


class _QuotedLineJoiner:
    """A CSV record whose quoted field holds a line break (RFC 4180) runs on over the next
    lines: they are joined to it, and the record goes by its first line's number. (Lines are
    split before they are parsed, so such a record was cut at the break and its start
    imported.)"""

    def __init__(self, report: ImportReport) -> None:
        self._report = report
        self._carried: bytes | None = None
        self._first_line = 0

    def feed(self, line: bytes, number: int) -> tuple[bytes, int] | None:
        """The record that ends with this line and its first line's number, or None while a
        quoted field is open (or the line is refused)."""
        if self._carried is not None:
            line, number = self._carried + b"\n" + line, self._first_line
            self._carried = None
        # An odd number of quotes (a quote inside a field is written twice): a quoted field is
        # still open at the line's end.
        if not line.count(b'"') % 2:
            return line, number
        if len(line) > MAX_LINE_BYTES:
            self._report.lines += 1
            self._report.reject(
                number, f"a quoted field is not closed within {MAX_LINE_BYTES} bytes"
            )
            return None
        self._carried, self._first_line = line, number
        return None

    def finish(self) -> None:
        if self._carried is not None:
            self._report.lines += 1
            self._report.reject(
                self._first_line, "a quoted field is not closed before the end of the file"
            )
            self._carried = None


def _csv_header(line: bytes) -> list[str]:
    try:
        return [name.strip() for name in next(csv.reader([line.decode("utf-8")]))]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ImportAborted(
            f"the CSV header (line 1) is not UTF-8 text with comma-separated names: {exc}"
        ) from None


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
        self._add_new_codes = redis.register_script(_ADD_NEW)
        # Batches (records, their lines) whose codes Redis is checking (and adding) while the
        # next one is read.
        self._checking: list[tuple[list[LargeAmountRecord], list[int], asyncio.Future[Any]]] = []
        self._in_flight: tuple[list[str], list[asyncio.Future[Any]]] | None = None
        self.report = ImportReport(new_event_id(), source_level.value)
        self._first_lines = IMPORT_FIRST_LINES.format(import_batch_id=self.report.import_batch_id)

    async def run(
        self,
        lines: AsyncIterator[list[bytes]],
        import_format: ImportFormat,
        on_progress: Callable[[int], None] | None = None,
    ) -> ImportReport:
        """Import every line of ``lines`` (as ``split_lines`` hands them over); ``on_progress``
        is told the byte count of each list of lines (for a progress bar)."""
        # Every record allocates objects that live until its batch is acknowledged; with the
        # default thresholds the collector walked the whole heap every few thousand records
        # (~8 us of CPU per record on the 2-CPU test machine).
        with collecting_less_often():
            try:
                return await self._run(lines, import_format, on_progress)
            except BaseException:
                await self._take_back()
                raise
            finally:
                # Its expiry clears it if this fails too; the import's outcome stands.
                with contextlib.suppress(RedisError):
                    await self._redis.unlink(self._first_lines)

    async def _run(
        self,
        lines: AsyncIterator[list[bytes]],
        import_format: ImportFormat,
        on_progress: Callable[[int], None] | None,
    ) -> ImportReport:
        report = self.report
        # One pull time for the whole file: a deal after it (beyond the clock skew) is refused.
        pulled_at = self._pulled_at or datetime.now(UTC)
        report.pulled_at = pulled_at.isoformat()
        regions = self._regions
        batch_size = self._batch_size
        from_text = import_format is ImportFormat.CSV
        header: list[str] | None = None
        batch: list[LargeAmountRecord] = []
        batch_lines: list[int] = []
        number = 0
        joiner = _QuotedLineJoiner(report) if from_text else None
        async for some_lines in lines:
            if on_progress is not None:
                on_progress(sum(map(len, some_lines)) + len(some_lines))
            for raw in some_lines:
                number += 1
                line = raw.rstrip(b"\r")
                if number == 1:
                    line = line.removeprefix(b"\xef\xbb\xbf")
                record_line = number
                if joiner is not None:
                    joined = joiner.feed(line, number)
                    if joined is None:
                        continue
                    line, record_line = joined
                if not line.strip():
                    continue
                if from_text and header is None:
                    header = _csv_header(line)
                    continue
                report.lines += 1
                try:
                    record = parse_record(
                        _fields(line, import_format, header),
                        from_text=from_text,
                        pulled_at=pulled_at,
                    )
                    if regions is not None and record.region_code not in regions:
                        raise RecordRefused(
                            f"region {record.region_code} is outside the importing "
                            f"department's regions ({', '.join(sorted(regions)) or 'none'})"
                        )
                except RecordRefused as refused:
                    report.reject(record_line, str(refused))
                    continue
                batch.append(record)
                batch_lines.append(record_line)
                if len(batch) >= batch_size:
                    await self._check_then_publish_previous(batch, batch_lines)
                    batch, batch_lines = [], []
        if joiner is not None:
            joiner.finish()
        await self._check_then_publish_previous(batch, batch_lines)
        await self._check_then_publish_previous([], [])
        await self._settle()
        return report

    async def _check_then_publish_previous(
        self, batch: list[LargeAmountRecord], batch_lines: list[int]
    ) -> None:
        """Start checking ``batch``'s codes, then publish the batch checked before it: Redis
        checks one batch while the next is read (waiting for it cost ~7 us per record of the
        import's time when Redis shared the machine with Kafka). Codes checked but not
        published when the import fails are taken back out of the set (``_take_back``)."""
        if batch:
            # A unified deal code has no line break (DEAL_CODE), so the lines are the codes.
            codes = "\n".join([record.unified_deal_code for record in batch])
            lines = "\n".join(map(str, batch_lines))
            checked = asyncio.ensure_future(
                self._add_new_codes(
                    keys=[IMPORTED_CODES, self._first_lines],
                    args=[codes, lines, IMPORT_FIRST_LINES_TTL_SECONDS],
                )
            )
            self._checking.append((batch, batch_lines, checked))
        if len(self._checking) > (1 if batch else 0):
            previous, previous_lines, answer = self._checking[0]
            # Shielded: cancelled while waiting, the call goes on, so _take_back learns what
            # it added.
            flags, earlier = await asyncio.shield(answer)
            del self._checking[0]
            await self._publish(previous, previous_lines, _text_of(flags), _text_of(earlier))

    async def _take_back(self) -> None:
        """The import failed: the codes that batches checked but not published added to the
        set are taken back out, so a retry publishes them."""
        checking, self._checking = self._checking, []
        for batch, _, answer in checking:
            try:
                flags, _ = await answer
            except Exception:  # the script failed: it added none, or none we can know of
                continue
            await self._forget(
                [
                    r.unified_deal_code
                    for r, flag in zip(batch, _text_of(flags), strict=True)
                    if flag == "1"
                ]
            )

    async def _publish(
        self, batch: list[LargeAmountRecord], batch_lines: list[int], flags: str, earlier: str
    ) -> None:
        fresh = [record for record, flag in zip(batch, flags, strict=True) if flag == "1"]
        if len(fresh) < len(batch):
            self._report_duplicates(batch, batch_lines, flags, earlier)
        if not fresh:
            return
        codes = [record.unified_deal_code for record in fresh]
        try:
            deliveries = [
                await self._producer.send(
                    LARGE_AMOUNT_RECORDS.name, value=value, key=key, headers=headers
                )
                for key, value, headers in self._events(fresh)
            ]
        except BaseException:
            await self._forget(codes)
            await self._settle()
            raise
        # The previous batch's acknowledgements arrived while this one was being read and
        # checked; one batch stays in flight so reading and publishing overlap.
        await self._settle()
        self._in_flight = (codes, deliveries)

    def _report_duplicates(
        self, batch: list[LargeAmountRecord], batch_lines: list[int], flags: str, earlier: str
    ) -> None:
        """Each duplicate's line, code and what it repeats: flag '0' an earlier import, '2'
        an earlier line of this file, the next of ``earlier``."""
        earlier_lines = iter(earlier.split("\n"))
        for record, line, flag in zip(batch, batch_lines, flags, strict=True):
            if flag == "0":
                self.report.duplicate(line, record.unified_deal_code, None)
            elif flag == "2":
                self.report.duplicate(line, record.unified_deal_code, int(next(earlier_lines)))

    def _events(
        self, records: list[LargeAmountRecord]
    ) -> Iterator[tuple[bytes, bytes, list[tuple[str, bytes]]]]:
        """Each record's Kafka key, value and headers: its event in a CloudEvents envelope,
        the same bytes as ``encode_envelope(Envelope(large_amount_record_event(...)))``.

        The first record's event is built and enveloped exactly so; the others reuse what the
        batch shares. The envelope's headers differ between the batch's events only in ce_id
        and ce_subject (type, source, time and content type are the batch's), so each event's
        headers are the first's with those two replaced, and the values come from
        ``large_amount_record_encoder``."""
        now = self._pulled_at or datetime.now(UTC)
        first = records[0]
        event = large_amount_record_event(
            first,
            occurred_at=now,
            actor_department=self._actor,
            source_level=self._source_level,
            import_batch_id=self.report.import_batch_id,
        )
        value, headers = encode_envelope(
            Envelope(message=event, source=SOURCE, subject=first.unified_deal_code, time=now)
        )
        key = first.unified_deal_code.encode()
        yield key, value, headers
        encode = large_amount_record_encoder(
            occurred_at=now,
            actor_department=self._actor,
            source_level=self._source_level,
            import_batch_id=self.report.import_batch_id,
        )
        names = [name for name, _ in headers]
        id_at, subject_at = names.index("ce_id"), names.index("ce_subject")
        for record in records[1:]:
            key = record.unified_deal_code.encode()
            headers = headers.copy()
            headers[id_at] = ("ce_id", new_event_id().encode())
            headers[subject_at] = ("ce_subject", key)
            yield key, encode(record), headers

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


def check_utf8_file(path: Path, chunk_bytes: int = 256 * 1024) -> None:
    """Raises ``NotUtf8`` if the file is not UTF-8: checked before the import publishes
    anything (its lines would otherwise be refused one by one, or the earlier ones imported)."""
    check = Utf8Check()
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_bytes):
            check.feed(chunk)
    check.finish()


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
    if args.pulled_at is not None:
        # The API's rules for a stated time (with an offset, not in the future, not before the
        # platform's records), so a file imported here is dated as the API would date it.
        backfill = Principal(
            "bulk-import-cli", PrincipalKind.DEPARTMENT, args.department, "", may_backfill=True
        )
        try:
            args.pulled_at = business_time(backfill, args.pulled_at)
        except ApiError as exc:
            print(f"--pulled-at: {exc.message}", file=sys.stderr)
            return 2
    path = Path(args.file)
    try:
        if not path.is_file():
            why = "not a file" if path.exists() else "no such file"
            print(f"{args.file}: {why}", file=sys.stderr)
            return 2
        args.size_bytes = path.stat().st_size
        # Readable and UTF-8: refused here, before anything is published.
        check_utf8_file(path)
    except OSError as exc:
        print(f"{args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except NotUtf8 as exc:
        print(f"{args.file}: {exc}", file=sys.stderr)
        return 2
    report = asyncio.run(_import_file(args))
    print(json.dumps(report.as_json(), ensure_ascii=False, indent=1))
    return 0 if report.rejected == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
