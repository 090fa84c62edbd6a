"""Remote evaluation's HTTP edge without a stack, as review found it: seats cut below what is
booked, an evaluation request too large for the log answered "retry later", unbounded lists in
a request, and the AsyncAPI document promising time-ordered ids the scheduler does not use."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from prt.v1 import remote_eval_pb2
from pydantic import ValidationError

from services.platform_core.events.envelope import MAX_EVENT_BYTES, Envelope
from services.platform_core.http.errors import ApiError
from services.remote_eval.domain.model import (
    EvaluationRequest,
    ExpertKind,
    HalfDay,
    Slot,
    SpecialtyNeed,
)
from services.remote_eval.event_codec import evaluation_requested
from services.remote_eval.http_api.asyncapi import asyncapi_document
from services.remote_eval.http_api.evaluations import publishable
from services.remote_eval.http_api.schemas import (
    MAX_AVOIDED_UNITS,
    MAX_PARTNER_CODES,
    MAX_SPECIALTY_NEEDS,
    EvaluationCreate,
)
from services.remote_eval.http_api.venues import overbooking_refusal

SLOT = Slot(date(2031, 6, 16), HalfDay.PM)
CREDIT_CODE = "91110000600037341L"


# -- seats may not be cut below what is booked ---------------------------------------------------
def test_seats_at_or_above_what_is_booked_are_not_refused() -> None:
    bookings = {"EV-a": 4, "EV-b": 2}
    assert overbooking_refusal("JN-370100-2", SLOT, 6, bookings, frozenset()) is None
    assert overbooking_refusal("JN-370100-2", SLOT, 9, bookings, frozenset()) is None
    assert overbooking_refusal("JN-370100-2", SLOT, 0, {}, frozenset()) is None


def test_seats_below_what_is_booked_are_refused_with_the_bookings_counted() -> None:
    bookings = {"EV-b": 2, "EV-a": 4}
    refusal = overbooking_refusal("JN-370100-2", SLOT, 0, bookings, frozenset(bookings))
    assert refusal is not None
    assert (refusal.status, refusal.code) == (409, "seats_booked")
    assert "6 seats booked on 2031-06-16 PM by 2 evaluations" in refusal.message
    assert "EV-a (4 seats), EV-b (2 seats)" in refusal.message
    assert "at least 6" in refusal.message
    assert [(d.field, d.problem) for d in refusal.details] == [("seats", "0 offered, 6 booked")]


def test_only_the_evaluations_the_caller_may_see_are_named() -> None:
    bookings = {"EV-secret-1": 3, "EV-mine": 2, "EV-secret-2": 1}
    refusal = overbooking_refusal("DY-370500-1", SLOT, 5, bookings, frozenset({"EV-mine"}))
    assert refusal is not None
    assert "by 3 evaluations (EV-mine (2 seats), 2 other evaluations)" in refusal.message
    assert "secret" not in refusal.message
    hidden = overbooking_refusal("DY-370500-1", SLOT, 0, {"EV-x": 1}, frozenset())
    assert hidden is not None and "1 other evaluation)" in hidden.message
    assert "EV-x" not in hidden.message


# -- an evaluation request's size -----------------------------------------------------------------
def _request(**extra: Any) -> dict[str, Any]:
    return {
        "project_id": "P-1",
        "bid_section_code": "001",
        "slot": {"date": "2031-06-16", "half_day": "PM"},
        "committee_size": 5,
        "specialties": [{"specialty_code": "A01", "kind": "TECHNICAL", "count": 5}],
        "main_venue_id": "JN-370100-1",
        **extra,
    }


def _problems(body: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as refused:
        EvaluationCreate.model_validate(body)
    return [(str(e["loc"][0]), e["msg"]) for e in refused.value.errors()]


def test_the_reviewers_seventy_thousand_avoided_units_are_refused_by_the_schema() -> None:
    problems = _problems(_request(avoided_unit_codes=[CREDIT_CODE] * 70_000))
    assert problems == [
        (
            "avoided_unit_codes",
            f"List should have at most {MAX_AVOIDED_UNITS} items after validation, not 70000",
        )
    ]


@pytest.mark.parametrize(
    ("field", "item", "limit"),
    [
        ("avoided_unit_codes", CREDIT_CODE, MAX_AVOIDED_UNITS),
        ("preferred_partner_codes", "370300", MAX_PARTNER_CODES),
        ("required_partner_codes", "370300", MAX_PARTNER_CODES),
        (
            "specialties",
            {"specialty_code": "A01", "kind": "TECHNICAL", "count": 1},
            MAX_SPECIALTY_NEEDS,
        ),
    ],
)
def test_a_requests_lists_are_bounded(field: str, item: object, limit: int) -> None:
    EvaluationCreate.model_validate(_request(**{field: [item] * limit}))
    problems = _problems(_request(**{field: [item] * (limit + 1)}))
    assert [f for f, _ in problems] == [field]
    assert f"at most {limit} items" in problems[0][1]


def test_the_largest_request_the_schema_takes_fits_an_event() -> None:
    """At every bound at once, the request's event is still far below MAX_EVENT_BYTES: what the
    schema accepts, the log takes."""
    request = EvaluationRequest(
        evaluation_id="EV-" + "0" * 36,
        host_code="370100",
        project_id="P" * 64,
        bid_section_code="S" * 64,
        slot=SLOT,
        committee_size=99,
        needs=tuple(
            SpecialtyNeed(f"{n:020d}", ExpertKind.TECHNICAL, 1) for n in range(MAX_SPECIALTY_NEEDS)
        ),
        main_venue_id="V" * 64,
        preferred_partner_codes=tuple(f"{n:020d}" for n in range(MAX_PARTNER_CODES)),
        required_partner_codes=tuple(f"{n:020d}" for n in range(MAX_PARTNER_CODES)),
        avoided_unit_codes=frozenset(f"91370100{n:09d}X" for n in range(MAX_AVOIDED_UNITS)),
    )
    message = evaluation_requested(request, datetime.now(UTC))
    assert message.ByteSize() < MAX_EVENT_BYTES // 10


def _envelope(avoided: int) -> Envelope[remote_eval_pb2.EvaluationRequested]:
    message = remote_eval_pb2.EvaluationRequested(
        evaluation_id="EV-1", avoided_unit_codes=[CREDIT_CODE] * avoided
    )
    return Envelope(message=message, source="test", subject="EV-1", time=datetime.now(UTC))


def test_an_event_too_large_for_the_log_is_refused_413_not_left_to_the_broker() -> None:
    small = _envelope(10)
    assert publishable(small) is small
    with pytest.raises(ApiError) as refused:
        publishable(_envelope(70_000))
    assert (refused.value.status, refused.value.code) == (413, "event_too_large")
    assert f"at most {MAX_EVENT_BYTES} bytes" in refused.value.message


# -- the AsyncAPI document says what event ids are ------------------------------------------------
def test_the_asyncapi_document_does_not_promise_time_ordered_ids() -> None:
    channels = asyncapi_document()["channels"]
    descriptions = {
        channel: message["headers"]["properties"]["ce_id"]["description"]
        for channel, body in channels.items()
        for message in body["messages"].values()
    }
    assert descriptions
    for channel, text in descriptions.items():
        assert "UUIDv5" in text, channel
        assert text != "event id (UUIDv7)"
    scheduler_written = descriptions["partnerSeatRequests"]
    assert "UUIDv7" in scheduler_written and "do not sort" in scheduler_written
    assert "chosen by the partner" in descriptions["partnerAnswers"]
