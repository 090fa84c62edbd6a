from __future__ import annotations

import re

from services.platform_core.events.message_types import message_class
from services.platform_core.events.topics import EVENT_TOPICS, dead_letter_topic

NAME = re.compile(r"^[a-z][a-z-]*\.[a-z][a-z-]*\.v\d+$")


def test_every_topic_type_exists_in_the_contract() -> None:
    for topic in EVENT_TOPICS:
        for type_name in topic.message_types:
            assert message_class(type_name) is not None, f"{topic.name}: {type_name}"


def test_topic_names_follow_the_convention() -> None:
    for topic in EVENT_TOPICS:
        assert NAME.match(topic.name), topic.name
    assert len({topic.name for topic in EVENT_TOPICS}) == len(EVENT_TOPICS)


def test_dead_letter_topics_are_per_consumer() -> None:
    assert dead_letter_topic("reporting.aggregator").name == "reporting.aggregator.dead-letters.v1"
