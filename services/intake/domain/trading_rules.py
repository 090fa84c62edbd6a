"""The rules of the trade a lifecycle step must keep beyond the state machine's order: its time
against the deadlines the project announced, and the parties it names against those on record.

- an announcement's submission deadline lies after the announcement, and the bids are opened at
  it, not before, and for a tender not after either (招标投标法 art. 34:
  开标应当在提交投标文件截止时间的同一时间公开进行);
- a tender that must by law be tendered, and every government procurement tender, leaves at
  least 20 days from the announcement (the documents' issue) to the deadline (招标投标法 art.
  24, 政府采购法 art. 35; see tender_obligation), and whether it must is declared before the
  first announcement;
- a bid after its section's submission deadline is refused (art. 28: 应当拒收);
- bids are opened, ruled out and publicised only for bidders who bid in that section, and a
  tender with fewer than 3 bidders is not opened but fails (流标) and is tendered again
  (招标投标法 art. 28, 实施条例 art. 44: 投标人少于3个的, 不得开标);
- a ruled-out bidder (否决投标) is no candidate; the candidates' publicity ends after it starts
  and, for a tender outside government procurement, lasts at least 3 days (招标投标法实施条例
  art. 54: 公示期不得少于3日, counted from the day after it starts, 民法典 art. 201);
- the award waits for the publicity to end, and a tender's winner is one of its publicised
  candidates (招标投标法 art. 40);
- 成交 after an award is concluded with the winner (art. 46). (That a tender concludes only
  after its award is the state machine's rule for its method: lifecycle.check_method_allows.)
- whatever the method, 成交 does not come before the section's announced submission deadline: a
  listing or an auction (a state-owned property right's is listed publicly for its whole
  period, 企业国有资产交易监督管理办法 art. 13) or a negotiation takes its offers until then;

Checked where a step is received (the API), never when the log is folded: the log keeps what
was accepted under the rules of its day, and a rule added later must not make it unreadable. A
view stored before it kept a section's parties (``None``) skips the party rules for that section.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from services.intake.domain.lifecycle import (
    LifecycleFact,
    ProjectState,
    ProjectView,
    SectionView,
    Step,
    sections_concerned,
)
from services.intake.domain.tender_obligation import (
    LAW_ON_GOVERNMENT_PROCUREMENT,
    MINIMUM_BIDDING_PERIOD_DAYS,
    TENDER_METHODS,
    THRESHOLDS_IN_WORDS,
    bidding_period_long_enough,
    earliest_submission_deadline,
    minimum_bidding_period_basis,
)
from services.platform_core.errors import PlatformError

# 政府采购 announces its result (中标公告) instead of publicising candidates for 3 days.
NO_CANDIDATE_PUBLICITY_CATEGORIES = frozenset({"GOVERNMENT_PROCUREMENT"})
PUBLICITY_MINIMUM_DAYS = 3
_BEFORE_ANNOUNCEMENT = frozenset({ProjectState.REGISTERED, ProjectState.PRE_PUBLISHED})
MINIMUM_TENDER_BIDDERS = 3
# Days in law are calendar days where the act happens: Beijing time.
CHINA_TIME = ZoneInfo("Asia/Shanghai")


class TradingRuleBroken(PlatformError):
    """A step that breaks a rule of the trade; ``problems`` are (field, problem) pairs.
    ``conflict``: the record as it stands does not allow the step (409), rather than the step
    contradicting itself or the record (422)."""

    conflict = False

    def __init__(
        self, code: str, message: str, problems: tuple[tuple[str, str], ...], section: str = ""
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.problems = problems
        self.section = section


class StepOutOfTime(TradingRuleBroken):
    """The step comes too early or too late for a deadline on record (a conflict: 409)."""

    conflict = True


class TooFewBidders(TradingRuleBroken):
    """A tender's bids opened with fewer than 3 bidders on record (a conflict: 409)."""

    conflict = True


class StepContradictsRecord(TradingRuleBroken):
    """The step's own content contradicts itself or the record (unprocessable: 422)."""


class BidAfterDeadline(StepOutOfTime):
    """A bid dated after its section's submission deadline (招标投标法 art. 28: 应当拒收)."""

    def __init__(self, project_id: str, section: str, deadline: datetime, at: datetime) -> None:
        self.deadline = deadline
        super().__init__(
            "bid_after_submission_deadline",
            f"Project {project_id} section {section}: the submission deadline "
            f"{deadline.isoformat()} passed before this bid ({at.isoformat()}); a bid received "
            "after the deadline is refused (招标投标法 art. 28)",
            (("bid_section_code", section), ("occurred_at", f"after the deadline {deadline}")),
            section,
        )


