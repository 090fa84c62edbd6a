"""The trading catalogue (交易目录): which categories must enter the platform, per region.

Data, not code: ``catalogue.json`` in the reference data lists the city's catalogue and the
regions that keep their own (章丘区, the 农村集体产权 pilots 莱芜区/钢城区).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from services.platform_core.reference_data import load_json


class Category(StrEnum):
    """Trading catalogue categories (交易目录); construction split into its sub-types."""

    HOUSING = "HOUSING"  # 房建
    MUNICIPAL = "MUNICIPAL"  # 市政
    TRANSPORT = "TRANSPORT"  # 交通
    WATER = "WATER"  # 水利
    LANDSCAPING = "LANDSCAPING"  # 园林绿化
    GOVERNMENT_PROCUREMENT = "GOVERNMENT_PROCUREMENT"  # 政府采购
    LAND_USE_RIGHTS = "LAND_USE_RIGHTS"  # 土地使用权
    MINING_RIGHTS = "MINING_RIGHTS"  # 矿业权
    SOE_PROPERTY_RIGHTS = "SOE_PROPERTY_RIGHTS"  # 国有产权
    RURAL_COLLECTIVE_PROPERTY = "RURAL_COLLECTIVE_PROPERTY"  # 农村集体产权
    EMISSION_RIGHTS = "EMISSION_RIGHTS"  # 排污权
    ASSET_DISPOSAL = "ASSET_DISPOSAL"  # 国有闲置/罚没资产处置
    OTHER = "OTHER"


@dataclass(frozen=True)
class Catalogue:
    code: str
    name: str  # e.g. 济南市公共资源交易目录
    categories: frozenset[Category]

    def admits(self, category: Category) -> bool:
        return category in self.categories


@dataclass(frozen=True)
class Catalogues:
    default: Catalogue
    by_region: dict[str, Catalogue]

    def for_region(self, region_code: str) -> Catalogue:
        return self.by_region.get(region_code, self.default)


def _catalogue(entry: dict[str, object]) -> Catalogue:
    categories = entry["categories"]
    assert isinstance(categories, list)
    return Catalogue(
        code=str(entry["code"]),
        name=str(entry["name"]),
        categories=frozenset(Category(value) for value in categories),
    )


@lru_cache(maxsize=1)
def catalogues() -> Catalogues:
    data = load_json("catalogue.json")
    by_region: dict[str, Catalogue] = {}
    for entry in data["regional"]:
        catalogue = _catalogue(entry)
        for region_code in entry["regions"]:
            by_region[region_code] = catalogue
    return Catalogues(default=_catalogue(data["default"]), by_region=by_region)
