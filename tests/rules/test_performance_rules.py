"""Prompt caching, service tiers and latency-optimized inference: refused where AWS lists no
support, passed where it does."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from tests.rules._support import accepted, refused

from lambdaless import ChainPrompt, Converse, FanOut, InvokeBedrock, PromptChain

SYSTEM = "You are a careful editor."


@pytest.mark.parametrize(
    "model",
    [
        "anthropic.claude-3-haiku-20240307-v1:0",
        "us.anthropic.claude-3-5-sonnet-20241022-v2:0",
        "meta.llama3-3-70b-instruct-v1:0",
        "cohere.command-r-v1:0",
        "mistral.mistral-large-2402-v1:0",
    ],
)
def test_prompt_caching_refused_without_support(stack: cdk.Stack, model: str) -> None:
    refused(
        "prompt-caching-model",
        lambda: InvokeBedrock(
            stack, "Ask", model=model, prompt="hi", system=SYSTEM, cache_system=True
        ),
        argument="cache_system",
    )
    refused(
        "prompt-caching-model",
        lambda: Converse(stack, "Chat", model=model, prompt="hi", system=SYSTEM, cache_system=True),
        argument="cache_system",
    )


@pytest.mark.parametrize(
    "model",
    [
        "anthropic.claude-3-7-sonnet-20250219-v1:0",
        "anthropic.claude-3-5-haiku-20241022-v1:0",
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "global.anthropic.claude-haiku-4-5-20251001-v1:0",
        "anthropic.claude-opus-4-1-20250805-v1:0",
        "us.amazon.nova-lite-v1:0",
        "amazon.nova-premier-v1:0",
    ],
)
def test_prompt_caching_passes_where_listed(stack: cdk.Stack, model: str) -> None:
    accepted(
        lambda: InvokeBedrock(
            stack, "Ask", model=model, prompt="hi", system=SYSTEM, cache_system=True
        )
    )
    accepted(
        lambda: Converse(stack, "Chat", model=model, prompt="hi", system=SYSTEM, cache_system=True)
    )


def test_prompt_caching_needs_a_system_prompt_and_a_bool(stack: cdk.Stack) -> None:
    model = "us.amazon.nova-lite-v1:0"
    refused(
        "prompt-caching-model",
        lambda: Converse(stack, "A", model=model, prompt="hi", cache_system=True),
        argument="cache_system",
        value=True,
    )
    refused(
        "prompt-caching-model",
        lambda: Converse(stack, "B", model=model, prompt="hi", system=SYSTEM, cache_system="yes"),  # type: ignore[arg-type]
        argument="cache_system",
        value="yes",
    )


def test_prompt_chain_names_the_step_that_cannot_cache(stack: cdk.Stack) -> None:
    error = refused(
        "prompt-caching-model",
        lambda: PromptChain(
            stack,
            "Chain",
            model="us.amazon.nova-lite-v1:0",
            system=SYSTEM,
            cache_system=True,
            prompts=[
                ChainPrompt(name="a", prompt="one"),
                ChainPrompt(name="b", prompt="two", model="meta.llama3-3-70b-instruct-v1:0"),
            ],
        ),
        argument="cache_system",
    )
    assert error.path is not None
    assert error.path.endswith("Chain/B")


@pytest.mark.parametrize(
    ("argument", "value"), [("service_tier", "flex"), ("latency", "optimized")]
)
def test_performance_options_refused_on_invoke_model(
    stack: cdk.Stack, argument: str, value: str
) -> None:
    error = refused(
        "performance-integration",
        lambda: InvokeBedrock(
            stack, "Ask", model="amazon.nova-pro-v1:0", prompt="hi", **{argument: value}
        ),
        argument=argument,
        value=value,
    )
    assert "Converse" in str(error)


@pytest.mark.parametrize(
    ("model", "tier"),
    [
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "flex"),
        ("amazon.nova-lite-v1:0", "priority"),
        ("meta.llama3-3-70b-instruct-v1:0", "flex"),
    ],
)
def test_service_tier_refused_on_models_without_it(stack: cdk.Stack, model: str, tier: str) -> None:
    refused(
        "service-tier-model",
        lambda: Converse(stack, "Chat", model=model, prompt="hi", service_tier=tier),
        argument="service_tier",
    )
    accepted(lambda: Converse(stack, "Default", model=model, prompt="hi", service_tier="default"))


@pytest.mark.parametrize("tier", ["standard", "reserved", "FLEX", 1])
def test_service_tier_values(stack: cdk.Stack, tier: Any) -> None:
    refused(
        "service-tier-model",
        lambda: Converse(
            stack, "Chat", model="amazon.nova-pro-v1:0", prompt="hi", service_tier=tier
        ),
        argument="service_tier",
        value=tier,
    )


@pytest.mark.parametrize(
    "model",
    [
        "openai.gpt-oss-120b-1:0",
        "openai.gpt-oss-20b-1:0",
        "deepseek.v3-v1:0",
        "qwen.qwen3-32b-v1:0",
        "us.amazon.nova-pro-v1:0",
        "us.amazon.nova-premier-v1:0",
    ],
)
@pytest.mark.parametrize("tier", ["priority", "flex"])
def test_service_tier_passes_where_listed(stack: cdk.Stack, model: str, tier: str) -> None:
    step = accepted(lambda: Converse(stack, "Chat", model=model, prompt="hi", service_tier=tier))
    arguments = step.to_state_json()["Arguments"]  # type: ignore[attr-defined]
    assert arguments["ServiceTier"] == {"Type": tier}


def test_latency_optimized_by_model_and_region(app: cdk.App) -> None:
    def stack_in(region: str) -> cdk.Stack:
        return cdk.Stack(app, region, env=cdk.Environment(account="111122223333", region=region))

    east2 = stack_in("us-east-2")
    step = accepted(
        lambda: Converse(
            east2,
            "Fast",
            model="us.anthropic.claude-3-5-haiku-20241022-v1:0",
            prompt="hi",
            latency="optimized",
        )
    )
    assert step.to_state_json()["Arguments"]["PerformanceConfig"] == {"Latency": "optimized"}  # type: ignore[attr-defined]
    refused(
        "latency-optimized-model",
        lambda: Converse(
            stack_in("us-east-1"),
            "Fast",
            model="us.anthropic.claude-3-5-haiku-20241022-v1:0",
            prompt="hi",
            latency="optimized",
        ),
        argument="latency",
        value="us-east-1",
    )
    refused(
        "latency-optimized-model",
        lambda: Converse(
            east2,
            "Sonnet",
            model="us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            prompt="hi",
            latency="optimized",
        ),
        argument="latency",
    )
    refused(
        "latency-optimized-model",
        lambda: Converse(
            east2, "Bad", model="us.amazon.nova-pro-v1:0", prompt="hi", latency="fast"
        ),
        argument="latency",
        value="fast",
    )
    accepted(
        lambda: Converse(
            east2, "Standard", model="us.amazon.nova-lite-v1:0", prompt="hi", latency="standard"
        )
    )


def test_fan_out_service_tier_calls_converse(stack: cdk.Stack) -> None:
    fan_out = FanOut(
        stack,
        "Flex",
        model="us.amazon.nova-pro-v1:0",
        prompt="{% $states.input.text %}",
        service_tier="flex",
        max_concurrency=5,
    )
    state = fan_out.step.to_state_json()
    assert state["Resource"].endswith(":::aws-sdk:bedrockruntime:converse")
    assert state["Arguments"]["ServiceTier"] == {"Type": "flex"}
    refused(
        "service-tier-model",
        lambda: FanOut(
            stack,
            "Lite",
            model="us.amazon.nova-lite-v1:0",
            prompt="{% $states.input.text %}",
            service_tier="flex",
            max_concurrency=5,
        ),
        argument="service_tier",
    )
