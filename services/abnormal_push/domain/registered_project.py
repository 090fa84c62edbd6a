"""Which category and region a filed report is routed on: the project's registration in intake
where abnormal push has seen it, else what the report says.

Routing follows "who supervises what" for the *project* (domain.md): a clerk's typing must not
send a 章丘区 housing project's report to the water department or to 历下区's branch. So a report
on a project intake registered takes the registered category and region; a report whose stated
category or region contradicts the registration is refused, naming the registered values; what
it leaves out is filled from the registration.

A project abnormal push has not seen stays reportable — a project that should have entered the
platform and did not (应进未进) is exactly what a report may be about — and is routed on the
report's own fields. Abnormal push learns registrations from intake's stream (detection keeps
them), so a report filed seconds after a registration may arrive before that registration has
been consumed: it is routed on its own fields like an unregistered project, and the answer says
so (``registered`` False), for the clerk to check the routing it shows.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.abnormal_push.domain.detection.model import ProjectFacts
from services.abnormal_push.domain.errors import AbnormalPushError, ReportRefused
from services.platform_core.reference_data import regions


@dataclass(frozen=True)
class Registration:
    """A project as intake registered it: the facts routing reads."""

    project_id: str
    category: str  # ProjectCategory member name, e.g. HOUSING
    # "" when the registration was consumed before detection kept regions: not known here.
    region_code: str


@dataclass(frozen=True)
class ProjectRouting:
    """What a report is routed on, and whether that came from intake's registration."""

    category: str
    region_code: str
    registered: bool


class ProjectMismatch(AbnormalPushError):
    """A report stating a category or region that contradicts the project's registration;
    ``problems`` maps each contradicted field to the registered value."""

    def __init__(self, registration: Registration, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {problem}" for field, problem in problems.items()))
        self.registration = registration
        self.problems = problems


def registration_of(facts: ProjectFacts | None) -> Registration | None:
    """The registration abnormal push has seen for a project, or None.

    Detection stores facts for a project before its registration in one case (a 依法必须招标
    declaration read first): those have no category, and are no registration."""
    if facts is None or not facts.category:
        return None
    return Registration(facts.project_id, facts.category, facts.region_code)


def region_label(code: str) -> str:
    """``370114 章丘区``, or the bare code for one regions.json does not hold."""
    known = regions().get(code)
    return f"{code} {known.name}" if known is not None else code


def project_routing(
    *,
    stated_category: str | None,
    stated_region: str | None,
    reporter_region: str,
    registration: Registration | None,
) -> ProjectRouting:
    """The category and region a report is routed on.

    ``stated_*``: what the report says, None when left out. ``reporter_region``: the reporting
    department's region when it acts for exactly one (a district branch), else "" — the region
    of a report on an unregistered project that names none."""
    if registration is None:
        if stated_category is None:
            raise ReportRefused(
                {
                    "project_category": "required: abnormal push has not seen this project's "
                    "registration in intake (it may not be registered, or was registered "
                    "seconds ago), so the report's category decides the supervising department"
                }
            )
        return ProjectRouting(
            category=stated_category,
            region_code=stated_region if stated_region is not None else reporter_region,
            registered=False,
        )
    problems: dict[str, str] = {}
    if stated_category is not None and stated_category != registration.category:
        problems["project_category"] = (
            f"project {registration.project_id} is registered in intake as "
            f"{registration.category}, not {stated_category}"
        )
    # A region the registration did not record (consumed before detection kept regions) is
    # not contradicted by anything: the report's, or the reporter's own, is used as before.
    region = registration.region_code
    if region and stated_region is not None and stated_region != region:
        problems["region_code"] = (
            f"project {registration.project_id} is registered in intake in "
            f"{region_label(region)}, not {region_label(stated_region)}"
        )
    if problems:
        raise ProjectMismatch(registration, problems)
    if not region:
        region = stated_region if stated_region is not None else reporter_region
    return ProjectRouting(category=registration.category, region_code=region, registered=True)
