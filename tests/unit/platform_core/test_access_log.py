"""The access log never holds an API key from a query string (the dashboard's ``?key=``)."""

from __future__ import annotations

import io
import logging
import logging.config

import pytest
from uvicorn.logging import AccessFormatter

from services.platform_core.http.access_log import (
    REDACTED,
    RedactQuerySecrets,
    install_access_log_redaction,
    redact_query,
)

SECRET = "prt_op_Zm9vYmFyYmF6cXV4"


@pytest.mark.parametrize(
    ("target", "logged"),
    [
        (f"/dashboard?key={SECRET}", f"/dashboard?key={REDACTED}"),
        (
            f"/v1/dashboard/stream?period=2023-H1&key={SECRET}&x=1",
            f"/v1/dashboard/stream?period=2023-H1&key={REDACTED}&x=1",
        ),
        (f"/v1/projects?api_key={SECRET}", f"/v1/projects?api_key={REDACTED}"),
        # Names as a route reads them: percent-encoded, any case.
        (f"/v1/dashboard/snapshot?%6Bey={SECRET}", f"/v1/dashboard/snapshot?%6Bey={REDACTED}"),
        (f"/v1/metrics?KEY={SECRET}", f"/v1/metrics?KEY={REDACTED}"),
        # Every occurrence: a route reading the last one gets a key just as well.
        (f"/x?key=a&key={SECRET}", f"/x?key={REDACTED}&key={REDACTED}"),
        # A value holding '=' is hidden whole.
        (f"/x?key={SECRET}==", f"/x?key={REDACTED}"),
        # Nothing to hide: left as it was.
        ("/v1/dashboard/stream?key=", "/v1/dashboard/stream?key="),
        ("/v1/pushes?cursor=abc&monkey=1", "/v1/pushes?cursor=abc&monkey=1"),
        ("/healthz", "/healthz"),
    ],
)
def test_redact_query(target: str, logged: str) -> None:
    assert redact_query(target) == logged


def _access_log(logger: logging.Logger) -> io.StringIO:
    """What uvicorn's default access handler writes, into a buffer."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False)
    )
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return out


def test_an_access_line_keeps_the_request_but_not_the_key() -> None:
    logger = logging.getLogger("tests.access_log.line")
    out = _access_log(logger)
    install_access_log_redaction(logger.name)
    # The call uvicorn's HTTP protocols make for every response.
    logger.info(
        '%s - "%s %s HTTP/%s" %d',
        "127.0.0.1:50000",
        "GET",
        f"/v1/dashboard/stream?key={SECRET}&period=2023-H1",
        "1.1",
        200,
    )
    line = out.getvalue()
    assert SECRET not in line
    assert f'"GET /v1/dashboard/stream?key={REDACTED}&period=2023-H1 HTTP/1.1" 200' in line


def test_a_preformatted_message_is_redacted_too() -> None:
    logger = logging.getLogger("tests.access_log.preformatted")
    out = io.StringIO()
    logger.addHandler(logging.StreamHandler(out))
    logger.propagate = False
    logger.addFilter(RedactQuerySecrets())
    logger.warning(f"GET /dashboard?key={SECRET}")
    assert out.getvalue().strip() == f"GET /dashboard?key={REDACTED}"


def test_the_filter_is_installed_once_and_outlives_a_logging_configuration() -> None:
    name = "tests.access_log.reconfigured"
    install_access_log_redaction(name)
    install_access_log_redaction(name)
    logger = logging.getLogger(name)
    assert sum(isinstance(f, RedactQuerySecrets) for f in logger.filters) == 1
    # What uvicorn does with a --log-config (or its own defaults) for its access logger.
    out = io.StringIO()
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "handlers": {"buffer": {"class": "logging.StreamHandler", "stream": out}},
            "loggers": {name: {"handlers": ["buffer"], "level": "INFO", "propagate": False}},
        }
    )
    logger.info("%s", f"/dashboard?key={SECRET}")
    assert out.getvalue().strip() == f"/dashboard?key={REDACTED}"
