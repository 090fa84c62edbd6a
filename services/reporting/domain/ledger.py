"""An in-memory fold of facts into counters, with the read model's exact semantics.

The recompute folds the whole Kafka log through it, and unit tests fold hand-made facts. The
Redis read model does the same per event, atomically; both apply an event id at most once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from services.reporting.domain.facts import Fact
from services.reporting.domain.metrics import CounterKey, contribute, state_key


@dataclass
class Ledger:
    # The amount added to each group of counters that move together (a metric's cuts, for all
    # time and per period, for one set of dimension values): an event adds to a few groups, not
    # to dozens of counters one by one, and the counters are summed from the groups when read.
    groups: dict[tuple[str, ...], int] = field(default_factory=lambda: defaultdict(int))
    states: dict[str, Any] = field(default_factory=dict)
    evidence: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    indexes: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    applied: set[str] = field(default_factory=set)

    def apply(self, fact: Fact) -> bool:
        if fact.event_id in self.applied:
            return False
        self.applied.add(fact.event_id)
        key = state_key(fact)
        contribution = contribute(fact, self.states.get(key) if key else None)
        groups = self.groups
        for counted in contribution.counted:
            groups[counted.fields] += counted.by
        for cell in contribution.evidence:
            self.evidence[cell.encode()].add(fact.event_id)
        if key is not None and contribution.new_state is not None:
            self.states[key] = dict(contribution.new_state)
        for change in contribution.index_changes:
            if change.add:
                self.indexes[change.index].add(change.member)
            else:
                self.indexes[change.index].discard(change.member)
        return True

    @property
    def counters(self) -> dict[str, int]:
        """Every counter's value (zero or not), by its encoded key."""
        totals: dict[str, int] = defaultdict(int)
        for fields, amount in self.groups.items():
            for counter in fields:
                totals[counter] += amount
        return totals

    def figures(self) -> dict[CounterKey, int]:
        """Non-zero counters, as the read model reports them."""
        return {CounterKey.decode(key): value for key, value in self.counters.items() if value}

    def value(self, key: str) -> int:
        return sum(amount for fields, amount in self.groups.items() if key in fields)
