"""Whole-stack restart: after a run of writes through the four APIs, the projections, inboxes
and metrics are snapshotted (through the APIs, and key by key in Redis); then everything stops —
every API and worker, Redis with its data discarded, the broker — and starts again; each
service rebuilds from the log by its own path, and the snapshots are identical.

Rebuild paths: intake ``python -m services.intake.rebuild --wipe``; abnormal_push
``python -m services.abnormal_push.rebuild`` then its worker replays; reporting's worker on a new
consumer group replays into the (empty) read model. What is not a projection of the log comes
back from its own backup: the API keys (hashed) are restored, as an operator would re-provision
them. remote_eval: ``python -m services.remote_eval.rebuild --wipe`` (evaluations, bookings,
offers, availability from the log, and the expert pools from their ExpertRegistered events,
identities still sealed).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import uuid
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from services.platform_core.auth.api_keys import KEYS_HASH
from services.remote_eval.rebuild import PROJECTION_KEYS as REMOTE_EVAL_KEYS
from services.remote_eval.rebuild import PROJECTION_PATTERNS as REMOTE_EVAL_PATTERNS
from services.remote_eval.sealed_registry import EXPERTS_KEY, IDENTITIES_KEY
from tests.conftest import KAFKA_PORT, REDIS_PORT, TEST_RUNTIME
from tests.faults.conftest import Stack
from tests.integration.reporting.conftest import Namespace
from tests.support import fault_figures
from tests.support.api_load import HOST_CENTRE, LoadFigures, WritePlan, add_experts, drive
from tests.support.faults import table
from tests.support.processes import REPO, ServiceProcess, api_process
from tests.support.projection_checks import (
    ABNORMAL_PUSH_PATTERNS,
    ABNORMAL_PUSH_REBUILD_BOOKKEEPING,
    ABNORMAL_PUSH_WALL_CLOCK,
    INTAKE_KEPT,
    INTAKE_PATTERNS,
)
from tests.support.redis_snapshot import Snapshot, compare, snapshot
from tests.support.remote_eval_outbox import remote_eval_outbox_empty
from tests.support.stream_workers import StreamWorkers, run_module, worker_specs

pytestmark = pytest.mark.faults

EVENTS = int(os.environ.get("PRT_FAULTS_RESTART_EVENTS", "600"))


def _script(name: str, command: str) -> None:
    env = {
        **os.environ,
        "PRT_RUNTIME_DIR": str(TEST_RUNTIME),
        "PRT_KAFKA_PORT": KAFKA_PORT,
        "PRT_REDIS_PORT": REDIS_PORT,
    }
    subprocess.run(
        ["bash", str(REPO / "deploy" / "local" / name), command],
        env=env,
        check=True,
        capture_output=True,
    )


async def _api_snapshot(stack: Stack, apis: dict[str, ServiceProcess]) -> dict[str, Any]:
    """What callers see: the project list, the inbox and its counts, the dashboard figures."""
    keys = stack.keys
    seen: dict[str, Any] = {}
    reads = [
        *(
            ("intake", f"/v1/projects?limit=100&offset={offset}", keys.operator)
            for offset in range(0, 500, 100)
        ),
        ("abnormal_push", "/v1/pushes", keys.host),
        ("abnormal_push", "/v1/pushes/counts", keys.host),
        ("remote_eval", f"/v1/pools/{HOST_CENTRE}/experts?limit=500", keys.operator),
        ("reporting", "/v1/dashboard/snapshot", keys.operator),
    ]
    async with httpx.AsyncClient(timeout=30) as client:
        for service, path, key in reads:
            response = await client.get(apis[service].base_url + path, headers={"X-API-Key": key})
            # Refusals compared with refusals would always agree: each read must be answered.
            assert response.status_code == 200, (service, path, response.text)
            answer = response.json()
            if isinstance(answer, dict):
                answer.pop("generated_at", None)  # when the answer was made, not what it says
            seen[f"{service} {path}"] = answer
    return seen


def _first_difference(before: Any, after: Any, where: str = "") -> str:
    """Where two JSON answers first differ, and the two values there."""
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after)):
            if before.get(key) != after.get(key):
                return _first_difference(before.get(key), after.get(key), f"{where}.{key}")
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for index, (one, other) in enumerate(zip(before, after, strict=True)):
            if one != other:
                return _first_difference(one, other, f"{where}[{index}]")
    return f"{where or '.'}: {before!r} before, {after!r} after"


async def _projection_snapshot(redis: Redis, reporting_prefix: str) -> dict[str, Snapshot]:
    return {
        "intake": await snapshot(redis, INTAKE_PATTERNS, exclude=INTAKE_KEPT),
        "abnormal_push": await snapshot(redis, ABNORMAL_PUSH_PATTERNS),
        "reporting": await snapshot(redis, [reporting_prefix + "*"]),
        "remote_eval": await snapshot(
            redis, [*REMOTE_EVAL_PATTERNS, *REMOTE_EVAL_KEYS, EXPERTS_KEY, IDENTITIES_KEY]
        ),
    }


async def _stop_everything(stack: Stack, apis: list[ServiceProcess]) -> None:
    stack.workers.stop_all()
    for api in apis:
        await asyncio.to_thread(api.stop)
    await asyncio.to_thread(_script, "redis.sh", "stop")
    shutil.rmtree(TEST_RUNTIME / "redis" / "data")  # Redis's data discarded
    await asyncio.to_thread(_script, "kafka.sh", "stop")


async def _start_and_rebuild(
    stack: Stack, apis: list[ServiceProcess], redis: Redis, api_keys: dict[Any, Any]
) -> StreamWorkers:
    await asyncio.to_thread(_script, "kafka.sh", "start")
    await asyncio.to_thread(_script, "redis.sh", "start")
    await redis.hset(KEYS_HASH, mapping=api_keys)  # the keys' backup, as provisioned
    for api in apis:
        await asyncio.to_thread(api.start)
    for api in apis:
        await asyncio.to_thread(api.wait_healthy, 120)
    await run_module("services.intake.rebuild", stack.env, "--wipe")
    await run_module("services.abnormal_push.rebuild", stack.env, "--yes")
    await run_module("services.remote_eval.rebuild", stack.env, "--wipe")
    # reporting: a new consumer group replays the log into the same (now empty) read model
    replay = Namespace(stack.reporting.prefix, f"{stack.reporting.consumer_group}-replay")
    env = {**stack.workers.env, **replay.env(stack.env)}
    workers = StreamWorkers(
        worker_specs(replay.consumer_group), env, stack.workers.log_dir, "restarted"
    )
    await asyncio.to_thread(workers.start_all)
    await workers.wait_caught_up(stack.settings)
    return workers


async def test_whole_stack_restart_rebuilds_identical_snapshots(stack: Stack, redis: Redis) -> None:
    # The session's reporting API reads the default read model; this module's workers write a
    # read model of their own (stack.reporting): the dashboard is read from an API on that one.
    own_reporting = api_process(
        f"reporting-api-{stack.reporting.consumer_group}",
        "services.reporting.http_api:app",
        stack.reporting.env(stack.env),
        stack.workers.log_dir,
    )
    own_reporting.start()
    try:
        await asyncio.to_thread(own_reporting.wait_healthy, 120)
        await _restart_and_compare(stack, redis, own_reporting)
    finally:
        own_reporting.stop()


async def _restart_and_compare(stack: Stack, redis: Redis, own_reporting: ServiceProcess) -> None:
    readers = {**stack.apis, "reporting": own_reporting}
    every_api = [*stack.apis.values(), own_reporting]
    tag = f"rs{uuid.uuid4().hex[:6]}"
    specialty = uuid.uuid4().hex[:8].upper()
    base_urls = {name: process.base_url for name, process in stack.apis.items()}
    async with httpx.AsyncClient(base_url=base_urls["remote_eval"], timeout=30) as client:
        await add_experts(client, stack.keys, specialty)
    plan = WritePlan(stack.keys, tag, specialty)
    figures = LoadFigures()
    await drive(base_urls, (plan.write(n) for n in range(EVENTS)), figures, concurrency=12)
    assert figures.total_acknowledged == EVENTS, figures.refused[:3] + figures.server_errors[:3]
    await stack.workers.wait_caught_up(stack.settings)
    # remote_eval's last decisions may leave its outbox after the other groups were seen caught
    # up (abnormal_push and reporting read its evaluations topic): wait for both in turn.
    await remote_eval_outbox_empty(stack.settings, timeout_s=300)
    await stack.workers.wait_caught_up(stack.settings)

    before_api = await _api_snapshot(stack, readers)
    before = await _projection_snapshot(redis, stack.reporting.prefix)
    api_keys: dict[Any, Any] = await redis.hgetall(KEYS_HASH)

    await _stop_everything(stack, every_api)
    await redis.connection_pool.disconnect()
    restarted = await _start_and_rebuild(stack, every_api, redis, api_keys)
    try:
        after = await _projection_snapshot(redis, stack.reporting.prefix)
        after_api = await _api_snapshot(stack, readers)
    finally:
        restarted.stop_all()
        await asyncio.to_thread(stack.workers.start_all)  # the module's workers, for teardown

    rows: list[list[object]] = []
    problems: list[str] = []
    for service in before:
        ignore = (
            ABNORMAL_PUSH_WALL_CLOCK + ABNORMAL_PUSH_REBUILD_BOOKKEEPING
            if service == "abnormal_push"
            else ()
        )
        found = compare(before[service], after[service], ignore=ignore)
        rows.append([f"{service} (Redis keys)", len(before[service]), found.count])
        if found.count:
            problems.append(f"{service}: " + found.describe(before[service], after[service]))
    api_differences = [name for name in before_api if before_api[name] != after_api.get(name)]
    rows.append(["API answers", len(before_api), len(api_differences)])
    problems += [
        f"API answer differs: {name}: {_first_difference(before_api[name], after_api.get(name))}"
        for name in api_differences
    ]
    print(
        f"\n== Whole-stack restart: {figures.total_sent} writes, then everything stopped "
        "(Redis data discarded) and rebuilt from the log"
    )
    print(table(["snapshot", "compared", "differences"], rows))
    for line in problems[:10]:
        print(f"   {line[:800]}")
    fault_figures.record(
        "whole-stack restart",
        passed=not problems,
        sent=figures.total_sent,
        acknowledged=figures.total_acknowledged,
        differences=len(problems),
        note=f"{sum(len(s) for s in before.values())} keys of 4 services, "
        f"{len(before_api)} API answers",
    )
    assert problems == []
