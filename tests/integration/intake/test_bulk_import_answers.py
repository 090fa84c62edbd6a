"""What the bulk import answers through the real API and CLI (real Kafka and Redis): a deal
after the pull time is a bad line naming it; each duplicate is listed with its line, code and
what it repeats; a GBK file is refused whole (422 ``import_not_utf8``; one line on the CLI's
stderr), naming the line and byte offset, and nothing of it is imported."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, cast

import httpx
import orjson
import pytest
from redis.asyncio import Redis

from services.intake.bulk_import import (
    IMPORT_FIRST_LINES,
    IMPORTED_CODES,
    BulkImporter,
    ImportFormat,
    ImportReport,
    split_lines,
)
from services.intake.domain.large_amount import SourceLevel
from services.platform_core.auth.principals import PrincipalKind
from tests.conftest import IssueKey
from tests.integration.intake.conftest import Department
from tests.integration.intake.test_bulk_import import REGIONS, record
from tests.support.processes import REPO, ServiceProcess

pytestmark = pytest.mark.integration
CST = timezone(timedelta(hours=8))


def _prefix(name: str) -> str:
    return f"{name}{uuid.uuid4().hex[:10].upper()}"


def _ndjson(records: list[dict[str, object]]) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in records)


async def _post(
    api: ServiceProcess,
    key: str,
    body: bytes,
    *,
    content_type: str = "application/x-ndjson",
    **params: str,
) -> httpx.Response:
    async with httpx.AsyncClient(timeout=60) as client:
        return await client.post(
            f"{api.base_url}/v1/large-amount-records/imports",
            params={"source_level": "county", **params},
            content=body,
            headers={
                "X-API-Key": key,
                "Idempotency-Key": str(uuid.uuid4()),
                "Content-Type": content_type,
            },
        )


async def _department_key(issue_key: IssueKey) -> str:
    issued = await issue_key(
        PrincipalKind.DEPARTMENT, "JYZX", "济南公共资源交易中心", frozenset(REGIONS)
    )
    return issued.key


async def test_a_deal_after_the_pull_time_is_a_bad_line_naming_the_pull_time(
    intake_api: ServiceProcess, issue_key: IssueKey, changqing_archive: Department
) -> None:
    prefix = _prefix("FUT")
    # The clerk's line: a deal in 2027, pulled now (the server's clock dates a live key's pull).
    future = {**record(prefix, 2), "deal_at": "2027-11-20T10:00:00+08:00"}
    live = await _post(
        intake_api,
        await _department_key(issue_key),
        _ndjson([record(prefix, 1), future]),
    )
    assert live.status_code == 200, live.text
    report = live.json()
    assert (report["imported"], report["rejected"]) == (1, 1)
    [rejected] = report["rejected_lines"]
    assert rejected["line"] == 2
    assert "'2027-11-20T10:00:00+08:00' is after the pull time" in rejected["reason"]
    pulled_at = datetime.fromisoformat(report["pulled_at"]).astimezone(CST).isoformat()
    assert f"after the pull time {pulled_at} (more than 5 minutes" in rejected["reason"]

    # A backfill key states the pull time: a deal the day after it is refused, naming it.
    stated = await _post(
        intake_api,
        changqing_archive.key,
        _ndjson(
            [
                {**record(prefix, 3), "region_code": "370113"},
                {
                    **record(prefix, 4),
                    "region_code": "370113",
                    "deal_at": "2023-04-01T10:00:00+08:00",
                },
            ]
        ),
        occurred_at="2023-03-31T17:00:00+08:00",
    )
    assert stated.status_code == 200, stated.text
    report = stated.json()
    assert report["imported"] == 1
    assert [r["line"] for r in report["rejected_lines"]] == [2]
    assert "after the pull time 2023-03-31T17:00:00+08:00" in report["rejected_lines"][0]["reason"]
    assert datetime.fromisoformat(report["pulled_at"]) == datetime(2023, 3, 31, 17, tzinfo=CST)


async def test_the_api_lists_each_duplicate_with_its_line_and_what_it_repeats(
    intake_api: ServiceProcess, issue_key: IssueKey
) -> None:
    key = await _department_key(issue_key)
    prefix = _prefix("DUPAPI")
    first = await _post(intake_api, key, _ndjson([record(prefix, 1)]))
    assert first.status_code == 200, first.text
    assert first.json()["imported"] == 1
    lines = [record(prefix, n) for n in (2, 1, 3, 2, 4)]  # 1 from before; 2 twice here
    second = await _post(intake_api, key, _ndjson(lines))
    assert second.status_code == 200, second.text
    report = second.json()
    assert (report["imported"], report["duplicates"]) == (3, 2)
    assert report["duplicate_lines"] == [
        {
            "line": 2,
            "unified_deal_code": f"{prefix}-000001",
            "duplicate_of": "earlier_import",
            "earlier_line": None,
        },
        {
            "line": 4,
            "unified_deal_code": f"{prefix}-000002",
            "duplicate_of": "earlier_line",
            "earlier_line": 1,
        },
    ]
    assert report["duplicate_lines_truncated"] is False


def _csv(prefix: str, numbers: list[int], rows: list[dict[str, object]] | None = None) -> str:
    rows = [*(rows or []), *(record(prefix, n) for n in numbers)]
    header = list(rows[0])
    return "\n".join([",".join(header)] + [",".join(str(r[h]) for h in header) for r in rows])


async def test_a_gbk_csv_is_refused_with_422_naming_the_line_and_nothing_is_imported(
    intake_api: ServiceProcess, issue_key: IssueKey, redis: Redis
) -> None:
    key = await _department_key(issue_key)
    prefix = _prefix("GBK")
    # Line 2 is ASCII only (the same in GBK and UTF-8): the first byte UTF-8 refuses is on
    # line 3, and line 2 alone would have been imported before it.
    ascii_only = {
        **record(prefix, 1),
        "name": "Project 1",
        "tenderer_name": "Jinan City Construction Group",
        "winner_name": "Shandong Huanghe Construction",
    }
    text = _csv(prefix, [2, 3], rows=[ascii_only])
    gbk = text.encode("gbk")
    refused = await _post(intake_api, key, gbk, content_type="text/csv")
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["code"] == "import_not_utf8"
    offset = next(at for at, byte in enumerate(gbk) if byte >= 0x80)
    assert gbk[:offset].count(b"\n") == 2
    assert f"line 3 (byte offset {offset})" in body["message"]
    assert "CSV UTF-8" in body["message"] and "Nothing was imported" in body["message"]
    codes = [f"{prefix}-{n:06d}" for n in (1, 2, 3)]
    assert not any(await redis.smismember(IMPORTED_CODES, codes))

    # Saved as UTF-8, the same file imports in full: nothing of it was imported before.
    again = await _post(intake_api, key, text.encode(), content_type="text/csv")
    assert again.status_code == 200, again.text
    assert (again.json()["imported"], again.json()["duplicates"]) == (3, 0)


def _cli(stack_env: dict[str, str], path: Path) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "services.intake.bulk_import", str(path)]
    return subprocess.run(
        [*argv, "--source-level", "county"],
        check=False,
        cwd=REPO,
        env={**stack_env, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_cli_prints_each_duplicate_and_refuses_gbk_in_one_line(
    stack_env: dict[str, str], tmp_path: Path
) -> None:
    prefix = _prefix("DUPCLI")
    earlier = tmp_path / "earlier.csv"
    earlier.write_text(_csv(prefix, [1]) + "\n", encoding="utf-8")
    assert json.loads(_cli(stack_env, earlier).stdout)["imported"] == 1

    path = tmp_path / "records.csv"
    path.write_text(_csv(prefix, [2, 1, 3, 2]) + "\n", encoding="utf-8")
    done = _cli(stack_env, path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["imported"], report["duplicates"]) == (2, 2)
    assert [
        (d["line"], d["unified_deal_code"], d["duplicate_of"], d["earlier_line"])
        for d in report["duplicate_lines"]
    ] == [
        (3, f"{prefix}-000001", "earlier_import", None),
        (5, f"{prefix}-000002", "earlier_line", 2),
    ]

    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes(_csv(_prefix("GBKCLI"), [1]).encode("gbk"))
    refused = _cli(stack_env, gbk)
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert refused.stderr.count("\n") == 1, refused.stderr
    assert refused.stderr.startswith(f"{gbk}: the file is not UTF-8 text: line 2 (byte offset")
    assert "CSV UTF-8" in refused.stderr


class _Producer:
    async def send(self, topic: str, *, value: bytes, key: bytes, headers: object) -> Any:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


async def test_redis_names_the_earlier_line_across_batches_and_its_thousand_code_calls(
    redis: Redis,
) -> None:
    """The script answers each repeat with the line that added its code: within one call's
    thousand, across thousands (its own table), across batches (the import's hash); a code in
    the set before is an earlier import. The hash is gone when the import ends."""
    prefix = _prefix("DUPLINE")
    codes = [f"{prefix}-{n:06d}" for n in range(2_500)]
    await redis.sadd(IMPORTED_CODES, codes[10])
    lines = [orjson.dumps(record(prefix, n)) for n in range(2_500)]
    lines.insert(700, lines[600])  # line 701 repeats line 601, in the same thousand
    lines.insert(1_500, lines[5])  # line 1501 repeats line 6, in the next thousand
    lines.append(lines[2])  # line 2503 repeats line 3, in the next batch
    importer = BulkImporter(
        cast(Any, _Producer()),
        redis,
        source_level=SourceLevel.CITY,
        actor_department="JYZX",
        batch_size=2_100,
    )
    first_lines = IMPORT_FIRST_LINES.format(import_batch_id=importer.report.import_batch_id)
    try:
        report: ImportReport = await importer.run(
            split_lines(_one_chunk(b"\n".join(lines))), ImportFormat.NDJSON
        )
        assert (report.imported, report.duplicates) == (2_499, 4)
        assert [(d.line, d.duplicate_of, d.earlier_line) for d in report.duplicate_lines] == [
            (11, "earlier_import", None),
            (701, "earlier_line", 601),
            (1_501, "earlier_line", 6),
            (2_503, "earlier_line", 3),
        ]
        assert not await redis.exists(first_lines)
    finally:
        await redis.srem(IMPORTED_CODES, *codes)


async def _one_chunk(data: bytes) -> Any:
    yield data
