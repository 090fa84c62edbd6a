"""The operators' command lines answer a bad argument or an unreachable dependency with one line
and exit 2, never a traceback; the auth CLI issues keys only for principals the reference data
knows (a department's code and regions, a partner's code); bulk import dates a pull by the
API's rules for a stated time."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.intake import bulk_import
from services.platform_core.auth.cli import principal_problem
from services.platform_core.auth.principals import PrincipalKind

REPO = Path(__file__).resolve().parents[3]
# Nothing listens on port 9: a command that reaches for Redis or Kafka finds nobody.
NOBODY = {
    "PRT_ENVIRONMENT": "test",
    "PRT_REDIS_URL": "redis://127.0.0.1:9/0",
    "PRT_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9",
}


def _run(
    module: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=REPO,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **NOBODY, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _one_line_refusal(done: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    for text in expected:
        assert text in done.stderr
    assert done.stdout == ""


def test_principals_are_checked_against_the_reference_data() -> None:
    department = PrincipalKind.DEPARTMENT
    assert principal_problem(department, "ZJJ", frozenset({"370102", "370113"})) is None
    assert principal_problem(department, "ZJJ-LX", frozenset({"370102"})) is None  # a branch
    assert "no department 'NOPE'" in (principal_problem(department, "NOPE", frozenset()) or "")
    assert "no region 999999" in (
        principal_problem(department, "ZJJ", frozenset({"370102", "999999"})) or ""
    )
    assert principal_problem(PrincipalKind.PARTNER, "370300", frozenset()) is None  # 淄博
    assert "no partner 'XX'" in (principal_problem(PrincipalKind.PARTNER, "XX", frozenset()) or "")
    assert "for department keys" in (
        principal_problem(PrincipalKind.PARTNER, "370300", frozenset({"370102"})) or ""
    )
    assert principal_problem(PrincipalKind.OPERATOR, "duty-officer-7", frozenset()) is None


def test_auth_cli_refuses_an_unknown_department_or_region_in_one_line() -> None:
    _one_line_refusal(
        _run(
            "services.platform_core.auth.cli",
            *("issue", "--kind", "department", "--code", "NOPE", "--name", "x"),
            *("--regions", "999999"),
        ),
        "not issued: no department 'NOPE'",
    )
    _one_line_refusal(
        _run(
            "services.platform_core.auth.cli",
            *("issue", "--kind", "department", "--code", "ZJJ", "--name", "x"),
            *("--regions", "370102,999999"),
        ),
        "no region 999999",
    )


def test_auth_cli_without_redis_or_with_a_bad_url_says_so_in_one_line() -> None:
    _one_line_refusal(_run("services.platform_core.auth.cli", "list"), "cannot reach Redis")
    _one_line_refusal(
        _run("services.platform_core.auth.cli", "list", env={"PRT_REDIS_URL": "notaurl"}),
        "PRT_REDIS_URL",
    )


@pytest.mark.parametrize("pepper", ["", "a"])
def test_auth_cli_in_production_refuses_an_empty_or_short_pepper(pepper: str) -> None:
    done = _run(
        "services.platform_core.auth.cli",
        *("issue", "--kind", "operator", "--code", "duty", "--name", "x"),
        env={"PRT_ENVIRONMENT": "production", "PRT_API_KEY_PEPPER": pepper},
    )
    _one_line_refusal(done, "PRT_API_KEY_PEPPER", "at least 32")


@pytest.fixture
def imports(monkeypatch: pytest.MonkeyPatch) -> list[argparse.Namespace]:
    started: list[argparse.Namespace] = []

    async def record(args: argparse.Namespace) -> bulk_import.ImportReport:
        started.append(args)
        return bulk_import.ImportReport(import_batch_id="test", source_level=args.source_level)

    monkeypatch.setattr(bulk_import, "_import_file", record)
    return started


def test_bulk_import_of_a_missing_file_is_one_line_and_exit_2(
    imports: list[argparse.Namespace], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert bulk_import.main([str(tmp_path / "nonexistent.ndjson"), "--source-level", "city"]) == 2
    assert capsys.readouterr().err.strip() == f"{tmp_path / 'nonexistent.ndjson'}: no such file"
    assert bulk_import.main([str(tmp_path), "--source-level", "city"]) == 2
    assert "not a file" in capsys.readouterr().err
    assert imports == []


@pytest.mark.parametrize(
    ("pulled_at", "reason"),
    [
        ("2099-01-01T00:00+08:00", "lies in the future"),
        ("2001-01-01T00:00+08:00", "predates the platform's records"),
        ("2023-03-31T17:00:00", "must carry a UTC offset"),
    ],
)
def test_bulk_import_refuses_a_pull_dated_outside_the_apis_bounds(
    pulled_at: str,
    reason: str,
    imports: list[argparse.Namespace],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    file = tmp_path / "records.ndjson"
    file.write_text("")
    argv = [str(file), "--source-level", "city", "--pulled-at", pulled_at]
    assert bulk_import.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("--pulled-at: ") and reason in err
    assert imports == []


def test_bulk_import_takes_a_pull_dated_in_the_past_since_2015(
    imports: list[argparse.Namespace], tmp_path: Path
) -> None:
    file = tmp_path / "records.ndjson"
    file.write_text("")
    argv = [str(file), "--source-level", "city", "--pulled-at", "2023-03-31T17:00:00+08:00"]
    assert bulk_import.main(argv) == 0
    assert [args.pulled_at for args in imports] == [datetime(2023, 3, 31, 9, tzinfo=UTC)]
