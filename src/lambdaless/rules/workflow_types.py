"""Rules about the service features each workflow type (Standard, Express) supports."""

from __future__ import annotations

from lambdaless.rules._rule import Rule

RULES: tuple[Rule, ...] = ()
