"""Bedrock model token prices as dated data, beside the orchestration :class:`~.pricing.Prices`.

Each :class:`ModelPrices` holds one model's on-demand list prices in USD per 1,000 tokens
(input, output, cache read, cache write) in one region, the batch discount, and the service
tiers it is sold in with their multipliers. :meth:`ModelPrices.cost` prices one call.

How Bedrock bills (Amazon Bedrock pricing page, https://aws.amazon.com/bedrock/pricing/, and
the Bedrock User Guide pages cited below, read 2026-11-30):

* **Cross-region inference** costs nothing extra and is priced in the *source* region: a
  ``us.``/``eu.``/``apac.`` profile id is priced as its foundation model in the region that
  calls it (pricing page, "Cross-region inference"). For the Claude 4.5 generation a
  geographic or in-region call costs 10% more than a ``global.`` call (``regional_premium``);
  that figure comes from third-party summaries of the pricing page: **unverified**.
* **Batch inference** is 50% of on-demand for the models that offer it ("Capacity, Limits,
  and Cost Optimization", https://docs.aws.amazon.com/bedrock/latest/userguide/capacity-limits-cost-optimization.html:
  "Batch ... 50% cost savings vs on-demand"); applied here to input and output tokens.
* **Service tiers**: Standard is the list price; Priority is "standard rate + premium" and
  Flex a "discounted standard model rate" (https://aws.amazon.com/bedrock/service-tiers/);
  AWS does not state the sizes there. Flex at 50% of Standard was stated in AWS's re:Invent
  2025 session AIM3304 (transcript); Priority at 175% of Standard is **unverified**. Tiers
  were launched for gpt-oss, DeepSeek V3.1, Qwen3 and Nova Pro / Premier (What's New,
  2025-11-18); a model here without a multiplier for a tier is not sold in it.

Verification status, honestly: the per-model figures below could not be read from the AWS
pricing page itself when this table was compiled (the page renders its tables client-side);
they agree with several dated third-party copies of it and are marked ``unverified`` in
``note``. Pass overrides (``model_prices_for(..., overrides=...)``, or a ``"models"`` object in
``lambdaless inspect --prices prices.json``) for the prices on your bill.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from lambdaless._geographies import DESTINATION_REGIONS
from lambdaless.analysis.pricing import MODELS_KEY

BEDROCK_PRICING_URL = "https://aws.amazon.com/bedrock/pricing/"
SERVICE_TIERS_URL = "https://aws.amazon.com/bedrock/service-tiers/"
CAPACITY_COST_URL = (
    "https://docs.aws.amazon.com/bedrock/latest/userguide/capacity-limits-cost-optimization.html"
)
CHECKED = "2026-11-30"

#: The service tiers of Converse/InvokeModel (``ServiceTier.type``: ``priority | default | flex |
#: reserved``, Bedrock API reference "API_runtime_ServiceTier"). ``reserved`` is capacity bought
#: ahead, not a per-token price, so it is not priced here.
TIERS: tuple[str, ...] = ("default", "priority", "flex")

#: Multiplier of the list price per tier (see the module docstring for their sources).
PRIORITY_MULTIPLIER = 1.75  # unverified
FLEX_MULTIPLIER = 0.5  # AWS re:Invent 2025 AIM3304; not on the pricing page as a figure
BATCH_DISCOUNT = 0.5  # capacity-limits-cost-optimization: 50% vs on-demand

_UNVERIFIED = (
    "unverified: figures not readable on the AWS pricing page when compiled; "
    "they agree with dated third-party copies of it"
)


@dataclass(frozen=True)
class ModelPrices:
    """Token prices of one Bedrock model in one region, USD per 1,000 tokens.

    ``cache_read_per_1k``/``cache_write_per_1k`` are ``None`` for a model without prompt
    caching; ``batch_discount`` is ``None`` when the model has no batch inference;
    ``tier_multipliers`` names the tiers besides ``default`` the model is sold in.
    ``regional_premium`` is what a geographic or in-region call costs more than a ``global.``
    one; :func:`model_prices_for` has already applied it to the prices unless the model was
    named by a ``global.`` profile.
    """

    model: str
    region: str
    input_per_1k: float
    output_per_1k: float
    cache_read_per_1k: float | None = None
    cache_write_per_1k: float | None = None
    batch_discount: float | None = BATCH_DISCOUNT
    tier_multipliers: Mapping[str, float] = dataclasses.field(
        default_factory=lambda: MappingProxyType({})
    )
    regional_premium: float = 0.0
    checked: str = CHECKED
    sources: tuple[str, ...] = (BEDROCK_PRICING_URL,)
    note: str = _UNVERIFIED

    @property
    def caching(self) -> bool:
        """Whether the model bills cache tokens (supports prompt caching)."""
        return self.cache_read_per_1k is not None

    def tiers(self) -> tuple[str, ...]:
        """The tiers this model is priced in, ``default`` first."""
        return ("default", *sorted(self.tier_multipliers))

    def multiplier(self, tier: str) -> float:
        """The price multiplier of ``tier`` (1.0 for ``default``/``standard``)."""
        if tier in ("default", "standard"):
            return 1.0
        if tier not in self.tier_multipliers:
            raise ValueError(
                f"tier={tier!r}: {self.model} is priced in {list(self.tiers())} only "
                f"(Bedrock service tiers, {SERVICE_TIERS_URL})"
            )
        return self.tier_multipliers[tier]

    def cost(
        self,
        *,
        input_tokens: float = 0,
        output_tokens: float = 0,
        cache_read: float = 0,
        cache_write: float = 0,
        tier: str = "default",
        batch: bool = False,
    ) -> float:
        """USD of one call (or of token totals).

        Args:
            input_tokens: uncached input tokens (default 0).
            output_tokens: output tokens (default 0).
            cache_read: input tokens read from the prompt cache (default 0).
            cache_write: input tokens written to the prompt cache (default 0).
            tier: the service tier, ``default`` (Standard), ``priority`` or ``flex``.
            batch: priced as batch inference (input and output at the batch discount; tiers do
                not apply to batch jobs). Default ``False``.
        """
        for name, value in (
            ("input_tokens", input_tokens),
            ("output_tokens", output_tokens),
            ("cache_read", cache_read),
            ("cache_write", cache_write),
        ):
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name}={value!r}: expected a number of tokens >= 0")
        if (cache_read or cache_write) and not self.caching:
            raise ValueError(
                f"{self.model} has no prompt caching: cache_read/cache_write must be 0 "
                "(Bedrock user guide, prompt-caching)"
            )
        scale = self.multiplier(tier)
        io_scale = scale
        if batch:
            if self.batch_discount is None:
                raise ValueError(f"batch=True: {self.model} has no batch price")
            if tier not in ("default", "standard"):
                raise ValueError(f"batch=True with tier={tier!r}: batch jobs have no tier")
            io_scale = scale * (1.0 - self.batch_discount)
        total = (input_tokens * self.input_per_1k + output_tokens * self.output_per_1k) * io_scale
        if self.cache_read_per_1k is not None and self.cache_write_per_1k is not None:
            total += (
                cache_read * self.cache_read_per_1k + cache_write * self.cache_write_per_1k
            ) * scale
        return total / 1000

    def describe(self) -> str:
        """``anthropic.claude-... us-east-1 prices checked 2026-11-30 (url); note``."""
        text = f"{self.model} {self.region} prices checked {self.checked or 'unknown'}"
        if self.sources:
            text += f" ({', '.join(self.sources)})"
        return text + (f"; {self.note}" if self.note else "")


def _row(
    model: str,
    input_per_1m: float,
    output_per_1m: float,
    *,
    cache_read_per_1m: float | None = None,
    cache_write_per_1m: float | None = None,
    batch: bool = True,
    tiers: tuple[str, ...] = (),
    regional_premium: float = 0.0,
) -> ModelPrices:
    multipliers = {"priority": PRIORITY_MULTIPLIER, "flex": FLEX_MULTIPLIER}
    return ModelPrices(
        model=model,
        region="us-east-1",
        input_per_1k=input_per_1m / 1000,
        output_per_1k=output_per_1m / 1000,
        cache_read_per_1k=None if cache_read_per_1m is None else cache_read_per_1m / 1000,
        cache_write_per_1k=None if cache_write_per_1m is None else cache_write_per_1m / 1000,
        batch_discount=BATCH_DISCOUNT if batch else None,
        tier_multipliers=MappingProxyType({tier: multipliers[tier] for tier in tiers}),
        regional_premium=regional_premium,
        sources=(BEDROCK_PRICING_URL, CAPACITY_COST_URL) + ((SERVICE_TIERS_URL,) if tiers else ()),
    )


_BOTH = ("priority", "flex")

# us-east-1 on-demand list prices, written per 1M tokens for legibility (stored per 1,000).
# Claude: cache write 1.25x and cache read 0.1x the input price (5-minute TTL). Nova: cache
# read 0.25x input; cache writes are billed as ordinary input. All rows: unverified (see above).
_TABLE: tuple[ModelPrices, ...] = (
    # Anthropic
    _row(
        "anthropic.claude-opus-4-5-20251101-v1:0",
        5.0,
        25.0,
        cache_read_per_1m=0.5,
        cache_write_per_1m=6.25,
        regional_premium=0.10,
    ),
    _row(
        "anthropic.claude-opus-4-1-20250805-v1:0",
        15.0,
        75.0,
        cache_read_per_1m=1.5,
        cache_write_per_1m=18.75,
    ),
    _row(
        "anthropic.claude-opus-4-20250514-v1:0",
        15.0,
        75.0,
        cache_read_per_1m=1.5,
        cache_write_per_1m=18.75,
    ),
    _row(
        "anthropic.claude-sonnet-4-5-20250929-v1:0",
        3.0,
        15.0,
        cache_read_per_1m=0.3,
        cache_write_per_1m=3.75,
        regional_premium=0.10,
    ),
    _row(
        "anthropic.claude-sonnet-4-20250514-v1:0",
        3.0,
        15.0,
        cache_read_per_1m=0.3,
        cache_write_per_1m=3.75,
    ),
    _row(
        "anthropic.claude-3-7-sonnet-20250219-v1:0",
        3.0,
        15.0,
        cache_read_per_1m=0.3,
        cache_write_per_1m=3.75,
    ),
    _row(
        "anthropic.claude-haiku-4-5-20251001-v1:0",
        1.0,
        5.0,
        cache_read_per_1m=0.1,
        cache_write_per_1m=1.25,
        regional_premium=0.10,
    ),
    _row(
        "anthropic.claude-3-5-haiku-20241022-v1:0",
        0.8,
        4.0,
        cache_read_per_1m=0.08,
        cache_write_per_1m=1.0,
    ),
    _row("anthropic.claude-3-haiku-20240307-v1:0", 0.25, 1.25),
    # Amazon Nova
    _row(
        "amazon.nova-micro-v1:0", 0.035, 0.14, cache_read_per_1m=0.00875, cache_write_per_1m=0.035
    ),
    _row("amazon.nova-lite-v1:0", 0.06, 0.24, cache_read_per_1m=0.015, cache_write_per_1m=0.06),
    _row(
        "amazon.nova-pro-v1:0", 0.8, 3.2, cache_read_per_1m=0.2, cache_write_per_1m=0.8, tiers=_BOTH
    ),
    _row("amazon.nova-premier-v1:0", 2.5, 12.5, tiers=_BOTH),
    # Meta, OpenAI, DeepSeek, Qwen
    _row("meta.llama3-3-70b-instruct-v1:0", 0.72, 0.72),
    _row("meta.llama3-1-8b-instruct-v1:0", 0.22, 0.22),
    _row("openai.gpt-oss-120b-1:0", 0.15, 0.6, tiers=_BOTH),
    _row("openai.gpt-oss-20b-1:0", 0.07, 0.3, tiers=_BOTH),
    _row("deepseek.v3-v1:0", 0.58, 1.68, tiers=_BOTH),
    _row("qwen.qwen3-32b-v1:0", 0.15, 0.6, tiers=_BOTH),
)

#: foundation model id -> its us-east-1 prices
MODEL_PRICES: Mapping[str, ModelPrices] = MappingProxyType({row.model: row for row in _TABLE})

_FIELDS = {f.name for f in dataclasses.fields(ModelPrices)} - {"model"}
_ARN_TAIL = re.compile(r":(?:foundation-model|inference-profile)/(?P<id>[^/]+)$")


def model_identifier(model: str) -> str:
    """The model or profile id an ARN names (``arn:...:inference-profile/us.anthropic...`` ->
    ``us.anthropic...``); any other text as it is."""
    match = _ARN_TAIL.search(model)
    return match.group("id") if match else model


def foundation_model_id(model: str) -> tuple[str, str | None]:
    """``(foundation model id, profile prefix or None)`` of a model id, profile id or ARN.

    ``us.anthropic.claude-...`` -> ``("anthropic.claude-...", "us")``.
    """
    identifier = model_identifier(model)
    prefix, dot, rest = identifier.partition(".")
    if dot and prefix in DESTINATION_REGIONS and "." in rest:
        return rest, prefix
    return identifier, None


def model_prices_for(
    model: str,
    region: str = "us-east-1",
    overrides: Mapping[str, Any] | None = None,
) -> ModelPrices:
    """The token prices of ``model`` (a foundation model id, profile id or ARN) in ``region``.

    A cross-region profile is priced as its foundation model in the calling region. A region
    without data uses us-east-1's prices and says so in ``note``. ``overrides`` (field name ->
    value) replace fields; with ``input_per_1k`` and ``output_per_1k`` they also price a model
    the table lacks. Raises :class:`LookupError` for an unknown model without such overrides.
    """
    model_id, prefix = foundation_model_id(model)
    changes = dict(overrides or {})
    unknown = sorted(set(changes) - _FIELDS)
    if unknown:
        raise ValueError(
            f"model price overrides {unknown} are not fields of ModelPrices; use {sorted(_FIELDS)}"
        )
    base = MODEL_PRICES.get(model_id)
    if base is None:
        if not {"input_per_1k", "output_per_1k"} <= set(changes):
            raise LookupError(
                f"no token prices for model {model_id!r} (known: {sorted(MODEL_PRICES)}); "
                "pass overrides with input_per_1k and output_per_1k"
            )
        base = ModelPrices(
            model=model_id,
            region=region,
            input_per_1k=0.0,
            output_per_1k=0.0,
            note="",
            sources=(),
            checked="",
        )
    else:
        if region != base.region:
            base = dataclasses.replace(
                base,
                region=region,
                note=f"no price data for {region}: us-east-1 prices used; {base.note}",
            )
        if base.regional_premium and prefix != "global":
            base = _with_premium(base)
    for name in ("input_per_1k", "output_per_1k", "cache_read_per_1k", "cache_write_per_1k"):
        value = changes.get(name)
        if (
            name in changes
            and value is not None
            and (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or value < 0
                or not math.isfinite(value)
            )
        ):
            raise ValueError(f"model price override {name}={value!r}: expected a price >= 0")
    if "tier_multipliers" in changes:
        changes["tier_multipliers"] = MappingProxyType(dict(changes["tier_multipliers"]))
    if "sources" in changes:
        changes["sources"] = tuple(changes["sources"])
    if changes and "note" not in changes:
        changes["note"] = (
            (base.note + "; " if base.note else "") + "overridden: " + ", ".join(sorted(changes))
        )
    return dataclasses.replace(base, **changes)


def _with_premium(prices: ModelPrices) -> ModelPrices:
    """The geographic / in-region prices of a model whose table row is its global price."""
    factor = 1.0 + prices.regional_premium

    def scaled(value: float | None) -> float | None:
        return None if value is None else value * factor

    return dataclasses.replace(
        prices,
        input_per_1k=prices.input_per_1k * factor,
        output_per_1k=prices.output_per_1k * factor,
        cache_read_per_1k=scaled(prices.cache_read_per_1k),
        cache_write_per_1k=scaled(prices.cache_write_per_1k),
        note=f"geographic/in-region: +{prices.regional_premium:.0%} over global (unverified); "
        + prices.note,
    )


def load_model_overrides(path: str | Path, region: str | None = None) -> dict[str, dict[str, Any]]:
    """The ``"models"`` object of a prices file (model id -> field overrides), or ``{}``.

    The same file :func:`~lambdaless.analysis.pricing.load_prices` reads: ``"models"`` sits
    beside the orchestration price fields, at the top level or in ``region``'s object.
    """
    document = json.loads(Path(path).read_text())
    if not isinstance(document, dict):
        raise ValueError(f"{path}: expected a JSON object")
    scope = document
    if MODELS_KEY not in document and region is not None and isinstance(document.get(region), dict):
        scope = document[region]
    models = scope.get(MODELS_KEY, {})
    if not isinstance(models, dict) or not all(isinstance(v, dict) for v in models.values()):
        raise ValueError(f'{path}: "models" must map model ids to objects of price fields')
    return {foundation_model_id(k)[0]: dict(v) for k, v in models.items()}
