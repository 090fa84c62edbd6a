"""Whether a project must by law be tendered (依法必须招标), and the minimum bidding period that
follows from it.

The registering department knows: the approval of the tender plan (招标方案核准) says so, since
it turns on the funding source (国有资金占控股或者主导地位 ...), which intake does not record. When
the department does not say, intake derives it for an engineering tender from the one figure it
has, the sections' budgets (单项合同估算价), against the construction threshold of
必须招标的工程项目规定 (国家发展改革委令第16号 art. 5: 施工单项合同估算价在400万元人民币以上).
The view says which it is, so a supervisor sees a derived value for what it is.

The bidding period (招标文件开始发出之日起至提交投标文件截止之日止) lasts at least 20 days:
- 招标投标法 art. 24, for a project that must by law be tendered;
- 政府采购法 art. 35, for every government procurement of goods and services by tender.
The days are counted from the day after the documents are first issued (民法典 art. 201), which
on the platform is the announcement's day, Beijing time: documents issued on 1 March allow a
deadline on 21 March at the earliest.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from services.intake.domain.catalogue import Category
from services.intake.domain.working_days import china_date

ENGINEERING_CATEGORIES = frozenset(
    {
        Category.HOUSING,
        Category.MUNICIPAL,
        Category.TRANSPORT,
        Category.WATER,
        Category.LANDSCAPING,
    }
)
# Tenders (招标): the methods 招标投标法 and 政府采购法's tender procedures govern.
TENDER_METHODS = frozenset({"OPEN_TENDER", "INVITED_TENDER"})
# 国家发展改革委令第16号 art. 5(1): 施工单项合同估算价在400万元人民币以上.
CONSTRUCTION_THRESHOLD_FEN = 4_000_000 * 100
MINIMUM_BIDDING_PERIOD_DAYS = 20

LAW_ON_TENDERING = "招标投标法 art. 24"
LAW_ON_GOVERNMENT_PROCUREMENT = "政府采购法 art. 35"


@dataclass(frozen=True)
class TenderObligation:
    """依法必须招标 as the project records it: ``derived`` when intake worked it out because the
    department did not say."""

    required: bool
    derived: bool


def tender_obligation(
    declared: bool | None,
    category: Category,
    trading_method: str,
    section_budgets_fen: Iterable[int],
) -> TenderObligation:
    """The department's word when given; otherwise required for an engineering tender with a
    section at or above the construction threshold, and not required for anything else
    (government procurement is bound by its own law, not by this flag)."""
    if declared is not None:
        return TenderObligation(declared, derived=False)
    required = (
        category in ENGINEERING_CATEGORIES
        and trading_method in TENDER_METHODS
        and any(budget >= CONSTRUCTION_THRESHOLD_FEN for budget in section_budgets_fen)
    )
    return TenderObligation(required, derived=True)


def minimum_bidding_period_basis(
    category: str, trading_method: str, required_by_law: bool | None
) -> str | None:
    """The law that sets a 20-day minimum bidding period for this project, or None when none
    does (not a tender, not required by law, or registered before the platform recorded it)."""
    if trading_method not in TENDER_METHODS:
        return None
    if category == Category.GOVERNMENT_PROCUREMENT:
        return LAW_ON_GOVERNMENT_PROCUREMENT
    return LAW_ON_TENDERING if required_by_law else None


def earliest_submission_deadline(documents_issued_at: datetime) -> date:
    """The first Beijing date on which the bidding period has run its 20 days."""
    return china_date(documents_issued_at) + timedelta(days=MINIMUM_BIDDING_PERIOD_DAYS)


def bidding_period_long_enough(documents_issued_at: datetime, deadline: datetime) -> bool:
    return china_date(deadline) >= earliest_submission_deadline(documents_issued_at)
