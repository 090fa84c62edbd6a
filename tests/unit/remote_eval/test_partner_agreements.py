"""Agreements: a partner region serves only the hosts it signed with (its venues get no seat
request and its pool no draw for anyone else); Yellow River cities and Jinan districts serve any
host. The rule (domain.partners.may_serve) is asked by the solver, the seat plan, the seat move,
the substitute draw, the checker and the API's validation; each is tested here."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from services.remote_eval.domain.checker import check_schedule
from services.remote_eval.domain.model import (
    Expert,
    ExpertDirectory,
    ExpertHistory,
    ExpertKind,
    HalfDay,
    MarketView,
    SchedulingPolicy,
    SeatOffer,
    Slot,
    VenueRole,
)
from services.remote_eval.domain.partners import Partner, PartnerKind, may_serve
from services.remote_eval.domain.seat_plan import plan_seats
from services.remote_eval.domain.solver import (
    FailedConstraint,
    Infeasible,
    PendingRequest,
    Replan,
    Schedule,
    SchedulingContext,
    draw_substitute,
    replan_after_decline,
    schedule,
    schedule_batch,
)
from services.remote_eval.http_api.evaluations import agreement_problems
from services.remote_eval.http_api.schemas import EvaluationCreate
from services.remote_eval.reference import agreement_data_problems, partners, venue_directory
from services.remote_eval.scheduler import scheduling_context, still_holds
from tests.unit.remote_eval.fixtures import (
    CHANGQING,
    FEICHENG,
    JIYANG,
    PARTNERS,
    SLOT,
    ZIBO,
    ZOUPING,
    agreement_market,
    agreement_pools,
    hosted_by,
    pool,
)

POLICY = SchedulingPolicy(host_reserve_seats=0)
SEEDS = [bytes([n]) * 32 for n in range(8)]


def _context(
    view: MarketView | None = None,
    experts: list[Expert] | None = None,
    agreements: dict[str, Partner] | None = PARTNERS,
) -> SchedulingContext:
    return SchedulingContext(
        view or agreement_market(),
        ExpertDirectory(experts or agreement_pools()),
        ExpertHistory(),
        POLICY,
        agreements,
    )


def _ok(outcome: object) -> Schedule:
    assert isinstance(outcome, Schedule), outcome
    return outcome


def _serving(result: Schedule, host: str) -> set[str]:
    """Every partner taking part other than the host: venue owners and the drawn experts' pools."""
    owners = {a.partner_code for a in result.allocations if a.role is VenueRole.SECONDARY}
    return (owners | {a.pool_code for a in result.assignments}) - {host}


# --- the rule ------------------------------------------------------------------------------


def test_a_partner_region_serves_only_the_hosts_it_signed_with() -> None:
    assert may_serve(PARTNERS[FEICHENG], CHANGQING)
    assert not may_serve(PARTNERS[FEICHENG], JIYANG)
    assert not may_serve(PARTNERS[FEICHENG], "370100")  # nor the city centre
    assert may_serve(PARTNERS[ZOUPING], JIYANG)
    assert not may_serve(PARTNERS[ZOUPING], CHANGQING)


@pytest.mark.parametrize("host", ["370100", CHANGQING, JIYANG])
def test_yellow_river_cities_and_jinan_districts_serve_any_host(host: str) -> None:
    assert may_serve(PARTNERS[ZIBO], host)
    assert may_serve(PARTNERS[CHANGQING], host)
    assert may_serve(PARTNERS[JIYANG], host)


def test_the_reference_partners_carry_their_agreements() -> None:
    reference = partners()
    assert reference["370983"].partner_of == {"370113"}  # 肥城: 长清 only
    assert reference["371425"].partner_of == {"370113", "370115"}  # 齐河: both
    assert reference["371626"].partner_of == {"370115"}  # 邹平: 济阳 only
    hosts = ("370100", "370113", "370115")
    unserved = {h: sorted(c for c, p in reference.items() if not may_serve(p, h)) for h in hosts}
    assert unserved == {
        "370100": ["370983", "371425", "371524", "371626"],
        "370113": ["371626"],
        "370115": ["370983", "371524"],
    }
    cities = [p for p in reference.values() if p.kind is PartnerKind.YELLOW_RIVER_CITY]
    assert len(cities) == 9


def test_agreement_data_that_would_mislead_the_rule_is_refused() -> None:
    found = {
        "370113": Partner("370113", "长清区", PartnerKind.JINAN_DISTRICT),
        "370300": Partner("370300", "淄博市", PartnerKind.YELLOW_RIVER_CITY, frozenset({"1"})),
        "370983": Partner("370983", "肥城市", PartnerKind.PARTNER_REGION),
        "371425": Partner("371425", "齐河县", PartnerKind.PARTNER_REGION, frozenset({"370983"})),
    }
    assert agreement_data_problems(found, ["370113", "999999"]) == [
        "yellow_river_city 370300 has partner_of; only regions do",
        "partner region 370983 names no host (partner_of)",
        "partner region 371425 signed with 370983: not a listed centre",
        "venue owner 999999 is not a listed partner",
    ]


