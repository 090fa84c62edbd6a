"""The secured broker's plan of who may do what (services/kafka_access_plan.py) and its expansion
into ACL bindings (access_control.py), without a broker: each service's grants match what its
code subscribes to and publishes, and none reaches another domain's topics. That the broker
enforces the bindings is tested on a secured broker (tests/faults/test_service_acl_matrix.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from services.kafka_access_plan import (
    ABNORMAL_PUSH_APP,
    ABNORMAL_PUSH_CONSUMERS,
    INTAKE_APP,
    INTAKE_CONSUMERS,
    OPERATOR_USER,
    REDRIVE_GROUP_PREFIX,
    REMOTE_EVAL_APP,
    REMOTE_EVAL_CONSUMERS,
    REPORTING_CONSUMER_PREFIX,
    SERVICE_USERS,
    partner_access,
    platform_plan,
    platform_services,
)
from services.platform_core.events.topics import (
    EVENT_TOPICS,
    dead_letter_topic,
    partner_answers_topic,
    partner_seat_requests_topic,
)
from services.platform_core.kafka.access_control import (
    AclBinding,
    Operation,
    PrincipalAccess,
    Resource,
    ResourceType,
    group,
    groups_prefixed,
    plan_bindings,
    topic,
    topics_prefixed,
)
from services.platform_core.kafka.dead_letter_review import redrive_group
from services.remote_eval.reference import partners

REPO = Path(__file__).resolve().parents[2]
PARTNERS = sorted(partners())
PLAN = {access.user: access for access in platform_plan(PARTNERS)}


# -- the expansion ---------------------------------------------------------------------------


def test_each_kind_of_grant_expands_to_the_operations_a_client_needs() -> None:
    access = PrincipalAccess(
        user="svc",
        purpose="test",
        writes=frozenset({topic("a")}),
        reads=frozenset({topics_prefixed("b.")}),
        creates=frozenset({topic("c")}),
        groups=frozenset({group("g")}),
        describes=frozenset({groups_prefixed("h.")}),
    )
    found = {(str(b.resource), b.operation.name) for b in access.bindings()}
    assert found == {
        ("topic a", "WRITE"),
        ("topic a", "DESCRIBE"),
        ("topic b.*", "READ"),
        ("topic b.*", "DESCRIBE"),
        ("topic c", "CREATE"),
        ("topic c", "DESCRIBE_CONFIGS"),
        ("group g", "READ"),
        ("group g", "DESCRIBE"),
        ("group h.*", "DESCRIBE"),
    }
    assert all(b.principal == "User:svc" for b in access.bindings())
    assert access.allows(Operation.READ, "b.x") and not access.allows(Operation.READ, "bx")
    assert access.allows(Operation.WRITE, "a") and not access.allows(Operation.WRITE, "ab")
    assert not access.allows(Operation.READ, "h.x")  # a group prefix is not a topic prefix
    everything = PrincipalAccess(user="svc", purpose="test", reads=frozenset({topic("*")}))
    assert everything.allows(Operation.READ, "any.topic.v1")


def test_a_group_where_a_topic_belongs_is_refused() -> None:
    with pytest.raises(ValueError, match="not topics: group g"):
        PrincipalAccess(user="svc", purpose="test", reads=frozenset({group("g")}))
    with pytest.raises(ValueError, match="groups must be consumer groups"):
        PrincipalAccess(user="svc", purpose="test", groups=frozenset({topic("t")}))


def test_a_plan_naming_a_user_twice_is_refused() -> None:
    one = PrincipalAccess(user="svc", purpose="first")
    with pytest.raises(ValueError, match="once in a plan: svc"):
        plan_bindings([one, PrincipalAccess(user="svc", purpose="second")])


def test_the_plan_expands_to_distinct_sorted_bindings() -> None:
    bindings = plan_bindings(PLAN.values())
    assert bindings == sorted(set(bindings))
    assert AclBinding("User:intake", topic("intake.projects.v1"), Operation.WRITE) in bindings


# -- the plan against the services' code ------------------------------------------------------


def test_the_plan_uses_the_services_own_app_ids_and_consumer_names() -> None:
    from services.abnormal_push import stream_worker as abnormal_push
    from services.intake import stream_worker as intake
    from services.remote_eval import stream_worker as remote_eval
    from services.reporting import stream_worker as reporting

    assert (intake.app.conf.id, (intake.CONSUMER,)) == (INTAKE_APP, INTAKE_CONSUMERS)
    assert (ABNORMAL_PUSH_APP, ABNORMAL_PUSH_CONSUMERS) == (
        abnormal_push.APP_ID,
        abnormal_push.CONSUMERS,
    )
    assert (
        remote_eval.app.conf.id,
        (remote_eval.CONSUMER,),
    ) == (REMOTE_EVAL_APP, REMOTE_EVAL_CONSUMERS)
    assert reporting.CONSUMER.startswith(REPORTING_CONSUMER_PREFIX)


def test_each_service_may_read_exactly_what_its_workers_subscribe_to() -> None:
    from services.abnormal_push import stream_worker as abnormal_push
    from services.intake import stream_worker as intake
    from services.remote_eval import stream_worker as remote_eval

    subscribed = {
        "intake": set(intake.project_events.topics),
        "abnormal-push": {spec.name for spec in abnormal_push.CONSUMED_TOPICS},
        "remote-eval": {
            name
            for faust_topic in (
                remote_eval.evaluations,
                remote_eval.venues,
                remote_eval.experts,
                remote_eval.projects,
                remote_eval.answers,
            )
            for name in faust_topic.topics
        },
    }
    for service in platform_services(PARTNERS):
        assert {spec.name for spec in service.consumes} == subscribed[service.user]
        for name in subscribed[service.user]:
            assert PLAN[service.user].allows(Operation.READ, name), (service.user, name)
    reporting = PLAN["reporting"]
    assert all(reporting.allows(Operation.READ, spec.name) for spec in EVENT_TOPICS)


# Each service's own topics, by name: its domain, its dead letters, its Faust app's topics.
OWN_TOPICS = {
    "intake": r"intake\.(projects|large-amount-records|projector\.dead-letters)\.v1|prt-intake-",
    "abnormal-push": r"abnormal\.[a-z-]+\.v1|abnormal-push\.[a-z-]+\.dead-letters\.v1"
    r"|prt-abnormal-push-",
    "remote-eval": r"remote-eval\.[a-z-]+\.v1|remote_eval\.scheduler\.dead-letters\.v1"
    r"|partner\.[0-9]+\.seat-requests\.v1|prt-remote-eval-",
    "reporting": r"reporting\.aggregator|prt-reporting",
}


def test_a_service_writes_and_creates_only_its_own_topics() -> None:
    for user, pattern in OWN_TOPICS.items():
        access = PLAN[user]
        for resource in access.writes | access.creates - access.reads:
            assert re.fullmatch(pattern, resource.name), (user, str(resource))


def test_no_service_writes_a_partners_answers_or_another_domains_event_topic() -> None:
    for user in SERVICE_USERS:
        for code in PARTNERS:
            assert not PLAN[user].allows(Operation.WRITE, partner_answers_topic(code).name)
    owners = {"intake.": "intake", "abnormal.": "abnormal-push", "remote-eval.": "remote-eval"}
    for spec in EVENT_TOPICS:
        owner = next(user for prefix, user in owners.items() if spec.name.startswith(prefix))
        writers = {user for user in SERVICE_USERS if PLAN[user].allows(Operation.WRITE, spec.name)}
        assert writers == {owner}, spec.name


def test_the_seat_requests_of_a_partner_are_written_by_remote_eval_alone() -> None:
    for code in PARTNERS:
        name = partner_seat_requests_topic(code).name
        writers = {user for user in PLAN if PLAN[user].allows(Operation.WRITE, name)}
        assert writers == {"remote-eval"}


def test_the_operator_reads_every_dead_letter_and_writes_back_only_to_consumed_topics() -> None:
    operator = PLAN[OPERATOR_USER]
    consumers = [
        *INTAKE_CONSUMERS,
        *ABNORMAL_PUSH_CONSUMERS,
        *REMOTE_EVAL_CONSUMERS,
        REPORTING_CONSUMER_PREFIX,
        f"{REPORTING_CONSUMER_PREFIX}.prt-reporting-rebuild",
    ]
    for consumer in consumers:
        assert operator.allows(Operation.READ, dead_letter_topic(consumer).name), consumer
    consumed = {spec.name for s in platform_services(PARTNERS) for spec in s.consumes}
    consumed |= {spec.name for spec in EVENT_TOPICS}
    assert {r.name for r in operator.writes} == consumed
    assert not operator.creates
    assert not operator.allows(Operation.READ, "intake.projects.v1")
    assert operator.groups == {groups_prefixed(REDRIVE_GROUP_PREFIX)}
    # The prefix holds every consumer's re-drive group (the name is the prefix + the consumer).
    assert redrive_group("intake.projector") == f"{REDRIVE_GROUP_PREFIX}intake.projector"


def test_only_reporting_and_the_operator_see_every_topic_and_group() -> None:
    everything = {Resource(ResourceType.TOPIC, "*"), Resource(ResourceType.GROUP, "*")}
    seeing = {user for user, access in PLAN.items() if everything <= access.describes}
    assert seeing == {"reporting", OPERATOR_USER}


def test_kafka_sh_makes_a_user_for_each_principal_of_the_plan() -> None:
    script = (REPO / "deploy" / "local" / "kafka.sh").read_text()
    found = re.search(r'^SERVICE_USERS="([^"]+)"', script, re.MULTILINE)
    assert found is not None
    assert found.group(1).split() == [*SERVICE_USERS, OPERATOR_USER] == list(PLAN)


def test_reporting_reads_every_consumers_dead_letters_for_the_operations_page() -> None:
    reporting = PLAN["reporting"]
    consumers = [
        *INTAKE_CONSUMERS,
        *ABNORMAL_PUSH_CONSUMERS,
        *REMOTE_EVAL_CONSUMERS,
        REPORTING_CONSUMER_PREFIX,
    ]
    for consumer in consumers:
        assert reporting.allows(Operation.READ, dead_letter_topic(consumer).name), consumer
    assert not reporting.allows(Operation.WRITE, dead_letter_topic(INTAKE_CONSUMERS[0]).name)


def test_a_partner_reads_its_own_streams_and_writes_only_its_answers() -> None:
    mine, other = PARTNERS[0], PARTNERS[1]
    access = partner_access(mine)
    assert access.user == f"partner-{mine}"
    assert access.allows(Operation.READ, partner_seat_requests_topic(mine).name)
    assert access.allows(Operation.READ, partner_answers_topic(mine).name)
    assert access.allows(Operation.WRITE, partner_answers_topic(mine).name)
    assert not access.allows(Operation.WRITE, partner_seat_requests_topic(mine).name)
    for name in (partner_seat_requests_topic(other).name, partner_answers_topic(other).name):
        assert not access.allows(Operation.READ, name)
        assert not access.allows(Operation.WRITE, name)
    for spec in EVENT_TOPICS:
        assert not access.allows(Operation.READ, spec.name)
    assert access.groups == {groups_prefixed(f"partner.{mine}.")}
    assert not access.creates and not access.describes
