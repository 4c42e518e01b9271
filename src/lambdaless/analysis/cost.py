"""What one execution costs, and what it would cost with a Lambda in front of each call.

Orchestration (AWS Step Functions pricing page):

* Standard: state transitions x price, retries included;
* Express: one request + billed duration (rounded up to 100 ms) x memory (64 MB chunks; a
  small workflow uses one chunk) x price per GB-second.

The *Lambda middleman* is the same workflow with a Lambda function invoking each Bedrock or HTTP
call: the state machine keeps its transitions (a Lambda Task replaces each direct Task one for
one) and its duration, and every call attempt adds one Lambda request plus the function's
memory x the time it waits for the answer (rounded up to 1 ms; AWS Lambda pricing page).
Everything is computed for the happy path and the worst case of
:mod:`lambdaless.analysis.history`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lambdaless.analysis.annotations import read
from lambdaless.analysis.history import Assumptions, Profile, profile
from lambdaless.analysis.model_cost import ModelCost, TokenAssumptions, model_cost
from lambdaless.analysis.pricing import Prices, prices_for
from lambdaless.synthesized import SynthesizedStateMachine

MILLION = 1_000_000


@dataclass(frozen=True)
class Middleman:
    """The Lambda function assumed in front of each call.

    Args:
        memory_mb: its configured memory (default 256 MB).
        overhead_seconds: its own work per call besides waiting (default 0.05 s).
    """

    memory_mb: int = 256
    overhead_seconds: float = 0.05


@dataclass(frozen=True)
class CostLine:
    """Cost of one execution along one path, in USD."""

    transitions: float
    seconds: float
    calls: float
    orchestration: float
    lambda_requests: float
    lambda_gb_seconds: float
    middleman_lambda: float
    dynamodb_requests: float = 0.0
    dynamodb: float = 0.0

    @property
    def direct(self) -> float:
        """lambdaless: the state machine and the DynamoDB requests its Tasks make (e.g. a
        ``ModelCapacity``'s acquire and release)."""
        return self.orchestration + self.dynamodb

    @property
    def with_middleman(self) -> float:
        """The same workflow with a Lambda in front of each call."""
        return self.direct + self.middleman_lambda

    @property
    def saving(self) -> float:
        """Share of the middleman's cost that calling services directly saves (0..1)."""
        total = self.with_middleman
        return 0.0 if total == 0 or math.isinf(total) else self.middleman_lambda / total


@dataclass(frozen=True)
class CostReport:
    """Happy-path and worst-case cost of one state machine, with what it assumed.

    ``model`` is the model-token cost of a typical execution (the happy path), the rest of the
    bill beside orchestration; ``None`` when not computed.
    """

    type: str
    happy: CostLine
    worst: CostLine
    prices: Prices
    assumptions: Assumptions
    middleman: Middleman
    model: ModelCost | None = None

    @property
    def model_usd(self) -> float:
        """Model tokens of a typical execution (0 when not computed)."""
        return self.model.per_execution if self.model is not None else 0.0

    @property
    def whole_direct(self) -> float:
        """A typical execution's whole bill with lambdaless: orchestration + model tokens."""
        return self.happy.direct + self.model_usd

    @property
    def whole_with_middleman(self) -> float:
        """The same with a Lambda in front of each call."""
        return self.happy.with_middleman + self.model_usd

    @property
    def whole_saving(self) -> float:
        """Share of the whole bill that calling services directly saves (0..1)."""
        total = self.whole_with_middleman
        return 0.0 if total == 0 else self.happy.middleman_lambda / total


def _round_up(seconds: float, step_ms: int) -> float:
    if math.isinf(seconds):
        return seconds
    step = step_ms / 1000
    return math.ceil(round(seconds / step, 9)) * step


def _line(
    totals: Mapping[str, float],
    express: bool,
    prices: Prices,
    middleman: Middleman,
) -> CostLine:
    transitions = totals["transitions"]
    seconds = totals["seconds"]
    if express:
        chunk_gb = prices.express_memory_mb / 1024
        billed = _round_up(seconds, prices.express_rounding_ms)
        orchestration = (
            prices.express_per_request + billed * chunk_gb * prices.express_per_gb_second
        )
    else:
        orchestration = transitions * prices.standard_per_transition
    model_calls, http_calls = totals["model_calls"], totals["http_calls"]
    calls = model_calls + http_calls
    gb = middleman.memory_mb / 1024
    gb_seconds = 0.0
    for kind in ("model", "http"):
        count, waiting = totals[f"{kind}_calls"], totals[f"{kind}_seconds"]
        if count and not math.isinf(count):
            # The function waits for each attempt; Lambda rounds each invocation up to 1 ms.
            per_call = _round_up(
                waiting / count + middleman.overhead_seconds, prices.lambda_rounding_ms
            )
            gb_seconds += count * per_call * gb
        elif count:
            gb_seconds = math.inf
    lambda_cost = calls * prices.lambda_per_request + gb_seconds * prices.lambda_per_gb_second
    writes, reads = totals["dynamodb_writes"], totals["dynamodb_reads"]
    dynamodb = writes * prices.dynamodb_per_write_request + reads * prices.dynamodb_per_read_request
    return CostLine(
        transitions,
        seconds,
        calls,
        orchestration,
        calls,
        gb_seconds,
        lambda_cost,
        dynamodb_requests=writes + reads,
        dynamodb=dynamodb,
    )


def cost_of_profile(
    prof: Profile,
    *,
    type: str = "STANDARD",
    prices: Prices | None = None,
    assumptions: Assumptions | None = None,
    middleman: Middleman | None = None,
) -> CostReport:
    """Cost of a :class:`~lambdaless.analysis.history.Profile`."""
    p = prices or prices_for()
    a = assumptions or Assumptions()
    m = middleman or Middleman()
    express = type.upper() == "EXPRESS"
    return CostReport(
        type=type.upper(),
        happy=_line(prof.happy, express, p, m),
        worst=_line(prof.worst, express, p, m),
        prices=p,
        assumptions=a,
        middleman=m,
    )


def cost(
    machine: SynthesizedStateMachine,
    *,
    prices: Prices | None = None,
    assumptions: Assumptions | None = None,
    middleman: Middleman | None = None,
    tokens: TokenAssumptions | None = None,
    model_overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> CostReport:
    """Cost per execution of a synthesized state machine (multiply by :data:`MILLION` for the
    per-million figures the CLI prints), with the model-token cost of a typical execution
    (:mod:`lambdaless.analysis.model_cost`; ``tokens`` and ``model_overrides`` as there)."""
    notes = read(machine.resource, machine.definition)
    a = assumptions or Assumptions()
    prof = profile(machine.definition, assumptions=a, bounds=notes.bounds)
    report = cost_of_profile(
        prof, type=machine.type, prices=prices, assumptions=a, middleman=middleman
    )
    tokens_cost = model_cost(
        machine.definition,
        bounds=notes.bounds,
        region=report.prices.region,
        assumptions=tokens,
        overrides=model_overrides,
        history=a,
    )
    return dataclasses.replace(report, model=tokens_cost)
