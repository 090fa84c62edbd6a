"""Builders of domain objects for abnormal push's unit tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.abnormal_push.domain.detection.model import (
    Bid,
    Fingerprint,
    Organisation,
    ProjectFacts,
)
from services.abnormal_push.domain.reports import (
    AbnormalReport,
    BehaviourType,
    ReportSource,
    Severity,
    Subject,
    SubjectKind,
)
from services.platform_core.credit_code import check_character

T0 = datetime(2024, 9, 20, 2, 0, tzinfo=UTC)


def credit_code(serial: int) -> str:
    first_17 = f"91370100MA{serial:07d}"
    return first_17 + check_character(first_17)


def org(serial: int) -> Organisation:
    return Organisation(credit_code(serial), f"投标人{serial}有限公司")


def report(
    category: str = "HOUSING",
    *,
    crime: bool = False,
    misconduct: bool = False,
    funds: bool = False,
    severity: Severity = Severity.MEDIUM,
    region: str = "",
) -> AbnormalReport:
    return AbnormalReport(
        report_id="r-1",
        filed_at=T0,
        reporting_department="JYZX",
        source=ReportSource.MANUAL,
        subjects=(Subject(SubjectKind.BIDDER, credit_code=credit_code(1), name="甲公司"),),
        project_id="p-1",
        bid_section_code="S1",
        project_category=category,
        behaviour_type=BehaviourType.OTHER,
        severity=severity,
        description="现场发现异常",
        evidence=(),
        act_at=T0 - timedelta(hours=1),
        suspected_crime=crime,
        suspected_official_misconduct=misconduct,
        suspected_misuse_of_funds=funds,
        region_code=region,
    )


PROJECT = ProjectFacts(
    project_id="p-1",
    name="某小区改造工程",
    category="HOUSING",
    trading_method="OPEN_TENDER",
    tenderer=Organisation(credit_code(900), "某区住建局"),
)


def bid(
    serial: int,
    *,
    mac: str = "",
    ip: str = "",
    md5: str = "",
    cpu: str = "",
    disk: str = "",
    account: str = "",
    price: int = 0,
    event_id: str = "",
) -> Bid:
    return Bid(
        event_id=event_id or f"e-bid-{serial}",
        bidder=org(serial),
        bid_section_code="S1",
        # Irregular by default (squares): equal steps would be a collusion signal.
        bid_price_fen=price or 100_000_000 + serial * serial * 12_345,
        fingerprint=Fingerprint(
            cpu,
            disk,
            mac or f"02:00:00:00:00:{serial:02X}",
            ip or f"10.0.0.{serial}",
            md5 or f"{serial:032x}",
        ),
        deposit_account=account or f"6222 0000 0000 {serial:04d}",
        submitted_at=T0 + timedelta(minutes=serial),
    )
