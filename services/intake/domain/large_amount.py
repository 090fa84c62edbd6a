"""Large-amount trade records (大额交易项目信息) pulled from the provincial, city and county
platforms: one record per line of an import, checked on its own."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any

from services.intake.domain.catalogue import Category
from services.intake.domain.registration import Organisation, TradingMethod
from services.platform_core.credit_code import credit_code_problem
from services.platform_core.errors import PlatformError
from services.platform_core.reference_data import regions

DEAL_CODE = re.compile(r"^[0-9A-Za-z-]{6,64}$")
REQUIRED = ("unified_deal_code", "name", "category", "region_code", "amount_fen", "deal_at")
KNOWN_FIELDS = frozenset(
    {
        *REQUIRED,
        "tender_project_code",
        "tenderer_name",
        "tenderer_credit_code",
        "winner_name",
        "winner_credit_code",
        "trading_method",
        "source_platform_code",
    }
)

# The national standard's spelling of each field (UNIFIED_DEAL_CODE ...), for source_fields.
_SOURCE_NAMES = {name: name.upper() for name in KNOWN_FIELDS}


class SourceLevel(StrEnum):
    PROVINCIAL = "provincial"  # 省级平台
    CITY = "city"  # 市级平台
    COUNTY = "county"  # 县(区)级平台


class RecordRefused(PlatformError):
    """A line that is not a usable record; the message is the reason reported for the line."""


@dataclass(frozen=True)
class LargeAmountRecord:
    unified_deal_code: str
    name: str
    category: Category
    region_code: str
    amount_fen: int
    deal_at: datetime
    tender_project_code: str = ""
    tenderer: Organisation | None = None
    winner: Organisation | None = None
    trading_method: TradingMethod = TradingMethod.OTHER
    source_platform_code: str = ""
    source_fields: tuple[tuple[str, str], ...] = ()


def _text(fields: dict[str, Any], name: str) -> str:
    value = fields.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise RecordRefused(f"{name} must be text, got {type(value).__name__}")
    return value.strip()


def _amount(value: Any, *, from_text: bool) -> int:
    if isinstance(value, bool) or value is None:
        raise RecordRefused("amount_fen must be an integer number of fen")
    if isinstance(value, int):
        amount = value
    elif from_text and isinstance(value, str) and value.strip().lstrip("-").isdigit():
        amount = int(value)
    else:
        raise RecordRefused(f"amount_fen must be an integer number of fen, got {value!r}")
    if amount < 0:
        raise RecordRefused(f"amount_fen must be zero or more, got {amount}")
    return amount


@lru_cache(maxsize=65_536)
def _credit_code_problem(code: str) -> str | None:
    # The same tenderers and winners recur across thousands of records.
    return credit_code_problem(code)


def _organisation(fields: dict[str, Any], role: str, *, required: bool) -> Organisation | None:
    name = _text(fields, f"{role}_name")
    code = _text(fields, f"{role}_credit_code")
    if not name and not code:
        if required:
            raise RecordRefused(f"{role}_name and {role}_credit_code are required")
        return None
    problem = _credit_code_problem(code)
    if problem:
        raise RecordRefused(f"{role}_credit_code is not a unified social credit code: {problem}")
    if not name:
        raise RecordRefused(f"{role}_name is required with {role}_credit_code")
    return Organisation(name, code)


def parse_record(fields: dict[str, Any], *, from_text: bool) -> LargeAmountRecord:
    """Check one record's fields; ``from_text`` when every value came as text (CSV)."""
    missing = [name for name in REQUIRED if fields.get(name) in (None, "")]
    if missing:
        raise RecordRefused(f"missing {', '.join(missing)}")
    unknown = sorted(set(fields) - KNOWN_FIELDS)
    if unknown:
        raise RecordRefused(
            f"unknown fields {', '.join(unknown)}; accepted: {', '.join(sorted(KNOWN_FIELDS))}"
        )
    code = _text(fields, "unified_deal_code")
    if not DEAL_CODE.match(code):
        raise RecordRefused(f"unified_deal_code {code!r} must be 6-64 letters, digits or '-'")
    try:
        category = Category(_text(fields, "category"))
    except ValueError:
        raise RecordRefused(
            f"category {fields['category']!r} is not one of {', '.join(c.value for c in Category)}"
        ) from None
    region_code = _text(fields, "region_code")
    if region_code not in regions():
        raise RecordRefused(f"unknown region {region_code!r}")
    method_text = _text(fields, "trading_method") or TradingMethod.OTHER.value
    try:
        method = TradingMethod(method_text)
    except ValueError:
        raise RecordRefused(f"trading_method {method_text!r} is not known") from None
    try:
        deal_at = datetime.fromisoformat(_text(fields, "deal_at"))
    except ValueError:
        raise RecordRefused(f"deal_at {fields['deal_at']!r} is not an ISO 8601 instant") from None
    if deal_at.tzinfo is None:
        raise RecordRefused("deal_at needs its UTC offset, e.g. 2023-03-01T10:00:00+08:00")
    name = _text(fields, "name")
    return LargeAmountRecord(
        unified_deal_code=code,
        name=name,
        category=category,
        region_code=region_code,
        amount_fen=_amount(fields["amount_fen"], from_text=from_text),
        deal_at=deal_at,
        tender_project_code=_text(fields, "tender_project_code"),
        tenderer=_organisation(fields, "tenderer", required=True),
        winner=_organisation(fields, "winner", required=False),
        trading_method=method,
        source_platform_code=_text(fields, "source_platform_code"),
        source_fields=tuple(
            (_SOURCE_NAMES[key], value if isinstance(value, str) else str(value))
            for key, value in fields.items()
        ),
    )
