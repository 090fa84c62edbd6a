"""Reading reporting's figures through its API, as an operator's client would."""

from __future__ import annotations

import httpx

from tests.support.processes import ServiceProcess


async def registrations_of_department(api: ServiceProcess, key: str, department: str) -> int:
    """All-time registrations reporting counts for ``department`` (0 before the first)."""
    async with httpx.AsyncClient(timeout=5, headers={"Authorization": f"Bearer {key}"}) as client:
        response = await client.get(
            f"{api.base_url}/v1/metrics", params={"metric": "registrations", "by": "department"}
        )
    assert response.status_code == 200, response.text
    counters = response.json()["counters"]
    return sum(c["value"] for c in counters if c["dimensions"]["department"] == department)
