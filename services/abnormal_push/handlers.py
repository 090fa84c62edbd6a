"""What the stream worker's agents and timers do, one class each, testable against a real
Redis and broker without Faust.

- :class:`ReportRouter` (abnormal.reports.v1): projects the report, then emits one PushRouted
  per responsible department. Push ids and event ids are fixed by (report, department), so a
  report delivered twice yields the same pushes, which the projection keeps once.
- :class:`PushProjector` (abnormal.pushes.v1): folds push events into the read model; a
  transfer emits the PushRouted for the receiving department; a routed push to a department
  with a webhook is queued for delivery.
- :class:`WebhookProjector` (abnormal.webhooks.v1): folds registrations into the projection.
- :class:`DeadlineWatch` (timer): emits PushOverdue and PushEscalated for pushes past a due
  time, dated at the moment the deadline ran out (not when the timer noticed), so backfilled
  history is counted in its own period. Its clock is a parameter, so deadlines across holidays
  can be tested at any instant. It first states the real deadlines (PushDeadlinesSet) of
  pushes routed with estimates, as soon as the holiday calendar covers them; until then it
  judges, of such a push, the deadline that is real already (the sign-for deadline of a push
  whose feedback deadline alone runs into a year the calendar does not cover), which the due
  index leaves out (domain.deadlines).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

from google.protobuf.message import Message
from prt.v1 import abnormal_push_pb2

from services.abnormal_push.domain.deadlines import DeadlinePolicy
from services.abnormal_push.domain.errors import PushActionRefused
from services.abnormal_push.domain.pushes import (
    Deadline,
    Push,
    PushDeadlinesSet,
    PushEscalated,
    PushOverdue,
    PushRouted,
    PushTransferred,
    estimated_in,
    next_escalation_level,
    overdue_now,
    real_deadlines,
)
from services.abnormal_push.domain.routing import (
    PushRole,
    RoutingReason,
    RoutingTable,
    derived_event_id,
    route,
    transferred_push_id,
)
from services.abnormal_push.event_codec import (
    push_event_from_envelope,
    report_from_event,
    webhook_event_from_envelope,
)
from services.abnormal_push.publishing import publish_push_event
from services.abnormal_push.read_model import PushReadModel, push_to_json, report_to_json
from services.abnormal_push.service_config import load_deadline_policy, load_routing_table
from services.abnormal_push.webhooks import WebhookStore
from services.platform_core.errors import EventDecodeError
from services.platform_core.events.envelope import Envelope
from services.platform_core.kafka.faust_worker import EventRejected
from services.platform_core.kafka.publisher import EventPublisher

log = logging.getLogger(__name__)


class ReportRouter:
    def __init__(
        self,
        read_model: PushReadModel,
        publisher: EventPublisher,
        routing_table: RoutingTable | None,
        deadlines: DeadlinePolicy,
    ) -> None:
        self._read_model = read_model
        self._publisher = publisher
        self._fixed_table = routing_table
        self._deadlines = deadlines

    def _table(self) -> RoutingTable:
        # Read per report, so an edit of departments.json applies without a restart.
        return self._fixed_table or load_routing_table()

    async def apply(self, envelope: Envelope[Message]) -> None:
        message = envelope.message
        if not isinstance(message, abnormal_push_pb2.AbnormalReportFiled):
            raise EventRejected(f"{envelope.type} does not belong on the reports topic")
        try:
            report = report_from_event(message)
        except EventDecodeError as exc:
            raise EventRejected(str(exc)) from exc
        await self._read_model.apply_report(envelope.id, report)
        if await self._read_model.is_routed(report.report_id):
            return
        dues = self._deadlines.due_times(report.severity, report.filed_at)
        for address in route(report, self._table()):
            handler = address.role is PushRole.HANDLER
            event = PushRouted(
                event_id=derived_event_id("push-routed", address.push_id),
                push_id=address.push_id,
                at=report.filed_at,
                report_id=report.report_id,
                department=address.department,
                reason=address.reason,
                role=address.role,
                severity=report.severity,
                sign_for_due=dues.sign_for_due if handler else None,
                feedback_due=dues.feedback_due if handler else None,
                deadlines_estimated=dues.estimated and handler,
                estimated_deadlines=estimated_in(dues) if handler else (),
            )
            await publish_push_event(self._publisher, event)
        await self._read_model.mark_routed(report.report_id)


class PushProjector:
    def __init__(
        self,
        read_model: PushReadModel,
        publisher: EventPublisher,
        webhooks: WebhookStore,
        deadlines: DeadlinePolicy,
    ) -> None:
        self._read_model = read_model
        self._publisher = publisher
        self._webhooks = webhooks
        self._deadlines = deadlines

    async def apply(self, envelope: Envelope[Message]) -> None:
        try:
            event = push_event_from_envelope(envelope)
        except EventDecodeError as exc:
            raise EventRejected(str(exc)) from exc
        try:
            push = await self._read_model.next_state(event)
        except PushActionRefused as refused:
            raise EventRejected(f"{refused.code}: {refused}") from refused
        if push is None:
            return
        if isinstance(event, PushTransferred):
            await self._route_transfer(push, event)
        if isinstance(event, PushRouted | PushDeadlinesSet):
            hook = await self._webhooks.get(push.department)
            # Pushes routed before the registration (history, or a replay) are not sent; a
            # receiver that was sent a push with estimated deadlines is sent it again with the
            # real ones (each delivery is the push as it stands).
            if hook is not None and hook.registered_at <= push.routed_at:
                payload = await self._payload(push)
                await self._webhooks.enqueue(event.event_id, push.department, payload)
        await self._read_model.save_push(event.event_id, push)

    async def _route_transfer(self, push: Push, event: PushTransferred) -> None:
        dues = self._deadlines.due_times(push.severity, event.at)
        new_id = transferred_push_id(push.push_id, event.to_department)
        routed = PushRouted(
            event_id=derived_event_id("push-routed", new_id),
            push_id=new_id,
            at=event.at,
            report_id=push.report_id,
            department=event.to_department,
            reason=RoutingReason.TRANSFERRED,
            role=PushRole.HANDLER,
            severity=push.severity,
            sign_for_due=dues.sign_for_due,
            feedback_due=dues.feedback_due,
            transferred_from_push_id=push.push_id,
            deadlines_estimated=dues.estimated,
            estimated_deadlines=estimated_in(dues),
        )
        await publish_push_event(self._publisher, routed)

    async def _payload(self, push: Push) -> dict[str, object]:
        report = await self._read_model.report(push.report_id)
        return {
            **push_to_json(push),
            "report": None if report is None else report_to_json(report),
        }


class WebhookProjector:
    def __init__(self, webhooks: WebhookStore) -> None:
        self._webhooks = webhooks

    async def apply(self, envelope: Envelope[Message]) -> None:
        try:
            event = webhook_event_from_envelope(envelope)
        except EventDecodeError as exc:
            raise EventRejected(str(exc)) from exc
        await self._webhooks.apply(envelope.id, event)


class DeadlineWatch:
    """Marks pushes overdue and escalates them.

    ``now`` (a tick's argument) is the business clock deadlines are judged by. ``wall_clock``
    and ``backfill_settle_s`` guard backfilled history: a push whose latest step arrived when
    its deadline had already passed is being migrated step by step, so the watch waits
    ``backfill_settle_s`` of wall-clock time after that step before judging it — otherwise it
    would mark a sign-for overdue moments before the backfill posts the (in time) sign-for.
    """

    def __init__(
        self,
        read_model: PushReadModel,
        publisher: EventPublisher,
        routing: RoutingTable,
        *,
        backfill_settle_s: float = 0.0,
        wall_clock: Callable[[], float] = time.time,
        deadlines: DeadlinePolicy | None = None,
    ) -> None:
        self._read_model = read_model
        self._publisher = publisher
        self._routing = routing
        self._settle_s = backfill_settle_s
        self._wall_clock = wall_clock
        self._deadlines = deadlines or load_deadline_policy()
        self._waiting_reported = 0

    async def _settling(self, push_id: str, due_at: datetime) -> bool:
        changed = await self._read_model.changed_at(push_id)
        if changed is None or changed <= due_at.timestamp():
            return False  # a live push: its deadline ran out after its last step arrived
        return self._wall_clock() - changed < self._settle_s

    async def tick(self, now: datetime) -> list[tuple[str, str]]:
        """Emit the overdue and escalation events due at ``now``; (push id, deadline) pairs."""
        estimated = await self._estimated_pushes()
        stated = set(await self._state_real_deadlines(estimated, now))
        emitted: list[tuple[str, str]] = []
        # Escalations emitted in this tick are not in the read model yet.
        raised_now: dict[str, int] = {}
        for push_id, deadline in await self._read_model.due_by(now):
            push = await self._read_model.push(push_id)
            if push is None:
                await self._read_model.forget_due(push_id, deadline)
                continue
            level = next_escalation_level(push) + raised_now.get(push_id, 0)
            late = [(d, due) for d, due in overdue_now(push, now) if d is deadline]
            if late and await self._settling(push_id, late[0][1]):
                continue  # judged at a later tick; the due index keeps it
            for passed, due_at in late:
                await self._emit(push, passed, due_at, level)
                emitted.append((push_id, passed.value))
                raised_now[push_id] = raised_now.get(push_id, 0) + 1
            await self._read_model.forget_due(push_id, deadline)
        for push in estimated:
            if push.push_id not in stated:  # stated: judged once the real ones are projected
                emitted += await self._judge_real_among_estimates(push, now, raised_now)
        return emitted

    async def _judge_real_among_estimates(
        self, push: Push, now: datetime, raised_now: dict[str, int]
    ) -> list[tuple[str, str]]:
        """Judge the deadlines of a push routed with estimates that are real all the same: those
        whose own working days the calendar covers. The due index holds none of this push's
        deadlines (its one flag says estimated), so it is judged here, at every tick, from the
        estimated-deadlines set; once marked overdue a deadline is not judged again."""
        real = real_deadlines(self._deadlines.counted_due_times(push.severity, push.routed_at))
        emitted: list[tuple[str, str]] = []
        for passed, due_at in overdue_now(push, now, real):
            if await self._settling(push.push_id, due_at):
                continue  # judged at a later tick
            level = next_escalation_level(push) + raised_now.get(push.push_id, 0)
            await self._emit(push, passed, due_at, level)
            emitted.append((push.push_id, passed.value))
            raised_now[push.push_id] = raised_now.get(push.push_id, 0) + 1
        return emitted

    async def _estimated_pushes(self) -> list[Push]:
        """The handler pushes whose deadlines are (partly) estimates, read at once."""
        estimated = await self._read_model.with_estimated_deadlines()
        return [
            push for push in await self._read_model.pushes(estimated) if push.deadlines_estimated
        ]

    async def state_real_deadlines(self, now: datetime) -> list[str]:
        """Emit PushDeadlinesSet for each push routed with estimated deadlines whose year the
        calendar now covers; the pushes stated. Each push's real deadlines are counted from its
        routing, as they would have been, and judged from the next tick on (a deadline already
        past is overdue at once, dated when it ran out). Until the calendar covers a year, its
        pushes wait: never judged against a guess (but see
        :meth:`_judge_real_among_estimates`)."""
        return await self._state_real_deadlines(await self._estimated_pushes(), now)

    async def _state_real_deadlines(self, estimated: list[Push], now: datetime) -> list[str]:
        stated: list[str] = []
        waiting = 0
        for push in estimated:
            dues = self._deadlines.published_due_times(push.severity, push.routed_at)
            if dues is None:
                waiting += 1
                continue
            event = PushDeadlinesSet(
                event_id=derived_event_id(
                    "push-deadlines-set",
                    push.push_id,
                    dues.sign_for_due.isoformat(),
                    dues.feedback_due.isoformat(),
                ),
                push_id=push.push_id,
                at=max(now, push.routed_at),
                sign_for_due=dues.sign_for_due,
                feedback_due=dues.feedback_due,
            )
            await publish_push_event(self._publisher, event)
            stated.append(push.push_id)
        if waiting and waiting != self._waiting_reported:  # said when it changes, not per tick
            log.warning(
                "%d push(es) keep estimated deadlines: chinese_calendar does not cover their "
                "year yet (upgrade the package when the State Council's notice is out)",
                waiting,
            )
        self._waiting_reported = waiting
        return stated

    async def _emit(self, push: Push, deadline: Deadline, due_at: datetime, level: int) -> None:
        # Dated when the deadline ran out: the push was late from then on, whenever the timer
        # (or a backfill) made it known.
        overdue = PushOverdue(
            event_id=derived_event_id("push-overdue", push.push_id, deadline.value),
            push_id=push.push_id,
            at=due_at,
            deadline=deadline,
            due_at=due_at,
            department=push.department,
        )
        await publish_push_event(self._publisher, overdue)
        to_department = self._routing.escalation_target(push.department, level)
        escalated = PushEscalated(
            event_id=derived_event_id("push-escalated", push.push_id, deadline.value),
            push_id=push.push_id,
            at=due_at,
            deadline=deadline,
            to_department=to_department,
            level=level,
        )
        await publish_push_event(self._publisher, escalated)
        log.info("push %s overdue (%s), escalated to %s", push.push_id, deadline, to_department)
