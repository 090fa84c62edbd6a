"""Secrets and personal data appear nowhere they should not: planted values — an API key's
secret, an expert's name, phone and ID number (sealed by remote_eval), a webhook's signing
secret — are used through the real APIs, workers and broker (the expert is drawn onto a
committee, so their draw is on the topics), and then looked for, byte for byte:

- in every captured service log of the session (APIs and workers), the access logs of the
  four APIs run as deploy/local/services.sh runs them included, after the key was sent as a
  ``?key=`` query parameter (as the dashboard's page and event stream send it) to each of them;
- in every record (key, value, headers) of every topic on the broker;
- in every error body the APIs gave (bad bodies carrying the values, a mangled key, the sealed
  committee asked for before the award);
- in Redis: the API key's secret (keys are stored hashed) and the expert's identity (sealed).
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from redis.asyncio import Redis

from services.platform_core.auth.api_keys import ApiKeyStore, IssuedKey
from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.credit_code import check_character
from services.platform_core.http.access_log import REDACTED
from services.platform_core.kafka.clients import create_consumer
from services.platform_core.settings import PlatformSettings
from tests.faults.conftest import PARTNER_CITY, Stack, running_apis
from tests.support import fault_figures
from tests.support.api_load import HOST_CENTRE, HOST_VENUE
from tests.support.faults import table
from tests.support.polling import eventually
from tests.support.processes import ServiceProcess
from tests.support.redis_snapshot import snapshot

pytestmark = pytest.mark.faults


@pytest.fixture(scope="module")
def deployed_apis(stack_env: dict[str, str], log_dir: Path) -> Iterator[dict[str, ServiceProcess]]:
    """The four APIs as deploy/local/services.sh runs them: at uvicorn's default log level, so
    the access log (every request's path with its query string) is on. The suite's own API
    processes log warnings only, which would hide a key in a query string from this test."""
    yield from running_apis(stack_env, log_dir, name_suffix="-deployed", log_level="info")


def _employer(n: int) -> str:
    body = f"91370100{n:09d}"
    return body + check_character(body)


def _id_number(rng: random.Random) -> str:
    return f"370102{rng.randrange(1950, 2000)}{rng.randrange(10**8):08d}"


async def _all_topic_records(settings: PlatformSettings) -> list[bytes]:
    """Every record on the broker (every topic), as key, value and headers in one blob each."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        names = [t for t in await admin.list_topics() if not t.startswith("__")]
        described = await admin.describe_topics(names)
    finally:
        await admin.close()
    partitions = [
        TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]
    ]
    consumer = create_consumer(settings, group_id=None, client_id="faults-secret-scan")
    await consumer.start()
    blobs: list[bytes] = []
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        remaining = {tp for tp in partitions if ends[tp] > 0}
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=1000, max_records=20_000)
            for records in batch.values():
                for r in records:
                    headers = b"".join(k.encode() + (v or b"") for k, v in r.headers)
                    blobs.append((r.key or b"") + (r.value or b"") + headers)
            for tp in list(remaining):
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
    finally:
        await consumer.stop()
    return blobs


def _flatten(value: Any) -> Iterator[bytes]:
    if isinstance(value, bytes):
        yield value
    elif isinstance(value, str):
        yield value.encode()
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _flatten(k)
            yield from _flatten(v)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _flatten(item)


async def _issue_key(settings: PlatformSettings) -> IssuedKey:
    # A client of its own: the session's clients may hold connections from before the
    # Redis-outage test restarted Redis.
    redis = Redis.from_url(settings.redis_url)
    try:
        return await ApiKeyStore(redis, settings.api_key_pepper).issue(
            PrincipalKind.DEPARTMENT, "JYZX", "济南市公共资源交易中心", frozenset({HOST_CENTRE})
        )
    finally:
        await redis.aclose()


