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
