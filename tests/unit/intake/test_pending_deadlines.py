"""容缺 registrations whose deadline the working-day calendar cannot count yet are accepted with
the deadline pending; the event carries the working days and no deadline; the view says why; a
DeficiencyDeadlineSet sets it — but only while it is still pending (not after the documents were
all supplied or the project was terminated)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from prt.v1 import intake_pb2

from services.intake.domain.deficiency import (
    accept_deficiency,
    counted_from,
    pending_deadline,
    pending_reason,
)
from services.intake.domain.lifecycle import LifecycleFact, ProjectState, Step, evolve
from services.intake.domain.registration import (
    Deficiency,
    RegistrationRefused,
    check_registration,
    registered_view,
)
from services.intake.event_codec import (
    deadline_set_event,
    fact_from_envelope,
    registration_to_event,
    view_from_registered,
)
from services.intake.http_api.projects import public_view
from services.intake.http_api.schemas import ProjectPublic
from services.platform_core.errors import EventRejected
from services.platform_core.events.envelope import Envelope, decode_record, encode_envelope
from services.platform_core.events.topics import PROJECT_EVENTS
from tests.unit.intake import calendars
from tests.unit.intake.test_registration import GOOD

# Monday 28 December 2026, 10:00 in Jinan. Five working days: 29, 30, 31 December, then (New
# Year's Day off, a weekend) 4 and 5 January 2027 — once a calendar for 2027 exists.
REGISTERED_AT = datetime(2026, 12, 28, 2, 0, tzinfo=UTC)
DEADLINE = date(2027, 1, 5)
MISSING = ("建设工程规划许可证", "施工图审查合格书")
PENDING = replace(
    GOOD,
    registered_at=REGISTERED_AT,
    deficiency=Deficiency(MISSING, None, 5),
    commitment_pledged=True,
)
SET_AT = datetime(2026, 12, 31, 1, 0, tzinfo=UTC)


@pytest.fixture
def calendar(monkeypatch: pytest.MonkeyPatch) -> calendars.Calendar:
    return calendars.install(monkeypatch, published_through=2026)


def test_a_deficiency_past_the_published_calendar_is_accepted_pending(
    calendar: calendars.Calendar,
) -> None:
    assert accept_deficiency(MISSING, REGISTERED_AT, 5) == Deficiency(MISSING, None, 5)
    # Within the published year the deadline is counted at once, working days kept.
    assert accept_deficiency(MISSING, REGISTERED_AT, 3) == Deficiency(
        MISSING, date(2026, 12, 31), 3
    )
    calendar.publish(2027)
    assert accept_deficiency(MISSING, REGISTERED_AT, 5) == Deficiency(MISSING, DEADLINE, 5)


def test_a_pending_registration_passes_the_rules_but_not_without_working_days() -> None:
    check_registration(PENDING)
    no_days = replace(PENDING, deficiency=Deficiency(MISSING, None, 0))
    with pytest.raises(RegistrationRefused) as refused:
        check_registration(no_days)
    assert "deficiency.supplement_working_days" in refused.value.problems


def test_the_pending_event_has_working_days_and_no_deadline_and_folds_to_the_apis_view() -> None:
    event = registration_to_event(PENDING)
    acceptance = event.deficiency_acceptance
    assert list(acceptance.missing_documents) == list(MISSING)
    assert acceptance.supplement_working_days == 5
    assert not acceptance.HasField("supplement_deadline")
    view = view_from_registered(event)
    assert view == registered_view(PENDING)
    assert view.supplement_deadline is None
    assert view.supplement_deadline_pending
    assert view.supplement_working_days == 5
    assert view.outstanding_documents == MISSING
    # A deadline counted at registration carries its working days too, and is not pending.
    counted = replace(PENDING, deficiency=Deficiency(MISSING, DEADLINE, 5))
    event = registration_to_event(counted)
    assert event.deficiency_acceptance.supplement_working_days == 5
    assert event.deficiency_acceptance.HasField("supplement_deadline")
    view = view_from_registered(event)
    assert (view.supplement_deadline, view.supplement_deadline_pending) == (DEADLINE, False)


def test_an_event_from_before_working_days_with_no_deadline_is_still_rejected() -> None:
    event = registration_to_event(PENDING)
    event.deficiency_acceptance.supplement_working_days = 0
    with pytest.raises(EventRejected, match="0000-00-00 is not a date"):
        view_from_registered(event)


def test_the_view_says_the_deadline_is_pending_and_why(calendar: calendars.Calendar) -> None:
    view = registered_view(PENDING)
    rendered = public_view(view)
    assert ProjectPublic.model_validate(rendered).model_dump(mode="json") == rendered
    assert rendered["supplement_deadline"] is None
    assert rendered["supplement_working_days"] == 5
    assert rendered["supplement_deadline_pending"] is True
    assert rendered["supplement_deadline_pending_reason"] == (
        "the working-day calendar for 2027 is not published yet; the deadline (5 working days "
        "after 2026-12-28) will be set when it is"
    )
    assert pending_deadline(view) is None
    calendar.publish(2027)
    assert "covers the deadline" in (pending_reason(view) or "")
    assert pending_deadline(view) == DEADLINE
    assert counted_from(view) == date(2026, 12, 28)
    # Not pending: no reason, and nothing to count.
    counted = registered_view(replace(PENDING, deficiency=Deficiency(MISSING, DEADLINE, 5)))
    assert public_view(counted)["supplement_deadline_pending_reason"] is None
    assert pending_deadline(counted) is None
    assert public_view(registered_view(GOOD))["supplement_working_days"] is None


def _set(deadline: date) -> LifecycleFact:
    return LifecycleFact("p1", Step.SET_DEADLINE, SET_AT, supplement_deadline=deadline)


def test_setting_the_deadline_makes_it_an_ordinary_one() -> None:
    view = evolve(registered_view(PENDING), _set(DEADLINE))
    assert view.supplement_deadline == DEADLINE
    assert not view.supplement_deadline_pending
    assert view.state is ProjectState.REGISTERED
    assert view.version == 2
    assert view.outstanding_documents == MISSING
    # A second one (a duplicate that slipped past the marker) changes no deadline.
    assert evolve(view, _set(date(2027, 2, 1))).supplement_deadline == DEADLINE


def test_a_project_supplemented_or_terminated_while_pending_gets_no_deadline() -> None:
    pending = registered_view(PENDING)
    partly = evolve(
        pending, LifecycleFact("p1", Step.SUPPLEMENT_DOCUMENTS, SET_AT, "ZJJ", MISSING[:1])
    )
    assert partly.supplement_deadline_pending  # one document is still missing
    supplied = evolve(
        partly, LifecycleFact("p1", Step.SUPPLEMENT_DOCUMENTS, SET_AT, "ZJJ", MISSING[1:])
    )
    terminated = evolve(pending, LifecycleFact("p1", Step.TERMINATE, SET_AT, "ZJJ"))
    for view in (supplied, terminated):
        assert not view.supplement_deadline_pending
        assert pending_reason(view) is None
        after = evolve(view, _set(DEADLINE))  # a set that raced the 补正 / termination
        assert after.supplement_deadline is None
        assert not after.supplement_deadline_pending
    assert evolve(partly, _set(DEADLINE)).supplement_deadline == DEADLINE


def test_deficiency_deadline_set_is_a_project_event_the_projection_folds() -> None:
    view = registered_view(PENDING)
    event = deadline_set_event(view, DEADLINE, date(2026, 12, 28), SET_AT)
    assert (event.supplement_deadline.year, event.supplement_deadline.month) == (2027, 1)
    assert event.supplement_working_days == 5
    assert (event.counted_from.year, event.counted_from.day) == (2026, 28)
    envelope = Envelope(message=event, source="/test", subject="p1")
    assert envelope.type in PROJECT_EVENTS.message_types
    value, headers = encode_envelope(envelope)
    decoded = decode_record(value, headers, PROJECT_EVENTS.message_types)
    assert fact_from_envelope(decoded) == LifecycleFact(
        "p1", Step.SET_DEADLINE, SET_AT, supplement_deadline=DEADLINE
    )
    no_date = intake_pb2.DeficiencyDeadlineSet(project_id="p1")
    no_date.occurred_at.seconds = 1_800_000_000
    with pytest.raises(EventRejected, match="0000-00-00 is not a date"):
        fact_from_envelope(Envelope(message=no_date, source="/test", subject="p1"))