def check_trading_rules(view: ProjectView, fact: LifecycleFact) -> None:
    """Raises the first TradingRuleBroken the step breaks (checked after the state machine
    accepted it: ``sections_concerned`` then names the sections it moves)."""
    if fact.step is Step.ANNOUNCE:
        _check_announcement(view, fact)
    if fact.step is Step.DECLARE_TENDER_OBLIGATION:
        _check_declaration(view)
    check = _SECTION_RULES.get(fact.step)
    if check is None or not view.sections:
        return
    for section in sections_concerned(view, fact):
        check(view, section, fact)


# --- each step's rules ------------------------------------------------------------------------


def _where(view: ProjectView, section: SectionView) -> str:
    return f"Project {view.project_id} section {section.code}"


def _check_announcement(view: ProjectView, fact: LifecycleFact) -> None:
    deadline = fact.submission_deadline
    if deadline is None:
        return
    if deadline <= fact.occurred_at:
        raise StepContradictsRecord(
            "submission_deadline_not_after_announcement",
            f"Project {view.project_id}: the submission deadline {deadline.isoformat()} is not "
            f"after the announcement ({fact.occurred_at.isoformat()}); announce a deadline that "
            "leaves bidders time to prepare their bids (招标投标法 art. 24)",
            (("submission_deadline", f"not after the announcement {fact.occurred_at}"),),
        )
    basis = minimum_bidding_period_basis(
        view.category, view.trading_method, view.tender_required_by_law
    )
    if basis is not None and not bidding_period_long_enough(fact.occurred_at, deadline):
        earliest = earliest_submission_deadline(fact.occurred_at)
        raise StepContradictsRecord(
            "bidding_period_too_short",
            f"Project {view.project_id}: {_bound_by(view, basis)} leaves bidders at least "
            f"{MINIMUM_BIDDING_PERIOD_DAYS} days from the tender documents' issue (the "
            f"announcement, {fact.occurred_at.isoformat()}) to the submission deadline "
            f"({basis}), counted from the next day: the deadline may be on "
            f"{earliest.isoformat()} at the earliest (Beijing time), not {deadline.isoformat()}",
            (("submission_deadline", f"before {earliest.isoformat()} (Beijing time)"),),
        )
    if fact.opening_at is not None and fact.opening_at < deadline:
        raise StepContradictsRecord(
            "opening_before_submission_deadline",
            f"Project {view.project_id}: the opening {fact.opening_at.isoformat()} is before the "
            f"submission deadline {deadline.isoformat()}; bids are opened at the deadline, "
            "not before (招标投标法 art. 34)",
            (("opening_at", f"before submission_deadline {deadline}"),),
        )
    if (
        fact.opening_at is not None
        and fact.opening_at > deadline
        and view.trading_method in TENDER_METHODS
    ):
        raise StepContradictsRecord(
            "opening_after_submission_deadline",
            f"Project {view.project_id}: the opening {fact.opening_at.isoformat()} is after the "
            f"submission deadline {deadline.isoformat()}; a tender's bids are opened at the very "
            "time bidding closes, not left unopened after it (招标投标法 art. 34)",
            (("opening_at", f"not at submission_deadline {deadline}"),),
        )


def _check_declaration(view: ProjectView) -> None:
    """依法必须招标 is settled before the first announcement: the bidding period an announcement
    keeps depends on it."""
    announced = [s.code for s in view.sections if s.state not in _BEFORE_ANNOUNCEMENT]
    if announced:
        raise StepOutOfTime(
            "tender_obligation_after_announcement",
            f"Project {view.project_id}: section(s) {', '.join(announced)} were announced under "
            "what the project recorded; whether it must by law be tendered (依法必须招标) is "
            "declared before the first announcement",
            tuple(("bid_section_code", code) for code in announced),
        )


def _bound_by(view: ProjectView, basis: str) -> str:
    """What binds the project to the 20-day bidding period, in words."""
    if basis == LAW_ON_GOVERNMENT_PROCUREMENT:
        return "a government procurement tender"
    how = (
        f"derived: its sections of one kind reach 发改委令第16号's line ({THRESHOLDS_IN_WORDS})"
        if view.tender_obligation_derived
        else "as registered"
    )
    return f"a project that must by law be tendered (依法必须招标, {how})"


