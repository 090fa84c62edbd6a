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
- a listing, an auction or a government procurement negotiation, consultation or quotation
  leaves the minimum period its law sets from the announcement to the deadline, and concludes
  (成交 on the platform) only with enough offers on record and with one who made an offer
  (trading_minimums: the periods and counts as data, with their legal basis);
- in a project that must by law be tendered, the award goes to the first-ranked candidate
  unless a reason 实施条例 art. 55 allows is stated for passing over those ranked above the
  winner, and 成交 after an award is at the award's amount (招标投标法 art. 46, 实施条例 art.
  57: the contract is concluded on the bid's terms, no side agreement departs from them);
- a bid deposit relieved (保证金减免) is at most what a deposit may be: 2% of the budget of
  the sections it concerns (实施条例 art. 26, 政府采购货物和服务招标投标管理办法 art. 33).

Checked where a step is received (the API), never when the log is folded: the log keeps what
was accepted under the rules of its day, and a rule added later must not make it unreadable. A
view stored before it kept a section's parties (``None``) skips the party rules for that section.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from services.intake.domain.disclosure import bids_disclosed
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
from services.intake.domain.trading_minimums import (
    MinimumPeriod,
    PeriodUnit,
    earliest_deadline,
    minimum_offers,
    minimum_period,
    period_long_enough,
)
from services.platform_core.errors import PlatformError

# 政府采购 announces its result (中标公告) instead of publicising candidates for 3 days.
NO_CANDIDATE_PUBLICITY_CATEGORIES = frozenset({"GOVERNMENT_PROCUREMENT"})
PUBLICITY_MINIMUM_DAYS = 3
_BEFORE_ANNOUNCEMENT = frozenset({ProjectState.REGISTERED, ProjectState.PRE_PUBLISHED})
MINIMUM_TENDER_BIDDERS = 3
# A bid deposit is at most 2% of the estimated price or budget (招标投标法实施条例 art. 26:
# 不得超过招标项目估算价的2%; 政府采购货物和服务招标投标管理办法 (财政部令第87号) art. 33:
# 不得超过采购项目预算金额的2%; the same 2% for negotiation, consultation and quotation).
DEPOSIT_CEILING_PERCENT = 2
DEPOSIT_CEILING_METHODS = TENDER_METHODS | frozenset(
    {"COMPETITIVE_NEGOTIATION", "COMPETITIVE_CONSULTATION", "REQUEST_FOR_QUOTATION"}
)


class PassedOverReason(StrEnum):
    """Why the first-ranked candidate (and any between it and the winner) does not win: the
    grounds 招标投标法实施条例 art. 55 lists."""

    GAVE_UP = "GAVE_UP"  # 放弃中标
    FORCE_MAJEURE = "FORCE_MAJEURE"  # 因不可抗力不能履行合同
    NO_PERFORMANCE_SECURITY = "NO_PERFORMANCE_SECURITY"  # 不按照招标文件要求提交履约保证金
    UNLAWFUL_CONDUCT = "UNLAWFUL_CONDUCT"  # 被查实存在影响中标结果的违法行为


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


class TooFewOffers(TradingRuleBroken):
    """A 成交 with fewer offers on record than its method needs (a conflict: 409)."""

    conflict = True


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
    check_together = _CONCERNED_SECTIONS_RULES.get(fact.step)
    if (check is None and check_together is None) or not view.sections:
        return
    concerned = sections_concerned(view, fact)
    if check is not None:
        for section in concerned:
            check(view, section, fact)
    if check_together is not None:
        check_together(view, concerned, fact)


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
    period = minimum_period(view.category, view.trading_method)
    if period is not None and not period_long_enough(period, fact.occurred_at, deadline):
        raise _period_too_short(view, period, fact.occurred_at, deadline)
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


