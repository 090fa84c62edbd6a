"""Well-formed events with impossible values are rejected (dead-lettered), never a crash.

A plain ValueError from a conversion used to escape the apply function: Faust restarted the
agent, which read the same record again, for ever (found on a test stack holding a
registration whose 容缺 deadline was 0000-00-00)."""

from __future__ import annotations

import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from prt.v1 import common_pb2, intake_pb2

from services.intake.event_codec import fact_from_envelope, view_from_registered
from services.platform_core.errors import EventRejected, ImpossibleEventValue
from services.platform_core.events.envelope import Envelope
from services.platform_core.events.proto_values import enum_member, from_timestamp


def test_a_timestamp_outside_years_1_to_9999_is_rejected() -> None:
    with pytest.raises(ImpossibleEventValue, match="-10000000000000s is not an instant"):
        from_timestamp(Timestamp(seconds=-(10**13)))
    assert from_timestamp(Timestamp(seconds=0)).year == 1970


def test_an_unknown_enum_number_is_rejected_and_still_a_value_error() -> None:
    with pytest.raises(
        ImpossibleEventValue, match=r"999 is not a value of prt\.v1\.ProjectCategory"
    ):
        enum_member(common_pb2.ProjectCategory.DESCRIPTOR, 999)
    with pytest.raises(ValueError):  # callers that convert under `except ValueError` still do
        enum_member(common_pb2.ProjectCategory.DESCRIPTOR, 999)


def _registered() -> intake_pb2.ProjectRegistered:
    message = intake_pb2.ProjectRegistered(
        project_id="p-1", region_code="370113", category=common_pb2.PROJECT_CATEGORY_HOUSING
    )
    message.occurred_at.seconds = 1_680_000_000
    return message


def test_a_registration_whose_supplement_deadline_is_no_date_is_rejected() -> None:
    message = _registered()
    message.deficiency_acceptance.missing_documents.append("营业执照副本")
    # deficiency_acceptance.supplement_deadline left 0000-00-00
    with pytest.raises(EventRejected, match="0000-00-00 is not a date"):
        view_from_registered(message)


def test_a_lifecycle_event_with_an_impossible_time_is_rejected() -> None:
    message = intake_pb2.AnnouncementPublished(project_id="p-1")
    message.occurred_at.seconds = 10**15
    envelope = Envelope(message=message, source="/tests", subject="p-1")
    with pytest.raises(EventRejected, match="is not an instant"):
        fact_from_envelope(envelope)
