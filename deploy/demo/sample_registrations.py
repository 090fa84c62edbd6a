"""Registers a few sample projects through intake's API, as a department clerk would, and shows
the counts move in reporting's metrics. Used by ``make up`` so a newcomer sees the flow work."""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from pathlib import Path

import httpx

SAMPLES = [
    ("长清区文昌街道老旧小区改造工程", "HOUSING", "370113", 1_250_000_000),
    ("济阳区黄河大堤加固工程", "WATER", "370115", 880_000_000),
    ("历下区泉城路绿化提升工程", "LANDSCAPING", "370102", 96_000_000),
    ("市本级办公设备集中采购", "GOVERNMENT_PROCUREMENT", "370100", 12_500_000),
    ("钢城区某村集体土地经营权流转", "RURAL_COLLECTIVE_PROPERTY", "370117", 3_600_000),
    ("章丘区明水大道市政道路工程", "MUNICIPAL", "370114", 2_300_000_000),
]
TENDERER = {"name": "济南城市建设集团有限公司", "credit_code": "91110000600037341L"}


def _by_region(client: httpx.Client, reporting: str, api_key: str) -> dict[str, int]:
    response = client.get(
        f"{reporting}/v1/metrics",
        params={"metric": "registrations", "by": "region"},
        headers={"X-API-Key": api_key},
    )
    response.raise_for_status()
    return {c["dimensions"]["region"]: c["value"] for c in response.json()["counters"]}


def _issue_demo_key() -> str:
    """Issues the trading centre a key for the sample regions with the auth CLI."""
    import subprocess

    regions = ",".join(sorted({region for _, _, region, _ in SAMPLES}))
    issued = subprocess.run(
        [
            sys.executable,
            "-m",
            "services.platform_core.auth.cli",
            "issue",
            "--kind",
            "department",
            "--code",
            "JYZX",
            "--name",
            "济南公共资源交易中心",
            "--regions",
            regions,
        ],
        cwd=Path(__file__).resolve().parents[2],
        check=True,
        capture_output=True,
        text=True,
    )
    return issued.stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--intake", default="http://127.0.0.1:8101")
    parser.add_argument("--reporting", default="http://127.0.0.1:8104")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument(
        "--api-key",
        default=os.environ.get("PRT_DEMO_API_KEY"),
        help="a department key for the sample regions, issued with "
        "`python -m services.platform_core.auth.cli issue --kind department --code JYZX "
        "--name 济南公共资源交易中心 --regions 370100,370102,...` (or PRT_DEMO_API_KEY)",
    )
    args = parser.parse_args()
    if not args.api_key:
        args.api_key = _issue_demo_key()
    with httpx.Client(timeout=10) as client:
        before = _by_region(client, args.reporting, args.api_key)
        for name, category, region, budget in SAMPLES:
            response = client.post(
                f"{args.intake}/v1/projects",
                json={
                    "name": name,
                    "category": category,
                    "region_code": region,
                    "tenderer": TENDERER,
                    "budget_fen": budget,
                },
                headers={"X-API-Key": args.api_key, "Idempotency-Key": str(uuid.uuid4())},
            )
            if response.status_code != 201:
                print(f"registration refused: {response.status_code} {response.text}")
                return 1
            print(f"registered {response.json()['unified_deal_code']}  {name}")
        expected = sum(before.values()) + len(SAMPLES)
        deadline = time.monotonic() + args.timeout
        after = _by_region(client, args.reporting, args.api_key)
        while sum(after.values()) < expected:
            if time.monotonic() > deadline:
                print(f"reporting counted {sum(after.values())} of {expected} registrations")
                return 1
            time.sleep(0.5)
            after = _by_region(client, args.reporting, args.api_key)
        print("registrations by region (reporting /v1/metrics):")
        for region, count in sorted(after.items()):
            print(f"  {region}: {count} (+{count - before.get(region, 0)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
