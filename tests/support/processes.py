"""Starts the real services as separate processes for integration and end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class ServiceProcess:
    name: str
    argv: list[str]
    env: dict[str, str]
    log_dir: Path
    port: int | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"{self.name}.log"

    def start(self) -> ServiceProcess:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        # A fresh log per start, so readiness markers are this run's.
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            self.argv, cwd=REPO, env={**os.environ, **self.env}, stdout=log, stderr=log
        )
        return self

    def wait_healthy(self, timeout_s: float = 60.0) -> None:
        assert self.port is not None
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"{self.name} not healthy after {timeout_s}s; see {self.log_path}")

    def wait_for_log(self, marker: str | tuple[str, ...], timeout_s: float = 60.0) -> None:
        """For processes without an HTTP port: wait until the log shows ``marker`` (or, given
        several, any one of them)."""
        markers = (marker,) if isinstance(marker, str) else marker
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.check_alive()
            if self.log_path.exists():
                log = self.log_path.read_text(errors="replace")
                if any(m in log for m in markers):
                    return
            time.sleep(0.2)
        raise TimeoutError(f"{self.name} did not log {marker!r} in {timeout_s}s; {self.log_path}")

    def check_alive(self) -> None:
        """Raises with the end of the log if the process has exited."""
        if self.process is not None and self.process.poll() is not None:
            tail = self.log_path.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{tail}")

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to commit or flush anything."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def api_process(
    name: str, module: str, env: dict[str, str], log_dir: Path, *, log_level: str = "warning"
) -> ServiceProcess:
    """An API under uvicorn. ``log_level="info"`` is how deploy/local/services.sh runs it (uvicorn's
    default): the access log, every request's path with its query string, is then on."""
    port = free_port()
    argv = [
        sys.executable,
        "-m",
        "uvicorn",
        module,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        log_level,
    ]
    return ServiceProcess(name, argv, env, log_dir, port)


def worker_process(name: str, module: str, env: dict[str, str], log_dir: Path) -> ServiceProcess:
    return ServiceProcess(name, [sys.executable, "-m", module], env, log_dir)
