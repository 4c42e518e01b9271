"""Rules about inference parameters per model family, and what Converse supports."""

from __future__ import annotations

from lambdaless.rules._rule import Rule

RULES: tuple[Rule, ...] = ()
