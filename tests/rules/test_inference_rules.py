"""Inference-parameter rules: generic ranges, per-model limits, and what Converse supports."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from tests.rules._support import accepted, refused

from lambdaless import Converse, Inference, InvokeBedrock


def invoke(stack: cdk.Stack, model: str, **inference: Any) -> InvokeBedrock:
    return InvokeBedrock(stack, "Ask", model=model, prompt="hi", inference=Inference(**inference))


def converse(stack: cdk.Stack, model: str, system: str | None = None, **inference: Any) -> Any:
    return Converse(
        stack, "Chat", model=model, prompt="hi", system=system, inference=Inference(**inference)
    )


@pytest.mark.parametrize(
    ("argument", "value"),
    [
        ("max_tokens", 0),
        ("max_tokens", -5),
        ("max_tokens", 1.5),
        ("max_tokens", True),
        ("max_tokens", "1024"),
        ("temperature", -0.1),
        ("temperature", 2.5),
        ("temperature", "0.7"),
        ("top_p", 1.5),
        ("top_p", -1),
        ("stop_sequences", ["", "END"]),
    ],
)
def test_inference_range(argument: str, value: Any) -> None:
    refused("inference-range", lambda: Inference(**{argument: value}), argument=argument)


@pytest.mark.parametrize(
    "values",
    [{}, {"max_tokens": 1}, {"temperature": 0}, {"temperature": 1.0, "max_tokens": 4096}],
)
def test_inference_range_good_values_pass(values: dict[str, Any]) -> None:
    accepted(lambda: Inference(**values))


@pytest.mark.parametrize(
    ("model", "max_tokens"),
    [
        ("anthropic.claude-3-haiku-20240307-v1:0", 4097),
        ("anthropic.claude-3-5-haiku-20241022-v1:0", 8193),
        ("anthropic.claude-3-7-sonnet-20250219-v1:0", 64_001),
        ("anthropic.claude-opus-4-1-20250805-v1:0", 32_001),
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", 64_001),
        ("amazon.nova-lite-v1:0", 10_001),
        ("amazon.titan-text-express-v1", 8193),
        ("amazon.titan-text-premier-v1:0", 3073),
        ("meta.llama3-1-8b-instruct-v1:0", 2049),
        ("mistral.mixtral-8x7b-instruct-v0:1", 4097),
        ("cohere.command-r-plus-v1:0", 4001),
        ("ai21.jamba-1-5-mini-v1:0", 4097),
    ],
)
def test_inference_model_limits_max_tokens(stack: cdk.Stack, model: str, max_tokens: int) -> None:
    refused(
        "inference-model-limits",
        lambda: invoke(stack, model, max_tokens=max_tokens),
        argument="max_tokens",
        value=max_tokens,
    )
    accepted(
        lambda: InvokeBedrock(
            stack,
            "AtLimit",
            model=model,
            prompt="hi",
            inference=Inference(max_tokens=max_tokens - 1),
        )
    )


@pytest.mark.parametrize(
    ("model", "temperature", "ok"),
    [
        ("ai21.jamba-1-5-large-v1:0", 1.5, True),
        ("openai.gpt-oss-120b-1:0", 2.0, True),
        ("anthropic.claude-3-5-haiku-20241022-v1:0", 1.5, False),
        ("amazon.nova-pro-v1:0", 1.2, False),
        ("meta.llama3-3-70b-instruct-v1:0", 1.01, False),
        ("mistral.mistral-large-2407-v1:0", 1.5, False),
    ],
)
def test_inference_model_limits_temperature(
    stack: cdk.Stack, model: str, temperature: float, ok: bool
) -> None:
    if ok:
        accepted(lambda: invoke(stack, model, temperature=temperature))
        # Converse's InferenceConfiguration takes 0-1 whatever the model
        refused(
            "inference-model-limits",
            lambda: converse(stack, model, temperature=temperature),
            argument="temperature",
        )
    else:
        refused(
            "inference-model-limits",
            lambda: invoke(stack, model, temperature=temperature),
            argument="temperature",
        )


def test_llama_takes_no_stop_sequences_through_invoke_model(stack: cdk.Stack) -> None:
    model = "meta.llama3-8b-instruct-v1:0"
    refused(
        "inference-model-limits",
        lambda: invoke(stack, model, stop_sequences=["END"]),
        argument="stop_sequences",
    )
    accepted(lambda: converse(stack, model, stop_sequences=["END"]))


@pytest.mark.parametrize(
    "model",
    [
        "anthropic.claude-sonnet-4-5-20250929-v1:0",
        "anthropic.claude-haiku-4-5-20251001-v1:0",
        "anthropic.claude-opus-4-1-20250805-v1:0",
        "global.anthropic.claude-opus-4-5-20251101-v1:0",
        "anthropic.claude-sonnet-4-6",
    ],
)
def test_inference_sampling_exclusive(stack: cdk.Stack, model: str) -> None:
    refused(
        "inference-sampling-exclusive",
        lambda: invoke(stack, model, temperature=0.5, top_p=0.9),
        argument="temperature/top_p",
    )
    refused(
        "inference-sampling-exclusive",
        lambda: converse(stack, model, temperature=0.5, top_p=0.9),
    )
    accepted(
        lambda: InvokeBedrock(
            stack, "T", model=model, prompt="x", inference=Inference(temperature=0.5)
        )
    )
    accepted(
        lambda: InvokeBedrock(stack, "P", model=model, prompt="x", inference=Inference(top_p=0.9))
    )


@pytest.mark.parametrize(
    "model",
    [
        "anthropic.claude-3-5-haiku-20241022-v1:0",
        "anthropic.claude-sonnet-4-20250514-v1:0",
        "anthropic.claude-opus-4-20250514-v1:0",
        "amazon.nova-pro-v1:0",
    ],
)
def test_older_models_take_temperature_and_top_p_together(stack: cdk.Stack, model: str) -> None:
    accepted(lambda: invoke(stack, model, temperature=0.5, top_p=0.9))


@pytest.mark.parametrize(
    "model",
    [
        "amazon.titan-embed-text-v2:0",
        "cohere.embed-english-v3",
        "amazon.nova-canvas-v1:0",
        "amazon.titan-image-generator-v2:0",
        "stability.sd3-5-large-v1:0",
        "amazon.nova-reel-v1:1",
        "luma.ray-v2:0",
        "amazon.nova-sonic-v1:0",
        "cohere.rerank-v3-5:0",
        "us.twelvelabs.marengo-embed-2-7-v1:0",
    ],
)
def test_converse_model(stack: cdk.Stack, model: str) -> None:
    refused("converse-model", lambda: converse(stack, model), argument="model")


@pytest.mark.parametrize(
    "model",
    [
        "amazon.titan-text-express-v1",
        "amazon.titan-text-premier-v1:0",
        "mistral.mistral-7b-instruct-v0:2",
        "mistral.mixtral-8x7b-instruct-v0:1",
        "cohere.command-text-v14",
    ],
)
def test_converse_system_prompt(stack: cdk.Stack, model: str) -> None:
    refused("converse-model", lambda: converse(stack, model, system="Be brief."), argument="system")
    accepted(lambda: Converse(stack, "NoSystem", model=model, prompt="Be brief. hi"))


@pytest.mark.parametrize(
    "model",
    [
        "anthropic.claude-3-5-haiku-20241022-v1:0",
        "amazon.nova-lite-v1:0",
        "meta.llama3-1-8b-instruct-v1:0",
        "mistral.mistral-large-2407-v1:0",
        "cohere.command-r-v1:0",
        "ai21.jamba-1-5-mini-v1:0",
        "deepseek.r1-v1:0",
        "qwen.qwen3-32b-v1:0",
        "openai.gpt-oss-20b-1:0",
        "writer.palmyra-x5-v1:0",
    ],
)
def test_converse_chat_models_pass(stack: cdk.Stack, model: str) -> None:
    accepted(lambda: converse(stack, model, system="Be brief."))


@pytest.mark.parametrize(
    "model",
    [
        "anthropic.claude-opus-4-7",
        "us.anthropic.claude-opus-4-8",
        "anthropic.claude-sonnet-5",
        "anthropic.claude-haiku-5-5",
        "anthropic.claude-fable-5",
    ],
)
@pytest.mark.parametrize("sampling", [{"temperature": 0.2}, {"top_p": 0.9}])
def test_inference_sampling_refused(
    stack: cdk.Stack, model: str, sampling: dict[str, float]
) -> None:
    refused(
        "inference-sampling-refused",
        lambda: invoke(stack, model, **sampling),
        argument="temperature/top_p",
    )
    refused("inference-sampling-refused", lambda: converse(stack, model, **sampling))
    accepted(lambda: InvokeBedrock(stack, "Plain", model=model, prompt="x"))
