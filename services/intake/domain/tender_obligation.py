"""Whether a project must by law be tendered (依法必须招标), and the minimum bidding period that
follows from it.

The registering department knows: the approval of the tender plan (招标方案核准) says so, since
it turns on the funding source (国有资金占控股或者主导地位 ...), which intake does not record. When
the department does not say, intake derives it for an engineering tender from what it has, the
sections' budgets (单项合同估算价) and what each contracts for, against the thresholds of
必须招标的工程项目规定 (国家发展改革委令第16号 art. 5): 施工 400万元, 重要设备、材料等货物
200万元, 勘察、设计、监理等服务 100万元. Procurements of one project that can be made together
count together (art. 5 para. 2; 发改办法规〔2020〕770号: 同一项目中适宜放在一起进行采购的同类采购
项目): the sections one registration tenders together are, so each kind's sections are summed —
three 施工 sections of 150万元 reach the 400万元 line, as splitting them must not evade it
(化整为零规避招标, 招标投标法 art. 4). A section that does not say what it contracts for is taken
as 施工, the usual section of an engineering tender. The view says the value was derived, so a
supervisor sees it for what it is, and the department can declare the approved value instead.

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
from enum import StrEnum

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


class ContractType(StrEnum):
    """What a section contracts for, as 发改委令第16号 art. 5 sets its thresholds."""

    CONSTRUCTION = "CONSTRUCTION"  # 施工
    GOODS = "GOODS"  # 与工程建设有关的重要设备、材料等货物
    SERVICES = "SERVICES"  # 勘察、设计、监理等服务


# 国家发展改革委令第16号 art. 5(1)-(3): 单项合同估算价 at or above which the tender is required.
CONSTRUCTION_THRESHOLD_FEN = 4_000_000 * 100
THRESHOLD_FEN = {
    ContractType.CONSTRUCTION: CONSTRUCTION_THRESHOLD_FEN,
    ContractType.GOODS: 2_000_000 * 100,
    ContractType.SERVICES: 1_000_000 * 100,
}
THRESHOLDS_IN_WORDS = "施工400万元、货物200万元、服务100万元"
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
    sections: Iterable[tuple[ContractType | None, int]],
) -> TenderObligation:
    """The department's word when given; otherwise required for an engineering tender whose
    sections of one kind (施工, 货物, 服务; unsaid is 施工) reach that kind's threshold
    together, and not required for anything else (government procurement is bound by its own
    law, not by this flag). ``sections`` are (contract type, budget in fen) pairs."""
    if declared is not None:
        return TenderObligation(declared, derived=False)
    if category not in ENGINEERING_CATEGORIES or trading_method not in TENDER_METHODS:
        return TenderObligation(required=False, derived=True)
    totals = dict.fromkeys(ContractType, 0)
    for contract_type, budget_fen in sections:
        totals[contract_type or ContractType.CONSTRUCTION] += budget_fen
    required = any(total >= THRESHOLD_FEN[kind] for kind, total in totals.items())
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
