"""Every metric of the catalogue, computed from hand-made events with hand-computed results."""

from __future__ import annotations

import re
from pathlib import Path

from services.reporting.domain import facts
from services.reporting.domain.catalogue import BY_KEY, CATALOGUE
from services.reporting.domain.figures import distribution, histogram_of, ratio
from services.reporting.domain.metrics import OPEN_PUSHES, CounterKey
from tests.unit.reporting.factories import (
    announced,
    at,
    completed,
    event_id,
    figure,
    fold,
    registered,
    routed,
)


def test_registrations_count_and_amount_by_region_category_department_and_period() -> None:
    ledger = fold(
        registered("p1", "2023-01-05 10:00", "370113", "HOUSING", 500, "ZJJ"),
        registered("p2", "2023-04-01 00:30", "370113", "WATER", 300, "SWJ"),
        registered("p3", "2023-07-01 08:00", "370115", "HOUSING", 7, "ZJJ"),
    )
    assert figure(ledger, "registrations") == 3
    assert figure(ledger, "registrations", "2023-H1") == 2
    assert figure(ledger, "registrations", "2023-Q2", region="370113") == 1
    assert figure(ledger, "registrations", "2023-01", category="HOUSING") == 1
    assert figure(ledger, "registrations", "2023", department="ZJJ") == 2
    assert figure(ledger, "registrations", None, region="370113", category="HOUSING") == 1
    assert figure(ledger, "registered_amount_fen", "2023-H1") == 800
    assert figure(ledger, "registered_amount_fen", "2023-H2", region="370115") == 7


def test_key_project_green_channel_and_deficiency_registrations() -> None:
    ledger = fold(
        registered("p1", "2023-02-01 09:00", key_project=True, green_channel=True),
        registered("p2", "2023-02-02 09:00", key_project=True, deficiency_accepted=True),
        registered("p3", "2023-02-03 09:00", region="370115", deficiency_accepted=True),
    )
    assert figure(ledger, "key_project_registrations", "2023-H1") == 2
    assert figure(ledger, "green_channel_registrations", "2023-H1", region="370113") == 1
    assert figure(ledger, "deficiency_registrations", "2023-Q1") == 2
    assert figure(ledger, "deficiency_registrations", "2023-Q1", region="370115") == 1


def test_deficiency_breaches_take_the_projects_region_and_department() -> None:
    ledger = fold(
        registered("p1", "2023-02-01 09:00", region="370117", department="NYNCJ"),
        facts.DeficiencyDeadlineBreachedFact(event_id(), "p1", at("2023-02-20 00:05")),
    )
    assert figure(ledger, "deficiency_breaches", "2023-02", region="370117") == 1
    assert figure(ledger, "deficiency_breaches", "2023-H1", department="NYNCJ") == 1


def test_tender_documents_pre_published() -> None:
    ledger = fold(
        registered("p1", "2023-03-01 09:00", region="370102"),
        facts.TenderDocumentPrePublishedFact(event_id(), "p1", "JYZX", at("2023-03-02 09:00")),
        facts.TenderDocumentPrePublishedFact(event_id(), "p9", "JYZX", at("2023-03-02 09:00")),
    )
    assert figure(ledger, "tender_documents_pre_published", "2023-H1") == 2
    assert figure(ledger, "tender_documents_pre_published", "2023-H1", region="370102") == 1
    # A project reporting never saw registered is still counted, under UNKNOWN.
    assert figure(ledger, "tender_documents_pre_published", "2023-H1", region="UNKNOWN") == 1


def test_deposits_waived_amount_saved_and_historical_deposits_refunded() -> None:
    ledger = fold(
        registered("p1", "2023-03-01 09:00", region="370112"),
        facts.DepositWaivedFact(event_id(), "p1", "JYZX", at("2023-03-05 09:00"), "WAIVED", 20_000),
        facts.DepositWaivedFact(event_id(), "p1", "JYZX", at("2023-03-06 09:00"), "REDUCED", 5_000),
        facts.HistoricalDepositRefundedFact(event_id(), "old-1", "JYZX", at("2023-05-06"), 70_000),
        facts.HistoricalDepositRefundedFact(event_id(), "old-2", "JYZX", at("2023-08-06"), 1_000),
    )
    assert figure(ledger, "deposits_waived", "2023-H1") == 2
    assert figure(ledger, "deposit_amount_saved_fen", "2023-H1") == 25_000
    assert figure(ledger, "deposit_amount_saved_fen", "2023-H1", relief_kind="WAIVED") == 20_000
    assert figure(ledger, "deposit_amount_saved_fen", "2023-H1", region="370112") == 25_000
    assert figure(ledger, "historical_deposits_refunded", "2023-H1") == 1
    assert figure(ledger, "historical_deposit_refunded_fen", "2023") == 71_000


