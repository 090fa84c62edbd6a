"""Who may serve whose evaluation: the partners of remote evaluation and their agreements.

domain.md: 长清区 and 济阳区 signed remote-evaluation agreements with other regions; the 9 Yellow
River cities (沿黄九市) cooperate. So a partner region (肥城, 齐河 …) serves only the Jinan
centres it signed with (``partner_of`` in venues.json); a Yellow River city or a Jinan district
centre serves any host. Serving means both: seats at the partner's venues (副场) and experts
drawn from its pool, which sit there. Which partner signed with whom is reference data; the rule
that reads it is :func:`may_serve`, and every choice of another partner's venue or pool (the
solver, the seat plan, the seat-move fallback, the checker, the API's validation) asks it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum


class PartnerKind(StrEnum):
    YELLOW_RIVER_CITY = "yellow_river_city"  # 沿黄九市 (济南 itself is one)
    JINAN_DISTRICT = "jinan_district"  # a Jinan district's trading centre (长清区, 济阳区)
    PARTNER_REGION = "partner_region"  # a region that signed with 长清区 and/or 济阳区


@dataclass(frozen=True)
class Partner:
    code: str
    name: str
    kind: PartnerKind
    # A partner region's agreements: the host centres (host_centre_code) it signed with. Empty
    # for the other kinds, whose cooperation is not limited to named hosts.
    partner_of: frozenset[str] = frozenset()


def may_serve(partner: Partner, host_centre_code: str) -> bool:
    """Whether ``partner``'s venues and expert pool may take part in an evaluation hosted by
    ``host_centre_code``: a partner region only under an agreement with that host."""
    if partner.kind is PartnerKind.PARTNER_REGION:
        return host_centre_code in partner.partner_of
    return True


def owner_may_serve(
    partners: Mapping[str, Partner] | None, owner_code: str, host_centre_code: str
) -> bool:
    """:func:`may_serve` for a venue's owner (or a pool's), looked up in ``partners``.

    ``None`` is a world with no agreements to keep (the benchmark's and small test worlds: every
    owner serves every host). Given a partner list, an owner missing from it has no agreement
    with anyone, so it serves nobody: an unlisted venue is never offered by default."""
    if partners is None:
        return True
    partner = partners.get(owner_code)
    return partner is not None and may_serve(partner, host_centre_code)


def _named(code: str, partners: Mapping[str, Partner]) -> str:
    partner = partners.get(code)
    return f"{code} {partner.name}" if partner else code


def _hosts_served(partner: Partner, partners: Mapping[str, Partner]) -> str:
    served = ", ".join(_named(code, partners) for code in sorted(partner.partner_of))
    return f"it serves {served or 'no host'} only"


def no_agreement_reason(
    owner_code: str, host_centre_code: str, partners: Mapping[str, Partner]
) -> str:
    """Why ``owner_code`` may not serve ``host_centre_code``, naming the hosts it does serve."""
    partner = partners.get(owner_code)
    if partner is None:
        return f"{owner_code} is not a listed partner, so it has no agreement with any host"
    return (
        f"partner region {_named(owner_code, partners)} has no remote-evaluation agreement "
        f"with host {_named(host_centre_code, partners)}; {_hosts_served(partner, partners)}"
    )


def unserved_note(
    owner_codes: Iterable[str], host_centre_code: str, partners: Mapping[str, Partner] | None
) -> str:
    """For a refusal's wording: the owners left out because they may not serve the host, so
    that "no seats" or "no experts" does not read as a mystery when the only partners left are
    ones without an agreement. Empty when none was left out."""
    if partners is None:
        return ""
    left_out = sorted(
        {c for c in owner_codes if not owner_may_serve(partners, c, host_centre_code)}
    )
    if not left_out:
        return ""
    listed = "; ".join(
        f"{_named(code, partners)} ({_hosts_served(partners[code], partners)})"
        if code in partners
        else f"{code} (not a listed partner)"
        for code in left_out
    )
    return (
        f" (not offered, having no remote-evaluation agreement with host "
        f"{_named(host_centre_code, partners)}: {listed})"
    )
