"""The half-year bulletin (通报), composed from the figures, in the source bulletin's structure.

No number is typed in: every figure in the text is a :class:`FigureRef` holding the value and
the counter(s) it was read from, so the renderers can footnote each one with its source and the
evidence query that lists the events behind it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlencode

from services.reporting.domain.catalogue import BY_KEY
from services.reporting.domain.figures import (
    Figure,
    distribution,
    histogram_of,
    ratio,
    select,
    value_of,
)
from services.reporting.domain.metrics import PERIOD, UNKNOWN, CounterKey
from services.reporting.domain.periods import Period

CATEGORY_ZH = {
    "HOUSING": "房屋建筑",
    "MUNICIPAL": "市政",
    "TRANSPORT": "交通",
    "WATER": "水利",
    "LANDSCAPING": "园林绿化",
    "GOVERNMENT_PROCUREMENT": "政府采购",
    "LAND_USE_RIGHTS": "土地使用权",
    "MINING_RIGHTS": "矿业权",
    "SOE_PROPERTY_RIGHTS": "国有产权",
    "RURAL_COLLECTIVE_PROPERTY": "农村集体产权",
    "EMISSION_RIGHTS": "排污权",
    "ASSET_DISPOSAL": "国有闲置资产/罚没资产处置",
    "OTHER": "其他",
    "UNKNOWN": "未登记类别",
}
SOURCE_LEVEL_ZH = {"PROVINCIAL": "省级平台", "CITY": "市级平台", "COUNTY": "县(区)级平台"}
REPORT_SOURCE_ZH = {"MANUAL": "部门报送", "DETECTED": "系统自动监测"}
BEHAVIOUR_ZH = {
    "COLLUSION_SAME_PREPARER": "投标文件由同一单位或个人编制",
    "COLLUSION_SAME_AGENT": "委托同一单位或个人办理投标事宜",
    "COLLUSION_SAME_PROJECT_MANAGER": "载明的项目管理成员为同一人",
    "COLLUSION_ABNORMAL_SIMILARITY": "投标文件异常一致或报价呈规律性差异",
    "COLLUSION_FILES_MIXED": "投标文件相互混装",
    "COLLUSION_SAME_DEPOSIT_ACCOUNT": "投标保证金从同一账户转出",
    "FALSE_MATERIALS": "弄虚作假",
    "EXPERT_MISCONDUCT": "评标专家违规",
    "AGENCY_MISCONDUCT": "招标代理违规",
    "DISCRIMINATORY_TERMS": "排斥潜在投标人或差别待遇",
    "AWARD_ABANDONED": "放弃中标或拒签合同",
    "DEPOSIT_IRREGULARITY": "保证金违规",
    "COMMITMENT_BREACH": "违反告知承诺",
    "OTHER": "其他",
}
# The measures a push is resolved with (abnormal push's HandlingResult), in the order the
# bulletin names them.
MEASURE_ZH = {
    "PENALISED": "处罚",
    "INTERVIEWED": "约谈",
    "REFERRED": "移送有关机关",
    "NO_ACTION": "不予处理",
}
SECTION_HEADINGS = (
    "一、强化交易服务保障,助力重点项目建设",
    "二、加强制度文件创新,不断优化营商环境",
    "三、深化平台整合共享,推进平台交易全覆盖",
    "四、监管体系不断提升,营造良好交易环境",
)


@dataclass(frozen=True)
class Labels:
    """Display names from the reference data (and venue names from venue events)."""

    regions: Mapping[str, str] = field(default_factory=dict)
    departments: Mapping[str, str] = field(default_factory=dict)
    partners: Mapping[str, str] = field(default_factory=dict)
    # Remote-evaluation venues by id, from the venue directory: a venue's own capacity event
    # names it too, but partner venues publish none on remote-eval.venues.v1.
    venues: Mapping[str, str] = field(default_factory=dict)

    def region(self, code: str) -> str:
        return self.regions.get(code, code)

    def department(self, code: str) -> str:
        return self.departments.get(code, code)

    def partner(self, code: str) -> str:
        return self.partners.get(code) or self.regions.get(code, code)


@dataclass(frozen=True)
class FigureRef:
    """One number in the text, with where it comes from."""

    text: str  # as printed, e.g. "12" or "3,456.78万元"
    raw: str  # the value as the metrics API gives it: an integer, or a ratio/median
    metric: str
    source: str  # the counter key(s) it was computed from
    evidence: str  # the evidence query (relative URL)


Part = str | FigureRef


@dataclass(frozen=True)
class Paragraph:
    parts: tuple[Part, ...]

    @property
    def figures(self) -> tuple[FigureRef, ...]:
        return tuple(part for part in self.parts if isinstance(part, FigureRef))


@dataclass(frozen=True)
class Section:
    heading: str
    paragraphs: tuple[Paragraph, ...]


@dataclass(frozen=True)
class Bulletin:
    issuer: str
    notice_title: str
    document_number: str
    addressees: str
    # The cover notice's paragraph between the addressees and 附件: what is sent and why.
    notice_body: str
    issued_on: date
    seal_note: str
    title: str
    period: str
    sections: tuple[Section, ...]

    @property
    def figures(self) -> tuple[FigureRef, ...]:
        return tuple(
            figure
            for section in self.sections
            for paragraph in section.paragraphs
            for figure in paragraph.figures
        )


def format_wan_yuan(fen: int) -> str:
    """Fen as the number of 万元 with two decimals (1 万元 = 1,000,000 fen), rounded half up on
    the exact decimal (1,005,000 fen is 1.01, where a float would round to 1.00): "1,250.00"."""
    wan = (Decimal(fen) / Decimal(1_000_000)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{wan:,}"


def format_fen_as_wan_yuan(fen: int) -> str:
    """Fen as 万元, as the bulletin prints it: "1,250.00万元"."""
    return f"{format_wan_yuan(fen)}万元"


def format_percent(numerator: int, denominator: int) -> str:
    """A rate as a percentage with one decimal, rounded half up (四舍五入) on the exact
    fraction, as 万元 are: 1/16 is "6.3%" (6.25), where a float's formatting rounds half to
    even and prints 6.2%. ``denominator`` is not zero."""
    percent = (Decimal(numerator) * 100 / Decimal(denominator)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )
    return f"{percent}%"


def _evidence_url(metric: str, period: str, dimensions: Mapping[str, str]) -> str:
    query = urlencode({"metric": metric, "period": period, **dict(sorted(dimensions.items()))})
    return f"/v1/metrics/evidence?{query}"


class _Composer:
    def __init__(self, counters: Mapping[CounterKey, int], period: Period, labels: Labels):
        self.counters = counters
        self.period = period.name
        self.labels = labels

    def count(self, metric: str, unit: str = "", **dimensions: str) -> FigureRef:
        value = value_of(self.counters, metric, self.period, **dimensions)
        key = CounterKey(metric, (*dimensions.items(), (PERIOD, self.period))).encode()
        shown = format_fen_as_wan_yuan(value) if BY_KEY[metric].unit == "fen" else f"{value}{unit}"
        return FigureRef(
            shown, str(value), metric, key, _evidence_url(metric, self.period, dimensions)
        )

    def cut(self, metric: str, dimension: str, **where: str) -> list[Figure]:
        """The metric's figures cut by one dimension (within the cut ``where`` fixes, e.g.
        on the platform), largest first."""
        by = frozenset({dimension, *where})
        figures = select(self.counters, metric, by, self.period, where)
        return sorted(figures, key=lambda figure: (-figure.value, figure.dimensions))

    def rate(self, metric: str, **dimensions: str) -> FigureRef:
        definition = BY_KEY[metric]
        numerator = value_of(self.counters, definition.numerator, self.period, **dimensions)
        denominator = value_of(self.counters, definition.denominator, self.period, **dimensions)
        value = ratio(numerator, denominator)
        shown = "—" if value is None else format_percent(numerator, denominator)
        keys = [
            CounterKey(name, (*dimensions.items(), (PERIOD, self.period))).encode()
            for name in (definition.numerator, definition.denominator)
        ]
        return FigureRef(
            shown,
            "" if value is None else repr(value),
            metric,
            f"{keys[0]} / {keys[1]}",
            _evidence_url(definition.numerator, self.period, dimensions),
        )

    def days(self, statistic: str) -> FigureRef:
        definition = BY_KEY["registration_to_announcement_days"]
        stats = distribution(histogram_of(self.counters, definition, self.period))
        value = stats.median if statistic == "median" else stats.p90
        shown = "—" if value is None else f"{value:g}天"
        return FigureRef(
            shown,
            "" if value is None else repr(value),
            definition.key,
            f"{statistic} of {definition.key}|days=*|period={self.period}",
            _evidence_url(definition.key, self.period, {}),
        )


def _listing(  # noqa: PLR0917 - reads as the sentence it writes
    composer: _Composer,
    figures: list[Figure],
    dimension: str,
    name_of: Mapping[str, str] | None,
    unit: str,
    amount_metric: str | None = None,
) -> list[Part]:
    """ "历下区12个(3,456.00万元)、…" for the figures of one cut: every one of them, so the list
    adds up to the total it breaks down (a reader reconciles the two; a cut list, ending where
    the codes happened to sort, would not)."""
    parts: list[Part] = []
    for n, figure in enumerate(figures):
        # The figure's other dimensions (those its cut was taken within) name it too.
        dimensions = dict(figure.dimensions)
        code = dimensions[dimension]
        name = (name_of or {}).get(code, code)
        if n:
            parts.append("、")
        parts.extend((name, composer.count(figure.metric, unit, **dimensions)))
        if amount_metric is not None:
            parts.extend(("(", composer.count(amount_metric, **dimensions), ")"))
    return parts or ["暂无"]


def _provisional_verdicts(composer: _Composer) -> list[Part]:
    """Said only when it applies: pushes whose deadlines are estimates (their year's holiday
    arrangement was not yet published) are judged provisionally."""
    estimated = composer.count("pushes_on_estimated_deadlines", "次")
    if estimated.raw == "0":
        return []
    return [
        "(其中",
        estimated,
        "推送的办理期限为预计期限,所涉年度节假日安排公布后按实际工作日重新判定)",
    ]


def _transfers(composer: _Composer) -> list[Part]:
    """Said only when it applies: pushes their department passed on to the one they belong to
    (移送). Each transfer closes a push and makes another, to that department, so it explains
    part of the count of pushes to handle (and of misrouting)."""
    transferred = composer.count("pushes_transferred", "次")
    if transferred.raw == "0":
        return []
    return ["(其中接收部门移送其他部门办理", transferred, ")"]


def rule_label(rule_id: str, rule_name: str) -> str:
    """A detection rule as the bulletin names it: the Chinese part of the rule's name (its
    English gloss in brackets left out) and its id, e.g. "公开招标仅一家投标人(R018)"."""
    # A detected report from before rules were named in events counts under UNKNOWN.
    name = "" if rule_name == UNKNOWN else rule_name.split(" (", 1)[0].strip()
    if rule_id == UNKNOWN:
        return name or "未注明规则"
    return f"{name}({rule_id})" if name else rule_id


def _detections(composer: _Composer) -> list[Part]:
    """Said only when it applies: the signals automatic detection raised, by rule, largest
    first, every rule (a rule whose name changed between versions is listed under each name)."""
    figures = select(
        composer.counters, "detected_signals", frozenset({"rule", "rule_name"}), composer.period
    )
    if not figures:
        return []
    figures.sort(key=lambda figure: (-figure.value, figure.dimensions))
    parts: list[Part] = [";系统自动监测预警按规则:"]
    for n, figure in enumerate(figures):
        dimensions = dict(figure.dimensions)
        if n:
            parts.append("、")
        parts.extend(
            (
                rule_label(dimensions["rule"], dimensions["rule_name"]),
                composer.count("detected_signals", "条", **dimensions),
            )
        )
    return parts


def _escalations(composer: _Composer, departments: Mapping[str, str]) -> list[Part]:
    """Said only when it applies: overdue pushes escalated (升级督办), by the department
    escalated to — a district branch's city department, or the joint-conference office."""
    escalated = composer.count("pushes_escalated", "次")
    if escalated.raw == "0":
        return []
    return [
        "(其中升级督办",
        escalated,
        ":",
        *_listing(
            composer,
            composer.cut("pushes_escalated", "to_department"),
            "to_department",
            departments,
            "次",
        ),
        ")",
    ]


