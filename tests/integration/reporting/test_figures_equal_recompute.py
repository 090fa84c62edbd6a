"""Events on every topic → the aggregation worker → figures equal to the independent recompute;
every figure's evidence lists the events behind it; readers only."""

from __future__ import annotations

import asyncio
import io
import os
import sys
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from docx import Document
from prt.v1 import common_pb2, intake_pb2
from redis.asyncio import Redis

from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.events.envelope import Envelope, encode_envelope
from services.platform_core.events.proto_values import to_timestamp
from services.platform_core.events.topics import ABNORMAL_PUSHES, PROJECT_EVENTS
from services.platform_core.kafka.clients import create_producer
from services.platform_core.kafka.publisher import EventPublisher
from services.platform_core.settings import PlatformSettings
from services.reporting.domain.bulletin import SECTION_HEADINGS
from services.reporting.domain.figures import diff
from services.reporting.domain.metrics import CounterKey
from services.reporting.http_api.bulletins import DOCX
from services.reporting.read_model import MetricsReadModel
from services.reporting.recompute import recompute_from_log
from tests.conftest import IssueKey
from tests.integration.reporting.conftest import Namespace
from tests.support.polling import eventually
from tests.support.processes import REPO, ServiceProcess
from tests.unit.reporting.event_mix import events_with_deadlines_set

pytestmark = pytest.mark.integration


async def _recompute_cli(
    namespace: Namespace, stack_env: dict[str, str], *args: str
) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.reporting.recompute",
        *args,
        cwd=REPO,
        env={**os.environ, **namespace.env(stack_env)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=300)
    return await process.wait(), output.decode()


async def _evidence_is_paged(client: httpx.AsyncClient) -> None:
    """Pages of evidence: bounded, in event-id order, each id once, as many as the figure."""
    total = await client.get(
        "/v1/metrics", params={"metric": "registrations", "by": "", "period": "2023-H1"}
    )
    figure = total.json()["counters"][0]
    first = (await client.get(figure["evidence"] + "&limit=2")).json()
    assert first["total"] == figure["value"] and len(first["event_ids"]) == 2
    second = (await client.get(first["next"])).json()
    assert first["event_ids"][-1] < second["event_ids"][0]
    assert len(second["event_ids"]) == min(2, figure["value"] - 2)


async def test_figures_equal_the_recompute_and_link_their_evidence(
    *,
    settings: PlatformSettings,
    stack_env: dict[str, str],
    namespace: Namespace,
    own_worker: ServiceProcess,
    own_api: ServiceProcess,
    read_model: MetricsReadModel,
    publisher: EventPublisher,
    operator_headers: dict[str, str],
) -> None:
    marker = f"D{uuid.uuid4().hex[:8]}"
    registration = Envelope(
        message=intake_pb2.ProjectRegistered(
            project_id=f"p-{marker}",
            occurred_at=to_timestamp(datetime(2023, 3, 1, 2, 0, tzinfo=UTC)),
            actor_department=marker,
            name="证据测试项目",
            category=common_pb2.PROJECT_CATEGORY_WATER,
            region_code="370124",
            budget_fen=123_456,
        ),
        source="/tests",
        subject=f"p-{marker}",
    )
    await publisher.publish(PROJECT_EVENTS, registration, registration.subject)
    for outgoing in events_with_deadlines_set(400, seed=11, tag=marker):
        await publisher.publish(outgoing.topic, outgoing.envelope, outgoing.key)
    # A record no one can decode, on another topic: dead-lettered, counted nowhere.
    value, headers = encode_envelope(registration)
    producer = create_producer(settings, client_id="reporting-tests-raw")
    await producer.start()
    try:
        await producer.send_and_wait(ABNORMAL_PUSHES.name, value=value, key=b"x", headers=headers)
    finally:
        await producer.stop()

    recomputed = (await recompute_from_log(settings)).ledger.figures()
    assert recomputed, "the log holds events, so the recompute has figures"

    async def differences() -> list[tuple[str, int, int]]:
        return diff(await read_model.counters(), recomputed)

    assert await eventually(differences, lambda found: not found, timeout_s=180) == []

    async with httpx.AsyncClient(base_url=own_api.base_url, headers=operator_headers) as client:
        response = await client.get(
            "/v1/metrics",
            params={"metric": "registrations", "by": "department", "period": "2023-H1"},
        )
        assert response.status_code == 200, response.text
        mine = [c for c in response.json()["counters"] if c["dimensions"]["department"] == marker]
        assert [(c["value"], c["period"]) for c in mine] == [(1, "2023-H1")]
        evidence = (await client.get(mine[0]["evidence"])).json()
        assert evidence["event_ids"] == [registration.id]
        assert evidence["total"] == 1

        await _evidence_is_paged(client)

        amount = await client.get(
            "/v1/metrics",
            params={"metric": "registered_amount_fen", "by": "department", "period": "2023-03"},
        )
        assert {c["dimensions"]["department"]: c["value"] for c in amount.json()["counters"]}[
            marker
        ] == 123_456

        rate = await client.get(
            "/v1/metrics", params={"metric": "push_sign_for_rate", "period": "2023-H1"}
        )
        derived = rate.json()["derived"]
        assert len(derived) == 1
        assert derived[0]["value"] == derived[0]["numerator"] / derived[0]["denominator"]

        bad = await client.get(
            "/v1/metrics", params={"metric": "registrations", "period": "2023-H3"}
        )
        assert bad.status_code == 422 and bad.json()["details"][0]["field"] == "period"
        unknown = await client.get("/v1/metrics", params={"metric": "nope"})
        assert unknown.status_code == 422 and "unknown metric" in unknown.json()["message"]

    # The command agrees, and it does fail when a figure is off by one.
    status, output = await _recompute_cli(namespace, stack_env, "--wait-s", "60")
    assert status == 0, output
    assert "equal the recompute" in output
    tampered = f"registrations|department={marker}"
    redis = Redis.from_url(settings.redis_url)
    await redis.hincrby(read_model.counters_key, tampered, 1)
    try:
        status, output = await _recompute_cli(namespace, stack_env)
    finally:
        await redis.hincrby(read_model.counters_key, tampered, -1)
        await redis.aclose()
    assert status == 1, output
    assert f"{tampered}: 2 != 1" in output


