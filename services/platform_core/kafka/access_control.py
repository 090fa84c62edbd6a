"""Kafka ACLs as data: what one principal may do, expanded to the broker's ACL bindings, and
written to the broker in one CreateAcls request.

A secured broker (``deploy/local/kafka.sh start --secure``) denies whatever no ACL allows.
Each platform process authenticates as its own service's SCRAM user, so a fault or a leak in
one service reaches only the topics that service works with; the plan of who may do what is in
``services/kafka_access_plan.py``. This module knows nothing of the services: it turns a
``PrincipalAccess`` into bindings and talks to the broker.

aiokafka has the CreateAcls wire format but no admin call for it; the small request builder
below sends every binding in one request (aiokafka's own builder carries one).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.protocol.admin import (
    CreateAclsRequest,
    CreateAclsRequestStruct,
)

from services.platform_core.errors import PlatformError
from services.platform_core.kafka.clients import security_options
from services.platform_core.settings import PlatformSettings


class ResourceType(IntEnum):
    """Kafka's resource type codes (org.apache.kafka.common.resource.ResourceType)."""

    TOPIC = 2
    GROUP = 3


class PatternType(IntEnum):
    """Kafka's pattern type codes: a literal name (``*`` is every name) or a name prefix."""

    LITERAL = 3
    PREFIXED = 4


class Operation(IntEnum):
    """Kafka's ACL operation codes (org.apache.kafka.common.acl.AclOperation)."""

    READ = 3
    WRITE = 4
    CREATE = 5
    DESCRIBE = 8
    DESCRIBE_CONFIGS = 10


_ALLOW = 3  # AclPermissionType.ALLOW
_ANY_HOST = "*"


class AccessControlError(PlatformError):
    """The broker refused to create ACLs."""


@dataclass(frozen=True, order=True)
class Resource:
    type: ResourceType
    name: str
    pattern: PatternType = PatternType.LITERAL

    def matches_topic(self, name: str) -> bool:
        if self.type is not ResourceType.TOPIC:
            return False
        if self.pattern is PatternType.PREFIXED:
            return name.startswith(self.name)
        return self.name in (name, "*")

    def __str__(self) -> str:
        kind = "topic" if self.type is ResourceType.TOPIC else "group"
        suffix = "*" if self.pattern is PatternType.PREFIXED and self.name != "*" else ""
        return f"{kind} {self.name}{suffix}"


def topic(name: str) -> Resource:
    return Resource(ResourceType.TOPIC, name)


def topics_prefixed(prefix: str) -> Resource:
    return Resource(ResourceType.TOPIC, prefix, PatternType.PREFIXED)


def group(name: str) -> Resource:
    return Resource(ResourceType.GROUP, name)


def groups_prefixed(prefix: str) -> Resource:
    return Resource(ResourceType.GROUP, prefix, PatternType.PREFIXED)


EVERY_TOPIC = topic("*")
EVERY_GROUP = group("*")


@dataclass(frozen=True, order=True)
class AclBinding:
    """One ALLOW rule: ``principal`` may do ``operation`` on ``resource`` from any host."""

    principal: str  # "User:<name>"
    resource: Resource
    operation: Operation

    def __str__(self) -> str:
        return f"{self.principal} {self.operation.name} {self.resource}"


def _topics(resources: Iterable[Resource]) -> frozenset[Resource]:
    chosen = frozenset(resources)
    wrong = [str(r) for r in chosen if r.type is not ResourceType.TOPIC]
    if wrong:
        raise ValueError(f"not topics: {', '.join(sorted(wrong))}")
    return chosen


@dataclass(frozen=True)
class PrincipalAccess:
    """What one SCRAM user may do. Reading or writing a topic includes describing it (a client
    must see a topic's partitions to use it); a group is joined, committed and described."""

    user: str
    purpose: str
    writes: frozenset[Resource] = field(default_factory=frozenset)
    reads: frozenset[Resource] = field(default_factory=frozenset)
    # Topics the user may create when it finds them missing (the registry's topics a process
    # ensures at start, a Faust app's internal topics).
    creates: frozenset[Resource] = field(default_factory=frozenset)
    groups: frozenset[Resource] = field(default_factory=frozenset)
    # Topics and groups the user may see (offsets, members, lag) but not read or join.
    describes: frozenset[Resource] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        for name in ("writes", "reads", "creates"):
            object.__setattr__(self, name, _topics(getattr(self, name)))
        if any(r.type is not ResourceType.GROUP for r in self.groups):
            raise ValueError(f"{self.user}: groups must be consumer groups")

    @property
    def principal(self) -> str:
        return f"User:{self.user}"

    def allows(self, operation: Operation, topic_name: str) -> bool:
        """Whether a binding lets this user do ``operation`` on the topic, matched as the
        broker matches: a literal name, the literal ``*``, or a prefix."""
        return any(
            binding.operation is operation and binding.resource.matches_topic(topic_name)
            for binding in self.bindings()
        )

    def bindings(self) -> frozenset[AclBinding]:
        grants: list[tuple[Resource, Operation]] = []
        for resource in self.writes:
            grants += [(resource, Operation.WRITE), (resource, Operation.DESCRIBE)]
        for resource in self.reads:
            grants += [(resource, Operation.READ), (resource, Operation.DESCRIBE)]
        for resource in self.creates:
            # Faust and ensure_topics read back the config of a topic they create.
            grants += [(resource, Operation.CREATE), (resource, Operation.DESCRIBE_CONFIGS)]
        for resource in self.groups:
            grants += [(resource, Operation.READ), (resource, Operation.DESCRIBE)]
        grants += [(resource, Operation.DESCRIBE) for resource in self.describes]
        return frozenset(AclBinding(self.principal, r, op) for r, op in grants)


def plan_bindings(plan: Iterable[PrincipalAccess]) -> list[AclBinding]:
    users = [access.user for access in plan]
    repeated = sorted({user for user in users if users.count(user) > 1})
    if repeated:
        raise ValueError(f"a user may appear once in a plan: {', '.join(repeated)}")
    return sorted(binding for access in plan for binding in access.bindings())


class _CreateAcls(CreateAclsRequest):  # type: ignore[misc]
    """CreateAcls (v1) with every binding in one request."""

    def __init__(self, bindings: Sequence[AclBinding]) -> None:
        self._bindings = bindings

    def build(self, request_struct_class: type[CreateAclsRequestStruct]) -> CreateAclsRequestStruct:
        if request_struct_class.API_VERSION < 1:  # v0 has no pattern type: Kafka 4 refuses it
            raise AccessControlError("the broker does not speak CreateAcls v1")
        return request_struct_class(
            [
                (
                    b.resource.type,
                    b.resource.name,
                    b.resource.pattern,
                    b.principal,
                    _ANY_HOST,
                    b.operation,
                    _ALLOW,
                )
                for b in self._bindings
            ]
        )


def _admin(settings: PlatformSettings) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id="prt-access-control",
        **security_options(settings),
    )


async def create_acls(settings: PlatformSettings, bindings: Sequence[AclBinding]) -> None:
    """Create the bindings (as a user allowed to alter the cluster's ACLs). Creating a binding
    the broker already has changes nothing, so the plan can be applied again at every start."""
    if not bindings:
        return
    admin = _admin(settings)
    await admin.start()
    try:
        response = await admin._send_request(_CreateAcls(bindings))
    finally:
        await admin.close()
    refused = [
        f"{binding}: {code} {message}"
        for binding, (code, message) in zip(bindings, response.creation_responses, strict=True)
        if code
    ]
    if refused:
        raise AccessControlError("the broker refused ACLs: " + "; ".join(refused))
