"""Every graph rule of the catalogue over one state machine: what ``Workflow`` checks at
construction and the limits lint at synth and in ``lambdaless inspect``."""

from __future__ import annotations

from lambdaless.rules import data_flow, integrations, models, retries, workflow_types
from lambdaless.rules._graph import Machine, Violation

__all__ = ["Machine", "Violation", "check_machine"]


def check_machine(machine: Machine) -> list[Violation]:
    """Every violation of a graph rule in ``machine``, in rule order."""
    return [
        *retries.check_machine(machine),
        *workflow_types.check_machine(machine),
        *data_flow.check_machine(machine),
        *integrations.check_machine(machine),
        *models.check_machine(machine),
    ]
