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
from services.remote_eval.domain.partners import Partner, PartnerKind

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


# --- A world with agreements (domain.partners) ---------------------------------------------
# Two Jinan district hosts, each with its main venue; a Yellow River city; two partner regions,
# each signed with one of the hosts only (as 肥城 and 邹平 in venues.json).
CHANGQING, JIYANG = "370113", "370115"
ZIBO, FEICHENG, ZOUPING = "370300", "370983", "371626"
PARTNERS = {
    CHANGQING: Partner(CHANGQING, "长清区", PartnerKind.JINAN_DISTRICT),
    JIYANG: Partner(JIYANG, "济阳区", PartnerKind.JINAN_DISTRICT),
    ZIBO: Partner(ZIBO, "淄博市", PartnerKind.YELLOW_RIVER_CITY),
    FEICHENG: Partner(
        FEICHENG, "肥城市", PartnerKind.PARTNER_REGION, partner_of=frozenset({CHANGQING})
    ),
    ZOUPING: Partner(ZOUPING, "邹平市", PartnerKind.PARTNER_REGION, partner_of=frozenset({JIYANG})),
}
AGREEMENT_VENUES = {
    "CQ-MAIN": Venue("CQ-MAIN", "长清 主场", CHANGQING, CHANGQING),
    "JY-MAIN": Venue("JY-MAIN", "济阳 主场", JIYANG, JIYANG),
    "ZB-1": Venue("ZB-1", "淄博 副场", ZIBO, ZIBO),
    "FC-1": Venue("FC-1", "肥城 副场", FEICHENG, FEICHENG),
    "ZP-1": Venue("ZP-1", "邹平 副场", ZOUPING, ZOUPING),
}
MAIN_OF = {CHANGQING: "CQ-MAIN", JIYANG: "JY-MAIN"}


def agreement_market(seats: dict[str, int] | None = None) -> MarketView:
    """Every venue of the agreements world with seats (``seats`` overrides some)."""
    wanted = {"CQ-MAIN": 10, "JY-MAIN": 10, "ZB-1": 6, "FC-1": 12, "ZP-1": 6, **(seats or {})}
    offers = {(v, SLOT): SeatOffer(v, SLOT, n, 20_000) for v, n in wanted.items()}
    return MarketView(AGREEMENT_VENUES, offers)


def agreement_pools(per_pool: int = 12) -> list[Expert]:
    experts: list[Expert] = []
    for n, code in enumerate(PARTNERS):
        experts += pool(code, per_pool, specialty="A01", employer_base=n * 1000)
        experts += pool(
            code, per_pool, specialty="B02", kind=ExpertKind.ECONOMIC, employer_base=n * 1000 + 500
        )
    return experts


def hosted_by(host: str, **overrides: object) -> EvaluationRequest:
    """A 5-member request hosted by ``host`` at its main venue, 2 experts at home."""
    fields: dict[str, object] = {
        "host_code": host,
        "main_venue_id": MAIN_OF[host],
        "main_venue_experts": 2,
        **overrides,
    }
    return request(**fields)  # type: ignore[arg-type]
