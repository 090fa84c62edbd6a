"""The trading catalogue (交易目录), readable by anyone with a key."""

from __future__ import annotations

from fastapi import APIRouter

from services.intake.domain.catalogue import Catalogue, catalogues
from services.intake.http_api.schemas import CatalogueEntry, CataloguePublic
from services.platform_core.auth.dependencies import CurrentPrincipal

router = APIRouter(prefix="/v1/catalogue", tags=["catalogue"])


def _entry(catalogue: Catalogue, regions: list[str]) -> CatalogueEntry:
    return CatalogueEntry(
        code=catalogue.code,
        name=catalogue.name,
        regions=regions,
        categories=sorted(catalogue.categories),
    )


@router.get(
    "", response_model=CataloguePublic, summary="The trading catalogue per region (交易目录)"
)
async def read_catalogue(_: CurrentPrincipal) -> CataloguePublic:
    current = catalogues()
    regional: dict[str, tuple[Catalogue, list[str]]] = {}
    for region_code, catalogue in sorted(current.by_region.items()):
        regional.setdefault(catalogue.code, (catalogue, []))[1].append(region_code)
    return CataloguePublic(
        default=_entry(current.default, []),
        regional=[_entry(catalogue, regions) for catalogue, regions in regional.values()],
    )
