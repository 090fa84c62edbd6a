"""The minimums the law sets for trades that are not tenders, as data: how long an announcement
stays open before offers close, and how many offers a 成交 needs. (A tender's 20-day bidding
period is tender_obligation's; its bidders' minimum, trading_rules'.)

Each row names its legal basis. Only what the platform records is checked: the announcement's
day and its submission deadline (投标/报价/挂牌截止), and the offers (bids) on record for the
section. Periods in days are counted from the day after the announcement (民法典 art. 201),
Beijing dates; periods in working days (工作日) with the project's working-day calendar
(working_days: statutory holidays off, 调休 on).

A period the calendar cannot count yet (a year the State Council has not published, see
working_days) is not guessed, as 容缺 does not guess its deadlines: the unpublished year's days
are counted as if each were a working day, which gives the most working days the period could
have. A deadline refused under that count is too early whatever the calendar will say; one
accepted under it might, once the year is published, turn out a day or so short — accepted, as
a 容缺 registration whose deadline cannot be counted is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from services.intake.domain.working_days import CalendarUnavailable, china_date, is_working_day


class PeriodUnit(StrEnum):
    DAYS = "DAYS"  # 日: calendar days
    WORKING_DAYS = "WORKING_DAYS"  # 工作日


@dataclass(frozen=True)
class MinimumPeriod:
    """At least ``count`` ``unit`` from the announcement to the submission deadline."""

    category: str
    methods: frozenset[str]
    count: int
    unit: PeriodUnit
    what: str  # the period, in the law's words
    basis: str  # the law that sets it


@dataclass(frozen=True)
class MinimumOffers:
    """At least ``count`` offers (bids) on record in a section before its 成交. ``category``
    '' : any category."""

    category: str
    methods: frozenset[str]
    count: int
    basis: str


MINIMUM_PERIODS: tuple[MinimumPeriod, ...] = (
    MinimumPeriod(
        category="SOE_PROPERTY_RIGHTS",
        # The disclosure precedes whatever way the bidders then compete (挂牌, 拍卖, 网络竞价);
        # a non-public negotiated transfer (协议转让) is not disclosed.
        methods=frozenset({"LISTING", "AUCTION", "ONLINE_BIDDING"}),
        count=20,
        unit=PeriodUnit.WORKING_DAYS,
        what="产权转让正式披露信息时间",
        basis="企业国有资产交易监督管理办法 (国资委 财政部令第32号) art. 13: 正式披露信息时间"
        "不得少于20个工作日",
    ),
    MinimumPeriod(
        category="LAND_USE_RIGHTS",
        methods=frozenset({"LISTING"}),
        count=10,
        unit=PeriodUnit.DAYS,
        what="挂牌时间",
        basis="招标拍卖挂牌出让国有建设用地使用权规定 (国土资源部令第39号): 挂牌时间不得少于10日",
    ),
    MinimumPeriod(
        category="GOVERNMENT_PROCUREMENT",
        methods=frozenset({"COMPETITIVE_CONSULTATION"}),
        count=10,
        unit=PeriodUnit.DAYS,
        what="从磋商文件发出之日起至供应商提交首次响应文件截止之日",
        basis="政府采购竞争性磋商采购方式管理暂行办法 (财库〔2014〕214号) art. 10: 不得少于10日",
    ),
    MinimumPeriod(
        category="GOVERNMENT_PROCUREMENT",
        methods=frozenset({"COMPETITIVE_NEGOTIATION"}),
        count=3,
        unit=PeriodUnit.WORKING_DAYS,
        what="从谈判文件发出之日起至供应商提交首次响应文件截止之日",
        basis="政府采购非招标采购方式管理办法 (财政部令第74号): 不得少于3个工作日",
    ),
    MinimumPeriod(
        category="GOVERNMENT_PROCUREMENT",
        methods=frozenset({"REQUEST_FOR_QUOTATION"}),
        count=3,
        unit=PeriodUnit.WORKING_DAYS,
        what="从询价通知书发出之日起至供应商提交响应文件截止之日",
        basis="政府采购非招标采购方式管理办法 (财政部令第74号): 不得少于3个工作日",
    ),
)

# Government procurement by negotiation, consultation or quotation is among at least three
# suppliers (政府采购法 art. 38, 40; 财库〔2014〕214号). The exceptions let two go on: a
# negotiation after an open tender that drew only two (财政部令第74号, with the finance
# department's approval), a consultation for a government-purchased service or a research
# project (财库〔2015〕124号). Whether an exception applies is not on record, so negotiation
# and consultation need the two every exception still requires; quotation has no exception.
# Every other listing, auction or competition concludes with an offer: a land listing with a
# single bidder at or above the reserve concludes (国土资源部令第39号), and a state-owned
# property right listed with a single qualified transferee is concluded by agreement with it
# (企业国有资产交易监督管理办法).
MINIMUM_OFFERS: tuple[MinimumOffers, ...] = (
    MinimumOffers(
        category="GOVERNMENT_PROCUREMENT",
        methods=frozenset({"REQUEST_FOR_QUOTATION"}),
        count=3,
        basis="政府采购法 art. 40: 询价 among at least three suppliers",
    ),
    MinimumOffers(
        category="GOVERNMENT_PROCUREMENT",
        methods=frozenset({"COMPETITIVE_NEGOTIATION", "COMPETITIVE_CONSULTATION"}),
        count=2,
        basis="政府采购法 art. 38 (three suppliers; two under 财政部令第74号's and "
        "财库〔2015〕124号's exceptions)",
    ),
    MinimumOffers(
        category="",
        methods=frozenset(
            {
                "LISTING",
                "AUCTION",
                "ONLINE_BIDDING",
                "COMPETITIVE_NEGOTIATION",
                "COMPETITIVE_CONSULTATION",
                "REQUEST_FOR_QUOTATION",
            }
        ),
        count=1,
        basis="a listing, auction or competition concludes with one who made an offer",
    ),
)


def minimum_period(category: str, trading_method: str) -> MinimumPeriod | None:
    return next(
        (
            row
            for row in MINIMUM_PERIODS
            if row.category == category and trading_method in row.methods
        ),
        None,
    )


def minimum_offers(category: str, trading_method: str) -> MinimumOffers | None:
    """The first row that fits (the table lists the specific rows before the general one)."""
    return next(
        (
            row
            for row in MINIMUM_OFFERS
            if row.category in ("", category) and trading_method in row.methods
        ),
        None,
    )


@dataclass(frozen=True)
class EarliestDeadline:
    """The first Beijing date the period allows as its deadline; ``unpublished_year`` when the
    count crossed a year the calendar does not know (its days counted as working days)."""

    day: date
    unpublished_year: int | None = None


def _may_be_working_day(day: date) -> tuple[bool, int | None]:
    try:
        return is_working_day(day), None
    except CalendarUnavailable as unknown:
        return True, unknown.year


def earliest_deadline(period: MinimumPeriod, announced_at: datetime) -> EarliestDeadline:
    start = china_date(announced_at)
    if period.unit is PeriodUnit.DAYS:
        return EarliestDeadline(start + timedelta(days=period.count))
    day, counted, unpublished = start, 0, None
    while counted < period.count:
        day += timedelta(days=1)
        working, year = _may_be_working_day(day)
        unpublished = unpublished or year
        counted += working
    return EarliestDeadline(day, unpublished)


def period_long_enough(period: MinimumPeriod, announced_at: datetime, deadline: datetime) -> bool:
    """Whether the deadline leaves the period (see the module docstring for a period the
    calendar cannot count yet)."""
    return china_date(deadline) >= earliest_deadline(period, announced_at).day
