"""Checks of ASL ``Retry`` fields that JSON-schema validators such as asl-validator skip.

AWS rejects at CreateStateMachine/UpdateStateMachine what these find (AWS docs, "Handling errors
in Step Functions workflows", Retry fields): ``IntervalSeconds`` a positive integer,
``MaxAttempts`` a non-negative integer (0 = never retry), ``BackoffRate`` at least 1.0,
``MaxDelaySeconds`` an integer from 1 to 31,622,400 (366 days), ``JitterStrategy`` ``FULL`` or
``NONE``, and ``States.ALL`` alone in its ``ErrorEquals`` and in the last retrier: the rules of
:mod:`lambdaless.rules.retries`, reported per field. No CDK needed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lambdaless.analysis.asl import iter_states
from lambdaless.rules.retries import STATES_ALL, retrier_problems


@dataclass(frozen=True)
class RetryProblem:
    """One invalid field of one retrier: ``state``'s ``Retry[index].field``."""

    state: str
    index: int
    field: str
    value: Any
    allowed: str

    def __str__(self) -> str:
        return (
            f"state {self.state!r} Retry[{self.index}].{self.field}={self.value!r}: "
            f"expected {self.allowed}"
        )


def check_retriers(definition: Mapping[str, Any]) -> list[RetryProblem]:
    """Every invalid ``Retry`` field in ``definition``, nested states included."""
    problems: list[RetryProblem] = []
    for _, name, state in iter_states(definition):
        retriers = state.get("Retry") or []
        for index, retrier in enumerate(retriers):
            last = index == len(retriers) - 1
            problems.extend(
                RetryProblem(name, index, field, retrier.get(field), allowed)
                for field, allowed in _invalid_fields(retrier, last=last)
            )
    return problems


def _invalid_fields(retrier: Mapping[str, Any], *, last: bool) -> list[tuple[str, str]]:
    """``(field, allowed)`` for each invalid field of one retrier (the catalogue's rules)."""
    found = [(field, allowed) for _, field, allowed in retrier_problems(retrier)]
    errors = retrier.get("ErrorEquals")
    if isinstance(errors, list) and STATES_ALL in errors and (len(errors) > 1 or not last):
        found.append(("ErrorEquals", f"{STATES_ALL} alone, in the last retrier"))
    return found
