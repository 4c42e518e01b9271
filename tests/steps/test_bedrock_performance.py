"""Prompt caching, service tier and latency mode on the Bedrock steps: snapshots of the resolved
ASL and local runs that show the cache tokens in ``usage``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
from syrupy.assertion import SnapshotAssertion

from lambdaless import ChainPrompt, Converse, Inference, InvokeBedrock, PromptChain, Workflow
from lambdaless.testing import LocalRunner, mocks

Asl = Callable[[cdk.Stack], dict[str, Any]]
SYSTEM = "You are a careful editor. Answer in plain English."


def only_state(stack: cdk.Stack, asl: Asl, step: Any) -> dict[str, Any]:
    Workflow(stack, "Workflow", definition=step)
    return asl(stack)


def test_invoke_anthropic_cached_system(
    stack: cdk.Stack, asl: Asl, snapshot_json: SnapshotAssertion
) -> None:
    step = InvokeBedrock(
        stack,
        "Ask",
        model="us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        system=SYSTEM,
        prompt="{% $states.input.question %}",
        inference=Inference(max_tokens=300),
        cache_system=True,
    )
    definition = only_state(stack, asl, step)
    body = definition["States"]["Ask"]["Arguments"]["Body"]
    assert body["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert definition == snapshot_json


def test_converse_flex_cached_optimized(
    stack: cdk.Stack, asl: Asl, snapshot_json: SnapshotAssertion
) -> None:
    step = Converse(
        stack,
        "Chat",
        model="us.amazon.nova-pro-v1:0",
        system=SYSTEM,
        prompt="{% $states.input.question %}",
        cache_system=True,
        service_tier="flex",
        latency="standard",
    )
    definition = only_state(stack, asl, step)
    arguments = definition["States"]["Chat"]["Arguments"]
    assert arguments["ServiceTier"] == {"Type": "flex"}
    assert arguments["PerformanceConfig"] == {"Latency": "standard"}
    assert definition == snapshot_json


def _chain(stack: cdk.Stack) -> PromptChain:
    return PromptChain(
        stack,
        "Chain",
        model="us.anthropic.claude-haiku-4-5-20251001-v1:0",
        system=SYSTEM,
        cache_system=True,
        prompts=[
            ChainPrompt(name="first", prompt="{% $states.input.topic %}"),
            ChainPrompt(name="second", prompt="{% 'Shorter: ' & $first.text %}"),
        ],
    )


def test_prompt_chain_shares_one_cached_system_prompt(
    stack: cdk.Stack, asl: Asl, snapshot_json: SnapshotAssertion
) -> None:
    definition = only_state(stack, asl, _chain(stack))
    systems = [
        definition["States"][name]["Arguments"]["Body"]["system"] for name in ("First", "Second")
    ]
    assert (
        systems[0]
        == systems[1]
        == [{"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}]
    )
    assert definition == snapshot_json


def test_local_run_reports_cache_tokens(us_stack: cdk.Stack) -> None:
    Workflow(us_stack, "Workflow", definition=_chain(us_stack))
    result = LocalRunner(us_stack).run(
        input={"topic": "tides"},
        responses={
            # the first call writes the system prompt to the cache, the second reads it
            "First": mocks.bedrock_text(
                "anthropic", "Tides rise.", input_tokens=8, cache_write_tokens=1500
            ),
            "Second": mocks.bedrock_text(
                "anthropic", "Tides.", input_tokens=9, cache_read_tokens=1500
            ),
        },
    )
    assert result.status == "SUCCEEDED", result
    assert result.output is not None
    assert result.output["usage"] == {
        "inputTokens": 9,
        "outputTokens": 20,
        "cacheReadInputTokens": 1500,
        "cacheWriteInputTokens": 0,
    }
