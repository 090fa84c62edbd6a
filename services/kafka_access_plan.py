"""Who may do what on the secured broker: one SCRAM user per service, one for operators.

Each platform process authenticates as its own service's user (PRT_KAFKA_SASL_USERNAME), so a
fault or a leaked password in one service reaches only the topics that service works with:

- a service writes only its own domain's topics and its consumers' dead-letter topics;
- it reads only the topics its consumers are subscribed to;
- partners' answers topics are written by the partners alone: each partner's user reads its
  own streams and consumer groups (prefix ``partner.<code>.``) and writes its answers, nothing
  else (``partner_access``; ``kafka.sh`` makes a user for each partner it is given);
- the operator re-drives dead letters: it reads every dead-letter topic and writes back to the
  topics the platform's consumers read, and may see every topic's and group's offsets; it may
  not create topics, join a service's group or touch ACLs;
- ``platform`` stays the broker's super user, for administration (these ACLs, SCRAM users).

The Faust apps' ids and the consumers' names below are the services' own; a unit test holds
them to the services' constants (tests/unit/test_kafka_access_plan.py).

    python -m services.kafka_access_plan show [--partners CODE ...]   # one binding per line
    python -m services.kafka_access_plan apply [--partners CODE ...]  # create them (as a user
                                                                      # allowed to)
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Iterable
from dataclasses import dataclass

from services.platform_core.events.topics import (
    ABNORMAL_PUSHES,
    ABNORMAL_REPORTS,
    ABNORMAL_WEBHOOKS,
    EVALUATION_STATES,
    EVALUATIONS,
    EVENT_TOPICS,
    EXPERT_REGISTRY,
    LARGE_AMOUNT_RECORDS,
    PROJECT_EVENTS,
    VENUE_CAPACITY,
    TopicSpec,
    dead_letter_topic,
    partner_answers_topic,
    partner_seat_requests_topic,
    partner_topic_prefix,
)
from services.platform_core.kafka.access_control import (
    EVERY_GROUP,
    EVERY_TOPIC,
    PrincipalAccess,
    Resource,
    create_acls,
    group,
    groups_prefixed,
    plan_bindings,
    topic,
    topics_prefixed,
)
from services.platform_core.kafka.dead_letter_review import redrive_group
from services.platform_core.settings import get_settings
from services.remote_eval.reference import partners
from services.reporting.settings import DEFAULT_CONSUMER_GROUP

INTAKE_APP = "prt-intake"
INTAKE_CONSUMERS = ("intake.projector",)
ABNORMAL_PUSH_APP = "prt-abnormal-push"
ABNORMAL_PUSH_CONSUMERS = (
    "abnormal-push.router",
    "abnormal-push.projector",
    "abnormal-push.detector",
    "abnormal-push.webhook-registry",
    "abnormal-push.expert-watch",
)
REMOTE_EVAL_APP = "prt-remote-eval"
REMOTE_EVAL_CONSUMERS = ("remote_eval.scheduler",)
# Reporting's consumer group is a setting: a rebuild beside the live read model runs under
# another group whose name starts the same, with a consumer (and dead letters) of its own.
REPORTING_GROUP_PREFIX = DEFAULT_CONSUMER_GROUP
REPORTING_CONSUMER_PREFIX = "reporting.aggregator"
REDRIVE_GROUP_PREFIX = redrive_group("")

SERVICE_USERS = ("intake", "abnormal-push", "remote-eval", "reporting")
OPERATOR_USER = "operator"


def _names(specs: Iterable[TopicSpec]) -> frozenset[Resource]:
    return frozenset(topic(spec.name) for spec in specs)


@dataclass(frozen=True)
class ServiceKafka:
    """One service's use of Kafka, in the registry's terms."""

    user: str
    purpose: str
    app_id: str  # its Faust app, whose id is also its consumer group
    consumers: tuple[str, ...]  # each has a dead-letter topic
    writes: tuple[TopicSpec, ...]
    consumes: tuple[TopicSpec, ...]  # what its consumers subscribe to (and may dead-letter)
    also_reads: tuple[TopicSpec, ...] = ()  # read without a group, e.g. to stream to a client

    def access(self) -> PrincipalAccess:
        written, read = _names(self.writes), _names(self.consumes + self.also_reads)
        dead_letters = _names(dead_letter_topic(consumer) for consumer in self.consumers)
        # A Faust app's own topics: its assignor's leader topic, its tables' changelogs.
        internal = frozenset({topics_prefixed(f"{self.app_id}-")})
        return PrincipalAccess(
            user=self.user,
            purpose=self.purpose,
            writes=written | dead_letters | internal,
            reads=read | internal,
            creates=written | read | dead_letters | internal,
            groups=frozenset({group(self.app_id)}),
        )


def platform_services(partner_codes: Iterable[str]) -> tuple[ServiceKafka, ...]:
    codes = sorted(partner_codes)
    seat_requests = tuple(partner_seat_requests_topic(code) for code in codes)
    answers = tuple(partner_answers_topic(code) for code in codes)
    return (
        ServiceKafka(
            user="intake",
            purpose="project registration and lifecycle, 容缺 deadlines, the large-amount import",
            app_id=INTAKE_APP,
            consumers=INTAKE_CONSUMERS,
            writes=(PROJECT_EVENTS, LARGE_AMOUNT_RECORDS),
            consumes=(PROJECT_EVENTS,),
        ),
        ServiceKafka(
            user="abnormal-push",
            purpose="abnormal-behaviour reports, pushes, webhooks and collusion detection",
            app_id=ABNORMAL_PUSH_APP,
            consumers=ABNORMAL_PUSH_CONSUMERS,
            writes=(ABNORMAL_REPORTS, ABNORMAL_PUSHES, ABNORMAL_WEBHOOKS),
            consumes=(
                ABNORMAL_REPORTS,
                ABNORMAL_PUSHES,
                PROJECT_EVENTS,
                ABNORMAL_WEBHOOKS,
                EVALUATIONS,
            ),
        ),
        ServiceKafka(
            user="remote-eval",
            purpose="venues, experts, evaluations and the partners' seat requests",
            app_id=REMOTE_EVAL_APP,
            consumers=REMOTE_EVAL_CONSUMERS,
            writes=(
                EVALUATIONS,
                EVALUATION_STATES,
                EXPERT_REGISTRY,
                VENUE_CAPACITY,
                *seat_requests,
            ),
            consumes=(EVALUATIONS, VENUE_CAPACITY, EXPERT_REGISTRY, PROJECT_EVENTS, *answers),
            # The rebuild reads its state changelog; partners' streams are served over HTTP.
            also_reads=(EVALUATION_STATES, *seat_requests),
        ),
    )


def reporting_access(services: Iterable[ServiceKafka]) -> PrincipalAccess:
    internal = frozenset({topics_prefixed(REPORTING_GROUP_PREFIX)})
    own_dead_letters = frozenset({topics_prefixed(REPORTING_CONSUMER_PREFIX)})
    read = _names(EVENT_TOPICS)
    return PrincipalAccess(
        user="reporting",
        purpose="the bulletin's metrics, the dashboard and the operations pages",
        writes=own_dead_letters | internal,
        # The operations pages show every consumer's dead letters (never their values).
        reads=read | internal | own_dead_letters | _dead_letters_of(services),
        creates=read | own_dead_letters | internal,
        groups=frozenset({groups_prefixed(REPORTING_GROUP_PREFIX)}),
        # The stream-health page reads every group's lag and every dead-letter topic's size.
        describes=frozenset({EVERY_TOPIC, EVERY_GROUP}),
    )


def _dead_letters_of(services: Iterable[ServiceKafka]) -> frozenset[Resource]:
    return _names(dead_letter_topic(c) for s in services for c in s.consumers)


def operator_access(services: Iterable[ServiceKafka]) -> PrincipalAccess:
    """Re-drive puts a dead letter back on the topic it came from: any topic a consumer reads."""
    services = tuple(services)
    consumed = _names(EVENT_TOPICS) | _names(t for s in services for t in s.consumes)
    dead_letters = _dead_letters_of(services)
    return PrincipalAccess(
        user=OPERATOR_USER,
        purpose="reviewing and re-driving dead letters; watching the streams",
        writes=consumed,
        reads=dead_letters | {topics_prefixed(REPORTING_CONSUMER_PREFIX)},
        groups=frozenset({groups_prefixed(REDRIVE_GROUP_PREFIX)}),
        describes=frozenset({EVERY_TOPIC, EVERY_GROUP}),
    )


def platform_plan(partner_codes: Iterable[str]) -> tuple[PrincipalAccess, ...]:
    services = platform_services(partner_codes)
    return (
        *(service.access() for service in services),
        reporting_access(services),
        operator_access(services),
    )


def partner_access(code: str) -> PrincipalAccess:
    """A partner city's user: its own streams and consumer groups (prefix ``partner.<code>.``),
    and writing its answers; nothing of the platform's or of another partner's."""
    prefix = partner_topic_prefix(code)
    return PrincipalAccess(
        user=f"partner-{code}",
        purpose=f"partner {code}: its seat requests and expert draws, its answers",
        writes=frozenset({topic(partner_answers_topic(code).name)}),
        reads=frozenset({topics_prefixed(prefix)}),
        groups=frozenset({groups_prefixed(prefix)}),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["show", "apply"])
    parser.add_argument(
        "--partners",
        nargs="*",
        default=[],
        metavar="CODE",
        help="partner codes whose users get their ACLs too (kafka.sh passes those it made)",
    )
    args = parser.parse_args(argv)
    plan = (*platform_plan(partners()), *(partner_access(c) for c in sorted(args.partners)))
    if args.command == "show":
        for access in plan:
            print(f"# {access.user}: {access.purpose}")
            for binding in sorted(access.bindings()):
                print(binding)
        return 0
    bindings = plan_bindings(plan)
    asyncio.run(create_acls(get_settings(), bindings))
    print(f"{len(bindings)} ACL bindings for {len(plan)} users", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
