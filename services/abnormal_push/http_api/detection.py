"""The detection rule registry as it runs: each rule's id, legal basis and data, how many
reports it filed, and recent cases a rule could not judge (e.g. R024 without history)."""

from __future__ import annotations

from fastapi import APIRouter

from services.abnormal_push.domain.detection import registry
from services.abnormal_push.http_api.dependencies import Detection, Reader
from services.abnormal_push.http_api.schemas import (
    DetectionStatusPublic,
    HeldNoShowPublic,
    RulePublic,
)

router = APIRouter(prefix="/v1/detection", tags=["detection"])


@router.get("/rules", response_model=DetectionStatusPublic, summary="Detection rules and status")
async def rules(_: Reader, state: Detection) -> DetectionStatusPublic:
    filed = await state.findings_by_rule()
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
        recently_not_applied=await state.recent_not_applied(),
        held_until_award=[
            HeldNoShowPublic.model_validate(entry) for entry in await state.held_until_award()
        ],
    )
