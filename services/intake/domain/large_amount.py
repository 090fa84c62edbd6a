"""Large-amount trade records (大额交易项目信息) pulled from the provincial, city and county
platforms: one record per line of an import, checked on its own."""

from __future__ import annotations

import operator
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from types import MappingProxyType
from typing import Any, NamedTuple

from services.intake.domain.catalogue import Category
from services.intake.domain.registration import Organisation, TradingMethod
from services.platform_core.credit_code import credit_code_problem
from services.platform_core.errors import PlatformError
from services.platform_core.money import MAX_AMOUNT_FEN
from services.platform_core.reference_data import regions

# Deal times accepted: the platforms' records start long after 2000; a year outside is a typo
# (year 1 or 9999 also cannot be written as an event's timestamp, which failed a whole batch).
EARLIEST_DEAL_AT = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_DEAL_AT = datetime(2100, 12, 31, 23, 59, 59, tzinfo=UTC)
# A deal is pulled after it is made, so a deal time after the pull is a typo (2027 for 2022);
# the platforms' clocks may run a little ahead of ours, so a deal up to this much after the pull
# time is still taken.
DEAL_AT_CLOCK_SKEW = timedelta(minutes=5)
# An integer as CSV text: ASCII digits only (str.isdigit also takes '²' and other digits
# int() refuses, and lstrip('-') took '--5').
_INTEGER_TEXT = re.compile(r"-?[0-9]+")
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
SOURCE_NAMES = {name: name.upper() for name in KNOWN_FIELDS}


class SourceLevel(StrEnum):
    PROVINCIAL = "provincial"  # 省级平台
    CITY = "city"  # 市级平台
    COUNTY = "county"  # 县(区)级平台


class RecordRefused(PlatformError):
    """A line that is not a usable record; the message is the reason reported for the line."""


class LargeAmountRecord(NamedTuple):
    """One checked record. Immutable like the other domain values, but a named tuple: an import
    makes one per line, and a frozen dataclass cost three times as much to build."""

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
    # The fields as read (JSON values or CSV text) by this module's names; not to be changed.
    source: Mapping[str, object] = MappingProxyType({})

    @property
    def source_fields(self) -> tuple[tuple[str, str], ...]:
        """Every field of the source record, verbatim as text, by the national standard's
        field name (UNIFIED_DEAL_CODE ...). (The bulk import's event encoder spells this out
        again, in its loop.)"""
        return tuple(
            (SOURCE_NAMES[name], value if type(value) is str else str(value))
            for name, value in self.source.items()
        )


_CATEGORIES: dict[str, Category] = {member.value: member for member in Category}
_TRADING_METHODS: dict[str, TradingMethod] = {member.value: member for member in TradingMethod}
_ROLE_KEYS = {role: (f"{role}_name", f"{role}_credit_code") for role in ("tenderer", "winner")}


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
    elif from_text and isinstance(value, str) and _INTEGER_TEXT.fullmatch(value.strip()):
        amount = int(value)
    else:
        raise RecordRefused(f"amount_fen must be an integer number of fen, got {value!r}")
    if amount < 0:
        raise RecordRefused(f"amount_fen must be zero or more, got {amount}")
    if amount > MAX_AMOUNT_FEN:
        raise RecordRefused(f"amount_fen must be at most {MAX_AMOUNT_FEN} (10万亿元), got {amount}")
    return amount


