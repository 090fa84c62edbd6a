"""Each line of a bulk import is checked on its own; good ones become events verbatim."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.intake.domain.large_amount import RecordRefused, SourceLevel, parse_record
from services.intake.event_codec import large_amount_record_event
from services.platform_core.events.proto_values import from_timestamp

PULLED_AT = datetime(2023, 7, 1, tzinfo=UTC)
LINE: dict[str, Any] = {
    "unified_deal_code": "SD-2022-000001",
    "name": "济南新旧动能转换起步区某道路工程",
    "category": "MUNICIPAL",
    "region_code": "370182",
    "tenderer_name": "济南城市建设集团有限公司",
    "tenderer_credit_code": "91110000600037341L",
    "amount_fen": 5_000_000_000,
    "deal_at": "2022-09-01T10:00:00+08:00",
}


def test_a_good_line_becomes_an_event_with_its_source_fields() -> None:
    record = parse_record(LINE, from_text=False, pulled_at=PULLED_AT)
    event = large_amount_record_event(
        record,
        occurred_at=datetime(2023, 7, 1, tzinfo=UTC),
        actor_department="JYZX",
        source_level=SourceLevel.CITY,
        import_batch_id="b1",
    )
    assert event.unified_deal_code == "SD-2022-000001"
    assert event.amount_fen == 5_000_000_000
    assert from_timestamp(event.deal_at) == datetime(2022, 9, 1, 2, 0, tzinfo=UTC)
    assert event.source_level == 2  # SOURCE_LEVEL_CITY
    assert event.source_fields["AMOUNT_FEN"] == "5000000000"
    assert event.tenderer.unified_social_credit_code == "91110000600037341L"
    assert not event.HasField("winner")


def test_csv_amounts_are_digits_and_json_amounts_are_integers() -> None:
    assert (
        parse_record({**LINE, "amount_fen": "12"}, from_text=True, pulled_at=PULLED_AT).amount_fen
        == 12
    )
    with pytest.raises(RecordRefused, match="integer"):
        parse_record({**LINE, "amount_fen": "12.5"}, from_text=True, pulled_at=PULLED_AT)
    with pytest.raises(RecordRefused, match="integer"):
        parse_record({**LINE, "amount_fen": "12"}, from_text=False, pulled_at=PULLED_AT)
    # Text that str.isdigit takes but int() refuses, or a doubled sign: refused, not a crash.
    for text in ("--5", "²", "١٢", "1_000"):
        with pytest.raises(RecordRefused, match="integer"):
            parse_record({**LINE, "amount_fen": text}, from_text=True, pulled_at=PULLED_AT)
    with pytest.raises(RecordRefused, match="integer"):
        parse_record({**LINE, "amount_fen": True}, from_text=False, pulled_at=PULLED_AT)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"tenderer_credit_code": "91110000600037341X"}, "not a unified social credit code"),
        ({"amount_fen": -1}, "zero or more"),
        ({"amount_fen": 10**15 + 1}, r"at most 1000000000000000 \(10万亿元\)"),
        ({"deal_at": "0001-01-01T00:00:00+08:00"}, "must fall between 2000 and 2100"),
        ({"deal_at": "9999-12-31T23:59:59-08:00"}, "must fall between 2000 and 2100"),
        ({"category": "BANANAS"}, "category 'BANANAS' is not one of"),
        ({"region_code": "110101"}, "unknown region"),
        ({"deal_at": "2022-09-01T10:00:00"}, "needs its UTC offset"),
        ({"deal_at": "yesterday"}, "not an ISO 8601 instant"),
        ({"unified_deal_code": "x"}, "6-64 letters"),
        ({"colour": "red"}, "unknown fields colour"),
        ({"name": ""}, "missing name"),
        ({"winner_credit_code": "91110000600037341L"}, "winner_name is required"),
    ],
)
def test_a_bad_line_is_refused_with_its_reason(change: dict[str, Any], reason: str) -> None:
    with pytest.raises(RecordRefused, match=reason):
        parse_record({**LINE, **change}, from_text=False, pulled_at=PULLED_AT)
