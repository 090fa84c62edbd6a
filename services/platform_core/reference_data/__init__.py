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
