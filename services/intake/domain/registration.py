"""A project registration and the rules it must satisfy before it enters the platform."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from services.platform_core.credit_code import credit_code_problem
from services.platform_core.errors import PlatformError
from services.platform_core.reference_data import regions


class Category(StrEnum):
    """Trading catalogue categories (交易目录); construction split into its sub-types."""

    HOUSING = "HOUSING"  # 房建
    MUNICIPAL = "MUNICIPAL"  # 市政
    TRANSPORT = "TRANSPORT"  # 交通
    WATER = "WATER"  # 水利
    LANDSCAPING = "LANDSCAPING"  # 园林绿化
    GOVERNMENT_PROCUREMENT = "GOVERNMENT_PROCUREMENT"  # 政府采购
    LAND_USE_RIGHTS = "LAND_USE_RIGHTS"  # 土地使用权
    MINING_RIGHTS = "MINING_RIGHTS"  # 矿业权
    SOE_PROPERTY_RIGHTS = "SOE_PROPERTY_RIGHTS"  # 国有产权
    RURAL_COLLECTIVE_PROPERTY = "RURAL_COLLECTIVE_PROPERTY"  # 农村集体产权
    EMISSION_RIGHTS = "EMISSION_RIGHTS"  # 排污权
    ASSET_DISPOSAL = "ASSET_DISPOSAL"  # 国有闲置/罚没资产处置
    OTHER = "OTHER"


@dataclass(frozen=True)
class Organisation:
    name: str
    credit_code: str  # 统一社会信用代码


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


class RegistrationRefused(PlatformError):
    """The registration breaks a rule; ``problems`` maps each field to what is wrong."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {problem}" for field, problem in problems.items()))
        self.problems = problems


def check_registration(registration: ProjectRegistration) -> None:
    """Raise RegistrationRefused naming every broken rule at once."""
    problems: dict[str, str] = {}
    if registration.region_code not in regions():
        problems["region_code"] = (
            f"unknown region {registration.region_code!r}; accepted: "
            + ", ".join(f"{r.code} {r.name}" for r in regions().values())
        )
    credit_problem = credit_code_problem(registration.tenderer.credit_code)
    if credit_problem:
        problems["tenderer.credit_code"] = f"not a unified social credit code: {credit_problem}"
    if registration.budget_fen < 0:
        problems["budget_fen"] = "must be zero or more (integer fen)"
    if not registration.name.strip():
        problems["name"] = "must not be blank"
    if problems:
        raise RegistrationRefused(problems)