async def _key_in_query_strings(
    client: httpx.AsyncClient, deployed: dict[str, ServiceProcess], key: str, errors: list[bytes]
) -> None:
    """The key as a ``?key=`` query parameter, as an older dashboard link or a careless client
    sends it: the dashboard's page still loads (its script takes the key and clears it from the
    address bar), its data routes refuse a key in the URL (400), the other APIs see no key (401);
    every access log sees it all the same. The event stream opened the page's way, with a
    ticket, puts no key in a URL."""
    reporting = deployed["reporting"].base_url
    page = await client.get(f"{reporting}/dashboard", params={"key": key})
    assert page.status_code == 200, page.text
    for path in ("/v1/dashboard/snapshot", "/v1/dashboard/stream"):
        refused = await client.get(reporting + path, params={"key": key})
        assert refused.status_code == 400, refused.text
        errors.append(refused.content)
    issued = await client.post(
        f"{reporting}/v1/dashboard/stream-tickets", headers={"X-API-Key": key}
    )
    assert issued.status_code == 201, issued.text
    async with client.stream(
        "GET",
        f"{reporting}/v1/dashboard/stream",
        params={"ticket": issued.json()["ticket"], "period": "2023-H1"},
    ) as stream:
        assert stream.status_code == 200
        async for line in stream.aiter_lines():
            if line.startswith("event: snapshot"):
                break
    refused = await client.get(
        f"{reporting}/v1/dashboard/snapshot", headers={"X-API-Key": key + "x"}
    )
    assert refused.status_code == 401, refused.text
    errors.append(refused.content)
    for name, path in (
        ("intake", "/v1/projects"),
        ("abnormal_push", "/v1/pushes"),
        ("remote_eval", "/v1/venues"),
    ):
        refused = await client.get(deployed[name].base_url + path, params={"key": key})
        assert refused.status_code == 401, refused.text
        errors.append(refused.content)


async def _plant(
    stack: Stack, deployed: dict[str, ServiceProcess], rng: random.Random
) -> tuple[dict[str, str], list[bytes]]:
    """Uses the planted values through the APIs; returns them, the error bodies and the key."""
    marker = uuid.uuid4().hex[:8].upper()
    planted_key = await _issue_key(stack.settings)
    identity = {
        "expert name": f"秘密专家{marker}",
        "expert phone": f"139{rng.randrange(10**8):08d}",
        "expert ID number": _id_number(rng),
    }
    errors: list[bytes] = []
    apis = {name: p.base_url for name, p in stack.apis.items()}
    operator = {"X-API-Key": stack.keys.operator}
    host = {"X-API-Key": planted_key.key}
    async with httpx.AsyncClient(timeout=30) as client:

        async def post(url: str, headers: dict[str, str], body: dict[str, Any]) -> httpx.Response:
            idem = {"Idempotency-Key": str(uuid.uuid4())}
            response = await client.post(url, headers={**headers, **idem}, json=body)
            if response.status_code >= 400:
                errors.append(response.content)
            return response

        # The planted expert and four colleagues: exactly the committee, so the expert is drawn.
        # Two sit at the host's venue (its 40% share of 5) from its pool; three at the partner
        # city's venue, from the partner's pool.
        n = rng.randrange(10**7)
        pools = (HOST_CENTRE, HOST_CENTRE, PARTNER_CITY, PARTNER_CITY, PARTNER_CITY)
        kinds = ("TECHNICAL", "ECONOMIC", "TECHNICAL", "TECHNICAL", "ECONOMIC")
        for i, (kind, pool) in enumerate(zip(kinds, pools, strict=True)):
            person = (
                identity
                if i == 0
                else {
                    "expert name": f"同事{marker}{i}",
                    "expert phone": f"138{rng.randrange(10**8):08d}",
                    "expert ID number": _id_number(rng),
                }
            )
            body = {
                "pool_code": pool,
                "kind": kind,
                "specialties": [f"{kind[0]}{marker}"],
                "employer_code": _employer(n + i),
                "name": person["expert name"],
                "phone": person["expert phone"],
                "id_number": person["expert ID number"],
            }
            added = await post(f"{apis['remote_eval']}/v1/experts", operator, body)
            assert added.status_code == 201, added.text
        # The same identity in refused bodies: the refusal must not echo it.
        bad = {**body, "employer_code": "not-a-code", "name": identity["expert name"]}
        bad |= {"phone": identity["expert phone"] + "x", "id_number": identity["expert ID number"]}
        assert (await post(f"{apis['remote_eval']}/v1/experts", operator, bad)).status_code == 422
        bad["id_number"] = identity["expert ID number"] + "9"
        assert (await post(f"{apis['remote_eval']}/v1/experts", operator, bad)).status_code == 422

        requested = await post(
            f"{apis['remote_eval']}/v1/evaluations",
            host,
            {
                "project_id": f"P-{marker}",
                "bid_section_code": "001",
                "slot": {
                    # Within the slot range (to 2100-12-31), apart from other runs' days.
                    "date": (date(2040, 1, 1) + timedelta(days=rng.randrange(20_000))).isoformat(),
                    "half_day": "PM",
                },
                "committee_size": 5,
                "specialties": [
                    {"specialty_code": f"T{marker}", "kind": "TECHNICAL", "count": 3},
                    {"specialty_code": f"E{marker}", "kind": "ECONOMIC", "count": 2},
                ],
                "main_venue_id": HOST_VENUE,
                "required_partner_codes": [PARTNER_CITY],
            },
        )
        assert requested.status_code == 202, requested.text
        evaluation = f"{apis['remote_eval']}/v1/evaluations/{requested.json()['evaluation_id']}"

        async def status() -> str:
            return str((await client.get(evaluation, headers=host)).json().get("status"))

        decided = await eventually(status, lambda s: s in {"scheduled", "failed"}, 120)
        assert decided == "scheduled", (await client.get(evaluation, headers=host)).text
        sealed = await client.get(f"{evaluation}/committee", headers=host)
        assert sealed.status_code >= 400, "the committee is sealed until the award"
        errors.append(sealed.content)

        hook = await post(
            f"{apis['abnormal_push']}/v1/webhooks", host, {"url": "http://127.0.0.1:9/h"}
        )
        assert hook.status_code in {200, 201}, hook.text
        webhook_secret = str(hook.json()["secret"])

        # The planted key at work, and mangled: a refusal must not echo it.
        for name, path in (
            ("intake", "/v1/projects"),
            ("abnormal_push", "/v1/pushes"),
            ("remote_eval", "/v1/venues"),
            ("reporting", "/v1/metrics/catalogue"),
        ):
            assert (await client.get(apis[name] + path, headers=host)).status_code == 200
            for wrong in (planted_key.key + "x", planted_key.key[:-1]):
                refused = await client.get(apis[name] + path, headers={"X-API-Key": wrong})
                assert refused.status_code == 401, refused.text
                errors.append(refused.content)
        bad_report = {"description": planted_key.key, "severity": webhook_secret}
        assert (
            await post(f"{apis['abnormal_push']}/v1/reports", host, bad_report)
        ).status_code == 422
        await _key_in_query_strings(client, deployed, planted_key.key, errors)

    secret = planted_key.key.split("_", 2)[2]
    planted = {"API key secret": secret, **identity, "webhook secret": webhook_secret}
    return planted, errors


