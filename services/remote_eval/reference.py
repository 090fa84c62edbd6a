"""The venue directory and partner list from reference data (``venues.json``)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from services.platform_core.reference_data import load_json
from services.remote_eval.domain.model import Venue


@dataclass(frozen=True)
class DirectoryEntry:
    venue: Venue
    default_seats: int
    fee_fen: int


@dataclass(frozen=True)
class Partner:
    code: str
    name: str
    kind: str


@lru_cache(maxsize=1)
def venue_directory() -> dict[str, DirectoryEntry]:
    return {
        entry["venue_id"]: DirectoryEntry(
            Venue(entry["venue_id"], entry["name"], entry["owner_code"], entry["region_code"]),
            int(entry["default_seats"]),
            int(entry["fee_fen"]),
        )
        for entry in load_json("venues.json")["venues"]
    }


@lru_cache(maxsize=1)
def partners() -> dict[str, Partner]:
    return {
        entry["code"]: Partner(entry["code"], entry["name"], entry["kind"])
        for entry in load_json("venues.json")["partners"]
    }
