"""The platform's exception hierarchy: catch the family you mean, not ``Exception``."""

from __future__ import annotations


class PlatformError(Exception):
    """Root of every error raised on purpose by this code base."""


class EventDecodeError(PlatformError):
    """A Kafka record could not be turned into an event (bad headers, unknown type, bad bytes).

    Such a record is never applied: it goes to the consumer's dead-letter topic.
    """


class TopicContractError(PlatformError):
    """An event of a type the topic registry does not allow on that topic."""


class SettingsError(PlatformError):
    """The configuration is unsafe or inconsistent (e.g. a default secret outside local runs)."""
