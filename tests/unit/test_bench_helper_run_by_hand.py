"""bench.reporting_faust_ceiling is a helper the aggregation bench starts (with its consumer
group and counter key); started by hand it says so in one line, instead of a KeyError."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_faust_ceiling_helper_run_by_hand_names_the_bench_that_runs_it() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRT_FAUST_CEILING_")}
    done = subprocess.run(
        [sys.executable, "-m", "bench.reporting_faust_ceiling"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "bench.reporting_aggregation --consumers faust-noop" in done.stderr
