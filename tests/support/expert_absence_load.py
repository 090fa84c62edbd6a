"""Expert no-shows and awards beside a run of writes, and what PRT-EXP-001 must make of them.

While the run's evaluation requests are being scheduled, a venue's owner (the host for the main
venue, 长清区 for its own) reports one member of some committees as absent through remote_eval's
API, and the awards of some trades arrive on intake's topic (the test stands in for intake
there: the run's evaluations are for projects intake never registered, so intake's own worker
dead-letters those awards). remote_eval records each accepted no-show
(``ExpertAbsenceRecorded``) and unseals the awarded committees; abnormal_push's expert watch
judges them under its lease. :func:`expert_watch_check` then works out from the log alone which
no-shows qualify (the rule's data: so many within the window, by supervision pseudonym) and
holds the service to it: a report for each qualifying no-show whose committee is unsealed, one
each, and the others listed as held; and every acknowledged no-show recorded once.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from services.abnormal_push.domain.detection.rules.repeated_expert_no_show import RULE
from services.platform_core.events.proto_values import from_timestamp
from services.platform_core.events.topics import ABNORMAL_REPORTS, EVALUATIONS
from services.platform_core.kafka.clients import create_producer
from services.platform_core.kafka.publisher import EventPublisher
from services.platform_core.settings import PlatformSettings
from tests.support.api_load import HOME_VENUE, HOST_VENUE, Keys, LoadFigures, read_topic
from tests.support.project_events import contract_awarded, publish_project_event

RULE_ID = RULE.definition.rule_id


@dataclass
class AbsenceFigures:
    no_shows: dict[str, str] = field(default_factory=dict)  # evaluation id -> pseudonym
    awarded: set[str] = field(default_factory=set)  # evaluation ids whose trade was awarded
    without_known_venue: int = 0  # committees seated at neither venue of the run
    not_scheduled: int = 0
    refused: list[str] = field(default_factory=list)
    unfinished: int = 0  # evaluations still undecided when the driver gave up


def _plan(marker: str) -> tuple[bool, bool]:
    """(report a no-show, award the trade) for the run's evaluation ``marker`` (tag-n): two
    committees in three lose a member, every other trade is awarded, so held, released and
    unrelated unsealings all occur."""
    k = int(marker.rsplit("-", 1)[1]) // 20
    return k % 3 != 0, k % 2 == 0


async def _post_retried(
    client: httpx.AsyncClient, path: str, body: dict[str, Any], key: str
) -> httpx.Response | None:
    """One answer with one Idempotency-Key, retried through restarts and 503s, and while the
    expert's confirmation is not applied yet (a no-show is taken for a confirmed expert only,
    and the worker applies the confirmation after the API acknowledged it)."""
    headers = {"X-API-Key": key, "Idempotency-Key": str(uuid.uuid4())}
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            response = await client.post(path, json=body, headers=headers)
        except httpx.TransportError:
            await asyncio.sleep(0.5)
            continue
        if response.status_code == 503 or (
            response.status_code == 409
            and ("in_flight" in response.text or "not_confirmed" in response.text)
        ):
            await asyncio.sleep(0.5)
            continue
        return response
    return None


async def _post_no_show(
    client: httpx.AsyncClient, evaluation_id: str, pseudonym: str, venue: str, key: str
) -> httpx.Response | None:
    """The expert's confirmation (their pool is the venue's owner's), then their no-show."""
    expert = f"/v1/evaluations/{evaluation_id}/experts/{pseudonym}"
    confirmed = await _post_retried(client, f"{expert}/answer", {"confirmed": True}, key)
    if confirmed is None or confirmed.status_code != 202:
        return confirmed
    return await _post_retried(client, f"{expert}/no-show", {"venue_id": venue}, key)


async def _view(client: httpx.AsyncClient, key: str, evaluation_id: str) -> dict[str, Any]:
    """The evaluation as its host sees it; empty while the API is unreachable."""
    try:
        response = await client.get(f"/v1/evaluations/{evaluation_id}", headers={"X-API-Key": key})
    except httpx.TransportError:
        return {}
    return dict(response.json()) if response.status_code == 200 else {}


