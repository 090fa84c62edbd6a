"""The service's pure edges: event codec round trips, sealing, pseudonyms, settings, AsyncAPI."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime

import pytest
from cryptography.exceptions import InvalidTag

from services.platform_core.errors import SettingsError
from services.platform_core.settings import PlatformSettings, SecretName
from services.remote_eval import event_codec
from services.remote_eval.domain.model import ExpertKind, HalfDay, Slot, SpecialtyNeed
from services.remote_eval.domain.pseudonyms import draw_seed, expert_pseudonym
from services.remote_eval.domain.solver import Alternative, FailedConstraint, Infeasible
from services.remote_eval.http_api.asyncapi import asyncapi_document
from services.remote_eval.sealed_registry import (
    ExpertIdentity,
    IdentitySeal,
    expert_from_json,
    expert_to_json,
)
from services.remote_eval.store import EvaluationState, request_from_json, request_to_json
from tests.unit.remote_eval.fixtures import SLOT, pool, request

KEY = base64.b64encode(bytes(range(32))).decode()


def test_evaluation_requested_round_trips_through_protobuf() -> None:
    original = request(
        main_venue_experts=2,
        preferred_partner_codes=("370300",),
        required_partner_codes=("370500",),
        avoided_unit_codes=frozenset({"91110000600037341L"}),
    )
    message = event_codec.evaluation_requested(original, datetime.now(UTC))
    decoded = event_codec.request_from(type(message).FromString(message.SerializeToString()))
    assert decoded == original
    assert request_from_json(request_to_json(original)) == original


def test_an_unset_split_stays_unset_and_a_slot_without_half_day_is_refused() -> None:
    message = event_codec.evaluation_requested(request(), datetime.now(UTC))
    assert event_codec.request_from(message).main_venue_experts is None
    message.slot.half_day = 0  # type: ignore[assignment]
    with pytest.raises(event_codec.UnreadableEvent, match="no half day"):
        event_codec.request_from(message)


def test_scheduling_failed_carries_constraint_detail_and_alternative() -> None:
    failure = Infeasible(
        FailedConstraint.SEATS,
        "main venue X has 0 free seats",
        Alternative(SLOT.shifted(1), (), "later"),
    )
    message = event_codec.scheduling_failed("EV-1", datetime.now(UTC), failure)
    assert message.failed_constraint == 2  # SCHEDULING_CONSTRAINT_SEATS
    assert message.nearest_alternative.description == "later"
    assert event_codec.slot_from(message.nearest_alternative.slot) == Slot(
        date(2026, 3, 10), HalfDay.PM
    )


def test_identities_are_sealed_and_bound_to_their_expert() -> None:
    seal = IdentitySeal(KEY)
    identity = ExpertIdentity("张三", "13900000000", "370102197001010011")
    sealed = seal.seal("X-1", identity)
    assert "张三" not in sealed and "370102197001010011" not in base64.b64decode(sealed).decode(
        "latin-1"
    )
    assert seal.open("X-1", sealed) == identity
    with pytest.raises(InvalidTag):
        seal.open("X-2", sealed)  # moved to another expert: refused
    with pytest.raises(InvalidTag):
        IdentitySeal(base64.b64encode(bytes(32)).decode()).open("X-1", sealed)


def test_a_bad_key_is_refused() -> None:
    with pytest.raises(SettingsError, match="32 bytes"):
        IdentitySeal(base64.b64encode(b"short").decode())


def test_production_refuses_the_development_secrets_where_they_are_used() -> None:
    # Settings without remote_eval's secrets are fine for a process that does not use them.
    unset = PlatformSettings(environment="production")
    secrets: list[tuple[SecretName, str]] = [
        ("api_key_pepper", "PRT_API_KEY_PEPPER"),
        ("remote_eval_identity_key", "PRT_REMOTE_EVAL_IDENTITY_KEY"),
        ("remote_eval_draw_secret", "PRT_REMOTE_EVAL_DRAW_SECRET"),
    ]
    for name, variable in secrets:
        with pytest.raises(SettingsError, match=f"{variable} still has its development default"):
            unset.secret(name)
    real = PlatformSettings(
        environment="production",
        api_key_pepper="a-real-pepper-of-at-least-32-characters",
        remote_eval_identity_key=KEY,
        remote_eval_draw_secret="a-real-draw-secret-of-32-characters-or-more",
    )
    assert real.secret("remote_eval_identity_key") == KEY
    assert real.secret("remote_eval_draw_secret") == "a-real-draw-secret-of-32-characters-or-more"
    assert real.secret("api_key_pepper") == "a-real-pepper-of-at-least-32-characters"
    # Outside production the development defaults serve local runs and tests.
    assert PlatformSettings(environment="test").secret("api_key_pepper")


def test_pseudonyms_differ_per_evaluation_and_seeds_per_event() -> None:
    assert expert_pseudonym("s", "EV-1", "X-1") == expert_pseudonym("s", "EV-1", "X-1")
    assert expert_pseudonym("s", "EV-1", "X-1") != expert_pseudonym("s", "EV-2", "X-1")
    assert "X-1" not in expert_pseudonym("s", "EV-1", "X-1")
    assert draw_seed("s", "e1") != draw_seed("s", "e2") != draw_seed("t", "e1")


def test_expert_attributes_round_trip_without_identity() -> None:
    expert = pool("370300", 1)[0]
    data = expert_to_json(expert)
    assert expert_from_json(data) == expert
    assert set(data) == {
        "expert_id",
        "pool_code",
        "kind",
        "specialties",
        "employer_code",
        "unavailable",
        "active",
    }


def test_evaluation_state_round_trips() -> None:
    state = EvaluationState(request=request(needs=(SpecialtyNeed("A01", ExpertKind.TECHNICAL, 5),)))
    assert EvaluationState.from_json(state.to_json()).to_json() == state.to_json()


def test_the_asyncapi_document_is_generated_from_the_registry() -> None:
    document = asyncapi_document()
    channel = document["channels"]["partnerAnswers"]
    assert channel["address"] == "partner.{partnerCode}.answers.v1"
    assert set(channel["messages"]) == {
        "PartnerVenueDecision",
        "ExpertConfirmed",
        "ExpertDeclined",
        "ExpertNoShow",
    }
    drawn = document["channels"]["partnerSeatRequests"]["messages"]["ExpertDrawn"]["payload"]
    assignment = drawn["properties"]["assignment"]["properties"]
    assert "expert_pseudonym" in assignment and "name" not in assignment
    assert assignment["kind"]["enum"][1] == "EXPERT_KIND_TECHNICAL"
    # Partners reach the brokers over TLS (as kafka.sh --secure and production serve them).
    assert document["servers"]["partners"]["protocol"] == "kafka-secure"


@pytest.mark.parametrize("day", ["9999-01-01", "9999-12-31"])
def test_a_slot_at_the_calendars_end_is_refused(day: str) -> None:
    from pydantic import ValidationError

    from services.remote_eval.http_api.schemas import CapacityCreate

    def capacity(day: str) -> CapacityCreate:
        body = {"slot": {"date": day, "half_day": "AM"}, "seats": 1, "fee_fen": 1}
        return CapacityCreate.model_validate(body)

    with pytest.raises(ValidationError, match="slot dates run from 2015-01-01 to 2100-12-31"):
        capacity(day)
    for fine in ("2023-03-01", "2100-12-31"):  # history, and the far future load tests use
        assert capacity(fine).slot.to_slot().day == date.fromisoformat(fine)


def test_backfilled_flag_and_availability_round_trip_through_protobuf() -> None:
    message = event_codec.evaluation_requested(
        request(), datetime(2023, 3, 1, tzinfo=UTC), backfilled=True
    )
    assert message.backfilled
    assert not event_codec.evaluation_requested(request(), datetime.now(UTC)).backfilled
    marked = event_codec.availability_set(
        "X-1", "370300", [date(2023, 3, 2), date(2023, 3, 1)], datetime.now(UTC)
    )
    assert [event_codec.date_from(d) for d in marked.unavailable_dates] == [
        date(2023, 3, 1),
        date(2023, 3, 2),
    ]


@pytest.mark.parametrize("year", [1, 2014, 2101, 9999])
def test_a_slot_beyond_the_range_on_a_stream_is_unreadable_not_a_crash(year: int) -> None:
    message = event_codec.evaluation_requested(request(), datetime.now(UTC))
    message.slot.date.year = year
    with pytest.raises(event_codec.UnreadableEvent, match="outside 2015-01-01 to 2100-12-31"):
        event_codec.request_from(message)
