"""Rules about prompt caching, service tiers and latency-optimized inference.

Sources (read 2026-11-30):

* Bedrock user guide, "Prompt caching for faster model inference"
  (https://docs.aws.amazon.com/bedrock/latest/userguide/prompt-caching.html): explicit cache
  checkpoints on Claude 3.7 Sonnet, Claude 3.5 Haiku, the Claude 4 generation (Sonnet 4,
  Opus 4, Opus 4.1, Sonnet 4.5, Haiku 4.5, Opus 4.5 and later) and Amazon Nova Micro, Lite,
  Pro and Premier; Claude 3.5 Sonnet v2 only for customers of the preview. A checkpoint below
  the model's minimum tokens (1,024 for Claude 3.7 Sonnet) is accepted and simply not cached.
* Bedrock user guide, "Service tiers for optimizing performance and cost"
  (https://docs.aws.amazon.com/bedrock/latest/userguide/service-tiers-inference.html) and
  What's New 2025-11-18: Priority and Flex for OpenAI gpt-oss-20b/120b, DeepSeek V3.1, Qwen3
  (Coder-480B-A35B, Coder-30B-A3B, 32B, 235B-A22B-2507), Amazon Nova Pro and Nova Premier.
* Bedrock user guide, "Optimize model inference for latency"
  (https://docs.aws.amazon.com/bedrock/latest/userguide/latency-optimized-inference.html):
  ``performanceConfig.latency = optimized`` for Nova Pro (us-east-1, us-east-2), Claude 3.5
  Haiku (us-east-2, us-west-2), Llama 3.1 405B (us-east-2) and 70B (us-east-2, us-west-2),
  through cross-region inference profiles.
* Step Functions developer guide, "Invoke and customize Amazon Bedrock models with Step
  Functions" (https://docs.aws.amazon.com/step-functions/latest/dg/connect-bedrock.html): the
  optimized ``bedrock:invokeModel`` integration passes ModelId, Body, ContentType, Accept,
  Trace, GuardrailIdentifier, GuardrailVersion, Input and Output, and no performance
  configuration or service tier; the ``aws-sdk:bedrockruntime:converse`` integration passes
  the Converse API's fields (``PerformanceConfig``, ``ServiceTier``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

from lambdaless.rules._rule import Rule

_GUIDE = "https://docs.aws.amazon.com/bedrock/latest/userguide/"

PROMPT_CACHING_MODEL = Rule(
    "prompt-caching-model",
    "cache_system on a model AWS does not list for prompt caching (Claude 3.7 Sonnet, 3.5 Haiku, "
    "the Claude 4 generation and later, Amazon Nova), or without a system prompt to cache",
    _GUIDE + "prompt-caching.html",
    "construct",
)
PERFORMANCE_INTEGRATION = Rule(
    "performance-integration",
    "service_tier or latency on InvokeBedrock: the optimized bedrock:invokeModel integration "
    "passes neither (use Converse, which passes ServiceTier and PerformanceConfig)",
    "https://docs.aws.amazon.com/step-functions/latest/dg/connect-bedrock.html",
    "construct",
)
SERVICE_TIER_MODEL = Rule(
    "service-tier-model",
    "a service_tier other than 'default' on a model AWS does not list for the Priority and Flex "
    "tiers, or a tier that is not 'priority', 'default' or 'flex'",
    _GUIDE + "service-tiers-inference.html",
    "construct",
)
LATENCY_OPTIMIZED_MODEL = Rule(
    "latency-optimized-model",
    "latency='optimized' on a model or Region AWS does not list for latency-optimized inference "
    "(Nova Pro, Claude 3.5 Haiku, Llama 3.1 405B and 70B, through cross-region profiles), or a "
    "latency that is not 'standard' or 'optimized'",
    _GUIDE + "latency-optimized-inference.html",
    "construct",
)

RULES: tuple[Rule, ...] = (
    PROMPT_CACHING_MODEL,
    PERFORMANCE_INTEGRATION,
    SERVICE_TIER_MODEL,
    LATENCY_OPTIMIZED_MODEL,
)

_CACHING = re.compile(
    r"^(anthropic\.claude-(3-7-sonnet|3-5-haiku|(opus|sonnet|haiku)-([4-9]|\d\d))"
    r"|amazon\.nova-(micro|lite|pro|premier|2-lite)-)"
)
SERVICE_TIERS: tuple[str, ...] = ("priority", "default", "flex")
_TIERED = re.compile(
    r"^(openai\.gpt-oss-(20b|120b)-|deepseek\.v3-|qwen\.qwen3-(coder-480b-a35b|coder-30b-a3b|32b|"
    r"235b-a22b-2507)-|amazon\.nova-(pro|premier)-)"
)
LATENCIES: tuple[str, ...] = ("standard", "optimized")
#: foundation model id prefix -> the source Regions AWS lists for latency-optimized inference
LATENCY_OPTIMIZED_REGIONS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "amazon.nova-pro-v1:0": ("us-east-1", "us-east-2"),
        "anthropic.claude-3-5-haiku-20241022-v1:0": ("us-east-2", "us-west-2"),
        "meta.llama3-1-405b-instruct-v1:0": ("us-east-2",),
        "meta.llama3-1-70b-instruct-v1:0": ("us-east-2", "us-west-2"),
    }
)


def supports_caching(model_id: str | None) -> bool:
    """Whether AWS lists the foundation model for explicit prompt-cache checkpoints."""
    return model_id is not None and bool(_CACHING.search(model_id))


def check_cache_system(model_id: str | None, *, cache_system: object, system: object) -> None:
    """``cache_system=True`` needs a system prompt and a model that supports prompt caching."""
    PROMPT_CACHING_MODEL.require(
        isinstance(cache_system, bool), "cache_system", cache_system, "True or False"
    )
    if not cache_system:
        return
    PROMPT_CACHING_MODEL.require(
        system is not None, "cache_system", cache_system, "True only with a system prompt"
    )
    PROMPT_CACHING_MODEL.require(
        supports_caching(model_id),
        "cache_system",
        f"True for model {model_id!r}",
        "a model AWS lists for prompt caching (Claude 3.7 Sonnet, Claude 3.5 Haiku, Claude "
        "Sonnet/Opus/Haiku 4 and later, Amazon Nova Micro/Lite/Pro/Premier)",
    )


def check_performance(
    model_id: str | None,
    *,
    service_tier: object,
    latency: object,
    region: str | None,
    converse: bool,
) -> None:
    """A service tier and a latency mode the integration carries and AWS lists for the model
    (and, for latency-optimized inference, the stack's Region when it is known)."""
    if not converse:
        for name, value in (("service_tier", service_tier), ("latency", latency)):
            PERFORMANCE_INTEGRATION.require(
                value is None,
                name,
                value,
                "None on InvokeBedrock; use Converse (aws-sdk:bedrockruntime:converse), which "
                "passes ServiceTier and PerformanceConfig",
            )
        return
    if service_tier is not None:
        SERVICE_TIER_MODEL.require(
            service_tier in SERVICE_TIERS, "service_tier", service_tier, f"one of {SERVICE_TIERS}"
        )
        SERVICE_TIER_MODEL.require(
            service_tier == "default" or bool(model_id and _TIERED.search(model_id)),
            "service_tier",
            f"{service_tier!r} for model {model_id!r}",
            "'default', or a model AWS lists for Priority and Flex (gpt-oss-20b/120b, DeepSeek "
            "V3.1, Qwen3 Coder-480B/Coder-30B/32B/235B, Amazon Nova Pro and Premier)",
        )
    if latency is not None:
        LATENCY_OPTIMIZED_MODEL.require(
            latency in LATENCIES, "latency", latency, f"one of {LATENCIES}"
        )
        if latency == "optimized":
            regions = LATENCY_OPTIMIZED_REGIONS.get(model_id or "")
            LATENCY_OPTIMIZED_MODEL.require(
                regions is not None,
                "latency",
                f"'optimized' for model {model_id!r}",
                f"a model AWS lists for latency-optimized inference: "
                f"{sorted(LATENCY_OPTIMIZED_REGIONS)}",
            )
            assert regions is not None
            LATENCY_OPTIMIZED_MODEL.require(
                region is None or region in regions,
                "latency",
                f"'optimized' for model {model_id!r} in {region}",
                f"a stack in {', '.join(regions)} (the Regions AWS lists for this model)",
            )
