"""The README's demo, end to end: the half-year replayed through the public APIs as the
departments would, then the bulletin for 2023-H1 states what the demo did — because reporting
computed it from the events, not because anyone typed it in."""

from __future__ import annotations

import importlib.util
import re
import sys
from datetime import UTC, datetime
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

    expected_breaches = done["deficient registration"] - done["supplement"]

    async def expect(metric: str, expected: int) -> None:
        try:
            await eventually(
                lambda: _figure(platform, operator, metric, "2023-H1"),
                lambda n: n == expected,
                timeout_s=60,
            )
        except AssertionError as exc:
            raise AssertionError(f"{metric}: expected {expected} ({done}); {exc}") from exc

    await expect("registrations", done["register"])
    await expect("deficiency_breaches", expected_breaches)
    # Each 容缺 breach is also detected as abnormal behaviour (a report of its own).
    reports = done["abnormal report"] + expected_breaches
    await expect("abnormal_reports", reports)
    # The detected ones, by the rule that fired: the 容缺 breach rule.
    await expect("detected_signals", expected_breaches)
    await expect("pushes_signed_for", done["sign-for"])
    # Departments handle what detection filed as well as what the demo reported: every
    # breach's report reached its handler before they opened their inboxes.
    assert done["detected report in a handler's inbox"] == expected_breaches >= 1, done
    await expect("large_amount_records", done["large-amount records"])
    await expect("remote_evaluations_hosted", done["evaluation request"])
    await expect("remote_evaluations_served", done["evaluation served"])
    await expect("experts_shared", done["expert shared"])

    async with httpx.AsyncClient(timeout=60) as client:
        response = await client.get(
            f"{platform.url('reporting')}/v1/bulletins/2023-H1",
            params={"format": "markdown"},
            headers={"X-API-Key": operator},
        )
    assert response.status_code == 200, response.text
    bulletin = FOOTNOTE.sub("", response.text)
    assert "2023年全市上半年公共资源交易工作情况通报" in bulletin
    assert f"完成进场登记项目{done['register']}个" in bulletin
    assert f"容缺受理登记{done['deficient registration']}个" in bulletin
    assert f"逾期未补正违反承诺{expected_breaches}个" in bulletin
    assert f"大额交易项目信息{done['large-amount records']}条" in bulletin
    assert f"采集异常行为信息{reports}条" in bulletin
    breach_rule = "容缺受理补正期限届满未补正(PRT-RQ-001)"
    assert f"系统自动监测预警按规则:{breach_rule}{expected_breaches}条" in bulletin
    assert "签收率—" not in bulletin and done["sign-for"] > 0
    assert f"发起远程异地评标{done['evaluation request']}场" in bulletin
    assert f"提供副场服务{done['evaluation served']}场次" in bulletin
    assert f"共享外地评标专家{done['expert shared']}人次" in bulletin
    assert done["evaluation served"] > 0 and done["expert shared"] > 0
    # Partners are named (泰安, 齐河县), never left as bare codes.
    assert not re.search(r"\d{6}\d*场次", bulletin), bulletin
    # The bulletin's own facts, given to the demo as scenario inputs.
    assert "完成企业国有产权交易9项,其中进场交易2项" in bulletin
    assert "钢城区1例" in bulletin

    # Nothing of the replay lands in the half-year the demo ran in.
    today = datetime.now(UTC)
    current = f"{today.year}-H{1 if today.month <= 6 else 2}"
    assert await _figure(platform, operator, "registrations", current) == 0

    # A second `make up` on a stack that kept its data does not replay it twice.
    assert await demo.run(args, keys) is None
