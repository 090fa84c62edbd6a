"""The synthetic event mix of bench/reporting_events.py, with what that mix lacks, so the tests
that compare figures computed in different ways (live fold, batches, recompute) cover it too:

- pushes routed on estimated deadlines and given their real ones later by PushDeadlinesSet,
  including verdicts on feedback already given that the real due turns either way;
- pushes transferred (PushTransferred, 移送) by their department, followed by the push abnormal
  push routes to the receiving department;
- tendered sections awarded (ContractAwarded, 中标): some end there, some are completed after
  (the same section, or the project as a whole), some projects have a second section;
- cases filed (立案, a CASE_FILED feedback) followed by the measure taken (处罚, 约谈, 移送有关机关,
  不予处理): the push in hand, then resolved; some are left in hand;
- overdue pushes escalated (PushEscalated, 升级督办), some to a second level, some level
  escalated twice under different event ids (counted once);
- detected reports naming the rule that fired (Detection.rule_id and rule_name).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

from google.protobuf.message import Message
from prt.v1 import abnormal_push_pb2, intake_pb2

from bench.reporting_events import DEPARTMENTS, Outgoing, synthetic_events
from services.platform_core.events.envelope import Envelope, decode_record, encode_envelope
from services.platform_core.events.proto_values import from_timestamp, to_timestamp
from services.platform_core.events.topics import ABNORMAL_PUSHES, PROJECT_EVENTS
from services.reporting.domain.facts import Fact
from services.reporting.event_codec import fact_from_envelope


def _outgoing(topic_key: str, message: Message, key: str) -> Outgoing:
    topic = ABNORMAL_PUSHES if topic_key == "push" else PROJECT_EVENTS
    envelope: Envelope[Message] = Envelope(message=message, source="/tests/reporting", subject=key)
    return Outgoing(topic, envelope, key)


def _deadlines_set(rng: random.Random, routed: abnormal_push_pb2.PushRouted) -> Outgoing:
    # The synthetic feedback comes 0-20 days after routing and the estimated due is 10 days
    # after it: real dues of 3-17 days turn some verdicts to late, others to on time.
    at = from_timestamp(routed.occurred_at)
    message = abnormal_push_pb2.PushDeadlinesSet(
        push_id=routed.push_id,
        occurred_at=to_timestamp(at + timedelta(hours=1)),
        sign_for_due=to_timestamp(at + timedelta(days=rng.randrange(1, 4))),
        feedback_due=to_timestamp(at + timedelta(days=rng.randrange(3, 18))),
    )
    return _outgoing("push", message, routed.push_id)


def _occurred_at(item: Outgoing) -> datetime:
    message: Any = item.envelope.message  # every event message has its occurred_at
    return from_timestamp(message.occurred_at)


def _aggregates(outgoing: Iterable[Outgoing]) -> Iterator[list[Outgoing]]:
    """The synthetic events an aggregate at a time (the mix yields each one's events together)."""
    group: list[Outgoing] = []
    for item in outgoing:
        if group and item.key != group[0].key:
            yield group
            group = []
        group.append(item)
    if group:
        yield group


def _transferred(rng: random.Random, push: list[Outgoing]) -> list[Outgoing]:
    """The push's events up to its first feedback, then its transfer (移送) to another
    department — some in time, some after the feedback due — and the push routed there."""
    routed = push[0].envelope.message
    assert isinstance(routed, abnormal_push_pb2.PushRouted)
    kept = [
        item
        for n, item in enumerate(push)
        if not any(
            isinstance(earlier.envelope.message, abnormal_push_pb2.PushFeedbackGiven)
            for earlier in push[: n + 1]
        )
    ]
    at = max(_occurred_at(item) for item in kept) + timedelta(hours=rng.randrange(1, 300))
    to = rng.choice([d for d in DEPARTMENTS if d != routed.department])
    transfer = abnormal_push_pb2.PushTransferred(
        push_id=routed.push_id,
        occurred_at=to_timestamp(at),
        actor_department=routed.department,
        to_department=to,
        reason="不属本部门监管",
    )
    onward_id = f"{routed.push_id}>{to}"
    onward = abnormal_push_pb2.PushRouted(
        push_id=onward_id,
        occurred_at=to_timestamp(at),
        report_id=routed.report_id,
        department=to,
        reason=abnormal_push_pb2.ROUTING_REASON_TRANSFERRED,
        role=abnormal_push_pb2.PUSH_ROLE_HANDLER,
        transferred_from_push_id=routed.push_id,
        sign_for_due=to_timestamp(at + timedelta(days=2)),
        feedback_due=to_timestamp(at + timedelta(days=10)),
    )
    return [
        *kept,
        _outgoing("push", transfer, routed.push_id),
        _outgoing("push", onward, onward_id),
    ]


MEASURES = (
    abnormal_push_pb2.HANDLING_RESULT_PENALISED,
    abnormal_push_pb2.HANDLING_RESULT_INTERVIEWED,
    abnormal_push_pb2.HANDLING_RESULT_REFERRED,
    abnormal_push_pb2.HANDLING_RESULT_NO_ACTION,
)


def _case_filed_first(rng: random.Random, push: list[Outgoing]) -> list[Outgoing]:
    """Most pushes fed back get a case filed (立案) first and the measure taken later (a
    second feedback, as abnormal push takes it): in hand, then resolved. The first feedback
    keeps its time (the on-time verdicts stay as they were); a push whose one feedback was
    立案 already gets a measure; the others are left as they were (a 立案 stays in hand)."""
    last = push[-1].envelope.message
    if not isinstance(last, abnormal_push_pb2.PushFeedbackGiven) or rng.random() < 0.4:
        return push
    if last.result == abnormal_push_pb2.HANDLING_RESULT_CASE_FILED:
        result = rng.choice(MEASURES)
    else:
        result = last.result
        last.result = abnormal_push_pb2.HANDLING_RESULT_CASE_FILED  # not yielded yet
    measure = abnormal_push_pb2.PushFeedbackGiven(
        push_id=last.push_id,
        occurred_at=to_timestamp(_occurred_at(push[-1]) + timedelta(hours=rng.randrange(1, 500))),
        actor_department=last.actor_department,
        result=result,
        result_text="立案查处后作出处理",
    )
    return [*push, _outgoing("push", measure, last.push_id)]


RULES = (
    ("PRT-FP-001", "同一投标文件指纹出现在不同投标人 (same bid-file fingerprint)"),
    ("R018", "公开招标仅一家投标人 (single bidder in an open procedure, OCP red flag R018)"),
    ("R028", "不同投标人报价相同 (identical bid prices, OCP red flag R028)"),
)


def _escalated(rng: random.Random, push: list[Outgoing]) -> list[Outgoing]:
    """An overdue push escalated after its overdue: to the joint-conference office, or first to
    a city department and then to the office; now and then a level is published twice."""
    overdue = push[-1].envelope.message
    if not isinstance(overdue, abnormal_push_pb2.PushOverdue) or rng.random() < 0.3:
        return push
    at = _occurred_at(push[-1])
    targets = ["FGW"] if rng.random() < 0.5 else ["ZJJ", "FGW"]
    escalations: list[Outgoing] = []
    for level, target in enumerate(targets, start=1):
        at += timedelta(days=rng.randrange(1, 5))
        message = abnormal_push_pb2.PushEscalated(
            push_id=overdue.push_id,
            occurred_at=to_timestamp(at),
            deadline=overdue.deadline,
            to_department=target,
            level=level,
        )
        escalations.append(_outgoing("push", message, overdue.push_id))
        if rng.random() < 0.25:  # the watch published it again, under a new id
            again = abnormal_push_pb2.PushEscalated()
            again.CopyFrom(message)
            escalations.append(_outgoing("push", again, overdue.push_id))
    return [*push, *escalations]


def _rule_named(rng: random.Random, report: list[Outgoing]) -> list[Outgoing]:
    """A detected report names the rule that fired (before it is yielded: encoded at once)."""
    filed = report[0].envelope.message
    if (
        isinstance(filed, abnormal_push_pb2.AbnormalReportFiled)
        and filed.source == abnormal_push_pb2.REPORT_SOURCE_DETECTED
    ):
        rule_id, rule_name = rng.choice(RULES)
        filed.detection.rule_id = rule_id
        filed.detection.rule_name = rule_name
    return report


def _awarded(rng: random.Random, project: list[Outgoing]) -> list[Outgoing]:
    """A tendered project's section awarded (中标) before its completion: the completion is
    dropped (the award is the end), or names the same section, the whole project, or another
    section (a second deal)."""
    done = [
        n
        for n, item in enumerate(project)
        if isinstance(item.envelope.message, intake_pb2.TransactionCompleted)
    ]
    if not done:
        return project
    completion = project[done[0]].envelope.message
    assert isinstance(completion, intake_pb2.TransactionCompleted)
    award = intake_pb2.ContractAwarded(
        project_id=completion.project_id,
        occurred_at=to_timestamp(
            from_timestamp(completion.occurred_at) - timedelta(hours=rng.randrange(1, 100))
        ),
        actor_department=completion.actor_department,
        bid_section_code="001",
        amount_fen=rng.randrange(1_000_000, 5_000_000_000),
    )
    before = [*project[: done[0]], _outgoing("project", award, completion.project_id)]
    ending = rng.choice(["award only", "001", "", "002"])
    if ending == "award only":
        return [*before, *project[done[0] + 1 :]]
    completion.bid_section_code = ending  # before it is yielded: callers encode it at once
    return [*before, *project[done[0] :]]


def events_with_deadlines_set(count: int, seed: int = 7, tag: str = "syn") -> Iterator[Outgoing]:
    """About ``count`` synthetic events (a few more: those added). Half the pushes to handle
    are routed with estimated deadlines; their PushDeadlinesSet follows the routing at once
    (before any feedback) or after the push's last event (after it). A fifth of the pushes to
    handle are transferred; two fifths of the projects concluded were awarded first; most
    pushes fed back get a case filed (立案) first and the measure taken later; most overdue
    pushes are escalated; detected reports name their rule."""
    rng = random.Random(seed)
    # The additions draw from generators of their own, so the estimated deadlines fall as
    # they did before transfers and awards were mixed in, and transfers and awards as they
    # did before the measures after a case filed.
    more = random.Random(seed * 7919 + 1)
    measures = random.Random(seed * 7919 + 2)
    escalations = random.Random(seed * 7919 + 3)
    for synthetic in _aggregates(synthetic_events(count, seed=seed, tag=tag)):
        events = synthetic
        first = events[0].envelope.message
        after_last: Outgoing | None = None  # sent once the push's events are all out
        if isinstance(first, abnormal_push_pb2.PushRouted) and first.HasField("feedback_due"):
            if rng.random() < 0.5:
                first.deadlines_estimated = True  # before it is yielded: encoded at once
                deadlines_set = _deadlines_set(rng, first)
                if rng.random() < 0.3:
                    events = [events[0], deadlines_set, *events[1:]]
                else:
                    after_last = deadlines_set
            if more.random() < 0.2:
                events = _transferred(more, events)
            events = _case_filed_first(measures, events)
            events = _escalated(escalations, events)
        elif isinstance(first, abnormal_push_pb2.AbnormalReportFiled):
            events = _rule_named(escalations, events)
        elif isinstance(first, intake_pb2.ProjectRegistered) and more.random() < 0.4:
            events = _awarded(more, events)
        yield from events
        if after_last is not None:
            yield after_last


def mix_facts(count: int = 3000, seed: int = 11) -> Iterator[Fact]:
    """The mix's events as reporting reads them: through Kafka's record form and the codec,
    the events reporting does not count left out."""
    for outgoing in events_with_deadlines_set(count, seed=seed, tag="mix"):
        value, headers = encode_envelope(outgoing.envelope)
        fact = fact_from_envelope(decode_record(value, headers))
        if fact is not None:
            yield fact
