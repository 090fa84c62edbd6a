"""The venue directory and partner list from reference data (``venues.json``)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from services.platform_core.reference_data import load_json
from services.remote_eval.domain.model import Venue
from services.remote_eval.domain.partners import Partner, PartnerKind


@dataclass(frozen=True)
class DirectoryEntry:
    venue: Venue
    default_seats: int
    fee_fen: int


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


def _partner(entry: dict[str, Any]) -> Partner:
    return Partner(
        entry["code"],
        entry["name"],
        PartnerKind(entry["kind"]),
        frozenset(entry.get("partner_of", ())),
    )


@lru_cache(maxsize=1)
def partners() -> dict[str, Partner]:
    """The partners with their agreements (``partner_of``). A file that would make the rule
    (domain.partners.may_serve) silently wrong is refused when loaded, not met at a draw."""
    data = load_json("venues.json")
    found = {entry["code"]: _partner(entry) for entry in data["partners"]}
    problems = agreement_data_problems(found, [v["owner_code"] for v in data["venues"]])
    if problems:
        raise ValueError("venues.json: " + "; ".join(problems))
    return found


def agreement_data_problems(found: dict[str, Partner], venue_owners: list[str]) -> list[str]:
    problems: list[str] = []
    for partner in found.values():
        if partner.kind is PartnerKind.PARTNER_REGION:
            if not partner.partner_of:
                problems.append(f"partner region {partner.code} names no host (partner_of)")
            for host in sorted(partner.partner_of):
                signed = found.get(host)
                if signed is None or signed.kind is PartnerKind.PARTNER_REGION:
                    problems.append(
                        f"partner region {partner.code} signed with {host}: not a listed centre"
                    )
        elif partner.partner_of:
            # Only partner regions are limited to their agreements: a partner_of here would be
            # ignored, which is never what whoever wrote it meant.
            problems.append(f"{partner.kind} {partner.code} has partner_of; only regions do")
    for owner in sorted(set(venue_owners) - set(found)):
        problems.append(f"venue owner {owner} is not a listed partner")
    return problems
