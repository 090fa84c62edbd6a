"""Pushes resolved (已办结) with the measure taken, and pushes in hand (立案): abnormal push keeps
a push SIGNED_FOR after a CASE_FILED feedback and closes it (FEEDBACK_GIVEN) with the feedback
giving the measure (处罚, 约谈, 移送有关机关, 不予处理); a transfer (移送) closes it unresolved.
Reporting counts the same, once per push, in the period the push was routed. (That reporting
reaches abnormal push's verdict on random push histories is checked in
test_push_transferred.py.)"""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from docx import Document
from google.protobuf.message import Message
from prt.v1 import abnormal_push_pb2

from services.abnormal_push.domain.pushes import HandlingResult
from services.platform_core.events.envelope import Envelope, decode_record, encode_envelope
from services.platform_core.events.proto_values import to_timestamp
from services.platform_core.events.topics import ABNORMAL_PUSHES
from services.reporting.bulletin_render import to_docx, to_markdown
from services.reporting.dashboard import push_board, snapshot
from services.reporting.domain import facts
from services.reporting.domain.bulletin import MEASURE_ZH, Labels
from services.reporting.domain.catalogue import BY_KEY
from services.reporting.domain.ledger import Ledger
from services.reporting.domain.metrics import (
    OPEN_PUSHES,
    RESOLVING_RESULTS,
    Contribution,
    CounterKey,
    contribute,
    subtracted_cell,
)
from services.reporting.event_codec import fact_from_envelope
from tests.unit.reporting.event_mix import mix_facts
from tests.unit.reporting.factories import (
    bulletin_text,
    fed_back,
    figure,
    fold,
    half_year_bulletin,
    ledger_read_model,
    routed,
    signed,
    transferred,
)

RESOLVED = "pushes_resolved"
IN_HAND = "pushes_in_hand"
FED_BACK = "pushes_fed_back"
ROUTED_AT = "2023-03-01 09:00"
SIGNED_AT = "2023-03-02 09:00"


def _handled(push: str, *results: str, department: str = "ZJJ") -> list[facts.Fact]:
    """A push routed to ``department``, signed for, and fed back ``results`` a day apart."""
    return [
        routed(push, ROUTED_AT, department=department),
        signed(push, SIGNED_AT),
        *(fed_back(push, f"2023-03-{5 + n:02d} 09:00", result) for n, result in enumerate(results)),
    ]


# ── catalogue and codec ────────────────────────────────────────────────────────────────────


def test_the_catalogue_breaks_resolved_pushes_down_by_measure() -> None:
    resolved = BY_KEY[RESOLVED]
    assert resolved.dimensions == ("department", "measure")
    assert ("measure",) in resolved.cuts and ("department", "measure") in resolved.cuts
    assert "prt.v1.PushFeedbackGiven" in resolved.source_events
    # A transfer takes a push out of those in hand.
    assert "prt.v1.PushTransferred" in BY_KEY[IN_HAND].source_events
    # The measures are abnormal push's, all but 立案; the bulletin names each.
    assert {r.value for r in HandlingResult} - {"CASE_FILED"} == RESOLVING_RESULTS
    assert set(MEASURE_ZH) == RESOLVING_RESULTS


@pytest.mark.parametrize("result", list(HandlingResult))
def test_the_codec_carries_the_handling_result(result: HandlingResult) -> None:
    message = abnormal_push_pb2.PushFeedbackGiven(
        push_id="u1",
        occurred_at=to_timestamp(datetime(2023, 3, 5, 1, 0, tzinfo=UTC)),
        actor_department="ZJJ",
        result=f"HANDLING_RESULT_{result.value}",
        result_text="结果",
    )
    envelope: Envelope[Message] = Envelope(message=message, source="/tests", subject="u1")
    value, headers = encode_envelope(envelope)
    fact = fact_from_envelope(decode_record(value, headers, ABNORMAL_PUSHES.message_types))
    assert isinstance(fact, facts.PushFeedbackGivenFact)
    assert fact.result == result.value


# ── the rules ──────────────────────────────────────────────────────────────────────────────


def test_a_case_filed_alone_is_in_hand_not_resolved() -> None:
    ledger = fold(*_handled("u1", "CASE_FILED"))
    assert figure(ledger, FED_BACK, "2023-03") == 1  # it meets the feedback deadline
    assert figure(ledger, RESOLVED, "2023-03") == 0
    assert figure(ledger, IN_HAND, "2023-03", department="ZJJ") == 1
    assert ledger.indexes[OPEN_PUSHES] == {"u1"}  # still waiting for the measure


