"""The dashboard's venue chart names every venue: the name a venue published with its capacity,
else the venue directory's (partner venues publish no capacity on remote-eval.venues.v1), and
its bare id only for a venue in neither."""

from __future__ import annotations

from services.reporting.dashboard import snapshot
from services.reporting.domain import facts
from services.reporting.http_api.bulletins import reference_labels, venue_names
from tests.unit.reporting.factories import at, event_id, fold, ledger_read_model


def _evaluation(evaluation: str, main_venue: str, *partner_venues: str) -> list[facts.Fact]:
    requested = facts.EvaluationRequestedFact(
        event_id(), evaluation, at("2023-03-01 09:00"), "370100", main_venue
    )
    # A venue counts once the evaluation is scheduled there (and, a partner's, accepted).
    scheduled = facts.EvaluationScheduledFact(
        event_id(),
        evaluation,
        at("2023-03-01 09:00"),
        (
            (main_venue, "370100", "MAIN"),
            *((venue, venue.split("-")[1], "SECONDARY") for venue in partner_venues),
        ),
    )
    decisions = [
        facts.PartnerVenueDecisionFact(
            event_id(), evaluation, at("2023-03-01 10:00"), venue.split("-")[1], venue, True
        )
        for venue in partner_venues
    ]
    return [requested, scheduled, *decisions]


def test_the_directory_names_the_partner_venues() -> None:
    names = venue_names()
    assert names["TA-370900-1"] == "泰安市公共资源交易中心 远程评标室"
    assert names["QH-371425-1"] == "齐河县公共资源交易中心 远程评标室"
    assert reference_labels().venues == names


async def test_partner_venues_are_named_from_the_directory() -> None:
    published = facts.VenueCapacityPublishedFact(
        event_id(), "JN-370100-1", at("2023-01-01 09:00"), "370100", "市中心评标室(新)", "370100"
    )
    ledger = fold(
        published,
        *_evaluation("ev-1", "JN-370100-1", "QH-371425-1", "TA-370900-1"),
        *_evaluation("ev-2", "XX-000000-9"),  # in no directory: shown by its id
    )
    data = await snapshot(ledger_read_model(ledger), reference_labels(), "2023-H1")
    names = {row["code"]: row["name"] for row in data["remote_evaluations_by_venue"]}
    assert names == {
        "JN-370100-1": "市中心评标室(新)",  # as the venue itself published it
        "QH-371425-1": "齐河县公共资源交易中心 远程评标室",
        "TA-370900-1": "泰安市公共资源交易中心 远程评标室",
        "XX-000000-9": "XX-000000-9",
    }
