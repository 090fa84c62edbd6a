"""Who may read what: a department sees the pushes addressed to it; operators see all."""

from __future__ import annotations

from services.abnormal_push.domain.pushes import Push, was_escalated_to
from services.abnormal_push.domain.routing import RoutingTable
from services.platform_core.auth.principals import Principal, PrincipalKind
from services.platform_core.http.errors import ApiError


def is_operator(principal: Principal) -> bool:
    return principal.kind is PrincipalKind.OPERATOR


def check_may_read_push(principal: Principal, push: Push, routing: RoutingTable) -> None:
    """The addressee and operators read a push; a department it was escalated to reads it too,
    and so does the city department over the district branch it is addressed to (which
    supervises the branch's handling; only the branch answers)."""
    if is_operator(principal) or push.department == principal.code:
        return
    if was_escalated_to(push, principal.code, office=routing.joint_conference_office):
        return
    if routing.parent_of(push.department) == principal.code:
        return
    raise ApiError(
        403,
        "not_addressed_to_you",
        f"Push {push.push_id} is addressed to another department; {principal.code} "
        "reads and answers only the pushes addressed to it",
    )


def not_found(push_id: str) -> ApiError:
    return ApiError(404, "push_not_found", f"There is no push {push_id} (yet)")


def check_may_read_entity_records(principal: Principal, routing: RoutingTable) -> None:
    """Operators and the departments the routing table lists as ``entity_record_readers`` read
    an organisation's abnormal record. It spans every report naming the organisation, city-wide
    (those sent to the police or discipline inspection included), so who reads it is a decision
    kept in departments.json, not derived from having received one push; a refused department is
    told who may read it and whom to ask."""
    if is_operator(principal) or principal.code in routing.entity_record_readers:
        return
    readers = ", ".join(
        f"{code} {routing.departments.get(code, '')}".rstrip()
        for code in sorted(routing.entity_record_readers)
    )
    office = routing.joint_conference_office
    office_name = f"{office} {routing.departments.get(office, '')}".rstrip()
    parent = routing.parent_of(principal.code)
    ask = (
        f"The city department supervising you, {parent} {routing.departments.get(parent, '')}, "
        "may read it and share what your handling needs; to read records yourself, ask the "
        f"joint-conference office ({office_name})"
        if parent is not None and parent in routing.entity_record_readers
        else f"To read records, ask the joint-conference office ({office_name})"
    )
    raise ApiError(
        403,
        "record_not_entitled",
        f"{principal.code} may not read entity records (异常行为记录). They are read by the "
        f"operators and by the departments listed as entity_record_readers in departments.json: "
        f"{readers}. {ask} to add {principal.code} to that list. The reports pushed to "
        f"{principal.code} are in its inbox (GET /v1/pushes, GET /v1/reports/{{report_id}}).",
    )
