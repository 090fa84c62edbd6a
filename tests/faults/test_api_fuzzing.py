"""Bad input: schemathesis against every service's OpenAPI, every operation, as a department,
a partner, an operator and without a valid key, over real HTTP to the real API processes.

Proves: no request, however malformed, gets a 5xx; every 4xx body is the shared error format
``{code, message, details: [{field, problem}]}``. Each case is sent once; failures are collected
(with a curl command to replay them) and reported together, then the test fails on any.

Bounded by PRT_FUZZ_EXAMPLES (generated cases per operation and caller, default 25).
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.core.result import Ok

from tests.support import fault_figures
from tests.support.faults import Caller, CallerKeys, error_format_problem, table
from tests.support.processes import ServiceProcess

EXAMPLES = int(os.environ.get("PRT_FUZZ_EXAMPLES", "25"))
FUZZED_CALLERS = (Caller.DEPARTMENT, Caller.PARTNER, Caller.OPERATOR, Caller.NO_KEY)
REQUEST_TIMEOUT_S = 15.0


@dataclass
class FuzzFigures:
    cases: int = 0
    unsendable: int = 0  # cases httpx refuses to encode (e.g. a control character in a header)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: dict[tuple[str, int, str], str] = field(default_factory=dict)

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status >= 500)

    @property
    def bad_error_bodies(self) -> int:
        return sum(1 for (_, status, _) in self.failures if status < 500)


def _send(client: httpx.Client, case: Case[Any], base_url: str) -> tuple[int, str, bytes]:
    kwargs: dict[str, Any] = case.as_transport_kwargs(base_url=base_url)
    request = client.build_request(
        kwargs["method"],
        kwargs["url"],
        headers=kwargs.get("headers"),
        params=kwargs.get("params") or None,
        cookies=kwargs.get("cookies") or None,
        json=kwargs.get("json"),
        content=kwargs.get("data") if isinstance(kwargs.get("data"), bytes | str) else None,
        data=kwargs.get("data") if isinstance(kwargs.get("data"), dict) else None,
    )
    # Event streams stay open: the status line and headers are all a fuzz case needs.
    response = client.send(request, stream=True)
    try:
        body = b"" if response.status_code < 400 else response.read()
        return response.status_code, response.headers.get("content-type", ""), body
    finally:
        response.close()


def _fuzz_operation(
    figures: FuzzFigures,
    *,
    client: httpx.Client,
    base_url: str,
    operation: Any,
    caller: Caller,
    keys: CallerKeys,
) -> None:
    headers = keys.headers(caller)
    overrides = {"headers": headers} if headers else {}
    strategy = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE, **overrides),
        operation.as_strategy(GenerationMode.NEGATIVE, **overrides),
    )

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
        verbosity=Verbosity.quiet,
    )
    @given(case=strategy)
    def run(case: Case[Any]) -> None:
        # The credentials under test stay whatever negative generation did to other headers.
        if headers and case.headers is not None:
            case.headers.update(headers)
        try:
            status, content_type, body = _send(client, case, base_url)
        except (httpx.LocalProtocolError, UnicodeEncodeError, ValueError, TypeError):
            figures.unsendable += 1
            return
        figures.cases += 1
        figures.statuses[status] += 1
        problem: str | None = None
        if status >= 500:
            problem = f"server error {status}: {body[:300]!r}"
        elif status >= 400:
            problem = error_format_problem(status, content_type, body)
        if problem is not None:
            failure_key = (f"{operation.label} as {caller.value}", status, problem[:60])
            figures.failures.setdefault(
                failure_key, f"{problem}\n    {case.as_curl_command(headers=headers)}"
            )

    run()


@pytest.mark.integration
@pytest.mark.parametrize("service", ["intake", "abnormal_push", "remote_eval", "reporting"])
def test_no_5xx_and_every_refusal_in_the_shared_format(
    service: str, service_apis: dict[str, ServiceProcess], caller_keys: CallerKeys
) -> None:
    api = service_apis[service]
    schema = schemathesis.openapi.from_url(f"{api.base_url}/openapi.json")
    results = list(schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results), "the OpenAPI document has operations it cannot use"
    figures = FuzzFigures()
    with httpx.Client(timeout=REQUEST_TIMEOUT_S) as client:
        for operation in operations:
            for caller in FUZZED_CALLERS:
                _fuzz_operation(
                    figures,
                    client=client,
                    base_url=api.base_url,
                    operation=operation,
                    caller=caller,
                    keys=caller_keys,
                )
        api.wait_healthy(timeout_s=5)  # still up after all of it

    by_class = Counter(f"{status // 100}xx" for status in figures.statuses.elements())
    print(f"\n== API fuzzing: {service} ({len(operations)} operations, {EXAMPLES} cases each)")
    print(
        table(
            ["operations", "cases", "2xx", "4xx", "5xx", "bad 4xx bodies", "unsendable"],
            [
                [
                    len(operations),
                    figures.cases,
                    by_class["2xx"],
                    by_class["4xx"],
                    by_class["5xx"],
                    figures.bad_error_bodies,
                    figures.unsendable,
                ]
            ],
        )
    )
    for (label, status, _), detail in sorted(figures.failures.items()):
        print(f"  FAIL {label} -> {status}: {detail}")
    fault_figures.record(
        f"API fuzzing: {service}",
        passed=not figures.failures,
        cases=figures.cases,
        server_5xx=by_class["5xx"],
        note=f"{len(operations)} operations; {figures.bad_error_bodies} refusals off-format",
    )
    assert figures.cases > len(operations) * len(FUZZED_CALLERS)
    assert not figures.failures, f"{len(figures.failures)} kinds of failure in {service}; see above"