def test_a_case_filed_then_penalised_is_resolved_once_as_penalised() -> None:
    ledger = fold(*_handled("u1", "CASE_FILED", "CASE_FILED", "PENALISED"))
    assert figure(ledger, RESOLVED, "2023-03") == 1
    assert figure(ledger, RESOLVED, "2023-03", measure="PENALISED") == 1
    assert figure(ledger, RESOLVED, "2023-03", department="ZJJ", measure="PENALISED") == 1
    for other in ("INTERVIEWED", "REFERRED", "NO_ACTION"):
        assert figure(ledger, RESOLVED, "2023-03", measure=other) == 0
    assert figure(ledger, IN_HAND, "2023-03") == 0  # in hand once (two 立案), out at the measure
    assert figure(ledger, FED_BACK, "2023-03") == 1
    assert ledger.states["push:u1"]["measure"] == "PENALISED"
    assert ledger.indexes[OPEN_PUSHES] == set()


@pytest.mark.parametrize("measure", sorted(RESOLVING_RESULTS))
def test_a_measure_straight_away_resolves_the_push_by_that_measure(measure: str) -> None:
    ledger = fold(*_handled("u1", measure))
    assert figure(ledger, RESOLVED, "2023-H1", measure=measure) == 1
    assert figure(ledger, RESOLVED, "2023-H1") == 1
    assert figure(ledger, IN_HAND, "2023-H1") == 0


def test_a_second_measure_counts_nothing() -> None:
    # Abnormal push refuses any feedback on a push resolved (FEEDBACK_GIVEN).
    ledger = fold(*_handled("u1", "NO_ACTION"))
    before = ledger.figures()
    for late in (
        fed_back("u1", "2023-03-09 09:00"),
        fed_back("u1", "2023-03-09 10:00", "CASE_FILED"),
    ):
        assert contribute(late, ledger.states["push:u1"]) == Contribution()
        ledger.apply(late)
    assert ledger.figures() == before
    assert figure(ledger, RESOLVED, measure="NO_ACTION") == 1
    assert figure(ledger, RESOLVED, measure="PENALISED") == 0


def test_a_transferred_push_is_not_resolved_the_receiving_departments_push_is() -> None:
    ledger = fold(
        routed("u1", ROUTED_AT),
        signed("u1", SIGNED_AT),
        transferred("u1", "2023-03-03 09:00", to="JTJ"),
        routed("u1-JTJ", "2023-03-03 09:00", department="JTJ"),
        signed("u1-JTJ", "2023-03-04 09:00"),
        fed_back("u1-JTJ", "2023-03-06 09:00", "INTERVIEWED"),
    )
    assert figure(ledger, RESOLVED, "2023-03", department="ZJJ") == 0
    assert figure(ledger, RESOLVED, "2023-03", department="JTJ", measure="INTERVIEWED") == 1
    assert figure(ledger, RESOLVED, "2023-03") == 1  # one report, resolved once
    assert figure(ledger, FED_BACK, "2023-03", department="ZJJ") == 1  # the transfer meets it


def test_a_case_filed_then_transferred_leaves_the_cases_in_hand_unresolved() -> None:
    ledger = fold(*_handled("u1", "CASE_FILED"), transferred("u1", "2023-03-06 09:00"))
    assert figure(ledger, IN_HAND, "2023-03") == 0
    assert figure(ledger, RESOLVED, "2023-03") == 0
    # And nothing more counts on it: abnormal push refuses feedback on a transferred push.
    late = fed_back("u1", "2023-03-07 09:00", "PENALISED")
    assert contribute(late, ledger.states["push:u1"]) == Contribution()


def test_a_copy_is_never_resolved_nor_in_hand() -> None:
    ledger = fold(
        routed("u1", ROUTED_AT, role="COPY"),
        fed_back("u1", "2023-03-05 09:00", "CASE_FILED"),
        fed_back("u1", "2023-03-06 09:00", "PENALISED"),
    )
    assert figure(ledger, RESOLVED) == 0 and figure(ledger, IN_HAND) == 0


