"""An overdue push escalates to the joint-conference office on the right working day across a
statutory holiday. The deadline watch runs against the real Redis read model and broker, with
its clock injected; the worker (whose own timer is idle in tests) projects what it emits."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from google.protobuf.message import Message
from prt.v1.abnormal_push_pb2 import PUSH_DEADLINE_FEEDBACK
from prt.v1.abnormal_push_pb2 import PushRouted as PushRoutedMessage

from services.abnormal_push.handlers import DeadlineWatch, ReportRouter
from services.abnormal_push.read_model import PushReadModel
from services.abnormal_push.service_config import load_deadline_policy, load_routing_table
from services.platform_core.events.envelope import Envelope
from services.platform_core.events.topics import ABNORMAL_REPORTS, TopicSpec
from services.platform_core.kafka.publisher import EventPublisher
from tests.integration.abnormal_push.fixtures import (
    Keys,
    StandInCalendar,
    auth,
    publish,
    report_event,
)
from tests.support.polling import eventually
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.integration

# Monday 2024-09-30, 10:00 in Jinan: the eve of the National Day holiday (10-01..10-07).
FILED_AT = datetime(2024, 9, 30, 2, 0, tzinfo=UTC)
# A MEDIUM push's 1-working-day sign-for limit ends with Tuesday 10-08 (24:00 Jinan).
SIGN_FOR_DUE = datetime(2024, 10, 8, 16, 0, tzinfo=UTC)


class RecordingPublisher(EventPublisher):
    """The real publisher, keeping the messages it sent."""

    def __init__(self, inner: EventPublisher) -> None:
        self._inner = inner
        self.sent: list[Message] = []

    async def publish(self, topic: TopicSpec, envelope: Envelope[Message], key: str) -> None:
        await self._inner.publish(topic, envelope, key)
        self.sent.append(envelope.message)


async def test_sign_for_overdue_escalates_on_the_first_working_day_after_national_day(
    push_api: ServiceProcess,
    push_worker: ServiceProcess,
    keys: Keys,
    publisher: EventPublisher,
    read_model: PushReadModel,
) -> None:
    report_id = f"r-{uuid.uuid4()}"
    await publish(publisher, ABNORMAL_REPORTS, report_event(report_id, FILED_AT), report_id)
    async with httpx.AsyncClient(timeout=10) as client:

        async def zjj_push() -> list[dict[str, Any]]:
            response = await client.get(
                f"{push_api.base_url}/v1/pushes",
                params={"department": "ZJJ", "until": FILED_AT.isoformat()},
                headers=auth(keys["operator"]),
            )
            return [
                p
                for p in response.json()
                if p["report_id"] == report_id and p["department"] == "ZJJ"
            ]

        (push,) = await eventually(zjj_push, lambda found: len(found) == 1)
        push_id = push["push_id"]
        assert datetime.fromisoformat(push["sign_for_due"]) == SIGN_FOR_DUE

        watch = DeadlineWatch(read_model, publisher, load_routing_table())
        for moment in (
            datetime(2024, 10, 1, 2, 0, tzinfo=UTC),  # the first day of the holiday
            datetime(2024, 10, 7, 15, 59, tzinfo=UTC),  # its last evening
            datetime(2024, 10, 8, 15, 59, 59, tzinfo=UTC),  # the working day, before midnight
        ):
            assert (push_id, "SIGN_FOR") not in await watch.tick(moment), moment
        assert (push_id, "SIGN_FOR") in await watch.tick(SIGN_FOR_DUE)
        # Marked once: a later tick does not raise it again.
        assert (push_id, "SIGN_FOR") not in await watch.tick(datetime(2024, 10, 9, tzinfo=UTC))

        url = f"{push_api.base_url}/v1/pushes/{push_id}"
        escalated = await eventually(
            lambda: client.get(url, headers=auth(keys["ZJJ"])),
            lambda r: r.json()["escalation_levels"] == [1],
        )
        fgw_view = await client.get(
            f"{push_api.base_url}/v1/pushes",
            params={"escalated": "true", "until": FILED_AT.isoformat()},
            headers=auth(keys["FGW"]),
        )
        fgw_reads = await client.get(url, headers=auth(keys["FGW"]))
        counts = await client.get(
            f"{push_api.base_url}/v1/pushes/counts", headers=auth(keys["ZJJ"])
        )

    body = escalated.json()
    assert body["overdue"] == ["SIGN_FOR"]
    assert body["status"] == "ROUTED"
    kinds = [(s["kind"], s["detail"]) for s in body["steps"]]
    assert ("OVERDUE", "SIGN_FOR") in kinds
    assert ("ESCALATED", "SIGN_FOR to FGW, level 1") in kinds
    assert push_id in {p["push_id"] for p in fgw_view.json()}
    assert fgw_reads.status_code == 200
    assert counts.json()[0]["overdue"] >= 1


async def test_estimated_deadlines_are_never_judged_and_the_real_ones_follow_the_calendar(
    push_api: ServiceProcess,
    push_worker: ServiceProcess,
    keys: Keys,
    publisher: EventPublisher,
    read_model: PushReadModel,
) -> None:
    calendar = StandInCalendar(unpublished_from=2024)
    policy = replace(load_deadline_policy(), calendar=calendar)
    report_id = f"r-{uuid.uuid4()}"
    # The router of a worker whose calendar lacks 2024: the pushes go out at once, with
    # estimated deadlines (Monday to Friday: the sign-for estimate is 10-01, a holiday).
    router = ReportRouter(read_model, publisher, None, policy)
    await router.apply(
        Envelope(message=report_event(report_id, FILED_AT), source="test", subject=report_id)
    )
    async with httpx.AsyncClient(timeout=10) as client:
        params = {"department": "ZJJ", "until": FILED_AT.isoformat()}

        async def zjj_push() -> list[dict[str, Any]]:
            response = await client.get(
                f"{push_api.base_url}/v1/pushes", params=params, headers=auth(keys["operator"])
            )
            return [p for p in response.json() if p["report_id"] == report_id]

        (push,) = await eventually(zjj_push, lambda found: len(found) == 1)
        push_id = push["push_id"]
        assert push["deadlines_estimated"] is True
        assert datetime.fromisoformat(push["sign_for_due"]) == datetime(
            2024, 10, 1, 16, 0, tzinfo=UTC
        )

        watch = DeadlineWatch(read_model, publisher, load_routing_table(), deadlines=policy)
        # Past the estimate, in the holiday: nothing is judged, nothing is stated yet.
        holiday = datetime(2024, 10, 3, 2, 0, tzinfo=UTC)
        assert push_id not in {p for p, _ in await watch.tick(holiday)}
        assert push_id not in await watch.state_real_deadlines(holiday)

        calendar.published = True  # a release of the package covers 2024
        # (Other tests' pushes may be stated too: filed in December, their feedback deadlines
        # run into a year the package lacks, which the stand-in now covers.)
        assert push_id in await watch.state_real_deadlines(holiday)
        url = f"{push_api.base_url}/v1/pushes/{push_id}"
        counted = await eventually(
            lambda: client.get(url, headers=auth(keys["ZJJ"])),
            lambda r: r.json()["deadlines_estimated"] is False,
        )
        # Stated once: the projection no longer lists it as waiting.
        assert push_id not in await watch.state_real_deadlines(holiday)
        assert push_id not in {
            p for p, _ in await watch.tick(datetime(2024, 10, 8, 15, 0, tzinfo=UTC))
        }
        assert (push_id, "SIGN_FOR") in await watch.tick(SIGN_FOR_DUE)

    body = counted.json()
    assert datetime.fromisoformat(body["sign_for_due"]) == SIGN_FOR_DUE
    # 15 working days from 09-30: 10-08..10-12 (5), 10-14..18 (10), 10-21..25 (15).
    assert datetime.fromisoformat(body["feedback_due"]) == datetime(2024, 10, 25, 16, 0, tzinfo=UTC)
    assert body["overdue"] == []
    assert [s["kind"] for s in body["steps"]] == ["ROUTED", "DEADLINES_SET"]


async def test_a_real_sign_for_deadline_is_judged_while_the_feedback_one_is_an_estimate(
    push_api: ServiceProcess,
    push_worker: ServiceProcess,
    keys: Keys,
    publisher: EventPublisher,
    read_model: PushReadModel,
) -> None:
    # A worker whose calendar covers 2026 but not 2027 (chinese_calendar 1.11.0). Filed on
    # Friday 2026-12-11: the 1 sign-for day is Monday 12-14 (real); the 15th feedback day
    # falls in 2027 (estimated: Friday 2027-01-01 counted Monday to Friday).
    calendar = StandInCalendar(unpublished_from=2027)
    policy = replace(load_deadline_policy(), calendar=calendar)
    filed_at = datetime(2026, 12, 11, 2, 0, tzinfo=UTC)
    sign_for_due = datetime(2026, 12, 14, 16, 0, tzinfo=UTC)
    report_id = f"r-{uuid.uuid4()}"
    recording = RecordingPublisher(publisher)
    router = ReportRouter(read_model, recording, None, policy)
    await router.apply(
        Envelope(message=report_event(report_id, filed_at), source="test", subject=report_id)
    )
    # The event names the estimate, for its consumers (reporting's board).
    [routed] = [
        m for m in recording.sent if isinstance(m, PushRoutedMessage) and m.department == "ZJJ"
    ]
    assert routed.deadlines_estimated
    assert list(routed.estimated_deadlines) == [PUSH_DEADLINE_FEEDBACK]
    async with httpx.AsyncClient(timeout=10) as client:
        params = {"department": "ZJJ", "until": filed_at.isoformat()}

        async def zjj_push() -> list[dict[str, Any]]:
            response = await client.get(
                f"{push_api.base_url}/v1/pushes", params=params, headers=auth(keys["operator"])
            )
            return [p for p in response.json() if p["report_id"] == report_id]

        (push,) = await eventually(zjj_push, lambda found: len(found) == 1)
        push_id = push["push_id"]
        assert push["deadlines_estimated"] is True
        # The clerk is told which: the sign-for deadline is real, and will be judged.
        assert push["estimated_deadlines"] == ["FEEDBACK"]
        assert datetime.fromisoformat(push["sign_for_due"]) == sign_for_due
        estimated_feedback_due = datetime.fromisoformat(push["feedback_due"])
        assert estimated_feedback_due == datetime(2027, 1, 1, 16, 0, tzinfo=UTC)

        watch = DeadlineWatch(read_model, publisher, load_routing_table(), deadlines=policy)
        before = sign_for_due - timedelta(seconds=1)
        assert push_id not in {p for p, _ in await watch.tick(before)}
        assert (push_id, "SIGN_FOR") in await watch.tick(sign_for_due)
        url = f"{push_api.base_url}/v1/pushes/{push_id}"
        marked = await eventually(
            lambda: client.get(url, headers=auth(keys["ZJJ"])),
            lambda r: r.json()["escalation_levels"] == [1],
        )
        # Past the estimated feedback due: the estimate is not judged, the sign-for not again.
        after_estimate = datetime(2027, 1, 5, 2, 0, tzinfo=UTC)
        assert push_id not in {p for p, _ in await watch.tick(after_estimate)}

        # A release covering 2027: the real deadlines replace the estimates (the sign-for one
        # unchanged), and the push's overdue mark stands.
        calendar.published = True
        assert push_id in await watch.state_real_deadlines(after_estimate)
        counted = await eventually(
            lambda: client.get(url, headers=auth(keys["ZJJ"])),
            lambda r: r.json()["deadlines_estimated"] is False,
        )

    body = marked.json()
    assert body["overdue"] == ["SIGN_FOR"]
    assert body["deadlines_estimated"] is True  # the feedback deadline is still an estimate
    assert datetime.fromisoformat(body["feedback_due"]) == estimated_feedback_due
    real = counted.json()
    assert real["estimated_deadlines"] == []
    assert datetime.fromisoformat(real["sign_for_due"]) == sign_for_due
    # The stand-in 2027 has New Year's Day off: the 15th day is Monday 01-04.
    assert datetime.fromisoformat(real["feedback_due"]) == datetime(2027, 1, 4, 16, 0, tzinfo=UTC)
    assert real["overdue"] == ["SIGN_FOR"]
