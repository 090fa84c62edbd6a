"""Bulk import of large-amount records through the real API and the CLI: 100,000 lines with a
few bad ones put every good record on the topic exactly once and report every bad line;
importing the same file again adds nothing."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, cast

import httpx
import orjson
import pytest
from redis.asyncio import Redis

from services.intake.bulk_import import (
    IMPORTED_CODES,
    MAX_REPORTED_DUPLICATES,
    BulkImporter,
    ImportFormat,
    ImportReport,
    split_lines,
)
from services.intake.domain.large_amount import SourceLevel
from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.events.topics import LARGE_AMOUNT_RECORDS
from services.platform_core.settings import PlatformSettings
from tests.conftest import IssueKey
from tests.integration.intake.conftest import events_of, raw_records
from tests.support.processes import REPO, ServiceProcess

pytestmark = pytest.mark.integration

LINES = 100_000
REGIONS = ("370102", "370113", "370114", "370115")


def record(prefix: str, n: int) -> dict[str, object]:
    return {
        "unified_deal_code": f"{prefix}-{n:06d}",
        "tender_project_code": f"TP-{n:06d}",
        "name": f"大额交易项目 {n}",
        "category": "HOUSING",
        "region_code": REGIONS[n % len(REGIONS)],
        "tenderer_name": "济南城市建设集团有限公司",
        "tenderer_credit_code": "91110000600037341L",
        "winner_name": "山东黄河建工集团有限公司",
        "winner_credit_code": "91110000600037341L",
        "trading_method": "OPEN_TENDER",
        "amount_fen": 5_000_000_000 + n,
        "deal_at": "2022-09-01T10:00:00+08:00",
        "source_platform_code": "SD-GGZY",
    }


def write_file(path: Path, prefix: str) -> dict[int, str]:
    """Writes LINES lines; returns the bad lines' numbers and what their reason must say."""
    bad: dict[int, tuple[bytes, str]] = {
        101: (b'{"unified_deal_code": "broken', "not a JSON object"),
        20_202: (
            orjson.dumps({**record(prefix, 20_202), "tenderer_credit_code": "91110000600037341X"}),
            "not a unified social credit code",
        ),
        50_505: (orjson.dumps({**record(prefix, 50_505), "amount_fen": -1}), "zero or more"),
        70_707: (orjson.dumps({**record(prefix, 70_707), "amount_fen": 12.5}), "integer"),
        99_999: (orjson.dumps({**record(prefix, 99_999), "category": "BANANAS"}), "category"),
    }
    with path.open("wb") as handle:
        for n in range(1, LINES + 1):
            handle.write(bad[n][0] if n in bad else orjson.dumps(record(prefix, n)))
            handle.write(b"\n")
    return {n: reason for n, (_, reason) in bad.items()}


@pytest.fixture(scope="module")
def import_file(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Path, str, dict[int, str]]]:
    prefix = f"BULK{uuid.uuid4().hex[:10].upper()}"
    path = tmp_path_factory.mktemp("bulk") / "records.ndjson"
    bad = write_file(path, prefix)
    yield path, prefix, bad