# --- the solver's candidate venues ----------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_a_partner_region_is_never_offered_to_a_host_it_has_no_agreement_with(
    seed: bytes,
) -> None:
    # 肥城 has the most seats and is even named preferred (an event from before the API
    # refused that): still no seat at its venue and no expert from its pool for 济阳.
    req = hosted_by(JIYANG, preferred_partner_codes=(FEICHENG,))
    context = _context()
    result = _ok(schedule(req, context, seed))
    assert FEICHENG not in _serving(result, JIYANG)
    assert "FC-1" not in {a.venue_id for a in result.assignments}
    assert not check_schedule(
        req,
        result.slot,
        allocations=result.allocations,
        assignments=result.assignments,
        experts=context.experts.by_id,
        history_before=context.history,
        market_before=context.market,
        policy=POLICY,
        partners=PARTNERS,
    )


@pytest.mark.parametrize(("host", "region"), [(CHANGQING, FEICHENG), (JIYANG, ZOUPING)])
def test_a_partner_region_is_offered_to_the_host_it_signed_with(host: str, region: str) -> None:
    result = _ok(schedule(hosted_by(host, preferred_partner_codes=(region,)), _context(), SEEDS[0]))
    assert _serving(result, host) == {region}


@pytest.mark.parametrize("host", [CHANGQING, JIYANG])
def test_a_yellow_river_city_serves_any_host(host: str) -> None:
    result = _ok(schedule(hosted_by(host, preferred_partner_codes=(ZIBO,)), _context(), SEEDS[0]))
    assert _serving(result, host) == {ZIBO}


def test_seats_left_only_at_partners_without_an_agreement_are_refused_naming_them() -> None:
    view = agreement_market({"ZB-1": 0, "ZP-1": 0, "CQ-MAIN": 0})  # 肥城 alone has seats
    outcome = schedule(hosted_by(JIYANG), _context(view), SEEDS[0])
    assert isinstance(outcome, Infeasible), outcome
    assert outcome.constraint is FailedConstraint.SEATS
    assert "3 secondary-venue seats needed" in outcome.detail
    assert "partner venues offer 0 free" in outcome.detail
    assert outcome.detail.endswith(
        "partner venues offer 0 free (not offered, having no remote-evaluation agreement with "
        "host 370115 济阳区: 370983 肥城市 (it serves 370113 长清区 only))"
    )


def test_experts_left_only_at_partners_without_an_agreement_are_named_in_the_refusal() -> None:
    # Only 肥城's pool has economists: for 济阳 they may not be drawn, and the refusal says so.
    experts = [
        e for e in agreement_pools() if e.kind is ExpertKind.TECHNICAL or e.pool_code == FEICHENG
    ]
    outcome = schedule(hosted_by(JIYANG), _context(experts=experts), SEEDS[0])
    assert isinstance(outcome, Infeasible), outcome
    assert outcome.constraint is FailedConstraint.EXPERT_AVAILABILITY
    assert "not enough economic experts of specialty B02 (need 2)" in outcome.detail
    assert FEICHENG not in outcome.detail.split(" (not offered")[0]
    assert outcome.detail.endswith(
        "(not offered, having no remote-evaluation agreement with host 370115 济阳区: "
        "370983 肥城市 (it serves 370113 长清区 only))"
    )


def test_a_required_partner_without_an_agreement_is_refused_with_the_others_offered() -> None:
    outcome = schedule(hosted_by(JIYANG, required_partner_codes=(FEICHENG,)), _context(), SEEDS[0])
    assert isinstance(outcome, Infeasible), outcome
    assert outcome.constraint is FailedConstraint.REQUIRED_PARTNER
    assert "required partner 370983 may not serve this evaluation" in outcome.detail
    assert "it serves 370113 长清区 only" in outcome.detail
    assert outcome.alternative is not None and outcome.alternative.slot == SLOT
    assert FEICHENG not in {a.partner_code for a in outcome.alternative.allocations}


# --- the seat plan of a batch ---------------------------------------------------------------


def test_a_batch_plans_no_seat_at_a_partner_region_without_an_agreement() -> None:
    requests = [
        hosted_by(JIYANG, evaluation_id=f"EV-{n}", preferred_partner_codes=(FEICHENG,))
        for n in range(3)
    ]
    plan = plan_seats(
        requests,
        SLOT,
        agreement_market(),
        dict.fromkeys((r.evaluation_id for r in requests), 2),
        partners=PARTNERS,
    )
    assert set(plan) == {r.evaluation_id for r in requests}
    assert all("FC-1" not in seats for seats in plan.values()), plan
    pending = [PendingRequest(r, SEEDS[n]) for n, r in enumerate(requests)]
    for req, outcome in schedule_batch(pending, _context()):
        assert FEICHENG not in _serving(_ok(outcome), req.host_code)


