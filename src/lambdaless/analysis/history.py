"""Walk a state machine's graph for its happy path and its worst case.

For every metric (state transitions, history events, seconds, model and HTTP calls, and the
seconds spent waiting on those calls) this
module finds the largest total over the paths an execution can take:

* **happy path**: no errors, no retries, no Catch; each Choice takes its costliest branch; a loop
  runs once; a Map gets ``Assumptions.map_items`` items unless a bound is declared;
* **worst case**: every retrier exhausted (each failed attempt followed by the next), Catch
  edges followed, loops run their declared bound, or forever when none is declared.

Counting rules (AWS docs, "Step Functions service quotas", "Step Functions pricing", and the
event types of ``GetExecutionHistory``):

* a transition is billed for each state entered and each retry attempt, including the states of
  every Map iteration and Parallel branch, and of Distributed Map child executions;
* history events: ``ExecutionStarted``/``Succeeded`` (2); a Task ``Entered``, ``Scheduled``,
  ``Started``, ``Succeeded``, ``Exited`` (5) plus ``Scheduled``/``Started``/``Failed`` (3) per
  failed attempt; other states ``Entered``/``Exited`` (2); Map and Parallel ``Entered``,
  ``Started``, ``Succeeded``, ``Exited`` (4) plus ``IterationStarted``/``Succeeded`` (2) per
  inline Map item; a Distributed Map's children keep their own histories (the parent records
  about 6 events for the Map Run). These are estimates of the documented event types, exact for
  the simple states.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from lambdaless.analysis.asl import worst_case_seconds
from lambdaless.limits import (
    DISTRIBUTED_MAP_MAX_CONCURRENCY,
    HTTP_TASK_TIMEOUT_SECONDS,
    INLINE_MAP_MAX_CONCURRENCY,
)

Mode = Literal["happy", "worst"]
METRICS = (
    "transitions",
    "events",
    "seconds",
    "model_calls",
    "http_calls",
    "model_seconds",
    "http_seconds",
    "task_calls",
    "dynamodb_writes",
    "dynamodb_reads",
    "model_usd",
)


@dataclass(frozen=True)
class Assumptions:
    """What the ASL cannot say, with the defaults the reports use (all overridable).

    Args:
        model_latency_seconds: one Bedrock call, request to answer (default 5 s).
        http_latency_seconds: one HTTP Task call (default 1 s).
        task_latency_seconds: any other Task (default 0.1 s).
        map_items: items per Map without a declared bound (default 10).
    """

    model_latency_seconds: float = 5.0
    http_latency_seconds: float = 1.0
    task_latency_seconds: float = 0.1
    map_items: int = 10


Totals = dict[str, float]


def _zero() -> Totals:
    return dict.fromkeys(METRICS, 0.0)


def _mul(a: float, b: float) -> float:
    return 0.0 if a == 0 or b == 0 else a * b


def task_kind(state: Mapping[str, Any]) -> str:
    """``model`` (a Bedrock model call: InvokeModel or the bedrock-runtime SDK, e.g. Converse),
    ``http`` or ``other`` (customization jobs, agents, ...) for a Task; ``""`` otherwise."""
    if state.get("Type") != "Task":
        return ""
    resource = str(state.get("Resource", ""))
    if ":::bedrock:invokeModel" in resource or ":::aws-sdk:bedrockruntime:" in resource:
        return "model"
    if ":::http:" in resource:
        return "http"
    return "other"


def is_distributed(state: Mapping[str, Any]) -> bool:
    """Whether a Map state runs in Distributed mode."""
    processor = state.get("ItemProcessor") or {}
    return str((processor.get("ProcessorConfig") or {}).get("Mode", "")).upper() == "DISTRIBUTED"


def successors(state: Mapping[str, Any], *, catches: bool) -> Iterator[str]:
    """The states reachable in one step (``catches``: include Catch targets)."""
    if "Next" in state:
        yield str(state["Next"])
    for choice in state.get("Choices", []):
        yield str(choice["Next"])
    if "Default" in state:
        yield str(state["Default"])
    if catches:
        for catcher in state.get("Catch", []):
            yield str(catcher["Next"])


def _strongly_connected(graph: Mapping[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative; components come out in reverse topological order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, child = work.pop()
            if child == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            edges = graph.get(node, [])
            if child < len(edges):
                work.append((node, child + 1))
                target = edges[child]
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(component)
    return components


@dataclass
class ScopeReport:
    """Totals of one scope (the machine, a branch or a Map's item processor)."""

    totals: Totals
    loops: list[list[str]] = field(default_factory=list)  # loops without a bound
    per_state: dict[str, Totals] = field(default_factory=dict)


class Walker:
    """Computes :class:`ScopeReport` s of one definition in one mode."""

    def __init__(
        self,
        mode: Mode,
        assumptions: Assumptions,
        bounds: Mapping[str, int] | None = None,
        call_usd: Mapping[str, float] | None = None,
    ) -> None:
        self.mode = mode
        self.assumptions = assumptions
        self.bounds = dict(bounds or {})
        #: model Task state -> USD of one successful call (``model_usd``; see model_cost)
        self.call_usd = dict(call_usd or {})
        self.unbounded_loops: list[list[str]] = []
        self.assumed_maps: list[str] = []

    # -- one state ---------------------------------------------------------------------------
    def retries(self, state: Mapping[str, Any]) -> tuple[int, float]:
        """(retry attempts, seconds of back-off) in this mode."""
        if self.mode == "happy":
            return 0, 0.0
        wait, attempts = worst_case_seconds(state.get("Retry") or [])
        return attempts - 1, wait

    def attempt_seconds(self, state: Mapping[str, Any]) -> float:
        kind = task_kind(state)
        a = self.assumptions
        latency = {
            "model": a.model_latency_seconds,
            "http": a.http_latency_seconds,
        }.get(kind, a.task_latency_seconds)
        timeout = state.get("TimeoutSeconds")
        if kind == "http":
            timeout = min(int(timeout or HTTP_TASK_TIMEOUT_SECONDS), HTTP_TASK_TIMEOUT_SECONDS)
        if self.mode == "worst" and isinstance(timeout, int | float):
            return float(timeout)
        return min(latency, float(timeout)) if isinstance(timeout, int | float) else latency

    def map_items(self, name: str, state: Mapping[str, Any]) -> int:
        if name in self.bounds:
            return self.bounds[name]
        reader = (state.get("ItemReader") or {}).get("ReaderConfig") or {}
        if isinstance(reader.get("MaxItems"), int):
            return int(reader["MaxItems"])
        if name not in self.assumed_maps:
            self.assumed_maps.append(name)
        return self.assumptions.map_items

    def state_totals(self, name: str, state: Mapping[str, Any]) -> Totals:
        kind = state.get("Type")
        retries, wait = self.retries(state)
        attempts = 1 + retries
        t = _zero()
        if kind == "Task":
            t["transitions"] = attempts
            t["events"] = 5 + 3 * retries
            busy = attempts * self.attempt_seconds(state)
            t["seconds"] = busy + wait
            t["task_calls"] = attempts  # every service call, Bedrock/HTTP or not
            resource = str(state.get("Resource", ""))
            if ":::dynamodb:" in resource:
                # every attempt is a request, a refused conditional write included
                reads = ":::dynamodb:getItem" in resource
                t["dynamodb_reads" if reads else "dynamodb_writes"] = attempts
            call = task_kind(state)
            if call in ("model", "http"):
                t[f"{call}_calls"] = attempts
                t[f"{call}_seconds"] = busy
            # tokens are billed for the call that answers; throttled attempts bill none
            t["model_usd"] = self.call_usd.get(name, 0.0)
            return t
        if kind == "Parallel":
            branches = [self.scope(branch).totals for branch in state.get("Branches", [])]
            inner = {m: sum(b[m] for b in branches) for m in METRICS}
            inner["seconds"] = max((b["seconds"] for b in branches), default=0.0)
            return self._container(inner, attempts, wait, per_item_events=0, fixed_events=4)
        if kind == "Map":
            processor = state.get("ItemProcessor") or state.get("Iterator") or {}
            inner = self.scope(processor).totals
            items = self.map_items(name, state)
            distributed = is_distributed(state)
            limit = DISTRIBUTED_MAP_MAX_CONCURRENCY if distributed else INLINE_MAP_MAX_CONCURRENCY
            concurrency = int(state.get("MaxConcurrency") or 0) or limit
            waves = math.ceil(items / min(concurrency, limit))
            scaled = {m: _mul(items, inner[m]) for m in METRICS}
            scaled["seconds"] = _mul(waves, inner["seconds"])
            if distributed:  # children keep their own histories
                scaled["events"] = 0.0
                return self._container(scaled, attempts, wait, per_item_events=0, fixed_events=6)
            return self._container(scaled, attempts, wait, per_item_events=2 * items)
        t["transitions"] = 1
        t["events"] = 2
        if kind == "Wait" and isinstance(state.get("Seconds"), int | float):
            t["seconds"] = float(state["Seconds"])
        return t

    @staticmethod
    def _container(
        inner: Totals, attempts: int, wait: float, *, per_item_events: float, fixed_events: int = 4
    ) -> Totals:
        t = {m: _mul(attempts, inner[m]) for m in METRICS}
        t["transitions"] += attempts
        t["events"] += attempts * (fixed_events + per_item_events)
        t["seconds"] += wait
        return t

    # -- a scope -----------------------------------------------------------------------------
    def scope(self, definition: Mapping[str, Any]) -> ScopeReport:
        states: Mapping[str, Mapping[str, Any]] = definition.get("States", {})
        start = str(definition.get("StartAt", ""))
        catches = self.mode == "worst"
        graph = {
            name: [s for s in successors(st, catches=catches) if s in states]
            for name, st in states.items()
        }
        per_state = {name: self.state_totals(name, st) for name, st in states.items()}
        report = ScopeReport(_zero(), per_state=per_state)
        components = _strongly_connected(graph)
        owner = {node: i for i, comp in enumerate(components) for node in comp}
        weights: list[Totals] = []
        for comp in components:
            total = {m: sum(per_state[n][m] for n in comp) for m in METRICS}
            looping = len(comp) > 1 or comp[0] in graph[comp[0]]
            if looping:
                declared = [self.bounds[n] for n in comp if n in self.bounds]
                if declared:
                    times = float(min(declared)) if self.mode == "worst" else 1.0
                else:
                    times = math.inf if self.mode == "worst" else 1.0
                    ordered = [n for n in states if n in comp]
                    report.loops.append(ordered)
                    if ordered not in self.unbounded_loops:
                        self.unbounded_loops.append(ordered)
                total = {m: _mul(times, v) for m, v in total.items()}
            weights.append(total)
        # Components are in reverse topological order: successors are finished first.
        best: list[Totals] = []
        for i, comp in enumerate(components):
            after = _zero()
            for node in comp:
                for target in graph[node]:
                    j = owner[target]
                    if j == i:
                        continue
                    after = {m: max(after[m], best[j][m]) for m in METRICS}
            best.append({m: weights[i][m] + after[m] for m in METRICS})
        if start in owner:
            report.totals = best[owner[start]]
        return report


@dataclass(frozen=True)
class Profile:
    """Happy-path and worst-case totals of one state machine (see module docstring)."""

    happy: Mapping[str, float]
    worst: Mapping[str, float]
    unbounded_loops: tuple[tuple[str, ...], ...]
    assumed_maps: tuple[str, ...]
    per_state_worst: Mapping[str, Mapping[str, float]]


def _all_per_state(walker: Walker, definition: Mapping[str, Any]) -> dict[str, Totals]:
    from lambdaless.analysis.asl import iter_states

    found: dict[str, Totals] = {}
    for _, name, state in iter_states(definition):
        found[name] = walker.state_totals(name, state)
    return found


def profile(
    definition: Mapping[str, Any],
    *,
    assumptions: Assumptions | None = None,
    bounds: Mapping[str, int] | None = None,
    call_usd: Mapping[str, float] | None = None,
) -> Profile:
    """Happy-path and worst-case totals of a definition (``bounds``: state -> max loop
    iterations or Map items, see :mod:`lambdaless.analysis.annotations`; ``call_usd``: model
    Task state -> USD of one call, summed as ``model_usd``)."""
    a = assumptions or Assumptions()
    happy = Walker("happy", a, bounds, call_usd)
    worst = Walker("worst", a, bounds, call_usd)
    happy_totals = dict(happy.scope(definition).totals)
    worst_totals = dict(worst.scope(definition).totals)
    for totals in (happy_totals, worst_totals):
        totals["events"] += 2  # ExecutionStarted, ExecutionSucceeded/Failed
    per_state = _all_per_state(Walker("worst", a, bounds), definition)
    return Profile(
        happy=happy_totals,
        worst=worst_totals,
        unbounded_loops=tuple(tuple(loop) for loop in worst.unbounded_loops),
        assumed_maps=tuple(worst.assumed_maps),
        per_state_worst=per_state,
    )