def _period_too_short(
    view: ProjectView, period: MinimumPeriod, announced_at: datetime, deadline: datetime
) -> StepContradictsRecord:
    earliest = earliest_deadline(period, announced_at)
    unit = "working days (工作日)" if period.unit is PeriodUnit.WORKING_DAYS else "days"
    unpublished = (
        f"; the working-day calendar of {earliest.unpublished_year} is not published yet, so "
        "its days were counted as working days: the true earliest date may be later"
        if earliest.unpublished_year is not None
        else ""
    )
    return StepContradictsRecord(
        "disclosure_period_too_short",
        f"Project {view.project_id}: a {view.trading_method} of {view.category} leaves at least "
        f"{period.count} {unit} from the announcement ({announced_at.isoformat()}) to the "
        f"submission deadline ({period.what}; {period.basis}), counted from the next day: the "
        f"deadline may be on {earliest.day.isoformat()} at the earliest (Beijing time), not "
        f"{deadline.isoformat()}{unpublished}",
        (("submission_deadline", f"before {earliest.day.isoformat()} (Beijing time)"),),
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
    _check_first_ranked_wins(view, section, fact)


def _check_first_ranked_wins(view: ProjectView, section: SectionView, fact: LifecycleFact) -> None:
    """实施条例 art. 55: in a project that must by law be tendered the first-ranked candidate
    wins; another, in rank order, only when those above it gave up, cannot perform, furnished no
    performance security or were found to have acted unlawfully — a reason the award states.
    (Art. 55 binds projects 国有资金占控股或者主导地位; the platform does not record the funding,
    so 依法必须招标 stands for it.) A reason given when the first-ranked wins contradicts it."""
    if not section.candidates or not fact.party_codes:
        return
    first, winner = section.candidates[0], fact.party_codes[0]
    where = _where(view, section)
    if winner == first:
        if fact.passed_over_reason:
            raise StepContradictsRecord(
                "passed_over_reason_without_passing_over",
                f"{where}: the winner {winner} is the first-ranked candidate; a "
                f"passed_over_reason ({fact.passed_over_reason}) is given only when a "
                "candidate ranked above the winner is passed over (实施条例 art. 55)",
                (("passed_over_reason", "the winner is the first-ranked candidate"),),
                section.code,
            )
        return
    if not view.tender_required_by_law or fact.passed_over_reason:
        return
    reasons = ", ".join(reason.value for reason in PassedOverReason)
    raise StepContradictsRecord(
        "winner_not_first_ranked",
        f"{where}: the first-ranked candidate is {first}; in a project that must by law be "
        f"tendered it is the winner, and {winner} (ranked below it) wins only when those ranked "
        "above gave up, cannot perform through force majeure, did not furnish the performance "
        "security or were found to have acted unlawfully (招标投标法实施条例 art. 55): state "
        f"passed_over_reason, one of {reasons}",
        (
            ("winner", f"not the first-ranked candidate {first}: {winner}"),
            ("passed_over_reason", f"required, one of {reasons}"),
        ),
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
        _check_offers(view, section, fact)
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


def _check_offers(view: ProjectView, section: SectionView, fact: LifecycleFact) -> None:
    """A listing, auction or competition concludes on the platform with enough offers on record
    and with one who made an offer (trading_minimums). A trade concluded off the platform
    (on_platform false: an SOE transfer recorded for the bulletin) had no offers here."""
    offers = minimum_offers(view.category, view.trading_method)
    if offers is None or section.bidders is None or not fact.on_platform:
        return
    where = _where(view, section)
    count = len(section.bidders)
    if count < offers.count:
        raise TooFewOffers(
            "too_few_offers",
            f"{where} has {count} offer(s) on record; a {view.trading_method} concludes (成交) "
            f"with at least {offers.count} ({offers.basis}). Record the offers (POST /bids), or "
            "end the section without a deal (POST /termination)",
            (
                ("bid_section_code", section.code),
                ("bids", f"{count} on record, at least {offers.count}"),
            ),
            section.code,
        )
    if fact.deal is not None and fact.deal.party_code not in section.bidders:
        raise StepContradictsRecord(
            "counterparty_made_no_offer",
            f"{where}: {fact.deal.party_name} ({fact.deal.party_code}) made no offer in this "
            f"section; a {view.trading_method} concludes with one who did (the section's "
            f"offers: {', '.join(section.bidders)})",
            (("counterparty", f"made no offer: {fact.deal.party_code}"),),
            section.code,
        )


def _check_amount_is_the_award(
    view: ProjectView, concerned: tuple[SectionView, ...], fact: LifecycleFact
) -> None:
    """成交 after the award concludes the contract on the award's terms (招标投标法 art. 46,
    实施条例 art. 57): its amount is the award's — the sum of the awards when it concludes
    several awarded sections at once. No tolerance: the contract price is the winning bid's,
    and a change during performance is a variation of the contract, not its conclusion."""
    awards = [s.deal for s in concerned if s.state is ProjectState.AWARDED]
    if fact.deal is None or not awards or len(awards) != len(concerned):
        return
    if any(award is None for award in awards):
        return  # a view from before deals were kept
    awarded = sum(award.amount_fen for award in awards if award is not None)
    if fact.deal.amount_fen == awarded:
        return
    codes = ", ".join(s.code for s in concerned)
    raise StepContradictsRecord(
        "amount_not_the_award",
        f"Project {view.project_id} section {codes} was awarded at {awarded} fen; its 成交 "
        f"({fact.deal.amount_fen} fen) concludes the contract on the award's terms, at the "
        "same amount (招标投标法 art. 46, 招标投标法实施条例 art. 57)",
        (("amount_fen", f"{fact.deal.amount_fen}, not the award's {awarded}"),),
        concerned[0].code if len(concerned) == 1 else "",
    )


def deposit_ceiling_fen(budget_fen: int) -> int:
    """The largest bid deposit a budget allows: 2% of it, in whole fen."""
    return budget_fen * DEPOSIT_CEILING_PERCENT // 100


def _check_relief_ceiling(
    view: ProjectView, concerned: tuple[SectionView, ...], fact: LifecycleFact
) -> None:
    """A relief saves at most the deposits the tender could ask (保证金减免 records the deposit
    not collected, which reporting sums as a saving): each at most 2% of its section's budget
    (the project's budget for a view that did not keep the sections'). A relief naming its
    bidder saves at most one deposit per section; one for every bidder at most one per bidder
    on record in each section, and one deposit where none has bid yet (it may be recorded as
    soon as the announcement sets the deposit)."""
    saved = fact.amount_saved_fen
    if saved is None or view.trading_method not in DEPOSIT_CEILING_METHODS:
        return
    every_bidder = not fact.relieved_bidder
    if any(s.budget_fen is None for s in concerned):
        budgets = [(view.budget_fen, _relieved(concerned, every_bidder))]
    else:
        budgets = [(s.budget_fen or 0, _relieved((s,), every_bidder)) for s in concerned]
    ceiling = sum(deposit_ceiling_fen(budget) * relieved for budget, relieved in budgets)
    if saved <= ceiling:
        return
    codes = ", ".join(s.code for s in concerned)
    per_bid = ", ".join(f"{deposit_ceiling_fen(budget)} fen" for budget, _ in budgets)
    if every_bidder and not all(bids_disclosed(s) for s in concerned):
        # The total is one deposit per bidder on record: said before the bids are opened, it
        # would tell their number (招标投标法 art. 22; see domain.disclosure).
        whom, total = "for each bidder", ""
    else:
        whom = "for each bidder on record" if every_bidder else "for the bidder it names"
        total = f": {ceiling} fen in all"
    raise StepContradictsRecord(
        "deposit_relief_above_ceiling",
        f"Project {view.project_id} section {codes}: a bid deposit is at most "
        f"{DEPOSIT_CEILING_PERCENT}% of the budget ({per_bid}; 招标投标法实施条例 art. 26, "
        "政府采购货物和服务招标投标管理办法 art. 33), so a relief saves at most that "
        f"{whom}{total}, not {saved} fen",
        (("amount_saved_fen", f"above {per_bid} {whom}"),),
        concerned[0].code if len(concerned) == 1 else "",
    )


def _relieved(sections: tuple[SectionView, ...], every_bidder: bool) -> int:
    """How many deposits a relief may save in ``sections``: one for a named bidder, one per
    bidder on record (at least one) for a relief to every bidder."""
    if not every_bidder:
        return 1
    bidders = {code for s in sections for code in (s.bidders or ())}
    return max(1, len(bidders))


_SECTION_RULES: dict[Step, Callable[[ProjectView, SectionView, LifecycleFact], None]] = {
    Step.SUBMIT_BID: _bid,
    Step.OPEN_BIDS: _opening,
    Step.COMPLETE_EVALUATION: _evaluation,
    Step.PUBLICISE_CANDIDATES: _candidates,
    Step.AWARD: _award,
    Step.COMPLETE_TRANSACTION: _completion,
}
# Rules on the sections a step concerns taken together (an amount over all of them).
_CONCERNED_SECTIONS_RULES: dict[
    Step, Callable[[ProjectView, tuple[SectionView, ...], LifecycleFact], None]
] = {
    Step.COMPLETE_TRANSACTION: _check_amount_is_the_award,
    Step.RELIEVE_DEPOSIT: _check_relief_ceiling,
}