async def drive_absences(
    base_url: str,
    keys: Keys,
    settings: PlatformSettings,
    figures: LoadFigures,
    run_over: Callable[[], bool],
    *,
    give_up_s: float = 300,
) -> AbsenceFigures:
    """Follows the run's evaluation requests as they are acknowledged until each is decided
    and handled, and each planned award sent (or ``give_up_s`` after the run is over)."""
    absences = AbsenceFigures()
    handled: set[str] = set()
    # evaluation id -> (project, the pseudonym whose no-show must take effect first)
    awaiting_award: dict[str, tuple[str, str | None]] = {}
    producer = create_producer(settings, client_id="faults-awards")
    await producer.start()
    publisher = EventPublisher(producer)
    over_since: float | None = None
    try:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            while True:
                if over_since is None and run_over():
                    over_since = time.monotonic()
                for marker, evaluation_id in list(figures.evaluation_ids.items()):
                    if marker in handled:
                        continue
                    view = await _view(client, keys.host, evaluation_id)
                    if view.get("status") not in ("scheduled", "failed"):
                        continue  # not decided yet (its worker may be down)
                    handled.add(marker)
                    if view["status"] != "scheduled":
                        absences.not_scheduled += 1
                        continue
                    no_show, award = _plan(marker)
                    absent = (
                        await _report_no_show(client, keys, view, absences) if no_show else None
                    )
                    if award:
                        awaiting_award[evaluation_id] = (marker, absent)
                await _send_due_awards(client, keys, publisher, awaiting_award, absences)
                if over_since is None:
                    await asyncio.sleep(0.5)
                elif len(handled) == len(figures.evaluation_ids) and not awaiting_award:
                    break
                elif time.monotonic() - over_since > give_up_s:
                    absences.unfinished = (
                        len(figures.evaluation_ids) - len(handled) + len(awaiting_award)
                    )
                    break
                else:
                    await asyncio.sleep(0.5)
    finally:
        await producer.stop()
    return absences


async def _send_due_awards(
    client: httpx.AsyncClient,
    keys: Keys,
    publisher: EventPublisher,
    awaiting_award: dict[str, tuple[str, str | None]],
    absences: AbsenceFigures,
) -> None:
    """The award follows the evaluation: a no-show reported on the day has been recorded (the
    expert replaced) by then, and after the award none is taken."""
    for evaluation_id, (project_id, absent) in list(awaiting_award.items()):
        if absent is not None:
            view = await _view(client, keys.host, evaluation_id)
            if not view or absent in {m["expert_pseudonym"] for m in view["committee"]}:
                continue
        await _award(publisher, project_id, evaluation_id, absences)
        del awaiting_award[evaluation_id]


async def _report_no_show(
    client: httpx.AsyncClient, keys: Keys, view: dict[str, Any], absences: AbsenceFigures
) -> str | None:
    """Reports a member at one of the run's venues absent; the pseudonym, once acknowledged."""
    evaluation_id = view["evaluation_id"]
    owners = {HOST_VENUE: keys.host, HOME_VENUE: keys.department}
    member = next((m for m in view["committee"] if m["venue_id"] in owners), None)
    if member is None:
        absences.without_known_venue += 1
        return None
    pseudonym = member["expert_pseudonym"]
    venue = member["venue_id"]
    response = await _post_no_show(client, evaluation_id, pseudonym, venue, owners[venue])
    if response is not None and response.status_code == 202:
        absences.no_shows[evaluation_id] = pseudonym
        return str(pseudonym)
    answer = "no answer" if response is None else f"{response.status_code} {response.text}"
    absences.refused.append(f"no-show {evaluation_id}/{pseudonym}: {answer[:200]}")
    return None


async def _award(
    publisher: EventPublisher, project_id: str, evaluation_id: str, absences: AbsenceFigures
) -> None:
    await publish_project_event(publisher, contract_awarded(project_id))
    absences.awarded.add(evaluation_id)


@dataclass(frozen=True)
class _Absence:
    expert: str  # supervision pseudonym
    evaluation_id: str
    evaluation_pseudonym: str
    at: datetime


def qualifying(absences: Iterable[_Absence]) -> set[tuple[str, str]]:
    """(expert, evaluation) of each no-show with at least the rule's count of the expert's
    no-shows in the window that ends with it, itself included."""
    by_expert: dict[str, list[_Absence]] = defaultdict(list)
    for absence in absences:
        by_expert[absence.expert].append(absence)
    found: set[tuple[str, str]] = set()
    for history in by_expert.values():
        for judged in history:
            within = [a for a in history if judged.at - RULE.window <= a.at <= judged.at]
            if len(within) >= RULE.min_no_shows:
                found.add((judged.expert, judged.evaluation_id))
    return found


@dataclass
class ExpertWatchCheck:
    service: str = "abnormal_push expert watch"
    compared: int = 0
    problems: list[str] = field(default_factory=list)
    reports: int = 0
    held: int = 0

    @property
    def differences(self) -> int:
        return len(self.problems)


