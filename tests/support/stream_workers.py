"""The four services' stream workers as real processes, with what a fault test needs of them:
kill one (SIGKILL) and start it again, and wait until each consumer group has committed every
record on its topics."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from services.platform_core.events.topics import (
    ABNORMAL_PUSHES,
    ABNORMAL_REPORTS,
    EVALUATIONS,
    EVENT_TOPICS,
    EXPERT_REGISTRY,
    PROJECT_EVENTS,
    VENUE_CAPACITY,
    TopicSpec,
    partner_answers_topic,
)
from services.platform_core.settings import PlatformSettings
from services.remote_eval.reference import partners
from tests.conftest import WORKER_READY
from tests.support.consumer_lag import wait_until_caught_up
from tests.support.processes import REPO, ServiceProcess, worker_process


@dataclass(frozen=True)
class WorkerSpec:
    name: str
    module: str
    group_id: str
    topics: tuple[TopicSpec, ...]


def worker_specs(reporting_group: str) -> dict[str, WorkerSpec]:
    answers = tuple(partner_answers_topic(code) for code in sorted(partners()))
    specs = (
        WorkerSpec("intake", "services.intake.stream_worker", "prt-intake", (PROJECT_EVENTS,)),
        WorkerSpec(
            "abnormal_push",
            "services.abnormal_push.stream_worker",
            "prt-abnormal-push",
            (ABNORMAL_REPORTS, ABNORMAL_PUSHES, PROJECT_EVENTS, EVALUATIONS),
        ),
        WorkerSpec(
            "remote_eval",
            "services.remote_eval.stream_worker",
            "prt-remote-eval",
            (EVALUATIONS, EXPERT_REGISTRY, VENUE_CAPACITY, PROJECT_EVENTS, *answers),
        ),
        WorkerSpec("reporting", "services.reporting.stream_worker", reporting_group, EVENT_TOPICS),
    )
    return {spec.name: spec for spec in specs}


@dataclass
class StreamWorkers:
    """One process per worker, all on ``env``; ``restarts`` counts starts after the first."""

    specs: dict[str, WorkerSpec]
    env: dict[str, str]
    log_dir: Path
    label: str
    processes: dict[str, ServiceProcess] = field(default_factory=dict)
    starts: int = 0
    stopped: set[str] = field(default_factory=set)  # stopped on purpose, not yet started again

    def start(self, name: str, wait: bool = True) -> ServiceProcess:
        self.starts += 1
        spec = self.specs[name]
        process = worker_process(
            f"{self.label}-{name}-{self.starts}", spec.module, self.env, self.log_dir
        )
        process.start()
        self.processes[name] = process
        self.stopped.discard(name)
        if wait:
            process.wait_for_log(WORKER_READY, timeout_s=180)
        return process

    def start_all(self) -> None:
        for name in self.specs:
            self.start(name, wait=False)
        for process in self.processes.values():
            process.wait_for_log(WORKER_READY, timeout_s=180)

    def kill(self, name: str) -> None:
        self.processes[name].kill()

    def stop(self, name: str) -> None:
        self.processes[name].stop()
        self.stopped.add(name)

    def stop_all(self) -> None:
        for name in self.processes:
            self.stop(name)

    def logs(self) -> list[Path]:
        return sorted(self.log_dir.glob(f"{self.label}-*.log"))

    def log_tails(self, chars: int = 2500) -> str:
        """The end of each running worker's log, for a failure message."""
        return "\n".join(
            f"--- {process.log_path}:\n{process.log_path.read_text(errors='replace')[-chars:]}"
            for process in self.processes.values()
            if process.log_path.exists()
        )

    async def wait_caught_up(self, settings: PlatformSettings, timeout_s: float = 600) -> None:
        """Until every worker's group has committed its topics; fails at once, with the log,
        if a worker has exited meanwhile."""
        for spec in self.specs.values():
            await wait_until_caught_up(
                settings,
                spec.group_id,
                spec.topics,
                timeout_s=timeout_s,
                consumers_alive=self.check_alive,
            )

    def check_alive(self) -> None:
        """Raises if a worker exited that was not stopped on purpose."""
        for name, process in self.processes.items():
            if name not in self.stopped:
                process.check_alive()


async def run_module(module: str, env: dict[str, str], *args: str) -> str:
    """``python -m module args`` on the test stack (a service's own rebuild command)."""

    def run() -> str:
        done = subprocess.run(
            [sys.executable, "-m", module, *args],
            check=False,
            cwd=REPO,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=1800,
        )
        if done.returncode != 0:
            raise AssertionError(f"{module} failed ({done.returncode}):\n{done.stderr[-3000:]}")
        return done.stdout + done.stderr

    return await asyncio.to_thread(run)
