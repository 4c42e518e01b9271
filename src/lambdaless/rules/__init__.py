"""The catalogue of AWS rules lambdaless checks at construction and at synth.

Each category module defines ``RULES`` and the check functions the constructs call; a rule's
errors name the argument or state, its value, what is allowed, the rule id and its AWS page.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from lambdaless.rules import (
    batch,
    data_flow,
    deployments,
    expressions,
    inference,
    integrations,
    lifecycle,
    models,
    performance,
    prompt_management,
    retries,
    structured,
    workflow_types,
)
from lambdaless.rules._rule import Rule

CATALOGUE: tuple[Rule, ...] = (
    *models.RULES,
    *lifecycle.RULES,
    *inference.RULES,
    *prompt_management.RULES,
    *performance.RULES,
    *expressions.RULES,
    *retries.RULES,
    *workflow_types.RULES,
    *data_flow.RULES,
    *integrations.RULES,
    *deployments.RULES,
    *structured.RULES,
    *batch.RULES,
)

#: rule id -> rule (ids are unique: tests/rules/test_catalogue.py)
BY_ID: Mapping[str, Rule] = MappingProxyType({rule.id: rule for rule in CATALOGUE})

__all__ = ["BY_ID", "CATALOGUE", "Rule"]
