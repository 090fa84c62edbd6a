"""Who runs a venue (and so sees its check-in list and reports its no-shows), and what the
check-in shows of an identity: the security review found any department covering a venue's
region reading experts' full ID numbers before the award."""

from __future__ import annotations

import pytest

from services.platform_core.auth.principals import Principal, PrincipalKind
from services.remote_eval.domain.check_in import (
    VenueStaffing,
    masked,
    masked_id_number,
    masked_phone,
    runs_venue,
)
from services.remote_eval.http_api.dependencies import venue_staffing
from services.remote_eval.reference import venue_directory

CHANGQING_VENUE = "JN-370113-1"  # 长清区's host venue
CITY_VENUE = "JN-370100-1"  # the city centre's
ZIBO_VENUE = "ZB-370300-1"  # a partner's (淄博)
EVERY_JINAN_REGION = frozenset(
    {"370100", "370102", "370103", "370104", "370105", "370112", "370113", "370115"}
)


def department(code: str, *regions: str) -> Principal:
    return Principal(f"k-{code}", PrincipalKind.DEPARTMENT, code, code, frozenset(regions))


def partner(code: str) -> Principal:
    return Principal(f"k-{code}", PrincipalKind.PARTNER, code, code)


def runs(principal: Principal, venue_id: str) -> bool:
    return runs_venue(principal, venue_directory()[venue_id].venue, venue_staffing())


def test_the_staffing_comes_from_the_reference_data() -> None:
    staffing = venue_staffing()
    assert staffing.trading_centre == "JYZX"  # departments.json role trading_centre
    assert staffing.is_host_venue(venue_directory()[CHANGQING_VENUE].venue)
    assert staffing.is_host_venue(venue_directory()[CITY_VENUE].venue)
    assert not staffing.is_host_venue(venue_directory()[ZIBO_VENUE].venue)


def test_a_department_covering_the_region_does_not_run_its_host_venue() -> None:
    # The reproduced leak: 市交通运输局's key covering 长清区 read the check-in list there.
    assert not runs(department("JTJ", "370113"), CHANGQING_VENUE)
    assert not runs(department("ZJJ", *EVERY_JINAN_REGION), CHANGQING_VENUE)
    assert not runs(department("ZJJ-LX", "370102"), CITY_VENUE)


def test_the_trading_centre_and_its_sub_centre_run_the_host_venues_of_their_regions() -> None:
    assert runs(department("JYZX", "370100"), CITY_VENUE)
    assert runs(department("JYZX", *EVERY_JINAN_REGION), CHANGQING_VENUE)
    assert runs(department("JYZX-CQ", "370113"), CHANGQING_VENUE)
    # Each within the regions its key covers.
    assert not runs(department("JYZX", "370100"), CHANGQING_VENUE)
    assert not runs(department("JYZX-CQ", "370113"), "JN-370115-1")
    # A code that merely begins like the centre's is not one of its sub-centres.
    assert not runs(department("JYZXQ", "370113"), CHANGQING_VENUE)


def test_a_partners_venue_is_run_by_that_partner_alone() -> None:
    assert runs(partner("370300"), ZIBO_VENUE)
    assert not runs(partner("370500"), ZIBO_VENUE)
    # The trading centre does not run another city's venue, whatever its key covers.
    assert not runs(department("JYZX", *EVERY_JINAN_REGION, "370300"), ZIBO_VENUE)
    # A host venue's own centre, holding a partner key (it serves other hosts as a partner).
    assert runs(partner("370113"), CHANGQING_VENUE)
    assert not runs(partner("370300"), CHANGQING_VENUE)


def test_operators_do_not_run_venues() -> None:
    operator = Principal("k-op", PrincipalKind.OPERATOR, "FGW-DUTY", "值班员")
    assert not runs(operator, CITY_VENUE)
    assert not runs(operator, ZIBO_VENUE)


def test_the_rule_reads_the_staffing_it_is_given() -> None:
    """Another trading centre code in the data, another staff: nothing is hard-coded."""
    venue = venue_directory()[CHANGQING_VENUE].venue
    other = VenueStaffing("JYZX2", frozenset({"370113"}))
    assert runs_venue(department("JYZX2", "370113"), venue, other)
    assert not runs_venue(department("JYZX", "370113"), venue, other)


def test_an_id_number_shows_its_first_six_and_last_four() -> None:
    assert masked_id_number("37010219700101012X") == "370102********012X"
    assert masked_id_number("370102700101012") == "370102*****1012"  # a 15-digit card


def test_a_phone_shows_its_first_three_and_last_four() -> None:
    assert masked_phone("13912345678") == "139****5678"


@pytest.mark.parametrize("text", ["", "1", "1234567", "12345"])
def test_a_text_too_short_to_hide_anything_is_starred_whole(text: str) -> None:
    assert masked(text, keep_first=3, keep_last=4) == "*" * len(text)
