"""A demo half-year for Jinan, driven through the public HTTP APIs as the departments and
partners would: registrations in every district, their lifecycle (pre-publication,
announcement, deposit relief, bids with their file fingerprints, opening, evaluation,
candidates' publicity, award or 流标, historical deposits refunded, trades), the bulk pull of
large-amount records from the three platform levels, abnormal-behaviour reports signed for
and answered by the supervising departments; and 长清区 and 济阳区 evaluate some of their
tenders remotely, on the opening's half-day, with seats and experts of partner regions (the
evaluation's id is on intake's evaluation step, and the award unseals the committee).

A few tenders carry the classic signs of collusion (实施条例 art. 40) — two bidders' files
uploaded from one IP address, one document made once and submitted twice, two deposits paid
from one account — for the platform's detection to find, push and have answered; every other
bid has fingerprints of its own, so nothing else is flagged.

The bulletin's own facts are scenario inputs: over 2,200 large-amount records, 9 SOE property
transactions of which 2 on the platform, 钢城区's first rural collective trade, remote
evaluations hosted by 长清区/济阳区. The bulletin then states them because it computed them.

Every act is dated inside the half-year it replays (``--period``, default 2023-H1): the demo's
keys are issued with ``--backfill`` as a data migration's would be, and each request states its
``occurred_at``. API keys are provisioned first, as an administrator would with
``python -m services.platform_core.auth.cli issue --backfill`` (same store, same Redis).

Run (the local stack of ``make up``)::

    .venv/bin/python deploy/demo/half_year.py
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import random
import sys
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from redis.asyncio import Redis
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from services.intake.domain.working_days import add_working_days
from services.platform_core.auth.api_keys import ApiKeyStore
from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.reference_data import district_branches, load_json, regions
from services.platform_core.settings import PlatformSettings, get_settings

# How many registrations each district makes, roughly in proportion to its activity.
DISTRICT_WEIGHTS = {
    "370100": 10, "370102": 8, "370103": 6, "370104": 5, "370105": 5, "370112": 9,
    "370113": 6, "370114": 7, "370115": 5, "370116": 5, "370117": 3, "370124": 3,
    "370126": 3, "370171": 8, "370181": 2, "370182": 4,
}  # fmt: skip
CATEGORY_WEIGHTS = {
    "HOUSING": 30, "MUNICIPAL": 18, "TRANSPORT": 8, "WATER": 6, "LANDSCAPING": 6,
    "GOVERNMENT_PROCUREMENT": 22, "LAND_USE_RIGHTS": 3, "ASSET_DISPOSAL": 4,
}  # fmt: skip
PROJECT_NAMES = {
    "HOUSING": "安置房建设工程", "MUNICIPAL": "市政道路改造工程", "TRANSPORT": "公路养护工程",
    "WATER": "河道综合治理工程", "LANDSCAPING": "绿化提升工程",
    "GOVERNMENT_PROCUREMENT": "设备集中采购项目", "LAND_USE_RIGHTS": "国有建设用地使用权出让",
    "ASSET_DISPOSAL": "罚没资产处置", "SOE_PROPERTY_RIGHTS": "国有企业产权转让",
    "RURAL_COLLECTIVE_PROPERTY": "农村集体土地经营权流转", "EMISSION_RIGHTS": "排污权交易",
}  # fmt: skip
BEHAVIOURS = [
    "FALSE_MATERIALS",
    "COLLUSION_SAME_PREPARER",
    "AGENCY_MISCONDUCT",
    "DISCRIMINATORY_TERMS",
    "COLLUSION_SAME_DEPOSIT_ACCOUNT",
    "AWARD_ABANDONED",
]
GANGCHENG, CHANGQING, JIYANG = "370117", "370113", "370115"
# Projects tendered to bidders (the rest are trades, or land use rights sold by 挂牌).
TENDERED = frozenset(
    {"HOUSING", "MUNICIPAL", "TRANSPORT", "WATER", "LANDSCAPING", "GOVERNMENT_PROCUREMENT"}
)
# What two colluding bidders' bids share, each the sign one detection rule looks for:
# disk_serial and document_md5 → PRT-FP-001 (同一单位或个人编制), deposit_account →
# PRT-DEP-001. (An IP address or CPU id alone is no sign: offices share addresses, a CPU model
# shares its id; nor is a deposit "paid" from one account when none was paid.)
COLLUSION_SIGNS = ("disk_serial", "document_md5", "deposit_account")
BIDDER_POOL = 60


def credit_code(seed: int) -> str:
    """A valid 18-character unified social credit code derived from ``seed``."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    rng = random.Random(seed)
    body = "913701" + "".join(rng.choice(alphabet[:10]) for _ in range(11))
    total = sum(alphabet.index(char) * weight for char, weight in zip(body, weights, strict=True))
    return body + alphabet[(31 - total % 31) % 31]


def evidence(text: str) -> dict[str, str]:
    return {
        "sha256": hashlib.sha256(text.encode()).hexdigest(),
        "location": f"docstore://demo/{hashlib.md5(text.encode()).hexdigest()}.pdf",
        "media_type": "application/pdf",
    }


CHINA = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class HalfYear:
    """The period the demo replays, and business times inside it (office hours, China time)."""

    year: int
    half: int

    @classmethod
    def parse(cls, text: str) -> HalfYear:
        year, _, half = text.partition("-H")
        if not year.isdigit() or half not in ("1", "2"):
            raise argparse.ArgumentTypeError(f"{text!r} is not a half-year such as 2023-H1")
        return cls(int(year), int(half))

    def __str__(self) -> str:
        return f"{self.year}-H{self.half}"

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time(0), tzinfo=CHINA)

    @property
    def first_day(self) -> date:
        return date(self.year, 1 if self.half == 1 else 7, 1)

    @property
    def last_day(self) -> date:
        return date(self.year, 6, 30) if self.half == 1 else date(self.year, 12, 31)

    def day(self, rng: random.Random, earliest: date | None = None, spare_days: int = 0) -> date:
        """A weekday from ``earliest`` (or the start) up to ``spare_days`` before the end."""
        start = max(earliest or self.first_day, self.first_day)
        end = max(start, self.last_day - timedelta(days=spare_days))
        while True:
            candidate = start + timedelta(days=rng.randrange((end - start).days + 1))
            if candidate.weekday() < 5 or start == end:
                return candidate

    def at(self, day: date, rng: random.Random) -> datetime:
        """An office-hours instant on ``day`` in China, never past the period's last day."""
        day = min(day, self.last_day)
        return datetime.combine(day, time(9), tzinfo=CHINA) + timedelta(
            minutes=rng.randrange(8 * 60)
        )

    def after(self, moment: datetime, rng: random.Random, days: tuple[int, int]) -> datetime:
        """A later office-hours instant, ``days`` (low, high) after ``moment``, kept in period."""
        day = moment.astimezone(CHINA).date() + timedelta(days=rng.randint(*days))
        later = self.at(day, rng)
        return later if later > moment else moment + timedelta(minutes=rng.randrange(1, 60))


