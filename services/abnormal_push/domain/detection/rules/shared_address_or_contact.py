"""R044: different bidders on one section state the same address or the same contact telephone
in their bids — businesses that may not be independent (OCP red flag R044)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from services.abnormal_push.domain.detection.grouping import shared_value_findings
from services.abnormal_push.domain.detection.model import (
    Bid,
    BidSubmittedTrigger,
    Outcome,
    RuleDefinition,
    Trigger,
)
from services.platform_core.telephone import without_notation


def comparable_address(address: str) -> str:
    """An address as compared: full-width forms folded (NFKC), without spaces or punctuation,
    so "经十路 12345 号" and "经十路１２３４５号" are one address."""
    folded = unicodedata.normalize("NFKC", address).upper()
    return "".join(
        c for c in folded if not c.isspace() and not unicodedata.category(c).startswith("P")
    )


def comparable_phone(phone: str) -> str:
    """A telephone number as compared: its digits, without a +86 / 0086 country code."""
    return "".join(c for c in without_notation(phone) if c.isascii() and c.isdigit())


class SharedAddressOrContact:
    def __init__(self, definition: RuleDefinition) -> None:
        self.definition = definition
        self._min_address = int(definition.parameters["min_address_characters"])
        self._min_phone = int(definition.parameters["min_phone_digits"])

    def _address(self, bid: Bid) -> str:
        # Too short to tell one place from another (e.g. only a district): not compared.
        address = comparable_address(bid.bidder_address)
        return address if len(address) >= self._min_address else ""

    def _phone(self, bid: Bid) -> str:
        phone = comparable_phone(bid.bidder_contact_phone)
        return phone if len(phone) >= self._min_phone else ""

    def evaluate(self, trigger: Trigger) -> Sequence[Outcome]:
        if not isinstance(trigger, BidSubmittedTrigger):
            return []
        section = trigger.section_code
        return [
            *shared_value_findings(
                self.definition,
                trigger,
                self._address,
                "bidder_address",
                lambda address, bids: (
                    f"标段 {section} 的 {len(bids)} 家不同投标人的投标文件载明同一地址 ({address})"
                ),
            ),
            *shared_value_findings(
                self.definition,
                trigger,
                self._phone,
                "bidder_contact_phone",
                lambda phone, bids: (
                    f"标段 {section} 的 {len(bids)} 家不同投标人的投标文件载明同一联系电话 "
                    f"({phone})"
                ),
            ),
        ]


RULE = SharedAddressOrContact(RuleDefinition.load(__file__))
