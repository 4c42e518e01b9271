"""PromptChain: snapshot, exact IAM, validation, and local runs (happy, throttled, refused)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from syrupy.assertion import SnapshotAssertion

from lambdaless import ChainPrompt, LambdalessError, PromptChain, Workflow
from lambdaless.testing import LocalRunner, mocks

Asl = Callable[[cdk.Stack], dict[str, Any]]
NOVA = "us.amazon.nova-lite-v1:0"
HAIKU = "anthropic.claude-3-5-haiku-20241022-v1:0"


def _chain(stack: cdk.Stack) -> PromptChain:
    chain = PromptChain(
        stack,
        "Article",
        model=NOVA,
        system="You write clearly.",
        prompts=[
            ChainPrompt(name="outline", prompt="{% 'Outline: ' & $states.input.topic %}"),
            ChainPrompt(name="draft", model=HAIKU, prompt="{% 'Write from:\\n' & $outline.text %}"),
            ChainPrompt(
                name="title",
                prompt="{% 'Title for: ' & $draft.text & ' (outline ' & $outline.text & ')' %}",
            ),
        ],
    )
    Workflow(stack, "Writer", definition=chain)
    return chain


def test_snapshot(us_stack: cdk.Stack, asl: Asl, snapshot_json: SnapshotAssertion) -> None:
    _chain(us_stack)
    definition = asl(us_stack)
    assert list(definition["States"]) == ["Outline", "Draft", "Title"]
    assert all(s["Type"] == "Task" for s in definition["States"].values())  # no Pass state
    assert definition == snapshot_json


def test_iam_is_each_steps_model(us_stack: cdk.Stack, sm_statements: Any) -> None:
    _chain(us_stack)
    resources = [s["Resource"] for s in sm_statements(us_stack)]
    flat = [r for res in resources for r in (res if isinstance(res, list) else [res])]
    text = str(flat)
    assert "inference-profile/us.amazon.nova-lite-v1:0" in text
    assert "foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0" in text
    assert all(s["Action"] == "bedrock:InvokeModel" for s in sm_statements(us_stack))


def test_unknown_family_uses_converse(stack: cdk.Stack, asl: Asl) -> None:
    chain = PromptChain(
        stack,
        "C",
        model="writer.palmyra-x5-v1:0",
        prompts=[ChainPrompt(name="a", prompt="Hi")],
    )
    Workflow(stack, "W", definition=chain)
    assert asl(stack)["States"]["A"]["Resource"].endswith(":aws-sdk:bedrockruntime:converse")


@pytest.mark.parametrize(
    ("prompts", "message"),
    [
        ([], "prompts"),
        (
            [ChainPrompt(name="a", prompt="x"), ChainPrompt(name="a", prompt="y")],
            "unique prompt names",
        ),
        (
            [ChainPrompt(name="a", prompt="{% $b.text %}"), ChainPrompt(name="b", prompt="y")],
            "$b is not answered before prompt 'a'",
        ),
        ([ChainPrompt(name="a", prompt="{% $a.text %}")], "$a is not answered"),
    ],
)
def test_bad_chains_are_refused(stack: cdk.Stack, prompts: list[ChainPrompt], message: str) -> None:
    with pytest.raises(LambdalessError, match=message.replace("$", r"\$")):
        PromptChain(stack, "C", model=NOVA, prompts=prompts)


def test_bad_prompt_names_are_refused() -> None:
    with pytest.raises(LambdalessError, match="name='1st'"):
        ChainPrompt(name="1st", prompt="x")
    with pytest.raises(LambdalessError, match="reserved"):
        ChainPrompt(name="states", prompt="x")


def test_a_model_is_required(stack: cdk.Stack) -> None:
    with pytest.raises(LambdalessError, match=r"prompts\[0\]\.model"):
        PromptChain(stack, "C", prompts=[ChainPrompt(name="a", prompt="x")])


# -- local runs --------------------------------------------------------------------------------


def test_local_happy_path_passes_answers_forward(us_stack: cdk.Stack) -> None:
    _chain(us_stack)
    result = LocalRunner(us_stack).run(
        input={"topic": "tides"},
        responses={
            "Outline": mocks.bedrock_text("nova", "1. Moon"),
            "Draft": mocks.bedrock_text("anthropic", "The moon pulls."),
            "Title": mocks.bedrock_text("nova", "Moon Tides"),
        },
    )
    assert result.status == "SUCCEEDED"
    assert result.states == ["Outline", "Draft", "Title"]
    assert result.transitions == 3
    assert result.output == {
        "text": "Moon Tides",
        "stopReason": "end_turn",
        "usage": {"inputTokens": 10, "outputTokens": 20},
    }
    draft = result.calls_to("Draft")[0].arguments["Body"]["messages"][0]["content"][0]["text"]
    assert draft == "Write from:\n1. Moon"
    title = result.calls_to("Title")[0].arguments["Body"]["messages"][0]["content"][0]["text"]
    assert title == "Title for: The moon pulls. (outline 1. Moon)"


def test_local_throttled_step_retries(us_stack: cdk.Stack) -> None:
    _chain(us_stack)
    result = LocalRunner(us_stack).run(
        input={"topic": "tides"},
        responses={
            "Outline": mocks.bedrock_text("nova", "1. Moon"),
            "Draft": mocks.throttle(3, mocks.bedrock_text("anthropic", "The moon pulls.")),
            "Title": mocks.bedrock_text("nova", "Moon Tides"),
        },
    )
    assert result.status == "SUCCEEDED"
    assert [state for state, _ in result.retry_delays] == ["Draft"] * 3
    assert all(0 <= d <= cap for (_, d), cap in zip(result.retry_delays, (2, 4, 8), strict=True))


def test_local_refused_step_fails_the_chain(us_stack: cdk.Stack) -> None:
    _chain(us_stack)
    result = LocalRunner(us_stack).run(
        input={"topic": "tides"},
        responses={
            "Outline": mocks.bedrock_text("nova", "1. Moon"),
            "Draft": mocks.failure("Bedrock.ValidationException", "Malformed input request"),
        },
    )
    assert (result.status, result.error) == ("FAILED", "Bedrock.ValidationException")
    assert result.states == ["Outline", "Draft"]
    assert result.retries == 0


# -- structured answers --------------------------------------------------------------------------
OUTLINE = {
    "type": "object",
    "properties": {"sections": {"type": "array", "items": {"type": "string"}}},
    "required": ["sections"],
}


def test_a_later_prompt_reads_an_earlier_structured_answer(us_stack: cdk.Stack, asl: Asl) -> None:
    chain = PromptChain(
        us_stack,
        "Article",
        model=NOVA,
        prompts=[
            ChainPrompt(name="outline", prompt="Outline tides.", output_schema=OUTLINE),
            ChainPrompt(
                name="draft",
                model=HAIKU,
                prompt="{% 'Write: ' & $join($outline.json.sections, '; ') %}",
            ),
        ],
    )
    Workflow(us_stack, "Writer", definition=chain)
    states = asl(us_stack)["States"]
    tools = states["Outline"]["Arguments"]["Body"]["toolConfig"]["tools"]
    assert tools[0]["toolSpec"]["inputSchema"] == {"json": OUTLINE}
    assert chain.steps[0].output_schema == OUTLINE  # type: ignore[attr-defined]

    result = LocalRunner(us_stack).run(
        input={"topic": "tides"},
        responses={
            "Outline": mocks.bedrock_tool_use("nova", {"sections": ["Moon", "Sun"]}),
            "Draft": mocks.bedrock_text("anthropic", "Tides rise."),
        },
    )
    assert result.status == "SUCCEEDED"
    assert result.transitions == 2  # the parsed answer needs no extra state
    draft = result.calls_to("Draft")[0].arguments["Body"]["messages"][0]["content"][0]["text"]
    assert draft == "Write: Moon; Sun"


def test_a_chain_prompt_with_a_bad_schema_is_refused(stack: cdk.Stack) -> None:
    with pytest.raises(LambdalessError, match=r"^output_schema=.*rule output-schema-object"):
        PromptChain(
            stack,
            "C",
            model=HAIKU,
            prompts=[ChainPrompt(name="a", prompt="x", output_schema={"type": "array"})],
        )
