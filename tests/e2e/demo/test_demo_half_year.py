"""The README's demo, end to end: the half-year replayed through the public APIs as the
departments would, then the bulletin for 2023-H1 states what the demo did — because reporting
computed it from the events, not because anyone typed it in."""

from __future__ import annotations

import importlib.util
import re
import sys
from collections import Counter
from datetime import UTC, datetime
from functools import partial
from operator import eq as operator_eq
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from services.platform_core.settings import PlatformSettings
from tests.e2e.demo.conftest import Platform
from tests.support.polling import eventually

pytestmark = pytest.mark.integration

DEMO = Path(__file__).resolve().parents[3] / "deploy" / "demo" / "half_year.py"
FOOTNOTE = re.compile(r"\[\^\d+\]")


def _demo_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("demo_half_year", DEMO)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


async def _figure(platform: Platform, key: str, metric: str, period: str) -> int:
    async with httpx.AsyncClient(timeout=20) as client:
        response = await client.get(
            f"{platform.url('reporting')}/v1/metrics",
            params={"metric": metric, "by": "", "period": period},
            headers={"X-API-Key": key},
        )
    assert response.status_code == 200, response.text
    return sum(int(counter["value"]) for counter in response.json()["counters"])


def _expected(done: Counter[str]) -> tuple[dict[str, int], list[str]]:
    """What reporting must count for the demo's acts, and what the bulletin must say of them."""
    breaches = done["deficient registration"] - done["supplement"]
    # The collusion signs the demo planted in its tenders' bids, by the rule that finds them.
    same_file = done["collusion sign planted: disk_serial"]
    same_file += done["collusion sign planted: document_md5"]
    same_account = done["collusion sign planted: deposit_account"]
    # Each 容缺 breach and each planted sign is detected as abnormal behaviour (a report of
    # its own), and nothing else is: every other bid has a fingerprint, an account and a price
    # of its own.
    detected = breaches + same_file + same_account
    reports = done["abnormal report"] + detected
    figures = {
        "registrations": done["register"],
        "deficiency_breaches": breaches,
        "abnormal_reports": reports,
        "detected_signals": detected,
        "pushes_signed_for": done["sign-for"],
        # Tenders end in an award (a deal) or, with fewer than three bidders, fail (流标);
        # every completed trade is a deal too, on the platform or (SOE transfers) off it.
        "transactions_completed": done["award"] + done["transaction"],
        "historical_deposits_refunded": done["historical deposit refund"],
        "large_amount_records": done["large-amount records"],
        "remote_evaluations_hosted": done["evaluation request"],
        "remote_evaluations_served": done["evaluation served"],
        "experts_shared": done["expert shared"],
    }
    statements = [
        "2023年全市上半年公共资源交易工作情况通报",
        f"完成进场登记项目{done['register']}个",
        f"容缺受理登记{done['deficient registration']}个",
        f"逾期未补正违反承诺{breaches}个",
        f"大额交易项目信息{done['large-amount records']}条",
        f"采集异常行为信息{reports}条",
        f"容缺受理补正期限届满未补正(PRT-RQ-001){breaches}条",
        f"(PRT-FP-001){same_file}条",
        f"(PRT-DEP-001){same_account}条",
        f"全市平台成交项目(标段){done['deal on the platform']}个",
        f"清退{done['historical deposit refund']}笔",
        f"发起远程异地评标{done['evaluation request']}场",
        f"提供副场服务{done['evaluation served']}场次",
        f"共享外地评标专家{done['expert shared']}人次",
        # The bulletin's own facts, given to the demo as scenario inputs.
        "完成企业国有产权交易9项,其中进场交易2项",
        "钢城区1例",
    ]
    return figures, statements


async def test_the_2023_h1_bulletin_states_the_demo_s_figures(
    platform: Platform, settings: PlatformSettings
) -> None:
    demo = _demo_module()
    args = demo.parse(
        [
            f"--intake={platform.url('intake')}",
            f"--abnormal={platform.url('abnormal')}",
            f"--remote-eval={platform.url('remote_eval')}",
            f"--reporting={platform.url('reporting')}",
            "--projects=60",
            "--large-amount-records=300",
            "--reports=6",
            "--evaluations=2",
        ]
    )
    keys: dict[str, str] = await demo.provision_keys(settings)
    outcome: Any = await demo.run(args, keys)
    assert outcome is not None
    assert not outcome.refused, outcome.samples
    assert not outcome.pending, outcome.pending
    done = outcome.done
    operator = keys["operator"]
    # Even a short demo shows each path: a breach, each kind of collusion sign, an award, a
    # historical deposit refunded, a remote evaluation served with experts shared.
    for step in (
        "collusion sign planted: disk_serial",
        "collusion sign planted: document_md5",
        "collusion sign planted: deposit_account",
        "award",
        "historical deposit refund",
        "sign-for",
        "evaluation served",
        "expert shared",
    ):
        assert done[step] >= 1, (step, done)
    assert done["deficient registration"] > done["supplement"], done
    assert done["award"] == done["bid opening"], done  # every opened tender was awarded
    figures, statements = _expected(done)
    # Departments handle what detection filed as well as what the demo reported: every
    # detected report reached its handler before they opened their inboxes.
    assert done["detected report in a handler's inbox"] == figures["detected_signals"], done

    for metric, expected in figures.items():
        try:
            await eventually(
                partial(_figure, platform, operator, metric, "2023-H1"),
                partial(operator_eq, expected),
                timeout_s=60,
            )
        except AssertionError as exc:
            raise AssertionError(f"{metric}: expected {expected} ({done}); {exc}") from exc

    async with httpx.AsyncClient(timeout=60) as client:
        response = await client.get(
            f"{platform.url('reporting')}/v1/bulletins/2023-H1",
            params={"format": "markdown"},
            headers={"X-API-Key": operator},
        )
    assert response.status_code == 200, response.text
    bulletin = FOOTNOTE.sub("", response.text)
    missing = [statement for statement in statements if statement not in bulletin]
    assert not missing, (missing, bulletin)
    assert "签收率—" not in bulletin
    # Partners are named (泰安, 齐河县), never left as bare codes.
    assert not re.search(r"\d{6}\d*场次", bulletin), bulletin

    # Every event the demo caused was taken by every consumer: no dead letter anywhere.
    async with httpx.AsyncClient(timeout=60) as client:
        streams = await client.get(
            f"{platform.url('reporting')}/v1/operations/streams",
            headers={"X-API-Key": operator},
        )
    assert streams.status_code == 200, streams.text
    letters = {d["topic"]: d["records"] for d in streams.json()["dead_letters"] if d["records"]}
    assert not letters, letters

    # Nothing of the replay lands in the half-year the demo ran in.
    today = datetime.now(UTC)
    current = f"{today.year}-H{1 if today.month <= 6 else 2}"
    assert await _figure(platform, operator, "registrations", current) == 0

    # A second `make up` on a stack that kept its data does not replay it twice.
    assert await demo.run(args, keys) is None
