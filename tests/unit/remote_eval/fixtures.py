"""Small worlds for the solver's unit tests: venues, offers and experts built in code."""

from __future__ import annotations

from datetime import date

from services.remote_eval.domain.model import (
    EvaluationRequest,
    Expert,
    ExpertKind,
    HalfDay,
    MarketView,
    SeatOffer,
    Slot,
    SpecialtyNeed,
    Venue,
)

SLOT = Slot(date(2026, 3, 10), HalfDay.AM)
HOST = "370100"
MAIN = "JN-MAIN"
VENUES = {
    MAIN: Venue(MAIN, "济南 主场", HOST, HOST),
    "ZB-1": Venue("ZB-1", "淄博 副场", "370300", "370300"),
    "DY-1": Venue("DY-1", "东营 副场", "370500", "370500"),
    "TA-1": Venue("TA-1", "泰安 副场", "370900", "370900"),
}


def market(
    seats: dict[str, int] | None = None,
    slots: tuple[Slot, ...] = (SLOT,),
    booked: dict[tuple[str, Slot], int] | None = None,
) -> MarketView:
    wanted = seats or {MAIN: 10, "ZB-1": 6, "DY-1": 6, "TA-1": 6}
    offers = {
        (venue_id, slot): SeatOffer(venue_id, slot, count, 20_000)
        for venue_id, count in wanted.items()
        for slot in slots
    }
    return MarketView(VENUES, offers, booked or {})


def employer(n: int) -> str:
    return f"EMP{n:05d}"


def pool(
    pool_code: str,
    count: int,
    *,
    specialty: str = "A01",
    kind: ExpertKind = ExpertKind.TECHNICAL,
    employer_base: int = 0,
    prefix: str = "",
) -> list[Expert]:
    return [
        Expert(
            expert_id=f"{prefix or pool_code}-{specialty}-{kind.value[0]}-{i:03d}",
            pool_code=pool_code,
            kind=kind,
            specialties=frozenset({specialty}),
            employer_code=employer(employer_base + i),
        )
        for i in range(count)
    ]


def rich_pools(per_pool: int = 12) -> list[Expert]:
    experts: list[Expert] = []
    for n, code in enumerate([HOST, "370300", "370500", "370900"]):
        experts += pool(code, per_pool, specialty="A01", employer_base=n * 1000)
        experts += pool(
            code, per_pool, specialty="B02", kind=ExpertKind.ECONOMIC, employer_base=n * 1000 + 500
        )
    return experts


def request(
    committee_size: int = 5,
    needs: tuple[SpecialtyNeed, ...] = (
        SpecialtyNeed("A01", ExpertKind.TECHNICAL, 3),
        SpecialtyNeed("B02", ExpertKind.ECONOMIC, 2),
    ),
    **overrides: object,
) -> EvaluationRequest:
    fields: dict[str, object] = {
        "evaluation_id": "EV-1",
        "host_code": HOST,
        "project_id": "P-1",
        "bid_section_code": "S-1",
        "slot": SLOT,
        "committee_size": committee_size,
        "needs": needs,
        "main_venue_id": MAIN,
    }
    fields.update(overrides)
    return EvaluationRequest(**fields)  # type: ignore[arg-type]
