"""The fault suite's own yardstick: the error-format check refuses what it should."""

from __future__ import annotations

from tests.support.faults import error_format_problem

JSON = "application/json"


def test_the_shared_error_format_passes() -> None:
    body = b'{"code":"invalid_request","message":"bad","details":[{"field":"a","problem":"b"}]}'
    assert error_format_problem(422, JSON, body) is None


def test_other_refusal_bodies_are_caught() -> None:
    assert error_format_problem(404, "text/plain", b"Not Found") is not None
    assert error_format_problem(422, JSON, b'{"detail":[{"loc":["body"]}]}') is not None
    assert error_format_problem(400, JSON, b'{"code":"x","message":"","details":[]}') is not None
    assert error_format_problem(400, JSON, b'{"code":"x","message":"m","details":[1]}') is not None
    assert error_format_problem(400, JSON, b"[]") is not None
