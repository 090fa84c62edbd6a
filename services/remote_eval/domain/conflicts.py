"""回避 (conflicts of interest) known from the trade itself, not only typed into a request.

An expert employed by the tenderer, its agency or a bidder of the section may not evaluate
it (招标投标法实施条例 art. 46; 评标委员会和评标方法暂行规定 art. 12). A host centre lists the units
to avoid when it asks for an evaluation, but it may not know every bidder yet - committees are
drawn days ahead and bids close later - and a list typed by hand can miss one. Remote evaluation
therefore reads intake's events: the parties it learns (the tenderer and agency at
registration, each bidder as it bids) are avoided in every draw for the project's section from
then on, and a committee member they employ is replaced (补抽) the moment the party is known.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from services.remote_eval.domain.model import Expert

#: The section code under which parties of the whole project are kept (tenderer, agency).
WHOLE_PROJECT = ""


@dataclass(frozen=True)
class PartiesLearned:
    """Units an intake event shows to be parties to a project (or one of its sections)."""

    project_id: str
    bid_section_code: str  # WHOLE_PROJECT for the tenderer and agency
    unit_codes: frozenset[str]


def conflicted_experts(
    expert_ids: Iterable[str], experts: Mapping[str, Expert], parties: frozenset[str]
) -> list[str]:
    """The experts among ``expert_ids`` whose employer is one of ``parties``, in the given
    order (an expert no longer in the registry cannot be judged, and is left alone)."""
    return [
        expert_id
        for expert_id in expert_ids
        if expert_id in experts and experts[expert_id].employer_code in parties
    ]
