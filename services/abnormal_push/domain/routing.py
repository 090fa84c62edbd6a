"""Who receives a report: the routing table is data (departments.json), this is how it is read.

One report becomes one push per department; a department reached for several reasons gets one
push, with the strongest role (a handler is also informed, so HANDLER wins over COPY).
Supervision is tiered (分级监管): a report on a project of a district or county with a branch of
the category's supervisor (长清区住房和城乡建设局 for a 长清区 housing project) is handled by the
branch, and the city department gets a copy; without a branch there, the city department
handles it.
Push ids are derived from (report id, department), so routing the same report twice names the
same pushes and the read model keeps one set.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any

from services.abnormal_push.domain.errors import RoutingDataError
from services.abnormal_push.domain.reports import AbnormalReport
from services.platform_core.reference_data import district_branches

# Fixed namespace: push and event ids derived from it are stable across processes and replays.
PUSH_NAMESPACE = uuid.UUID("6f1c7a52-3a4e-4d0e-9a53-0d8f3e1b2c61")


class RoutingReason(StrEnum):
    CATEGORY_SUPERVISOR = "CATEGORY_SUPERVISOR"
    OVERSIGHT = "OVERSIGHT"
    SUSPECTED_CRIME = "SUSPECTED_CRIME"
    OFFICIAL_MISCONDUCT = "OFFICIAL_MISCONDUCT"
    MISUSE_OF_FUNDS = "MISUSE_OF_FUNDS"
    TRANSFERRED = "TRANSFERRED"
    # The city department whose district branch handles the report: a copy, to supervise.
    BRANCH_OVERSIGHT = "BRANCH_OVERSIGHT"


class PushRole(StrEnum):
    HANDLER = "HANDLER"
    COPY = "COPY"


@dataclass(frozen=True)
class RoutingTable:
    departments: Mapping[str, str]  # code -> name
    supervision_by_category: Mapping[str, str]
    see_every_push: tuple[str, ...]
    added_by_case_nature: Mapping[str, str]
    joint_conference_office: str
    trading_centre: str
    entity_record_readers: frozenset[str]
    # (city department, region code) -> the branch that supervises there.
    branches: Mapping[tuple[str, str], str] = field(default_factory=dict)

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> RoutingTable:
        """Build from the parsed departments.json, refusing a table naming unknown departments
        or a branch of one, and two branches of a department in one region."""
        departments = {entry["code"]: entry["name"] for entry in data["departments"]}
        roles = {entry.get("role"): entry["code"] for entry in data["departments"]}
        branches: dict[tuple[str, str], str] = {}
        for branch in district_branches(data):
            if branch.parent not in departments:
                raise RoutingDataError(
                    f"branch {branch.code} belongs to an unknown department {branch.parent!r}"
                )
            if branch.code in departments:
                raise RoutingDataError(f"department code {branch.code} is used twice")
            if (branch.parent, branch.region) in branches:
                raise RoutingDataError(
                    f"{branch.parent} has two branches in region {branch.region}: "
                    f"{branches[branch.parent, branch.region]} and {branch.code}"
                )
            branches[branch.parent, branch.region] = branch.code
            departments[branch.code] = branch.name
        table = cls(
            departments=departments,
            supervision_by_category=dict(data["supervision_by_category"]),
            see_every_push=tuple(data["see_every_push"]),
            added_by_case_nature=dict(data["added_by_case_nature"]),
            joint_conference_office=roles.get("joint_conference_office", ""),
            trading_centre=roles.get("trading_centre", ""),
            entity_record_readers=frozenset(data.get("entity_record_readers", ())),
            branches=branches,
        )
        named = [
            *table.supervision_by_category.values(),
            *table.see_every_push,
            *table.added_by_case_nature.values(),
            table.joint_conference_office,
            table.trading_centre,
            *table.entity_record_readers,
        ]
        unknown = sorted({code for code in named if code not in departments})
        if unknown:
            raise RoutingDataError(f"routing table names unknown departments: {unknown}")
        if "OTHER" not in table.supervision_by_category:
            raise RoutingDataError("supervision_by_category needs an OTHER entry")
        return table

    def supervisor_of(self, category: str) -> str:
        """The city department supervising a category."""
        return self.supervision_by_category.get(category) or self.supervision_by_category["OTHER"]

    def branch_of(self, department: str, region_code: str) -> str | None:
        """The department's branch in a region, if it has one there."""
        return self.branches.get((department, region_code))

    def parent_of(self, department: str) -> str | None:
        """The city department a district branch belongs to; None for a city department."""
        return self._parents.get(department)

    def branches_of(self, department: str) -> tuple[str, ...]:
        """A city department's district branches, in the registry's order (none for a branch or
        a department without them)."""
        return tuple(
            branch for (parent, _), branch in self.branches.items() if parent == department
        )

    @cached_property
    def _parents(self) -> dict[str, str]:
        return {branch: parent for (parent, _), branch in self.branches.items()}

    def escalation_target(self, department: str, level: int) -> str:
        """Who chases a late push (分级监管): a district branch's first escalation goes to the
        city department that supervises it; its later ones, and every escalation of a city
        department's push, go to the joint-conference office."""
        parent = self.parent_of(department)
        return parent if parent is not None and level == 1 else self.joint_conference_office

    def receives_escalations(self, department: str) -> bool:
        """The joint-conference office, and each city department with district branches."""
        return department == self.joint_conference_office or department in self._with_branches

    @cached_property
    def _with_branches(self) -> frozenset[str]:
        return frozenset(self._parents.values())


