"""Prompt and expression rules, through the constructors that take user text."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from tests.rules._support import accepted, refused

from lambdaless import (
    ApprovalChannel,
    CallHttpApi,
    ChainPrompt,
    Converse,
    FanOut,
    HttpAuth,
    HumanApproval,
    InvokeBedrock,
    ModelCustomization,
    S3Path,
    Workflow,
)
from lambdaless.analysis.lint import lint_definition

NOVA = "amazon.nova-lite-v1:0"


def invoke(stack: cdk.Stack, **kwargs: Any) -> InvokeBedrock:
    return InvokeBedrock(stack, "Ask", **{"model": NOVA, **kwargs})


GOOD_TEXTS = [
    "Summarize the document.",
    "Price: $5.00 per item",  # a dollar sign in prose is text
    "Use $states carefully",  # prose, not a path
    "{% $states.input.document %}",
    "{% 'Summarize: ' & $states.input.document %}",
    "{% $join($states.input.items.title, ', ') %}",
    "{% $states.context.Execution.Id %}",
    "{% $exists($answer.text) ? $answer.text : 'none' %}",
    "{% ($x := $states.input.a; $x & '!') %}",
    "{% $partition(['a','b','c'], 2) %}",
    "{% $parse($states.input.json).field %}",
    "{% $uuid() %}",
    "{% $states.input.items[0].name %}",
    "{% $string($count($states.input.items)) %}",
]


@pytest.mark.parametrize("text", GOOD_TEXTS)
def test_good_prompts_pass(stack: cdk.Stack, text: str) -> None:
    accepted(lambda: invoke(stack, prompt=text, system=text))


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("{% $states.input. %}", "character"),
        ("{% $states.input.x + %}", "character"),
        ("{% ($a := 1; $a %}", "character"),
        ("{% $join($states.input.items, %}", "character"),
        ("{% $states.input.items[0 %}", "character"),
        ("{% 'unterminated %}", "character"),
        ("{% %}", "inside"),
        ("{%    %}", "inside"),
        ("{% $eval('1 + 1') %}", "$eval"),
    ],
)
def test_jsonata_syntax(stack: cdk.Stack, text: str, where: str) -> None:
    error = refused("jsonata-syntax", lambda: invoke(stack, prompt=text), argument="prompt")
    assert where in str(error)


@pytest.mark.parametrize(
    "text",
    [
        "Summarize: {% $states.input.document %}",
        "{% $states.input.document %} in French",
        " {% $states.input.document %}",
        "{% $states.input.document %}\n",
        "{% $states.input.document",
        "$states.input.document %}",
        "Hello {% $states.input.name %}, how are you?",
    ],
)
def test_jsonata_whole_string(stack: cdk.Stack, text: str) -> None:
    refused("jsonata-whole-string", lambda: invoke(stack, prompt=text), argument="prompt")
    refused("jsonata-whole-string", lambda: invoke(stack, prompt="x", system=text))


def test_whole_string_suggests_the_fix(stack: cdk.Stack) -> None:
    error = refused("jsonata-whole-string", lambda: invoke(stack, prompt=" {% $x %} "))
    assert "'{% $x %}'" in str(error)


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("$.document", "{% $states.input.document %}"),
        ("$.input.items[0].text", "{% $states.input.input.items[0].text %}"),
        ("$$.Execution.Id", "{% $states.context.Execution.Id %}"),
        ("$", "{% $states.input %}"),
        ("$states.input.document", "{% $states.input.document %}"),
        ("$summary.text", "{% $summary.text %}"),
        ("States.Format('Hello {}', $.name)", "States.Format"),
    ],
)
def test_jsonpath_in_jsonata(stack: cdk.Stack, text: str, hint: str) -> None:
    error = refused("jsonpath-in-jsonata", lambda: invoke(stack, prompt=text), argument="prompt")
    assert hint in str(error)


def test_jsonpath_keys_and_values_in_a_body(stack: cdk.Stack) -> None:
    body = {"inputText.$": "$.text", "textGenerationConfig": {"maxTokenCount": 100}}
    refused("jsonpath-in-jsonata", lambda: invoke(stack, body=body), value="inputText.$")
    nested = {"messages": [{"role": "user", "content": "$.question"}]}
    refused(
        "jsonpath-in-jsonata",
        lambda: invoke(stack, body=nested),
        argument="body.messages[0].content",
    )
    refused(
        "jsonata-syntax",
        lambda: invoke(stack, body={"inputText": "{% $states.input. %}"}),
        argument="body.inputText",
    )
    accepted(lambda: invoke(stack, body={"inputText": "{% $states.input.text %}", "n": 3}))


@pytest.mark.parametrize(
    "name",
    ["states", "lookup", "string", "sum", "count", "join", "exists", "map", "uuid", "parse"],
)
def test_variable_name_shadowing(stack: cdk.Stack, name: str) -> None:
    refused(
        "variable-name",
        lambda: invoke(stack, prompt="hi", assign_result_to=name),
        argument="assign_result_to",
        value=name,
    )
    refused(
        "variable-name",
        lambda: Converse(stack, "C", model=NOVA, prompt="hi", assign_result_to=name),
    )


@pytest.mark.parametrize(
    "name", ["1answer", "my-answer", "answer.text", "$answer", "résumé", "a" * 81, "", "a b"]
)
def test_variable_name_form(stack: cdk.Stack, name: str) -> None:
    refused("variable-name", lambda: invoke(stack, prompt="hi", assign_result_to=name))


@pytest.mark.parametrize("name", ["answer", "summary_1", "_draft", "States", "lookups", "a" * 80])
def test_good_variable_names_pass(stack: cdk.Stack, name: str) -> None:
    accepted(lambda: invoke(stack, prompt="hi", assign_result_to=name))


def test_variable_name_in_a_prompt_chain() -> None:
    refused(
        "variable-name",
        lambda: ChainPrompt("count", "Count the words"),
        argument="name",
    )


def test_payload_literal_size(stack: cdk.Stack) -> None:
    big = "x" * 262_145
    refused("payload-literal-size", lambda: invoke(stack, prompt=big), argument="prompt")
    refused("payload-literal-size", lambda: invoke(stack, prompt="hi", system=big))
    refused("payload-literal-size", lambda: invoke(stack, body={"inputText": big}))
    # multi-byte characters count in UTF-8 bytes
    refused("payload-literal-size", lambda: invoke(stack, prompt="é" * 131_073))
    accepted(lambda: invoke(stack, prompt="x" * 200_000))


def test_fan_out_items_are_parsed(stack: cdk.Stack) -> None:
    refused(
        "jsonata-syntax",
        lambda: FanOut(
            stack,
            "Each",
            items="{% $states.input.documents[ %}",
            model=NOVA,
            prompt="{% $states.input.text %}",
            max_concurrency=2,
        ),
        argument="items",
    )


def _http(stack: cdk.Stack, **kwargs: Any) -> CallHttpApi:
    auth = HttpAuth.api_key(
        header_name="x-api-key", value=cdk.SecretValue.secrets_manager("api-key")
    )
    return CallHttpApi(
        stack, "Call", base_url="https://api.example.com", auth=auth, method="POST", **kwargs
    )


def test_http_arguments_are_checked(stack: cdk.Stack) -> None:
    refused(
        "jsonata-syntax",
        lambda: _http(stack, body={"text": "{% $states.input.text & %}"}),
        argument="body.text",
    )
    refused("jsonpath-in-jsonata", lambda: _http(stack, body={"id.$": "$.id"}))
    refused(
        "jsonata-whole-string",
        lambda: _http(stack, query={"q": "name={% $states.input.name %}"}),
        argument="query.q",
    )
    accepted(lambda: _http(stack, body={"text": "{% $states.input.text %}", "price": "$USD 5"}))


def test_approval_message_is_checked(stack: cdk.Stack) -> None:
    channel = ApprovalChannel.sns_topic(sns.Topic(stack, "Topic"))
    message = {"token": "{% $states.context.Task.Token %}", "doc": "$.document"}
    refused(
        "jsonpath-in-jsonata",
        lambda: HumanApproval(
            stack, "Review", channel=channel, timeout=cdk.Duration.hours(1), message=message
        ),
        argument="message.doc",
    )


def test_customization_job_name_expression_is_parsed(stack: cdk.Stack) -> None:
    bucket = s3.Bucket(stack, "Data")
    refused(
        "jsonata-syntax",
        lambda: ModelCustomization(
            stack,
            "Tune",
            base_model="amazon.titan-text-express-v1",
            training_data=S3Path(bucket, "train.jsonl"),
            output_data=S3Path(bucket, "output/"),
            hyper_parameters={"epochCount": "2"},
            job_name="{% 'tune-' & $uuid( %}",
        ),
        argument="job_name",
    )


def test_catch_assign_and_outputs_are_checked(stack: cdk.Stack) -> None:
    handler = sfn.Pass(stack, "Handler")
    step = invoke(stack, prompt="hi")
    refused(
        "variable-name",
        lambda: step.add_catch(handler, assign={"lookup": "{% $states.errorOutput %}"}),
        argument="assign",
    )
    refused(
        "jsonpath-in-jsonata",
        lambda: step.add_catch(handler, outputs={"error": "$.Error"}),
        argument="outputs.error",
    )
    refused(
        "jsonata-syntax",
        lambda: step.add_catch(handler, outputs="{% $states.errorOutput. %}"),
        argument="outputs",
    )
    accepted(
        lambda: step.add_catch(
            handler,
            outputs="{% $states.errorOutput %}",
            assign={"failure": "{% $states.errorOutput.Cause %}"},
        )
    )


def test_jsonpath_keys_in_any_jsonata_state_of_the_graph(stack: cdk.Stack) -> None:
    # aws-cdk-lib's JSONPath-style item_selector in a JSONata Map: each item would be the literal
    # {"doc.$": "$$.Map.Item.Value"}
    each = sfn.Map(
        stack,
        "Each",
        items=sfn.ProvideItems.jsonata("{% $states.input.docs %}"),
        item_selector={"doc.$": "$$.Map.Item.Value"},
    )
    each.item_processor(sfn.Pass(stack, "Keep"))
    definition = Workflow(stack, "Flow", definition=each, alarms=False).definition()
    (finding,) = [f for f in lint_definition(definition) if f.rule == "jsonpath-in-jsonata"]
    assert "state 'Each' ItemSelector='doc.$'" in finding.message


def test_jsonpath_keys_in_jsonpath_states_and_jsonata_selectors_pass(stack: cdk.Stack) -> None:
    each = sfn.Map(
        stack,
        "Each",
        items=sfn.ProvideItems.jsonata("{% $states.input.docs %}"),
        item_selector={"doc": "{% $states.context.Map.Item.Value %}", "kind": "text"},
    )
    each.item_processor(
        sfn.Pass(
            stack,
            "Old",
            query_language=sfn.QueryLanguage.JSON_PATH,
            parameters={"doc.$": "$.doc"},
        )
    )
    definition = Workflow(stack, "Flow", definition=each, alarms=False).definition()
    assert "jsonpath-in-jsonata" not in {f.rule for f in lint_definition(definition)}