def test_a_replayed_event_counts_once_and_is_the_evidence() -> None:
    history = _handled("u1", "CASE_FILED", "REFERRED")
    case_filed, measure = history[-2], history[-1]
    ledger = fold(*history, case_filed, measure, *history)
    assert figure(ledger, RESOLVED, "2023-H1") == 1
    assert figure(ledger, RESOLVED, "2023-H1", measure="REFERRED") == 1
    assert figure(ledger, IN_HAND, "2023-H1") == 0
    cell = CounterKey(
        RESOLVED, (("department", "ZJJ"), ("measure", "REFERRED"), ("period", "2023-03"))
    )
    assert ledger.evidence[cell.encode()] == {measure.event_id}
    # In hand at the 立案, out at the measure: both events moved the figure, one up, one down.
    in_hand = CounterKey(IN_HAND, (("department", "ZJJ"), ("period", "2023-03")))
    assert ledger.evidence[in_hand.encode()] == {case_filed.event_id}
    assert ledger.evidence[subtracted_cell(in_hand).encode()] == {measure.event_id}


def test_resolutions_count_in_the_period_the_push_was_routed() -> None:
    ledger = fold(
        routed("u1", "2023-06-30 09:00"),
        signed("u1", "2023-07-03 09:00"),
        fed_back("u1", "2023-07-05 09:00", "CASE_FILED"),
        routed("u2", "2023-06-30 10:00", department="CZJ"),
        signed("u2", "2023-07-03 09:00"),
        fed_back("u2", "2023-07-05 09:00", "CASE_FILED"),
        fed_back("u2", "2023-08-01 09:00", "PENALISED"),
    )
    for period in ("2023-06", "2023-Q2", "2023-H1", "2023"):
        assert figure(ledger, RESOLVED, period, department="CZJ", measure="PENALISED") == 1
        assert figure(ledger, IN_HAND, period) == 1  # u1
        assert figure(ledger, IN_HAND, period, department="ZJJ") == 1
    for period in ("2023-07", "2023-08", "2023-H2"):
        assert figure(ledger, RESOLVED, period) == 0
        assert figure(ledger, IN_HAND, period) == 0
    assert figure(ledger, RESOLVED) == 1  # all time


def test_the_mix_the_live_fold_and_the_recompute_are_compared_on_has_both() -> None:
    """The synthetic mix of the integration tests resolves pushes after a case filed, and
    leaves some in hand: the figures equal a direct count over its feedback."""
    ledger = Ledger()
    last_result: dict[str, str] = {}
    case_filed: set[str] = set()
    handlers: set[str] = set()
    for fact in mix_facts():
        ledger.apply(fact)
        if isinstance(fact, facts.PushRoutedFact) and fact.role == "HANDLER":
            handlers.add(fact.push_id)
        elif isinstance(fact, facts.PushFeedbackGivenFact) and fact.push_id in handlers:
            last_result[fact.push_id] = fact.result
            if fact.result == "CASE_FILED":
                case_filed.add(fact.push_id)
        elif isinstance(fact, facts.PushTransferredFact):
            last_result.pop(fact.push_id, None)  # the mix transfers before any feedback
    resolved = [p for p, result in last_result.items() if result in RESOLVING_RESULTS]
    in_hand = [p for p, result in last_result.items() if result == "CASE_FILED"]
    assert figure(ledger, RESOLVED) == len(resolved)
    assert figure(ledger, IN_HAND) == len(in_hand) > 0
    assert len(case_filed & set(resolved)) > 10  # in hand first, then resolved
    for measure in RESOLVING_RESULTS:
        expected = sum(last_result[p] == measure for p in resolved)
        assert figure(ledger, RESOLVED, measure=measure) == expected > 0


# ── the bulletin ───────────────────────────────────────────────────────────────────────────


def _resolved_mix() -> list[facts.Fact]:
    return [
        *_handled("u1", "CASE_FILED", "PENALISED"),
        *_handled("u2", "PENALISED"),
        *_handled("u3", "NO_ACTION", department="CZJ"),
        *_handled("u4", "CASE_FILED"),  # in hand: not resolved
        routed("u5", ROUTED_AT),
        transferred("u5", "2023-03-02 09:00"),  # transferred: not resolved
    ]


def test_the_bulletin_says_how_many_pushes_were_resolved_and_by_which_measures() -> None:
    text = bulletin_text(half_year_bulletin(*_resolved_mix()))
    # 约谈 and 移送有关机关 were not taken: not named.
    assert "已办结3次(其中处罚2次、不予处理1次),超期" in text
    assert "约谈" not in text and "移送有关机关" not in text


