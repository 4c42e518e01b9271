"""The model-token cost of a typical execution, read from the synthesized ASL.

Each Bedrock Task (``bedrock:invokeModel`` with a body lambdaless can read, or Converse) says
its model (``ModelId``), its ``max_tokens``, whether it caches its system prompt (Anthropic
``cache_control``, Nova ``cachePoint``, Converse ``CachePoint``) and its service tier
(Converse ``ServiceTier``). One call is priced (:mod:`lambdaless.analysis.model_pricing`) at:

* output tokens = the call's ``max_tokens`` (an upper bound, the figure the step declares);
* input tokens = :attr:`TokenAssumptions.input_tokens` (overridable), plus the system prompt's
  tokens when it is literal text (its length / ``chars_per_token``; an expression's size is
  unknown and counted in ``input_tokens``);
* a cached system prompt: read from the cache on ``cache_hit_rate`` of the calls and written on
  the rest (Bedrock user guide, "prompt-caching": a cache lives five minutes after its last hit).

A typical execution is the happy path of :mod:`lambdaless.analysis.history` (each Map with its
bound or assumed items, the costliest Choice branch); retried attempts bill no tokens.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lambdaless.analysis.asl import iter_states
from lambdaless.analysis.history import Assumptions, profile, task_kind
from lambdaless.analysis.model_pricing import ModelPrices, foundation_model_id, model_prices_for


@dataclass(frozen=True)
class TokenAssumptions:
    """What the ASL cannot say about a call's tokens (all overridable).

    Args:
        input_tokens: uncached input tokens of one call: the prompt with what it quotes
            (default 1,000).
        cache_hit_rate: share of calls with a cached system prompt that read it from the
            cache; the others write it (default 0.9).
        chars_per_token: characters per token to size a literal system prompt (default 4).
    """

    input_tokens: float = 1000.0
    cache_hit_rate: float = 0.9
    chars_per_token: float = 4.0

    def __post_init__(self) -> None:
        checks = (
            ("input_tokens", self.input_tokens, 0.0, math.inf),
            ("cache_hit_rate", self.cache_hit_rate, 0.0, 1.0),
            ("chars_per_token", self.chars_per_token, 0.5, 100.0),
        )
        for name, value, low, high in checks:
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not low <= value <= high
                or math.isnan(value)
            ):
                raise ValueError(f"{name}={value!r}: expected a number from {low:g} to {high:g}")


@dataclass(frozen=True)
class ModelCall:
    """One model Task state as the ASL states it."""

    state: str
    model: str
    max_tokens: int
    system_tokens: float
    cached_system: bool
    tier: str


@dataclass(frozen=True)
class CallCost:
    """The tokens and USD of one call of a :class:`ModelCall` (``prices`` ``None``: unpriced)."""

    call: ModelCall
    input_tokens: float
    output_tokens: float
    cache_read: float
    cache_write: float
    usd: float
    prices: ModelPrices | None
    note: str = ""


@dataclass(frozen=True)
class ModelCost:
    """Model-token cost of a typical execution, at the steps' tiers and at the alternatives."""

    calls: tuple[CallCost, ...]
    per_execution: float
    #: tier -> USD of a typical execution with every call sold in that tier moved to it
    by_tier: Mapping[str, float] = field(default_factory=dict)
    unpriced: tuple[str, ...] = ()
    assumptions: TokenAssumptions = TokenAssumptions()


def _max_tokens(arguments: Mapping[str, Any]) -> int | None:
    body = arguments.get("Body")
    candidates: list[Any] = []
    if isinstance(body, Mapping):
        candidates += [
            body.get("max_tokens"),
            (body.get("inferenceConfig") or {}).get("maxTokens"),
            (body.get("textGenerationConfig") or {}).get("maxTokenCount"),
            body.get("max_gen_len"),
        ]
    candidates.append((arguments.get("InferenceConfig") or {}).get("MaxTokens"))
    return next(
        (int(c) for c in candidates if isinstance(c, int) and not isinstance(c, bool)), None
    )


