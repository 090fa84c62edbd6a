"""A project registration (进场登记) and the rules it must satisfy before it enters the platform."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from functools import lru_cache

from services.intake.domain.catalogue import Category, catalogues
from services.intake.domain.lifecycle import ProjectView, SectionView
from services.intake.domain.tender_obligation import ContractType, TenderObligation
from services.intake.domain.working_days import china_date
from services.platform_core.credit_code import credit_code_problem
from services.platform_core.errors import PlatformError
from services.platform_core.money import MAX_AMOUNT_FEN
from services.platform_core.reference_data import (
    department_names,
    district_branches,
    load_json,
    regions,
)

__all__ = [
    "BidSection",
    "Category",
    "ContractType",
    "Deficiency",
    "Organisation",
    "ProjectRegistration",
    "RegistrationRefused",
    "TradingMethod",
    "check_registration",
    "default_supervisor",
]


class TradingMethod(StrEnum):
    OPEN_TENDER = "OPEN_TENDER"  # 公开招标
    INVITED_TENDER = "INVITED_TENDER"  # 邀请招标
    COMPETITIVE_NEGOTIATION = "COMPETITIVE_NEGOTIATION"  # 竞争性谈判
    COMPETITIVE_CONSULTATION = "COMPETITIVE_CONSULTATION"  # 竞争性磋商
    REQUEST_FOR_QUOTATION = "REQUEST_FOR_QUOTATION"  # 询价
    SINGLE_SOURCE = "SINGLE_SOURCE"  # 单一来源
    AUCTION = "AUCTION"  # 拍卖
    LISTING = "LISTING"  # 挂牌
    ONLINE_BIDDING = "ONLINE_BIDDING"  # 网络竞价
    NEGOTIATED_TRANSFER = "NEGOTIATED_TRANSFER"  # 协议转让
    OTHER = "OTHER"


@dataclass(frozen=True)
class Organisation:
    name: str
    credit_code: str  # 统一社会信用代码


@dataclass(frozen=True)
class BidSection:
    code: str  # BID_SECTION_CODE
    name: str
    budget_fen: int
    contract_type: ContractType | None = None  # 施工 / 货物 / 服务, when the department says


@dataclass(frozen=True)
class Deficiency:
    """容缺受理: documents still missing, the last China date to supply them (补正) and the
    working days it was counted in. The date is None while pending: the working-day calendar
    did not cover it at registration (see domain.deficiency)."""

    missing_documents: tuple[str, ...]
    supplement_deadline: date | None
    supplement_working_days: int = 0  # 0: not stated (only deadlines given as a date)


@dataclass(frozen=True)
class ProjectRegistration:
    project_id: str
    unified_deal_code: str
    name: str
    category: Category
    region_code: str
    tenderer: Organisation
    budget_fen: int
    registering_department: str
    registered_at: datetime
    tender_project_code: str = ""
    agency: Organisation | None = None
    supervise_dept_code: str = ""
    trading_method: TradingMethod = TradingMethod.OPEN_TENDER
    bid_sections: tuple[BidSection, ...] = field(default_factory=tuple)
    key_project: bool = False
    green_channel: bool = False
    deficiency: Deficiency | None = None
    commitment_pledged: bool = False
    # 依法必须招标: as declared, or derived (tender_obligation) when the department did not say;
    # None: not recorded (as in events from before it was).
    tender_obligation: TenderObligation | None = None


class RegistrationRefused(PlatformError):
    """The registration breaks a rule; ``problems`` maps each field to what is wrong."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {problem}" for field, problem in problems.items()))
        self.problems = problems


@lru_cache(maxsize=1)
def _city_departments() -> dict[str, str]:
    return {entry["code"]: entry["name"] for entry in load_json("departments.json")["departments"]}


@lru_cache(maxsize=1)
def _supervision() -> dict[str, str]:
    routing: dict[str, str] = load_json("departments.json")["supervision_by_category"]
    return routing


@lru_cache(maxsize=1)
def _branches() -> dict[tuple[str, str], str]:
    return {(branch.parent, branch.region): branch.code for branch in district_branches()}


def default_supervisor(category: Category, region_code: str) -> str:
    """The supervising department, from the routing data: the category's city department
    (房建市政→住建局 ...), or its branch in the project's region where it has one (长清区 →
    长清区住房和城乡建设局)."""
    city = _supervision()[category.value]
    return _branches().get((city, region_code), city)


def _organisation_problems(
    prefix: str, organisation: Organisation, problems: dict[str, str]
) -> None:
    if not organisation.name.strip():
        problems[f"{prefix}.name"] = "must not be blank"
    credit_problem = credit_code_problem(organisation.credit_code)
    if credit_problem:
        problems[f"{prefix}.credit_code"] = f"not a unified social credit code: {credit_problem}"


