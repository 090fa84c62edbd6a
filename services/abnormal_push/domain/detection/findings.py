"""A rule's finding becomes a detected report, filed by the trading centre's platform."""

from __future__ import annotations

from datetime import datetime

from services.abnormal_push.domain.detection.model import Finding
from services.abnormal_push.domain.reports import AbnormalReport, DetectionTrail, ReportSource


def report_from_finding(
    finding: Finding, detecting_department: str, filed_at: datetime
) -> AbnormalReport:
    definition = finding.definition
    return AbnormalReport(
        report_id=finding.report_id,
        filed_at=filed_at,
        reporting_department=detecting_department,
        source=ReportSource.DETECTED,
        subjects=finding.subjects,
        project_id=finding.project.project_id,
        bid_section_code=finding.bid_section_code,
        project_category=finding.project.category,
        region_code=finding.project.region_code,
        behaviour_type=definition.behaviour_type,
        severity=definition.severity,
        description=f"[{definition.rule_id}] {finding.description}",
        evidence=(),
        act_at=min(finding.act_at, filed_at),
        detection=DetectionTrail(
            rule_id=definition.rule_id,
            rule_version=definition.version,
            rule_name=definition.name,
            legal_basis=definition.legal_basis,
            source_event_ids=finding.source_event_ids,
            evidence_values=finding.evidence_values,
        ),
    )
