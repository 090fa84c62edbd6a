"""The dashboard's event stream opens with a one-time ticket, never with a key in the URL: a
ticket opens one stream, for a reader's key that is still valid; a key in the URL is refused;
a stream whose key is revoked ends with an ``unauthenticated`` event (reporting's own API
process, real Redis)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from redis.asyncio import Redis

from services.platform_core.auth.api_keys import ApiKeyStore, AuthenticationError
from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.auth.stream_tickets import (
    TICKET_PREFIX,
    TICKETS_PER_MINUTE,
    StreamTickets,
)
from services.platform_core.settings import PlatformSettings
from tests.conftest import IssueKey
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.integration

TICKETS = "/v1/dashboard/stream-tickets"
STREAM = "/v1/dashboard/stream"


@pytest.fixture
async def client(own_api: ServiceProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=own_api.base_url, timeout=20) as client:
        yield client


async def _ticket(client: httpx.AsyncClient, key: str) -> str:
    response = await client.post(TICKETS, headers={"X-API-Key": key})
    assert response.status_code == 201, response.text
    ticket: str = response.json()["ticket"]
    return ticket


async def _events(
    client: httpx.AsyncClient, *, until: str, **request: object
) -> tuple[int, list[str]]:
    """Opens the stream and reads event names up to ``until`` (or the stream's end, or an
    error answer): the status and the names seen."""
    names: list[str] = []
    async with client.stream("GET", STREAM, **request) as stream:  # type: ignore[arg-type]
        if stream.status_code != 200:
            await stream.aread()
            return stream.status_code, names
        async for line in stream.aiter_lines():
            if line.startswith("event: "):
                names.append(line.removeprefix("event: "))
                if names[-1] == until:
                    break
    return 200, names


async def test_a_ticket_opens_one_stream(client: httpx.AsyncClient, issue_key: IssueKey) -> None:
    operator = await issue_key(PrincipalKind.OPERATOR, "op-ticket", "联席办值班员")
    ticket = await _ticket(client, operator.key)
    status, names = await _events(client, until="snapshot", params={"ticket": ticket})
    assert (status, names) == (200, ["snapshot"])

    again = await client.get(STREAM, params={"ticket": ticket})
    assert again.status_code == 401
    assert "already used" in again.json()["message"]


async def test_a_department_key_gets_tickets_a_partner_key_does_not(
    client: httpx.AsyncClient, issue_key: IssueKey
) -> None:
    department = await issue_key(
        PrincipalKind.DEPARTMENT, "ZJJ-TICKET", "市住房城乡建设局", frozenset({"370102"})
    )
    ticket = await _ticket(client, department.key)
    assert (await _events(client, until="snapshot", params={"ticket": ticket}))[0] == 200

    partner = await issue_key(PrincipalKind.PARTNER, "370900", "泰安市公共资源交易中心")
    refused = await client.post(TICKETS, headers={"X-API-Key": partner.key})
    assert refused.status_code == 403, refused.text
    unauthenticated = await client.post(TICKETS)
    assert unauthenticated.status_code == 401


async def test_a_ticket_of_a_key_revoked_since_opens_nothing(
    client: httpx.AsyncClient, issue_key: IssueKey, key_store: ApiKeyStore
) -> None:
    operator = await issue_key(PrincipalKind.OPERATOR, "op-revoked", "联席办值班员")
    ticket = await _ticket(client, operator.key)
    assert await key_store.revoke(operator.principal.key_id)
    refused = await client.get(STREAM, params={"ticket": ticket})
    assert refused.status_code == 401
    assert "revoked" in refused.json()["message"]


async def test_tickets_that_are_not_ours_are_refused_with_the_reason(
    client: httpx.AsyncClient,
) -> None:
    malformed = await client.get(STREAM, params={"ticket": "guessed"})
    assert malformed.status_code == 401
    assert "malformed stream ticket" in malformed.json()["message"]
    unknown = await client.get(STREAM, params={"ticket": "st_" + "A" * 32})
    assert unknown.status_code == 401
    assert "unknown, already used or expired" in unknown.json()["message"]
    nothing = await client.get(STREAM)
    assert nothing.status_code == 401
    assert TICKETS in nothing.json()["message"]


async def test_a_key_in_the_url_is_refused_not_used(
    client: httpx.AsyncClient, issue_key: IssueKey
) -> None:
    operator = await issue_key(PrincipalKind.OPERATOR, "op-url", "联席办值班员")
    for path in ("/v1/dashboard/snapshot", STREAM):
        for name in ("key", "api_key", "KEY"):
            refused = await client.get(path, params={name: operator.key})
            assert refused.status_code == 400, (path, name, refused.text)
            body = refused.json()
            assert body["code"] == "api_key_in_url"
            assert "X-API-Key" in body["message"]
            assert operator.key not in refused.text
    # The same key in the header: the figures, and the stream for clients that send headers.
    snapshot = await client.get("/v1/dashboard/snapshot", headers={"X-API-Key": operator.key})
    assert snapshot.status_code == 200, snapshot.text
    status, names = await _events(client, until="snapshot", headers={"X-API-Key": operator.key})
    assert (status, names) == (200, ["snapshot"])


async def test_a_stream_ends_when_its_key_is_revoked(
    client: httpx.AsyncClient, issue_key: IssueKey, key_store: ApiKeyStore
) -> None:
    """The test API checks keys every second (PRT_REPORTING_DASHBOARD_KEY_RECHECK_S)."""
    operator = await issue_key(PrincipalKind.OPERATOR, "op-revoked-open", "联席办值班员")
    ticket = await _ticket(client, operator.key)
    names: list[str] = []
    message = ""
    async with client.stream("GET", STREAM, params={"ticket": ticket}) as stream:
        assert stream.status_code == 200
        event = ""
        async for line in stream.aiter_lines():
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
                names.append(event)
                if event == "snapshot" and names.count("snapshot") == 1:
                    assert await key_store.revoke(operator.principal.key_id)
            elif line.startswith("data: ") and event == "unauthenticated":
                message = json.loads(line.removeprefix("data: "))["message"]
        # The loop ends because the server ended the stream, not on a timeout.
    assert names == ["snapshot", "unauthenticated"]
    assert "revoked" in message


async def test_a_ticket_lasts_its_lifetime_and_redis_holds_only_its_hash(
    settings: PlatformSettings, key_store: ApiKeyStore, issue_key: IssueKey
) -> None:
    operator = await issue_key(PrincipalKind.OPERATOR, "op-expiry", "联席办值班员")
    redis = Redis.from_url(settings.redis_url)
    try:
        kept = await StreamTickets(redis, key_store).issue(operator.principal)
        digest = hashlib.sha256(kept.ticket.encode()).hexdigest()
        assert await redis.get(TICKET_PREFIX + digest) == operator.principal.key_id.encode()
        assert not await redis.exists(TICKET_PREFIX + kept.ticket)
        assert 0 < await redis.pttl(TICKET_PREFIX + digest) <= 60_000
        redeemed = await StreamTickets(redis, key_store).redeem(kept.ticket)
        assert redeemed.key_id == operator.principal.key_id
        assert not await redis.exists(TICKET_PREFIX + digest)

        tickets = StreamTickets(redis, key_store, lifetime_s=0.5)
        lapsed = await tickets.issue(operator.principal)
        await asyncio.sleep(0.8)
        with pytest.raises(AuthenticationError, match="expired"):
            await tickets.redeem(lapsed.ticket)
    finally:
        await redis.aclose()


async def test_a_key_gets_at_most_30_tickets_a_minute(
    client: httpx.AsyncClient, issue_key: IssueKey
) -> None:
    looping = await issue_key(PrincipalKind.OPERATOR, "op-ticket-loop", "联席办值班员")
    other = await issue_key(PrincipalKind.OPERATOR, "op-ticket-other", "联席办值班员")
    if (second := time.time() % 60) > 45:  # the window is the clock's minute: start early in one
        await asyncio.sleep(60 - second + 0.1)
    for _ in range(TICKETS_PER_MINUTE):
        await _ticket(client, looping.key)
    refused = await client.post(TICKETS, headers={"X-API-Key": looping.key})
    assert refused.status_code == 429, refused.text
    assert refused.json()["code"] == "too_many_tickets"
    assert f"{TICKETS_PER_MINUTE} stream tickets in the last minute" in refused.json()["message"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    # Another key is not held up, and a ticket issued before the limit still opens its stream.
    ticket = await _ticket(client, other.key)
    assert (await _events(client, until="snapshot", params={"ticket": ticket}))[0] == 200


async def test_the_dashboard_page_sends_no_referrer(client: httpx.AsyncClient) -> None:
    """Opened with an older ?key= link, the page and what it loads send no Referer: the key in
    the address would otherwise reach any proxy that logs it before the script clears it."""
    for path in ("/dashboard", "/dashboard/assets/dashboard.js", "/dashboard/assets/dashboard.css"):
        response = await client.get(
            path, params={"key": "prt_x_y"} if path == "/dashboard" else None
        )
        assert response.status_code == 200, (path, response.text)
        assert response.headers["referrer-policy"] == "no-referrer", path
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"], path