def test_large_amount_records_count_each_deal_once_by_source_level() -> None:
    def imported(code: str, level: str, amount: int) -> facts.LargeAmountRecordImportedFact:
        return facts.LargeAmountRecordImportedFact(
            event_id(), code, "FGW", at("2023-03-01 10:00"), level, "370100", "HOUSING", amount
        )

    ledger = fold(
        imported("D1", "PROVINCIAL", 100),
        imported("D2", "CITY", 200),
        imported("D3", "COUNTY", 300),
        imported("D3", "COUNTY", 300),  # re-imported: the same deal code
    )
    assert figure(ledger, "large_amount_records", "2023-H1") == 3
    assert figure(ledger, "large_amount_records", "2023-H1", source_level="COUNTY") == 1
    assert figure(ledger, "large_amount_record_amount_fen", "2023-H1") == 600


def test_soe_property_rural_collective_and_emission_trades() -> None:
    ledger = fold(
        registered("s1", "2023-01-10 09:00", "370100", "SOE_PROPERTY_RIGHTS"),
        registered("s2", "2023-01-11 09:00", "370100", "SOE_PROPERTY_RIGHTS"),
        registered("s3", "2023-01-12 09:00", "370100", "SOE_PROPERTY_RIGHTS"),
        registered("r1", "2023-02-01 09:00", "370117", "RURAL_COLLECTIVE_PROPERTY"),
        registered("m1", "2023-02-01 09:00", "370116", "EMISSION_RIGHTS"),
        completed("s1", "2023-03-01 10:00", on_platform=True),
        completed("s2", "2023-03-01 10:00", on_platform=False),
        completed("s3", "2023-03-02 10:00", on_platform=False),
        completed("r1", "2023-05-02 10:00", amount=360),
        completed("m1", "2023-06-02 10:00", amount=50),
    )
    assert figure(ledger, "soe_property_transactions", "2023-H1") == 3
    assert figure(ledger, "soe_property_transactions", "2023-H1", on_platform="true") == 1
    assert figure(ledger, "rural_collective_trades", "2023-H1", region="370117") == 1
    assert figure(ledger, "emission_rights_trades", "2023-Q2") == 1
    assert figure(ledger, "transactions_completed", "2023-H1") == 5
    assert figure(
        ledger, "transaction_amount_fen", "2023-H1", category="RURAL_COLLECTIVE_PROPERTY"
    ) == (360)


def test_days_from_registration_to_announcement_median_and_p90() -> None:
    # Days on China's calendar: 23:30 on 1 March to 00:10 on 2 March is 1 day.
    ledger = fold(
        registered("p1", "2023-03-01 23:30"),
        registered("p2", "2023-03-01 09:00"),
        registered("p3", "2023-03-01 09:00"),
        registered("p4", "2023-03-01 09:00", region="370115"),
        announced("p1", "2023-03-02 00:10"),  # 1
        announced("p2", "2023-03-04 09:00"),  # 3
        announced("p2", "2023-03-20 09:00"),  # a second announcement: not a new value
        announced("p3", "2023-03-11 09:00"),  # 10
        announced("p4", "2023-03-06 09:00"),  # 5
    )
    definition = BY_KEY["registration_to_announcement_days"]
    histogram = histogram_of(ledger.figures(), definition, "2023-H1")
    assert histogram == {1: 1, 3: 1, 5: 1, 10: 1}
    stats = distribution(histogram)
    assert (stats.count, stats.median, stats.p90) == (4, 3.0, 10.0)
    region = histogram_of(ledger.figures(), definition, "2023-H1", {"region": "370113"})
    assert region == {1: 1, 3: 1, 10: 1}


def test_abnormal_reports_by_type_and_source() -> None:
    def filed(source: str, behaviour: str) -> facts.AbnormalReportFiledFact:
        return facts.AbnormalReportFiledFact(
            event_id(), event_id(), "JYZX", at("2023-04-01 09:00"), source, behaviour
        )

    ledger = fold(
        filed("MANUAL", "FALSE_MATERIALS"),
        filed("DETECTED", "COLLUSION_SAME_PREPARER"),
        filed("DETECTED", "COLLUSION_SAME_PREPARER"),
    )
    assert figure(ledger, "abnormal_reports", "2023-H1") == 3
    assert figure(ledger, "abnormal_reports", "2023-H1", source="DETECTED") == 2
    assert figure(ledger, "abnormal_reports", "2023-H1", behaviour_type="FALSE_MATERIALS") == 1


