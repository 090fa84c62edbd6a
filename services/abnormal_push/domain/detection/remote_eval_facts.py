"""Remote evaluation's events as detection sees them (decoded from protobuf by the codec)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.abnormal_push.domain.detection.model import ExpertNoShow


@dataclass(frozen=True)
class RemoteEvaluationSeen:
    """An evaluation was requested for a project: its no-shows concern that project."""

    evaluation_id: str
    project_id: str


@dataclass(frozen=True)
class NoShowSeen:
    """A confirmed expert did not arrive; ``no_show.project_id`` is filled in by detection from
    the evaluation's request."""

    no_show: ExpertNoShow


@dataclass(frozen=True)
class CommitteeUnsealedSeen:
    """The award unsealed an evaluation's committee: its no-shows may now be reported."""

    evaluation_id: str
    at: datetime


RemoteEvaluationFact = RemoteEvaluationSeen | NoShowSeen | CommitteeUnsealedSeen