@dataclass
class Outcome:
    done: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    pending: list[str] = field(default_factory=list)
    samples: dict[str, str] = field(default_factory=dict)

    def refuse(self, step: str, response: httpx.Response) -> None:
        self.refused[step] += 1
        self.samples.setdefault(step, f"{response.status_code} {response.text[:300]}")


@dataclass
class Demo:
    client: httpx.AsyncClient
    args: argparse.Namespace
    keys: dict[str, str]
    rng: random.Random
    outcome: Outcome = field(default_factory=Outcome)
    projects: list[dict[str, Any]] = field(default_factory=list)
    report_ids: set[str] = field(default_factory=set)
    venues: dict[str, dict[str, Any]] = field(default_factory=dict)
    started: datetime = field(default_factory=lambda: datetime.now(UTC))

    def rng_for(self, *label: object) -> random.Random:
        """A generator of its own for one concurrent job: jobs run interleaved, in an order the
        network decides, so drawing from the shared ``rng`` inside them would make the same
        seed give another half-year."""
        return random.Random(":".join(map(str, (self.args.seed, *label))))

    @property
    def period(self) -> HalfYear:
        period: HalfYear = self.args.period
        return period

    async def post(self, step: str, url: str, key: str, body: Any, **kwargs: Any) -> Any:
        headers = {"X-API-Key": key, "Idempotency-Key": str(uuid.uuid4())}
        try:
            response = await self.client.post(url, json=body, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            self.outcome.refused[step] += 1
            self.outcome.samples.setdefault(step, repr(exc))
            return None
        if response.status_code >= 300:
            self.outcome.refuse(step, response)
            return None
        self.outcome.done[step] += 1
        return response.json()


async def run_all(
    label: str, jobs: Iterable[Callable[[], Awaitable[None]]], concurrency: int
) -> None:
    jobs = list(jobs)
    gate = asyncio.Semaphore(concurrency)
    with tqdm(total=len(jobs), desc=label, unit="step") as bar:

        async def one(job: Callable[[], Awaitable[None]]) -> None:
            async with gate:
                await job()
            bar.update()

        await asyncio.gather(*(one(job) for job in jobs))


async def provision_keys(settings: PlatformSettings | None = None) -> dict[str, str]:
    settings = settings or get_settings()
    redis = Redis.from_url(settings.redis_url)
    store = ApiKeyStore(redis, settings.api_key_pepper)
    every_region = frozenset(regions())
    keys: dict[str, str] = {}
    try:
        for department in load_json("departments.json")["departments"]:
            issued = await store.issue(
                PrincipalKind.DEPARTMENT,
                department["code"],
                department["name"],
                every_region,
                may_backfill=True,
            )
            keys[department["code"]] = issued.key
        # District branches act for their own region, and handle its pushes.
        for branch in district_branches():
            issued = await store.issue(
                PrincipalKind.DEPARTMENT,
                branch.code,
                branch.name,
                frozenset({branch.region}),
                may_backfill=True,
            )
            keys[branch.code] = issued.key
        # Partner centres answer their seat requests and their experts' confirmations.
        for partner in load_json("venues.json")["partners"]:
            if partner["kind"] == "jinan_district" or partner["code"] == "370100":
                continue
            issued = await store.issue(
                PrincipalKind.PARTNER, partner["code"], partner["name"], may_backfill=True
            )
            keys[f"partner:{partner['code']}"] = issued.key
        operator = await store.issue(PrincipalKind.OPERATOR, "demo-operator", "联席办值班员")
        keys["operator"] = operator.key
    finally:
        await redis.aclose()
    return keys


def supervisor(category: str) -> str:
    routing: dict[str, str] = load_json("departments.json")["supervision_by_category"]
    return routing.get(category, "FGW")


# ── intake ─────────────────────────────────────────────────────────────────────────────────


def planned_projects(
    rng: random.Random, count: int, remote_per_host: int = 0
) -> list[dict[str, Any]]:
    districts = rng.choices(list(DISTRICT_WEIGHTS), list(DISTRICT_WEIGHTS.values()), k=count)
    categories = rng.choices(list(CATEGORY_WEIGHTS), list(CATEGORY_WEIGHTS.values()), k=count)
    plans = [
        {"category": category, "region_code": region, "trade": category == "ASSET_DISPOSAL"}
        for region, category in zip(districts, categories, strict=True)
    ]
    # The bulletin's facts: 9 SOE property transactions, 2 of them on the platform; 钢城区's
    # first rural collective trade; an emission-rights trade in the pilot.
    for n in range(9):
        plans.append(
            {
                "category": "SOE_PROPERTY_RIGHTS",
                "region_code": "370100",
                "trade": True,
                "on_platform": n < 2,
            }
        )
    plans.append({"category": "RURAL_COLLECTIVE_PROPERTY", "region_code": GANGCHENG, "trade": True})
    plans.append({"category": "EMISSION_RIGHTS", "region_code": "370100", "trade": True})
    rng.shuffle(plans)
    # 容缺受理 for about one in ten; the first of them among the construction and procurement
    # projects (a property-rights trade's breach is its own story) always breaches (see
    # register), so the half-year shows the whole path.
    for plan in plans:
        plan["deficiency"] = rng.random() < 0.1
    deficient = [plan for plan in plans if plan["deficiency"]]
    first = next((plan for plan in deficient if not plan["trade"]), None)
    if first is not None:
        first["must_breach"] = True
    # Collusion signs in a few tenders: one of each kind in the first three (so even a short
    # demo shows each), then about one tender in thirty.
    tenders = [plan for plan in plans if plan["category"] in TENDERED]
    for plan, sign in zip(tenders, COLLUSION_SIGNS, strict=False):
        plan["collusion"] = sign
    for plan in tenders[len(COLLUSION_SIGNS) :]:
        if rng.random() < 1 / 30:
            plan["collusion"] = rng.choice(COLLUSION_SIGNS)
    # 长清区 and 济阳区 evaluate some of their tenders remotely, with partner venues: their
    # first tenders, and if they have too few, tenders moved there from other districts.
    for host in HOST_PARTNERS:
        own = [plan for plan in tenders if plan["region_code"] == host]
        movable = [plan for plan in tenders if plan["region_code"] not in HOST_PARTNERS]
        for plan in (own + movable)[:remote_per_host]:
            plan["region_code"] = host
            plan["remote_evaluation"] = True
    # A tender with a collusion sign or a remote evaluation is seen through to its award.
    for plan in tenders:
        plan["must_open"] = bool(plan.get("collusion") or plan.get("remote_evaluation"))
    return plans


async def register(
    demo: Demo, plan: dict[str, Any], n: int, rng: random.Random
) -> dict[str, Any] | None:
    category, region = plan["category"], plan["region_code"]
    department = supervisor(category)
    key_project = rng.random() < 0.15
    # Registered by the end of May, so that its story fits in the half-year; a tender mostly
    # earlier (its bids close 20 days after the announcement), one with a collusion sign early
    # enough for its award to fall in the half-year too.
    spare_days = 60 if plan.get("must_open") else 45 if category in TENDERED else 30
    if category == "SOE_PROPERTY_RIGHTS":
        spare_days = 45  # its disclosure lasts 20 working days (32号令 art. 13), about 4 weeks
    registered_at = demo.period.at(demo.period.day(rng, spare_days=spare_days), rng)
    body: dict[str, Any] = {
        "name": f"{regions()[region].name}{PROJECT_NAMES[category]}({n:04d})",
        "category": category,
        "region_code": region,
        "tenderer": {"name": f"济南某建设单位{n % 37:02d}", "credit_code": credit_code(n % 37)},
        "budget_fen": rng.randrange(500_000, 2_000_000) * 1_000,
        "key_project": key_project,
        "green_channel": key_project and rng.random() < 0.6,
        "commitment_pledged": True,
        "occurred_at": registered_at.isoformat(),
    }
    if plan["trade"]:
        # Rights and assets change hands by auction or listing (拍卖/挂牌), not by tender: their
        # 成交 follows the announcement (a tender's only its award).
        body["trading_method"] = "AUCTION" if category == "ASSET_DISPOSAL" else "LISTING"
    if plan["deficiency"]:
        body["deficiency"] = {
            "missing_documents": ["建设工程规划许可证"],
            "supplement_working_days": 5,
        }
    accepted = await demo.post(
        "register", f"{demo.args.intake}/v1/projects", demo.keys[department], body
    )
    if accepted is None:
        return None
    last_step_at = registered_at
    if "deficiency" in body:
        demo.outcome.done["deficient registration"] += 1
        # Most 容缺 registrations supply the missing document within the 5 working days; the
        # rest breach (the first always does, so the half-year shows the whole path: breach,
        # detection, push, answer), and intake's deadline watch records the breach on the day
        # after the deadline. Posted at once: the watch must not see a long-past deadline
        # still open.
        if not plan.get("must_breach") and rng.random() < 0.75:
            last_step_at = demo.period.after(registered_at, rng, (1, 4))
            await demo.post(
                "supplement",
                f"{demo.args.intake}/v1/projects/{accepted['project_id']}/supplements",
                demo.keys[department],
                {
                    "supplemented_documents": ["建设工程规划许可证"],
                    "occurred_at": last_step_at.isoformat(),
                },
            )
    project = {
        **plan,
        "n": n,
        "project_id": accepted["project_id"],
        "department": department,
        "budget_fen": body["budget_fen"],
        "tenderer": body["tenderer"],
        "tenderer_code": body["tenderer"]["credit_code"],
        "last_step_at": last_step_at,
    }
    demo.projects.append(project)
    return project


async def story(demo: Demo, plan: dict[str, Any], n: int) -> None:
    """One project from registration to its last step, posted in one go: intake's 容缺 watch
    then finds an unmet deadline only after the whole (backfilled) story is on record."""
    rng = demo.rng_for("project", n)
    project = await register(demo, plan, n, rng)
    if project is not None:
        await lifecycle(demo, project, rng)


async def lifecycle(demo: Demo, project: dict[str, Any], rng: random.Random) -> None:
    base = f"{demo.args.intake}/v1/projects/{project['project_id']}"
    key = demo.keys[project["department"]]
    period = demo.period
    last: datetime = project["last_step_at"]
    if rng.random() < 0.3 and not project["trade"]:
        last = period.after(last, rng, (1, 3))
        await demo.post(
            "pre-publication",
            f"{base}/pre-publication",
            key,
            {
                "document": evidence(f"pre {project['project_id']}"),
                "comments_close_at": (last + timedelta(days=5)).isoformat(),
                "occurred_at": last.isoformat(),
            },
        )
    if not project["trade"] and not project.get("must_open") and rng.random() > 0.85:
        return  # still being prepared
    last = period.after(last, rng, (2, 8))
    announced_at = last
    closes_at = submission_deadline(project["category"], announced_at)
    announced = await demo.post(
        "announcement",
        f"{base}/announcement",
        key,
        {
            "title": f"{project['project_id']} 公告",
            "announcement": evidence(f"ann {project['project_id']}"),
            "submission_deadline": closes_at.isoformat(),
            "opening_at": closes_at.isoformat(),  # art. 34: at the deadline
            "occurred_at": last.isoformat(),
        },
    )
    if announced is None:
        return
    relief = None
    if rng.random() < 0.25:
        last = period.after(last, rng, (1, 3))
        relief = rng.choice(["WAIVED", "REDUCED"])
        saved = rng.randrange(1, 50) * 1_000_000
        if not project["trade"]:  # a bid deposit: at most 2% of the budget (实施条例 art. 26)
            saved = min(saved, project["budget_fen"] * 2 // 100)
        await demo.post(
            "deposit-relief",
            f"{base}/deposit-relief",
            key,
            {"kind": relief, "amount_saved_fen": saved, "occurred_at": last.isoformat()},
        )
    if project["category"] in TENDERED:
        last = await tender(demo, project, rng, announced_at, since=last, relief=relief) or last
    if not project["trade"] and rng.random() < 0.12:
        await historical_deposit_refunds(demo, project, rng, last)
    if project["trade"]:
        buyer = {"name": "济南某受让企业", "credit_code": credit_code(999)}
        if project.get("on_platform", True):
            # On the platform a listing or an auction concludes with one who made an offer
            # (竞买/意向受让), made before its announced deadline.
            await offer(demo, project, buyer, since=last, closes_at=closes_at)
        # A listing or an auction concludes once its announced period is over.
        last = period.after(max(last, closes_at), rng, (0, 5))
        completed = await demo.post(
            "transaction",
            f"{base}/transaction",
            key,
            {
                "counterparty": buyer,
                "amount_fen": rng.randrange(100, 50_000) * 100_000,
                "on_platform": project.get("on_platform", True),
                "occurred_at": last.isoformat(),
            },
        )
        if completed is not None and project.get("on_platform", True):
            demo.outcome.done["deal on the platform"] += 1
    project["last_step_at"] = max(project["last_step_at"], last)  # reports come after it


def submission_deadline(category: str, announced_at: datetime) -> datetime:
    """20 days after the announcement, as a tender's bidding period (招标投标法 art. 24); a
    state-owned property right's disclosure lasts 20 working days (企业国有资产交易监督管理办法
    art. 13), counted with the platform's working-day calendar."""
    if category != "SOE_PROPERTY_RIGHTS":
        return announced_at + timedelta(days=20)
    announced_on = announced_at.astimezone(CHINA).date()
    return announced_at + (add_working_days(announced_on, 20) - announced_on)


async def offer(
    demo: Demo,
    project: dict[str, Any],
    buyer: dict[str, str],
    *,
    since: datetime,
    closes_at: datetime,
) -> None:
    """The buyer's offer in the trade's one section, halfway to its deadline: no deposit on
    record (no account to name), and a file of its own (no collusion sign)."""
    await demo.post(
        "offer",
        f"{demo.args.intake}/v1/projects/{project['project_id']}/bids",
        demo.keys[project["department"]],
        {
            "bidder": buyer,
            "bid_section_code": "001",
            "bid_price_fen": project["budget_fen"],
            "fingerprint": fingerprint(project, 0),
            "deposit_fen": 0,
            "occurred_at": (since + (closes_at - since) / 2).isoformat(),
        },
    )


def bidder(k: int) -> dict[str, str]:
    return {"name": f"山东某建设工程有限公司{k:02d}", "credit_code": credit_code(2_000 + k)}


def fingerprint(project: dict[str, Any], k: int) -> dict[str, str]:
    """The bid file's fingerprint (CPU, disk, MAC, IP, document MD5): each bid's its own."""
    n = project["n"]
    return {
        "cpu_id": f"BFEBFBFF{n:06X}{k:02X}",
        "disk_serial": f"WD-WCC{n:06d}{k:02d}",
        "mac_address": f"3C:7C:3F:{n >> 8 & 255:02X}:{n & 255:02X}:{k:02X}",
        "ip_address": f"10.{n >> 8 & 255}.{n & 255}.{k + 10}",
        "document_md5": hashlib.md5(f"{project['project_id']}:{k}".encode()).hexdigest(),
    }


def bid_origin(
    project: dict[str, Any], k: int, sign: str | None, shares_with: int | None
) -> tuple[dict[str, str], str]:
    """Bidder ``k``'s file fingerprint and deposit account, its own unless it shares ``sign``
    (a fingerprint component, or the deposit account) with bidder ``shares_with``."""

    def account(of: int) -> str:
        return f"3700161880105{project['n']:05d}{of:02d}"

    origin = fingerprint(project, k)
    if shares_with is None or sign is None:
        return origin, account(k)
    if sign == "deposit_account":
        return origin, account(shares_with)
    return {**origin, sign: fingerprint(project, shares_with)[sign]}, account(k)


def bid_prices(budget_fen: int, count: int, rng: random.Random) -> list[int]:
    """Ascending prices under the budget, the winner's 2-6 % below the runner-up's (never an
    outlier of R024's kind) and no regular pattern between them (PRT-PRC-001)."""
    prices = [budget_fen * rng.uniform(0.80, 0.92)]
    prices.append(prices[0] * (1 + rng.uniform(0.02, 0.06)))
    while len(prices) < count:
        prices.append(prices[-1] * (1 + rng.uniform(0.005, 0.03)))
    return [round(price / 100) * 100 for price in prices]  # to the yuan


async def tender(
    demo: Demo,
    project: dict[str, Any],
    rng: random.Random,
    announced_at: datetime,
    *,
    since: datetime,
    relief: str | None,
) -> datetime | None:
    """The tender of the project's one section after its announcement: the bids (one in twelve
    tenders draws only two, and fails: 流标), their opening at the deadline, the committee's
    evaluation, three days' publicity of the candidates and the award to the first. Posted only
    when the award falls in the half-year: a later tender goes on in the next one. Returns the
    last step's time."""
    period, key = demo.period, demo.keys[project["department"]]
    base = f"{demo.args.intake}/v1/projects/{project['project_id']}"
    deadline = announced_at + timedelta(days=20)  # as announced (招标投标法 art. 24)
    if (deadline + timedelta(days=8)).astimezone(CHINA).date() > period.last_day:
        return None
    sign = project.get("collusion")
    if sign == "deposit_account" and relief == "WAIVED":
        sign = None  # no deposit paid, so none from one account (PRT-DEP-001 needs money moved)
    count = rng.randint(3, 6) if project["must_open"] or rng.random() >= 1 / 12 else 2
    bidders = [(k, bidder(k)) for k in rng.sample(range(BIDDER_POOL), count)]
    prices = bid_prices(project["budget_fen"], count, rng)
    deposit = 0 if relief == "WAIVED" else min(project["budget_fen"] * 2 // 100, 80_000_000)
    # Bids arrive between the last step (announcement or deposit relief) and the deadline.
    times = sorted(since + (deadline - since) * rng.uniform(0.05, 0.95) for _ in bidders)
    accepted: list[int] = []
    for index, (k, party) in enumerate(bidders):
        # The second bidder shares the first's sign, if the tender has one.
        shares = bidders[0][0] if sign and index == 1 else None
        bid_fingerprint, account = bid_origin(project, k, sign, shares)
        submitted = await demo.post(
            "bid",
            f"{base}/bids",
            key,
            {
                "bidder": party,
                "bid_section_code": "001",
                "bid_price_fen": prices[index],
                "fingerprint": bid_fingerprint,
                "deposit_account": account,
                "deposit_fen": deposit,
                "occurred_at": times[index].isoformat(),
            },
        )
        if submitted is not None:
            accepted.append(index)
    if sign and {0, 1} <= set(accepted):
        demo.outcome.done[f"collusion sign planted: {sign}"] += 1
    project["bidders"] = [bidders[i][1] for i in accepted]  # whom a report may name
    if len(accepted) < 3:
        await demo.post(
            "failed tender",
            f"{base}/termination",
            key,
            {
                "bid_section_code": "001",
                "reason": "FAILED_TENDER",
                "explanation": f"投标人{len(accepted)}个,少于3个,依法不得开标,招标人将重新招标",
                "occurred_at": deadline.isoformat(),
            },
        )
        return deadline
    opened = await demo.post(
        "bid opening",
        f"{base}/bid-opening",
        key,
        {"bid_section_code": "001", "occurred_at": deadline.isoformat()},
    )
    if opened is None:
        return deadline
    # Now and then the committee rules out one bid of five or more (well under R038's half).
    ruled_out = {rng.choice(accepted)} if len(accepted) >= 5 and rng.random() < 0.3 else set()
    evaluated_at = deadline + timedelta(hours=rng.uniform(2, 6))
    evaluation_id = ""
    if project.get("remote_evaluation"):
        # Whoever bid, and the tenderer, are avoided units for the experts' employers.
        avoided = [bidders[i][1]["credit_code"] for i in accepted] + [project["tenderer_code"]]
        evaluation_id = await remote_evaluation(demo, project, deadline, avoided) or ""
    evaluated = await demo.post(
        "evaluation",
        f"{base}/evaluation",
        key,
        {
            "bid_section_code": "001",
            "evaluation_id": evaluation_id,
            "disqualifications": [
                {
                    "bidder_code": bidders[i][1]["credit_code"],
                    "reason": "未按招标文件要求提供项目负责人资格证明",
                }
                for i in sorted(ruled_out)
            ],
            "report": evidence(f"evaluation {project['project_id']}"),
            "occurred_at": evaluated_at.isoformat(),
        },
    )
    if evaluated is None:
        return evaluated_at
    ranked = [i for i in accepted if i not in ruled_out][:3]  # ascending price
    publicised_at = evaluated_at + timedelta(days=1)
    publicity_ends_at = publicised_at + timedelta(days=3, hours=1)
    publicised = await demo.post(
        "candidates",
        f"{base}/candidates",
        key,
        {
            "bid_section_code": "001",
            "candidates": [
                {"rank": rank, "bidder": bidders[i][1], "bid_price_fen": prices[i]}
                for rank, i in enumerate(ranked, 1)
            ],
            "publicity_ends_at": publicity_ends_at.isoformat(),
            "occurred_at": publicised_at.isoformat(),
        },
    )
    if publicised is None:
        return publicised_at
    awarded_at = publicity_ends_at + timedelta(hours=rng.uniform(1, 30))
    winner = ranked[0]
    awarded = await demo.post(
        "award",
        f"{base}/award",
        key,
        {
            "bid_section_code": "001",
            "winner": bidders[winner][1],
            "amount_fen": prices[winner],
            "occurred_at": awarded_at.isoformat(),
        },
    )
    if awarded is not None:
        demo.outcome.done["deal on the platform"] += 1
        project["winner"] = bidders[winner][1]
    return awarded_at


async def historical_deposit_refunds(
    demo: Demo, project: dict[str, Any], rng: random.Random, after: datetime
) -> None:
    """清理历史沉淀保证金: deposits a bidder paid years ago and never got back, refunded."""
    key = demo.keys[project["department"]]
    at = after + timedelta(days=rng.randint(1, 5), hours=rng.randint(0, 6))
    if at.astimezone(CHINA).date() > demo.period.last_day:
        return
    for _ in range(rng.randint(1, 2)):
        paid = datetime(
            demo.period.year - rng.randint(2, 4), rng.randint(1, 12), 15, 10, tzinfo=CHINA
        )
        await demo.post(
            "historical deposit refund",
            f"{demo.args.intake}/v1/projects/{project['project_id']}/historical-deposit-refunds",
            key,
            {
                "payee": bidder(rng.randrange(BIDDER_POOL)),
                "amount_fen": rng.randrange(5, 80) * 1_000_000,
                "paid_at": paid.isoformat(),
                "occurred_at": at.isoformat(),
            },
        )


async def large_amount_records(demo: Demo, total: int) -> None:
    """Pull the records of the three platform levels, as 市发展改革委 did for 纳统."""
    rng = demo.rng
    shares = {"PROVINCIAL": 0.25, "CITY": 0.4, "COUNTY": 0.35}
    run = uuid.uuid4().hex[:6].upper()
    period = demo.period
    with tqdm(total=total, desc="大额交易项目信息", unit="record") as bar:
        for level, share in shares.items():
            count = round(total * share)
            lines = []
            for n in range(count):
                region = rng.choice(list(DISTRICT_WEIGHTS))
                lines.append(
                    json.dumps(
                        {
                            "unified_deal_code": f"DEMO-{run}-{level}-{n:05d}",
                            "name": f"{regions()[region].name}大额交易项目{n:05d}",
                            "category": rng.choice(list(CATEGORY_WEIGHTS)),
                            "region_code": region,
                            # 5 million to 500 million yuan: 大额 trades, not whole budgets.
                            "amount_fen": rng.randrange(500, 50_000) * 1_000_000,
                            # Deals of the year before the pull (纳统 of recent trades).
                            "deal_at": (
                                period.at(period.first_day, rng)
                                - timedelta(days=rng.randrange(1, 360))
                            ).isoformat(),
                            "tenderer_name": "济南某建设单位",
                            "tenderer_credit_code": credit_code(n % 37),
                        },
                        ensure_ascii=False,
                    )
                )
            # One pull per level, each on its own day of the half-year.
            pulled_at = period.at(period.day(rng, spare_days=7), rng)
            response = await demo.client.post(
                f"{demo.args.intake}/v1/large-amount-records/imports",
                params={"source_level": level.lower(), "occurred_at": pulled_at.isoformat()},
                content="\n".join(lines).encode(),
                headers={
                    "X-API-Key": demo.keys["FGW"],
                    "Idempotency-Key": str(uuid.uuid4()),
                    "Content-Type": "application/x-ndjson",
                },
                timeout=300,
            )
            if response.status_code >= 300:
                demo.outcome.refuse("large-amount import", response)
            else:
                report = response.json()
                demo.outcome.done["large-amount records"] += report["imported"]
                if report["duplicates"] or report["rejected"]:
                    demo.outcome.pending.append(
                        f"{level} pull: {report['duplicates']} duplicates, "
                        f"{report['rejected']} rejected lines"
                    )
            bar.update(count)


# ── abnormal-behaviour push ────────────────────────────────────────────────────────────────


def report_subjects(project: dict[str, Any], behaviour: str, n: int) -> list[dict[str, str]]:
    """Whom a report on ``project`` names for ``behaviour``: the winner who walked away, two
    bidders for collusion, the tenderer for discriminatory terms, else a bidder of the tender
    (or, for a project never bid for, a bidder of an earlier tender of its own)."""
    bidders: list[dict[str, str]] = project.get("bidders", [])
    if behaviour == "AWARD_ABANDONED" and "winner" in project:
        named = [project["winner"]]
    elif behaviour.startswith("COLLUSION") and len(bidders) >= 2:
        named = bidders[:2]
    elif behaviour == "DISCRIMINATORY_TERMS":
        return [{"kind": "TENDERER", **project["tenderer"]}]
    else:
        named = bidders[:1] or [{"name": f"某投标人{n}", "credit_code": credit_code(500 + n)}]
    return [{"kind": "BIDDER", **party} for party in named]


async def abnormal_reports(demo: Demo, count: int) -> None:
    """The trading centre reports abnormal behaviour it found in some projects, days after the
    project's last step."""
    rng = demo.rng
    targets = rng.sample(demo.projects, min(count, len(demo.projects)))

    def report(project: dict[str, Any], n: int) -> Callable[[], Awaitable[None]]:
        rng = demo.rng_for("report", n)

        async def job() -> None:
            reported_at = demo.period.after(project["last_step_at"], rng, (1, 10))
            behaviour = rng.choice(BEHAVIOURS)
            filed = await demo.post(
                "abnormal report",
                f"{demo.args.abnormal}/v1/reports",
                demo.keys["JYZX"],
                {
                    "subjects": report_subjects(project, behaviour, n),
                    "project_id": project["project_id"],
                    "project_category": project["category"],
                    "region_code": project["region_code"],
                    "behaviour_type": behaviour,
                    "severity": rng.choice(["LOW", "MEDIUM", "HIGH"]),
                    "description": "评标过程中发现的异常行为(演示数据)",
                    "act_at": (reported_at - timedelta(hours=rng.randint(2, 48))).isoformat(),
                    "occurred_at": reported_at.isoformat(),
                },
            )
            if filed is not None:
                demo.report_ids.add(filed["report_id"])

        return job

    await run_all("异常行为信息报送", [report(p, n) for n, p in enumerate(targets)], 8)


def _answer_time(
    rng: random.Random, after: datetime, due: str | None, on_time_share: float
) -> datetime:
    """When a department acted: before the deadline ``due`` mostly, a few days late otherwise."""
    if due is None:
        return after + timedelta(hours=rng.randint(1, 48))
    deadline = datetime.fromisoformat(due)
    if rng.random() < on_time_share and deadline > after:
        return after + (deadline - after) * rng.uniform(0.1, 0.95)
    return deadline + timedelta(days=rng.randint(1, 5), hours=rng.randint(0, 8))


async def handle_pushes(demo: Demo) -> None:
    """Each supervising department opens its inbox, signs for its pushes — the demo's reports
    and those the platform detected (容缺 breaches, collusion signals) — most within the
    sign-for limit, and answers most with the measure taken, a few after the deadline."""
    rng = demo.rng
    if not demo.report_ids:
        return
    signed: list[tuple[int, dict[str, Any], str, datetime]] = []

    def sign(push: dict[str, Any], key: str, n: int) -> Callable[[], Awaitable[None]]:
        rng = demo.rng_for("sign-for", n)

        async def job() -> None:
            routed_at = datetime.fromisoformat(push["routed_at"])
            at = _answer_time(rng, routed_at, push.get("sign_for_due"), 0.9)
            url = f"{demo.args.abnormal}/v1/pushes/{push['push_id']}/sign-for"
            if await demo.post("sign-for", url, key, {"occurred_at": at.isoformat()}) is not None:
                signed.append((n, push, key, at))

        return job

    def answer(
        push: dict[str, Any], key: str, signed_at: datetime, n: int
    ) -> Callable[[], Awaitable[None]]:
        rng = demo.rng_for("feedback", n)

        async def job() -> None:
            at = _answer_time(rng, signed_at, push.get("feedback_due"), 0.85)
            # The sign-for was accepted (202); the push shows it once the push service's
            # worker has applied it, and feedback is refused before that.
            url = f"{demo.args.abnormal}/v1/pushes/{push['push_id']}"
            for _ in range(120):
                shown = await demo.client.get(url, headers={"X-API-Key": key})
                if shown.status_code == 200 and shown.json()["status"] != "ROUTED":
                    break
                await asyncio.sleep(0.25)
            await demo.post(
                "feedback",
                f"{demo.args.abnormal}/v1/pushes/{push['push_id']}/feedback",
                key,
                {
                    "result": rng.choice(["PENALISED", "INTERVIEWED", "NO_ACTION"]),
                    "result_text": "已核查处理(演示数据)",
                    "occurred_at": at.isoformat(),
                },
            )

        return job

    # abnormal_push's router pushes each report to its handler within moments. Detection files
    # a report of its own for each 容缺 breach, once intake's deadline watch has found it
    # (PRT_INTAKE_DEADLINE_CHECK_INTERVAL_S): wait for the demo's reports and for those.
    done = demo.outcome.done
    # Detection also files one for each collusion sign planted in the bids, as the bids arrive.
    detected_expected = done["deficient registration"] - done["supplement"]
    detected_expected += sum(done[f"collusion sign planted: {sign}"] for sign in COLLUSION_SIGNS)
    deadline = asyncio.get_running_loop().time() + demo.args.routing_wait_s
    while True:
        routed = await _routed_pushes(demo)
        reached = {push["report_id"] for push, _ in routed}
        detected = reached - demo.report_ids
        if reached >= demo.report_ids and len(detected) >= detected_expected:
            break
        if asyncio.get_running_loop().time() > deadline:
            demo.outcome.pending.append(
                f"{len(detected)} of at least {detected_expected} detected reports "
                "reached a handler"
            )
            break
        await asyncio.sleep(1)
    if missing := len(demo.report_ids - reached):
        demo.outcome.pending.append(f"{missing} reports reached no handler's inbox in time")
    demo.outcome.done["detected report in a handler's inbox"] += len(reached - demo.report_ids)
    # In an order of their own, not the inboxes': the same seed signs for the same pushes.
    routed.sort(key=lambda found: (found[0]["routed_at"], found[0].get("report_id", "")))
    await run_all(
        "签收",
        [sign(push, key, n) for n, (push, key) in enumerate(routed) if rng.random() < 0.9],
        8,
    )
    signed.sort(key=lambda each: each[0])
    # Feedback follows at once: the push service treats steps of backfilled history that arrive
    # together as one migration (see PRT_ABNORMAL_PUSH_BACKFILL_SETTLE_S).
    await run_all(
        "处理结果反馈",
        [answer(p, k, at, n) for n, p, k, at in signed if rng.random() < 0.8],
        8,
    )


async def _inbox(demo: Demo, key: str) -> list[dict[str, Any]]:
    """Every push routed to the key's department in the period and not yet signed for."""
    pushes: list[dict[str, Any]] = []
    params: dict[str, Any] = {
        "status": "ROUTED",
        "limit": 500,
        "since": demo.period.start.isoformat(),
    }
    while True:
        response = await demo.client.get(
            f"{demo.args.abnormal}/v1/pushes", params=params, headers={"X-API-Key": key}
        )
        if response.status_code != 200:
            demo.outcome.refuse("push inbox", response)
            return pushes
        pushes.extend(response.json())
        cursor = response.headers.get("X-Next-Cursor")
        if cursor is None:
            return pushes
        params["cursor"] = cursor


async def _routed_pushes(demo: Demo) -> list[tuple[dict[str, Any], str]]:
    """The pushes waiting in their handlers' inboxes in the period, with the handler's key."""
    found: list[tuple[dict[str, Any], str]] = []
    for department, key in demo.keys.items():
        if department == "operator" or department.startswith("partner:"):
            continue
        for push in await _inbox(demo, key):
            if push.get("role") == "HANDLER":
                found.append((push, key))
    return found


# ── remote evaluation ──────────────────────────────────────────────────────────────────────


# Each host district's partner regions first, then a Yellow River city (venues.json).
HOST_PARTNERS = {CHANGQING: ["370983", "371425", "371524", "370900"], JIYANG: ["371425", "371626"]}
TECHNICAL, ECONOMIC = "A01", "B01"


def _employer_code(n: int) -> str:
    return credit_code(10_000 + n)


async def expert_pools(demo: Demo) -> None:
    """Each host district and partner registers a pool of pseudonymous experts (the name,
    phone and ID number are sealed by remote evaluation and shown only at check-in)."""
    pools = sorted({*HOST_PARTNERS, *(c for codes in HOST_PARTNERS.values() for c in codes)})

    def expert(pool: str, kind: str, specialty: str, n: int) -> Callable[[], Awaitable[None]]:
        async def job() -> None:
            await demo.post(
                "expert",
                f"{demo.args.remote_eval}/v1/experts",
                demo.keys["operator"],
                {
                    "pool_code": pool,
                    "kind": kind,
                    "specialties": [specialty],
                    "employer_code": _employer_code(n),
                    "name": f"演示专家{n:03d}",
                    "phone": f"1380000{n:04d}",
                    "id_number": f"37010219700101{n % 1000:03d}X",
                },
            )

        return job

    jobs = []
    n = 0
    for pool in pools:
        for kind, specialty, count in (("TECHNICAL", TECHNICAL, 8), ("ECONOMIC", ECONOMIC, 4)):
            for _ in range(count):
                n += 1
                jobs.append(expert(pool, kind, specialty, n))
    await run_all("评标专家库", jobs, 8)


async def venue_directory(demo: Demo) -> None:
    """The shared directory of evaluation venues, by owner (the host districts' own first)."""
    response = await demo.client.get(
        f"{demo.args.remote_eval}/v1/venues", headers={"X-API-Key": demo.keys["operator"]}
    )
    if response.status_code != 200:
        demo.outcome.refuse("venue directory", response)
        return
    for venue in response.json():
        demo.venues.setdefault(venue["owner_code"], venue)


async def remote_evaluation(
    demo: Demo, project: dict[str, Any], opening_at: datetime, avoided: list[str]
) -> str | None:
    """The host district (长清区 or 济阳区) asks, days before the opening, for the tender's
    evaluation at its own venue on the opening's half-day, with seats at partner venues; the
    partners accept their seat requests and the drawn experts confirm, each answer given with
    the partner's own key. The evaluation's id, once scheduled (None otherwise)."""
    host = project["region_code"]
    venue = demo.venues.get(host)
    if venue is None:
        demo.outcome.pending.append(f"no venue of {host} in remote_eval's directory")
        return None
    rng = demo.rng_for("evaluation", project["n"])
    base = f"{demo.args.remote_eval}/v1/evaluations"
    host_key = demo.keys["JYZX"]
    requested = opening_at - timedelta(days=rng.randint(4, 8), hours=rng.randint(0, 6))
    local = opening_at.astimezone(CHINA)
    slot = {"date": local.date().isoformat(), "half_day": "AM" if local.hour < 12 else "PM"}
    await demo.post(
        "venue capacity",
        f"{demo.args.remote_eval}/v1/venues/{venue['venue_id']}/capacity",
        host_key,
        {
            "slot": slot,
            "seats": venue["default_seats"],
            "fee_fen": venue["fee_fen"],
            "occurred_at": (requested - timedelta(hours=2)).isoformat(),
        },
    )
    created = await demo.post(
        "evaluation request",
        base,
        host_key,
        {
            "project_id": project["project_id"],
            "bid_section_code": "001",
            "slot": slot,
            "committee_size": 5,
            "specialties": [
                {"specialty_code": TECHNICAL, "kind": "TECHNICAL", "count": 3},
                {"specialty_code": ECONOMIC, "kind": "ECONOMIC", "count": 1},
            ],
            "main_venue_id": venue["venue_id"],
            "preferred_partner_codes": HOST_PARTNERS[host],
            "avoided_unit_codes": avoided,
            "occurred_at": requested.isoformat(),
        },
    )
    if created is None:
        return None
    evaluation = await _scheduled(demo, created["evaluation_id"], host_key)
    if evaluation is None:
        return None
    answered = requested + timedelta(hours=rng.randint(1, 20))
    evaluation_url = f"{base}/{created['evaluation_id']}"
    served: set[str] = set()
    for allocation in evaluation["allocations"]:
        if allocation["role"] == "SECONDARY":
            accepted = await demo.post(
                "partner seat accepted",
                f"{evaluation_url}/venue-decisions",
                demo.keys[f"partner:{allocation['partner_code']}"],
                {
                    "venue_id": allocation["venue_id"],
                    "decision": "ACCEPTED",
                    "occurred_at": answered.isoformat(),
                },
            )
            if accepted is not None:
                served.add(allocation["partner_code"])
    # What the bulletin will state: each partner that served counts once per evaluation.
    demo.outcome.done["evaluation served"] += len(served)
    for member in evaluation["committee"]:
        pool = member["pool_partner_code"]
        confirmed = await demo.post(
            "expert confirmed",
            f"{evaluation_url}/experts/{member['expert_pseudonym']}/answer",
            host_key if pool in HOST_PARTNERS else demo.keys[f"partner:{pool}"],
            {"confirmed": True, "occurred_at": answered.isoformat()},
        )
        if confirmed is not None and pool != venue["owner_code"]:
            demo.outcome.done["expert shared"] += 1
    evaluation_id: str = created["evaluation_id"]
    # The answers were accepted (202); the award that follows unseals the committee, after
    # which remote evaluation takes no more answers: wait until it has applied them.
    await _answers_applied(demo, evaluation_url, host_key, len(served))
    return evaluation_id


async def _answers_applied(demo: Demo, url: str, key: str, partners: int) -> None:
    for _ in range(240):
        response = await demo.client.get(url, headers={"X-API-Key": key})
        if response.status_code == 200:
            shown = response.json()
            decided = [a for a in shown["allocations"] if a.get("decision")]
            confirmed = [m for m in shown["committee"] if m["status"] == "confirmed"]
            if len(decided) >= partners and len(confirmed) == len(shown["committee"]):
                return
        await asyncio.sleep(0.25)
    demo.outcome.pending.append(f"answers to {url} not applied within 60 s")


async def _scheduled(demo: Demo, evaluation_id: str, key: str) -> dict[str, Any] | None:
    """The evaluation once remote evaluation's scheduler has planned it (None if it failed)."""
    url = f"{demo.args.remote_eval}/v1/evaluations/{evaluation_id}"
    for _ in range(240):
        response = await demo.client.get(url, headers={"X-API-Key": key})
        if response.status_code == 200 and response.json().get("status") != "requested":
            shown: dict[str, Any] = response.json()
            if shown["status"] == "scheduled":
                return shown
            demo.outcome.pending.append(f"evaluation {evaluation_id} not scheduled: {shown}")
            return None
        await asyncio.sleep(0.25)
    demo.outcome.pending.append(f"evaluation {evaluation_id} not scheduled within 60 s")
    return None


async def registrations_in(client: httpx.AsyncClient, args: argparse.Namespace, key: str) -> int:
    """Registrations the platform already counts in the period (0 when reporting is silent)."""
    response = await client.get(
        f"{args.reporting}/v1/metrics",
        params={"metric": "registrations", "by": "", "period": str(args.period)},
        headers={"X-API-Key": key},
    )
    if response.status_code != 200:
        return 0
    return sum(int(c["value"]) for c in response.json()["counters"])


async def run(args: argparse.Namespace, keys: dict[str, str]) -> Outcome | None:
    """Replays the half-year through the APIs; None when the period already holds data and
    ``--again`` was not given (``make up`` on a stack that kept its data must not double it)."""
    rng = random.Random(args.seed)
    async with httpx.AsyncClient(timeout=30) as client:
        already = await registrations_in(client, args, keys["operator"])
        if already and not args.again:
            print(
                f"{args.period} already holds {already} registrations: the demo is loaded "
                "(pass --again to replay it once more)."
            )
            return None
        demo = Demo(client, args, keys, rng)
        # The expert pools and venues first: the tenders of 长清区 and 济阳区 book them.
        await expert_pools(demo)
        await venue_directory(demo)
        plans = planned_projects(rng, args.projects, args.evaluations)
        await run_all(
            "进场登记与交易", [partial(story, demo, p, n) for n, p in enumerate(plans)], 16
        )
        demo.projects.sort(key=lambda project: project["n"])  # in plan order, not finish order
        await large_amount_records(demo, args.large_amount_records)
        await abnormal_reports(demo, args.reports)
        await handle_pushes(demo)
    return demo.outcome


async def main(args: argparse.Namespace) -> int:
    keys = await provision_keys()
    outcome = await run(args, keys)
    if outcome is not None:
        print("\n演示数据 (demo half-year) — done by step:", dict(outcome.done))
        for note in outcome.pending:
            print("pending:", note)
        if outcome.refused:
            print("refused by step:", dict(outcome.refused))
            for step, sample in outcome.samples.items():
                print(f"  {step}: {sample}")
    period = args.period
    print(
        f"\nDashboard: {args.reporting}/dashboard#key={keys['operator']}\n"
        f"Bulletin : {args.reporting}/v1/bulletins/{period}?format=docx "
        f"(header X-API-Key: {keys['operator']})\n"
        f"           {args.reporting}/v1/bulletins/{period}?format=markdown"
    )
    return 0


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--intake", default="http://127.0.0.1:8101")
    parser.add_argument("--abnormal", default="http://127.0.0.1:8102")
    parser.add_argument("--remote-eval", dest="remote_eval", default="http://127.0.0.1:8103")
    parser.add_argument("--reporting", default="http://127.0.0.1:8104")
    parser.add_argument("--projects", type=int, default=400)
    parser.add_argument("--large-amount-records", type=int, default=2230)
    parser.add_argument("--reports", type=int, default=24)
    parser.add_argument("--evaluations", type=int, default=6, help="per host district")
    parser.add_argument("--seed", type=int, default=2023)
    parser.add_argument(
        "--period",
        type=HalfYear.parse,
        default=HalfYear(2023, 1),
        help="the half-year the demo replays, e.g. 2023-H1 (every act is dated inside it)",
    )
    parser.add_argument(
        "--again", action="store_true", help="replay even if the period already holds data"
    )
    parser.add_argument("--routing-wait-s", dest="routing_wait_s", type=float, default=90.0)
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse())))
