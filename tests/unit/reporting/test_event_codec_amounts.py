"""A money amount past the platform's ceiling is rejected when reporting decodes the event (and
so dead-lettered by the worker), before it can come near a counter's 64 bits."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from google.protobuf.message import Message
from prt.v1 import common_pb2, intake_pb2

from services.platform_core.events.envelope import Envelope
from services.platform_core.events.proto_values import to_timestamp
from services.platform_core.kafka.faust_worker import EventRejected
from services.platform_core.money import MAX_AMOUNT_FEN
from services.reporting.domain.facts import LargeAmountRecordImportedFact, ProjectRegisteredFact
from services.reporting.event_codec import fact_from_envelope

_AT = to_timestamp(datetime(2023, 3, 1, 1, tzinfo=UTC))


def _large_amount(amount_fen: int) -> intake_pb2.LargeAmountRecordImported:
    return intake_pb2.LargeAmountRecordImported(
        unified_deal_code="D-1",
        occurred_at=_AT,
        actor_department="SJ",
        source_level=intake_pb2.SOURCE_LEVEL_CITY,
        region_code="370102",
        category=common_pb2.PROJECT_CATEGORY_HOUSING,
        amount_fen=amount_fen,
    )


def _registration(budget_fen: int) -> intake_pb2.ProjectRegistered:
    return intake_pb2.ProjectRegistered(
        project_id="P-1",
        occurred_at=_AT,
        actor_department="ZJJ",
        category=common_pb2.PROJECT_CATEGORY_HOUSING,
        region_code="370102",
        budget_fen=budget_fen,
    )


def _amounted(amount: int) -> list[Message]:
    """Every event reporting reads a money amount from, with that amount."""
    return [
        _large_amount(amount),
        _registration(amount),
        intake_pb2.ContractAwarded(
            project_id="P-1", occurred_at=_AT, bid_section_code="001", amount_fen=amount
        ),
        intake_pb2.TransactionCompleted(project_id="P-1", occurred_at=_AT, amount_fen=amount),
        intake_pb2.DepositWaived(
            project_id="P-1",
            occurred_at=_AT,
            kind=intake_pb2.DEPOSIT_RELIEF_KIND_WAIVED,
            amount_saved_fen=amount,
        ),
        intake_pb2.HistoricalDepositRefunded(project_id="P-1", occurred_at=_AT, amount_fen=amount),
    ]


def _envelope(message: Message) -> Envelope[Message]:
    return Envelope(message=message, source="/tests", subject="P-1")


@pytest.mark.parametrize("amount", [2**63 - 1, MAX_AMOUNT_FEN + 1, -(2**63), -MAX_AMOUNT_FEN - 1])
def test_an_amount_beyond_the_ceiling_is_rejected(amount: int) -> None:
    for message in _amounted(amount):
        with pytest.raises(EventRejected, match="ceiling"):
            fact_from_envelope(_envelope(message))


def test_an_amount_at_the_ceiling_is_counted() -> None:
    for message in _amounted(MAX_AMOUNT_FEN):
        assert fact_from_envelope(_envelope(message)) is not None
    fact = fact_from_envelope(_envelope(_large_amount(MAX_AMOUNT_FEN)))
    assert isinstance(fact, LargeAmountRecordImportedFact)
    assert fact.amount_fen == MAX_AMOUNT_FEN
    registration = fact_from_envelope(_envelope(_registration(MAX_AMOUNT_FEN)))
    assert isinstance(registration, ProjectRegisteredFact)
    assert registration.budget_fen == MAX_AMOUNT_FEN
