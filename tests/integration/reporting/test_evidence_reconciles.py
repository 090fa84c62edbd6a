"""A figure's evidence reconciles with it when events took from it: the events behind the figure
are listed as adding or subtracting, and for a count, added − subtracted is the figure — the
push that had a case filed (立案) and then its measure, out of pushes_in_hand again; the push
whose real deadlines (PushDeadlinesSet) took it off pushes_on_estimated_deadlines and turned its
feedback late. Events go through Kafka and the aggregation worker (its Redis apply script), and
are read through the API, the bulletin's footnotes included."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from google.protobuf.message import Message
from prt.v1 import abnormal_push_pb2

from services.platform_core.events.envelope import Envelope
from services.platform_core.events.proto_values import to_timestamp
from services.platform_core.events.topics import ABNORMAL_PUSHES
from services.platform_core.kafka.publisher import EventPublisher
from services.platform_core.settings import PlatformSettings
from services.reporting.domain.catalogue import BY_KEY
from services.reporting.read_model import MetricsReadModel
from tests.integration.reporting.conftest import wait_caught_up
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.integration

# A month no other test's events fall in, so the bulletin's city-wide push figures are these.
ROUTED = datetime(2029, 8, 1, 1, 0, tzinfo=UTC)
MONTH, HALF_YEAR = "2029-08", "2029-H2"
CASE_FILED = abnormal_push_pb2.HANDLING_RESULT_CASE_FILED
PENALISED = abnormal_push_pb2.HANDLING_RESULT_PENALISED


def _routed(push: str, department: str, *, estimated: bool = False) -> Message:
    return abnormal_push_pb2.PushRouted(
        push_id=push,
        occurred_at=to_timestamp(ROUTED),
        report_id=f"r-{push}",
        department=department,
        reason=abnormal_push_pb2.ROUTING_REASON_CATEGORY_SUPERVISOR,
        role=abnormal_push_pb2.PUSH_ROLE_HANDLER,
        sign_for_due=to_timestamp(ROUTED + timedelta(days=2)),
        feedback_due=to_timestamp(ROUTED + timedelta(days=10)),
        deadlines_estimated=estimated,
    )


def _signed(push: str, department: str) -> Message:
    return abnormal_push_pb2.PushSignedFor(
        push_id=push,
        occurred_at=to_timestamp(ROUTED + timedelta(hours=2)),
        actor_department=department,
    )


def _fed_back(push: str, department: str, result: int, days: int) -> Message:
    return abnormal_push_pb2.PushFeedbackGiven(
        push_id=push,
        occurred_at=to_timestamp(ROUTED + timedelta(days=days)),
        actor_department=department,
        result=result,  # type: ignore[arg-type]
        result_text="处理结果",
    )


def _deadlines_set(push: str, feedback_due_days: int) -> Message:
    return abnormal_push_pb2.PushDeadlinesSet(
        push_id=push,
        occurred_at=to_timestamp(ROUTED + timedelta(days=12)),
        sign_for_due=to_timestamp(ROUTED + timedelta(days=2)),
        feedback_due=to_timestamp(ROUTED + timedelta(days=feedback_due_days)),
    )


async def _publish(publisher: EventPublisher, push: str, *messages: Message) -> list[str]:
    ids = []
    for message in messages:
        envelope: Envelope[Message] = Envelope(message=message, source="/tests", subject=push)
        await publisher.publish(ABNORMAL_PUSHES, envelope, push)
        ids.append(envelope.id)
    return ids


async def _figure(client: httpx.AsyncClient, metric: str, department: str) -> int:
    response = await client.get(
        "/v1/metrics", params={"metric": metric, "by": "department", "period": MONTH}
    )
    assert response.status_code == 200, response.text
    counters = response.json()["counters"]
    # None listed: the figure is 0 (a counter at 0 is not listed).
    return sum(c["value"] for c in counters if c["dimensions"]["department"] == department)


async def _evidence(client: httpx.AsyncClient, metric: str, department: str) -> dict[str, Any]:
    response = await client.get(
        "/v1/metrics/evidence", params={"metric": metric, "period": MONTH, "department": department}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_evidence_lists_what_added_and_what_subtracted(
    *,
    settings: PlatformSettings,
    own_worker: ServiceProcess,
    own_api: ServiceProcess,
    read_model: MetricsReadModel,
    publisher: EventPublisher,
    operator_headers: dict[str, str],
) -> None:
    tag = uuid.uuid4().hex[:8]
    closed, open_ = f"X{tag}", f"Y{tag}"
    # In hand at 立案, out again at the measure (处罚).
    a = f"a-{tag}"
    _, _, a_case_filed, a_penalised = await _publish(
        publisher,
        a,
        _routed(a, closed),
        _signed(a, closed),
        _fed_back(a, closed, CASE_FILED, days=3),
        _fed_back(a, closed, PENALISED, days=5),
    )
    # Still in hand.
    b = f"b-{tag}"
    _, _, b_case_filed = await _publish(
        publisher, b, _routed(b, open_), _signed(b, open_), _fed_back(b, open_, CASE_FILED, days=3)
    )
    # Fed back on time by the estimate (day 9 of 10), late by the real due (day 8).
    c = f"c-{tag}"
    c_routed, _, c_fed_back, c_real = await _publish(
        publisher,
        c,
        _routed(c, open_, estimated=True),
        _signed(c, open_),
        _fed_back(c, open_, PENALISED, days=9),
        _deadlines_set(c, feedback_due_days=8),
    )
    # Still on estimated deadlines.
    d = f"d-{tag}"
    (d_routed,) = await _publish(publisher, d, _routed(d, open_, estimated=True))
    await wait_caught_up(settings, read_model)

    async with httpx.AsyncClient(base_url=own_api.base_url, headers=operator_headers) as client:
        # The reviewer's case: the figure is 0, its evidence one event in and one out.
        assert await _figure(client, "pushes_in_hand", closed) == 0
        in_hand = await _evidence(client, "pushes_in_hand", closed)
        assert in_hand["added_ids"] == [a_case_filed]
        assert in_hand["subtracted_ids"] == [a_penalised]
        assert (in_hand["added"], in_hand["subtracted"], in_hand["total"]) == (1, 1, 2)
        assert in_hand["event_ids"] == sorted([a_case_filed, a_penalised])

        expected = {
            ("pushes_in_hand", open_): ({b_case_filed}, set()),
            ("pushes_on_estimated_deadlines", open_): ({c_routed, d_routed}, {c_real}),
            ("pushes_fed_back_on_time", open_): ({b_case_filed, c_fed_back}, {c_real}),
            ("pushes_fed_back_on_time", closed): ({a_case_filed}, set()),
        }
        for (metric, department), (added, subtracted) in expected.items():
            evidence = await _evidence(client, metric, department)
            listed = (set(evidence["added_ids"]), set(evidence["subtracted_ids"]))
            assert listed == (added, subtracted), metric
            figure = await _figure(client, metric, department)
            assert figure == evidence["added"] - evidence["subtracted"] == 1, metric

        # Every count the bulletin prints reconciles with the evidence query its footnote
        # gives; these figures are there, in their half-year.
        markdown = await client.get(f"/v1/bulletins/{HALF_YEAR}", params={"format": "markdown"})
        assert markdown.status_code == 200, markdown.text
        footnotes = re.findall(
            r"^\[\^\d+\]: (\w+) = (\S+) \(`[^`]*`; evidence: (\S+)\)$", markdown.text, re.M
        )
        counts = [(m, raw, link) for m, raw, link in footnotes if BY_KEY[m].unit == "count"]
        printed = {metric for metric, _, _ in counts}
        assert {"pushes_on_estimated_deadlines", "pushes_to_handle"} <= printed
        for metric, raw, link in counts:
            evidence = (await client.get(link)).json()
            assert evidence["added"] - evidence["subtracted"] == int(raw), (metric, link)
