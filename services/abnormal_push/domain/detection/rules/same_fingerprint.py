"""PRT-FP-001: one fingerprint component (CPU id, disk serial, MAC, IP, document MD5) in the
bids of different bidders on one section means the files were made on one machine."""

from __future__ import annotations

from collections.abc import Sequence

from services.abnormal_push.domain.detection.grouping import shared_value_findings
from services.abnormal_push.domain.detection.model import (
    Bid,
    BidSubmittedTrigger,
    Outcome,
    RuleDefinition,
    Trigger,
)


def _normalise(component: str, value: str) -> str:
    value = value.strip()
    if component == "mac_address":
        return value.upper().replace("-", ":")
    if component == "document_md5":
        return value.lower()
    return value


class SameFingerprint:
    def __init__(self, definition: RuleDefinition) -> None:
        self.definition = definition
        self._components: tuple[str, ...] = tuple(definition.parameters["components"])
        self._ignored = frozenset(
            _normalise(c, v)
            for c in self._components
            for v in definition.parameters.get("ignored_values", [])
        )

    def evaluate(self, trigger: Trigger) -> Sequence[Outcome]:
        if not isinstance(trigger, BidSubmittedTrigger):
            return []
        findings: list[Outcome] = []
        for component in self._components:

            def value_of(bid: Bid, component: str = component) -> str:
                value = _normalise(component, getattr(bid.fingerprint, component))
                return "" if value in self._ignored else value

            def describe(value: str, bids: Sequence[Bid], component: str = component) -> str:
                names = "、".join(b.bidder.name or b.bidder.credit_code for b in bids)
                return (
                    f"标段 {trigger.section_code} 的 {len(bids)} 家不同投标人 ({names}) "
                    f"的投标文件指纹 {component} 相同: {value}"
                )

            findings.extend(
                shared_value_findings(self.definition, trigger, value_of, component, describe)
            )
        return findings


RULE = SameFingerprint(RuleDefinition.load(__file__))
