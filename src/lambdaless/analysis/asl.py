"""Walking ASL definitions and timing their retries."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any


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


def retry_delays(retrier: Mapping[str, Any]) -> list[float]:
    """Longest delay before each retry of an ASL retrier, with the ASL defaults filled in."""
    interval = float(retrier.get("IntervalSeconds", 1))
    rate = float(retrier.get("BackoffRate", 2.0))
    cap = retrier.get("MaxDelaySeconds")
    delays = []
    delay = interval
    for _ in range(int(retrier.get("MaxAttempts", 3))):
        delays.append(min(delay, float(cap)) if cap is not None else delay)
        delay *= rate  # float multiplication saturates at inf; ``rate**n`` would raise
    return delays


def worst_case_seconds(retriers: Iterable[Mapping[str, Any]]) -> tuple[float, int]:
    """Worst-case (seconds waiting between attempts, number of attempts) of one state.

    Every retrier can be exhausted in turn (each counts its own attempts), so the worst case
    adds them all up; attempts include the first try.
    """
    wait = 0.0
    attempts = 1
    for retrier in retriers:
        delays = retry_delays(retrier)
        wait += sum(delays)
        attempts += len(delays)
    return wait, attempts
