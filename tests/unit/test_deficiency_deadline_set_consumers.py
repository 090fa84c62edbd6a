"""DeficiencyDeadlineSet on intake.projects.v1: allowed on the topic, folded by intake, and
ignored on purpose by the other consumers of the topic — no fact, no rejection (so no dead
letter), no error."""

from __future__ import annotations

from datetime import UTC, datetime

from prt.v1 import common_pb2, intake_pb2

from services.abnormal_push.event_codec import intake_fact_from_envelope
from services.intake.domain.lifecycle import Step
from services.intake.event_codec import fact_from_envelope as intake_fact
from services.platform_core.events.envelope import Envelope, decode_record, encode_envelope
from services.platform_core.events.topics import PROJECT_EVENTS
from services.remote_eval.scheduler import Scheduler
from services.reporting.event_codec import fact_from_envelope as reporting_fact


def _deadline_set() -> Envelope[intake_pb2.DeficiencyDeadlineSet]:
    message = intake_pb2.DeficiencyDeadlineSet(
        project_id="p-1",
        supplement_deadline=common_pb2.LocalDate(year=2027, month=1, day=5),
        supplement_working_days=5,
        counted_from=common_pb2.LocalDate(year=2026, month=12, day=28),
    )
    message.occurred_at.FromDatetime(datetime(2026, 12, 30, 2, 0, tzinfo=UTC))
    envelope = Envelope(message=message, source="/jinan-prt/intake/deadline-watch", subject="p-1")
    value, headers = encode_envelope(envelope)
    decoded = decode_record(value, headers, PROJECT_EVENTS.message_types)
    assert decoded == envelope
    return envelope


def test_it_is_an_event_of_the_project_topic() -> None:
    assert "prt.v1.DeficiencyDeadlineSet" in PROJECT_EVENTS.message_types


def test_intake_folds_it_as_the_deadline_being_set() -> None:
    fact = intake_fact(_deadline_set())
    assert fact is not None and fact.step is Step.SET_DEADLINE
    assert fact.supplement_deadline is not None and fact.supplement_deadline.isoformat() == (
        "2027-01-05"
    )


def test_reporting_counts_nothing_from_it() -> None:
    assert reporting_fact(_deadline_set()) is None


def test_abnormal_push_detects_nothing_from_it() -> None:
    assert intake_fact_from_envelope(_deadline_set()) is None


async def test_remote_evaluation_passes_it_by() -> None:
    # Only awards concern the scheduler; it returns before touching any of its stores (an
    # uninitialised instance would raise AttributeError if it did).
    scheduler = Scheduler.__new__(Scheduler)
    await scheduler.apply_project_event(_deadline_set())