def _bid(view: ProjectView, section: SectionView, fact: LifecycleFact) -> None:
    deadline = section.submission_deadline
    if deadline is not None and fact.occurred_at > deadline:
        raise BidAfterDeadline(view.project_id, section.code, deadline, fact.occurred_at)


def _not_bidders(section: SectionView, codes: tuple[str, ...]) -> tuple[str, ...]:
    if section.bidders is None:
        return ()  # a view from before bidders were kept: nothing to check against
    return tuple(code for code in codes if code not in section.bidders)


def _check_bid_here(
    view: ProjectView, section: SectionView, codes: tuple[str, ...], code: str, field: str
) -> None:
    """Raises StepContradictsRecord (``code``) when a step names, in ``field``, parties that
    submitted no bid in the section: no bid of theirs to open, rule out or publicise."""
    strangers = _not_bidders(section, codes)
    if strangers:
        bidders = ", ".join(section.bidders or ()) or "none"
        raise StepContradictsRecord(
            code,
            f"{_where(view, section)}: {', '.join(strangers)} submitted no bid in this section, "
            f"so no bid of theirs can be opened, ruled out or publicised; the section's "
            f"bidders: {bidders}",
            tuple((field, f"submitted no bid: {party}") for party in strangers),
            section.code,
        )


def _opening(view: ProjectView, section: SectionView, fact: LifecycleFact) -> None:
    deadline = section.submission_deadline
    if deadline is not None and fact.occurred_at < deadline:
        raise StepOutOfTime(
            "opening_before_submission_deadline",
            f"{_where(view, section)}: bids are opened at the submission deadline "
            f"{deadline.isoformat()}, not before ({fact.occurred_at.isoformat()}) "
            "(招标投标法 art. 34)",
            (
                ("bid_section_code", section.code),
                ("occurred_at", f"before the deadline {deadline}"),
            ),
            section.code,
        )
    _check_bid_here(
        view, section, fact.party_codes, "opened_bid_not_submitted", "opened_bidder_codes"
    )
    if view.trading_method not in TENDER_METHODS:
        return  # auctions, listings, negotiations: the rules of their own procedures
    bidders = section.bidders if section.bidders is not None else fact.party_codes
    count = len(set(bidders))
    if (section.bidders is not None or bidders) and count < MINIMUM_TENDER_BIDDERS:
        raise TooFewBidders(
            "fewer_than_three_bidders",
            f"{_where(view, section)} has {count} bidder(s) on record: a tender with fewer than "
            f"{MINIMUM_TENDER_BIDDERS} bidders is not opened (招标投标法实施条例 art. 44); record "
            "the failed tender (流标: POST /termination with reason FAILED_TENDER) and tender it "
            "again (招标投标法 art. 28)",
            (("bid_section_code", section.code), ("bidders", f"{count} on record, at least 3")),
            section.code,
        )


def _evaluation(view: ProjectView, section: SectionView, fact: LifecycleFact) -> None:
    _check_bid_here(
        view, section, fact.party_codes, "disqualified_bidder_did_not_bid", "disqualifications"
    )


def publicity_long_enough(started: datetime, ends: datetime) -> bool:
    """Whether a publicity started at ``started`` and ending at ``ends`` runs its 3 days: they
    are counted from the day after it starts (民法典 art. 201), so it may end on the third day
    after its first, Beijing time."""
    first_day = started.astimezone(CHINA_TIME).date()
    return ends.astimezone(CHINA_TIME).date() >= first_day + timedelta(days=PUBLICITY_MINIMUM_DAYS)