def check_registration(registration: ProjectRegistration) -> None:
    """Raise RegistrationRefused naming every broken rule at once."""
    problems: dict[str, str] = {}
    known_regions = regions()
    if registration.region_code not in known_regions:
        problems["region_code"] = (
            f"unknown region {registration.region_code!r}; accepted: "
            + ", ".join(f"{r.code} {r.name}" for r in known_regions.values())
        )
    else:
        catalogue = catalogues().for_region(registration.region_code)
        if not catalogue.admits(registration.category):
            problems["category"] = (
                f"{registration.category.value} is not on {catalogue.name} ({catalogue.code}) "
                f"that applies to {known_regions[registration.region_code].name}; accepted: "
                + ", ".join(sorted(c.value for c in catalogue.categories))
            )
    _organisation_problems("tenderer", registration.tenderer, problems)
    if registration.agency is not None:
        _organisation_problems("agency", registration.agency, problems)
    budget_problem = _amount_problem(registration.budget_fen)
    if budget_problem:
        problems["budget_fen"] = budget_problem
    if not registration.name.strip():
        problems["name"] = "must not be blank"
    _service_rule_problems(registration, problems)
    if problems:
        raise RegistrationRefused(problems)


def _amount_problem(fen: int) -> str:
    if fen < 0:
        return "must be zero or more (integer fen)"
    if fen > MAX_AMOUNT_FEN:
        return (
            f"at most {MAX_AMOUNT_FEN} fen (10万亿元): far above any single trade, so an amount "
            "above it is a unit slip (fen are 分: 1 元 is 100 fen)"
        )
    return ""


def _service_rule_problems(registration: ProjectRegistration, problems: dict[str, str]) -> None:
    code = registration.supervise_dept_code
    if code and code not in department_names():
        problems["supervise_dept_code"] = (
            f"unknown department {code!r}; accepted: a city department ("
            + ", ".join(f"{code} {name}" for code, name in _city_departments().items())
            + ") or one of their district branches (code like ZJJ-CQ 长清区住房和城乡建设局; "
            "abnormal push's GET /v1/departments lists them all)"
        )
    if registration.green_channel and not registration.key_project:
        problems["green_channel"] = (
            "the green channel (绿色通道) is only for key projects (重点项目): "
            "set key_project to true or green_channel to false"
        )
    codes = [section.code for section in registration.bid_sections]
    if not codes:
        problems["bid_sections"] = "at least one bid section"
    elif len(set(codes)) != len(codes):
        problems["bid_sections"] = "bid_section_code must be unique within the project"
    for index, section in enumerate(registration.bid_sections):
        section_problem = _amount_problem(section.budget_fen)
        if section_problem:
            problems[f"bid_sections.{index}.budget_fen"] = section_problem
    if registration.deficiency is not None:
        missing = registration.deficiency.missing_documents
        if not missing or any(not name.strip() for name in missing):
            problems["deficiency.missing_documents"] = (
                "name each missing document (容缺受理 needs at least one)"
            )
        deadline = registration.deficiency.supplement_deadline
        if deadline is None:
            if registration.deficiency.supplement_working_days < 1:
                problems["deficiency.supplement_working_days"] = (
                    "at least one working day (a pending deadline is counted in them)"
                )
        elif deadline <= china_date(registration.registered_at):
            problems["deficiency.supplement_deadline"] = "must be after the registration date"


def registered_view(registration: ProjectRegistration) -> ProjectView:
    """A newly registered project's view: what the stream worker folds from its
    ProjectRegistered event (the API answers with it before the worker has run)."""
    deficiency = registration.deficiency
    obligation = registration.tender_obligation
    registered_at = registration.registered_at.astimezone(UTC)  # as the event's Timestamp has it
    return ProjectView(
        project_id=registration.project_id,
        unified_deal_code=registration.unified_deal_code,
        name=registration.name,
        category=registration.category.value,
        region_code=registration.region_code,
        registering_department=registration.registering_department,
        supervise_dept_code=registration.supervise_dept_code,
        tenderer_name=registration.tenderer.name,
        tenderer_credit_code=registration.tenderer.credit_code,
        budget_fen=registration.budget_fen,
        key_project=registration.key_project,
        green_channel=registration.green_channel,
        commitment_pledged=registration.commitment_pledged,
        registered_at=registered_at,
        outstanding_documents=deficiency.missing_documents if deficiency else (),
        supplement_deadline=deficiency.supplement_deadline if deficiency else None,
        updated_at=registered_at,
        supplement_working_days=(deficiency.supplement_working_days or None)
        if deficiency
        else None,
        supplement_deadline_pending=(
            deficiency is not None and deficiency.supplement_deadline is None
        ),
        sections=tuple(
            SectionView(section.code, budget_fen=section.budget_fen)
            for section in registration.bid_sections
        ),
        trading_method=registration.trading_method.value,
        tender_required_by_law=obligation.required if obligation else None,
        tender_obligation_derived=obligation.derived if obligation else False,
    )
