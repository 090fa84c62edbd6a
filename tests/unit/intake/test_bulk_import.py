"""The bulk import's fast paths give what the plain ones give: each record's Kafka value and
headers are those of ``encode_envelope(Envelope(large_amount_record_event(...)))``, and lines
are read, numbered and refused as before."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, cast

import orjson
import pytest

from services.intake.bulk_import import (
    SOURCE,
    BulkImporter,
    ImportFormat,
    split_lines,
)
from services.intake.domain.large_amount import SourceLevel, parse_record
from services.intake.event_codec import large_amount_record_encoder, large_amount_record_event
from services.platform_core.events.envelope import Envelope, decode_record, encode_envelope

PULLED_AT = datetime(2023, 7, 1, tzinfo=UTC)
LINE: dict[str, Any] = {
    "unified_deal_code": "SD-2022-000001",
    "tender_project_code": "TP-000001",
    "name": " 济南新旧动能转换起步区某道路工程 ",
    "category": "MUNICIPAL",
    "region_code": "370182",
    "tenderer_name": "济南城市建设集团有限公司",
    "tenderer_credit_code": "91110000600037341L",
    "winner_name": "山东黄河建工集团有限公司",
    "winner_credit_code": "91110000600037341L",
    "trading_method": "OPEN_TENDER",
    "amount_fen": 5_000_000_000,
    "deal_at": "2022-09-01T10:00:00+08:00",
    "source_platform_code": "SD-GGZY",
}

# Records that set every field, leave out each optional one, or carry odd but accepted values.
VARIANTS: list[tuple[dict[str, Any], bool]] = [
    (LINE, False),
    ({k: v for k, v in LINE.items() if not k.startswith("winner")}, False),
    ({k: v for k, v in LINE.items() if k not in ("trading_method", "source_platform_code")}, False),
    ({**LINE, "tender_project_code": None, "winner_name": None, "winner_credit_code": None}, False),
    ({**LINE, "amount_fen": 0, "deal_at": "2000-01-01T08:00:00.5+08:00"}, False),
    ({**LINE, "amount_fen": 10**15, "category": "OTHER", "deal_at": "2015-01-01T00:00Z"}, False),
    ({**LINE, "name": "x" * 300, "tender_project_code": "é" * 100}, False),
    ({k: str(v) for k, v in LINE.items()}, True),
]


def _reference(fields: dict[str, Any], from_text: bool, occurred_at: datetime) -> bytes:
    record = parse_record(fields, from_text=from_text, pulled_at=PULLED_AT)
    event = large_amount_record_event(
        record,
        occurred_at=occurred_at,
        actor_department="JYZX",
        source_level=SourceLevel.COUNTY,
        import_batch_id="batch-1",
    )
    return event.SerializeToString(deterministic=True)


@pytest.mark.parametrize(("fields", "from_text"), VARIANTS)
def test_the_batch_encoder_gives_the_bytes_of_the_event(
    fields: dict[str, Any], from_text: bool
) -> None:
    occurred_at = datetime(2023, 7, 1, 9, 30, 0, 123456, tzinfo=timezone(timedelta(hours=8)))
    encode = large_amount_record_encoder(
        occurred_at=occurred_at,
        actor_department="JYZX",
        source_level=SourceLevel.COUNTY,
        import_batch_id="batch-1",
    )
    record = parse_record(fields, from_text=from_text, pulled_at=PULLED_AT)
    assert encode(record) == _reference(fields, from_text, occurred_at)


class FakeProducer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, bytes, list[tuple[str, bytes]]]] = []

    async def send(
        self, topic: str, *, value: bytes, key: bytes, headers: list[tuple[str, bytes]]
    ) -> asyncio.Future[None]:
        self.sent.append((topic, key, value, headers))
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


class FakeRedis:
    """The dedup set and the imports' first-line hashes in memory, answering the import's
    script as Redis would (tests/integration/intake holds the real script to the same)."""

    def __init__(self) -> None:
        self.members: set[str] = set()
        self.first_lines: dict[str, dict[str, str]] = {}

    def register_script(self, _: str) -> Any:
        async def add_new(keys: Sequence[str], args: Sequence[Any]) -> list[bytes]:
            first_lines = self.first_lines.setdefault(keys[1], {})
            flags, earlier = bytearray(), []
            for code, line in zip(args[0].split("\n"), args[1].split("\n"), strict=True):
                if code in first_lines:
                    flags += b"2"
                    earlier.append(first_lines[code])
                elif code in self.members:
                    flags += b"0"
                else:
                    flags += b"1"
                    self.members.add(code)
                    first_lines[code] = line
            return [bytes(flags), "\n".join(earlier).encode()]

        return add_new

    async def srem(self, _: str, *codes: str) -> None:
        self.members.difference_update(codes)

    async def unlink(self, key: str) -> None:
        self.first_lines.pop(key, None)


async def _chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def test_each_published_record_is_its_event_in_the_platforms_envelope() -> None:
    lines = [orjson.dumps({**LINE, "unified_deal_code": f"SD-2022-{n:06d}"}) for n in range(7)]
    lines.insert(3, b'{"broken')
    lines.insert(5, lines[1])  # the same record twice
    producer, redis = FakeProducer(), FakeRedis()
    pulled_at = datetime(2023, 3, 31, 17, 0, tzinfo=timezone(timedelta(hours=8)))
    importer = BulkImporter(
        cast(Any, producer),
        cast(Any, redis),
        source_level=SourceLevel.CITY,
        actor_department="JYZX",
        batch_size=3,
        pulled_at=pulled_at,
    )
    report = await importer.run(
        split_lines(_chunks(b"\n".join(lines) + b"\n", 17)), ImportFormat.NDJSON
    )
    assert (report.lines, report.imported, report.duplicates) == (9, 7, 1)
    assert [(r.line, r.reason[:17]) for r in report.rejected_lines] == [(4, "not a JSON object")]
    assert [key for _, key, _, _ in producer.sent] == [
        f"SD-2022-{n:06d}".encode() for n in range(7)
    ]
    ids = []
    for topic, key, value, headers in producer.sent:
        assert topic == "intake.large-amount-records.v1"
        event_id = dict(headers)["ce_id"].decode()
        ids.append(event_id)
        record = parse_record(
            {**LINE, "unified_deal_code": key.decode()}, from_text=False, pulled_at=pulled_at
        )
        expected = encode_envelope(
            Envelope(
                message=large_amount_record_event(
                    record,
                    occurred_at=pulled_at,
                    actor_department="JYZX",
                    source_level=SourceLevel.CITY,
                    import_batch_id=report.import_batch_id,
                ),
                source=SOURCE,
                subject=key.decode(),
                id=event_id,
                time=pulled_at,
            )
        )
        assert (value, headers) == expected
        assert decode_record(value, headers).time == pulled_at.astimezone(UTC)
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)

    again = BulkImporter(
        cast(Any, producer),
        cast(Any, redis),
        source_level=SourceLevel.CITY,
        actor_department="JYZX",
    )
    report = await again.run(split_lines(_chunks(b"\n".join(lines), 64)), ImportFormat.NDJSON)
    assert (report.imported, report.duplicates, report.rejected) == (0, 8, 1)
    assert len(producer.sent) == 7


async def test_csv_lines_are_numbered_from_the_file_and_progress_counts_bytes() -> None:
    header = ",".join(LINE)
    row = ",".join(str(value) for value in LINE.values())
    bad = row.replace("91110000600037341L", "91110000600037341X", 1)
    data = f"\ufeff{header}\r\n{row}\r\n\r\n{bad}\n{row}".encode()
    seen: list[int] = []
    importer = BulkImporter(
        cast(Any, FakeProducer()),
        cast(Any, FakeRedis()),
        source_level=SourceLevel.COUNTY,
        actor_department="JYZX",
    )
    report = await importer.run(split_lines(_chunks(data, 5)), ImportFormat.CSV, seen.append)
    assert (report.lines, report.imported, report.duplicates, report.rejected) == (3, 1, 1, 1)
    assert [r.line for r in report.rejected_lines] == [4]
    assert "tenderer_credit_code" in report.rejected_lines[0].reason
    assert sum(seen) == len(data) + 1  # each line with its line break; the last has none


class _Broken(Exception):
    pass


async def _then_break(data: bytes) -> AsyncIterator[bytes]:
    yield data
    raise _Broken


def _codes(count: int) -> tuple[list[str], bytes]:
    codes = [f"SD-2022-{n:06d}" for n in range(count)]
    lines = b"".join(orjson.dumps({**LINE, "unified_deal_code": c}) + b"\n" for c in codes)
    return codes, lines


async def test_codes_checked_but_not_published_are_taken_back_when_reading_fails() -> None:
    # Batches of 2: the first is published while the second is checked; then the body breaks.
    codes, data = _codes(4)
    producer, redis = FakeProducer(), FakeRedis()
    importer = BulkImporter(
        cast(Any, producer),
        cast(Any, redis),
        source_level=SourceLevel.CITY,
        actor_department="JYZX",
        batch_size=2,
    )
    with pytest.raises(_Broken):
        await importer.run(split_lines(_then_break(data)), ImportFormat.NDJSON)
    assert [key.decode() for _, key, _, _ in producer.sent] == codes[:2]
    assert redis.members == set(codes[:2])


class FailingProducer(FakeProducer):
    async def send(
        self, topic: str, *, value: bytes, key: bytes, headers: list[tuple[str, bytes]]
    ) -> asyncio.Future[None]:
        if len(self.sent) == 3:
            raise _Broken
        return await super().send(topic, value=value, key=key, headers=headers)


async def test_a_batch_that_fails_to_publish_and_the_one_checked_after_it_are_taken_back() -> None:
    codes, data = _codes(8)
    redis = FakeRedis()
    redis.members.add(codes[7])  # imported before: stays in the set
    importer = BulkImporter(
        cast(Any, FailingProducer()),
        cast(Any, redis),
        source_level=SourceLevel.CITY,
        actor_department="JYZX",
        batch_size=2,
    )
    with pytest.raises(_Broken):
        await importer.run(split_lines(_chunks(data, 1000)), ImportFormat.NDJSON)
    # 0-1 acknowledged; 2-3 failed on the send of 3; 4-5 checked meanwhile; 6-7 never checked.
    assert redis.members == {codes[0], codes[1], codes[7]}
    assert importer.report.imported == 2