def _resolutions(composer: _Composer) -> list[Part]:
    """Said only when it applies: pushes resolved (已办结) with the measure taken, and which
    measures, each named only when taken (立案 is not a measure; a transfer is not a
    resolution: the receiving department's push is resolved, if it is)."""
    resolved = composer.count("pushes_resolved", "次")
    if resolved.raw == "0":
        return []
    measures: list[Part] = []
    for measure, name in MEASURE_ZH.items():
        taken = composer.count("pushes_resolved", "次", measure=measure)
        if taken.raw == "0":
            continue
        if measures:
            measures.append("、")
        measures.extend((name, taken))
    return [",已办结", resolved, *(("(其中", *measures, ")") if measures else ())]


# The platform's deal figures (全市平台成交): SOE property transfers made off the platform,
# found in the property-rights registration system, count in the SOE figure only.
ON_PLATFORM = {"on_platform": "true"}


def compose_bulletin(
    counters: Mapping[CounterKey, int],
    period: Period,
    labels: Labels,
    *,
    issuer: str,
    document_number: str,
    issued_on: date,
    seal_note: str,
) -> Bulletin:
    c = _Composer(counters, period, labels)
    label = period.label_zh
    scope = label.removeprefix(f"{period.year}年")
    title = f"{period.year}年全市{scope}公共资源交易工作情况通报"
    regions = dict(labels.regions)
    departments = dict(labels.departments)
    partners = {code: labels.partner(code) for code in labels.partners} | regions

    intake = (
        Paragraph(
            (
                f"{label},全市公共资源交易平台共完成进场登记项目",
                c.count("registrations", "个"),
                ",登记金额",
                c.count("registered_amount_fen"),
                "。分区县(功能区)看,",
                *_listing(
                    c,
                    c.cut("registrations", "region"),
                    "region",
                    regions,
                    "个",
                    "registered_amount_fen",
                ),
                "。分登记部门看,",
                *_listing(c, c.cut("registrations", "department"), "department", departments, "个"),
                "。",
            )
        ),
        Paragraph(
            (
                "重点项目交易保障方面,重点项目进场登记",
                c.count("key_project_registrations", "个"),
                ",其中通过绿色通道办理",
                c.count("green_channel_registrations", "个"),
                ";严格落实“容缺受理”“告知承诺”制度,容缺受理登记",
                c.count("deficiency_registrations", "个"),
                ",逾期未补正违反承诺",
                c.count("deficiency_breaches", "个"),
                "。容缺受理分区县:",
                *_listing(c, c.cut("deficiency_registrations", "region"), "region", regions, "个"),
                "。项目自进场登记至发布公告用时中位数",
                c.days("median"),
                "、90%分位",
                c.days("p90"),
                ",做到进场登记“随来随办”、公告公示“随定随发”。",
            )
        ),
        Paragraph(
            (
                "调取省、市、县(区)三级平台大额交易项目信息",
                c.count("large_amount_records", "条"),
                ",涉及金额",
                c.count("large_amount_record_amount_fen"),
                ",助力全市固定资产投资纳统工作。其中",
                *_listing(
                    c,
                    c.cut("large_amount_records", "source_level"),
                    "source_level",
                    SOURCE_LEVEL_ZH,
                    "条",
                ),
                "。",
            )
        ),
    )
    hosts = c.cut("remote_evaluations_hosted", "host")
    innovation = (
        Paragraph(
            (
                "推行招标文件预公示,预公示招标文件",
                c.count("tender_documents_pre_published", "个"),
                "。持续推动交易领域“降成本”,减免投标保证金",
                c.count("deposits_waived", "笔"),
                ",减少企业资金占用",
                c.count("deposit_amount_saved_fen"),
                ";清理历史沉淀保证金,清退",
                c.count("historical_deposits_refunded", "笔"),
                "、金额",
                c.count("historical_deposit_refunded_fen"),
                "。分区县减免保证金:",
                *_listing(
                    c,
                    c.cut("deposit_amount_saved_fen", "region"),
                    "region",
                    regions,
                    "",
                ),
                "。",
            )
        ),
        Paragraph(
            (
                "推动远程异地评标常态化开展,全市作为主场发起远程异地评标",
                c.count("remote_evaluations_hosted", "场"),
                ",其中",
                *_listing(c, hosts, "host", partners, "场"),
                ";合作地区提供副场服务",
                c.count("remote_evaluations_served", "场次"),
                "(",
                *_listing(
                    c, c.cut("remote_evaluations_served", "partner"), "partner", partners, "场次"
                ),
                "),共享外地评标专家",
                c.count("experts_shared", "人次"),
                ",有效实现了优质专家资源共享。",
            )
        ),
    )
    rural = c.cut("rural_collective_trades", "region")
    integration = (
        Paragraph(
            (
                "推动国有产权交易业务与产权登记业务相结合,完成企业国有产权交易",
                c.count("soe_property_transactions", "项"),
                ",其中进场交易",
                c.count("soe_property_transactions", "项", on_platform="true"),
                "。",
            )
        ),
        Paragraph(
            (
                "推进农村集体产权交易平台和公共资源交易平台整合共享,通过公共资源交易平台完成"
                "农村集体产权交易",
                c.count("rural_collective_trades", "例"),
                "(",
                *_listing(c, rural, "region", regions, "例"),
                ");完成排污权交易",
                c.count("emission_rights_trades", "项"),
                "。全市平台成交项目(标段)",
                c.count("transactions_completed", "个", **ON_PLATFORM),
                "、成交金额",
                c.count("transaction_amount_fen", **ON_PLATFORM),
                ",分交易类别:",
                *_listing(
                    c,
                    c.cut("transactions_completed", "category", **ON_PLATFORM),
                    "category",
                    CATEGORY_ZH,
                    "个",
                ),
                "。",
            )
        ),
    )
    supervision = (
        Paragraph(
            (
                "落实《济南市公共资源交易异常行为信息推送办法(试行)》,采集异常行为信息",
                c.count("abnormal_reports", "条"),
                ",其中",
                *_listing(c, c.cut("abnormal_reports", "source"), "source", REPORT_SOURCE_ZH, "条"),
                ";按行为类型:",
                *_listing(
                    c,
                    c.cut("abnormal_reports", "behaviour_type"),
                    "behaviour_type",
                    BEHAVIOUR_ZH,
                    "条",
                ),
                *_detections(c),
                "。",
            )
        ),
        Paragraph(
            (
                # Every push: the handler's, and the copies to the city department over a
                # branch, the joint-conference office and the trading centre — which is not an
                # administrative supervisor (行政监督部门), so the sentence does not say so.
                "向有关部门推送(含抄送)",
                c.count("pushes_routed", "次"),
                ",其中须签收处理",
                c.count("pushes_to_handle", "次"),
                *_transfers(c),
                ",签收率",
                c.rate("push_sign_for_rate"),
                ",按时反馈率",
                c.rate("push_on_time_feedback_rate"),
                *_provisional_verdicts(c),
                *_resolutions(c),
                ",超期",
                c.count("pushes_overdue", "次"),
                *_escalations(c, departments),
                # The breakdown counts the pushes to handle, not every push routed (copies for
                # information are in the first figure): said so, it adds up to the second.
                "。须签收处理的推送分部门:",
                *_listing(
                    c, c.cut("pushes_to_handle", "department"), "department", departments, "次"
                ),
                ";超期推送分部门:",
                *_listing(
                    c, c.cut("pushes_overdue", "department"), "department", departments, "次"
                ),
                "。",
            )
        ),
    )
    return Bulletin(
        issuer=issuer,
        notice_title=f"{issuer}关于印发《{title}》的通知",
        document_number=document_number,
        addressees="市公共资源交易管理工作联席会议成员单位,各区县(功能区)发展改革部门:",
        notice_body=(
            "为进一步做好公共资源交易平台整合共享工作,及时总结各有关部门和区县(功能区)"
            f"好经验、好做法,形成了《{title}》,现印发给你们,请对照有关经验做法认真学习,"
            "结合本行业、本地区实际情况,认真谋划和开展下一步公共资源交易领域有关工作,"
            "持续推动我市公共资源交易工作高质量发展。"
        ),
        issued_on=issued_on,
        seal_note=seal_note,
        title=title,
        period=period.name,
        sections=tuple(
            Section(heading, paragraphs)
            for heading, paragraphs in zip(
                SECTION_HEADINGS, (intake, innovation, integration, supervision), strict=True
            )
        ),
    )