def test_the_bulletin_says_nothing_of_resolutions_when_there_are_none() -> None:
    text = bulletin_text(half_year_bulletin(*_handled("u1", "CASE_FILED"), routed("u2", ROUTED_AT)))
    assert "已办结" not in text and "处罚" not in text
    assert "按时反馈率50.0%,超期" in text  # u1's 立案 on time; u2 not fed back


def test_every_measure_named_reads_its_own_counter() -> None:
    bulletin = half_year_bulletin(
        *_resolved_mix(), *_handled("u6", "INTERVIEWED"), *_handled("u7", "REFERRED")
    )
    text = bulletin_text(bulletin)
    assert "已办结5次(其中处罚2次、约谈1次、移送有关机关1次、不予处理1次)" in text
    resolved = [f for f in bulletin.figures if f.metric == RESOLVED]
    assert [(f.raw, f.source) for f in resolved] == [
        ("5", "pushes_resolved|period=2023-H1"),
        ("2", "pushes_resolved|measure=PENALISED|period=2023-H1"),
        ("1", "pushes_resolved|measure=INTERVIEWED|period=2023-H1"),
        ("1", "pushes_resolved|measure=REFERRED|period=2023-H1"),
        ("1", "pushes_resolved|measure=NO_ACTION|period=2023-H1"),
    ]
    assert resolved[1].evidence == (
        "/v1/metrics/evidence?metric=pushes_resolved&period=2023-H1&measure=PENALISED"
    )


def test_the_rendered_bulletins_carry_the_resolutions_and_their_sources() -> None:
    bulletin = half_year_bulletin(*_resolved_mix())
    markdown = to_markdown(bulletin, "2023年上半年")
    assert "已办结3次[^" in markdown and "处罚2次[^" in markdown
    assert "pushes_resolved = 2 (`pushes_resolved|measure=PENALISED|period=2023-H1`" in markdown
    document = Document(io.BytesIO(to_docx(bulletin, "2023年上半年")))
    body = "".join(paragraph.text for paragraph in document.paragraphs)
    assert "已办结3次[" in body and "处罚2次[" in body  # each figure footnoted
    rows = [[cell.text for cell in row.cells] for row in document.tables[0].rows]
    by_source = {row[3]: row for row in rows[1:]}
    assert by_source["pushes_resolved|measure=NO_ACTION|period=2023-H1"][1:3] == [RESOLVED, "1"]


# ── the dashboard ──────────────────────────────────────────────────────────────────────────


async def test_the_dashboard_shows_the_pushes_resolved_and_their_measures() -> None:
    ledger = fold(*_resolved_mix())
    data = await snapshot(ledger_read_model(ledger), Labels(), "2023-H1")
    assert data["totals"]["pushes_resolved"] == 3
    assert data["pushes_resolved_by_measure"] == [
        {"code": "PENALISED", "name": "处罚", "value": 2},
        {"code": "INTERVIEWED", "name": "约谈", "value": 0},
        {"code": "REFERRED", "name": "移送有关机关", "value": 0},
        {"code": "NO_ACTION", "name": "不予处理", "value": 1},
    ]
    elsewhere = await snapshot(ledger_read_model(ledger), Labels(), "2023-H2")  # routed in H1
    assert elsewhere["totals"]["pushes_resolved"] == 0


async def test_the_board_shows_a_case_filed_as_in_hand_with_nothing_due() -> None:
    # 立案 met the feedback deadline (abnormal push: Push.met_at), so the push is not late
    # though its 2023 feedback due has passed; a push merely signed for is.
    ledger = fold(*_handled("u1", "CASE_FILED"), *_handled("u2"))
    board = {
        entry["push_id"]: entry for entry in await push_board(ledger_read_model(ledger), Labels())
    }
    assert (board["u1"]["status"], board["u1"]["due"], board["u1"]["overdue"]) == (
        "已立案",
        None,
        False,
    )
    assert (board["u2"]["status"], board["u2"]["overdue"]) == ("待处理", True)
    ledger.apply(fed_back("u1", "2023-03-20 09:00", "PENALISED"))
    assert "u1" not in {
        entry["push_id"] for entry in await push_board(ledger_read_model(ledger), Labels())
    }