def _candidates(view: ProjectView, section: SectionView, fact: LifecycleFact) -> None:
    ends = fact.publicity_ends_at
    where = _where(view, section)
    if ends is not None and ends <= fact.occurred_at:
        raise StepContradictsRecord(
            "publicity_ends_before_it_starts",
            f"{where}: the publicity ends at {ends.isoformat()}, not after it starts "
            f"({fact.occurred_at.isoformat()})",
            (("publicity_ends_at", f"not after {fact.occurred_at}"),),
            section.code,
        )
    if (
        ends is not None
        and view.trading_method in TENDER_METHODS
        and view.category not in NO_CANDIDATE_PUBLICITY_CATEGORIES
        and not publicity_long_enough(fact.occurred_at, ends)
    ):
        earliest = fact.occurred_at.astimezone(CHINA_TIME).date() + timedelta(
            days=PUBLICITY_MINIMUM_DAYS
        )
        raise StepContradictsRecord(
            "publicity_too_short",
            f"{where}: the candidates' publicity must last at least {PUBLICITY_MINIMUM_DAYS} "
            f"days (招标投标法实施条例 art. 54), counted from the day after it starts: it may end "
            f"on {earliest.isoformat()} at the earliest, not {ends.isoformat()}",
            (("publicity_ends_at", f"before {earliest.isoformat()} (Beijing time)"),),
            section.code,
        )
    _check_bid_here(view, section, fact.party_codes, "candidate_did_not_bid", "candidates")
    ruled_out = tuple(code for code in fact.party_codes if code in (section.disqualified or ()))
    if ruled_out:
        raise StepContradictsRecord(
            "candidate_ruled_out",
            f"{where}: {', '.join(ruled_out)} was ruled out at evaluation (否决投标) and cannot "
            "be a candidate",
            tuple(("candidates", f"ruled out at evaluation: {code}") for code in ruled_out),
            section.code,
        )


def _award(view: ProjectView, section: SectionView, fact: LifecycleFact) -> None:
    ends = section.publicity_ends_at
    where = _where(view, section)
    if ends is not None and fact.occurred_at < ends:
        raise StepOutOfTime(
            "award_before_publicity_ends",
            f"{where}: the candidates' publicity runs until {ends.isoformat()}; the award "
            f"({fact.occurred_at.isoformat()}) waits for it to end (招标投标法实施条例 art. 54)",
            (("bid_section_code", section.code), ("occurred_at", f"before {ends}")),
            section.code,
        )
    if view.trading_method not in TENDER_METHODS or not section.candidates:
        return
    outsiders = tuple(code for code in fact.party_codes if code not in section.candidates)
    if outsiders:
        raise StepContradictsRecord(
            "winner_not_a_candidate",
            f"{where}: the winner {', '.join(outsiders)} is not one of the publicised candidates "
            f"({', '.join(section.candidates)}); a tender's winner is chosen from them "
            "(招标投标法 art. 40)",
            tuple(("winner", f"not a publicised candidate: {code}") for code in outsiders),
            section.code,
        )


def _completion(view: ProjectView, section: SectionView, fact: LifecycleFact) -> None:
    """成交 after an award concludes the contract with the winner (招标投标法 art. 46: 招标人
    和中标人 conclude it): its counterparty is the award's winner, whatever the method. It never
    comes before the announced submission deadline, while offers may still come."""
    deadline = section.submission_deadline
    if deadline is not None and fact.occurred_at < deadline:
        raise StepOutOfTime(
            "completion_before_submission_deadline",
            f"{_where(view, section)} takes offers until its announced submission deadline "
            f"{deadline.isoformat()}; a 成交 on {fact.occurred_at.isoformat()} would close it "
            "before others could bid (a state-owned property right's listing stays public for "
            "its whole period: 企业国有资产交易监督管理办法 art. 13)",
            (
                ("bid_section_code", section.code),
                ("occurred_at", f"before the submission deadline {deadline}"),
            ),
            section.code,
        )
    award = section.deal if section.state is ProjectState.AWARDED else None
    if award is None or fact.deal is None or fact.deal.party_code == award.party_code:
        return
    raise StepContradictsRecord(
        "counterparty_not_the_winner",
        f"{_where(view, section)} was awarded to {award.party_name} ({award.party_code}); its "
        f"成交 concludes the contract with that winner, not with {fact.deal.party_name} "
        f"({fact.deal.party_code}) (招标投标法 art. 46). A project whose sections have different "
        "winners records each section's 成交 with its bid_section_code",
        (("counterparty", f"not the winner {award.party_code}: {fact.deal.party_code}"),),
        section.code,
    )


_SECTION_RULES: dict[Step, Callable[[ProjectView, SectionView, LifecycleFact], None]] = {
    Step.SUBMIT_BID: _bid,
    Step.OPEN_BIDS: _opening,
    Step.COMPLETE_EVALUATION: _evaluation,
    Step.PUBLICISE_CANDIDATES: _candidates,
    Step.AWARD: _award,
    Step.COMPLETE_TRANSACTION: _completion,
}