# --- the seat move (decline, and a partner with nobody left) ---------------------------------


def _scheduled_at_zibo(host: str, view: MarketView | None = None) -> tuple[Schedule, Expert]:
    """``host``'s evaluation with its 3 secondary experts at 淄博, and one of them."""
    req = hosted_by(host, preferred_partner_codes=(ZIBO,))
    first = _ok(schedule(req, _context(view), SEEDS[0]))
    assert {a.venue_id for a in first.assignments} - {req.main_venue_id} == {"ZB-1"}
    gone = next(a for a in first.assignments if a.venue_id == "ZB-1")
    return first, _context().experts.by_id[gone.expert_id]


def _zibo_exhausted(first: Schedule) -> frozenset[str]:
    everyone_of_zibo = {e.expert_id for e in agreement_pools() if e.pool_code == ZIBO}
    return frozenset(a.expert_id for a in first.assignments) | everyone_of_zibo


@pytest.mark.parametrize("seed", SEEDS)
def test_a_seat_moves_only_to_a_partner_that_may_serve_the_host(seed: bytes) -> None:
    first, gone = _scheduled_at_zibo(JIYANG)
    req = hosted_by(JIYANG, preferred_partner_codes=(ZIBO,))
    outcome = draw_substitute(
        req,
        first,
        _context(),
        seed,
        replaced_expert_id=gone.expert_id,
        involved_expert_ids=_zibo_exhausted(first),
    )
    assert isinstance(outcome, tuple), outcome
    moved, substitution = outcome
    assert substitution.substitute.pool_code not in {ZIBO, FEICHENG}
    assert FEICHENG not in _serving(moved, JIYANG)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_declined_venue_is_replanned_only_to_partners_that_may_serve(seed: bytes) -> None:
    first, _ = _scheduled_at_zibo(JIYANG)
    outcome = replan_after_decline(
        hosted_by(JIYANG, preferred_partner_codes=(ZIBO,)),
        first,
        _context(),
        seed,
        declined_venue_ids=frozenset({"ZB-1"}),
        involved_expert_ids=frozenset(a.expert_id for a in first.assignments),
    )
    assert isinstance(outcome, Replan), outcome
    assert len(outcome.substitutions) == 3
    assert FEICHENG not in _serving(outcome.schedule, JIYANG)


def test_a_seat_moves_to_a_partner_region_for_the_host_it_signed_with() -> None:
    # For 长清, 肥城 is a partner: with 济阳's and 邹平's venues full it takes the seat.
    view = agreement_market({"JY-MAIN": 0, "ZP-1": 0})
    first, gone = _scheduled_at_zibo(CHANGQING, view)
    outcome = draw_substitute(
        hosted_by(CHANGQING, preferred_partner_codes=(ZIBO,)),
        first,
        _context(view),
        SEEDS[0],
        replaced_expert_id=gone.expert_id,
        involved_expert_ids=_zibo_exhausted(first),
    )
    assert isinstance(outcome, tuple), outcome
    assert outcome[1].substitute.pool_code == FEICHENG
    assert outcome[1].substitute.venue_id == "FC-1"


def test_a_seat_with_only_partners_without_an_agreement_left_says_so() -> None:
    view = agreement_market({"CQ-MAIN": 0, "ZP-1": 0})  # 肥城 alone has room besides 淄博
    first, gone = _scheduled_at_zibo(JIYANG, view)
    outcome = draw_substitute(
        hosted_by(JIYANG, preferred_partner_codes=(ZIBO,)),
        first,
        _context(view),
        SEEDS[0],
        replaced_expert_id=gone.expert_id,
        involved_expert_ids=_zibo_exhausted(first),
    )
    assert isinstance(outcome, Infeasible), outcome
    assert outcome.constraint is FailedConstraint.SUBSTITUTES_EXHAUSTED
    # Without a pseudonym the seat is named, never the registry id (it must not leak).
    assert "no substitute for the technical expert of specialty A01 at venue ZB-1" in (
        outcome.detail
    )
    assert gone.expert_id not in outcome.detail
    assert (
        "other partners offer 0 free in 2026-03-10 上午 (not offered, having no "
        "remote-evaluation agreement with host 370115 济阳区: 370983 肥城市 (it serves 370113 "
        "长清区 only))"
    ) in outcome.detail


# --- schedules made before the agreements were kept -----------------------------------------


