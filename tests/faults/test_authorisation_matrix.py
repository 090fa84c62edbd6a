"""The authorisation matrix: every route of every service's OpenAPI × every kind of caller
(a department of the resource's region, a district branch of another region, a partner city,
an operator, no key, a revoked key), each cell sent to the real API process and compared with
the expected outcome class.

Expected classes: ``allowed`` (2xx, or a 4xx other than 401/403: the caller passed the access
check and the request was then judged on its merits — 404, 409, 422), ``forbidden`` (403) and
``unauthenticated`` (401). The rules follow the architecture: a department acts only for itself
(its regions, its venues, its pools), a partner sees only its own streams, operators read.

The table is written to .run/faults/authorisation-matrix.tsv. A route the table has no rule for
is still checked for 401 without a key and with a revoked key; its other cells are reported as
unclassified (a new route needs a rule here).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import Case, GenerationMode
from schemathesis.core.result import Ok

from tests.faults.conftest import HOME_REGION, PARTNER_CITY
from tests.support import fault_figures
from tests.support.faults import Caller, CallerKeys, table
from tests.support.processes import REPO, ServiceProcess

MATRIX_FILE = REPO / ".run" / "faults" / "authorisation-matrix.tsv"
CREDIT_CODE = "91110000600037341L"
MISSING_ID = "0190f0c0-0000-7000-8000-000000000000"


class Outcome(StrEnum):
    ALLOWED = "allowed"
    FORBIDDEN = "403"
    UNAUTHENTICATED = "401"
    UNCLASSIFIED = "unclassified"


DEP, BRANCH, PARTNER, OP = (
    Caller.DEPARTMENT,
    Caller.BRANCH_OTHER_REGION,
    Caller.PARTNER,
    Caller.OPERATOR,
)
DEPARTMENTS = frozenset({DEP, BRANCH})
READERS = frozenset({DEP, BRANCH, OP})
EVERYONE = frozenset({DEP, BRANCH, PARTNER, OP})
INTAKE_STEPS = (
    "tender-obligation",
    "pre-publication",
    "announcement",
    "bids",
    "bid-opening",
    "evaluation",
    "candidates",
    "award",
    "transaction",
    "deposit-relief",
    "historical-deposit-refunds",
    "supplements",
    "termination",
)

# Who may pass the access check of each route. Routes on the real project / venue / partner
# stream of 长清区 (HOME_REGION) admit only that region's department; routes on an id that does
# not exist admit every kind the route serves (they then answer 404 without saying more).
ALLOWED: dict[str, dict[tuple[str, str], frozenset[Caller]]] = {
    "intake": {
        ("GET", "/v1/me"): EVERYONE,  # any key may read what it stands for
        ("POST", "/v1/projects"): frozenset({DEP}),  # registers in 长清区: only its department
        ("GET", "/v1/projects"): READERS,  # a branch sees its own regions' (none here)
        ("GET", "/v1/projects/{project_id}"): frozenset({DEP, OP}),
        **{
            ("POST", f"/v1/projects/{{project_id}}/{step}"): frozenset({DEP})
            for step in INTAKE_STEPS
        },
        ("GET", "/v1/catalogue"): EVERYONE,  # reference data
        ("POST", "/v1/large-amount-records/imports"): DEPARTMENTS,
    },
    "abnormal_push": {
        ("GET", "/v1/me"): EVERYONE,  # any key may read what it stands for
        ("POST", "/v1/reports"): DEPARTMENTS,
        ("GET", "/v1/reports/{report_id}"): READERS,
        ("GET", "/v1/pushes"): READERS,
        ("GET", "/v1/pushes/counts"): READERS,
        ("GET", "/v1/pushes/{push_id}"): READERS,
        ("POST", "/v1/pushes/{push_id}/sign-for"): DEPARTMENTS,
        ("POST", "/v1/pushes/{push_id}/feedback"): DEPARTMENTS,
        ("POST", "/v1/pushes/{push_id}/transfer"): DEPARTMENTS,
        # Only operators and the departments listed as entity_record_readers (not branches).
        ("GET", "/v1/entities/{credit_code}/record"): frozenset({OP}),
        ("POST", "/v1/webhooks"): DEPARTMENTS,
        ("GET", "/v1/webhooks"): DEPARTMENTS,  # the caller's own registration
        ("DELETE", "/v1/webhooks"): DEPARTMENTS,
        ("GET", "/v1/webhooks/deliveries"): DEPARTMENTS,
        # Held no-shows only for operators; a department gets the rest (not a 403).
        ("GET", "/v1/detection/rules"): READERS,
        ("GET", "/v1/departments"): EVERYONE,  # reference data, but never anonymous
    },
    "remote_eval": {
        ("GET", "/v1/me"): EVERYONE,  # any key may read what it stands for
        ("GET", "/v1/venues"): EVERYONE,
        ("GET", "/v1/partner-cities"): EVERYONE,  # reference data, but never anonymous
        ("GET", "/v1/asyncapi.json"): EVERYONE,  # the partner topics' contract, to callers
        ("POST", "/v1/venues/{venue_id}/capacity"): frozenset({DEP}),  # 长清区's venue
        ("GET", "/v1/venues/{venue_id}/capacity"): EVERYONE,  # published seats: public to callers
        # The day's check-in list is for the venue's own staff only (decision: not operators
        # either — it is the one place experts meet their seats, so it stays with the venue).
        ("GET", "/v1/venues/{venue_id}/check-in"): frozenset({DEP}),
        # The audit trail of check-in lists shown: operators read it.
        ("GET", "/v1/venues/check-in-reads"): frozenset({OP}),
        ("POST", "/v1/experts"): frozenset({DEP, OP}),  # 长清区's pool: its department, operators
        ("GET", "/v1/pools/{pool_code}/experts"): frozenset({DEP, OP}),  # its owner, operators
        ("PUT", "/v1/pools/{pool_code}/experts/{expert_id}/availability"): frozenset({DEP}),
        ("POST", "/v1/evaluations"): frozenset({DEP}),  # main venue in 长清区
        ("GET", "/v1/evaluations/{evaluation_id}"): EVERYONE,  # no such evaluation: 404
        ("GET", "/v1/evaluations/{evaluation_id}/committee"): EVERYONE,
        # The venue's owner (长清区's venue), checked before the evaluation is looked at: the
        # evaluation is looked at under the Idempotency-Key, so that a retry gets its answer.
        ("POST", "/v1/evaluations/{evaluation_id}/venue-decisions"): frozenset({DEP}),
        ("POST", "/v1/evaluations/{evaluation_id}/experts/{pseudonym}/answer"): EVERYONE,
        # A no-show is reported by the venue's owner (长清区's venue), checked before anything
        # about the evaluation or its committee is looked at or told.
        ("POST", "/v1/evaluations/{evaluation_id}/experts/{pseudonym}/no-show"): frozenset({DEP}),
        # The host's department or an operator; on no such evaluation every caller gets 404.
        ("POST", "/v1/evaluations/{evaluation_id}/redraws"): EVERYONE,
        ("GET", "/v1/evaluations/{evaluation_id}/draws"): frozenset({OP}),  # draw audit
        ("GET", "/v1/evaluations/{evaluation_id}/draws/{index}/proof"): frozenset({OP}),
        ("GET", "/v1/partners/{partner_code}/stream"): frozenset({PARTNER}),  # its own stream only
    },
    "reporting": {
        ("GET", "/v1/me"): EVERYONE,  # any key may read what it stands for
        ("GET", "/v1/metrics/catalogue"): READERS,
        ("GET", "/v1/metrics"): READERS,
        ("GET", "/v1/metrics/evidence"): READERS,
        ("GET", "/v1/bulletins/{period}"): READERS,
        ("GET", "/v1/dashboard/snapshot"): READERS,
        ("GET", "/v1/dashboard/stream"): READERS,
        ("POST", "/v1/dashboard/stream-tickets"): READERS,
        ("GET", "/v1/operations/streams"): frozenset({OP}),  # stream health: operators only
        ("GET", "/v1/operations/dead-letters/{consumer}"): frozenset({OP}),  # and dead letters
        ("GET", "/v1/operations/api-keys/due"): frozenset({OP}),  # keys to rotate: operators
    },
}
# Routes that need no key at all.
PUBLIC = frozenset(
    {
        ("GET", "/healthz"),
    }
)


# Deviations found by this matrix and reported to the service's owners (not ours to fix here);
# they are printed with every run and count as failures as soon as they are taken off this list.
KNOWN_DEVIATIONS: dict[tuple[str, str, str, Caller], str] = {
    # (none open; the reporting dashboard's 422-instead-of-401 without a key was fixed in faf9040)
}


def expected(service: str, route: tuple[str, str], caller: Caller) -> Outcome:
    if route in PUBLIC:
        return Outcome.ALLOWED
    if caller in (Caller.NO_KEY, Caller.REVOKED):
        return Outcome.UNAUTHENTICATED
    allowed = ALLOWED[service].get(route)
    if allowed is None:
        return Outcome.UNCLASSIFIED
    return Outcome.ALLOWED if caller in allowed else Outcome.FORBIDDEN


def observed(status: int) -> Outcome:
    if status == 401:
        return Outcome.UNAUTHENTICATED
    if status == 403:
        return Outcome.FORBIDDEN
    return Outcome.ALLOWED


@dataclass(frozen=True)
class Cell:
    service: str
    method: str
    path: str
    caller: Caller
    expected: Outcome
    status: int
    code: str

    @property
    def matches(self) -> bool:
        return self.status < 500 and observed(self.status) is self.expected

    @property
    def known_deviation(self) -> bool:
        key = (self.service, self.method, self.path, self.caller)
        # A known deviation still refuses access: it is never a 2xx.
        return not self.matches and key in KNOWN_DEVIATIONS and not 200 <= self.status < 300

    @property
    def passed(self) -> bool:
        return self.expected is Outcome.UNCLASSIFIED or self.matches or self.known_deviation


def _path_parameters(project_id: str) -> dict[str, Any]:
    return {
        "project_id": project_id,
        "report_id": MISSING_ID,
        "push_id": MISSING_ID,
        "evaluation_id": MISSING_ID,
        "credit_code": CREDIT_CODE,
        "venue_id": f"JN-{HOME_REGION}-1",
        "partner_code": PARTNER_CITY,
        "pseudonym": "E-0000",
        "pool_code": HOME_REGION,
        "expert_id": MISSING_ID,
        "index": 0,
        "period": "2026-11",
    }


def _registration(**changes: Any) -> dict[str, Any]:
    return {
        "name": "长清区文昌街道老旧小区改造工程（授权矩阵）",
        "category": "HOUSING",
        "region_code": HOME_REGION,
        "tenderer": {"name": "济南市长清区住房和城乡建设局", "credit_code": CREDIT_CODE},
        "budget_fen": 1_250_000_000,
        **changes,
    }


# Bodies the access check needs to be reached with: fields a route checks before it asks who
# is calling, set to the home region's values. Everything else comes from the schema.
PARTY = {"name": "山东黄河建工集团有限公司", "credit_code": CREDIT_CODE}
# A slot within the range a request may give (the schema's date is any date; 2015-2100 is
# checked after it, as a 422).
SLOT = {"date": "2031-03-04", "half_day": "AM"}
# An instant inside what intake accepts (2015-2100): a generated one is refused (422) before
# the access check is reached.
INSTANT = "2023-05-04T09:30:00+08:00"
BODY_PATCHES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/v1/projects/{project_id}/pre-publication"): {"comments_close_at": INSTANT},
    ("POST", "/v1/projects/{project_id}/announcement"): {
        "submission_deadline": INSTANT,
        "opening_at": INSTANT,
    },
    ("POST", "/v1/projects/{project_id}/bids"): {
        "bidder": PARTY,
        "fingerprint": {
            "cpu_id": "BFEBFBFF000906EA",
            "disk_serial": "WD-WCC6Y3LX0123",
            "mac_address": "3C:7C:3F:1A:2B:4D",
            "ip_address": "10.12.0.7",
            "document_md5": "0cc175b9c0f1b6a831c399e269772661",
        },
    },
    ("POST", "/v1/projects/{project_id}/candidates"): {
        "candidates": [{"rank": 1, "bidder": PARTY, "bid_price_fen": 100_000_000}],
        "publicity_ends_at": INSTANT,
    },
    ("POST", "/v1/projects/{project_id}/award"): {"winner": PARTY},
    ("POST", "/v1/projects/{project_id}/transaction"): {"counterparty": PARTY},
    ("POST", "/v1/projects/{project_id}/historical-deposit-refunds"): {
        "payee": PARTY,
        "paid_at": INSTANT,
    },
    ("POST", "/v1/experts"): {
        "pool_code": HOME_REGION,
        "employer_code": CREDIT_CODE,
        "unavailable_slots": [SLOT],
    },
    ("PUT", "/v1/pools/{pool_code}/experts/{expert_id}/availability"): {"unavailable_dates": []},
    ("POST", "/v1/venues/{venue_id}/capacity"): {"slot": SLOT},
    ("POST", "/v1/evaluations"): {
        "slot": SLOT,
        "main_venue_id": f"JN-{HOME_REGION}-1",
        "preferred_partner_codes": [],
        "required_partner_codes": [],
    },
    ("POST", "/v1/evaluations/{evaluation_id}/venue-decisions"): {
        "venue_id": f"JN-{HOME_REGION}-1"
    },
    ("POST", "/v1/evaluations/{evaluation_id}/experts/{pseudonym}/no-show"): {
        "venue_id": f"JN-{HOME_REGION}-1"
    },
}


def _one_valid_case(operation: Any, path_parameters: dict[str, Any]) -> Case[Any]:
    """One schema-valid request for the operation (positive generation), path ids fixed."""
    wanted = {
        name: value for name, value in path_parameters.items() if f"{{{name}}}" in operation.path
    }
    captured: list[Case[Any]] = []

    @settings(
        max_examples=1,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.generate],
    )
    @given(case=operation.as_strategy(GenerationMode.POSITIVE, path_parameters=wanted))
    def capture(case: Case[Any]) -> None:
        captured.append(case)

    capture()
    return captured[0]


def _send(
    client: httpx.Client, case: Case[Any], base_url: str, route: tuple[str, str], key: str | None
) -> tuple[int, str]:
    kwargs: dict[str, Any] = case.as_transport_kwargs(base_url=base_url)
    headers = {
        name: value
        for name, value in kwargs["headers"].items()
        if name.lower() not in ("x-api-key", "authorization", "idempotency-key")
    }
    headers["Idempotency-Key"] = str(uuid.uuid4())
    params = dict(kwargs.get("params") or {})
    params.pop("key", None)
    # A generated stream ticket would stand in for the caller's key (and be refused as unknown):
    # the matrix tries the key itself; tickets have their own tests.
    params.pop("ticket", None)
    if key is not None:
        headers["X-API-Key"] = key
    json_body = kwargs.get("json")
    if isinstance(json_body, dict) and route in BODY_PATCHES:
        json_body = {**json_body, **BODY_PATCHES[route]}
    if route == ("POST", "/v1/projects"):
        json_body = _registration()
    data = kwargs.get("data")
    request = client.build_request(
        kwargs["method"],
        kwargs["url"],
        headers=headers,
        params=params or None,
        json=json_body,
        content=data if isinstance(data, bytes | str) else None,
    )
    response = client.send(request, stream=True)
    try:
        code = ""
        if response.status_code >= 400:
            code = str(response.json().get("code", "")) if response.read() else ""
        return response.status_code, code
    finally:
        response.close()


@pytest.fixture(scope="module")
def home_project(service_apis: dict[str, ServiceProcess], caller_keys: CallerKeys) -> str:
    """A real project of 长清区, registered by its department."""
    response = httpx.post(
        f"{service_apis['intake'].base_url}/v1/projects",
        json=_registration(name="长清区授权矩阵测试项目"),
        headers={**caller_keys.headers(Caller.DEPARTMENT), "Idempotency-Key": str(uuid.uuid4())},
        timeout=15,
    )
    assert response.status_code == 201, response.text
    project_id: str = response.json()["project_id"]
    return project_id


def _cells(
    service_apis: dict[str, ServiceProcess], caller_keys: CallerKeys, project_id: str
) -> Iterator[Cell]:
    path_parameters = _path_parameters(project_id)
    with httpx.Client(timeout=15) as client:
        for service, api in service_apis.items():
            schema = schemathesis.openapi.from_url(f"{api.base_url}/openapi.json")
            results = list(schema.get_all_operations())
            operations = [result.ok() for result in results if isinstance(result, Ok)]
            assert len(operations) == len(results), f"{service}: unusable OpenAPI operations"
            for operation in operations:
                route = (operation.method.upper(), operation.path)
                case = _one_valid_case(operation, path_parameters)
                for caller in Caller:
                    status, code = _send(
                        client, case, api.base_url, route, caller_keys.keys[caller]
                    )
                    yield Cell(
                        service, *route, caller, expected(service, route, caller), status, code
                    )


@pytest.mark.integration
def test_every_route_against_every_kind_of_caller(
    service_apis: dict[str, ServiceProcess], caller_keys: CallerKeys, home_project: str
) -> None:
    cells = list(_cells(service_apis, caller_keys, home_project))

    MATRIX_FILE.parent.mkdir(parents=True, exist_ok=True)
    with MATRIX_FILE.open("w", encoding="utf-8") as out:
        out.write("service\tmethod\tpath\tcaller\texpected\tstatus\tcode\tpassed\n")
        for cell in cells:
            out.write(
                f"{cell.service}\t{cell.method}\t{cell.path}\t{cell.caller.value}\t"
                f"{cell.expected.value}\t{cell.status}\t{cell.code}\t{cell.passed}\n"
            )
    failed = [cell for cell in cells if not cell.passed]
    known = [cell for cell in cells if cell.known_deviation]
    unclassified = [cell for cell in cells if cell.expected is Outcome.UNCLASSIFIED]
    routes = {(cell.service, cell.method, cell.path) for cell in cells}
    print(f"\n== Authorisation matrix ({MATRIX_FILE})")
    print(
        table(
            [
                "routes",
                "callers",
                "cells",
                "as expected",
                "known deviations",
                "failed",
                "unclassified",
            ],
            [
                [
                    len(routes),
                    len(Caller),
                    len(cells),
                    len(cells) - len(failed) - len(unclassified) - len(known),
                    len(known),
                    len(failed),
                    len(unclassified),
                ]
            ],
        )
    )
    for cell in known:
        print(
            f"  KNOWN {cell.service} {cell.method} {cell.path} as {cell.caller.value}: "
            f"{KNOWN_DEVIATIONS[(cell.service, cell.method, cell.path, cell.caller)]}"
        )
    for cell in failed:
        print(
            f"  FAIL {cell.service} {cell.method} {cell.path} as {cell.caller.value}: "
            f"expected {cell.expected.value}, got {cell.status} {cell.code}"
        )
    for cell in unclassified:
        print(
            f"  UNCLASSIFIED {cell.service} {cell.method} {cell.path} as {cell.caller.value}: "
            f"{cell.status} {cell.code}"
        )
    fault_figures.record(
        "authorisation matrix (routes x callers)",
        passed=not failed and not unclassified,
        cells_passed=len(cells) - len(failed) - len(unclassified),
        cells_failed=len(failed) + len(unclassified),
        note=f"{len(routes)} routes x {len(Caller)} callers; {len(known)} known deviations",
    )
    assert not failed, f"{len(failed)} cells of {len(cells)} differ from the expected access"
