"""The structured-answer rules: each refuses what its AWS page rules out, and accepts the rest."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from tests.rules._support import accepted, refused

from lambdaless import Converse, InvokeBedrock

CLAUDE = "anthropic.claude-sonnet-4-5-20250929-v1:0"
OBJECT = {"type": "object", "properties": {"a": {"type": "string"}}}


def invoke(stack: cdk.Stack, schema: Any, model: str = CLAUDE) -> InvokeBedrock:
    return InvokeBedrock(stack, "Step", model=model, prompt="Hi.", output_schema=schema)


@pytest.mark.parametrize("schema", [{"type": "array"}, {"type": ["object", "null"]}, {}])
def test_output_schema_object(stack: cdk.Stack, schema: Any) -> None:
    refused("output-schema-object", lambda: invoke(stack, schema), argument="output_schema")


@pytest.mark.parametrize(
    ("schema", "argument"),
    [
        ({"type": "object", "properties": {"a": {"type": "str"}}}, "output_schema.properties.a"),
        ({"type": "object", "minProperties": 1.5}, "output_schema.minProperties"),
        ({"type": "object", "multipleOf": 0}, "output_schema.multipleOf"),
        ({"type": "object", "$defs": {"x": "string"}}, "output_schema.$defs.x"),
        ({"type": "object", "items": [{"type": "string"}, 3]}, "output_schema.items[1]"),
        ({"type": "object", "$ref": "#/definitions/none"}, "output_schema.$ref"),
    ],
)
def test_output_schema_valid(stack: cdk.Stack, schema: Any, argument: str) -> None:
    refused("output-schema-valid", lambda: invoke(stack, schema), argument=argument)


def test_output_schema_literal(stack: cdk.Stack) -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string", "default": "{% $x %}"}}}
    refused(
        "output-schema-literal",
        lambda: invoke(stack, schema),
        argument="output_schema.properties.a.default",
        value="{% $x %}",
    )


@pytest.mark.parametrize(
    ("step", "model"),
    [
        (InvokeBedrock, "mistral.mistral-large-2402-v1:0"),
        (InvokeBedrock, "cohere.command-r-plus-v1:0"),
        (InvokeBedrock, "anthropic.claude-instant-v1"),
        (Converse, "cohere.command-r-plus-v1:0"),
        (Converse, "meta.llama3-3-70b-instruct-v1:0"),
    ],
)
def test_structured_answer_model(stack: cdk.Stack, step: Any, model: str) -> None:
    refused(
        "structured-answer-model",
        lambda: step(stack, "Step", model=model, prompt="Hi.", output_schema=OBJECT),
        argument="model",
        value=model,
    )


@pytest.mark.parametrize(
    ("step", "model"),
    [
        (InvokeBedrock, CLAUDE),
        (InvokeBedrock, "us.anthropic.claude-3-5-haiku-20241022-v1:0"),
        (InvokeBedrock, "amazon.nova-pro-v1:0"),
        (Converse, CLAUDE),
        (Converse, "amazon.nova-pro-v1:0"),
        (Converse, "us.amazon.nova-premier-v1:0"),
    ],
)
def test_models_that_take_a_forced_tool_pass(stack: cdk.Stack, step: Any, model: str) -> None:
    accepted(lambda: step(stack, "Step", model=model, prompt="Hi.", output_schema=OBJECT))
