"""Checks of ASL ``Retry`` fields that JSON-schema validators such as asl-validator skip.

AWS rejects at CreateStateMachine/UpdateStateMachine what these find (AWS docs, "Handling errors
in Step Functions workflows", Retry fields): ``IntervalSeconds`` a positive integer,
``MaxAttempts`` a non-negative integer (0 = never retry), ``BackoffRate`` at least 1.0,
``MaxDelaySeconds`` an integer from 1 to 31,622,400 (366 days), ``JitterStrategy`` ``FULL`` or
``NONE``, and ``States.ALL`` alone in its ``ErrorEquals`` and in the last retrier. No CDK needed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lambdaless.analysis.asl import iter_states
from lambdaless.limits import ASL_MAX_INTEGER, RETRY_MAX_DELAY_SECONDS

JITTER_STRATEGIES = frozenset({"FULL", "NONE"})
STATES_ALL = "States.ALL"


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


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


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
    """``(field, allowed)`` for each invalid field of one retrier."""
    found = []
    errors = retrier.get("ErrorEquals")
    if not (isinstance(errors, list) and errors and all(isinstance(e, str) and e for e in errors)):
        found.append(("ErrorEquals", "a non-empty list of error names"))
    elif STATES_ALL in errors and (len(errors) > 1 or not last):
        found.append(("ErrorEquals", f"{STATES_ALL} alone, in the last retrier"))
    ranges = {
        "IntervalSeconds": (_is_int, 1, ASL_MAX_INTEGER, f"an integer from 1 to {ASL_MAX_INTEGER}"),
        "MaxAttempts": (_is_int, 0, ASL_MAX_INTEGER, f"an integer from 0 to {ASL_MAX_INTEGER}"),
        "BackoffRate": (_is_number, 1.0, float("inf"), "a number of at least 1.0"),
        "MaxDelaySeconds": (
            _is_int,
            1,
            RETRY_MAX_DELAY_SECONDS,
            f"an integer from 1 to {RETRY_MAX_DELAY_SECONDS}",
        ),
    }
    for field, (kind, low, high, allowed) in ranges.items():
        if field in retrier and not (kind(retrier[field]) and low <= retrier[field] <= high):
            found.append((field, allowed))
    if "JitterStrategy" in retrier and retrier["JitterStrategy"] not in JITTER_STRATEGIES:
        found.append(("JitterStrategy", " or ".join(sorted(JITTER_STRATEGIES))))
    return found
