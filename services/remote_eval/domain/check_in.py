"""The check-in on the day of an evaluation: who runs a venue, and what its staff are shown.

Before the award an expert's identity is secret (招标投标法 art. 37), and remote evaluation's
expert data is "retrieved minimally, access-controlled and audited" (NDRC 807号). So the only
people shown identities before the award are the staff checking the experts in at the venue
they sit in, and they are shown what checking in needs: the name to call, and enough of the ID
number and phone to compare with the card and the person in front of them — never the whole.

Who runs a venue is decided here, once (:func:`runs_venue`), so every route that is the venue's
own business on the day (the check-in list, a no-show) asks the same question.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.platform_core.auth.principals import Principal, PrincipalKind
from services.platform_core.reference_data import is_trading_centre
from services.remote_eval.domain.model import Venue

MASK = "*"


@dataclass(frozen=True)
class VenueStaffing:
    """What says who runs the venues, from the reference data.

    ``trading_centre``: the department code of the role ``trading_centre`` (departments.json:
    JYZX). ``host_regions``: Jinan's own regions (regions.json); a venue owned by one of them is
    a host venue (主场), run by the trading centre — not by every department whose key happens
    to cover the region, such as a supervising bureau."""

    trading_centre: str
    host_regions: frozenset[str]

    def is_host_venue(self, venue: Venue) -> bool:
        return venue.owner_code in self.host_regions

    def is_trading_centre(self, principal: Principal) -> bool:
        """A department key of the trading centre or one of its district sub-centres
        (reference_data's rule, as intake's acting rule asks it)."""
        return principal.kind is PrincipalKind.DEPARTMENT and is_trading_centre(
            principal.code, self.trading_centre
        )


def runs_venue(principal: Principal, venue: Venue, staffing: VenueStaffing) -> bool:
    """Whether ``principal`` is the staff of ``venue``: the partner owning it (its own key), or,
    at a host venue, the trading centre or its sub-centre acting for the venue's region (its key
    covers that region). Nobody else: not a department covering the region (it supervises
    trades there, it does not seat experts), not an operator (the check-in is where experts
    meet their seats, so it stays with the venue)."""
    if principal.kind is PrincipalKind.PARTNER:
        return principal.code == venue.owner_code
    return (
        staffing.is_host_venue(venue)
        and staffing.is_trading_centre(principal)
        and principal.may_act_for_region(venue.region_code)
    )


def masked(text: str, *, keep_first: int, keep_last: int) -> str:
    """``text`` with every character but the first ``keep_first`` and last ``keep_last``
    starred. A text too short to hide anything that way is starred whole: showing what is
    left would show all of it."""
    hidden = len(text) - keep_first - keep_last
    if hidden <= 0:
        return MASK * len(text)
    return text[:keep_first] + MASK * hidden + text[len(text) - keep_last :]


def masked_id_number(id_number: str) -> str:
    """An ID-card number as the check-in shows it: the issuing region (first 6) and the last 4
    (the check character among them) — 370102********012X — enough to compare with the card
    presented, not enough to be the number."""
    return masked(id_number, keep_first=6, keep_last=4)


def masked_phone(phone: str) -> str:
    """A phone number as the check-in shows it: 139****5678. Nothing in the check-in needs the
    staff to call the expert (the expert is at the desk); the tail lets them confirm the
    number the expert gives, should it matter."""
    return masked(phone, keep_first=3, keep_last=4)
