"""PRT-FP-001: the bid files of different bidders on one section were made on one machine
(实施条例 art. 40(一): 投标文件由同一单位或者个人编制; 政府采购: 87号令 art. 37(一)).

A disk serial, a MAC address or the document's MD5 shared across bidders ties them together.
A CPU id does not (a Windows ProcessorId is the same on every machine of one CPU model), nor an
IP address (a LAN address is on thousands of networks; a public one is shared by an office
building or a carrier's NAT, and the bid hall's by every bidder uploading there): they are
reported as supporting evidence of a group the decisive components formed, never alone.
Private, loopback, link-local, reserved addresses and the bid hall's networks are not compared.
One report per group of bidders, with every component they share (``bidder_group_findings``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence

from services.abnormal_push.domain.detection.grouping import (
    SharedComponent,
    bidder_group_findings,
)
from services.abnormal_push.domain.detection.model import (
    Bid,
    BidSubmittedTrigger,
    Outcome,
    RuleDefinition,
    Trigger,
)
from services.abnormal_push.domain.errors import RuleDataError

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _normalise(component: str, value: str) -> str:
    value = value.strip()
    if component == "mac_address":
        return value.upper().replace("-", ":")
    if component == "document_md5":
        return value.lower()
    return value


def comparable_ip(value: str, bid_hall: Sequence[IpNetwork]) -> str:
    """The address as compared, or "" when it tells nothing of who made the file: not an
    address, not globally routable (private, loopback, link-local, carrier NAT, reserved) or
    the bid hall's."""
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return ""
    if not address.is_global or any(address in network for network in bid_hall):
        return ""
    return str(address)


class SameFingerprint:
    def __init__(self, definition: RuleDefinition) -> None:
        self.definition = definition
        parameters = definition.parameters
        decisive = tuple(parameters["decisive_components"])
        supporting = tuple(parameters["supporting_components"])
        self._ignored = frozenset(
            _normalise(component, value)
            for component in (*decisive, *supporting)
            for value in parameters.get("ignored_values", [])
        )
        try:
            self._bid_hall = tuple(
                ipaddress.ip_network(network, strict=False)
                for network in parameters.get("bid_hall_networks", [])
            )
        except ValueError as exc:
            raise RuleDataError(f"{definition.rule_id} bid_hall_networks: {exc}") from exc
        self._components = tuple(
            SharedComponent(name, self._value_of(name), decisive=name in decisive)
            for name in (*decisive, *supporting)
        )

    def _value_of(self, component: str) -> Callable[[Bid], str]:
        def value_of(bid: Bid) -> str:
            value = _normalise(component, getattr(bid.fingerprint, component))
            if component == "ip_address":
                value = comparable_ip(value, self._bid_hall) if value else ""
            return "" if value in self._ignored else value

        return value_of

    def evaluate(self, trigger: Trigger) -> Sequence[Outcome]:
        if not isinstance(trigger, BidSubmittedTrigger):
            return []

        def describe(bids: Sequence[Bid], shared: Sequence[tuple[str, str]]) -> str:
            names = "、".join(b.bidder.name or b.bidder.credit_code for b in bids)
            components = "; ".join(f"{name} {value}" for name, value in shared)
            return (
                f"标段 {trigger.section_code} 的 {len(bids)} 家不同投标人 ({names}) "
                f"的投标文件指纹相同: {components}"
            )

        return bidder_group_findings(self.definition, trigger, self._components, describe)


RULE = SameFingerprint(RuleDefinition.load(__file__))
