"""The detection rule registry as it runs: each rule's id, legal basis and data, how many
reports it filed, and recent cases a rule could not judge (e.g. R024 without history).

The no-shows held until the award name an expert's supervision pseudonym and the evaluation
(and project) of a committee still sealed (招标投标法 第三十七条): only operators read them. A
department gets the rest, without the held no-shows and without the not-applied notes that
name them.
"""

from __future__ import annotations

from fastapi import APIRouter

from services.abnormal_push.domain.detection import registry
from services.abnormal_push.http_api.access import is_operator
from services.abnormal_push.http_api.dependencies import Detection, Reader
from services.abnormal_push.http_api.schemas import (
    DetectionStatusPublic,
    HeldNoShowPublic,
    RulePublic,
)

router = APIRouter(prefix="/v1/detection", tags=["detection"])


def _names_a_sealed_committee(note: dict[str, str], held: list[dict[str, str]]) -> bool:
    """Whether a not-applied note tells of a held no-show (its reason names the expert or the
    evaluation): the note written with the held entry says as much as the entry does."""
    reason = note.get("reason", "")
    return any(
        marker and marker in reason
        for entry in held
        for marker in (entry.get("expert_pseudonym", ""), entry.get("evaluation_id", ""))
    )


@router.get(
    "/rules",
    response_model=DetectionStatusPublic,
    summary="Detection rules and status (the no-shows held until the award: operators only)",
)
async def rules(reader: Reader, state: Detection) -> DetectionStatusPublic:
    filed = await state.findings_by_rule()
    held = await state.held_until_award()
    not_applied = await state.recent_not_applied()
    if not is_operator(reader):
        not_applied = [note for note in not_applied if not _names_a_sealed_committee(note, held)]
        held = []
    return DetectionStatusPublic(
        rules=[
            RulePublic(
                rule_id=d.rule_id,
                version=d.version,
                name=d.name,
                legal_basis=d.legal_basis,
                applies_to=d.applies_to,
                behaviour_type=d.behaviour_type,
                severity=d.severity,
                parameters=d.parameters,
                reports_filed=filed.get(d.rule_id, 0),
            )
            for d in (rule.definition for rule in registry())
        ],
        price_history_sections=await state.history_size(),
        recently_not_applied=not_applied,
        held_until_award=[HeldNoShowPublic.model_validate(entry) for entry in held],
    )
