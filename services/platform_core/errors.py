"""The platform's exception hierarchy: catch the family you mean, not ``Exception``."""

from __future__ import annotations


class PlatformError(Exception):
    """Root of every error raised on purpose by this code base."""


class EventDecodeError(PlatformError):
    """A Kafka record could not be turned into an event (bad headers, unknown type, bad bytes).

    Such a record is never applied: it goes to the consumer's dead-letter topic.
    """


class EventRejected(PlatformError):
    """A decoded event that its consumer cannot apply (it contradicts the consumer's rules).

    Raised by an apply function; the record goes to the dead-letter topic.
    """


class ImpossibleEventValue(EventRejected, ValueError):
    """A well-formed event carrying a value no fact can have: a timestamp outside years 1-9999,
    a date 0000-00-00, an enum number this contract does not know.

    Rejected like any event its consumer cannot apply, so the record is dead-lettered and the
    stream goes on; without this the plain ValueError from the conversion crashed the agent,
    and Faust's restart read the same record again, for ever. A ValueError too, for callers
    that converted values under ``except ValueError``."""


class TopicContractError(PlatformError):
    """An event of a type the topic registry does not allow on that topic."""


class SettingsError(PlatformError):
    """The configuration is unsafe or inconsistent (e.g. a default secret outside local runs)."""
