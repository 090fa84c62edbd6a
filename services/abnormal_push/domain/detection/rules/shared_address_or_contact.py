"""R044: different bidders on one section state the same address or the same contact telephone
in their bids — businesses that may not be independent (OCP red flag R044). One report per
group of bidders sharing either, with both as evidence.

In government procurement, 87号令 art. 37(三) deems bids naming the same contact person (联系人员)
collusion: a shared contact telephone is the bid's contact person as far as the bid tells, so
a group sharing one is reported HIGH under that article (``contact_person_*`` in the data)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from services.abnormal_push.domain.detection.grouping import (
    SharedComponent,
    bidder_group_findings,
)
from services.abnormal_push.domain.detection.model import (
    Bid,
    BidSubmittedTrigger,
    Citation,
    Outcome,
    RuleDefinition,
    Trigger,
    citation_from_data,
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
        self._contact_person = frozenset(definition.parameters["contact_person_components"])
        self._deemed_collusion: dict[str, Citation] = {
            category: citation_from_data(cited, definition.severity)
            for category, cited in definition.parameters[
                "contact_person_deemed_collusion_by_category"
            ].items()
        }
        self._components = (
            SharedComponent("bidder_address", self._address),
            SharedComponent("bidder_contact_phone", self._phone),
        )

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
        deemed = self._deemed_collusion.get(trigger.project.category)

        def cite(shared: Sequence[tuple[str, str]]) -> Citation | None:
            same_contact = any(name in self._contact_person for name, _ in shared)
            return deemed if same_contact else None

        def describe(bids: Sequence[Bid], shared: Sequence[tuple[str, str]]) -> str:
            stated = "、".join(
                f"{'同一地址' if name == 'bidder_address' else '同一联系电话'} ({value})"
                for name, value in shared
            )
            return f"标段 {section} 的 {len(bids)} 家不同投标人的投标文件载明{stated}"

        return bidder_group_findings(
            self.definition, trigger, self._components, describe, cite=cite
        )


RULE = SharedAddressOrContact(RuleDefinition.load(__file__))