@dataclass(frozen=True)
class PushAddress:
    push_id: str
    department: str
    reason: RoutingReason
    role: PushRole


def push_id_for(report_id: str, department: str) -> str:
    return str(uuid.uuid5(PUSH_NAMESPACE, f"report/{report_id}/{department}"))


def transferred_push_id(from_push_id: str, to_department: str) -> str:
    return str(uuid.uuid5(PUSH_NAMESPACE, f"transfer/{from_push_id}/{to_department}"))


def derived_event_id(*parts: str) -> str:
    """An event id fixed by what the event is about, so re-emitting it is recognisable."""
    return str(uuid.uuid5(PUSH_NAMESPACE, "event/" + "/".join(parts)))


def route(report: AbnormalReport, table: RoutingTable) -> list[PushAddress]:
    """The pushes a report becomes, in a stable order (handlers first, then by code)."""
    wanted: dict[str, tuple[RoutingReason, PushRole]] = {}

    def add(department: str, reason: RoutingReason, role: PushRole) -> None:
        current = wanted.get(department)
        if current is None or (current[1] is PushRole.COPY and role is PushRole.HANDLER):
            wanted[department] = (reason, role)

    supervisor = table.supervisor_of(report.project_category)
    branch = table.branch_of(supervisor, report.region_code)
    if branch is None:
        add(supervisor, RoutingReason.CATEGORY_SUPERVISOR, PushRole.HANDLER)
    else:
        add(branch, RoutingReason.CATEGORY_SUPERVISOR, PushRole.HANDLER)
        add(supervisor, RoutingReason.BRANCH_OVERSIGHT, PushRole.COPY)
    natures = (
        (report.suspected_crime, "suspected_crime", RoutingReason.SUSPECTED_CRIME),
        (
            report.suspected_official_misconduct,
            "official_misconduct",
            RoutingReason.OFFICIAL_MISCONDUCT,
        ),
        (report.suspected_misuse_of_funds, "misuse_of_funds", RoutingReason.MISUSE_OF_FUNDS),
    )
    for flagged, nature, reason in natures:
        department = table.added_by_case_nature.get(nature)
        if flagged and department:
            add(department, reason, PushRole.HANDLER)
    for department in table.see_every_push:
        add(department, RoutingReason.OVERSIGHT, PushRole.COPY)
    addresses = [
        PushAddress(push_id_for(report.report_id, code), code, reason, role)
        for code, (reason, role) in wanted.items()
    ]
    return sorted(addresses, key=lambda a: (a.role is not PushRole.HANDLER, a.department))
