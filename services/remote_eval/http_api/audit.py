"""The draw proof for auditors: recorded seeds and inputs, and a re-run that must match.

An evaluation's state names each draw's candidates by their pool's hash; the pool itself is
stored once (store.candidate_pool, rebuilt from the DrawCandidatePoolRecorded records), and its
hash recomputed here, so a pool that is not the one drawn from fails the proof."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.platform_core.auth.dependencies import CurrentPrincipal, require_kind
from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.http.errors import ApiError
from services.remote_eval.domain.draw import candidate_pool_sha256, inputs_sha256
from services.remote_eval.domain.solver import DrawRecord, rerun_draw
from services.remote_eval.http_api.dependencies import (
    Context,
    RemoteEvalContext,
    evaluation_or_404,
)
from services.remote_eval.http_api.schemas import DrawProofPublic, DrawPublic
from services.remote_eval.store import draw_from_json, draw_keeps_candidates

router = APIRouter(prefix="/v1/evaluations", tags=["draw audit"])


async def _recorded_draw(
    context: RemoteEvalContext, evaluation_id: str, index: int, draw: dict[str, Any]
) -> DrawRecord:
    """The draw with its candidates: its own (a state stored before pools were kept apart),
    or the pool it names."""
    if draw_keeps_candidates(draw):
        return draw_from_json(draw)
    pool = await context.store.candidate_pool(draw["candidate_pool_sha256"])
    if pool is None:
        raise ApiError(
            409,
            "candidate_pool_missing",
            f"Draw {index} of evaluation {evaluation_id} names candidate pool "
            f"{draw['candidate_pool_sha256']}, which the store does not hold: rebuild it from "
            "the log (python -m services.remote_eval.rebuild)",
        )
    return draw_from_json(draw, pool)


@router.get(
    "/{evaluation_id}/draws",
    response_model=list[DrawPublic],
    summary="The evaluation's recorded expert draws (随机抽取): inputs, seed and algorithm",
)
async def recorded_draws(
    evaluation_id: str, principal: CurrentPrincipal, context: Context
) -> list[DrawPublic]:
    """Every draw of the evaluation (initial, re-plans, substitutes) with its seed, algorithm
    version and inputs: the candidates by registry id and attributes, never by identity."""
    require_kind(principal, PrincipalKind.OPERATOR)
    state = await evaluation_or_404(context, evaluation_id)
    public: list[DrawPublic] = []
    for index, draw in enumerate(state.draws):
        record = await _recorded_draw(context, evaluation_id, index, draw)
        public.append(
            DrawPublic(
                index=index,
                purpose=draw["purpose"],
                seed=draw["seed_hex"],
                algorithm_version=draw["algorithm_version"],
                candidate_pool_sha256=draw["candidate_pool_sha256"],
                inputs_sha256=draw["inputs_sha256"],
                expert_ids=draw["expert_ids"],
                inputs=record.inputs.to_json(),
            )
        )
    return public


@router.get(
    "/{evaluation_id}/draws/{index}/proof",
    response_model=DrawProofPublic,
    summary="Re-run a recorded draw from its inputs: the auditor's proof of the same result",
)
async def draw_proof(
    evaluation_id: str, index: int, principal: CurrentPrincipal, context: Context
) -> DrawProofPublic:
    """Re-runs draw ``index`` from its recorded inputs and seed and compares the result."""
    require_kind(principal, PrincipalKind.OPERATOR)
    state = await evaluation_or_404(context, evaluation_id)
    if not 0 <= index < len(state.draws):
        raise ApiError(
            404, "draw_not_found", f"Evaluation {evaluation_id} has draws 0..{len(state.draws) - 1}"
        )
    record = await _recorded_draw(context, evaluation_id, index, state.draws[index])
    rerun = rerun_draw(record)
    return DrawProofPublic(
        index=index,
        identical=rerun == record.expert_ids
        and inputs_sha256(record.inputs) == record.inputs_sha256,
        recorded_expert_ids=list(record.expert_ids),
        rerun_expert_ids=list(rerun),
        recorded_inputs_sha256=record.inputs_sha256,
        recomputed_inputs_sha256=inputs_sha256(record.inputs),
        recorded_candidate_pool_sha256=record.candidate_pool_sha256,
        recomputed_candidate_pool_sha256=candidate_pool_sha256(record.inputs.candidates),
        algorithm_version=record.algorithm_version,
    )
