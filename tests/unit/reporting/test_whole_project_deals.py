"""A completion naming no section (the project as a whole) concludes the sections intake applies
it to, so reporting counts the deals intake shows per section: intake's own event codec and
lifecycle (services/intake/domain/lifecycle.py, sections_concerned) fold the same events as
reporting, and the two must agree."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from prt.v1 import common_pb2, intake_pb2

from services.intake import event_codec as intake_codec
from services.intake.domain.lifecycle import ProjectView, check_method_allows, evolve
from services.platform_core.events.envelope import Envelope
from services.platform_core.events.proto_values import to_timestamp
from services.reporting.domain import facts
from services.reporting.domain.ledger import Ledger
from services.reporting.event_codec import fact_from_envelope
from tests.unit.reporting.factories import announced, completed, figure, fold, registered

DEALS = "transactions_completed"
AMOUNT = "transaction_amount_fen"
START = datetime(2023, 3, 1, 1, 0, tzinfo=UTC)
BUYER = common_pb2.OrganisationRef(name="买受人", unified_social_credit_code="91370100MA3C1XQ21U")


class _Project:
    """One project's events, folded by intake (as its API accepts them) and by reporting."""

    def __init__(self, method: str, *sections: str) -> None:
        self._at = START
        registration = intake_pb2.ProjectRegistered(
            project_id="p1",
            occurred_at=to_timestamp(self._at),
            actor_department="GZW",
            unified_deal_code="JN-1",
            name="济南市某资产处置项目",
            category=common_pb2.PROJECT_CATEGORY_ASSET_DISPOSAL,
            region_code="370102",
            budget_fen=300_000_000,
            trading_method=f"TRADING_METHOD_{method}",
            bid_sections=[
                intake_pb2.BidSection(bid_section_code=code, budget_fen=100_000_000)
                for code in sections
            ],
        )
        self.view: ProjectView = intake_codec.view_from_registered(registration)
        self.ledger = Ledger()
        self._reporting(registration)

    def _reporting(self, message: Message) -> None:
        fact = fact_from_envelope(Envelope(message=message, source="/tests", subject="p1"))
        if fact is not None:  # reporting counts nothing of bids, openings, evaluations
            self.ledger.apply(fact)

    def _step(self, message: Message) -> None:
        envelope: Envelope[Message] = Envelope(message=message, source="/tests", subject="p1")
        lifecycle = intake_codec.fact_from_envelope(envelope)
        assert lifecycle is not None
        after = evolve(self.view, lifecycle)  # raises where intake would refuse the step
        check_method_allows(self.view, lifecycle)
        self.view = after
        self._reporting(message)

    def _next(self) -> Timestamp:
        self._at += timedelta(days=1)
        return to_timestamp(self._at)

    def announce(self, *sections: str) -> None:
        self._step(
            intake_pb2.AnnouncementPublished(
                project_id="p1", occurred_at=self._next(), bid_section_codes=sections
            )
        )

    def complete(self, section: str, amount_fen: int) -> None:
        self._step(
            intake_pb2.TransactionCompleted(
                project_id="p1",
                occurred_at=self._next(),
                actor_department="JYZX",
                bid_section_code=section,
                counterparty=BUYER,
                amount_fen=amount_fen,
                on_platform=True,
            )
        )

    def tender_until_candidates(self, section: str) -> None:
        """Bids, their opening, the evaluation and the candidates' publicity of a section."""
        for message in (
            intake_pb2.BidSubmitted(bid_section_code=section, bidder=BUYER),
            intake_pb2.BidsOpened(bid_section_code=section),
            intake_pb2.EvaluationCompleted(bid_section_code=section),
            intake_pb2.CandidatesPublicised(bid_section_code=section),
        ):
            message.project_id = "p1"
            message.occurred_at.CopyFrom(self._next())
            self._step(message)

    def award(self, section: str, amount_fen: int) -> None:
        self._step(
            intake_pb2.ContractAwarded(
                project_id="p1",
                occurred_at=self._next(),
                bid_section_code=section,
                winner=BUYER,
                amount_fen=amount_fen,
            )
        )

    def terminate(self, section: str) -> None:
        self._step(
            intake_pb2.ProjectTerminated(
                project_id="p1",
                occurred_at=self._next(),
                bid_section_code=section,
                reason=intake_pb2.TERMINATION_REASON_FAILED_TENDER,
            )
        )

    def intake_deals(self) -> dict[str, int]:
        """The deal intake shows on each section (its amount), sections without one left out."""
        return {s.code: s.deal.amount_fen for s in self.view.sections if s.deal is not None}

    def assert_reporting_agrees(self) -> None:
        deals = self.intake_deals()
        assert figure(self.ledger, DEALS) == len(deals)
        assert figure(self.ledger, AMOUNT) == sum(deals.values())


def test_a_whole_project_completion_after_a_section_s_deal_is_the_other_section_s_deal() -> None:
    """The reviewers' case: an auction's section 001 completed for 90万, then the project
    completed as a whole for 180万, which intake applies to section 002."""
    project = _Project("AUCTION", "001", "002")
    project.announce()
    project.complete("001", 90_000_000)
    project.complete("", 180_000_000)
    assert project.intake_deals() == {"001": 90_000_000, "002": 180_000_000}
    assert figure(project.ledger, DEALS) == 2
    assert figure(project.ledger, AMOUNT) == 270_000_000
    project.assert_reporting_agrees()