def test_pushes_sign_for_rate_on_time_feedback_and_overdue() -> None:
    ledger = fold(
        routed("u1", "2023-03-01 09:00"),
        routed("u2", "2023-03-01 09:00"),
        routed("u3", "2023-03-01 09:00", department="CZJ"),
        routed("u4", "2023-03-01 09:00", department="FGW", role="COPY"),
        facts.PushSignedForFact(event_id(), "u1", at("2023-03-02 09:00")),
        facts.PushSignedForFact(event_id(), "u1", at("2023-03-02 10:00")),  # signed once
        facts.PushSignedForFact(event_id(), "u2", at("2023-03-06 09:00")),
        facts.PushSignedForFact(event_id(), "u4", at("2023-03-02 09:00")),  # a copy: no rate
        facts.PushFeedbackGivenFact(event_id(), "u1", at("2023-03-08 09:00"), "CASE_FILED"),
        facts.PushFeedbackGivenFact(event_id(), "u1", at("2023-03-20 09:00"), "PENALISED"),
        facts.PushFeedbackGivenFact(event_id(), "u2", at("2023-03-12 09:00"), "NO_ACTION"),
        facts.PushOverdueFact(event_id(), "u3", at("2023-03-04 00:00"), "SIGN_FOR", "CZJ"),
        # Counted in the routing period (March), though it became overdue in April.
        facts.PushOverdueFact(event_id(), "u2", at("2023-04-01 00:00"), "FEEDBACK", "ZJJ"),
    )
    assert figure(ledger, "pushes_routed", "2023-03") == 4
    assert figure(ledger, "pushes_routed", "2023-03", role="COPY") == 1
    assert figure(ledger, "pushes_to_handle", "2023-03") == 3
    assert figure(ledger, "pushes_signed_for", "2023-03") == 2
    assert figure(ledger, "pushes_fed_back", "2023-03") == 2
    assert figure(ledger, "pushes_fed_back_on_time", "2023-03") == 1  # u1 by 10 March; u2 late
    assert figure(ledger, "pushes_overdue", "2023-03") == 2
    assert figure(ledger, "pushes_overdue", "2023-Q1", department="CZJ") == 1
    missed = "push_deadlines_overdue"
    assert figure(ledger, missed, "2023-Q1", deadline="SIGN_FOR", department="ZJJ") == 0
    assert figure(ledger, missed, "2023-Q1", deadline="SIGN_FOR") == 1
    assert figure(ledger, missed, "2023-Q1", deadline="FEEDBACK", department="ZJJ") == 1
    signed = figure(ledger, "pushes_signed_for", "2023-H1")
    assert ratio(signed, figure(ledger, "pushes_to_handle", "2023-H1")) == 2 / 3
    assert ratio(figure(ledger, "pushes_signed_for", "2023-H1", department="CZJ"), 1) == 0
    # The deadline board: u1 and u2 resolved, u3 still open, u4 a copy.
    assert ledger.indexes[OPEN_PUSHES] == {"u3"}


def test_an_overdue_judged_after_the_step_was_done_in_time_is_void() -> None:
    """The deadline watch reads a read model that may lag the topic: a sign-for done in time
    but not yet applied there is judged overdue (and escalated). Abnormal push folds those
    events as void; so does reporting. A deadline told overdue twice counts once."""
    ledger = fold(
        routed("v1", "2023-03-01 09:00"),
        facts.PushSignedForFact(event_id(), "v1", at("2023-03-02 09:00")),
        facts.PushOverdueFact(event_id(), "v1", at("2023-03-04 00:00"), "SIGN_FOR", "ZJJ"),
        facts.PushEscalatedFact(event_id(), "v1", at("2023-03-04 00:00"), "SIGN_FOR", "FGW", 1),
        routed("v2", "2023-03-01 09:00"),
        facts.PushOverdueFact(event_id(), "v2", at("2023-03-04 00:00"), "SIGN_FOR", "ZJJ"),
        facts.PushOverdueFact(event_id(), "v2", at("2023-03-04 00:01"), "SIGN_FOR", "ZJJ"),
        facts.PushEscalatedFact(event_id(), "v2", at("2023-03-04 00:00"), "SIGN_FOR", "FGW", 1),
        # Signed for late: the overdue stands.
        facts.PushSignedForFact(event_id(), "v2", at("2023-03-09 09:00")),
    )
    assert figure(ledger, "pushes_overdue", "2023-03") == 1
    assert figure(ledger, "push_deadlines_overdue", "2023-03", deadline="SIGN_FOR") == 1
    assert figure(ledger, "pushes_escalated", "2023-03") == 1
    assert ledger.states["push:v1"].get("overdue", []) == []


