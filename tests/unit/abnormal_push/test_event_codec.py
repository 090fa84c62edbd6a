"""Domain objects survive the trip through protobuf and through the Redis JSON shape."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from google.protobuf.message import Message
from prt.v1 import abnormal_push_pb2, common_pb2, intake_pb2, remote_eval_pb2

from services.abnormal_push.domain.detection.intake_facts import ProjectSeen, TenderFailedSeen
from services.abnormal_push.domain.detection.remote_eval_facts import (
    CommitteeUnsealedSeen,
    NoShowSeen,
    RemoteEvaluationSeen,
)
from services.abnormal_push.domain.pushes import (
    Deadline,
    HandlingResult,
    PushDeadlinesSet,
    PushEscalated,
    PushEvent,
    PushFeedbackGiven,
    PushOverdue,
    PushRouted,
    PushSignedFor,
    PushTransferred,
    apply_push_event,
)
from services.abnormal_push.domain.reports import (
    AbnormalReport,
    DetectionTrail,
    Evidence,
    ReportSource,
    Severity,
    Subject,
    SubjectKind,
)
from services.abnormal_push.domain.routing import PushRole, RoutingReason
from services.abnormal_push.event_codec import (
    evaluation_fact_from_envelope,
    intake_fact_from_envelope,
    push_event_from_envelope,
    push_event_to_message,
    report_from_event,
    report_to_event,
)
from services.abnormal_push.read_model import (
    push_from_json,
    push_to_json,
    report_from_json,
    report_to_json,
)
from services.platform_core.errors import EventDecodeError
from services.platform_core.events.envelope import Envelope, decode_record, encode_envelope
from services.platform_core.events.proto_values import to_timestamp
from tests.unit.abnormal_push.factories import T0, report


def _detected() -> AbnormalReport:
    return replace(
        report(crime=True, region="370113"),
        source=ReportSource.DETECTED,
        subjects=(
            Subject(SubjectKind.BIDDER, credit_code="91110000600037341L", name="甲"),
            Subject(SubjectKind.EXPERT, expert_pseudonym="EXP-7f3a"),
        ),
        evidence=(Evidence("a" * 64, "docstore://e/1", "application/pdf"),),
        detection=DetectionTrail(
            "PRT-FP-001", "1", "指纹", "第四十条", ("e1", "e2"), (("mac_address", "AA"),)
        ),
    )


def test_a_report_round_trips_through_protobuf_and_json() -> None:
    original = _detected()
    assert report_from_event(report_to_event(original)) == original
    assert report_from_json(report_to_json(original)) == original


ROUTED = PushRouted(
    "e-1",
    "push-1",
    T0,
    "r-1",
    "ZJJ",
    RoutingReason.CATEGORY_SUPERVISOR,
    PushRole.HANDLER,
    Severity.HIGH,
    T0 + timedelta(days=1),
    T0 + timedelta(days=10),
)
EVENTS: list[PushEvent] = [
    ROUTED,
    replace(ROUTED, role=PushRole.COPY, sign_for_due=None, feedback_due=None),
    PushSignedFor("e-2", "push-1", T0, "ZJJ"),
    PushFeedbackGiven(
        "e-3", "push-1", T0, "ZJJ", HandlingResult.PENALISED, "罚款", (Evidence("b" * 64, "x"),)
    ),
    PushTransferred("e-4", "push-1", T0, "ZJJ", "JTJ", "公路"),
    PushOverdue("e-5", "push-1", T0, Deadline.SIGN_FOR, T0, "ZJJ"),
    PushEscalated("e-6", "push-1", T0, Deadline.FEEDBACK, "FGW", 2),
    replace(ROUTED, event_id="e-7", deadlines_estimated=True),
    replace(
        ROUTED,
        event_id="e-10",
        deadlines_estimated=True,
        estimated_deadlines=(Deadline.FEEDBACK,),
    ),
    replace(ROUTED, event_id="e-9", reason=RoutingReason.BRANCH_OVERSIGHT, role=PushRole.COPY),
    PushDeadlinesSet("e-8", "push-1", T0, T0 + timedelta(days=3), T0 + timedelta(days=14)),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_push_events_round_trip_through_kafka_records(event: PushEvent) -> None:
    envelope: Envelope[Message] = Envelope(
        message=push_event_to_message(event), source="/t", subject=event.push_id, id=event.event_id
    )
    value, headers = encode_envelope(envelope)
    assert push_event_from_envelope(decode_record(value, headers)) == event


def test_a_push_round_trips_through_json() -> None:
    push = apply_push_event(None, ROUTED)
    for event in EVENTS[2:4]:
        push = apply_push_event(push, event)
    assert push_from_json(push_to_json(push)) == push


def test_push_deadlines_set_without_both_deadlines_is_refused() -> None:
    message = abnormal_push_pb2.PushDeadlinesSet(push_id="push-1", occurred_at=to_timestamp(T0))
    message.sign_for_due.CopyFrom(to_timestamp(T0))
    envelope: Envelope[Message] = Envelope(message=message, source="/t", subject="push-1")
    with pytest.raises(EventDecodeError, match="both deadlines"):
        push_event_from_envelope(envelope)


def test_a_failed_tender_is_seen_and_a_plain_termination_is_not() -> None:
    failed = intake_pb2.ProjectTerminated(
        project_id="P-1",
        occurred_at=to_timestamp(T0),
        bid_section_code="002",
        reason=intake_pb2.TERMINATION_REASON_FAILED_TENDER,
        explanation="投标人不足三家",
    )
    seen = intake_fact_from_envelope(Envelope(message=failed, source="test", subject="P-1"))
    assert isinstance(seen, TenderFailedSeen)
    assert (seen.project_id, seen.section_code, seen.at) == ("P-1", "002", T0)
    ended = Envelope(
        message=intake_pb2.ProjectTerminated(
            project_id="P-1",
            occurred_at=to_timestamp(T0),
            reason=intake_pb2.TERMINATION_REASON_TERMINATED,
        ),
        source="test",
        subject="P-1",
    )
    assert intake_fact_from_envelope(ended) is None


def test_detection_keeps_the_region_of_a_registered_project() -> None:
    registered = intake_pb2.ProjectRegistered(
        project_id="P-1",
        occurred_at=to_timestamp(T0),
        name="长清区某道路工程",
        category=common_pb2.PROJECT_CATEGORY_TRANSPORT,
        region_code="370113",
    )
    seen = intake_fact_from_envelope(Envelope(message=registered, source="test", subject="P-1"))
    assert isinstance(seen, ProjectSeen)
    assert (seen.project.category, seen.project.region_code) == ("TRANSPORT", "370113")


def test_a_report_stored_before_regions_reads_as_region_unknown() -> None:
    stored = report_to_json(report())
    del stored["region_code"]
    assert report_from_json(stored).region_code == ""


def _evaluation_event(message: Message) -> Envelope[Message]:
    return Envelope(message=message, source="test", subject="ev-1")


def test_detection_sees_an_evaluation_s_project_and_its_no_shows() -> None:
    requested = remote_eval_pb2.EvaluationRequested(
        evaluation_id="ev-1", occurred_at=to_timestamp(T0), project_id="P-1"
    )
    assert evaluation_fact_from_envelope(_evaluation_event(requested)) == RemoteEvaluationSeen(
        "ev-1", "P-1"
    )
    absence = _evaluation_event(
        remote_eval_pb2.ExpertAbsenceRecorded(
            evaluation_id="ev-1",
            occurred_at=to_timestamp(T0),
            expert_pseudonym="EXP-7F3A",
            supervision_pseudonym="SUP-0A1B",
            venue_id="V-1",
        )
    )
    seen = evaluation_fact_from_envelope(absence)
    assert isinstance(seen, NoShowSeen)
    assert (seen.no_show.event_id, seen.no_show.at, seen.no_show.project_id) == (
        absence.id,
        T0,
        "",  # filled in by detection from the request
    )
    # Known by the pseudonym that is the same in every evaluation, not this evaluation's.
    assert seen.no_show.expert_pseudonym == "SUP-0A1B"
    confirmed = remote_eval_pb2.ExpertConfirmed(evaluation_id="ev-1", expert_pseudonym="X")
    assert evaluation_fact_from_envelope(_evaluation_event(confirmed)) is None
    # The venue owner's claim is not judged: remote_eval may refuse it (not on the committee).
    claim = remote_eval_pb2.ExpertNoShow(
        evaluation_id="ev-1", occurred_at=to_timestamp(T0), expert_pseudonym="EXP-7F3A"
    )
    assert evaluation_fact_from_envelope(_evaluation_event(claim)) is None


def test_detection_sees_when_an_evaluation_s_committee_was_unsealed() -> None:
    unsealed = remote_eval_pb2.CommitteeUnsealed(
        evaluation_id="ev-1", occurred_at=to_timestamp(T0), project_id="P-1", member_count=7
    )
    assert evaluation_fact_from_envelope(_evaluation_event(unsealed)) == CommitteeUnsealedSeen(
        "ev-1", T0
    )
    untimed = _evaluation_event(remote_eval_pb2.CommitteeUnsealed(evaluation_id="ev-1"))
    assert evaluation_fact_from_envelope(untimed) == CommitteeUnsealedSeen("ev-1", untimed.time)
    with pytest.raises(EventDecodeError, match="names no evaluation"):
        evaluation_fact_from_envelope(_evaluation_event(remote_eval_pb2.CommitteeUnsealed()))


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"occurred_at": to_timestamp(T0), "expert_pseudonym": "EXP-7F3A"}, "names no expert"),
        ({"supervision_pseudonym": "SUP-0A1B"}, "has no occurred_at"),
    ],
)
def test_an_absence_detection_cannot_judge_is_refused_for_the_dead_letters(
    fields: dict[str, object], reason: str
) -> None:
    message = remote_eval_pb2.ExpertAbsenceRecorded(evaluation_id="ev-1", **fields)  # type: ignore[arg-type]
    with pytest.raises(EventDecodeError, match=reason):
        evaluation_fact_from_envelope(_evaluation_event(message))
