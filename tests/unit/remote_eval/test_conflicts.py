"""回避 from the trade: which parties intake's events name, and which drawn experts they bar."""

from __future__ import annotations

from prt.v1 import common_pb2, intake_pb2

from services.remote_eval.domain.conflicts import (
    WHOLE_PROJECT,
    PartiesLearned,
    conflicted_experts,
)
from services.remote_eval.domain.model import Expert, ExpertKind
from services.remote_eval.event_codec import parties_learned_from

TENDERER, AGENCY, BIDDER = "91370100MA3C000001", "91370100MA3C000002", "91370100MA3C000003"


def _org(code: str) -> common_pb2.OrganisationRef:
    return common_pb2.OrganisationRef(name="某单位", unified_social_credit_code=code)


def test_a_registration_names_the_tenderer_and_agency_for_the_whole_project() -> None:
    registered = intake_pb2.ProjectRegistered(
        project_id="P-1", tenderer=_org(TENDERER), agency=_org(AGENCY)
    )
    assert parties_learned_from(registered) == PartiesLearned(
        "P-1", WHOLE_PROJECT, frozenset({TENDERER, AGENCY})
    )
    without_agency = intake_pb2.ProjectRegistered(project_id="P-1", tenderer=_org(TENDERER))
    learned = parties_learned_from(without_agency)
    assert learned is not None and learned.unit_codes == {TENDERER}


def test_a_bid_names_its_bidder_for_its_section() -> None:
    bid = intake_pb2.BidSubmitted(project_id="P-1", bid_section_code="002", bidder=_org(BIDDER))
    assert parties_learned_from(bid) == PartiesLearned("P-1", "002", frozenset({BIDDER}))


def test_other_project_events_name_no_party() -> None:
    assert parties_learned_from(intake_pb2.BidsOpened(project_id="P-1")) is None
    assert parties_learned_from(intake_pb2.ContractAwarded(project_id="P-1")) is None


def _expert(expert_id: str, employer: str) -> Expert:
    return Expert(expert_id, "370100", ExpertKind.TECHNICAL, frozenset({"A01"}), employer)


def test_only_experts_employed_by_a_party_are_conflicted_in_committee_order() -> None:
    experts = {
        "e1": _expert("e1", BIDDER),
        "e2": _expert("e2", "91370100MA3C000009"),
        "e3": _expert("e3", TENDERER),
    }
    parties = frozenset({BIDDER, TENDERER})
    assert conflicted_experts(["e3", "e2", "e1"], experts, parties) == ["e3", "e1"]
    assert conflicted_experts(["e2"], experts, parties) == []
    # An expert the registry no longer holds cannot be judged here.
    assert conflicted_experts(["gone"], experts, parties) == []