def test_remote_evaluations_hosted_served_by_venue_and_experts_shared() -> None:
    def scheduled(evaluation: str, *allocations: tuple[str, str, str]) -> facts.Fact:
        return facts.EvaluationScheduledFact(
            event_id(), evaluation, at("2023-05-10 09:00"), allocations
        )

    ledger = fold(
        facts.EvaluationRequestedFact(event_id(), "ev1", at("2023-05-10 09:00"), "370113", "CQ-1"),
        scheduled(
            "ev1",
            ("CQ-1", "370113", "MAIN"),
            ("ZB-1", "370300", "SECONDARY"),
            ("ZB-2", "370300", "SECONDARY"),
            ("DY-1", "370500", "SECONDARY"),
        ),
        facts.EvaluationRequestedFact(event_id(), "ev2", at("2023-05-11 09:00"), "370115", "JY-1"),
        scheduled("ev2", ("JY-1", "370115", "MAIN")),
        facts.PartnerVenueDecisionFact(
            event_id(), "ev1", at("2023-05-10 10:00"), "370300", "ZB-1", True
        ),
        facts.PartnerVenueDecisionFact(
            event_id(), "ev1", at("2023-05-10 11:00"), "370300", "ZB-2", True
        ),
        facts.PartnerVenueDecisionFact(
            event_id(), "ev1", at("2023-05-10 11:00"), "370500", "DY-1", False
        ),
        facts.ExpertConfirmedFact(event_id(), "ev1", at("2023-05-10 12:00"), "370300", "X1"),
        facts.ExpertConfirmedFact(event_id(), "ev1", at("2023-05-10 12:00"), "370300", "X1"),
        facts.ExpertConfirmedFact(event_id(), "ev1", at("2023-05-10 12:00"), "370113", "X2"),
        facts.ExpertConfirmedFact(event_id(), "ev1", at("2023-05-10 12:00"), "370300", "X3"),
    )
    assert figure(ledger, "remote_evaluations_hosted", "2023-H1") == 2
    assert figure(ledger, "remote_evaluations_hosted", "2023-H1", host="370113") == 1
    # One evaluation served by 淄博 (two of its venues, one evaluation); 东营 declined.
    assert figure(ledger, "remote_evaluations_served", "2023-H1", partner="370300") == 1
    assert figure(ledger, "remote_evaluations_served", "2023-H1", partner="370500") == 0
    assert figure(ledger, "remote_evaluations_by_venue", "2023-H1", venue="ZB-2") == 1
    assert figure(ledger, "remote_evaluations_by_venue", "2023-H1", venue="DY-1") == 0
    assert figure(ledger, "remote_evaluations_by_venue", "2023-H1", role="MAIN") == 2
    assert figure(ledger, "remote_evaluations_by_venue", "2023-H1", role="SECONDARY") == 2
    # X1 (counted once) and X3 from 淄博's pool; X2 is the host's own expert.
    assert figure(ledger, "experts_shared", "2023-H1", host="370113") == 2


def test_an_event_applied_twice_counts_once_and_evidence_lists_it() -> None:
    fact = registered("p1", "2023-01-05 10:00")
    ledger = fold(fact, fact)
    assert figure(ledger, "registrations", "2023-H1") == 1
    cell = CounterKey(
        "registrations",
        (
            ("region", "370113"),
            ("category", "HOUSING"),
            ("department", "ZJJ"),
            ("period", "2023-01"),
        ),
    )
    assert ledger.evidence[cell.encode()] == {fact.event_id}


def test_every_stored_metric_is_catalogued_with_both_names() -> None:
    for definition in CATALOGUE:
        assert definition.name_zh and definition.name_en and definition.definition
        assert definition.source_events
        if definition.kind == "ratio":
            assert BY_KEY[definition.numerator].kind == "counter"
            assert BY_KEY[definition.denominator].kind == "counter"


def test_the_readme_states_how_many_metrics_the_catalogue_has() -> None:
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    stated = re.search(r"`GET /v1/metrics/catalogue` lists the (\d+) metrics", readme)
    assert stated is not None
    assert int(stated.group(1)) == len(CATALOGUE)
