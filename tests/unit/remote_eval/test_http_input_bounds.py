"""Remote evaluation's HTTP edge without a stack: the range of a slot's day and of a fee that a
request may give, and an expert registration's id made from the Idempotency-Key's seed."""

from __future__ import annotations

import re
from datetime import date
from typing import Any, cast

import pytest
from pydantic import ValidationError

from services.platform_core.auth.principals import Principal, PrincipalKind
from services.platform_core.events.envelope import Envelope
from services.platform_core.events.ids import ids_from_seed, new_event_id
from services.platform_core.http.idempotency import StoredResponse
from services.platform_core.money import MAX_AMOUNT_FEN
from services.remote_eval.domain.model import Expert
from services.remote_eval.http_api.experts import add_expert
from services.remote_eval.http_api.schemas import (
    EARLIEST_SLOT,
    LATEST_SLOT,
    CapacityCreate,
    EvaluationCreate,
    ExpertCreate,
    SlotBody,
)
from services.remote_eval.sealed_registry import ExpertIdentity

RANGE = "slot dates run from 2015-01-01 to 2100-12-31"


def _evaluation(day: str) -> dict[str, Any]:
    return {
        "project_id": "P-1",
        "bid_section_code": "001",
        "slot": {"date": day, "half_day": "AM"},
        "committee_size": 5,
        "specialties": [{"specialty_code": "A01", "kind": "TECHNICAL", "count": 5}],
        "main_venue_id": "JN-370113-1",
    }


def _capacity(day: str = "2031-03-04", fee_fen: int = 20_000) -> dict[str, Any]:
    return {"slot": {"date": day, "half_day": "PM"}, "seats": 6, "fee_fen": fee_fen}


def _expert(**extra: Any) -> dict[str, Any]:
    return {
        "pool_code": "370113",
        "kind": "TECHNICAL",
        "specialties": ["A01"],
        "employer_code": "91110000600037341L",
        "name": "张三",
        "phone": "13800000000",
        "id_number": "11010519491231002X",
        **extra,
    }


def test_the_slot_range_is_the_one_the_stream_side_shares() -> None:
    assert (date(2015, 1, 1), date(2100, 12, 31)) == (EARLIEST_SLOT, LATEST_SLOT)


@pytest.mark.parametrize("day", ["0001-01-01", "2014-12-31", "2101-01-01", "9999-12-31"])
def test_a_slot_outside_the_range_is_refused_naming_the_range(day: str) -> None:
    for model, body in (
        (EvaluationCreate, _evaluation(day)),
        (CapacityCreate, _capacity(day)),
        (ExpertCreate, _expert(unavailable_slots=[{"date": day, "half_day": "AM"}])),
    ):
        with pytest.raises(ValidationError, match=f"{RANGE}, not {day}"):
            model.model_validate(body)


@pytest.mark.parametrize("day", ["2015-01-01", "2023-03-01", "2100-12-31"])
def test_a_slot_inside_the_range_is_taken(day: str) -> None:
    assert EvaluationCreate.model_validate(_evaluation(day)).slot.date == date.fromisoformat(day)
    assert CapacityCreate.model_validate(_capacity(day)).slot.date == date.fromisoformat(day)


def test_an_answer_echoes_a_stored_slot_outside_the_range() -> None:
    """Answers are built from what the store holds, which may predate the range: never a 500."""
    assert SlotBody.model_validate({"date": "7575-06-01", "half_day": "PM"}).date.year == 7575


def test_a_fee_above_the_platforms_ceiling_is_refused() -> None:
    assert CapacityCreate.model_validate(_capacity(fee_fen=MAX_AMOUNT_FEN)).fee_fen == 10**15
    for fee in (MAX_AMOUNT_FEN + 1, 2**63):
        with pytest.raises(ValidationError, match="less than or equal to 1000000000000000"):
            CapacityCreate.model_validate(_capacity(fee_fen=fee))
    with pytest.raises(ValidationError, match="greater than or equal to 0"):
        CapacityCreate.model_validate(_capacity(fee_fen=-1))


class _Publisher:
    def __init__(self) -> None:
        self.sent: list[tuple[str, Envelope[Any]]] = []

    async def publish(self, topic: object, envelope: Envelope[Any], key: str) -> None:
        self.sent.append((key, envelope))


class _Registry:
    def __init__(self) -> None:
        self.added: list[str] = []

    def seal(self, expert: Expert, identity: ExpertIdentity) -> str:
        return f"sealed:{expert.expert_id}"

    async def add_sealed(self, expert: Expert, sealed: str) -> None:
        self.added.append(expert.expert_id)


class _CrashRetry:
    """The Idempotency-Key store after a crash: the first run reached the log and died before
    its outcome was stored; the retry runs the action again under the same seed."""

    def __init__(self) -> None:
        self.seed = new_event_id()
        self.answers: list[dict[str, Any]] = []

    async def run(self, scope: str, key: str | None, body: Any, action: Any) -> object:
        for _ in range(2):
            with ids_from_seed(self.seed):
                stored: StoredResponse = await action()
            self.answers.append(stored.body)
        return self.answers[-1]


async def test_a_registration_run_again_after_a_crash_registers_the_same_expert() -> None:
    publisher, registry, idempotency = _Publisher(), _Registry(), _CrashRetry()
    context = cast(Any, type("Context", (), {}))()
    context.publisher, context.registry, context.idempotency = publisher, registry, idempotency
    operator = Principal("k1", PrincipalKind.OPERATOR, "ops", "运维")
    body = ExpertCreate.model_validate(_expert())

    await add_expert(body, operator, context, idempotency_key="retry-1")

    first, second = idempotency.answers
    assert first["expert_id"] == second["expert_id"]
    assert re.fullmatch(r"X-[0-9a-f]{16}", first["expert_id"])
    assert registry.added == [first["expert_id"]] * 2  # the same entry, written again
    # One event, twice on the log under the same key and event id: consumers drop the copy.
    assert len({(key, envelope.id) for key, envelope in publisher.sent}) == 1

    # Another request (another seed) is another expert.
    idempotency.seed = new_event_id()
    await add_expert(body, operator, context, idempotency_key="retry-2")
    assert idempotency.answers[-1]["expert_id"] != first["expert_id"]
