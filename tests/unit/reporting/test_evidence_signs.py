"""Evidence keeps the events that took from a figure apart from those that added to it, so a
figure that went down reconciles with its evidence: for a count, added − subtracted = the
figure (pushes_in_hand after 立案 then the measure; pushes_on_estimated_deadlines and
pushes_fed_back_on_time after PushDeadlinesSet)."""

from __future__ import annotations

from collections import defaultdict

from services.reporting.domain.catalogue import CATALOGUE
from services.reporting.domain.facts import Fact
from services.reporting.domain.metrics import (
    SUBTRACTED,
    CounterKey,
    contribute,
    subtracted_cell,
)
from tests.unit.reporting.event_mix import mix_facts
from tests.unit.reporting.factories import deadlines_set, fed_back, fold, routed, signed


def _cell(metric: str, month: str, **dimensions: str) -> CounterKey:
    return CounterKey(metric, (*dimensions.items(), ("period", month)))


def test_no_metric_has_the_marker_as_a_dimension() -> None:
    assert all(SUBTRACTED not in metric.dimensions for metric in CATALOGUE)


def test_the_measure_after_a_case_filed_is_evidence_of_the_figure_going_down() -> None:
    history: list[Fact] = [
        routed("u1", "2023-03-01 09:00"),
        signed("u1", "2023-03-02 09:00"),
        fed_back("u1", "2023-03-05 09:00", "CASE_FILED"),
    ]
    ledger = fold(*history)
    measure = fed_back("u1", "2023-03-06 09:00", "PENALISED")
    contribution = contribute(measure, ledger.states["push:u1"])
    in_hand = _cell("pushes_in_hand", "2023-03", department="ZJJ")
    assert subtracted_cell(in_hand) in contribution.evidence
    assert in_hand not in contribution.evidence

    ledger.apply(measure)
    assert ledger.evidence[in_hand.encode()] == {history[2].event_id}
    assert ledger.evidence[subtracted_cell(in_hand).encode()] == {measure.event_id}
    assert ledger.value(in_hand.encode()) == 0


def test_real_deadlines_are_evidence_of_the_figures_they_take_from() -> None:
    push = routed(
        "u1",
        "2023-03-01 09:00",
        feedback_due="2023-03-10 18:00",
        deadlines_estimated=True,
    )
    feedback = fed_back("u1", "2023-03-09 10:00")
    real = deadlines_set("u1", "2023-03-12 00:00", "2023-03-08 18:00")  # the feedback was late
    ledger = fold(push, signed("u1", "2023-03-02 09:00"), feedback, real)
    for metric, added in (
        ("pushes_on_estimated_deadlines", push),
        ("pushes_fed_back_on_time", feedback),
    ):
        cell = _cell(metric, "2023-03", department="ZJJ")
        assert ledger.evidence[cell.encode()] == {added.event_id}, metric
        assert ledger.evidence[subtracted_cell(cell).encode()] == {real.event_id}, metric
        assert ledger.value(cell.encode()) == 0, metric


def test_every_count_is_what_its_evidence_added_less_what_it_subtracted() -> None:
    """Across the synthetic mix (立案 then measures, transfers, real deadlines either way)."""
    ledger = fold(*mix_facts(4000))
    counts = {m.key for m in CATALOGUE if m.kind == "counter" and m.unit == "count"}
    net: dict[str, int] = defaultdict(int)
    subtracted_somewhere = set()
    for encoded, event_ids in ledger.evidence.items():
        cell = CounterKey.decode(encoded)
        if cell.metric not in counts:
            continue
        dimensions = dict(cell.dimensions)
        if dimensions.pop(SUBTRACTED, None) is None:
            net[CounterKey(cell.metric, tuple(dimensions.items())).encode()] += len(event_ids)
        else:
            net[CounterKey(cell.metric, tuple(dimensions.items())).encode()] -= len(event_ids)
            subtracted_somewhere.add(cell.metric)
    assert subtracted_somewhere >= {
        "pushes_in_hand",
        "pushes_on_estimated_deadlines",
        "pushes_fed_back_on_time",
    }
    # The counters of the evidence cells themselves (a metric whose cuts all leave out some of
    # its dimensions stores none: its cells are sums of finer events, not counters).
    counters = ledger.counters
    stored = {cell: value for cell, value in net.items() if cell in counters}
    assert {CounterKey.decode(cell).metric for cell in stored} >= subtracted_somewhere
    assert {cell: counters[cell] for cell in stored} == stored
