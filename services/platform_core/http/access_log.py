"""No API key in the access log: uvicorn logs each request's path with its query string, and a
caller may still put its key there (an old ``/dashboard?key=`` link, a client that tries
``?api_key=``) although no route takes it from the URL (the dashboard's data routes refuse it;
its event stream opens with a one-time ticket, platform_core.auth.stream_tickets).

Every service's app calls :func:`install_access_log_redaction` when it is built; uvicorn has set
up its loggers by then (``Config`` does it before it imports the app), and a later logging
configuration of ``uvicorn.access`` leaves a logger's filters in place. The value of each
secret-bearing query parameter is replaced before any handler formats the record, so neither
the log file nor any other handler of that logger ever holds the key.
"""

from __future__ import annotations

import logging
from urllib.parse import unquote_plus

ACCESS_LOGGER = "uvicorn.access"
REDACTED = "[redacted]"

# Query parameters that carry an API key: "key", what the dashboard's routes once read, and
# "api_key", what a client might try instead. Compared decoded and case-insensitively:
# Starlette decodes names (``%6Bey`` is ``key`` to a route), and ``KEY=`` sent to the wrong
# route still holds one.
SECRET_PARAMETERS = frozenset({"key", "api_key"})


def redact_query(target: str) -> str:
    """``target`` (a path with its query string, as uvicorn logs it) with the value of every
    secret parameter replaced. The query is split as Starlette splits it (on ``&``, the name
    before the first ``=``), so whatever a route would read as the key is what is hidden."""
    path, mark, query = target.partition("?")
    if not mark:
        return target
    pairs = query.split("&")
    for i, pair in enumerate(pairs):
        name, equals, value = pair.partition("=")
        if equals and value and unquote_plus(name).strip().lower() in SECRET_PARAMETERS:
            pairs[i] = f"{name}={REDACTED}"
    return f"{path}?{'&'.join(pairs)}"


class RedactQuerySecrets(logging.Filter):
    """Rewrites the record's string arguments (uvicorn passes the request target as one of
    them: ``'%s - "%s %s HTTP/%s" %d'``); keeps every record, so the request is still logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(
                redact_query(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        elif not record.args and isinstance(record.msg, str):
            # A message logged already formatted (another server, a custom log call).
            record.msg = redact_query(record.msg)
        return True


def install_access_log_redaction(logger_name: str = ACCESS_LOGGER) -> None:
    """Adds the filter to the access logger once (an app module imported twice, or several
    apps in one process, do not stack filters)."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, RedactQuerySecrets) for f in logger.filters):
        logger.addFilter(RedactQuerySecrets())
