"""The topic registry: every topic the platform writes, with its key, partitions, retention and
the event types it may carry. Topics are created from here at start-up, never auto-created.

Names follow ``<domain>.<fact>.v<major>``. The key is the aggregate id, so one aggregate's events
stay in one partition, in order. The event log is the source of truth, so event topics keep
their records forever; read models are rebuilt by replaying them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

FOREVER = -1


@dataclass(frozen=True)
class TopicSpec:
    name: str
    key: str  # what the record key is, in words: documents the partitioning
    message_types: frozenset[str]
    partitions: int | None = None  # None: the platform default (settings.topic_partitions)
    cleanup_policy: Literal["delete", "compact"] = "delete"
    retention_ms: int = FOREVER
    description: str = ""
    extra_config: dict[str, str] = field(default_factory=dict)

    def config(self) -> dict[str, str]:
        return {
            "cleanup.policy": self.cleanup_policy,
            "retention.ms": str(self.retention_ms),
            **self.extra_config,
        }


def _types(*names: str) -> frozenset[str]:
    return frozenset(f"prt.v1.{name}" for name in names)


PROJECT_EVENTS = TopicSpec(
    name="intake.projects.v1",
    key="project_id",
    description="A trading project's registration (进场登记) and every step of its lifecycle.",
    message_types=_types(
        "ProjectRegistered",
        "TenderObligationDeclared",
        "TenderDocumentPrePublished",
        "AnnouncementPublished",
        "BidSubmitted",
        "BidsOpened",
        "EvaluationCompleted",
        "CandidatesPublicised",
        "ContractAwarded",
        "TransactionCompleted",
        "DepositWaived",
        "HistoricalDepositRefunded",
        "DocumentsSupplemented",
        "DeficiencyDeadlineSet",
        "DeficiencyDeadlineBreached",
        "ProjectTerminated",
    ),
)

LARGE_AMOUNT_RECORDS = TopicSpec(
    name="intake.large-amount-records.v1",
    key="unified_deal_code",
    description="Historical large-amount trade records pulled from provincial, city and county "
    "platforms (大额交易项目信息), for fixed-asset-investment statistics.",
    message_types=_types("LargeAmountRecordImported"),
)

ABNORMAL_REPORTS = TopicSpec(
    name="abnormal.reports.v1",
    key="report_id",
    description="Abnormal-behaviour reports (异常行为信息), filed by departments or detected.",
    message_types=_types("AbnormalReportFiled"),
)

ABNORMAL_PUSHES = TopicSpec(
    name="abnormal.pushes.v1",
    key="push_id",
    description="One push per responsible department: routing, sign-for (签收), feedback, "
    "transfer (移送), overdue and escalation.",
    message_types=_types(
        "PushRouted",
        "PushSignedFor",
        "PushFeedbackGiven",
        "PushTransferred",
        "PushOverdue",
        "PushEscalated",
        "PushDeadlinesSet",
    ),
)

ABNORMAL_WEBHOOKS = TopicSpec(
    name="abnormal.webhooks.v1",
    key="department",
    description="Departments' webhook registrations for push delivery (no secrets: the signing "
    "secret is derived from the registration id). Read by abnormal_push alone, so not among "
    "EVENT_TOPICS, which the reporting service consumes whole.",
    message_types=_types("WebhookRegistered", "WebhookRemoved"),
)

VENUE_CAPACITY = TopicSpec(
    name="remote-eval.venues.v1",
    key="venue_id",
    description="Evaluation venues' seats (工位) per half-day slot, published by their owners.",
    message_types=_types("VenueCapacityPublished"),
)

EVALUATIONS = TopicSpec(
    name="remote-eval.evaluations.v1",
    key="evaluation_id",
    description="Remote cross-region evaluations (远程异地评标): requests, schedules, expert "
    "draws, partner decisions, confirmations and substitutes.",
    message_types=_types(
        "EvaluationRequested",
        "EvaluationScheduled",
        "SchedulingFailed",
        "SeatRequestSent",
        "PartnerVenueDecision",
        "ExpertDrawn",
        "ExpertConfirmed",
        "ExpertDeclined",
        "ExpertNoShow",
        "ExpertAbsenceRecorded",
        "SubstituteDrawn",
        "CommitteeUnsealed",
        "EvaluationCancelled",
        "SeatRequestTimedOut",
        "ExpertConfirmationTimedOut",
        "ExpertAvailabilitySet",
        "EmptySeatsRedrawRequested",
        "VenueSeatsWithdrawn",
    ),
)

EXPERT_REGISTRY = TopicSpec(
    name="remote-eval.experts.v1",
    key="expert_id",
    description="remote_eval's expert pools: each expert's pseudonymous profile and sealed "
    "identity as registered, so the registry is rebuilt from the log like every projection. "
    "Compacted; read by remote_eval alone, so not among EVENT_TOPICS.",
    message_types=_types("ExpertRegistered"),
    cleanup_policy="compact",
)

EVALUATION_STATES = TopicSpec(
    name="remote-eval.evaluation-states.v1",
    key="evaluation_id (a draw's candidate pool: its candidate_pool_sha256)",
    description="remote_eval's changelog: each evaluation's state after every decision, and "
    "each draw's candidate pool once (the states name pools by hash), for rebuilding its read "
    "model from the log. Compacted (the latest state per evaluation); read by remote_eval "
    "alone, so not among EVENT_TOPICS.",
    message_types=_types("EvaluationStateRecorded", "DrawCandidatePoolRecorded"),
    cleanup_policy="compact",
)

EVENT_TOPICS: tuple[TopicSpec, ...] = (
    PROJECT_EVENTS,
    LARGE_AMOUNT_RECORDS,
    ABNORMAL_REPORTS,
    ABNORMAL_PUSHES,
    VENUE_CAPACITY,
    EVALUATIONS,
)


# Partner streams (remote evaluation): each partner's own topics under ``partner.<code>.``, so a
# prefixed ACL on that prefix gives a partner its streams and nothing else.
PARTNER_TOPIC_PREFIX = "partner."
PARTNER_SEAT_REQUEST_TYPES = _types(
    "SeatRequestSent",
    "ExpertDrawn",
    "SubstituteDrawn",
    "EvaluationCancelled",
    "VenueSeatsWithdrawn",
)
PARTNER_ANSWER_TYPES = _types(
    "PartnerVenueDecision", "ExpertConfirmed", "ExpertDeclined", "ExpertNoShow"
)


def partner_topic_prefix(partner_code: str) -> str:
    return f"{PARTNER_TOPIC_PREFIX}{partner_code}."


def partner_seat_requests_topic(partner_code: str) -> TopicSpec:
    """What the platform asks one partner: seat requests for its venues, experts drawn from
    its pool (pseudonyms, time and place only), substitutes, cancellations of evaluations
    that used them, and seats withdrawn from its venues. Read by that partner only."""
    return TopicSpec(
        name=f"{partner_topic_prefix(partner_code)}seat-requests.v1",
        key="evaluation_id",
        description=f"Seat requests and expert draws for partner {partner_code}.",
        message_types=PARTNER_SEAT_REQUEST_TYPES,
        partitions=1,
    )


def partner_answers_topic(partner_code: str) -> TopicSpec:
    """One partner's answers: venue decisions, expert confirmations, refusals and no-shows.
    Written by that partner only; validated and recorded by remote_eval."""
    return TopicSpec(
        name=f"{partner_topic_prefix(partner_code)}answers.v1",
        key="evaluation_id",
        description=f"Answers of partner {partner_code} to its seat requests and expert draws.",
        message_types=PARTNER_ANSWER_TYPES,
        partitions=1,
    )


def dead_letter_topic(consumer: str) -> TopicSpec:
    """The dead-letter topic of one consumer (e.g. ``reporting.aggregator``).

    It holds the records that consumer could not decode or apply, byte for byte, with headers
    saying where each came from and why it was refused. Kept for 30 days.
    """
    return TopicSpec(
        name=f"{consumer}.dead-letters.v1",
        key="the original record's key",
        description=f"Records {consumer} could not decode or apply.",
        message_types=frozenset(),  # any bytes: that is the point
        partitions=1,
        retention_ms=30 * 24 * 3600 * 1000,
    )


# ".dead-letters.v1": every consumer's dead-letter topic is named by dead_letter_topic().
DEAD_LETTER_SUFFIX = dead_letter_topic("").name


def is_dead_letter_topic(name: str) -> bool:
    return name.endswith(DEAD_LETTER_SUFFIX) and len(name) > len(DEAD_LETTER_SUFFIX)


def topic_by_name(name: str) -> TopicSpec | None:
    return next((spec for spec in EVENT_TOPICS if spec.name == name), None)