def _system(arguments: Mapping[str, Any]) -> tuple[str | None, bool]:
    """(the literal system text, whether a cache checkpoint follows it)."""
    body = arguments.get("Body")
    blocks: Any = None
    if isinstance(body, Mapping) and "system" in body:
        blocks = body["system"]
    elif "System" in arguments:
        blocks = arguments["System"]
    if isinstance(blocks, str):
        return blocks, False
    if not isinstance(blocks, list):
        return None, False
    texts = [b.get("text", b.get("Text")) for b in blocks if isinstance(b, Mapping)]
    cached = any(
        isinstance(b, Mapping) and ("cache_control" in b or "cachePoint" in b or "CachePoint" in b)
        for b in blocks
    )
    literal = "".join(t for t in texts if isinstance(t, str))
    return literal or None, cached


def model_calls(
    definition: Mapping[str, Any], assumptions: TokenAssumptions | None = None
) -> dict[str, ModelCall]:
    """Model Task state name -> :class:`ModelCall`, for every Bedrock call with a model id."""
    a = assumptions or TokenAssumptions()
    found: dict[str, ModelCall] = {}
    for _, name, state in iter_states(definition):
        if task_kind(state) != "model":
            continue
        arguments = state.get("Arguments") or state.get("Parameters") or {}
        model = arguments.get("ModelId")
        if not isinstance(model, str) or "{%" in model:
            continue
        system, cached = _system(arguments)
        literal = system is not None and "{%" not in system
        tier = ((arguments.get("ServiceTier") or {}).get("Type")) or "default"
        found[name] = ModelCall(
            state=name,
            model=model,
            max_tokens=_max_tokens(arguments) or 0,
            system_tokens=math.ceil(len(system) / a.chars_per_token) if literal and system else 0,
            cached_system=cached,
            tier=str(tier),
        )
    return found


def price_call(
    call: ModelCall,
    *,
    region: str = "us-east-1",
    assumptions: TokenAssumptions | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    tier: str | None = None,
) -> CallCost:
    """Tokens and USD of one call (at ``tier``, by default the call's own)."""
    a = assumptions or TokenAssumptions()
    model_id, _ = foundation_model_id(call.model)
    read = write = 0.0
    fresh = a.input_tokens + (0 if call.cached_system else call.system_tokens)
    if call.cached_system:
        read = call.system_tokens * a.cache_hit_rate
        write = call.system_tokens - read
    try:
        prices = model_prices_for(call.model, region, (overrides or {}).get(model_id))
    except LookupError:
        return CallCost(call, fresh, call.max_tokens, read, write, 0.0, None, "no price data")
    chosen = tier or call.tier
    if chosen not in prices.tiers():
        chosen = call.tier
    usd = prices.cost(
        input_tokens=fresh,
        output_tokens=call.max_tokens,
        cache_read=read if prices.caching else 0,
        cache_write=write if prices.caching else 0,
        tier=chosen,
    )
    return CallCost(call, fresh, call.max_tokens, read, write, usd, prices)


def model_cost(
    definition: Mapping[str, Any],
    *,
    bounds: Mapping[str, int] | None = None,
    region: str = "us-east-1",
    assumptions: TokenAssumptions | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    history: Assumptions | None = None,
) -> ModelCost:
    """Model-token USD of a typical execution (happy path, with ``history``'s Map items), at the
    steps' tiers and with every call moved to ``default`` / ``flex`` / ``priority`` where its
    model is sold in that tier; ``overrides``: model id -> model price overrides."""
    a = assumptions or TokenAssumptions()
    calls = model_calls(definition, a)

    def per_execution(tier: str | None) -> tuple[float, tuple[CallCost, ...]]:
        costs = tuple(
            price_call(c, region=region, assumptions=a, overrides=overrides, tier=tier)
            for c in calls.values()
        )
        usd = {c.call.state: c.usd for c in costs}
        totals = profile(definition, assumptions=history, bounds=bounds, call_usd=usd).happy
        return totals["model_usd"], costs

    total, costs = per_execution(None)
    by_tier = {tier: per_execution(tier)[0] for tier in ("default", "flex", "priority")}
    return ModelCost(
        calls=costs,
        per_execution=total,
        by_tier=by_tier,
        unpriced=tuple(sorted({c.call.model for c in costs if c.prices is None})),
        assumptions=a,
    )