async def test_planted_secrets_and_identities_appear_nowhere(
    stack: Stack, deployed_apis: dict[str, ServiceProcess], log_dir: Path
) -> None:
    rng = random.Random()
    planted, error_bodies = await _plant(stack, deployed_apis, rng)
    await asyncio.sleep(3)  # the workers log what they applied
    await stack.workers.wait_caught_up(stack.settings)

    logs = await asyncio.to_thread(
        lambda: {path.name: path.read_bytes() for path in sorted(log_dir.glob("*.log"))}
    )
    records = await _all_topic_records(stack.settings)
    redis = Redis.from_url(stack.settings.redis_url)
    try:
        stored = list(_flatten(await snapshot(redis, ["*"])))
    finally:
        await redis.aclose()

    # The webhook secret is in the answer to its registration, which is not an error body.
    places: dict[str, list[bytes]] = {
        "service logs": list(logs.values()),
        "topic records": records,
        "error bodies": error_bodies,
    }
    rows: list[list[object]] = []
    found: list[str] = []
    for label, value in planted.items():
        needle = value.encode()
        row: list[object] = [label]
        for place, blobs in places.items():
            hits = sum(1 for blob in blobs if needle in blob)
            row.append(hits)
            if hits:
                found.append(f"{label} in {hits} of the {place}")
        # The webhook secret is derived, not stored: it must not be in Redis either (nor in the
        # idempotency record of its registration's answer).
        in_redis = sum(1 for blob in stored if needle in blob)
        if in_redis:
            found.append(f"{label} stored in clear in Redis ({in_redis} values)")
        row.append(in_redis)
        rows.append(row)
    # The scan had the requests to look at: each deployed API logged its ?key= request, with
    # the value hidden.
    unlogged = [
        name
        for name, process in deployed_apis.items()
        if f"?key={REDACTED}".encode() not in logs.get(process.log_path.name, b"")
    ]
    if unlogged:
        found.append(f"no access line for the ?key= request in the logs of {unlogged}")
    print(
        f"\n== Secrets and personal data: {len(planted)} planted values looked for in "
        f"{len(logs)} logs, {len(records)} topic records, {len(error_bodies)} error bodies and "
        f"{len(stored)} Redis values"
    )
    print(table(["planted value", *places, "Redis"], rows))
    for line in found:
        print(f"  FOUND {line}")
    fault_figures.record(
        "secrets and personal data",
        passed=not found,
        cases=len(planted) * (len(places) + 1),
        differences=len(found),
        note=f"{len(logs)} logs, {len(records)} records, {len(error_bodies)} error bodies, Redis",
    )
    assert found == []
