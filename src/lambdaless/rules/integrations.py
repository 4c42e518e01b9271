"""Rules about service integrations: HTTP Task, EventBridge connections, SQS, SNS, names."""

from __future__ import annotations

from lambdaless.rules._rule import Rule

RULES: tuple[Rule, ...] = ()