async def _chunks(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(64 * 1024):
            yield chunk


async def _upload(api: ServiceProcess, key: str, path: Path) -> httpx.Response:
    async with httpx.AsyncClient(timeout=300) as client:
        return await client.post(
            f"{api.base_url}/v1/large-amount-records/imports",
            params={"source_level": "provincial"},
            content=_chunks(path),
            headers={
                "X-API-Key": key,
                "Idempotency-Key": str(uuid.uuid4()),
                "Content-Type": "application/x-ndjson",
            },
        )


async def test_a_100000_line_import_publishes_each_good_record_once_and_reports_bad_lines(
    intake_api: ServiceProcess,
    issue_key: IssueKey,
    settings: PlatformSettings,
    import_file: tuple[Path, str, dict[int, str]],
) -> None:
    path, prefix, bad = import_file
    issued = await issue_key(
        PrincipalKind.DEPARTMENT, "JYZX", "济南公共资源交易中心", frozenset(REGIONS)
    )
    first = await _upload(intake_api, issued.key, path)
    assert first.status_code == 200, first.text
    report = first.json()
    assert report["lines"] == LINES
    assert report["imported"] == LINES - len(bad)
    assert report["duplicates"] == 0
    assert report["rejected"] == len(bad)
    reported = {entry["line"]: entry["reason"] for entry in report["rejected_lines"]}
    assert set(reported) == set(bad)
    for line, must_say in bad.items():
        assert must_say in reported[line], (line, reported[line])

    again = await _upload(intake_api, issued.key, path)
    assert again.status_code == 200, again.text
    assert again.json()["imported"] == 0
    assert again.json()["duplicates"] == LINES - len(bad)
    # Listed as rejections are: the first 10,000 by line, the total in the count.
    listed = again.json()["duplicate_lines"]
    assert len(listed) == MAX_REPORTED_DUPLICATES
    assert again.json()["duplicate_lines_truncated"] is True
    good_lines = [n for n in range(1, LINES + 1) if n not in bad][:MAX_REPORTED_DUPLICATES]
    assert [d["line"] for d in listed] == good_lines
    assert listed[0] == {
        "line": 1,
        "unified_deal_code": f"{prefix}-000001",
        "duplicate_of": "earlier_import",
        "earlier_line": None,
    }

    on_topic = Counter(
        key.decode()
        for key, _, _ in await raw_records(settings, LARGE_AMOUNT_RECORDS)
        if key.startswith(prefix.encode())
    )
    expected = {f"{prefix}-{n:06d}" for n in range(1, LINES + 1) if n not in bad}
    assert set(on_topic) == expected
    assert set(on_topic.values()) == {1}


def test_the_cli_imports_csv_with_a_progress_bar(stack_env: dict[str, str], tmp_path: Path) -> None:
    prefix = f"CSV{uuid.uuid4().hex[:10].upper()}"
    rows = [record(prefix, n) for n in range(1, 6)]
    header = list(rows[0])
    lines = [",".join(header)]
    lines += [",".join(str(row[name]) for name in header) for row in rows]
    lines.append(lines[1])  # the same record twice in one file
    lines.append(lines[2].replace("91110000600037341L", "91110000600037341X", 1))
    path = tmp_path / "records.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    argv = [
        sys.executable,
        "-m",
        "services.intake.bulk_import",
        str(path),
        "--source-level",
        "county",
    ]
    env = {**stack_env, "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        argv, check=False, cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    report = json.loads(done.stdout)
    assert report["imported"] == 5
    assert report["duplicates"] == 1
    assert [r["line"] for r in report["rejected_lines"]] == [8]
    assert done.returncode == 1  # some lines were rejected
    assert "records.csv" in done.stderr and "100%" in done.stderr  # tqdm's bar
    again = subprocess.run(
        argv, check=False, cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert json.loads(again.stdout)["imported"] == 0


async def test_redis_says_which_codes_are_new_across_its_chunks_and_within_a_batch(
    redis: Redis,
) -> None:
    """The dedup script asks and adds a thousand codes per call: a batch of 2,500 codes with
    one twice in a thousand, one twice in different thousands and one imported before
    publishes every code once."""
    prefix = f"DEDUP{uuid.uuid4().hex[:10].upper()}"
    codes = [f"{prefix}-{n:06d}" for n in range(2_500)]
    await redis.sadd(IMPORTED_CODES, codes[10])
    lines = [orjson.dumps(record(prefix, n)) for n in range(2_500)]
    lines.insert(2_100, lines[500])
    lines.insert(700, lines[600])
    producer = _Producer()

    async def one_import() -> ImportReport:
        importer = BulkImporter(
            cast(Any, producer),
            redis,
            source_level=SourceLevel.CITY,
            actor_department="JYZX",
            batch_size=3_000,
        )
        return await importer.run(split_lines(_lines(lines)), ImportFormat.NDJSON)

    try:
        first = await one_import()
        assert (first.imported, first.duplicates) == (2_499, 3)
        assert [key.decode() for key in producer.keys] == [c for c in codes if c != codes[10]]
        again = await one_import()
        assert (again.imported, again.duplicates) == (0, 2_502)
    finally:
        await redis.srem(IMPORTED_CODES, *codes)


class _Producer:
    def __init__(self) -> None:
        self.keys: list[bytes] = []

    async def send(self, topic: str, *, value: bytes, key: bytes, headers: object) -> Any:
        self.keys.append(key)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


async def _lines(lines: list[bytes]) -> AsyncIterator[bytes]:
    yield b"\n".join(lines)


CSV_FIELDS = (
    "unified_deal_code,region_code,category,amount_fen,deal_at,tenderer_name,"
    "tenderer_credit_code,name"
)


async def _post_csv(
    api: ServiceProcess, key: str, body: bytes, idempotency_key: str
) -> httpx.Response:
    async with httpx.AsyncClient(timeout=60) as client:
        return await client.post(
            f"{api.base_url}/v1/large-amount-records/imports",
            params={"source_level": "county"},
            content=body,
            headers={
                "X-API-Key": key,
                "Idempotency-Key": idempotency_key,
                "Content-Type": "text/csv",
            },
        )


async def test_a_csv_import_keeps_quoted_line_breaks_refuses_odd_values_and_binds_its_body(
    intake_api: ServiceProcess, issue_key: IssueKey, settings: PlatformSettings
) -> None:
    issued = await issue_key(
        PrincipalKind.DEPARTMENT, "JYZX", "济南公共资源交易中心", frozenset(REGIONS)
    )
    prefix = f"CSV{uuid.uuid4().hex[:10].upper()}"
    tenderer = "济南城市建设集团有限公司,91110000600037341L"

    def row(n: int, amount: str = "500000000", deal_at: str = "2023-03-01T10:00:00+08:00") -> str:
        return f"{prefix}-{n},370113,HOUSING,{amount},{deal_at},{tenderer}"

    lines = [
        CSV_FIELDS,
        row(1) + ',"济南市\n长清区道路工程"',  # lines 2-3: one record, its name holds a break
        row(2, amount="--5") + ",项目二",  # line 4
        row(3, deal_at="9999-12-31T23:59:59-08:00") + ",项目三",  # line 5
        row(4) + ',"未闭合的引号',  # line 6: the quote is never closed
    ]
    body = "\n".join(lines).encode()
    idempotency_key = str(uuid.uuid4())
    first = await _post_csv(intake_api, issued.key, body, idempotency_key)
    assert first.status_code == 200, first.text
    report = first.json()
    assert report["imported"] == 1
    reasons = {entry["line"]: entry["reason"] for entry in report["rejected_lines"]}
    assert set(reasons) == {4, 5, 6}, reasons
    assert "integer" in reasons[4]
    assert "between 2000 and 2100" in reasons[5]
    assert "not closed" in reasons[6]
    [event] = await events_of(settings, LARGE_AMOUNT_RECORDS, f"{prefix}-1")
    assert event.message.name == "济南市\n长清区道路工程"

    # The same key with another file of the same length is refused, not answered with the
    # first file's report (the second file would silently not be imported).
    other = body.replace(f"{prefix}-1,".encode(), f"{prefix}-9,".encode())
    assert len(other) == len(body)
    refused = await _post_csv(intake_api, issued.key, other, idempotency_key)
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "idempotency_key_reused"
    replayed = await _post_csv(intake_api, issued.key, body, idempotency_key)
    assert replayed.status_code == 200
    assert replayed.headers.get("Idempotent-Replayed") == "true"
    assert replayed.json() == report

    unreadable = await _post_csv(
        intake_api, issued.key, b"\xff\xfe,name\n" + row(5).encode(), str(uuid.uuid4())
    )
    assert unreadable.status_code == 422, unreadable.text
    assert unreadable.json()["code"] == "import_not_utf8"
    assert "UTF-8" in unreadable.json()["message"]
