"""The detection agents' work: keep each live section's bids (Redis, rebuilt from the intake
topic) and each expert's no-shows and the committees unsealed (from the remote evaluation
topic), evaluate the rule registry on every relevant event, file findings as reports.

Idempotent by event id: an intake event already applied is skipped; one applied again after a
crash (state not yet marked) re-files reports whose ids and event ids are fixed by the finding,
so the report projection and the router keep one copy.

A sign open to joiners (bidders sharing one value) is filed once, when first seen; a bidder
sharing its value later is recorded beside the sign, not reported again (``findings``).

A rebuild (``rebuild.py``) replays the topics into emptied state, and some of that state is
shared across projects and evaluations on different partitions (R024's price-gap history, an
expert's no-shows), which a replay reads in another interleaving than they were lived: an event
judged before the rebuild may then yield a finding it did not yield live. So an event below
the replay boundary the rebuild recorded files nothing: what it filed live is on the log (the
rebuild counts it from there), and what it finds only now is listed as not applied.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from services.abnormal_push.domain.detection import evaluate_all, registry
from services.abnormal_push.domain.detection.findings import (
    FiledSign,
    Filing,
    plan_filings,
    report_from_finding,
)
from services.abnormal_push.domain.detection.intake_facts import (
    AnnouncementSeen,
    BidSeen,
    BreachSeen,
    CandidatesSeen,
    EvaluationSeen,
    IntakeFact,
    ObligationDeclared,
    OpeningSeen,
    ProjectSeen,
    TenderFailedSeen,
)
from services.abnormal_push.domain.detection.model import (
    Bid,
    BidsOpenedTrigger,
    BidSubmittedTrigger,
    CandidatesPublicisedTrigger,
    CommitteeUnsealedTrigger,
    DeficiencyBreachTrigger,
    EvaluationCompletedTrigger,
    ExpertNoShow,
    ExpertNoShowTrigger,
    Finding,
    Fingerprint,
    NotApplied,
    Organisation,
    Outcome,
    ProjectFacts,
    TenderFailedTrigger,
    Trigger,
    Withheld,
)
from services.abnormal_push.domain.detection.remote_eval_facts import (
    CommitteeUnsealedSeen,
    NoShowSeen,
    RemoteEvaluationSeen,
)
from services.abnormal_push.domain.detection.rules.price_close_to_runner_up import relative_gap
from services.abnormal_push.domain.reports import Subject, SubjectKind
from services.abnormal_push.domain.routing import derived_event_id
from services.abnormal_push.event_codec import (
    evaluation_fact_from_envelope,
    intake_fact_from_envelope,
)
from services.abnormal_push.publishing import publish_report
from services.abnormal_push.read_model import PREFIX
from services.abnormal_push.service_config import load_routing_table
from services.platform_core.errors import EventDecodeError
from services.platform_core.events.envelope import Envelope
from services.platform_core.kafka.faust_worker import EventRejected
from services.platform_core.kafka.publisher import EventPublisher
from services.platform_core.redis_lease import RedisLease

log = logging.getLogger(__name__)

DETECTION = PREFIX + "detection:"
APPLIED = DETECTION + "applied:"
PROJECT = DETECTION + "project:"
BIDS = DETECTION + "bids:"
SECTIONS = DETECTION + "sections:"  # set per project: the sections that received bids
# Each publicised section's winner/runner-up price gap and when it was publicised
# ("project:section" -> "gap|ISO time"; a value without a time was stored before the time was).
GAPS = DETECTION + "price-gaps"
# When each section's evaluation completed ("project:section" -> ISO time), for the deadline of
# its candidates' publicity.
EVALUATED_AT = DETECTION + "evaluated-at"
# The submission deadline each announcement stated ("project:section", or "project:" for the
# whole project -> "deadline ISO|announced at ISO"): the latest announcement's is in force.
SUBMISSION_DEADLINES = DETECTION + "submission-deadlines"
# Each remote evaluation's project (evaluation id -> project id), from its request.
EVALUATION_PROJECTS = DETECTION + "evaluation-projects"
# Per expert pseudonym, a hash of its no-shows (event id -> JSON): a hash, not a list, so the
# state is the same whatever order no-shows from different partitions arrive in.
NO_SHOWS = DETECTION + "no-shows:"
# Per evaluation, the set of expert pseudonyms absent from it: whose no-shows its unsealing
# releases.
ABSENT_EXPERTS = DETECTION + "absent-experts:"
# The evaluations whose committee the award unsealed (evaluation id -> ISO time): no-shows at
# them may be reported (招标投标法 art. 37).
UNSEALED = DETECTION + "unsealed-evaluations"
# Held while one remote evaluation event is judged. One expert's no-shows, and the unsealings
# that release them, come from evaluations on different partitions, which two workers may
# judge at once: each would read the history without the other's event and both could miss
# the report. The topic carries a few events per evaluation, so one lease for all is cheap.
EXPERT_WATCH_LEASE = DETECTION + "expert-watch-lease"
# A holder killed mid-judgement leaves the lease until it expires, stalling the watch: the work
# under it is a few Redis reads and at most a few reports, so it expires soon.
EXPERT_WATCH_LEASE_MS = 10_000
# Qualifying no-shows held until their committee is unsealed ("expert|evaluation" -> JSON), for
# operators: the not-applied list holds every rule's last few cases only.
HELD = DETECTION + "held-until-award"
# Per rule, the set of the ids of the reports it filed: a report found again (a later bid
# re-evaluates the section; a replay re-files) is counted once. "filing-rules" lists the rules.
FILED_REPORTS = DETECTION + "filed-reports:"
FILING_RULES = DETECTION + "filing-rules"
# The signs open to joiners already reported (sign key -> JSON of the FiledSign): which report
# each is under, and who shared its value after.
SIGNS = DETECTION + "signs"
# Where the last rebuild's replay ends in each partition of the topics detection reads
# ("topic:partition" -> offset, written by rebuild.py): the consumer group's position when the
# rebuild began. Events before it were judged before the rebuild.
REPLAY_BOUNDARY = DETECTION + "replay-boundary"
NOT_APPLIED = DETECTION + "not-applied"  # list of recent {rule_id, reason, event_id, at}
NOT_APPLIED_LENGTH = 200


@dataclass(frozen=True)
class LogPosition:
    """Where an event sits in its topic."""

    topic: str
    partition: int
    offset: int

    @property
    def partition_key(self) -> str:
        return f"{self.topic}:{self.partition}"


def gap_value(gap: float, publicised_at: datetime) -> str:
    return f"{gap!r}|{publicised_at.isoformat()}"


def gaps_before(
    stored: Mapping[str, str], *, excluding: str, before: datetime
) -> tuple[float, ...]:
    """The price gaps of the sections publicised before ``before`` (business time), the
    section ``excluding`` left out, in section order. The history a section is judged against
    is thus fixed by the facts, not by the order in which the projects' partitions were read;
    a gap stored without its time (before times were stored) counts as earlier."""
    gaps = []
    for section_key, value in sorted(stored.items()):
        if section_key == excluding:
            continue
        gap, _, at = value.partition("|")
        if at and datetime.fromisoformat(at) >= before:
            continue
        gaps.append(float(gap))
    return tuple(gaps)


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


def _bid_to_json(bid: Bid) -> str:
    data = asdict(bid)
    data["submitted_at"] = bid.submitted_at.isoformat()
    return json.dumps(data, ensure_ascii=False)


def _bid_from_json(raw: bytes | str) -> Bid:
    data = json.loads(raw)
    return Bid(
        event_id=data["event_id"],
        bidder=Organisation(**data["bidder"]),
        bid_section_code=data["bid_section_code"],
        bid_price_fen=data["bid_price_fen"],
        fingerprint=Fingerprint(**data["fingerprint"]),
        deposit_account=data["deposit_account"],
        submitted_at=datetime.fromisoformat(data["submitted_at"]),
        deposit_fen=data.get("deposit_fen"),  # absent: stored before detection kept it
        project_manager_certificate_no=data.get("project_manager_certificate_no", ""),
        bidder_address=data.get("bidder_address", ""),
        bidder_contact_phone=data.get("bidder_contact_phone", ""),
    )


def _no_show_to_json(no_show: ExpertNoShow) -> str:
    data = asdict(no_show)
    data["at"] = no_show.at.isoformat()
    return json.dumps(data, ensure_ascii=False)


def _no_show_from_json(raw: bytes | str) -> ExpertNoShow:
    data = json.loads(raw)
    return ExpertNoShow(**{**data, "at": datetime.fromisoformat(data["at"])})


def _sign_to_json(sign: FiledSign) -> str:
    return json.dumps(asdict(sign), ensure_ascii=False)


def _sign_from_json(raw: bytes | str) -> FiledSign:
    data = json.loads(raw)
    return FiledSign(
        sign_key=data["sign_key"],
        rule_id=data["rule_id"],
        report_id=data["report_id"],
        reported=tuple(data["reported"]),
        joined=tuple(
            Subject(**{**subject, "kind": SubjectKind(subject["kind"])})
            for subject in data["joined"]
        ),
        source_event_ids=tuple(data["source_event_ids"]),
        also_known_as=tuple(data.get("also_known_as", ())),  # absent: stored with one key
    )


def _held_field(expert_pseudonym: str, evaluation_id: str) -> str:
    return f"{expert_pseudonym}|{evaluation_id}"


def _queue_expert_watch(
    pipe: Pipeline,
    *,
    evaluation: RemoteEvaluationSeen | None,
    no_show: ExpertNoShow | None,
    unsealed: CommitteeUnsealedSeen | None,
    not_applied: Sequence[NotApplied],
    released: Sequence[str],
) -> None:
    if evaluation is not None:
        pipe.hset(EVALUATION_PROJECTS, evaluation.evaluation_id, evaluation.project_id)
    if no_show is not None:
        pipe.hset(NO_SHOWS + no_show.expert_pseudonym, no_show.event_id, _no_show_to_json(no_show))
        pipe.sadd(ABSENT_EXPERTS + no_show.evaluation_id, no_show.expert_pseudonym)
    if unsealed is not None:
        pipe.hset(UNSEALED, unsealed.evaluation_id, unsealed.at.isoformat())
    for held in (o for o in not_applied if isinstance(o, Withheld)):
        entry = {
            "rule_id": held.rule_id,
            "expert_pseudonym": held.expert_pseudonym,
            "evaluation_id": held.evaluation_id,
            "project_id": held.project_id,
            "no_show_at": held.no_show_at.isoformat(),
        }
        field = _held_field(held.expert_pseudonym, held.evaluation_id)
        pipe.hset(HELD, field, json.dumps(entry, ensure_ascii=False))
    if released:
        pipe.hdel(HELD, *released)


def _queue_filings(pipe: Pipeline, filings: Sequence[Filing], *, replayed: bool) -> None:
    for filing in filings:
        rule_id = filing.finding.definition.rule_id
        if not replayed:
            pipe.sadd(FILED_REPORTS + rule_id, filing.report_id)
            pipe.sadd(FILING_RULES, rule_id)
        # A replayed event's signs are recorded all the same: a bidder who joins one later is
        # not reported again. A sign is stored under each of its keys (every value that alone
        # identifies it) when it is new or took on a joiner or a key — not at every bid that
        # finds it unchanged.
        if filing.sign is not None and filing.sign_changed:
            recorded = _sign_to_json(filing.sign)
            pipe.hset(SIGNS, mapping=dict.fromkeys(filing.sign.keys, recorded))


def _project_facts(project_id: str, raw: Any) -> ProjectFacts:
    if raw is None:
        return ProjectFacts(project_id)
    data = json.loads(raw)
    tenderer = data.pop("tenderer")
    return ProjectFacts(**data, tenderer=Organisation(**tenderer) if tenderer else None)


class DetectionState:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def applied(self, event_id: str) -> bool:
        return bool(await self._redis.exists(APPLIED + event_id))

    async def project(self, project_id: str) -> ProjectFacts:
        return _project_facts(project_id, await self._redis.get(PROJECT + project_id))

    async def projects(self, project_ids: Iterable[str]) -> dict[str, ProjectFacts]:
        """The facts of several projects in one read (an expert's history may name many)."""
        ids = sorted(set(project_ids))
        if not ids:
            return {}
        raw = await self._redis.mget([PROJECT + pid for pid in ids])
        return {pid: _project_facts(pid, value) for pid, value in zip(ids, raw, strict=True)}

    async def bids(self, project_id: str, section: str) -> dict[str, Bid]:
        raw: dict[Any, Any] = await self._redis.hgetall(f"{BIDS}{project_id}:{section}")
        return {
            (k.decode() if isinstance(k, bytes) else k): _bid_from_json(v) for k, v in raw.items()
        }

    async def sections_with_bids(self, project_id: str) -> list[str]:
        raw: set[Any] = await self._redis.smembers(SECTIONS + project_id)
        return sorted(k.decode() if isinstance(k, bytes) else k for k in raw)

    async def gap_history(self, excluding: str, before: datetime) -> tuple[float, ...]:
        raw: dict[Any, Any] = await self._redis.hgetall(GAPS)
        stored = {_text(k): _text(v) for k, v in raw.items()}
        return gaps_before(stored, excluding=excluding, before=before)

    async def replay_boundary(self) -> dict[str, int]:
        """Where the last rebuild's replay ends, per "topic:partition" (empty: no rebuild)."""
        raw: dict[Any, Any] = await self._redis.hgetall(REPLAY_BOUNDARY)
        return {_text(k): int(v) for k, v in raw.items()}

    async def on_the_log(self, rule_id: str, report_ids: Sequence[str]) -> list[bool]:
        """Whether each report was filed (is on the reports topic) under the rule."""
        if not report_ids:
            return []
        raw = await self._redis.smismember(FILED_REPORTS + rule_id, list(report_ids))
        return [bool(member) for member in raw]

    async def commit(
        self,
        event_id: str,
        *,
        project: ProjectFacts | None = None,
        bid: tuple[str, Bid] | None = None,
        gap: tuple[str, str] | None = None,
        evaluated: tuple[str, datetime] | None = None,
        announced: AnnouncementSeen | None = None,
        evaluation: RemoteEvaluationSeen | None = None,
        no_show: ExpertNoShow | None = None,
        unsealed: CommitteeUnsealedSeen | None = None,
        filings: Sequence[Filing] = (),
        not_applied: Sequence[NotApplied] = (),
        released: Sequence[str] = (),
        fence: RedisLease | None = None,
        replayed: bool = False,
    ) -> None:
        """Store what the event taught and mark it applied, in one transaction (fenced by the
        lease under which it was judged, if any: a holder whose lease lapsed writes nothing).
        A ``replayed`` event (judged before the rebuild) counts no report as filed: the rebuild
        counted those on the log."""
        async with self._redis.pipeline(transaction=True) as pipe:
            if fence is not None:
                await fence.begin_fenced(pipe)
            if project is not None:
                data = asdict(project)
                pipe.set(PROJECT + project.project_id, json.dumps(data, ensure_ascii=False))
            if bid is not None:
                project_id, value = bid
                key = f"{BIDS}{project_id}:{value.bid_section_code}"
                pipe.hset(key, value.bidder.credit_code, _bid_to_json(value))
                pipe.sadd(SECTIONS + project_id, value.bid_section_code)
            if gap is not None:
                pipe.hset(GAPS, gap[0], gap[1])
            if evaluated is not None:
                pipe.hset(EVALUATED_AT, evaluated[0], evaluated[1].isoformat())
            if announced is not None:
                stated = f"{announced.submission_deadline.isoformat()}|{announced.at.isoformat()}"
                for section in announced.section_codes or ("",):
                    pipe.hset(SUBMISSION_DEADLINES, f"{announced.project_id}:{section}", stated)
            _queue_expert_watch(
                pipe,
                evaluation=evaluation,
                no_show=no_show,
                unsealed=unsealed,
                not_applied=not_applied,
                released=released,
            )
            _queue_filings(pipe, filings, replayed=replayed)
            for outcome in not_applied:
                entry = {
                    "rule_id": outcome.rule_id,
                    "reason": outcome.reason,
                    "event_id": event_id,
                    "at": datetime.now(UTC).isoformat(),
                }
                pipe.lpush(NOT_APPLIED, json.dumps(entry, ensure_ascii=False))
                pipe.ltrim(NOT_APPLIED, 0, NOT_APPLIED_LENGTH - 1)
            pipe.set(APPLIED + event_id, "1")
            if fence is not None:
                await fence.execute_fenced(pipe)
            else:
                await pipe.execute()

    def expert_watch_lease(self) -> RedisLease:
        return RedisLease(self._redis, EXPERT_WATCH_LEASE, lease_ms=EXPERT_WATCH_LEASE_MS)

    async def evaluated_at(self, section_key: str) -> datetime | None:
        raw = await self._redis.hget(EVALUATED_AT, section_key)
        return (
            datetime.fromisoformat(raw.decode() if isinstance(raw, bytes) else raw) if raw else None
        )

    async def submission_deadline(self, project_id: str, section: str) -> datetime | None:
        """The section's deadline as last announced, for the section or the whole project."""
        stated = await self._redis.hmget(
            SUBMISSION_DEADLINES, [f"{project_id}:{section}", f"{project_id}:"]
        )
        announcements = []  # (announced at, deadline)
        for raw in stated:
            if raw:
                text = raw.decode() if isinstance(raw, bytes) else raw
                deadline, _, announced_at = text.partition("|")
                announcements.append(
                    (datetime.fromisoformat(announced_at), datetime.fromisoformat(deadline))
                )
        return max(announcements)[1] if announcements else None

    async def evaluation_project(self, evaluation_id: str) -> str:
        """The project an evaluation is for; "" when its request was not seen."""
        raw = await self._redis.hget(EVALUATION_PROJECTS, evaluation_id)
        return (raw.decode() if isinstance(raw, bytes) else raw) or ""

    async def no_shows(self, expert_pseudonym: str) -> list[ExpertNoShow]:
        raw: dict[Any, Any] = await self._redis.hgetall(NO_SHOWS + expert_pseudonym)
        return [_no_show_from_json(value) for value in raw.values()]

    async def absent_experts(self, evaluation_id: str) -> list[str]:
        raw: set[Any] = await self._redis.smembers(ABSENT_EXPERTS + evaluation_id)
        return sorted(k.decode() if isinstance(k, bytes) else k for k in raw)

    async def unsealed(self, evaluation_ids: Sequence[str]) -> frozenset[str]:
        """Those of the evaluations whose committee has been unsealed."""
        if not evaluation_ids:
            return frozenset()
        stamps = await self._redis.hmget(UNSEALED, list(evaluation_ids))
        return frozenset(e for e, stamp in zip(evaluation_ids, stamps, strict=True) if stamp)

    async def findings_by_rule(self) -> dict[str, int]:
        """How many reports each rule filed: distinct report ids, however often found."""
        raw: set[Any] = await self._redis.smembers(FILING_RULES)
        rule_ids = sorted(k.decode() if isinstance(k, bytes) else k for k in raw)
        async with self._redis.pipeline(transaction=False) as pipe:
            for rule_id in rule_ids:
                pipe.scard(FILED_REPORTS + rule_id)
            counts = await pipe.execute()
        return {rule_id: int(count) for rule_id, count in zip(rule_ids, counts, strict=True)}

    async def filed_signs(self, sign_keys: Iterable[str]) -> dict[str, FiledSign]:
        """Those of the signs open to joiners that were reported, by sign key."""
        keys = sorted(set(sign_keys))
        if not keys:
            return {}
        raw = await self._redis.hmget(SIGNS, keys)
        return {key: _sign_from_json(value) for key, value in zip(keys, raw, strict=True) if value}

    async def filed_sign(self, sign_key: str) -> FiledSign | None:
        return (await self.filed_signs([sign_key])).get(sign_key)

    async def held_until_award(self) -> list[dict[str, str]]:
        """The qualifying no-shows whose report waits for the award, oldest first."""
        raw: dict[Any, Any] = await self._redis.hgetall(HELD)
        return sorted((json.loads(v) for v in raw.values()), key=lambda e: e["no_show_at"])

    async def recent_not_applied(self, limit: int = 50) -> list[dict[str, str]]:
        return [json.loads(e) for e in await self._redis.lrange(NOT_APPLIED, 0, limit - 1)]

    async def history_size(self) -> int:
        return int(await self._redis.hlen(GAPS))


class Detector:
    def __init__(self, state: DetectionState, publisher: EventPublisher) -> None:
        self._state = state
        self._publisher = publisher
        self._expert_watch = state.expert_watch_lease()
        # Read once: only a rebuild writes it, and a rebuild runs with the worker stopped.
        self._replay_boundary: dict[str, int] | None = None

    async def _judged_before_rebuild(self, position: LogPosition | None) -> bool:
        if position is None:
            return False
        if self._replay_boundary is None:
            self._replay_boundary = await self._state.replay_boundary()
        return position.offset < self._replay_boundary.get(position.partition_key, 0)

    async def apply(self, envelope: Envelope[Message], position: LogPosition | None = None) -> None:
        """An intake event, at ``position`` in its topic (None: not read from the topic, so
        not a replay)."""
        try:
            fact = intake_fact_from_envelope(envelope)
        except ValueError as exc:  # e.g. an enum value newer than this contract
            raise EventRejected(f"{envelope.type} {envelope.subject}: {exc}") from exc
        if fact is None or await self._state.applied(envelope.id):
            return
        await self._apply_fact(envelope.id, fact, await self._judged_before_rebuild(position))

    async def apply_evaluation_event(
        self, envelope: Envelope[Message], position: LogPosition | None = None
    ) -> None:
        """A remote evaluation event: which project an evaluation is for, no-shows, and the
        unsealing of a committee (which releases the reports on its no-shows)."""
        try:
            fact = evaluation_fact_from_envelope(envelope)
        except EventDecodeError as exc:  # a no-show naming no expert, or no time
            raise EventRejected(str(exc)) from exc
        if fact is None:
            return
        replayed = await self._judged_before_rebuild(position)
        async with self._expert_watch.held():
            if await self._state.applied(envelope.id):
                return
            if isinstance(fact, RemoteEvaluationSeen):
                await self._state.commit(envelope.id, evaluation=fact, fence=self._expert_watch)
            elif isinstance(fact, CommitteeUnsealedSeen):
                await self._release_no_shows(envelope.id, fact, replayed)
            else:
                await self._judge_no_show(envelope.id, fact, replayed)

    async def _judge_no_show(self, event_id: str, fact: NoShowSeen, replayed: bool) -> None:
        project_id = await self._state.evaluation_project(fact.no_show.evaluation_id)
        no_show = replace(fact.no_show, project_id=project_id)
        history, projects = await self._no_show_history(no_show.expert_pseudonym, no_show)
        disclosed = await self._state.unsealed(sorted({n.evaluation_id for n in history}))
        trigger = ExpertNoShowTrigger(event_id, no_show.at, no_show, history, projects, disclosed)
        outcomes = evaluate_all(trigger, registry())
        filings = await self._plan(outcomes)
        # A finding may concern a later no-show this one brought to the threshold: it is
        # filed as of that no-show, as it would have been had they arrived in time order.
        not_filed = await self._file(
            [(f, max(trigger.at, f.finding.act_at)) for f in filings], replayed
        )
        await self._state.commit(
            event_id,
            no_show=no_show,
            filings=filings,
            not_applied=[*(o for o in outcomes if isinstance(o, NotApplied)), *not_filed],
            fence=self._expert_watch,
            replayed=replayed,
        )

    async def _release_no_shows(
        self, event_id: str, fact: CommitteeUnsealedSeen, replayed: bool
    ) -> None:
        """The committee is unsealed: judge the no-shows at its evaluation, which were held."""
        if await self._state.unsealed([fact.evaluation_id]):  # unsealed once already
            await self._state.commit(event_id, fence=self._expert_watch)
            return
        outcomes: list[Outcome] = []
        absent = await self._state.absent_experts(fact.evaluation_id)
        for expert in absent:
            history, projects = await self._no_show_history(expert)
            trigger = CommitteeUnsealedTrigger(
                event_id, fact.at, fact.evaluation_id, history, projects
            )
            outcomes += evaluate_all(trigger, registry())
        filings = await self._plan(outcomes)
        not_filed = await self._file(
            [(f, max(fact.at, f.finding.act_at)) for f in filings], replayed
        )
        await self._state.commit(
            event_id,
            unsealed=fact,
            filings=filings,
            not_applied=[*(o for o in outcomes if isinstance(o, NotApplied)), *not_filed],
            released=[_held_field(expert, fact.evaluation_id) for expert in absent],
            fence=self._expert_watch,
            replayed=replayed,
        )

    async def _no_show_history(
        self, expert_pseudonym: str, adding: ExpertNoShow | None = None
    ) -> tuple[tuple[ExpertNoShow, ...], dict[str, ProjectFacts]]:
        """The expert's no-shows in time order (with ``adding``, not yet stored) and the facts
        of the projects they concern."""
        seen = {n.event_id: n for n in await self._state.no_shows(expert_pseudonym)}
        if adding is not None:
            seen[adding.event_id] = adding
        history = tuple(sorted(seen.values(), key=lambda n: (n.at, n.event_id)))
        projects = await self._state.projects(n.project_id for n in history if n.project_id)
        return history, projects

    async def _plan(self, outcomes: Sequence[Outcome]) -> list[Filing]:
        """The filing of each finding among the outcomes, given the signs already reported."""
        findings = [o for o in outcomes if isinstance(o, Finding)]
        filed = await self._state.filed_signs(
            key for f in findings if f.open_to_joiners for key in f.sign_keys
        )
        return plan_filings(findings, filed)

    async def _file(
        self, filings: Sequence[tuple[Filing, datetime]], replayed: bool
    ) -> list[NotApplied]:
        """Publish the reports the filings file (stored as filed at commit, after this: a crash
        in between re-files them under the same ids).

        Nothing for an event ``replayed`` (judged before the rebuild): its reports are on the
        log already, and a report not there is one the replay finds only because it read the
        shared history in another order than it was lived - filing it would reach every
        department as a new report. Such findings are returned, to be listed as not applied."""
        if replayed:
            return await self._not_filed_on_replay([f for f, _ in filings if f.files_report])
        trading_centre = load_routing_table().trading_centre
        for filing, filed_at in filings:
            rule_id = filing.finding.definition.rule_id
            if filing.joiners:
                log.info(
                    "rule %s: %s joined the sign of report %s (not reported again)",
                    rule_id,
                    ", ".join(s.identity for s in filing.joiners),
                    filing.report_id,
                )
            if not filing.files_report:
                continue
            report = report_from_finding(filing.finding, trading_centre, filed_at=filed_at)
            await publish_report(
                self._publisher, report, derived_event_id("report-filed", report.report_id)
            )
            log.info("rule %s fired: report %s", rule_id, report.report_id)
        return []

    async def _not_filed_on_replay(self, filings: Sequence[Filing]) -> list[NotApplied]:
        not_filed: list[NotApplied] = []
        for filing in filings:
            rule_id = filing.finding.definition.rule_id
            (on_log,) = await self._state.on_the_log(rule_id, [filing.report_id])
            if not on_log:
                log.warning(
                    "rule %s: report %s found on replay only, not filed", rule_id, filing.report_id
                )
                not_filed.append(
                    NotApplied(
                        rule_id,
                        f"report {filing.report_id} found only on replaying an event judged "
                        "before the rebuild, and not on the log: not filed (a rebuild files "
                        "nothing new; the replay read the shared history in another order)",
                    )
                )
        return not_filed

    async def _apply_fact(self, event_id: str, fact: IntakeFact, replayed: bool) -> None:
        if isinstance(fact, ProjectSeen):
            await self._state.commit(event_id, project=fact.project)
            return
        if isinstance(fact, AnnouncementSeen):
            await self._state.commit(event_id, announced=fact)
            return
        if isinstance(fact, ObligationDeclared):
            project = await self._state.project(fact.project_id)
            declared = replace(project, tender_required_by_law=fact.tender_required_by_law)
            await self._state.commit(event_id, project=declared)
            return
        trigger: Trigger
        more: list[Trigger] = []  # a project-wide 流标 concerns each section with bids
        bid: tuple[str, Bid] | None = None
        gap: tuple[str, str] | None = None
        evaluated: tuple[str, datetime] | None = None
        if isinstance(fact, BidSeen):
            section = fact.bid.bid_section_code
            bids = await self._state.bids(fact.project_id, section)
            bids[fact.bid.bidder.credit_code] = fact.bid
            trigger = BidSubmittedTrigger(
                event_id,
                fact.bid.submitted_at,
                await self._state.project(fact.project_id),
                section,
                tuple(bids.values()),
            )
            bid = (fact.project_id, fact.bid)
        elif isinstance(fact, OpeningSeen):
            bids = await self._state.bids(fact.project_id, fact.section_code)
            trigger = BidsOpenedTrigger(
                event_id,
                fact.at,
                await self._state.project(fact.project_id),
                fact.section_code,
                fact.opened_bidder_codes,
                tuple(bids.values()),
                await self._state.submission_deadline(fact.project_id, fact.section_code),
            )
        elif isinstance(fact, EvaluationSeen):
            bids = await self._state.bids(fact.project_id, fact.section_code)
            trigger = EvaluationCompletedTrigger(
                event_id,
                fact.at,
                await self._state.project(fact.project_id),
                fact.section_code,
                tuple(bids.values()),
                fact.disqualifications,
            )
            evaluated = (f"{fact.project_id}:{fact.section_code}", fact.at)
        elif isinstance(fact, CandidatesSeen):
            section_key = f"{fact.project_id}:{fact.section_code}"
            trigger = CandidatesPublicisedTrigger(
                event_id,
                fact.at,
                await self._state.project(fact.project_id),
                fact.section_code,
                fact.candidates,
                await self._state.gap_history(excluding=section_key, before=fact.at),
                await self._state.evaluated_at(section_key),
            )
            section_gap = relative_gap(fact.candidates)
            gap = None if section_gap is None else (section_key, gap_value(section_gap, fact.at))
        elif isinstance(fact, TenderFailedSeen):
            project = await self._state.project(fact.project_id)
            sections = (
                [fact.section_code]
                if fact.section_code
                else await self._state.sections_with_bids(fact.project_id)
            )
            failed = [
                TenderFailedTrigger(
                    event_id,
                    fact.at,
                    project,
                    section,
                    tuple((await self._state.bids(fact.project_id, section)).values()),
                )
                for section in sections
            ]
            if not failed:  # no section took bids: nothing to look at
                await self._state.commit(event_id)
                return
            trigger, more = failed[0], list(failed[1:])
        else:
            assert isinstance(fact, BreachSeen)
            trigger = DeficiencyBreachTrigger(
                event_id,
                fact.at,
                await self._state.project(fact.project_id),
                fact.tenderer,
                fact.supplement_deadline,
                fact.outstanding_documents,
            )
        outcomes = [o for t in (trigger, *more) for o in evaluate_all(t, registry())]
        filings = await self._plan(outcomes)
        not_applied = [o for o in outcomes if isinstance(o, NotApplied)]
        not_applied += await self._file([(filing, trigger.at) for filing in filings], replayed)
        for outcome in not_applied:
            log.info("rule %s not applied to %s: %s", outcome.rule_id, event_id, outcome.reason)
        await self._state.commit(
            event_id,
            bid=bid,
            gap=gap,
            evaluated=evaluated,
            filings=filings,
            not_applied=not_applied,
            replayed=replayed,
        )