def _legacy_schedule() -> Schedule:
    """济阳's evaluation scheduled in a world without agreements: seats at 肥城."""
    req = hosted_by(JIYANG, preferred_partner_codes=(FEICHENG,))
    first = _ok(schedule(req, _context(agreements=None), SEEDS[0]))
    assert FEICHENG in _serving(first, JIYANG)
    return first


def test_the_checker_and_a_planned_schedule_catch_a_seat_without_an_agreement() -> None:
    first = _legacy_schedule()
    req = hosted_by(JIYANG, preferred_partner_codes=(FEICHENG,))
    context = _context()
    problems = check_schedule(
        req,
        first.slot,
        allocations=first.allocations,
        assignments=first.assignments,
        experts=context.experts.by_id,
        history_before=context.history,
        market_before=context.market,
        policy=POLICY,
        partners=PARTNERS,
    )
    assert "FC-1 belongs to 370983, which has no agreement with host 370115" in problems
    assert still_holds(req, first, _context(agreements=None))
    assert not still_holds(req, first, context)


def test_a_substitute_for_a_seat_without_an_agreement_comes_from_a_partner_that_may_serve() -> None:
    first = _legacy_schedule()
    gone = next(a for a in first.assignments if a.venue_id == "FC-1")
    outcome = draw_substitute(
        hosted_by(JIYANG, preferred_partner_codes=(FEICHENG,)),
        first,
        _context(),
        SEEDS[1],
        replaced_expert_id=gone.expert_id,
        involved_expert_ids=frozenset(a.expert_id for a in first.assignments),
    )
    assert isinstance(outcome, tuple), outcome
    assert outcome[1].substitute.pool_code != FEICHENG
    assert outcome[1].substitute.venue_id != "FC-1"


# --- the scheduler with the reference data ---------------------------------------------------


@pytest.mark.parametrize("host", ["370100", "370113", "370115"])
def test_the_scheduler_solves_with_the_reference_agreements(host: str) -> None:
    directory = venue_directory()
    slot = Slot(date(2026, 3, 10), HalfDay.AM)
    view = MarketView(
        {v: e.venue for v, e in directory.items()},
        {(v, slot): SeatOffer(v, slot, e.default_seats, e.fee_fen) for v, e in directory.items()},
    )
    experts: list[Expert] = []
    for n, code in enumerate(sorted(partners())):
        experts += pool(code, 4, specialty="A01", employer_base=n * 100)
        experts += pool(
            code, 4, specialty="B02", kind=ExpertKind.ECONOMIC, employer_base=n * 100 + 50
        )
    context = scheduling_context(view, ExpertDirectory(experts), ExpertHistory(), POLICY)
    assert context.partners == partners()
    main = next(v for v, e in directory.items() if e.venue.owner_code == host)
    regions = tuple(c for c, p in partners().items() if p.kind is PartnerKind.PARTNER_REGION)
    req = dataclasses.replace(
        hosted_by(JIYANG, main_venue_experts=0, preferred_partner_codes=regions),
        host_code=host,
        main_venue_id=main,
        slot=slot,
    )
    for seed in SEEDS[:4]:
        result = _ok(schedule(req, context, seed))
        for code in _serving(result, host):
            assert may_serve(partners()[code], host), (host, code)


# --- the API's validation of a request ------------------------------------------------------


def _body(**codes: list[str]) -> EvaluationCreate:
    return EvaluationCreate.model_validate(
        {
            "project_id": "P-1",
            "bid_section_code": "001",
            "slot": {"date": "2026-03-10", "half_day": "AM"},
            "committee_size": 5,
            "specialties": [{"specialty_code": "A01", "kind": "TECHNICAL", "count": 5}],
            "main_venue_id": "JN-370115-1",
            **codes,
        }
    )


def test_the_api_refuses_partners_named_without_an_agreement_with_the_host() -> None:
    body = _body(required_partner_codes=["370983", "371425"], preferred_partner_codes=["371524"])
    problems = [(p.field, p.problem) for p in agreement_problems("370115", body)]
    assert problems == [
        (
            "required_partner_codes",
            "partner region 370983 肥城市公共资源交易中心 has no remote-evaluation agreement "
            "with host 370115 济阳区公共资源交易中心; it serves 370113 长清区公共资源交易中心 only",
        ),
        (
            "preferred_partner_codes",
            "partner region 371524 东阿县公共资源交易中心 has no remote-evaluation agreement "
            "with host 370115 济阳区公共资源交易中心; it serves 370113 长清区公共资源交易中心 only",
        ),
    ]


@pytest.mark.parametrize(
    ("host", "codes"),
    [("370113", ["370983", "371425", "371524", "370900", "370115"]), ("370115", ["371626"])],
)
def test_the_api_accepts_partners_that_may_serve_the_host(host: str, codes: list[str]) -> None:
    assert agreement_problems(host, _body(required_partner_codes=codes)) == []
