"""A local stack started on other ports (PRT_KAFKA_PORT, PRT_REDIS_PORT, PRT_*_PORT) is the one
its services and demo talk to: services.sh exports PRT_KAFKA_BOOTSTRAP_SERVERS and PRT_REDIS_URL
from the ports (unless given), and up.sh gives the demo those APIs' URLs. Checked with a stand-in
Python that records what each process was given (and answers /healthz for the APIs), so no
second stack is started."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SERVICES_SH = REPO / "deploy" / "local" / "services.sh"
LIB = REPO / "deploy" / "local" / "_lib.sh"

STAND_IN = f"""#!{sys.executable}
import http.server, json, os, signal, sys, time
args = sys.argv[1:]
record = {{"args": args, "env": {{k: v for k, v in os.environ.items() if k.startswith("PRT_")}}}}
name = args[1] if args[:1] == ["-m"] else "unknown"
path = os.path.join(os.environ["STAND_IN_RECORDS"], f"{{os.getpid()}}.json")
with open(path + ".tmp", "w") as out:
    json.dump(record, out)
os.replace(path + ".tmp", path)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
if "--port" in args:
    port = int(args[args.index("--port") + 1])

    class Healthy(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *_):
            pass

    http.server.HTTPServer(("127.0.0.1", port), Healthy).serve_forever()
while True:
    time.sleep(60)
"""


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def test_services_connect_to_the_kafka_and_redis_on_the_stacks_ports(tmp_path: Path) -> None:
    stand_in = tmp_path / "bin" / "python"
    stand_in.parent.mkdir()
    stand_in.write_text(STAND_IN)
    stand_in.chmod(0o755)
    records = tmp_path / "records"
    records.mkdir()
    intake, abnormal, remote, reporting = _free_ports(4)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "PRT_PYTHON": str(stand_in),
        "STAND_IN_RECORDS": str(records),
        "PRT_RUNTIME_DIR": str(tmp_path / "run"),  # no Kafka layout here: PRT_KAFKA_PORT rules
        "PRT_KAFKA_PORT": "39092",
        "PRT_REDIS_PORT": "36379",
        "PRT_INTAKE_PORT": str(intake),
        "PRT_ABNORMAL_PUSH_PORT": str(abnormal),
        "PRT_REMOTE_EVAL_PORT": str(remote),
        "PRT_REPORTING_PORT": str(reporting),
    }

    def services(command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", str(SERVICES_SH), command],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    try:
        started = services("start")
        assert started.returncode == 0, started.stderr + started.stdout
    finally:
        stopped = services("stop")
    assert stopped.returncode == 0, stopped.stderr
    seen = [json.loads(path.read_text()) for path in records.glob("*.json")]
    assert len(seen) == 8, seen  # four APIs, four workers
    for record in seen:
        assert record["env"]["PRT_KAFKA_BOOTSTRAP_SERVERS"] == "127.0.0.1:39092", record
        assert record["env"]["PRT_REDIS_URL"] == "redis://127.0.0.1:36379/0", record
    ports = {int(r["args"][r["args"].index("--port") + 1]) for r in seen if "--port" in r["args"]}
    assert ports == {intake, abnormal, remote, reporting}


def _bash(script: str, env: dict[str, str]) -> str:
    return subprocess.run(
        ["bash", "-c", f"set -euo pipefail; PRT_COMPONENT=test; source {LIB}; {script}"],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()


def test_given_addresses_are_kept_and_the_demo_gets_the_stacks_api_urls(tmp_path: Path) -> None:
    runtime = {"PRT_RUNTIME_DIR": str(tmp_path / "run"), "HOME": str(tmp_path)}
    given = {
        **runtime,
        "PRT_KAFKA_BOOTSTRAP_SERVERS": "kafka.example:9092",
        "PRT_REDIS_URL": "redis://redis.example:6379/1",
        "PRT_KAFKA_PORT": "39092",
        "PRT_REDIS_PORT": "36379",
    }
    shown = _bash(
        'export_platform_addresses; echo "$PRT_KAFKA_BOOTSTRAP_SERVERS $PRT_REDIS_URL"', given
    )
    assert shown == "kafka.example:9092 redis://redis.example:6379/1"
    defaults = _bash(
        'export_platform_addresses; echo "$PRT_KAFKA_BOOTSTRAP_SERVERS $PRT_REDIS_URL"', runtime
    )
    assert defaults == "127.0.0.1:19092 redis://127.0.0.1:16379/0"
    urls = _bash(
        "for api in intake abnormal-push remote-eval reporting; do api_url $api; done",
        {**runtime, "PRT_INTAKE_PORT": "9101", "PRT_REPORTING_PORT": "9104"},
    )
    assert urls.split() == [
        "http://127.0.0.1:9101",
        "http://127.0.0.1:8102",
        "http://127.0.0.1:8103",
        "http://127.0.0.1:9104",
    ]
    up = (REPO / "deploy" / "up.sh").read_text()
    demo = up[up.index("deploy/demo/half_year.py") :].split("\n\n")[0]
    for option, api in [
        ("--intake", "intake"),
        ("--abnormal", "abnormal-push"),
        ("--remote-eval", "remote-eval"),
        ("--reporting", "reporting"),
    ]:
        assert f'{option} "$(api_url {api})"' in demo
    assert up.index("export_platform_addresses") < up.index("deploy/demo/half_year.py")
