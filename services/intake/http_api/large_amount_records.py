"""Bulk import of large-amount records (大额交易项目信息), streamed from the request body."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import AsyncIterator
from datetime import datetime
from typing import IO, Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse

from services.intake.bulk_import import (
    BulkImporter,
    ImportAborted,
    ImportFormat,
    ImportReport,
    NotUtf8,
    Utf8Check,
    split_lines,
)
from services.intake.domain.large_amount import SourceLevel
from services.intake.http_api.dependencies import Idempotency, IdempotencyKey, Producer, RedisClient
from services.intake.http_api.projects import REFUSALS
from services.platform_core.auth.dependencies import CurrentPrincipal, require_kind
from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.http.business_time import OCCURRED_AT_DESCRIPTION, business_time
from services.platform_core.http.errors import ApiError
from services.platform_core.http.idempotency import StoredResponse

router = APIRouter(prefix="/v1/large-amount-records", tags=["large-amount records"])

# An upload is kept in memory up to this size, beyond it in a temporary file.
SPOOL_IN_MEMORY_BYTES = 4 * 1024 * 1024
_CHUNK_BYTES = 256 * 1024


async def _spooled_body(request: Request) -> tuple[IO[bytes], str]:
    """The request body in a temporary file, and its SHA-256. The Idempotency-Key's
    fingerprint needs the whole body before the import runs: a replay of the key with another
    file of the same length was answered with the first file's report, and the second file
    was silently not imported.

    The body is checked to be UTF-8 on the way (422 ``import_not_utf8``, naming the line and
    byte offset), so a file in another encoding publishes nothing."""
    digest = hashlib.sha256()
    utf8 = Utf8Check()
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY_BYTES)  # noqa: SIM115
    try:
        async for chunk in request.stream():
            digest.update(chunk)
            utf8.feed(chunk)
            spool.write(chunk)
        utf8.finish()
    except NotUtf8 as not_utf8:
        spool.close()
        raise ApiError(422, "import_not_utf8", str(not_utf8)) from not_utf8
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool, digest.hexdigest()


async def _chunks_of(spool: IO[bytes]) -> AsyncIterator[bytes]:
    while chunk := spool.read(_CHUNK_BYTES):
        yield chunk


@router.post(
    "/imports",
    response_model=ImportReport,
    responses=REFUSALS,
    summary="Import large-amount records (NDJSON or CSV), line by line",
    description="Send the file as the body (`Content-Type: application/x-ndjson` or "
    "`text/csv`, first CSV line the header). Fields: unified_deal_code, name, category, "
    "region_code, amount_fen (integer fen), deal_at (ISO 8601 with offset), tenderer_name, "
    "tenderer_credit_code, and optionally tender_project_code, winner_name, "
    "winner_credit_code, trading_method, source_platform_code. The body must be UTF-8 "
    "(otherwise 422 `import_not_utf8` naming the line and byte offset, and nothing is "
    "imported). A deal_at more than 5 minutes after the pull time (`occurred_at`, or now) "
    "is a rejected line. Records already imported (by unified deal code) are not published "
    "again: `duplicates` counts them and `duplicate_lines` lists the first 10,000 with their "
    "line, code and what they repeat (`earlier_import`, or `earlier_line` and its number).",
)
async def import_records(
    request: Request,
    principal: CurrentPrincipal,
    *,
    source_level: Annotated[SourceLevel, Query(description="省级 / 市级 / 县(区)级 platform")],
    producer: Producer,
    redis: RedisClient,
    idempotency: Idempotency,
    idempotency_key: IdempotencyKey = None,
    content_type: Annotated[str, Header()] = "application/x-ndjson",
    occurred_at: Annotated[
        datetime | None, Query(description="when the pull happened. " + OCCURRED_AT_DESCRIPTION)
    ] = None,
) -> JSONResponse:
    require_kind(principal, PrincipalKind.DEPARTMENT)
    pulled_at = business_time(principal, occurred_at) if occurred_at is not None else None
    import_format = ImportFormat.CSV if "csv" in content_type else ImportFormat.NDJSON
    importer = BulkImporter(
        producer,
        redis,
        source_level=source_level,
        actor_department=principal.code,
        allowed_regions=principal.regions,
        pulled_at=pulled_at,
    )

    body, body_sha256 = await _spooled_body(request)
    import_started = False

    async def run_import() -> StoredResponse:
        nonlocal import_started
        import_started = True
        # The import owns the spooled body from here: it runs on if the client goes away.
        try:
            report = await importer.run(split_lines(_chunks_of(body)), import_format)
        except ImportAborted as aborted:
            raise ApiError(422, "import_unreadable", str(aborted)) from aborted
        finally:
            body.close()
        return StoredResponse(200, report.as_json())

    fingerprint = {
        "source_level": source_level.value,
        "format": import_format.value,
        "body_sha256": body_sha256,
        "occurred_at": occurred_at.isoformat() if occurred_at else None,
    }
    try:
        return await idempotency.run(
            f"{principal.idempotency_owner}:POST /v1/large-amount-records/imports",
            idempotency_key,
            fingerprint,
            run_import,
        )
    finally:
        if not import_started:  # a replay, or a refusal before the import
            body.close()
