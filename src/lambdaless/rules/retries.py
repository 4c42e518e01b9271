"""Rules about retriers and timeouts."""

from __future__ import annotations

from lambdaless.rules._rule import Rule

RULES: tuple[Rule, ...] = ()
