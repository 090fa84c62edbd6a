"""Reference data loaded from the JSON files beside this module (regions, departments, routing).

Data, not code: changing who supervises what or adding a region is an edit to a JSON file (or a
file named by ``PRT_REFERENCE_DATA_DIR``), never to Python.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

_DEFAULT_DIR = Path(__file__).parent


def _data_dir() -> Path:
    return Path(os.environ.get("PRT_REFERENCE_DATA_DIR", _DEFAULT_DIR))


def load_json(name: str) -> Any:
    with (_data_dir() / name).open(encoding="utf-8") as handle:
        return json.load(handle)


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    kind: str


@lru_cache(maxsize=1)
def regions() -> dict[str, Region]:
    data = load_json("regions.json")
    return {
        entry["code"]: Region(entry["code"], entry["name"], entry["kind"])
        for entry in data["regions"]
    }


@lru_cache(maxsize=1)
def yellow_river_cities() -> dict[str, str]:
    return {
        entry["code"]: entry["name"] for entry in load_json("regions.json")["yellow_river_cities"]
    }


@dataclass(frozen=True)
class DistrictBranch:
    """A district or county branch of a city department (长清区住房和城乡建设局 of 市住建局)."""

    code: str
    name: str
    parent: str
    region: str


def district_branches(data: Any = None) -> tuple[DistrictBranch, ...]:
    """The branches in departments.json (or in ``data``, that file already parsed)."""
    entries = (data if data is not None else load_json("departments.json")).get(
        "district_branches", ()
    )
    return tuple(
        DistrictBranch(entry["code"], entry["name"], entry["parent"], entry["region"])
        for entry in entries
    )


@lru_cache(maxsize=1)
def department_names() -> dict[str, str]:
    """Every department's name by code: the city's departments and their district branches."""
    data = load_json("departments.json")
    names = {entry["code"]: entry["name"] for entry in data["departments"]}
    names.update({branch.code: branch.name for branch in district_branches(data)})
    return names


@lru_cache(maxsize=1)
def trading_centre() -> str:
    """The code of the department whose role is ``trading_centre`` in departments.json (JYZX):
    it runs the platform, its trades and its venues."""
    for department in load_json("departments.json")["departments"]:
        if department.get("role") == "trading_centre":
            code: str = department["code"]
            return code
    raise ValueError("departments.json names no department of role trading_centre")


def is_trading_centre(code: str, centre: str | None = None) -> bool:
    """Whether ``code`` is the trading centre (``centre``, by default the reference data's) or
    one of its district sub-centres: 长清区公共资源交易中心 is JYZX-CQ, the centre's code, a hyphen
    and its own, as every district branch in departments.json is named (ZJJ-LX of ZJJ)."""
    centre = trading_centre() if centre is None else centre
    return bool(centre) and (code == centre or code.startswith(f"{centre}-"))
