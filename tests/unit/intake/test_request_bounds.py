"""What one request may carry (services/intake/http_api/schemas.py): the largest body the bounds
allow still makes an event consumers accept, and an event too large for them is refused (413)
before it is published, never accepted here and dead-lettered by the worker."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from google.protobuf.message import Message
from pydantic import ValidationError

from services.intake import event_codec
from services.intake.http_api import schemas
from services.intake.http_api.projects import built, publishable
from services.platform_core.events.envelope import MAX_EVENT_BYTES, Envelope
from services.platform_core.http.errors import ApiError
from services.platform_core.money import MAX_AMOUNT_FEN

NOW = datetime(2023, 5, 4, 2, 0, tzinfo=UTC)
CODE = "91110000600037341L"
LONGEST_NAME = "证" * schemas.NAME_MAX  # 3 bytes a character in UTF-8
EVIDENCE = schemas.EvidenceIn(sha256="a" * 64, location="d" * 500, media_type="m" * 255)


def _size(message: Message) -> int:
    envelope = Envelope(message=message, source="/test", subject="p1")
    return publishable(envelope).message.ByteSize()


def test_the_largest_supplement_fits_an_event() -> None:
    body = schemas.SupplementCreate(
        supplemented_documents=[LONGEST_NAME] * schemas.MAX_DOCUMENTS,
        documents=[EVIDENCE] * schemas.MAX_DOCUMENTS,
    )
    assert _size(event_codec.documents_supplemented("p1", "ZJJ", NOW, body)) < MAX_EVENT_BYTES


def test_the_largest_evaluation_fits_an_event() -> None:
    ruled_out = schemas.DisqualificationIn(bidder_code=CODE, reason="由" * schemas.REASON_MAX)
    body = schemas.EvaluationCreate(
        bid_section_code="0" * schemas.CODE_MAX,
        evaluation_id="e" * schemas.CODE_MAX,
        disqualifications=[ruled_out] * schemas.MAX_PARTIES,
        report=EVIDENCE,
    )
    assert _size(event_codec.evaluation_completed("p1", "ZJJ", NOW, body)) < MAX_EVENT_BYTES


def test_an_event_too_large_for_consumers_is_refused_with_the_limit() -> None:
    # Past the schema (model_construct skips validation): the route's own measure still holds.
    body = schemas.SupplementCreate.model_construct(
        occurred_at=None, supplemented_documents=["证"], documents=[EVIDENCE] * 1770
    )
    message = event_codec.documents_supplemented("p1", "ZJJ", NOW, body)
    with pytest.raises(ApiError) as refused:
        publishable(Envelope(message=message, source="/test", subject="p1"))
    assert refused.value.status == 413
    assert refused.value.code == "event_too_large"
    assert str(MAX_EVENT_BYTES) in refused.value.message


@pytest.mark.parametrize(
    "body",
    [
        {"supplemented_documents": ["证"] * (schemas.MAX_DOCUMENTS + 1)},
        {"supplemented_documents": ["证" * (schemas.NAME_MAX + 1)]},
        {"supplemented_documents": ["证"], "documents": [EVIDENCE.model_dump()] * 101},
    ],
)
def test_a_supplement_beyond_the_bounds_is_invalid(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        schemas.SupplementCreate.model_validate(body)


def test_amounts_stop_at_the_ceiling_and_instants_at_the_span() -> None:
    party = {"name": "某公司", "credit_code": CODE}
    schemas.AwardCreate(bid_section_code="001", winner=party, amount_fen=MAX_AMOUNT_FEN)
    with pytest.raises(ValidationError, match="10万亿元"):
        schemas.AwardCreate(bid_section_code="001", winner=party, amount_fen=MAX_AMOUNT_FEN + 1)
    for instant in (
        "0001-01-01T00:00:00+08:00",
        "9999-12-31T23:59:59-08:00",
        "2014-12-31T23:59:59+08:00",
    ):
        with pytest.raises(ValidationError, match="between 2015-01-01 and 2100-12-31"):
            schemas.HistoricalRefundCreate.model_validate(
                {"payee": party, "amount_fen": 1, "paid_at": instant}
            )


def test_a_value_its_event_cannot_carry_is_422_not_500() -> None:
    body = schemas.TransactionCreate.model_construct(
        occurred_at=None,
        bid_section_code="",
        counterparty=schemas.PartyIn(name="某公司", credit_code=CODE),
        amount_fen=2**63,
        on_platform=True,
    )
    with pytest.raises(ApiError) as refused:
        built(event_codec.transaction_completed, "p1", "ZJJ", NOW, body)
    assert (refused.value.status, refused.value.code) == (422, "value_out_of_range")
