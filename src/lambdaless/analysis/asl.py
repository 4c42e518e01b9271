"""Walking ASL definitions and timing their retries."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from lambdaless.retry import worst_case_seconds


def iter_states(
    definition: Mapping[str, Any], path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], str, Mapping[str, Any]]]:
    """Every state, depth first, with the names of the Map/Parallel states around it."""
    for name, state in definition.get("States", {}).items():
        yield path, name, state
        for branch in state.get("Branches", []):
            yield from iter_states(branch, (*path, name))
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            yield from iter_states(processor, (*path, name))


@dataclass(frozen=True)
class RetryBudget:
    """How long one state can take when every retry is used and every attempt times out."""

    state: str
    wait_seconds: float
    attempts: int
    attempt_timeout_seconds: int | None

    @property
    def worst_case_seconds(self) -> float:
        """Back-off waits plus attempts x TimeoutSeconds (waits only without a timeout)."""
        per_attempt = self.attempt_timeout_seconds or 0
        return self.wait_seconds + self.attempts * per_attempt

    def describe(self) -> str:
        """``122 s of back-off + 9 attempts x 60 s timeout = 662 s``."""
        wait = f"{self.wait_seconds:g} s of back-off"
        if self.attempt_timeout_seconds is None:
            return f"{wait} across {self.attempts} attempts (no TimeoutSeconds)"
        return (
            f"{wait} + {self.attempts} attempts x {self.attempt_timeout_seconds} s timeout"
            f" = {self.worst_case_seconds:g} s"
        )


def retry_budgets(definition: Mapping[str, Any]) -> list[RetryBudget]:
    """The retry budget of every state that retries."""
    budgets = []
    for _, name, state in iter_states(definition):
        retriers = state.get("Retry") or []
        if not retriers:
            continue
        wait, attempts = worst_case_seconds(retriers)
        budgets.append(RetryBudget(name, wait, attempts, state.get("TimeoutSeconds")))
    return budgets
