"""The metric catalogue: every figure reporting computes, named in Chinese and English, with its
definition, the events it is computed from, and the dimensions it can be cut by.

Counters are stored; ratios and distribution statistics (median, p90) are derived from stored
counters when read, so the recompute only has to agree on counters. Every counter also exists
per period (dimension ``period``: year, half-year, quarter, month on China's calendar) and for
all time (no ``period`` dimension).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from services.reporting.domain.errors import UnknownMetric

MetricKind = Literal["counter", "distribution", "ratio"]
Unit = Literal["count", "fen", "days", "ratio"]


@dataclass(frozen=True)
class MetricDefinition:
    key: str
    name_zh: str
    name_en: str
    definition: str
    source_events: tuple[str, ...]
    dimensions: tuple[str, ...]
    # The dimension combinations stored as counters (besides the total). Each is also stored
    # per period. The first cut with all dimensions is the evidence cell of the metric.
    cuts: tuple[tuple[str, ...], ...]
    unit: Unit = "count"
    kind: MetricKind = "counter"
    # For ratios: the counters divided.
    numerator: str = ""
    denominator: str = ""


def _singles(*dimensions: str) -> tuple[tuple[str, ...], ...]:
    return tuple((dimension,) for dimension in dimensions)


REGISTRATION_DIMENSIONS = ("region", "category", "department")
REGISTRATION_CUTS = (*_singles(*REGISTRATION_DIMENSIONS), ("category", "region"))
DEAL_SOURCES = (
    "prt.v1.ContractAwarded",
    "prt.v1.TransactionCompleted",
    "prt.v1.ProjectRegistered",
    "prt.v1.AnnouncementPublished",
    "prt.v1.ProjectTerminated",
)
PUSH_OUTCOME_SOURCES = ("prt.v1.PushRouted", "prt.v1.PushTransferred")

CATALOGUE: tuple[MetricDefinition, ...] = (
    # ── 1. project intake ──────────────────────────────────────────────────────────────────
    MetricDefinition(
        "registrations",
        "进场登记项目数",
        "Projects registered",
        "Projects registered on the unified platform (one per ProjectRegistered), counted in "
        "the period of the registration time.",
        ("prt.v1.ProjectRegistered",),
        REGISTRATION_DIMENSIONS,
        REGISTRATION_CUTS,
    ),
    MetricDefinition(
        "registered_amount_fen",
        "进场登记项目金额",
        "Budget of projects registered",
        "Sum of the registered projects' total budgets, in fen.",
        ("prt.v1.ProjectRegistered",),
        REGISTRATION_DIMENSIONS,
        REGISTRATION_CUTS,
        unit="fen",
    ),
    MetricDefinition(
        "key_project_registrations",
        "重点项目进场登记数",
        "Key projects registered",
        "Registrations flagged as key projects (重点项目).",
        ("prt.v1.ProjectRegistered",),
        ("region", "department"),
        _singles("region", "department"),
    ),
    MetricDefinition(
        "green_channel_registrations",
        "绿色通道登记数",
        "Green-channel registrations",
        "Registrations of key projects that took the green channel (绿色通道).",
        ("prt.v1.ProjectRegistered",),
        ("region", "department"),
        _singles("region", "department"),
    ),
    MetricDefinition(
        "deficiency_registrations",
        "容缺受理登记数",
        "Registrations accepted with documents missing",
        "Registrations accepted under 容缺受理 (documents missing, to be supplied within a "
        "supplement deadline), counted at registration, including those whose deadline waited "
        "for the working-day calendar (set later by DeficiencyDeadlineSet).",
        ("prt.v1.ProjectRegistered",),
        ("region", "department"),
        _singles("region", "department"),
    ),
    MetricDefinition(
        "deficiency_breaches",
        "容缺承诺违约数",
        "容缺 commitments breached",
        "容缺 supplement deadlines passed without 补正 (告知承诺 broken), counted when the "
        "breach is recorded; region and department are the project's.",
        ("prt.v1.DeficiencyDeadlineBreached", "prt.v1.ProjectRegistered"),
        ("region", "department"),
        _singles("region", "department"),
    ),
    MetricDefinition(
        "tender_documents_pre_published",
        "招标文件预公示数",
        "Tender documents pre-published",
        "Tender-document pre-publications (招标文件预公示) before the formal announcement.",
        ("prt.v1.TenderDocumentPrePublished", "prt.v1.ProjectRegistered"),
        ("region", "department"),
        _singles("region", "department"),
    ),
    MetricDefinition(
        "deposits_waived",
        "保证金减免笔数",
        "Deposits waived or reduced",
        "Bid deposits waived (免收) or reduced (减收).",
        ("prt.v1.DepositWaived", "prt.v1.ProjectRegistered"),
        ("relief_kind", "region", "department"),
        _singles("relief_kind", "region", "department"),
    ),
    MetricDefinition(
        "deposit_amount_saved_fen",
        "减免保证金金额(降成本)",
        "Deposit amount saved",
        "Deposits not collected thanks to waivers and reductions, in fen: the 降成本 figure.",
        ("prt.v1.DepositWaived", "prt.v1.ProjectRegistered"),
        ("relief_kind", "region", "department"),
        _singles("relief_kind", "region", "department"),
        unit="fen",
    ),
    MetricDefinition(
        "historical_deposits_refunded",
        "清退历史沉淀保证金笔数",
        "Historical deposits refunded",
        "Historical deposits held too long (历史沉淀保证金) cleared and refunded.",
        ("prt.v1.HistoricalDepositRefunded",),
        ("department",),
        _singles("department"),
    ),
    MetricDefinition(
        "historical_deposit_refunded_fen",
        "清退历史沉淀保证金金额",
        "Historical deposits refunded, amount",
        "Amount of historical deposits refunded, in fen.",
        ("prt.v1.HistoricalDepositRefunded",),
        ("department",),
        _singles("department"),
        unit="fen",
    ),
    MetricDefinition(
        "large_amount_records",
        "调取大额交易项目信息条数",
        "Large-amount records imported",
        "Large-amount trade records pulled from the provincial, city and county platforms, "
        "each unified deal code counted once however often it is re-imported.",
        ("prt.v1.LargeAmountRecordImported",),
        ("source_level", "region", "category"),
        _singles("source_level", "region", "category"),
    ),
    MetricDefinition(
        "large_amount_record_amount_fen",
        "大额交易项目金额",
        "Large-amount records, amount",
        "Deal amount of the large-amount records imported (first import of each), in fen.",
        ("prt.v1.LargeAmountRecordImported",),
        ("source_level", "region", "category"),
        _singles("source_level", "region", "category"),
        unit="fen",
    ),
    MetricDefinition(
        "transactions_completed",
        "成交项目(标段)数",
        "Deals concluded",
        "Deals (成交), one per project section (标段): the section's first ContractAwarded "
        "(中标, a tendered project's usual end) or TransactionCompleted (成交), in the period "
        "of that event; a completion after the award is the same deal and not counted again. "
        "One naming no section concludes the sections intake applies it to (those announced "
        "and not concluded or terminated; a tender's awarded ones): a deal, with its amount, "
        "when any of them had none yet. By the "
        "project's category and region and whether made on the platform: awards are; "
        "on_platform=false are SOE property transfers made off it, which the platform "
        "figures (the bulletin's 全市平台成交) leave out.",
        DEAL_SOURCES,
        ("category", "region", "on_platform"),
        (*_singles("category", "region", "on_platform"), ("category", "on_platform")),
    ),
    MetricDefinition(
        "transaction_amount_fen",
        "成交金额",
        "Amount of deals concluded",
        "Sum of the deals' amounts (each deal's first award or completion, see "
        "transactions_completed), in fen.",
        DEAL_SOURCES,
        ("category", "region", "on_platform"),
        (*_singles("category", "region", "on_platform"), ("category", "on_platform")),
        unit="fen",
    ),
    MetricDefinition(
        "soe_property_transactions",
        "企业国有产权交易项数",
        "SOE property transactions",
        "Deals transferring state-owned enterprise property rights (category "
        "SOE_PROPERTY_RIGHTS), on the platform (进场交易) or not: the bulletin's "
        "完成企业国有产权交易N项,其中进场交易M项.",
        DEAL_SOURCES,
        ("on_platform", "region"),
        _singles("on_platform", "region"),
    ),
    MetricDefinition(
        "rural_collective_trades",
        "农村集体产权交易项数",
        "Rural collective property trades",
        "Rural collective property deals made on the platform (通过公共资源交易平台; "
        "农村集体产权, pilot in 莱芜区/钢城区).",
        DEAL_SOURCES,
        ("region",),
        _singles("region"),
    ),
    MetricDefinition(
        "emission_rights_trades",
        "排污权交易项数",
        "Emission-rights trades",
        "Emission-rights deals (排污权, pilot).",
        DEAL_SOURCES,
        ("region",),
        _singles("region"),
    ),
    MetricDefinition(
        "registration_to_announcement_days",
        "登记至公告天数",
        "Days from registration to announcement",
        "Calendar days (China) from a project's registration to its first announcement, one "
        "value per project, counted in the period of the announcement; stored as a histogram "
        "(dimension days), read as median and p90 (nearest rank).",
        ("prt.v1.ProjectRegistered", "prt.v1.AnnouncementPublished"),
        ("region", "category"),
        _singles("region", "category"),
        unit="days",
        kind="distribution",
    ),
    # ── 2. abnormal-behaviour push ─────────────────────────────────────────────────────────
    MetricDefinition(
        "abnormal_reports",
        "异常行为信息报告数",
        "Abnormal-behaviour reports",
        "Abnormal-behaviour reports filed, by behaviour type and by source (manual or detected).",
        ("prt.v1.AbnormalReportFiled",),
        ("behaviour_type", "source", "department"),
        _singles("behaviour_type", "source", "department"),
    ),
    MetricDefinition(
        "detected_signals",
        "系统自动监测预警数",
        "Signals detected",
        "Abnormal-behaviour reports filed by automatic detection (source DETECTED), by the rule "
        "that fired (rule id, and its name as the rule stated it when it fired).",
        ("prt.v1.AbnormalReportFiled",),
        ("rule", "rule_name"),
        (("rule",), ("rule", "rule_name")),
    ),
    MetricDefinition(
        "pushes_routed",
        "异常行为信息推送数",
        "Pushes made",
        "Pushes of reports to departments (one per report and department), handlers and copies.",
        ("prt.v1.PushRouted",),
        ("department", "role"),
        (*_singles("department", "role"), ("department", "role")),
    ),
    MetricDefinition(
        "pushes_to_handle",
        "须签收处理的推送数",
        "Pushes to handle",
        "Pushes whose department must sign for them and feed back (role HANDLER); the "
        "denominator of the sign-for and on-time feedback rates. Push outcomes count in the "
        "period the push was routed.",
        ("prt.v1.PushRouted",),
        ("department",),
        _singles("department"),
    ),
    MetricDefinition(
        "pushes_signed_for",
        "已签收推送数",
        "Pushes signed for",
        "Pushes to handle that were signed for (签收), counted once, in the routing period; "
        "a push transferred (移送) before it was signed for counts too, as abnormal push takes "
        "a transfer to meet the sign-for deadline.",
        ("prt.v1.PushSignedFor", *PUSH_OUTCOME_SOURCES),
        ("department",),
        _singles("department"),
    ),
    MetricDefinition(
        "pushes_fed_back",
        "已反馈处理结果推送数",
        "Pushes with feedback",
        "Pushes to handle whose handling result was fed back (处理结果反馈), counted once; a "
        "push transferred (移送) before any feedback counts too, as abnormal push takes a "
        "transfer to meet the feedback deadline.",
        ("prt.v1.PushFeedbackGiven", *PUSH_OUTCOME_SOURCES),
        ("department",),
        _singles("department"),
    ),
    MetricDefinition(
        "pushes_fed_back_on_time",
        "按时反馈推送数",
        "Pushes with feedback on time",
        "Pushes to handle whose first feedback (or transfer, 移送, if that came first) came no "
        "later than the feedback deadline: the real one once PushDeadlinesSet replaced "
        "estimated deadlines (judged against the estimate until then).",
        ("prt.v1.PushFeedbackGiven", *PUSH_OUTCOME_SOURCES, "prt.v1.PushDeadlinesSet"),
        ("department",),
        _singles("department"),
    ),
    MetricDefinition(
        "pushes_transferred",
        "移送推送数",
        "Pushes transferred",
        "Pushes to handle that their department transferred (移送) to the department they "
        "belong to, by that department (department) and the receiving one (to_department), "
        "in the routing period: a sign of pushes routed to the wrong department. The transfer "
        "closes the push; the receiving department's push counts among the pushes made.",
        PUSH_OUTCOME_SOURCES,
        ("department", "to_department"),
        (*_singles("department", "to_department"), ("department", "to_department")),
    ),
    MetricDefinition(
        "pushes_resolved",
        "已办结推送数",
        "Pushes resolved",
        "Pushes to handle whose handling ended with the measure taken (已处理/办结): the "
        "feedback that closes the push in abnormal push, by that measure (measure: PENALISED "
        "处罚, INTERVIEWED 约谈, REFERRED 移送司法/纪检机关, NO_ACTION 不予处理), counted once, "
        "in the routing period. 立案 (CASE_FILED) is not a measure: the push stays in hand "
        "(pushes_in_hand) until one is fed back. A push transferred (移送) to another "
        "department is not resolved here; the receiving department's push is, when it is.",
        ("prt.v1.PushFeedbackGiven", "prt.v1.PushRouted"),
        ("department", "measure"),
        (*_singles("department", "measure"), ("department", "measure")),
    ),
    MetricDefinition(
        "pushes_in_hand",
        "已立案处理中推送数",
        "Pushes in hand (case filed)",
        "Pushes to handle with a case filed (立案, a CASE_FILED feedback) and no measure fed "
        "back yet, in the routing period: the measure (see pushes_resolved) or a transfer "
        "(移送) takes a push out.",
        ("prt.v1.PushFeedbackGiven", *PUSH_OUTCOME_SOURCES),
        ("department",),
        _singles("department"),
    ),
    MetricDefinition(
        "pushes_on_estimated_deadlines",
        "期限为预计的推送数",
        "Pushes on estimated deadlines",
        "Pushes to handle whose deadlines are still estimates (Monday to Friday counted: the "
        "holiday arrangement for their year was not in the calendar when they were routed), "
        "in the routing period; a PushDeadlinesSet takes a push out. Their on-time verdicts "
        "are provisional until then.",
        ("prt.v1.PushRouted", "prt.v1.PushDeadlinesSet"),
        ("department",),
        _singles("department"),
    ),
    MetricDefinition(
        "pushes_overdue",
        "超期推送数",
        "Pushes overdue",
        "Pushes to handle with a deadline passed without the step done (PushOverdue), each "
        "push once however many of its deadlines it missed, by late department, in the routing "
        "period. A PushOverdue for a step done in time (the watch judged on a read model behind "
        "the topic) is void. Each deadline missed: push_deadlines_overdue.",
        ("prt.v1.PushOverdue", "prt.v1.PushRouted"),
        ("department",),
        _singles("department"),
    ),
    MetricDefinition(
        "push_deadlines_overdue",
        "超期环节数",
        "Push deadlines overdue",
        "Push deadlines passed without the step done (PushOverdue), each deadline of a push "
        "once, by deadline (SIGN_FOR 签收, FEEDBACK 反馈) and late department, in the routing "
        "period: a push late to sign for and to feed back counts twice here, once in "
        "pushes_overdue. Void PushOverdue events as there.",
        ("prt.v1.PushOverdue", "prt.v1.PushRouted"),
        ("deadline", "department"),
        (*_singles("deadline", "department"), ("deadline", "department")),
    ),
    MetricDefinition(
        "pushes_escalated",
        "升级督办推送数",
        "Pushes escalated",
        "Escalations (升级督办) of overdue pushes, one per push and level, in the routing "
        "period: by level (1 for a push's first), the department escalated to (a district "
        "branch's city department, or the joint-conference office), the late department and "
        "the deadline passed.",
        ("prt.v1.PushEscalated", "prt.v1.PushRouted"),
        ("level", "to_department", "department", "deadline"),
        (*_singles("level", "to_department", "department", "deadline"), ("level", "to_department")),
    ),
    MetricDefinition(
        "push_sign_for_rate",
        "签收率",
        "Sign-for rate",
        "pushes_signed_for / pushes_to_handle, for pushes routed in the period.",
        ("prt.v1.PushRouted", "prt.v1.PushSignedFor", "prt.v1.PushTransferred"),
        ("department",),
        (),
        unit="ratio",
        kind="ratio",
        numerator="pushes_signed_for",
        denominator="pushes_to_handle",
    ),
    MetricDefinition(
        "push_on_time_feedback_rate",
        "按时反馈率",
        "On-time feedback rate",
        "pushes_fed_back_on_time / pushes_to_handle, for pushes routed in the period.",
        (
            "prt.v1.PushRouted",
            "prt.v1.PushFeedbackGiven",
            "prt.v1.PushTransferred",
            "prt.v1.PushDeadlinesSet",
        ),
        ("department",),
        (),
        unit="ratio",
        kind="ratio",
        numerator="pushes_fed_back_on_time",
        denominator="pushes_to_handle",
    ),
    # ── 3. remote cross-region evaluation ──────────────────────────────────────────────────
    MetricDefinition(
        "remote_evaluations_hosted",
        "主场远程异地评标数",
        "Remote evaluations hosted",
        "Remote evaluations a host centre (主场) requested that were scheduled (a request the "
        "scheduler could not place is not one), by host, in the request's period; an "
        "evaluation cancelled (its trade terminated before its day), or whose main venue "
        "withdrew its seats, is taken out.",
        (
            "prt.v1.EvaluationRequested",
            "prt.v1.EvaluationScheduled",
            "prt.v1.EvaluationCancelled",
            "prt.v1.VenueSeatsWithdrawn",
        ),
        ("host",),
        _singles("host"),
    ),
    MetricDefinition(
        "remote_evaluations_served",
        "副场远程异地评标数",
        "Remote evaluations served",
        "Remote evaluations a partner served with a secondary venue (副场): one per evaluation "
        "whose latest schedule seats experts at a venue of the partner that accepted the seat "
        "request, by partner and host; taken out when a re-plan moves the seats away, the "
        "partner declines after all or withdraws the seats, or the evaluation is cancelled.",
        (
            "prt.v1.PartnerVenueDecision",
            "prt.v1.EvaluationScheduled",
            "prt.v1.EvaluationCancelled",
            "prt.v1.VenueSeatsWithdrawn",
            "prt.v1.EvaluationRequested",
        ),
        ("partner", "host"),
        (*_singles("partner", "host"), ("host", "partner")),
    ),
    MetricDefinition(
        "remote_evaluations_by_venue",
        "各评标场地远程评标数",
        "Remote evaluations by venue",
        "Evaluations each venue took part in, once per evaluation: the venues of its latest "
        "schedule (EvaluationScheduled; a re-plan supersedes it), the host's main venue (主场) "
        "and each secondary venue (副场) whose partner accepted the seat request and did not "
        "withdraw the seats; none for an evaluation never scheduled or cancelled.",
        (
            "prt.v1.EvaluationScheduled",
            "prt.v1.PartnerVenueDecision",
            "prt.v1.EvaluationCancelled",
            "prt.v1.VenueSeatsWithdrawn",
            "prt.v1.EvaluationRequested",
        ),
        ("venue", "role"),
        (*_singles("venue", "role"), ("role", "venue")),
    ),
    MetricDefinition(
        "experts_shared",
        "共享评标专家人次",
        "Experts shared",
        "Confirmed experts drawn from another region's pool than the host's (优质专家资源共享), "
        "by pool partner and host; an expert who then left the committee (did not come, "
        "declined, or was replaced) is not one, nor are the experts of a cancelled evaluation.",
        (
            "prt.v1.ExpertConfirmed",
            "prt.v1.ExpertNoShow",
            "prt.v1.ExpertDeclined",
            "prt.v1.SubstituteDrawn",
            "prt.v1.EvaluationCancelled",
            "prt.v1.EvaluationRequested",
        ),
        ("partner", "host"),
        (*_singles("partner", "host"), ("host", "partner")),
    ),
)

BY_KEY: dict[str, MetricDefinition] = {metric.key: metric for metric in CATALOGUE}


def metric(key: str) -> MetricDefinition:
    try:
        return BY_KEY[key]
    except KeyError:
        raise UnknownMetric(
            f"unknown metric {key!r}; known metrics: {', '.join(sorted(BY_KEY))}"
        ) from None
