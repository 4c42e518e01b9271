"""Rules about prompts and JSONata expressions: syntax, ``{% %}``, variables and payload size."""

from __future__ import annotations

from lambdaless.rules._rule import Rule

RULES: tuple[Rule, ...] = ()