async def test_partners_are_refused_and_keys_are_required(
    own_api: ServiceProcess, issue_key: IssueKey
) -> None:
    partner = await issue_key(PrincipalKind.PARTNER, "370300", "淄博市公共资源交易中心")
    async with httpx.AsyncClient(base_url=own_api.base_url) as client:
        anonymous = await client.get("/v1/metrics")
        assert anonymous.status_code == 401
        refused = await client.get(
            "/v1/metrics", headers={"Authorization": f"Bearer {partner.key}"}
        )
        assert refused.status_code == 403
        assert "operator or department" in refused.json()["message"]
        assert (await client.get("/healthz")).status_code == 200


async def _api_value(client: httpx.AsyncClient, source: str, metric: str) -> str:
    """The figure a bulletin footnote names, as the metrics API gives it."""
    if " / " in source or source.startswith(("median of", "p90 of")):
        period = source.rsplit("period=", 1)[1].split(" ", maxsplit=1)[0]
        body = (await client.get("/v1/metrics", params={"metric": metric, "period": period})).json()
        derived = body["derived"]
        if not derived:
            return ""
        value = derived[0]["p90"] if source.startswith("p90") else derived[0]["value"]
        return "" if value is None else repr(float(value))
    key = CounterKey.decode(source)
    dimensions = key.without_period()
    response = await client.get(
        "/v1/metrics",
        params={"metric": key.metric, "by": ",".join(sorted(dimensions)), "period": key.period},
    )
    assert response.status_code == 200, response.text
    found = [c["value"] for c in response.json()["counters"] if c["dimensions"] == dimensions]
    return str(found[0]) if found else "0"


async def test_the_word_bulletin_states_the_metrics_apis_figures(
    own_worker: ServiceProcess, own_api: ServiceProcess, operator_headers: dict[str, str]
) -> None:
    async with httpx.AsyncClient(base_url=own_api.base_url, headers=operator_headers) as client:
        response = await client.get(
            "/v1/bulletins/2023-H1", params={"number": 16, "issued_on": "2023-08-22"}
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith(DOCX)
        document = Document(io.BytesIO(response.content))
        texts = [paragraph.text for paragraph in document.paragraphs]
        assert "济公管办〔2023〕16号" in texts and "2023年8月22日" in texts
        assert "2023年全市上半年公共资源交易工作情况通报" in texts
        for heading in SECTION_HEADINGS:
            assert heading in texts
        rows = [[cell.text for cell in row.cells] for row in document.tables[0].rows][1:]
        assert len(rows) > 30
        nonzero = 0
        for number, metric, raw, source, evidence in rows:
            assert await _api_value(client, source, metric) == raw, (number, source)
            assert evidence.startswith("/v1/metrics/evidence?metric=")
            assert f"[{number}]" in "".join(texts)
            nonzero += raw not in {"", "0"}
        assert nonzero > 20, "the synthetic half-year moves most of the bulletin's figures"

        markdown = await client.get("/v1/bulletins/2023-H1", params={"format": "markdown"})
        assert markdown.status_code == 200
        assert markdown.text.count("[^") >= 2 * len(rows)
        bad = await client.get("/v1/bulletins/2023-H7")
        assert bad.status_code == 422 and bad.json()["details"][0]["field"] == "period"
