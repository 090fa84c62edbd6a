"""The facts reporting reads from other services' events, as plain frozen dataclasses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class ProjectRegisteredFact:
    event_id: str
    project_id: str
    region_code: str
    category: str  # e.g. "HOUSING", "GOVERNMENT_PROCUREMENT"
    budget_fen: int
    registering_department: str
    registered_at: datetime


Fact = ProjectRegisteredFact
