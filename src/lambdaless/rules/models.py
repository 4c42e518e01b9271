"""Rules about Bedrock model references: ids, profiles, ARNs and families."""

from __future__ import annotations

from lambdaless.rules._rule import Rule

RULES: tuple[Rule, ...] = ()
