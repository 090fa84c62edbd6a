"""``/v1/bulletins/{period}``: the bulletin for a period, as Word (.docx) or Markdown."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from services.platform_core.reference_data import (
    department_names,
    load_json,
    regions,
    yellow_river_cities,
)
from services.reporting.bulletin_render import to_docx, to_markdown
from services.reporting.domain.bulletin import Bulletin, Labels, compose_bulletin
from services.reporting.domain.periods import CHINA, InvalidPeriod, parse_period
from services.reporting.http_api.dependencies import Reader, ReadModel
from services.reporting.http_api.metrics import refuse
from services.reporting.read_model import MetricsReadModel
from services.reporting.settings import get_reporting_settings

router = APIRouter(prefix="/v1/bulletins", tags=["bulletins"])

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def reference_labels() -> Labels:
    return Labels(
        regions={code: region.name for code, region in regions().items()},
        departments=department_names(),
        partners=partner_names(),
        venues=venue_names(),
    )


@lru_cache(maxsize=1)
def partner_names() -> dict[str, str]:
    """Every partner of remote evaluation by its short name: the Yellow River cities (泰安) and
    the districts' partner regions (齐河县), from the venue directory."""
    centres = {
        entry["code"]: entry["name"].removesuffix("公共资源交易中心")
        for entry in load_json("venues.json")["partners"]
    }
    return centres | yellow_river_cities()


@lru_cache(maxsize=1)
def venue_names() -> dict[str, str]:
    """Every remote-evaluation venue's name by its id, from the venue directory — partner
    venues included, which publish no capacity event (so no name) of their own. Read once per
    process, like the rest of the reference data (each dashboard snapshot asks for it)."""
    return {entry["venue_id"]: entry["name"] for entry in load_json("venues.json")["venues"]}


async def build_bulletin(
    model: MetricsReadModel, period_name: str, number: int | None, issued_on: date | None
) -> tuple[Bulletin, str]:
    try:
        period = parse_period(period_name)
    except InvalidPeriod as exc:
        raise refuse("period", str(exc)) from exc
    settings = get_reporting_settings()
    issued_on = issued_on or datetime.now(CHINA).date()
    # A 文号's year is the year the document is issued (an H2 bulletin issued in February is
    # 〔next year〕), not the year the bulletin is about.
    document_number = settings.bulletin_document_number.format(
        year=issued_on.year, number=number or settings.bulletin_default_number
    )
    bulletin = compose_bulletin(
        await model.counters(),
        period,
        reference_labels(),
        issuer=settings.bulletin_issuer,
        document_number=document_number,
        issued_on=issued_on,
        seal_note=settings.bulletin_seal_note,
    )
    return bulletin, period.label_zh


@router.get(
    "/{period}",
    responses={200: {"content": {DOCX: {}, "text/markdown": {}}}},
    response_class=Response,
    summary="The half-year bulletin (通报) as Word or Markdown, each figure with its evidence",
)
async def get_bulletin(
    _: Reader,
    model: ReadModel,
    period: Annotated[str, Path(description="2023-H1, 2023, 2023-Q2 or 2023-05")],
    output: Annotated[Literal["docx", "markdown"], Query(alias="format")] = "docx",
    number: Annotated[int | None, Query(ge=1, description="the document number's N")] = None,
    issued_on: Annotated[date | None, Query(description="the issue date; default today")] = None,
) -> Response:
    """The bulletin in the source bulletin's structure, every figure computed and footnoted."""
    bulletin, label = await build_bulletin(model, period, number, issued_on)
    filename = f"bulletin-{bulletin.period}"
    if output == "markdown":
        return Response(
            to_markdown(bulletin, label),
            media_type="text/markdown; charset=utf-8",
            headers={"Content-Disposition": f'inline; filename="{filename}.md"'},
        )
    return Response(
        to_docx(bulletin, label),
        media_type=DOCX,
        headers={"Content-Disposition": f'attachment; filename="{filename}.docx"'},
    )
