"""An entity's abnormal record (异常行为记录), for credit evaluation: every report naming an
organisation, with what became of its pushes. Operators and the departments the routing table
lists as ``entity_record_readers`` may read it; a refusal names them and whom to ask."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from services.abnormal_push.http_api.access import check_may_read_entity_records
from services.abnormal_push.http_api.dependencies import Reader, ReadModel, Routing
from services.abnormal_push.read_model import push_to_json, report_to_json
from services.platform_core.credit_code import credit_code_problem
from services.platform_core.http.errors import ApiError, ErrorBody, FieldProblem

router = APIRouter(prefix="/v1/entities", tags=["entities"])


class RecordEntry(BaseModel):
    report: dict[str, object]
    pushes: list[dict[str, object]]


class EntityRecordPublic(BaseModel):
    credit_code: str
    reports: list[RecordEntry]


@router.get(
    "/{credit_code}/record",
    response_model=EntityRecordPublic,
    responses={403: {"model": ErrorBody}, 422: {"model": ErrorBody}},
    summary="An organisation's abnormal-behaviour history by its unified social credit code",
)
async def entity_record(
    credit_code: str, reader: Reader, read_model: ReadModel, routing: Routing
) -> EntityRecordPublic:
    check_may_read_entity_records(reader, routing)
    problem = credit_code_problem(credit_code)
    if problem is not None:
        raise ApiError(
            422,
            "invalid_credit_code",
            f"{credit_code!r} is not a unified social credit code: {problem}",
            [FieldProblem(field="credit_code", problem=problem)],
        )
    entries = []
    for report_id in await read_model.record(credit_code):
        report = await read_model.report(report_id)
        if report is None:
            continue
        pushes = await read_model.pushes(sorted(await read_model.report_push_ids(report_id)))
        entries.append(
            RecordEntry(
                report=report_to_json(report),
                pushes=[
                    {
                        k: v
                        for k, v in push_to_json(p).items()
                        if k in ("push_id", "department", "role", "status", "feedback", "overdue")
                    }
                    for p in pushes
                ],
            )
        )
    return EntityRecordPublic(credit_code=credit_code, reports=entries)