@lru_cache(maxsize=65_536)
def _iso_datetime(text: str) -> datetime | None:
    """``text`` as a datetime, None when it is not ISO 8601. Deal times repeat across the
    records of an import (a day's deals, a platform's batch), so each text is parsed once."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


@lru_cache(maxsize=65_536)
def _checked_organisation(role: str, name: str, code: str) -> Organisation | str:
    """The organisation, or the reason it is refused. The same tenderers and winners recur
    across thousands of records: each pair is checked (and its object built) once."""
    problem = credit_code_problem(code)
    if problem:
        return f"{role}_credit_code is not a unified social credit code: {problem}"
    if not name:
        return f"{role}_name is required with {role}_credit_code"
    return Organisation(name, code)


def _organisation(fields: dict[str, Any], role: str, *, required: bool) -> Organisation | None:
    name_key, code_key = _ROLE_KEYS[role]
    name = _text(fields, name_key)
    code = _text(fields, code_key)
    if not name and not code:
        if required:
            raise RecordRefused(f"{role}_name and {role}_credit_code are required")
        return None
    checked = _checked_organisation(role, name, code)
    if isinstance(checked, str):
        raise RecordRefused(checked)
    return checked


def _refuse_missing_or_unknown(fields: dict[str, Any]) -> None:
    missing = [name for name in REQUIRED if fields.get(name) in (None, "")]
    if missing:
        raise RecordRefused(f"missing {', '.join(missing)}")
    unknown = sorted(set(fields) - KNOWN_FIELDS)
    if unknown:
        raise RecordRefused(
            f"unknown fields {', '.join(unknown)}; accepted: {', '.join(sorted(KNOWN_FIELDS))}"
        )


_required_values = operator.itemgetter(*REQUIRED)


def _after_pull(given: object, deal_at: datetime, pulled_at: datetime) -> str:
    # The pull time in the line's own offset, so the clerk compares like with like.
    pulled = pulled_at.astimezone(deal_at.tzinfo).isoformat()
    skew = int(DEAL_AT_CLOCK_SKEW.total_seconds() // 60)
    return (
        f"deal_at {given!r} is after the pull time {pulled} (more than {skew} minutes of "
        "clock skew): a deal cannot be pulled before it is made"
    )


def parse_record(
    fields: dict[str, Any], *, from_text: bool, pulled_at: datetime
) -> LargeAmountRecord:
    """Check one record's fields; ``from_text`` when every value came as text (CSV);
    ``pulled_at`` when the records were pulled from the platform (a deal after it is refused,
    ``DEAL_AT_CLOCK_SKEW`` allowed).

    Each check runs in a fixed order and the first failing one is the line's reason. This runs
    once per line of imports of millions of lines, so the common case is kept cheap: the
    presence and field-name checks are one C-level test each, enum values are dict lookups,
    and deal times and organisations are checked once per distinct value."""
    try:
        required = _required_values(fields)
    except KeyError:
        required = (None,)
    if None in required or "" in required or not fields.keys() <= KNOWN_FIELDS:
        _refuse_missing_or_unknown(fields)
    code = _text(fields, "unified_deal_code")
    if not DEAL_CODE.match(code):
        raise RecordRefused(f"unified_deal_code {code!r} must be 6-64 letters, digits or '-'")
    category = _CATEGORIES.get(_text(fields, "category"))
    if category is None:
        raise RecordRefused(
            f"category {fields['category']!r} is not one of {', '.join(c.value for c in Category)}"
        )
    region_code = _text(fields, "region_code")
    if region_code not in regions():
        raise RecordRefused(f"unknown region {region_code!r}")
    method_text = _text(fields, "trading_method") or TradingMethod.OTHER.value
    method = _TRADING_METHODS.get(method_text)
    if method is None:
        raise RecordRefused(f"trading_method {method_text!r} is not known")
    deal_at = _iso_datetime(_text(fields, "deal_at"))
    if deal_at is None:
        raise RecordRefused(f"deal_at {fields['deal_at']!r} is not an ISO 8601 instant")
    if deal_at.tzinfo is None:
        raise RecordRefused("deal_at needs its UTC offset, e.g. 2023-03-01T10:00:00+08:00")
    if not EARLIEST_DEAL_AT <= deal_at <= LATEST_DEAL_AT:
        raise RecordRefused(
            f"deal_at {fields['deal_at']!r} must fall between {EARLIEST_DEAL_AT.year} and "
            f"{LATEST_DEAL_AT.year}"
        )
    # The first comparison alone decides the common case (a deal before its pull).
    if deal_at > pulled_at and deal_at - pulled_at > DEAL_AT_CLOCK_SKEW:
        raise RecordRefused(_after_pull(fields["deal_at"], deal_at, pulled_at))
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
        source=fields,
    )
