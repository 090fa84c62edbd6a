"""A department registers a project with intake; the operator's dashboard, open in a real
headless Chromium, shows it without reloading (server-sent events), with ECharts served locally."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.async_api import Browser, Route

from services.platform_core.auth.api_keys import ApiKeyStore
from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.settings import PlatformSettings
from services.reporting.read_model import MetricsReadModel
from tests.conftest import IssueKey
from tests.integration.reporting.conftest import wait_caught_up
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.integration

REGION = "370117"  # 钢城区


async def test_a_registration_appears_on_the_open_dashboard(
    *,
    browser: Browser,
    intake_api: ServiceProcess,
    own_worker: ServiceProcess,
    own_api: ServiceProcess,
    issue_key: IssueKey,
    settings: PlatformSettings,
    read_model: MetricsReadModel,
) -> None:
    operator = await issue_key(PrincipalKind.OPERATOR, "op-dashboard", "联席办值班员")
    await wait_caught_up(settings, read_model)  # so "before" is the whole log's count
    department = await issue_key(
        PrincipalKind.DEPARTMENT, "NYNCJ-GC", "钢城区农业农村局", frozenset({REGION})
    )
    page = await browser.new_page()
    offline_requests: list[str] = []
    requested: list[str] = []
    page.on(
        "request",
        lambda request: (
            requested.append(request.url)
            if request.url.startswith(own_api.base_url)
            else offline_requests.append(request.url)
        ),
    )
    await page.goto(f"{own_api.base_url}/dashboard#key={operator.key}")
    await page.wait_for_selector('#status[data-state="live"]', timeout=30_000)
    # The key reached the page by the fragment, which no request carries; the page has cleared
    # it from the address bar and sent it in headers only: the stream opened with a ticket.
    assert operator.key not in page.url
    assert not [url for url in requested if operator.key in url]
    assert [url for url in requested if "/v1/dashboard/stream?ticket=st_" in url]
    assert await page.evaluate("typeof echarts.init === 'function'")
    assert await page.locator("#chart-region canvas").count() == 1
    # The totals read what the snapshot says (the platform's deals as the bulletin counts them).
    async with httpx.AsyncClient(base_url=own_api.base_url, timeout=10) as client:
        shown = await client.get("/v1/dashboard/snapshot", headers={"X-API-Key": operator.key})
    totals = shown.json()["totals"]
    assert await page.inner_text("#total-registrations") == str(totals["registrations"])
    assert await page.inner_text("#total-deals") == str(totals["deals_on_platform"])
    # 万元 as the server formats them (the bulletin's half-up rounding on exact decimals).
    assert await page.inner_text("#total-deal-amount") == totals["deal_amount_on_platform_wan_yuan"]
    assert await page.inner_text("#total-amount") == totals["registered_amount_wan_yuan"]
    assert await page.inner_text("#open-pushes") == str(shown.json()["open_pushes"])
    cell = page.locator(f'td[data-region="{REGION}"]')
    before = int(await cell.inner_text()) if await cell.count() else 0
    await page.evaluate("window.__notReloaded = true")

    async with httpx.AsyncClient(base_url=intake_api.base_url, timeout=10) as client:
        response = await client.post(
            "/v1/projects",
            json={
                "name": f"钢城区农村集体土地经营权流转 {uuid.uuid4().hex[:6]}",
                "category": "RURAL_COLLECTIVE_PROPERTY",
                "region_code": REGION,
                "tenderer": {
                    "name": "济南市钢城区某村股份经济合作社",
                    "credit_code": "91110000600037341L",
                },
                "budget_fen": 3_600_000,
            },
            headers={"X-API-Key": department.key, "Idempotency-Key": str(uuid.uuid4())},
        )
        assert response.status_code == 201, response.text

    await page.wait_for_function(
        "([selector, expected]) => {"
        "  const cell = document.querySelector(selector);"
        "  return cell !== null && Number(cell.textContent) === expected; }",
        arg=[f'td[data-region="{REGION}"]', before + 1],
        timeout=60_000,
    )
    assert await page.evaluate("window.__notReloaded === true")
    assert offline_requests == [], "the page must work without the internet"
    await page.close()


async def test_the_dashboards_data_needs_a_readers_key(
    own_api: ServiceProcess, issue_key: IssueKey
) -> None:
    partner = await issue_key(PrincipalKind.PARTNER, "370500", "东营市公共资源交易中心")
    async with httpx.AsyncClient(base_url=own_api.base_url) as client:
        assert (await client.get("/dashboard")).status_code == 200
        assert (await client.get("/dashboard/assets/echarts.min.js")).status_code == 200
        assert (
            await client.get("/v1/dashboard/snapshot", headers={"X-API-Key": "nope"})
        ).status_code == 401
        refused = await client.get("/v1/dashboard/snapshot", headers={"X-API-Key": partner.key})
        assert refused.status_code == 403


async def test_a_dropped_stream_is_reopened_with_a_fresh_ticket(
    *, browser: Browser, own_api: ServiceProcess, issue_key: IssueKey
) -> None:
    """A ticket opens one stream, so EventSource's own retry of the same URL would be refused:
    the page must take a new ticket. The first stream connection is cut by the browser's
    network layer; the page goes live on a second ticket."""
    operator = await issue_key(PrincipalKind.OPERATOR, "op-reconnect", "联席办值班员")
    page = await browser.new_page()
    streams: list[str] = []

    async def cut_the_first(route: Route) -> None:
        streams.append(route.request.url)
        if len(streams) == 1:
            await route.abort("connectionreset")
        else:
            await route.continue_()

    await page.route("**/v1/dashboard/stream?*", cut_the_first)
    await page.goto(f"{own_api.base_url}/dashboard#key={operator.key}")
    await page.wait_for_selector('#status[data-state="live"]', timeout=30_000)
    tickets = [parse_qs(urlsplit(url).query)["ticket"][0] for url in streams]
    assert len(tickets) >= 2 and len(set(tickets)) == len(tickets), streams
    await page.close()


async def test_operators_see_the_keys_due_for_rotation(
    *, browser: Browser, own_api: ServiceProcess, issue_key: IssueKey, key_store: ApiKeyStore
) -> None:
    operator = await issue_key(PrincipalKind.OPERATOR, "op-keys-panel", "联席办值班员")
    due = await key_store.issue(
        PrincipalKind.DEPARTMENT,
        "SWJ-PANEL",
        "市水务局(到期提醒)",
        frozenset({"370112"}),
        expires_at=datetime.now(UTC) + timedelta(days=5),
    )
    page = await browser.new_page()
    await page.goto(f"{own_api.base_url}/dashboard#key={operator.key}")
    row = page.locator(f'#keys-due tr[data-key-id="{due.principal.key_id}"]')
    await row.wait_for(timeout=30_000)
    assert "市水务局(到期提醒)" in await row.inner_text()
    assert "未轮换" in await row.inner_text()
    assert await page.locator("#streams").is_visible()
    await page.close()
