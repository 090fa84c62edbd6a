"""Deals (成交): a section's first ContractAwarded (中标) or TransactionCompleted, counted once,
with that event's amount; the platform's deal figures leave out the SOE property transfers
made off the platform, which stay in the SOE figure."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from google.protobuf.message import Message
from prt.v1 import common_pb2, intake_pb2

from services.platform_core.events.envelope import Envelope, decode_record, encode_envelope
from services.platform_core.events.proto_values import to_timestamp
from services.platform_core.events.topics import PROJECT_EVENTS
from services.platform_core.kafka.faust_worker import EventRejected
from services.reporting.dashboard import snapshot
from services.reporting.domain import facts
from services.reporting.domain.bulletin import Bulletin, Labels, compose_bulletin
from services.reporting.domain.catalogue import BY_KEY
from services.reporting.domain.metrics import state_key
from services.reporting.domain.periods import parse_period
from services.reporting.event_codec import fact_from_envelope
from tests.unit.reporting.factories import (
    awarded,
    completed,
    figure,
    fold,
    ledger_read_model,
    registered,
)

DEALS = "transactions_completed"
AMOUNT = "transaction_amount_fen"


# ── codec ──────────────────────────────────────────────────────────────────────────────────


def _through_the_topic(message: Message) -> Envelope[Message]:
    envelope: Envelope[Message] = Envelope(message=message, source="/tests", subject="p1")
    value, headers = encode_envelope(envelope)
    return decode_record(value, headers, PROJECT_EVENTS.message_types)


WHEN = datetime(2023, 3, 1, 2, 0, tzinfo=UTC)


def test_the_codec_turns_contract_awarded_into_a_fact() -> None:
    message = intake_pb2.ContractAwarded(
        project_id="p1",
        occurred_at=to_timestamp(WHEN),
        actor_department="ZJJ",
        bid_section_code="002",
        winner=common_pb2.OrganisationRef(
            name="中标单位", unified_social_credit_code="91110000600037341L"
        ),
        amount_fen=987_654,
    )
    envelope = _through_the_topic(message)
    assert fact_from_envelope(envelope) == facts.ContractAwardedFact(
        envelope.id, "p1", "ZJJ", WHEN, "002", 987_654
    )
    assert state_key(awarded("p1", "2023-03-01 10:00")) == "project:p1"
    with pytest.raises(EventRejected):
        fact_from_envelope(_through_the_topic(intake_pb2.ContractAwarded(project_id="p1")))


def test_the_codec_carries_the_section_a_transaction_completed() -> None:
    message = intake_pb2.TransactionCompleted(
        project_id="p1",
        occurred_at=to_timestamp(WHEN),
        actor_department="JYZX",
        bid_section_code="001",
        amount_fen=5,
        on_platform=True,
    )
    envelope = _through_the_topic(message)
    assert fact_from_envelope(envelope) == facts.TransactionCompletedFact(
        envelope.id, "p1", "JYZX", WHEN, 5, True, "001"
    )


# ── one deal per section ───────────────────────────────────────────────────────────────────


def test_a_tendered_section_ending_at_its_award_is_a_deal_on_the_platform() -> None:
    ledger = fold(
        registered("p1", "2023-02-01 09:00", "370102", "GOVERNMENT_PROCUREMENT"),
        awarded("p1", "2023-03-20 10:00", amount=4_200_000),
    )
    assert figure(ledger, DEALS, "2023-03", on_platform="true") == 1
    assert figure(ledger, DEALS, "2023-H1", category="GOVERNMENT_PROCUREMENT") == 1
    assert figure(ledger, DEALS, "2023-H1", region="370102") == 1
    assert figure(ledger, AMOUNT, "2023-H1", on_platform="true") == 4_200_000


@pytest.mark.parametrize("section", ["001", ""], ids=["the same section", "the whole project"])
def test_a_completion_after_the_award_is_the_same_deal(section: str) -> None:
    ledger = fold(
        registered("p1", "2023-02-01 09:00"),
        awarded("p1", "2023-06-30 10:00", amount=500, section="001"),
        completed("p1", "2023-07-03 10:00", amount=700, section=section),
    )
    assert figure(ledger, DEALS) == 1
    assert figure(ledger, AMOUNT) == 500  # the award's amount: the first event's
    assert figure(ledger, DEALS, "2023-H1") == 1  # in the award's period
    assert figure(ledger, DEALS, "2023-H2") == 0


def test_each_section_is_a_deal_of_its_own() -> None:
    ledger = fold(
        registered("p1", "2023-02-01 09:00"),
        awarded("p1", "2023-03-20 10:00", amount=100, section="001"),
        awarded("p1", "2023-03-21 10:00", amount=200, section="002"),
        completed("p1", "2023-03-25 10:00", amount=999, section="002"),
        completed("p1", "2023-03-26 10:00", amount=30, section="003"),
    )
    assert figure(ledger, DEALS, "2023-03") == 3
    assert figure(ledger, AMOUNT, "2023-03") == 330


def test_a_deal_of_the_whole_project_covers_its_sections() -> None:
    ledger = fold(
        registered("p1", "2023-02-01 09:00"),
        completed("p1", "2023-03-20 10:00", amount=100),
        awarded("p1", "2023-03-21 10:00", amount=200, section="001"),
    )
    assert figure(ledger, DEALS) == 1 and figure(ledger, AMOUNT) == 100


def test_a_project_concluded_without_an_award_is_counted_at_its_completion() -> None:
    ledger = fold(
        registered("a1", "2023-02-01 09:00", "370112", "ASSET_DISPOSAL"),
        completed("a1", "2023-04-02 10:00", amount=88),
        completed("a1", "2023-04-03 10:00", amount=88),  # stated again: the same deal
    )
    assert figure(ledger, DEALS, "2023-04", category="ASSET_DISPOSAL") == 1
    assert figure(ledger, AMOUNT, "2023-04") == 88


# ── on the platform or not ─────────────────────────────────────────────────────────────────


def _soe_and_rural_ledger() -> list[facts.Fact]:
    items: list[facts.Fact] = []
    for n in range(9):  # the bulletin: 9 SOE property transactions, of which 2 on the platform
        items.append(registered(f"s{n}", "2023-02-01 09:00", "370100", "SOE_PROPERTY_RIGHTS"))
        items.append(completed(f"s{n}", "2023-03-01 09:00", amount=1_000_000, on_platform=n < 2))
    items.append(registered("r1", "2023-02-01 09:00", "370117", "RURAL_COLLECTIVE_PROPERTY"))
    items.append(completed("r1", "2023-03-02 09:00", amount=3_000_000))
    items.append(registered("r2", "2023-02-01 09:00", "370116", "RURAL_COLLECTIVE_PROPERTY"))
    items.append(completed("r2", "2023-03-02 09:00", amount=5_000_000, on_platform=False))
    items.append(registered("h1", "2023-02-01 09:00", "370102", "HOUSING"))
    items.append(awarded("h1", "2023-03-03 09:00", amount=20_000_000))
    return items


def test_soe_transfers_off_the_platform_stay_in_the_soe_figure() -> None:
    ledger = fold(*_soe_and_rural_ledger())
    assert figure(ledger, "soe_property_transactions", "2023-H1") == 9
    assert figure(ledger, "soe_property_transactions", "2023-H1", on_platform="true") == 2
    assert figure(ledger, DEALS, "2023-H1", on_platform="false") == 8
    assert figure(ledger, DEALS, "2023-H1", on_platform="true") == 4  # 2 SOE, 1 rural, 1 award


def test_rural_collective_trades_are_those_made_through_the_platform() -> None:
    ledger = fold(*_soe_and_rural_ledger())
    assert figure(ledger, "rural_collective_trades", "2023-H1") == 1
    assert figure(ledger, "rural_collective_trades", "2023-H1", region="370116") == 0


def _bulletin(*items: facts.Fact) -> Bulletin:
    return compose_bulletin(
        fold(*items).figures(),
        parse_period("2023-H1"),
        Labels(regions={"370117": "钢城区"}),
        issuer="济南市公共资源交易管理工作联席会议办公室",
        document_number="济公管办〔2023〕16号",
        issued_on=date(2023, 8, 22),
        seal_note="",
    )


def _text(bulletin: Bulletin) -> str:
    return "".join(
        part if isinstance(part, str) else part.text
        for paragraph in bulletin.sections[2].paragraphs
        for part in paragraph.parts
    )


def test_the_bulletins_platform_deals_leave_out_trades_made_off_the_platform() -> None:
    bulletin = _bulletin(*_soe_and_rural_ledger())
    text = _text(bulletin)
    assert "完成企业国有产权交易9项,其中进场交易2项" in text
    assert "通过公共资源交易平台完成农村集体产权交易1例(钢城区1例)" in text
    # 2 SOE transfers on the platform (2.00万元), the rural trade (3.00万元), the award (20.00).
    assert "全市平台成交项目(标段)4个、成交金额25.00万元" in text
    assert "分交易类别:国有产权2个、房屋建筑1个、农村集体产权1个。" in text
    deals = [f for f in bulletin.figures if f.metric == DEALS]
    assert [f.source for f in deals] == [
        "transactions_completed|on_platform=true|period=2023-H1",
        "transactions_completed|category=SOE_PROPERTY_RIGHTS|on_platform=true|period=2023-H1",
        "transactions_completed|category=HOUSING|on_platform=true|period=2023-H1",
        "transactions_completed|category=RURAL_COLLECTIVE_PROPERTY|on_platform=true|period=2023-H1",
    ]
    assert deals[0].evidence == (
        "/v1/metrics/evidence?metric=transactions_completed&period=2023-H1&on_platform=true"
    )


def test_the_catalogue_names_awards_as_a_source_of_the_deal_figures() -> None:
    for metric in (DEALS, AMOUNT, "soe_property_transactions", "rural_collective_trades"):
        assert "prt.v1.ContractAwarded" in BY_KEY[metric].source_events
    assert ("category", "on_platform") in BY_KEY[DEALS].cuts  # the bulletin's listing


async def test_the_dashboard_shows_the_platforms_deals_as_the_bulletin_does() -> None:
    ledger = fold(*_soe_and_rural_ledger())
    data = await snapshot(ledger_read_model(ledger), Labels(), "2023-H1")
    # The bulletin's 全市平台成交: 4 deals, 25.00万元; the 8 transfers off the platform left out.
    assert data["totals"]["deals_on_platform"] == 4
    assert data["totals"]["deal_amount_on_platform_fen"] == 25_0000_00
    later = await snapshot(ledger_read_model(ledger), Labels(), "2023-H2")
    assert later["totals"]["deals_on_platform"] == 0
