"""What a bulk import answers a clerk: a deal after the pull is a bad line naming the pull time;
each duplicate is listed with its line, its code and what it repeats; a file that is not UTF-8
is refused whole, naming the line and byte offset where decoding failed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, cast

import orjson
import pytest

from services.intake import bulk_import
from services.intake.bulk_import import (
    BulkImporter,
    ImportFormat,
    ImportReport,
    NotUtf8,
    Utf8Check,
    check_utf8_file,
    split_lines,
)
from services.intake.domain.large_amount import (
    DEAL_AT_CLOCK_SKEW,
    RecordRefused,
    SourceLevel,
    parse_record,
)
from tests.unit.intake.test_bulk_import import LINE, FakeProducer, FakeRedis

CST = timezone(timedelta(hours=8))
PULLED_AT = datetime(2026, 12, 2, 9, 0, tzinfo=CST)


# -- a deal after the pull -------------------------------------------------------------------


def test_a_deal_after_the_pull_time_is_refused_naming_the_pull_time() -> None:
    with pytest.raises(RecordRefused) as refused:
        parse_record(
            {**LINE, "deal_at": "2027-11-20T10:00:00+08:00"}, from_text=False, pulled_at=PULLED_AT
        )
    assert "after the pull time 2026-12-02T09:00:00+08:00" in str(refused.value)
    assert "5 minutes of clock skew" in str(refused.value)


def test_the_pull_time_is_named_in_the_lines_own_offset() -> None:
    with pytest.raises(RecordRefused, match=r"pull time 2026-12-02T09:00:00\+08:00"):
        parse_record(
            {**LINE, "deal_at": "2026-12-02T10:00:00+08:00"},
            from_text=False,
            pulled_at=PULLED_AT.astimezone(UTC),
        )


def test_a_deal_within_the_clock_skew_of_the_pull_is_taken_one_beyond_it_is_not() -> None:
    at_the_edge = (PULLED_AT + DEAL_AT_CLOCK_SKEW).isoformat()
    record = parse_record({**LINE, "deal_at": at_the_edge}, from_text=False, pulled_at=PULLED_AT)
    assert record.deal_at == PULLED_AT + DEAL_AT_CLOCK_SKEW
    beyond = (PULLED_AT + DEAL_AT_CLOCK_SKEW + timedelta(seconds=1)).isoformat()
    with pytest.raises(RecordRefused, match="after the pull time"):
        parse_record({**LINE, "deal_at": beyond}, from_text=False, pulled_at=PULLED_AT)


async def _chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def _importer(redis: FakeRedis, *, batch_size: int = 3, **more: Any) -> BulkImporter:
    return BulkImporter(
        cast(Any, FakeProducer()),
        cast(Any, redis),
        source_level=SourceLevel.CITY,
        actor_department="JYZX",
        batch_size=batch_size,
        **more,
    )


def _ndjson(*records: dict[str, Any]) -> bytes:
    return b"".join(orjson.dumps(record) + b"\n" for record in records)


async def test_an_import_without_a_stated_pull_time_refuses_deals_after_now() -> None:
    data = _ndjson(
        {**LINE, "unified_deal_code": "SD-FUTURE-1", "deal_at": "2099-11-20T10:00:00+08:00"},
        {**LINE, "unified_deal_code": "SD-PAST-1"},
    )
    before = datetime.now(UTC)
    report = await _importer(FakeRedis()).run(split_lines(_chunks(data, 50)), ImportFormat.NDJSON)
    assert (report.imported, report.rejected) == (1, 1)
    [rejected] = report.rejected_lines
    assert rejected.line == 1 and "after the pull time" in rejected.reason
    assert datetime.fromisoformat(report.pulled_at) >= before


async def test_a_stated_pull_time_is_the_one_deals_are_checked_against() -> None:
    data = _ndjson({**LINE, "deal_at": "2023-04-01T10:00:00+08:00"})
    pulled_at = datetime(2023, 3, 31, 17, 0, tzinfo=CST)
    importer = _importer(FakeRedis(), pulled_at=pulled_at)
    report = await importer.run(split_lines(_chunks(data, 50)), ImportFormat.NDJSON)
    assert report.imported == 0
    assert [r.line for r in report.rejected_lines] == [1]
    assert "pull time 2023-03-31T17:00:00+08:00" in report.rejected_lines[0].reason
    assert report.pulled_at == "2023-03-31T17:00:00+08:00"


# -- duplicates, line by line -----------------------------------------------------------------


def _code(n: int) -> dict[str, Any]:
    return {**LINE, "unified_deal_code": f"SD-2022-{n:06d}"}


async def test_each_duplicate_is_listed_with_its_line_code_and_what_it_repeats() -> None:
    redis = FakeRedis()
    redis.members.add("SD-2022-000009")  # imported before
    # Batches of 3: the repeats fall in the same batch and in later ones.
    data = (
        _ndjson(_code(1), _code(2))  # lines 1-2
        + b"\n"  # line 3: blank
        + _ndjson(_code(9), _code(1), _code(3), _code(4), _code(2), _code(1))  # lines 4-9
    )
    report = await _importer(redis).run(split_lines(_chunks(data, 40)), ImportFormat.NDJSON)
    assert (report.imported, report.duplicates) == (4, 4)
    assert [
        (d.line, d.unified_deal_code, d.duplicate_of, d.earlier_line)
        for d in report.duplicate_lines
    ] == [
        (4, "SD-2022-000009", "earlier_import", None),
        (5, "SD-2022-000001", "earlier_line", 1),
        (8, "SD-2022-000002", "earlier_line", 2),
        (9, "SD-2022-000001", "earlier_line", 1),
    ]
    assert not report.duplicate_lines_truncated
    assert report.as_json()["duplicate_lines"][0] == {
        "line": 4,
        "unified_deal_code": "SD-2022-000009",
        "duplicate_of": "earlier_import",
        "earlier_line": None,
    }
    assert redis.first_lines == {}  # the import's own hash is gone when it ends


async def test_a_csv_duplicate_goes_by_its_first_lines_number() -> None:
    header = ",".join(LINE)
    row = ",".join(str(value) for value in LINE.values())
    quoted = row.replace(" 济南新旧动能转换起步区某道路工程 ", '"济南\n道路工程"')
    data = f"{header}\n{quoted}\n{row}\n".encode()  # the record on lines 2-3, again on 4
    report = await _importer(FakeRedis()).run(split_lines(_chunks(data, 7)), ImportFormat.CSV)
    assert [(d.line, d.earlier_line) for d in report.duplicate_lines] == [(4, 2)]


def test_duplicates_are_listed_up_to_the_bound_and_all_counted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bulk_import, "MAX_REPORTED_DUPLICATES", 2)
    report = ImportReport("batch", "city")
    for line in range(1, 6):
        report.duplicate(line, f"SD-{line:06d}", None)
    assert report.duplicates == 5
    assert [d.line for d in report.duplicate_lines] == [1, 2]
    assert report.duplicate_lines_truncated


# -- UTF-8 only -------------------------------------------------------------------------------


def _first_bad_byte(data: bytes, chunk_bytes: int) -> NotUtf8:
    check = Utf8Check()
    with pytest.raises(NotUtf8) as refused:
        for start in range(0, len(data), chunk_bytes):
            check.feed(data[start : start + chunk_bytes])
        check.finish()
    return refused.value


GBK_CSV = "unified_deal_code,name\r\nSD-2022-000001,济南道路工程\r\n".encode("gbk")


@pytest.mark.parametrize("chunk_bytes", [1, 2, 3, 7, 1024])
def test_a_gbk_file_is_refused_at_its_first_chinese_byte_however_it_is_chunked(
    chunk_bytes: int,
) -> None:
    refused = _first_bad_byte(GBK_CSV, chunk_bytes)
    assert (refused.line, refused.byte_offset) == (2, GBK_CSV.index(b",\xbc") + 1)
    message = str(refused)
    assert "not UTF-8" in message and "line 2 (byte offset 39)" in message
    assert "0xbc" in message and "CSV UTF-8" in message and "Nothing was imported" in message


@pytest.mark.parametrize("chunk_bytes", [1, 2, 5, 1024])
def test_utf8_split_anywhere_between_chunks_passes(chunk_bytes: int) -> None:
    data = "\ufeffunified_deal_code,name\nSD-1,济南道路工程 😀\n".encode()
    check = Utf8Check()
    for start in range(0, len(data), chunk_bytes):
        check.feed(data[start : start + chunk_bytes])
    check.finish()


def test_a_character_cut_off_at_the_end_of_the_file_is_refused() -> None:
    data = "a\nb\n济".encode()[:-1]
    refused = _first_bad_byte(data, 2)
    assert (refused.line, refused.byte_offset) == (3, 4)


def test_the_cli_refuses_a_gbk_file_in_one_line_before_importing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "records.csv"
    path.write_bytes(GBK_CSV)
    with pytest.raises(NotUtf8):
        check_utf8_file(path)

    async def must_not_import(_: object) -> ImportReport:
        raise AssertionError("imported a file that is not UTF-8")

    monkeypatch.setattr(bulk_import, "_import_file", must_not_import)
    assert bulk_import.main([str(path), "--source-level", "county"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"{path}: the file is not UTF-8 text: line 2 (byte offset 39)")
