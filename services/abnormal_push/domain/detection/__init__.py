"""Automatic detection of abnormal behaviour from trading events: the rule registry.

Each module in :mod:`rules` defines one rule (``RULE``) and has its data in a JSON file of the
same name. :func:`registry` discovers them, so adding a rule is adding those two files.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Sequence
from functools import lru_cache

from services.abnormal_push.domain.detection import rules
from services.abnormal_push.domain.detection.model import DetectionRule, Outcome, Trigger
from services.abnormal_push.domain.errors import RuleDataError


@lru_cache(maxsize=1)
def registry() -> tuple[DetectionRule, ...]:
    found: list[DetectionRule] = []
    for module_info in sorted(pkgutil.iter_modules(rules.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{rules.__name__}.{module_info.name}")
        rule = getattr(module, "RULE", None)
        if rule is None:
            raise RuleDataError(f"rule module {module_info.name} defines no RULE")
        found.append(rule)
    ids = [rule.definition.rule_id for rule in found]
    if len(set(ids)) != len(ids):
        raise RuleDataError(f"duplicate rule ids: {ids}")
    return tuple(found)


def evaluate_all(
    trigger: Trigger, rule_set: Sequence[DetectionRule] | None = None
) -> list[Outcome]:
    """Every rule's outcomes for one trigger, in registry order."""
    outcomes: list[Outcome] = []
    for rule in rule_set if rule_set is not None else registry():
        outcomes.extend(rule.evaluate(trigger))
    return outcomes
