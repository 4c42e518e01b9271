"""Prompt-cache checkpoints in each request shape, and cache tokens in the uniform answer."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import jsonata
import pytest

from lambdaless import (
    ChainPrompt,
    FanOut,
    Inference,
    InvokeBedrock,
    LambdalessError,
    ModelFamily,
    PromptChain,
)
from lambdaless.prompts import (
    answer_expression,
    converse_answer_expression,
    converse_arguments,
    request_body,
)
from lambdaless.testing import mocks

SYSTEM = "You are a careful editor."


def evaluate(expression: str, result: Any) -> Any:
    return jsonata.Jsonata(expression[2:-2]).evaluate(None, {"states": {"result": result}})


def test_anthropic_body_marks_the_system_block() -> None:
    body = request_body(
        ModelFamily.ANTHROPIC, prompt="hi", system=SYSTEM, inference=Inference(), cache_system=True
    )
    assert body["system"] == [
        {"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}
    ]
    plain = request_body(ModelFamily.ANTHROPIC, prompt="hi", system=SYSTEM, inference=Inference())
    assert plain["system"] == SYSTEM  # unchanged without caching


def test_nova_body_puts_a_cache_point_after_the_system_prompt() -> None:
    body = request_body(
        ModelFamily.NOVA, prompt="hi", system=SYSTEM, inference=Inference(), cache_system=True
    )
    assert body["system"] == [{"text": SYSTEM}, {"cachePoint": {"type": "default"}}]


def test_converse_system_cache_point_tier_and_latency() -> None:
    arguments = converse_arguments(
        prompt="hi",
        system=SYSTEM,
        inference=Inference(max_tokens=10),
        cache_system=True,
        service_tier="flex",
        latency="optimized",
    )
    assert arguments["System"] == [{"Text": SYSTEM}, {"CachePoint": {"Type": "default"}}]
    assert arguments["ServiceTier"] == {"Type": "flex"}
    assert arguments["PerformanceConfig"] == {"Latency": "optimized"}
    assert "ServiceTier" not in converse_arguments(prompt="hi", system=None, inference=Inference())


def test_cache_needs_a_caching_family_and_a_system_prompt() -> None:
    with pytest.raises(ValueError, match="cache_system"):
        request_body(
            ModelFamily.LLAMA, prompt="hi", system=SYSTEM, inference=Inference(), cache_system=True
        )
    with pytest.raises(ValueError, match="cache_system"):
        request_body(
            ModelFamily.NOVA, prompt="hi", system=None, inference=Inference(), cache_system=True
        )


@pytest.mark.parametrize("family", ["anthropic", "nova"])
def test_usage_reports_cache_tokens_of_native_responses(family: str) -> None:
    result = mocks.bedrock_text(
        family, "ok", input_tokens=7, output_tokens=3, cache_read_tokens=1200, cache_write_tokens=0
    ).payload
    answer = evaluate(answer_expression(ModelFamily(family), cache=True), result)
    assert answer["usage"] == {
        "inputTokens": 7,
        "outputTokens": 3,
        "cacheReadInputTokens": 1200,
        "cacheWriteInputTokens": 0,
    }
    # a response without the fields (no checkpoint reached the minimum size) reports 0
    bare = mocks.bedrock_text(family, "ok", input_tokens=7, output_tokens=3).payload
    usage = evaluate(answer_expression(ModelFamily(family), cache=True), bare)["usage"]
    assert (usage["cacheReadInputTokens"], usage["cacheWriteInputTokens"]) == (0, 0)
    # without cache=True the answer keeps its two counts
    plain = evaluate(answer_expression(ModelFamily(family)), result)["usage"]
    assert plain == {"inputTokens": 7, "outputTokens": 3}


def test_converse_usage_reports_cache_tokens() -> None:
    result = mocks.converse_text("ok", cache_read_tokens=0, cache_write_tokens=1500).payload
    usage = evaluate(converse_answer_expression(cache=True), result)["usage"]
    assert usage == {
        "inputTokens": 10,
        "outputTokens": 20,
        "cacheReadInputTokens": 0,
        "cacheWriteInputTokens": 1500,
    }


def test_mock_cache_tokens_bad_input() -> None:
    with pytest.raises(ValueError, match="family='llama' has no prompt caching"):
        mocks.bedrock_text("llama", "x", cache_read_tokens=5)
    with pytest.raises(ValueError, match="cache_read_tokens=-1"):
        mocks.converse_text("x", cache_read_tokens=-1)
    anthropic = mocks.bedrock_text("anthropic", "x", cache_write_tokens=9).payload["Body"]
    assert anthropic["usage"]["cache_creation_input_tokens"] == 9
    assert anthropic["usage"]["cache_read_input_tokens"] == 0
    assert mocks.converse_text("x", service_tier="flex").payload["ServiceTier"] == {"Type": "flex"}


def test_cache_system_bad_input_names_the_argument(stack: cdk.Stack) -> None:
    nova = "us.amazon.nova-lite-v1:0"
    with pytest.raises(LambdalessError, match=r"cache_system=True is not allowed.*prompt"):
        InvokeBedrock(stack, "Raw", model=nova, body={"messages": []}, cache_system=True)
    with pytest.raises(LambdalessError, match=r"cache_system='yes'"):
        PromptChain(
            stack,
            "Chain",
            model=nova,
            system="s",
            cache_system="yes",  # type: ignore[arg-type]
            prompts=[ChainPrompt(name="a", prompt="x")],
        )
    with pytest.raises(LambdalessError, match=r"cache_system/service_tier=\[False, .flex.\]"):
        FanOut(
            stack,
            "Fan",
            step=InvokeBedrock(stack, "Each", model=nova, prompt="x"),
            service_tier="flex",
            max_concurrency=2,
        )
