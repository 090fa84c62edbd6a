"""Synthetic event streams for reporting's tests and benchmarks: every topic reporting reads,
with each aggregate's events in their natural order (registration before announcement, routing
before sign-for, request before partner decisions) and times spread over a half-year."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from google.protobuf.message import Message
from prt.v1 import abnormal_push_pb2, common_pb2, intake_pb2, remote_eval_pb2

from services.platform_core.events.envelope import Envelope
from services.platform_core.events.proto_values import to_timestamp
from services.platform_core.events.topics import (
    ABNORMAL_PUSHES,
    ABNORMAL_REPORTS,
    EVALUATIONS,
    LARGE_AMOUNT_RECORDS,
    PROJECT_EVENTS,
    VENUE_CAPACITY,
    TopicSpec,
)

REGIONS = ["370102", "370103", "370112", "370113", "370114", "370115", "370116", "370117"]
DEPARTMENTS = ["ZJJ", "JTJ", "SWJ", "CZJ", "GZW", "NYNCJ", "JYZX"]
PARTNERS = ["370300", "370500", "370800", "370900"]
HALF_YEAR_START = datetime(2023, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Outgoing:
    topic: TopicSpec
    envelope: Envelope[Message]
    key: str


def _envelope(message: Message, subject: str) -> Envelope[Message]:
    return Envelope(message=message, source="/bench/reporting", subject=subject)


def synthetic_events(count: int, seed: int = 7, tag: str = "syn") -> Iterator[Outgoing]:
    """About ``count`` events (a whole aggregate's events are never cut short)."""
    rng = random.Random(seed)
    produced = 0
    n = 0
    while produced < count:
        n += 1
        start = HALF_YEAR_START + timedelta(seconds=rng.randrange(0, 178 * 86400))
        kind = rng.random()
        if kind < 0.55:
            batch = list(_project(rng, f"{tag}-p{n}", start))
        elif kind < 0.75:
            batch = list(_push(rng, f"{tag}-u{n}", start))
        elif kind < 0.9:
            batch = list(_evaluation(rng, f"{tag}-e{n}", start))
        else:
            batch = [_large_amount(rng, f"{tag}-D{n % max(1, count // 20)}", start)]
            if rng.random() < 0.3:
                batch.append(_report(rng, f"{tag}-r{n}", start))
        produced += len(batch)
        yield from batch


def _project(rng: random.Random, project: str, at: datetime) -> Iterator[Outgoing]:
    category = rng.choice([1, 2, 3, 4, 5, 6, 9, 10, 11])
    registered = intake_pb2.ProjectRegistered(
        project_id=project,
        occurred_at=to_timestamp(at),
        actor_department=rng.choice(DEPARTMENTS),
        name=f"项目 {project}",
        category=category,  # type: ignore[arg-type]
        region_code=rng.choice(REGIONS),
        budget_fen=rng.randrange(1_000_000, 5_000_000_000),
        key_project=rng.random() < 0.2,
        green_channel=rng.random() < 0.1,
    )
    if rng.random() < 0.15:
        registered.deficiency_acceptance.missing_documents.append("营业执照")
    yield Outgoing(PROJECT_EVENTS, _envelope(registered, project), project)
    at += timedelta(hours=rng.randrange(1, 400))
    if rng.random() < 0.3:
        message: Message = intake_pb2.TenderDocumentPrePublished(
            project_id=project, occurred_at=to_timestamp(at), actor_department="JYZX"
        )
        yield Outgoing(PROJECT_EVENTS, _envelope(message, project), project)
    if rng.random() < 0.8:
        at += timedelta(hours=rng.randrange(1, 300))
        message = intake_pb2.AnnouncementPublished(
            project_id=project, occurred_at=to_timestamp(at), actor_department="JYZX"
        )
        yield Outgoing(PROJECT_EVENTS, _envelope(message, project), project)
    if rng.random() < 0.2:
        message = intake_pb2.DepositWaived(
            project_id=project,
            occurred_at=to_timestamp(at),
            actor_department="JYZX",
            kind=rng.choice([1, 2]),  # type: ignore[arg-type]
            amount_saved_fen=rng.randrange(10_000, 2_000_000),
        )
        yield Outgoing(PROJECT_EVENTS, _envelope(message, project), project)
    if registered.deficiency_acceptance.missing_documents and rng.random() < 0.3:
        message = intake_pb2.DeficiencyDeadlineBreached(
            project_id=project, occurred_at=to_timestamp(at)
        )
        yield Outgoing(PROJECT_EVENTS, _envelope(message, project), project)
    if rng.random() < 0.5:
        at += timedelta(hours=rng.randrange(1, 600))
        message = intake_pb2.TransactionCompleted(
            project_id=project,
            occurred_at=to_timestamp(at),
            actor_department="JYZX",
            amount_fen=rng.randrange(1_000_000, 5_000_000_000),
            on_platform=rng.random() < 0.7,
        )
        yield Outgoing(PROJECT_EVENTS, _envelope(message, project), project)


def _push(rng: random.Random, push: str, at: datetime) -> Iterator[Outgoing]:
    handler = rng.random() < 0.7
    routed = abnormal_push_pb2.PushRouted(
        push_id=push,
        occurred_at=to_timestamp(at),
        report_id=f"r-{push}",
        department=rng.choice(DEPARTMENTS),
        reason=1 if handler else 2,  # type: ignore[arg-type]
        role=1 if handler else 2,  # type: ignore[arg-type]
    )
    if handler:
        routed.sign_for_due.CopyFrom(to_timestamp(at + timedelta(days=2)))
        routed.feedback_due.CopyFrom(to_timestamp(at + timedelta(days=10)))
    yield Outgoing(ABNORMAL_PUSHES, _envelope(routed, push), push)
    if rng.random() < 0.8:
        at += timedelta(hours=rng.randrange(1, 80))
        message: Message = abnormal_push_pb2.PushSignedFor(
            push_id=push, occurred_at=to_timestamp(at), actor_department=routed.department
        )
        yield Outgoing(ABNORMAL_PUSHES, _envelope(message, push), push)
        if rng.random() < 0.7:
            at += timedelta(hours=rng.randrange(1, 400))
            message = abnormal_push_pb2.PushFeedbackGiven(
                push_id=push,
                occurred_at=to_timestamp(at),
                actor_department=routed.department,
                result=rng.choice([1, 2, 3, 4, 5]),  # type: ignore[arg-type]
            )
            yield Outgoing(ABNORMAL_PUSHES, _envelope(message, push), push)
    elif handler:
        message = abnormal_push_pb2.PushOverdue(
            push_id=push,
            occurred_at=to_timestamp(at + timedelta(days=2)),
            deadline=abnormal_push_pb2.PUSH_DEADLINE_SIGN_FOR,
            department=routed.department,
        )
        yield Outgoing(ABNORMAL_PUSHES, _envelope(message, push), push)


def _report(rng: random.Random, report: str, at: datetime) -> Outgoing:
    message = abnormal_push_pb2.AbnormalReportFiled(
        report_id=report,
        occurred_at=to_timestamp(at),
        actor_department=rng.choice(DEPARTMENTS),
        source=rng.choice([1, 2]),  # type: ignore[arg-type]
        behaviour_type=rng.randrange(1, 15),  # type: ignore[arg-type]
    )
    return Outgoing(ABNORMAL_REPORTS, _envelope(message, report), report)


def _evaluation(rng: random.Random, evaluation: str, at: datetime) -> Iterator[Outgoing]:
    host = rng.choice(["370113", "370115"])
    venue = f"V-{host}-1"
    capacity = remote_eval_pb2.VenueCapacityPublished(
        venue_id=venue,
        occurred_at=to_timestamp(at),
        partner_code=host,
        venue_name=f"{host} 远程评标室",
        region_code=host,
        seats=9,
    )
    yield Outgoing(VENUE_CAPACITY, _envelope(capacity, venue), venue)
    requested = remote_eval_pb2.EvaluationRequested(
        evaluation_id=evaluation,
        occurred_at=to_timestamp(at),
        host_centre_code=host,
        main_venue_id=venue,
        committee_size=7,
    )
    yield Outgoing(EVALUATIONS, _envelope(requested, evaluation), evaluation)
    for partner in rng.sample(PARTNERS, rng.randrange(1, 3)):
        decision = remote_eval_pb2.PartnerVenueDecision(
            evaluation_id=evaluation,
            occurred_at=to_timestamp(at + timedelta(hours=1)),
            partner_code=partner,
            venue_id=f"V-{partner}-1",
            decision=1 if rng.random() < 0.85 else 2,  # type: ignore[arg-type]
        )
        yield Outgoing(EVALUATIONS, _envelope(decision, evaluation), evaluation)
        for expert in range(rng.randrange(0, 3)):
            confirmed = remote_eval_pb2.ExpertConfirmed(
                evaluation_id=evaluation,
                occurred_at=to_timestamp(at + timedelta(hours=2)),
                partner_code=partner,
                expert_pseudonym=f"{evaluation}-{partner}-{expert}",
            )
            yield Outgoing(EVALUATIONS, _envelope(confirmed, evaluation), evaluation)


def _large_amount(rng: random.Random, deal_code: str, at: datetime) -> Outgoing:
    message = intake_pb2.LargeAmountRecordImported(
        unified_deal_code=deal_code,
        occurred_at=to_timestamp(at),
        actor_department="FGW",
        source_level=rng.choice([1, 2, 3]),  # type: ignore[arg-type]
        region_code=rng.choice(REGIONS),
        category=common_pb2.PROJECT_CATEGORY_HOUSING,
        amount_fen=rng.randrange(50_000_000, 9_000_000_000),
    )
    return Outgoing(LARGE_AMOUNT_RECORDS, _envelope(message, deal_code), deal_code)
