"""Structured answers: output_schema on InvokeBedrock and Converse, its ASL, local runs of a
parsed and of a malformed answer, and every refused input."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable
from typing import Any, Literal, TypedDict

import aws_cdk as cdk
import pytest
from aws_cdk import aws_stepfunctions as sfn
from syrupy.assertion import SnapshotAssertion

from lambdaless import Converse, InvokeBedrock, LambdalessError, Workflow
from lambdaless.output_schema import json_schema_of
from lambdaless.prompts import ANSWER_TOOL, STRUCTURED_ANSWER_INVALID
from lambdaless.testing import LocalRunner, mocks

Asl = Callable[[cdk.Stack], dict[str, Any]]

CLAUDE = "anthropic.claude-3-5-haiku-20241022-v1:0"
NOVA = "amazon.nova-lite-v1:0"
OUTLINE = {
    "type": "object",
    "description": "The outline of an article.",
    "properties": {
        "title": {"type": "string"},
        "sections": {"type": "array", "items": {"type": "string"}, "minItems": 1},
    },
    "required": ["title", "sections"],
}
ANSWER = {"title": "Tides", "sections": ["Moon", "Sun"]}


def workflow(stack: cdk.Stack, step: sfn.IChainable) -> cdk.Stack:
    Workflow(stack, "Workflow", definition=step)
    return stack


# -- ASL ------------------------------------------------------------------------------------------
def test_invoke_bedrock_forces_the_answer_tool(
    stack: cdk.Stack, asl: Asl, snapshot_json: SnapshotAssertion
) -> None:
    step = InvokeBedrock(
        stack,
        "Outline",
        model=CLAUDE,
        prompt="{% 'Outline: ' & $states.input.topic %}",
        output_schema=OUTLINE,
        assign_result_to="outline",
    )
    definition = asl(workflow(stack, step))
    state = definition["States"]["Outline"]

    body = state["Arguments"]["Body"]
    assert body["tools"] == [
        {"name": ANSWER_TOOL, "description": OUTLINE["description"], "input_schema": OUTLINE}
    ]
    assert body["tool_choice"] == {"type": "tool", "name": ANSWER_TOOL}
    assert state["Assign"] == {"outline": state["Output"]}  # parsed in the Task, no Pass
    assert [s["Type"] for s in definition["States"].values()] == ["Task"]
    assert definition == snapshot_json


def test_converse_sends_a_tool_config(
    stack: cdk.Stack, asl: Asl, snapshot_json: SnapshotAssertion
) -> None:
    step = Converse(stack, "Outline", model=NOVA, prompt="Outline tides.", output_schema=OUTLINE)
    definition = asl(workflow(stack, step))
    tool_config = definition["States"]["Outline"]["Arguments"]["ToolConfig"]

    assert tool_config == {
        "Tools": [
            {
                "ToolSpec": {
                    "Name": ANSWER_TOOL,
                    "Description": OUTLINE["description"],
                    "InputSchema": {"Json": OUTLINE},
                }
            }
        ],
        "ToolChoice": {"Tool": {"Name": ANSWER_TOOL}},
    }
    assert definition == snapshot_json


def test_nova_through_invoke_model_sends_a_tool_config(stack: cdk.Stack, asl: Asl) -> None:
    step = InvokeBedrock(stack, "Outline", model=NOVA, prompt="Outline.", output_schema=OUTLINE)
    body = asl(workflow(stack, step))["States"]["Outline"]["Arguments"]["Body"]

    assert body["toolConfig"] == {
        "tools": [
            {
                "toolSpec": {
                    "name": ANSWER_TOOL,
                    "description": OUTLINE["description"],
                    "inputSchema": {"json": OUTLINE},
                }
            }
        ],
        "toolChoice": {"tool": {"name": ANSWER_TOOL}},
    }
    result = LocalRunner(stack).run(
        responses={"Outline": mocks.bedrock_tool_use("nova", ANSWER, text="Sure.")}
    )
    assert (result.status, result.output["text"], result.output["json"]) == (
        "SUCCEEDED",
        "Sure.",
        ANSWER,
    )
    refused = LocalRunner(stack).run(responses={"Outline": mocks.bedrock_text("nova", "no")})
    assert (refused.status, refused.error) == ("FAILED", "States.QueryEvaluationError")


def test_without_output_schema_nothing_changes(stack: cdk.Stack, asl: Asl) -> None:
    step = InvokeBedrock(stack, "Plain", model=CLAUDE, prompt="Hi.")
    state = asl(workflow(stack, step))["States"]["Plain"]

    assert "tools" not in state["Arguments"]["Body"]
    assert "'json'" not in state["Output"]
    assert step.output_schema is None


# -- local runs -----------------------------------------------------------------------------------
def outline_runner(stack: cdk.Stack, *, converse: bool = False, catch: bool = False) -> LocalRunner:
    step_class = Converse if converse else InvokeBedrock
    step = step_class(stack, "Outline", model=CLAUDE, prompt="Outline.", output_schema=OUTLINE)
    chain: sfn.IChainable = step
    if catch:
        step.add_catch(
            sfn.Pass(stack, "Invalid", query_language=sfn.QueryLanguage.JSONATA),
            errors=step.STRUCTURED_ANSWER_ERRORS,
        )
    return LocalRunner(workflow(stack, chain))


@pytest.mark.parametrize("converse", [False, True], ids=["invoke-model", "converse"])
def test_a_structured_answer_is_parsed_into_json(stack: cdk.Stack, converse: bool) -> None:
    counts = {"input_tokens": 7, "output_tokens": 9}
    response = (
        mocks.converse_tool_use(ANSWER, **counts)
        if converse
        else mocks.bedrock_tool_use("anthropic", ANSWER, **counts)
    )
    result = outline_runner(stack, converse=converse).run(responses={"Outline": response})

    assert result.status == "SUCCEEDED"
    assert result.output == {
        "text": "",
        "json": ANSWER,
        "stopReason": "tool_use",
        "usage": {"inputTokens": 7, "outputTokens": 9},
    }


def test_text_beside_the_tool_call_is_kept(stack: cdk.Stack) -> None:
    result = outline_runner(stack).run(
        responses={"Outline": mocks.bedrock_tool_use("anthropic", ANSWER, text="Here it is.")}
    )

    assert (result.output["text"], result.output["json"]) == ("Here it is.", ANSWER)


@pytest.mark.parametrize(
    "response",
    [
        pytest.param(mocks.bedrock_text("anthropic", '{"title": "Tides"}'), id="text-only"),
        pytest.param(mocks.bedrock_tool_use("anthropic", ANSWER, name="other"), id="another-tool"),
        pytest.param(mocks.bedrock_tool_use("anthropic", "not an object"), id="not-an-object"),
        pytest.param(
            mocks.bedrock_text("anthropic", "cut", stop_reason="max_tokens"), id="max-tokens"
        ),
    ],
)
def test_a_malformed_answer_fails_with_the_named_error(
    stack: cdk.Stack, response: mocks.Return
) -> None:
    result = outline_runner(stack).run(responses={"Outline": response})

    assert (result.status, result.error) == ("FAILED", "States.QueryEvaluationError")
    assert f"{STRUCTURED_ANSWER_INVALID}: " in str(result.cause)
    assert InvokeBedrock.STRUCTURED_ANSWER_ERRORS == ["States.QueryEvaluationError"]


def test_a_malformed_answer_is_caught_by_the_step_catch(stack: cdk.Stack) -> None:
    result = outline_runner(stack, catch=True).run(
        responses={"Outline": mocks.bedrock_text("anthropic", "no tool")}
    )

    assert result.status == "SUCCEEDED"
    assert result.output["Error"] == "States.QueryEvaluationError"
    assert "stop reason: end_turn" in result.output["Cause"]


def test_a_malformed_converse_answer_fails_too(stack: cdk.Stack) -> None:
    result = outline_runner(stack, converse=True).run(
        responses={"Outline": mocks.converse_text("no tool")}
    )

    assert (result.status, result.error) == ("FAILED", "States.QueryEvaluationError")


def test_a_retry_on_the_named_error_asks_the_model_again(stack: cdk.Stack) -> None:
    step = InvokeBedrock(stack, "Outline", model=CLAUDE, prompt="Outline.", output_schema=OUTLINE)
    step.add_retry(errors=step.STRUCTURED_ANSWER_ERRORS, max_attempts=1)
    result = LocalRunner(workflow(stack, step)).run(
        responses={
            "Outline": [
                mocks.bedrock_text("anthropic", "oops"),
                mocks.bedrock_tool_use("anthropic", ANSWER),
            ]
        }
    )

    assert (result.status, result.output["json"]) == ("SUCCEEDED", ANSWER)
    assert len(result.calls) == 2


# -- schemas from Python types --------------------------------------------------------------------
class Tone(enum.Enum):
    PLAIN = "plain"
    FORMAL = "formal"


@dataclasses.dataclass
class Section:
    heading: str
    words: int = 100


@dataclasses.dataclass
class Outline:
    """The outline of an article."""

    title: str
    sections: list[Section]
    tone: Tone
    audience: Literal["kids", "adults"] | None = None
    tags: dict[str, float] = dataclasses.field(default_factory=dict)


class Person(TypedDict, total=False):
    name: str
    age: int


class WithModelSchema:
    @classmethod
    def model_json_schema(cls) -> dict[str, Any]:
        return {"type": "object", "properties": {"x": {"type": "boolean"}}}


def test_a_dataclass_gives_its_schema() -> None:
    section = {
        "type": "object",
        "properties": {"heading": {"type": "string"}, "words": {"type": "integer"}},
        "required": ["heading"],
        "additionalProperties": False,
    }
    assert json_schema_of("output_schema", Outline) == {
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "sections": {"type": "array", "items": section},
            "tone": {"enum": ["plain", "formal"]},
            "audience": {"anyOf": [{"enum": ["kids", "adults"]}, {"type": "null"}]},
            "tags": {"type": "object", "additionalProperties": {"type": "number"}},
        },
        "required": ["title", "sections", "tone"],
        "additionalProperties": False,
        "description": "The outline of an article.",
    }


def test_a_typed_dict_and_a_model_json_schema_class_give_theirs() -> None:
    assert json_schema_of("output_schema", Person) == {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        "required": [],
        "additionalProperties": False,
    }
    assert json_schema_of("output_schema", WithModelSchema)["properties"] == {
        "x": {"type": "boolean"}
    }


def test_a_step_takes_a_type(stack: cdk.Stack) -> None:
    step = Converse(stack, "Outline", model=CLAUDE, prompt="Outline.", output_schema=Outline)

    assert step.output_schema == json_schema_of("output_schema", Outline)


# -- refused input --------------------------------------------------------------------------------
@dataclasses.dataclass
class Loop:
    next: Loop | None


@dataclasses.dataclass
class Unsupported:
    when: complex


@pytest.mark.parametrize(
    ("schema", "where", "rule"),
    [
        ({"type": "array", "items": {}}, "output_schema", "output-schema-object"),
        ({"properties": {}}, "output_schema", "output-schema-object"),
        ("a string", "output_schema", None),
        (
            {"type": "object", "properties": {"a": {"type": "text"}}},
            "output_schema.properties.a.type",
            "output-schema-valid",
        ),
        ({"type": "object", "required": "a"}, "output_schema.required", "output-schema-valid"),
        (
            {"type": "object", "required": ["a", "a"]},
            "output_schema.required",
            "output-schema-valid",
        ),
        ({"type": "object", "properties": []}, "output_schema.properties", "output-schema-valid"),
        (
            {"type": "object", "properties": {"a": {"enum": []}}},
            "output_schema.properties.a.enum",
            "output-schema-valid",
        ),
        ({"type": "object", "anyOf": []}, "output_schema.anyOf", "output-schema-valid"),
        (
            {"type": "object", "properties": {"a": {"type": "string", "maxLength": -1}}},
            "output_schema.properties.a.maxLength",
            "output-schema-valid",
        ),
        (
            {"type": "object", "properties": {"a": {"type": "number", "minimum": float("nan")}}},
            "output_schema.properties.a.minimum",
            "output-schema-valid",
        ),
        (
            {"type": "object", "properties": {"a": {"type": "string", "pattern": "("}}},
            "output_schema.properties.a.pattern",
            "output-schema-valid",
        ),
        (
            {"type": "object", "properties": {"a": {"$ref": "#/$defs/missing"}}},
            "output_schema.properties.a.$ref",
            "output-schema-valid",
        ),
        (
            {"type": "object", "properties": {"a": {"$ref": "https://example.com/s.json"}}},
            "output_schema.properties.a.$ref",
            "output-schema-valid",
        ),
        (
            {"type": "object", "properties": {"a": 3}},
            "output_schema.properties.a",
            "output-schema-valid",
        ),
        (
            {"type": "object", "description": "{% $states.input %}"},
            "output_schema.description",
            "output-schema-literal",
        ),
        (
            {"type": "object", "properties": {"a": {"enum": ["{% 1 %}"]}}},
            "output_schema.properties.a.enum[0]",
            "output-schema-literal",
        ),
        ({"type": "object", "default": {1, 2}}, "output_schema.default", "output-schema-valid"),
        (Loop, "output_schema.next", None),
        (Unsupported, "output_schema.when", None),
    ],
)
def test_a_bad_schema_names_the_argument(
    stack: cdk.Stack, schema: Any, where: str, rule: str | None
) -> None:
    with pytest.raises(LambdalessError) as error:
        InvokeBedrock(stack, "Step", model=CLAUDE, prompt="Hi.", output_schema=schema)

    message = str(error.value)
    assert message.startswith(f"{where}=") or message.startswith(f"{where}: "), message
    if rule is not None:
        assert f"rule {rule}" in message


def test_valid_schema_features_pass() -> None:
    schema = {
        "type": "object",
        "$defs": {"item": {"type": ["string", "null"], "minLength": 1}},
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/$defs/item"}, "maxItems": 5},
            "score": {"type": "number", "minimum": 0, "maximum": 1, "multipleOf": 0.5},
            "kind": {"oneOf": [{"const": "a"}, {"const": "b"}]},
            "extra": True,
        },
        "additionalProperties": False,
    }
    assert json_schema_of("output_schema", schema) == schema


@pytest.mark.parametrize(
    ("step", "model", "value"),
    [
        (InvokeBedrock, "cohere.command-r-v1:0", "cohere.command-r-v1:0"),
        (InvokeBedrock, "meta.llama3-1-8b-instruct-v1:0", "meta.llama3-1-8b-instruct-v1:0"),
        (InvokeBedrock, "anthropic.claude-v2:1", "anthropic.claude-v2:1"),
        (Converse, "meta.llama3-1-8b-instruct-v1:0", "meta.llama3-1-8b-instruct-v1:0"),
        (Converse, "mistral.mistral-large-2407-v1:0", "mistral.mistral-large-2407-v1:0"),
    ],
)
def test_a_model_that_cannot_be_forced_to_call_a_tool_is_refused(
    stack: cdk.Stack, step: type[InvokeBedrock | Converse], model: str, value: str
) -> None:
    with pytest.raises(LambdalessError, match=r"rule structured-answer-model") as error:
        step(stack, "Step", model=model, prompt="Hi.", output_schema=OUTLINE)

    assert str(error.value).startswith("model=")
    assert value in str(error.value)


@pytest.mark.parametrize(
    "options",
    [
        {"body": {"anthropic_version": "bedrock-2023-05-31"}},
        {"prompt": "Hi.", "output_s3_uri": "s3://bucket/answer.json"},
    ],
)
def test_output_schema_needs_the_built_body_and_an_inline_answer(
    stack: cdk.Stack, options: dict[str, Any]
) -> None:
    with pytest.raises(LambdalessError, match=r"^output_schema="):
        InvokeBedrock(stack, "Step", model=CLAUDE, output_schema=OUTLINE, **options)


def test_the_mocks_know_the_answer_tool_name() -> None:
    assert mocks.ANSWER_TOOL == ANSWER_TOOL
    body = mocks.bedrock_tool_use("anthropic", {"a": 1}).payload["Body"]
    assert body["content"][-1] == {
        "type": "tool_use",
        "id": "toolu_local",
        "name": ANSWER_TOOL,
        "input": {"a": 1},
    }
    assert body["stop_reason"] == "tool_use"
    content = mocks.converse_tool_use({"a": 1}, text="t").payload["Output"]["Message"]["Content"]
    assert content == [
        {"Text": "t"},
        {"ToolUse": {"ToolUseId": "tooluse_local", "Name": ANSWER_TOOL, "Input": {"a": 1}}},
    ]
    nova = mocks.bedrock_tool_use("nova", {"a": 1}).payload["Body"]
    assert nova["output"]["message"]["content"] == [
        {"toolUse": {"toolUseId": "tooluse_local", "name": ANSWER_TOOL, "input": {"a": 1}}}
    ]
    assert nova["stopReason"] == "tool_use"
    with pytest.raises(ValueError, match="'anthropic' or 'nova'"):
        mocks.bedrock_tool_use("llama", {"a": 1})