def test_a_whole_project_completion_leaves_a_terminated_section_out() -> None:
    project = _Project("LISTING", "001", "002", "003")
    project.announce()
    project.complete("001", 10)
    project.terminate("003")  # 流标: the whole-project completion does not conclude it
    project.complete("", 20)
    assert project.intake_deals() == {"001": 10, "002": 20}
    project.assert_reporting_agrees()


def test_a_whole_project_completion_concludes_only_the_sections_announced() -> None:
    project = _Project("AUCTION", "001", "002")
    project.announce("001")
    project.complete("", 10)  # section 002 is not announced yet: 001's deal
    project.announce("002")
    project.complete("", 20)  # now 002's
    assert project.intake_deals() == {"001": 10, "002": 20}
    project.assert_reporting_agrees()


def test_a_tender_s_whole_project_completion_concludes_its_awarded_sections_only() -> None:
    """A tender concludes only after its award: intake applies a completion naming no section
    to the awarded sections (already counted at their award), not to one still being tendered,
    whose own award is its deal."""
    project = _Project("OPEN_TENDER", "001", "002")
    project.announce()
    project.tender_until_candidates("001")
    project.award("001", 100)
    project.complete("", 999)  # 成交 of the awarded 001: the same deal as its award
    project.tender_until_candidates("002")
    project.award("002", 200)
    assert project.intake_deals() == {"001": 100, "002": 200}
    project.assert_reporting_agrees()


def test_a_section_named_after_the_whole_project_completion_is_not_counted_again() -> None:
    project = _Project("AUCTION", "001")
    project.announce()
    project.complete("", 50)
    assert project.intake_deals() == {"001": 50}
    project.assert_reporting_agrees()
    # Intake refuses a later completion of 001; told all the same, it is the same deal.
    project.ledger.apply(completed("p1", "2023-04-01 10:00", amount=70, section="001"))
    project.assert_reporting_agrees()


def test_one_whole_project_completion_of_several_sections_is_one_deal() -> None:
    """Intake keeps a completion concluding several sections at once as one deal of the
    project (told on no section, as it has one amount): reporting counts it once, with it."""
    project = _Project("AUCTION", "001", "002")
    project.announce()
    project.complete("", 300)
    assert figure(project.ledger, DEALS) == 1
    assert figure(project.ledger, AMOUNT) == 300


@pytest.mark.parametrize("section", ["", "002"])
def test_a_project_state_stored_without_its_sections_counts_as_before(section: str) -> None:
    """A project registered before reporting kept the sections (its state has none) cannot
    tell which sections a whole-project completion concluded: a whole-project deal and a
    section's are not both counted there (a rebuild counts it from the registration)."""
    ledger = fold(
        registered("p1", "2023-02-01 09:00"),  # no sections: as a state stored before
        announced("p1", "2023-02-10 09:00"),
        completed("p1", "2023-03-01 10:00", amount=90, section="001"),
        completed("p1", "2023-03-02 10:00", amount=180, section=section),
    )
    assert "sections" not in ledger.states["project:p1"]
    expected = 1 if section == "" else 2
    assert figure(ledger, DEALS) == expected


def test_the_codec_carries_sections_method_announced_sections_and_terminations() -> None:
    at = to_timestamp(START)
    registration = intake_pb2.ProjectRegistered(
        project_id="p1",
        occurred_at=at,
        category=common_pb2.PROJECT_CATEGORY_ASSET_DISPOSAL,
        trading_method=intake_pb2.TRADING_METHOD_INVITED_TENDER,
        bid_sections=[intake_pb2.BidSection(bid_section_code=c) for c in ("001", "002")],
    )
    fact = fact_from_envelope(Envelope(message=registration, source="/t", subject="p1"))
    assert isinstance(fact, facts.ProjectRegisteredFact)
    assert fact.bid_sections == ("001", "002") and fact.trading_method == "INVITED_TENDER"
    unspecified = intake_pb2.ProjectRegistered(project_id="p1", occurred_at=at)
    fact = fact_from_envelope(Envelope(message=unspecified, source="/t", subject="p1"))
    assert isinstance(fact, facts.ProjectRegisteredFact) and fact.trading_method == ""
    announcement = intake_pb2.AnnouncementPublished(
        project_id="p1", occurred_at=at, bid_section_codes=["002"]
    )
    fact = fact_from_envelope(Envelope(message=announcement, source="/t", subject="p1"))
    assert isinstance(fact, facts.AnnouncementPublishedFact)
    assert fact.bid_section_codes == ("002",)
    termination = intake_pb2.ProjectTerminated(
        project_id="p1", occurred_at=at, actor_department="ZJJ", bid_section_code="001"
    )
    envelope = Envelope(message=termination, source="/t", subject="p1")
    assert fact_from_envelope(envelope) == facts.ProjectTerminatedFact(
        envelope.id, "p1", "ZJJ", START, "001"
    )
