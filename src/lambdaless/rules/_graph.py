"""Rules the whole definition decides: one :class:`Violation` per offending state.

``Workflow`` runs them on its steps at construction and the lint (the validation plugin at
``cdk synth``, and ``lambdaless inspect``) runs them on every state of the synthesized ASL.
No CDK import: the analysis layer uses this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lambdaless._errors import LambdalessError
from lambdaless.rules._rule import Rule


@dataclass(frozen=True)
class Violation:
    """``state``'s ``field=value`` breaks ``rule``; ``allowed`` says what would pass."""

    rule: Rule
    state: str | None
    field: str
    value: Any
    allowed: str

    @property
    def argument(self) -> str:
        """How the error names what is refused: ``state 'Ask' TimeoutSeconds``."""
        return f"state {self.state!r} {self.field}" if self.state else self.field

    def error(self) -> LambdalessError:
        """The error ``Workflow`` raises."""
        return self.rule.refuse(self.argument, self.value, self.allowed)

    @property
    def message(self) -> str:
        """The error's text, as the lint reports it."""
        return str(self.error())


@dataclass(frozen=True)
class Machine:
    """What the graph rules need to know of a state machine beside its states."""

    definition: Mapping[str, Any]
    #: ``True`` for an Express state machine
    express: bool
    #: the execution's limit in seconds: its ``TimeoutSeconds``, capped by the type's maximum
    timeout_seconds: float
    #: where the timeout comes from, for messages ("the workflow's timeout", ...)
    timeout_source: str
    #: ``False`` when ``definition`` holds only some of the states (``Workflow``'s check of its
    #: own steps at construction): rules that need every state, such as variable scope, skip
    whole: bool = True