async def _evaluations_log(
    settings: PlatformSettings, run: set[str]
) -> tuple[list[_Absence], set[str]]:
    """The run's absences (one per event id: a republished event repeats its id) and the
    evaluations unsealed."""
    recorded: dict[str, _Absence] = {}
    unsealed: set[str] = set()
    for envelope in await read_topic(settings, EVALUATIONS):
        message = envelope.message
        # The topic also carries events that name no evaluation (expert registrations, pool
        # owners' availability).
        if getattr(message, "evaluation_id", None) not in run:
            continue
        if message.DESCRIPTOR.name == "ExpertAbsenceRecorded":
            recorded[envelope.id] = _Absence(
                message.supervision_pseudonym,
                message.evaluation_id,
                message.expert_pseudonym,
                from_timestamp(message.occurred_at),
            )
        elif message.DESCRIPTOR.name == "CommitteeUnsealed":
            unsealed.add(message.evaluation_id)
    return list(recorded.values()), unsealed


def _recording_problems(
    absences: AbsenceFigures, recorded: list[_Absence], unsealed: set[str]
) -> list[str]:
    """Every acknowledged no-show accepted once (one absence under the reported pseudonym),
    none recorded that was not reported, and every awarded committee unsealed."""
    problems: list[str] = []
    per_no_show: Counter[tuple[str, str]] = Counter(
        (a.evaluation_id, a.evaluation_pseudonym) for a in recorded
    )
    for evaluation_id, pseudonym in sorted(absences.no_shows.items()):
        count = per_no_show.pop((evaluation_id, pseudonym), 0)
        if count != 1:
            problems.append(f"no-show {evaluation_id}/{pseudonym}: {count} absences")
    for (evaluation_id, pseudonym), count in sorted(per_no_show.items()):
        problems.append(f"absence {evaluation_id}/{pseudonym} never reported ({count})")
    if missing := absences.awarded - unsealed:
        problems.append(f"awarded but not unsealed: {sorted(missing)[:5]}")
    return problems


async def _reports_filed(settings: PlatformSettings, run: set[str]) -> list[tuple[str, str]]:
    """(expert, evaluation) of each distinct PRT-EXP-001 report on the run's evaluations."""
    filed: dict[str, tuple[str, str]] = {}  # by report id: a re-filed report repeats its id
    for envelope in await read_topic(settings, ABNORMAL_REPORTS):
        message = envelope.message
        if message.DESCRIPTOR.name != "AbnormalReportFiled" or message.detection.rule_id != RULE_ID:
            continue
        evaluation_id = message.detection.evidence_values.get("evaluation_id", "")
        if evaluation_id in run:
            filed[message.report_id] = (message.subjects[0].expert_pseudonym, evaluation_id)
    return list(filed.values())


async def _held(url: str, reader_key: str, run: set[str]) -> set[tuple[str, str]]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        status = await client.get("/v1/detection/rules", headers={"X-API-Key": reader_key})
    status.raise_for_status()
    return {
        (entry["expert_pseudonym"], entry["evaluation_id"])
        for entry in status.json()["held_until_award"]
        if entry["evaluation_id"] in run
    }


def _differences(
    what: str, expected: set[tuple[str, str]], found: set[tuple[str, str]]
) -> list[str]:
    missing = [
        f"{e}'s no-show at {v}: due to be {what}, is not" for e, v in sorted(expected - found)
    ]
    extra = [f"{e}'s no-show at {v}: {what}, not due to be" for e, v in sorted(found - expected)]
    return missing + extra


async def expert_watch_check(
    settings: PlatformSettings,
    abnormal_push_url: str,
    reader_key: str,
    absences: AbsenceFigures,
    evaluation_ids: Iterable[str],
) -> ExpertWatchCheck:
    """The run's no-shows and unsealings as the log has them, against the reports filed and
    the no-shows held."""
    run = set(evaluation_ids)
    recorded, unsealed = await _evaluations_log(settings, run)
    check = ExpertWatchCheck(problems=_recording_problems(absences, recorded, unsealed))
    due = qualifying(recorded)
    expected_reports = {pair for pair in due if pair[1] in unsealed}
    reported = await _reports_filed(settings, run)
    held = await _held(abnormal_push_url, reader_key, run)
    check.problems += _differences("reported", expected_reports, set(reported))
    check.problems += [
        f"{count} reports on {pair[0]}'s no-show at {pair[1]}"
        for pair, count in sorted(Counter(reported).items())
        if count > 1
    ]
    check.problems += _differences("held", due - expected_reports, held)
    check.compared = len(recorded) + len(unsealed) + len(reported) + len(held)
    check.reports, check.held = len(reported), len(held)
    return check
