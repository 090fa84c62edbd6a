"""The rebuild commands that delete a read model and rewind a consumer group do nothing unless
asked with ``--yes``: ``--help`` prints the usage, and a bare run refuses, without deleting or
rewinding (both are irreversible)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from services.abnormal_push import rebuild as abnormal_push_rebuild
from services.reporting import rebuild as reporting_rebuild

REPO = Path(__file__).resolve().parents[2]

COMMANDS = [
    pytest.param(reporting_rebuild, "services.reporting.rebuild", id="reporting"),
    pytest.param(abnormal_push_rebuild, "services.abnormal_push.rebuild", id="abnormal_push"),
]


def _record_rebuilds(monkeypatch: pytest.MonkeyPatch, module: Any) -> list[tuple[Any, ...]]:
    calls: list[tuple[Any, ...]] = []

    async def rebuild(*args: Any) -> int:
        calls.append(args)
        return 0

    monkeypatch.setattr(module, "rebuild", rebuild)
    return calls


@pytest.mark.parametrize(("module", "name"), COMMANDS)
def test_help_prints_usage_and_rebuilds_nothing(
    module: Any, name: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls = _record_rebuilds(monkeypatch, module)
    main: Callable[[list[str]], int] = module.main
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "usage:" in out and "--yes" in out
    assert calls == []


@pytest.mark.parametrize(("module", "name"), COMMANDS)
def test_without_yes_it_refuses_and_rebuilds_nothing(
    module: Any, name: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls = _record_rebuilds(monkeypatch, module)
    assert module.main([]) == 2
    assert "run again with --yes" in capsys.readouterr().err
    assert calls == []


@pytest.mark.parametrize(("module", "name"), COMMANDS)
def test_with_yes_it_rebuilds(
    module: Any, name: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls = _record_rebuilds(monkeypatch, module)
    assert module.main(["--yes"]) == 0
    assert len(calls) == 1


@pytest.mark.parametrize(("module", "name"), COMMANDS)
def test_help_as_a_command_exits_0_before_connecting(module: Any, name: str) -> None:
    # Nothing listens on these ports: a command that tried to rewind or delete would fail.
    env = {
        "PATH": "/usr/bin:/bin",
        "PRT_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9",
        "PRT_REDIS_URL": "redis://127.0.0.1:9/0",
    }
    for args in (["--help"], []):
        done = subprocess.run(
            [sys.executable, "-m", name, *args],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if args:
            assert done.returncode == 0, done.stderr
            assert "usage:" in done.stdout
        else:
            assert done.returncode == 2, done.stderr
            assert "Traceback" not in done.stderr
