"""What detection raised, by rule, and overdue pushes escalated (升级督办), by tier: through the
codec, into the figures, the bulletin's supervision section and the dashboard."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from google.protobuf.message import Message
from prt.v1 import abnormal_push_pb2

from services.platform_core.events.envelope import Envelope, decode_record, encode_envelope
from services.platform_core.events.proto_values import to_timestamp
from services.platform_core.events.topics import ABNORMAL_PUSHES, ABNORMAL_REPORTS
from services.platform_core.kafka.faust_worker import EventRejected
from services.reporting.dashboard import push_board, snapshot
from services.reporting.domain import facts
from services.reporting.domain.bulletin import Labels, rule_label
from services.reporting.domain.ledger import Ledger
from services.reporting.domain.metrics import CounterKey, state_key
from services.reporting.event_codec import fact_from_envelope
from tests.unit.reporting.event_mix import mix_facts
from tests.unit.reporting.factories import (
    at,
    bulletin_text,
    event_id,
    figure,
    fold,
    half_year_bulletin,
    ledger_read_model,
    routed,
)

ESCALATED = "pushes_escalated"
DETECTED = "detected_signals"
R018 = "公开招标仅一家投标人 (single bidder in an open procedure, OCP red flag R018)"
FP = "同一投标文件指纹出现在不同投标人 (same bid-file fingerprint)"


def filed(
    source: str = "DETECTED", rule: str = "", name: str = "", when: str = "2023-04-01 09:00"
) -> facts.AbnormalReportFiledFact:
    return facts.AbnormalReportFiledFact(
        event_id(), event_id(), "JYZX", at(when), source, "COLLUSION_SAME_PREPARER", rule, name
    )


def escalated(
    push: str, when: str, to: str, level: int, deadline: str = "SIGN_FOR"
) -> facts.PushEscalatedFact:
    return facts.PushEscalatedFact(event_id(), push, at(when), deadline, to, level)


def _through_the_topic(message: Message, key: str, topic: Any) -> Envelope[Message]:
    envelope: Envelope[Message] = Envelope(message=message, source="/tests", subject=key)
    value, headers = encode_envelope(envelope)
    return decode_record(value, headers, topic.message_types)


# ── codec ──────────────────────────────────────────────────────────────────────────────────


def test_the_codec_turns_push_escalated_into_a_fact() -> None:
    message = abnormal_push_pb2.PushEscalated(
        push_id="u1",
        occurred_at=to_timestamp(datetime(2023, 3, 4, 1, 0, tzinfo=UTC)),
        deadline=abnormal_push_pb2.PUSH_DEADLINE_FEEDBACK,
        to_department="FGW",
        level=2,
    )
    envelope = _through_the_topic(message, "u1", ABNORMAL_PUSHES)
    fact = fact_from_envelope(envelope)
    assert fact == facts.PushEscalatedFact(
        envelope.id, "u1", datetime(2023, 3, 4, 1, 0, tzinfo=UTC), "FEEDBACK", "FGW", 2
    )
    assert state_key(fact) == "push:u1"
    with pytest.raises(EventRejected):  # no time: it cannot be placed in a period
        fact_from_envelope(
            _through_the_topic(abnormal_push_pb2.PushEscalated(push_id="u1"), "u1", ABNORMAL_PUSHES)
        )


def test_the_codec_keeps_the_rule_of_a_detected_report() -> None:
    message = abnormal_push_pb2.AbnormalReportFiled(
        report_id="r1",
        occurred_at=to_timestamp(datetime(2023, 4, 1, 1, 0, tzinfo=UTC)),
        actor_department="JYZX",
        source=abnormal_push_pb2.REPORT_SOURCE_DETECTED,
        behaviour_type=abnormal_push_pb2.BEHAVIOUR_TYPE_DISCRIMINATORY_TERMS,
        detection=abnormal_push_pb2.Detection(rule_id="R018", rule_name=R018),
    )
    fact = fact_from_envelope(_through_the_topic(message, "r1", ABNORMAL_REPORTS))
    assert isinstance(fact, facts.AbnormalReportFiledFact)
    assert (fact.source, fact.rule_id, fact.rule_name) == ("DETECTED", "R018", R018)


# ── figures ────────────────────────────────────────────────────────────────────────────────


def test_detected_signals_count_detected_reports_by_rule_and_manual_ones_not_at_all() -> None:
    ledger = fold(
        filed(rule="R018", name=R018),
        filed(rule="R018", name=R018),
        filed(rule="PRT-FP-001", name=FP),
        filed("MANUAL"),
        filed(rule="R018", name=R018, when="2023-07-01 09:00"),
    )
    assert figure(ledger, "abnormal_reports", "2023-H1") == 4
    assert figure(ledger, DETECTED, "2023-H1") == 3
    assert figure(ledger, DETECTED, "2023-H1", rule="R018") == 2
    assert figure(ledger, DETECTED, "2023-H1", rule="R018", rule_name=R018) == 2
    assert figure(ledger, DETECTED, "2023-H1", rule="PRT-FP-001") == 1
    assert figure(ledger, DETECTED, "2023-H2", rule="R018") == 1
    assert figure(ledger, DETECTED) == 4  # all time


def test_escalations_count_once_per_push_and_level_in_the_routing_period() -> None:
    ledger = fold(
        # A district branch's push: to its city department first, then to the office.
        routed("u1", "2023-06-29 09:00", department="ZJJ-CQ"),
        escalated("u1", "2023-07-04 09:00", "ZJJ", 1),
        escalated("u1", "2023-07-04 09:00", "ZJJ", 1),  # published again, another id
        escalated("u1", "2023-07-12 09:00", "FGW", 2, "FEEDBACK"),
        # A city department's push: straight to the office.
        routed("u2", "2023-03-01 09:00", department="CZJ"),
        escalated("u2", "2023-03-06 09:00", "FGW", 1),
    )
    # Counted where the push was routed (June and March), though escalated in July.
    assert figure(ledger, ESCALATED, "2023-H1") == 3
    assert figure(ledger, ESCALATED, "2023-H2") == 0
    assert figure(ledger, ESCALATED, "2023-06", to_department="ZJJ") == 1
    assert figure(ledger, ESCALATED, "2023-H1", to_department="FGW") == 2
    assert figure(ledger, ESCALATED, "2023-H1", level="1") == 2
    assert figure(ledger, ESCALATED, "2023-H1", level="2", to_department="FGW") == 1
    assert figure(ledger, ESCALATED, "2023-H1", department="ZJJ-CQ") == 2
    assert figure(ledger, ESCALATED, "2023-H1", deadline="FEEDBACK") == 1
    assert ledger.states["push:u1"]["escalated_levels"] == [1, 2]
    # The evidence of the branch's first escalation is the event that made it.
    cell = CounterKey(
        ESCALATED,
        (
            ("level", "1"),
            ("to_department", "ZJJ"),
            ("department", "ZJJ-CQ"),
            ("deadline", "SIGN_FOR"),
            ("period", "2023-06"),
        ),
    )
    assert len(ledger.evidence[cell.encode()]) == 1


def test_the_mix_escalates_and_names_rules_and_the_figures_equal_a_direct_count() -> None:
    """The synthetic mix the live fold and the recompute are compared on escalates overdue
    pushes (some levels twice) and names detected reports' rules: the figures equal a direct
    count over its events."""
    ledger = Ledger()
    levels: set[tuple[str, int]] = set()
    published = 0
    rules: dict[str, int] = {}
    for fact in mix_facts():
        ledger.apply(fact)
        if isinstance(fact, facts.PushEscalatedFact):
            published += 1
            levels.add((fact.push_id, fact.level))
        elif isinstance(fact, facts.AbnormalReportFiledFact) and fact.source == "DETECTED":
            rules[fact.rule_id] = rules.get(fact.rule_id, 0) + 1
    assert published > len(levels) > 20  # some twice, counted once
    assert figure(ledger, ESCALATED) == len(levels)
    assert figure(ledger, ESCALATED, level="2") == sum(level == 2 for _, level in levels) > 0
    assert len(rules) == 3
    for rule, count in rules.items():
        assert figure(ledger, DETECTED, rule=rule) == count


# ── the bulletin ───────────────────────────────────────────────────────────────────────────


def test_rule_labels_keep_the_chinese_name_and_the_id() -> None:
    assert rule_label("R018", R018) == "公开招标仅一家投标人(R018)"
    assert rule_label("PRT-X", "") == "PRT-X"
    # Detected reports whose event named no rule (or no name) count under UNKNOWN.
    assert rule_label("R018", "UNKNOWN") == "R018"
    assert rule_label("UNKNOWN", "UNKNOWN") == "未注明规则"
    assert figure(fold(filed()), DETECTED, rule="UNKNOWN", rule_name="UNKNOWN") == 1


def test_the_bulletin_names_detections_by_rule_and_escalations_by_tier() -> None:
    labels = Labels(departments={"ZJJ": "市住房城乡建设局", "FGW": "市发展改革委"})
    text = bulletin_text(
        half_year_bulletin(
            filed(rule="R018", name=R018),
            filed(rule="R018", name=R018),
            filed(rule="PRT-FP-001", name=FP),
            routed("u1", "2023-03-01 09:00", department="ZJJ-CQ"),
            escalated("u1", "2023-03-04 09:00", "ZJJ", 1),
            escalated("u1", "2023-03-12 09:00", "FGW", 2),
            routed("u2", "2023-03-01 09:00", department="CZJ"),
            escalated("u2", "2023-03-06 09:00", "FGW", 1),
            labels=labels,
        )
    )
    assert (
        ";系统自动监测预警按规则:公开招标仅一家投标人(R018)2条、"
        "同一投标文件指纹出现在不同投标人(PRT-FP-001)1条。"
    ) in text
    assert "(其中升级督办3次:市发展改革委2次、市住房城乡建设局1次)" in text


def test_the_bulletin_says_nothing_of_detections_or_escalations_when_there_are_none() -> None:
    text = bulletin_text(half_year_bulletin(filed("MANUAL"), routed("u1", "2023-03-01 09:00")))
    assert "监测预警按规则" not in text
    assert "升级督办" not in text


# ── the dashboard ──────────────────────────────────────────────────────────────────────────


async def test_the_dashboard_shows_detections_by_rule_and_escalations_by_tier() -> None:
    ledger = fold(
        filed(rule="PRT-FP-001", name=FP),
        filed(rule="R018", name=R018),
        filed(rule="R018", name=R018),
        routed("u1", "2023-03-01 09:00", department="ZJJ-CQ"),
        escalated("u1", "2023-03-04 09:00", "ZJJ", 1),
        escalated("u1", "2023-03-12 09:00", "FGW", 2),
    )
    model = ledger_read_model(ledger)
    data = await snapshot(model, Labels(departments={"ZJJ": "市住房城乡建设局"}), "2023-H1")
    assert data["totals"]["detected_signals"] == 3
    assert data["detected_signals_by_rule"] == [
        {"code": "R018", "name": "公开招标仅一家投标人(R018)", "value": 2},
        {"code": "PRT-FP-001", "name": "同一投标文件指纹出现在不同投标人(PRT-FP-001)", "value": 1},
    ]
    assert data["totals"]["pushes_escalated"] == 2
    assert data["pushes_escalated_by_target"] == [
        {"code": "ZJJ", "name": "市住房城乡建设局", "level": 1, "value": 1},
        {"code": "FGW", "name": "FGW", "level": 2, "value": 1},
    ]
    later = await snapshot(model, Labels(), "2023-H2")
    assert (later["totals"]["detected_signals"], later["pushes_escalated_by_target"]) == (0, [])


async def test_the_push_board_says_what_was_pushed_and_who_found_it() -> None:
    detected = replace(filed("DETECTED", "PRT-FP-001", FP), report_id="r1")  # routed() uses r1
    reported = replace(filed("MANUAL"), report_id="r2")
    ledger = fold(
        detected,
        reported,
        routed("u1", "2023-03-01 09:00"),
        replace(routed("u2", "2023-03-01 10:00"), report_id="r2"),
        replace(routed("u3", "2023-03-01 11:00"), report_id="r-unseen"),
    )
    board = {
        entry["push_id"]: (entry["behaviour"], entry["source"], entry["rule"])
        for entry in await push_board(ledger_read_model(ledger), Labels())
    }
    assert board == {
        "u1": ("投标文件由同一单位或个人编制", "系统自动监测", "PRT-FP-001"),
        "u2": ("投标文件由同一单位或个人编制", "部门报送", ""),
        "u3": ("", "", ""),  # its report not seen (yet): the page says so
    }
