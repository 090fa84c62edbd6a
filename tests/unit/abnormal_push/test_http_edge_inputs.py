"""Inputs abnormal push's HTTP edge must refuse with a reason rather than fail on: cursors that
are not routing times, datetimes no calendar holds; and what a department is not shown of the
detection status."""

from __future__ import annotations

import base64
from datetime import datetime

import pytest

from services.abnormal_push.http_api.detection import _names_a_sealed_committee
from services.abnormal_push.http_api.pushes import _check_list_bound
from services.abnormal_push.http_api.reports import _utc_act_at
from services.abnormal_push.read_model import PageCursor
from services.platform_core.http.errors import ApiError


def _cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "raw",
    [
        '[NaN,"x"]',
        '[Infinity,"x"]',
        '[-Infinity,"x"]',
        '[1e999,"x"]',
        f'[{"9" * 400},"x"]',  # an integer beyond any float
        '[true,"x"]',
        "[1.5,2]",
        '{"a":1,"b":2}',
    ],
)
def test_a_cursor_with_a_non_finite_or_ill_typed_value_is_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="not a cursor"):
        PageCursor.decode(_cursor(raw))


def test_an_integer_score_is_still_a_cursor() -> None:
    assert PageCursor.decode(_cursor('[1727661600,"p-1"]')) == PageCursor(1727661600.0, "p-1")


@pytest.mark.parametrize("edge", ["0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59-08:00"])
def test_an_act_at_with_no_utc_instant_is_refused_with_422(edge: str) -> None:
    with pytest.raises(ApiError) as refused:
        _utc_act_at(datetime.fromisoformat(edge))
    assert (refused.value.status, refused.value.code) == (422, "act_at_out_of_range")
    assert [d.field for d in refused.value.details] == ["act_at"]


def test_an_act_at_in_range_is_recorded_in_utc() -> None:
    assert _utc_act_at(datetime.fromisoformat("0001-01-01T08:00:00+08:00")).year == 1


def test_a_list_bound_the_index_cannot_score_is_refused_with_422() -> None:
    _check_list_bound("since", None)
    _check_list_bound("since", datetime.fromisoformat("0001-01-01T00:00:00+08:00"))
    try:
        datetime(1, 1, 1).timestamp()
    except (OverflowError, ValueError, OSError):
        with pytest.raises(ApiError) as refused:
            _check_list_bound("until", datetime(1, 1, 1))
        assert refused.value.status == 422 and refused.value.details[0].field == "until"


def test_a_not_applied_note_naming_a_held_no_show_is_recognised() -> None:
    held = [{"expert_pseudonym": "SUP-1A2B", "evaluation_id": "ev-9", "project_id": "p-1"}]
    named = {"rule_id": "PRT-EXP-001", "reason": "expert SUP-1A2B's no-show at evaluation ev-9"}
    other = {"rule_id": "R024", "reason": "the project names no tenderer"}
    assert _names_a_sealed_committee(named, held)
    assert not _names_a_sealed_committee(other, held)
    assert not _names_a_sealed_committee(named, [])
    blank = [{"expert_pseudonym": "", "evaluation_id": ""}]
    assert not _names_a_sealed_committee(other, blank)  # an empty marker names nothing
