"""Who may record a project's lifecycle steps: a department acts only for itself
(architecture: "a department acts only for itself").

A step on a project (announcement, bids, opening ... termination) is the act of the department
that registered it, of the department supervising it (``supervise_dept_code``, derived from the
routing data at registration: see ``registration.default_supervisor``), of the city department
whose district branch either of them is (分级监管: 市住建局 over 长清区住房和城乡建设局), and of
the trading centre, which runs the platform the trade takes place on. Another department of the
same region is not one of them: it reads the region's projects (supervision across departments),
but a termination it recorded would end another department's trade and cancel its remote
evaluations downstream.

The rule is a pure function of the project and the reference data (:class:`ActingAuthority`),
which :func:`acting_authority` reads from departments.json as the rest of intake does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from services.intake.domain.lifecycle import ProjectView
from services.platform_core.errors import PlatformError
from services.platform_core.reference_data import (
    district_branches,
    is_trading_centre,
    trading_centre,
)


@dataclass(frozen=True)
class ActingAuthority:
    """What the rule needs from the department reference data."""

    trading_centre: str  # the department whose role is "trading_centre" (JYZX)
    parents: Mapping[str, str]  # district branch code -> its city department

    def is_trading_centre(self, department: str) -> bool:
        """The trading centre or one of its district sub-centres (reference_data's rule, as
        remote evaluation's check-in asks it). A sub-centre runs the trades of its district:
        the region check at the HTTP edge keeps it there."""
        return is_trading_centre(department, self.trading_centre)


@lru_cache(maxsize=1)
def acting_authority() -> ActingAuthority:
    """The authority as departments.json states it (loaded once, as intake's routing is)."""
    return ActingAuthority(
        trading_centre=trading_centre(),
        parents={branch.code: branch.parent for branch in district_branches()},
    )


def project_actors(view: ProjectView, authority: ActingAuthority) -> tuple[str, ...]:
    """The departments that may record the project's steps, in the order a refusal names
    them: registering department, supervising department, the city department of either when
    it is a district branch, the trading centre. Empty codes (a record from before the
    supervisor was kept) name no one."""
    own = (view.registering_department, view.supervise_dept_code)
    parents = tuple(authority.parents.get(code, "") for code in own)
    return tuple(code for code in dict.fromkeys((*own, *parents, authority.trading_centre)) if code)


class NotYourProject(PlatformError):
    """The department is not one that may record steps of the project."""

    def __init__(self, department: str, view: ProjectView, actors: tuple[str, ...]) -> None:
        self.department = department
        self.project_id = view.project_id
        self.actors = actors
        super().__init__(
            f"Project {view.project_id} was registered by {view.registering_department or '?'} "
            f"and is supervised by {view.supervise_dept_code or '?'}: its steps are recorded "
            f"only by {', '.join(actors)} (or the trading centre's sub-centre of its district), "
            f"not by {department}"
        )


def check_may_act(department: str, view: ProjectView, authority: ActingAuthority) -> None:
    """Raises :class:`NotYourProject` unless ``department`` may record the project's steps.
    (Whether the caller is a department at all, and of the project's region, is the HTTP
    edge's check: this rule is about whose project it is.)"""
    actors = project_actors(view, authority)
    if department not in actors and not authority.is_trading_centre(department):
        raise NotYourProject(department, view, actors)
