"""The principals the platform knows and what each may act for."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class PrincipalKind(StrEnum):
    DEPARTMENT = "department"  # a joint department, its district/county branch, the trading centre
    PARTNER = "partner"  # a cross-city partner (沿黄九市, partner regions): its own streams only
    OPERATOR = "operator"  # joint-conference office / duty officers: read everything


@dataclass(frozen=True)
class Principal:
    key_id: str
    kind: PrincipalKind
    code: str  # department code (e.g. ZJJ), partner region code (e.g. 370300), operator id
    name: str
    # The regions a department acts for (a branch: its district); empty for partners/operators.
    regions: frozenset[str] = frozenset()
    # Granted to the keys that migrate historical records (the large-amount pull, the archive of
    # earlier half-years): they may state when a recorded act happened instead of "now".
    may_backfill: bool = False

    @property
    def idempotency_owner(self) -> str:
        """Whose Idempotency-Keys a request's are: the department, partner or operator, not the
        API key — a retry sent with a rotated key's successor (both valid during the overlap)
        is the same request and must not act twice."""
        return f"{self.kind.value}:{self.code}"

    def may_act_for_region(self, region_code: str) -> bool:
        return self.kind is PrincipalKind.DEPARTMENT and region_code in self.regions
