"""Rules about what each workflow type supports and the query language of each state
(lambdaless.rules.workflow_types), with realistic inputs that must still pass.

Pages: Step Functions developer guide "connect-to-resource" (Express supports request-response
only), "state-map-distributed" (Distributed Map needs a Standard parent), "choosing-workflow-type"
(Express 5 minutes, Standard one year), "transforming-data" (JSONata states have Arguments and
Output, JSONPath states the five *Path/Parameters fields), "concepts-error-handling"
(States.ALL in the last catcher).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from tests.rules._support import accepted, refused

from lambdaless import (
    ApprovalChannel,
    CallHttpApi,
    ChainPrompt,
    HttpAuth,
    HumanApproval,
    InvokeBedrock,
    PromptChain,
    S3Path,
    Workflow,
)
from lambdaless.analysis.lint import lint_definition
from lambdaless.patterns.customization import ModelCustomization
from lambdaless.patterns.fan_out import FanOut
from lambdaless.patterns.knowledge_base import KnowledgeBaseSync
from lambdaless.synthesized import load

NOVA = "amazon.nova-lite-v1:0"
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"


def review(stack: cdk.Stack) -> HumanApproval:
    channel = ApprovalChannel.sns_topic(sns.Topic(stack, "Reviews"))
    return HumanApproval(stack, "Review", channel=channel, timeout=cdk.Duration.minutes(4))


# -- express-no-callback (issue item 6) ----------------------------------------------------------
def test_express_no_callback(stack: cdk.Stack) -> None:
    refused(
        "express-no-callback",
        lambda: Workflow(stack, "Flow", definition=review(stack), express=True),
        argument="state 'ReviewRequest' Resource",
    )


def test_express_no_callback_in_a_distributed_maps_express_children() -> None:
    definition = {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                    "StartAt": "Ask",
                    "States": {
                        "Ask": {
                            "Type": "Task",
                            "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                            "End": True,
                        }
                    },
                },
                "End": True,
            }
        },
    }
    rules = [f.rule for f in lint_definition(definition)]
    assert "express-no-callback" in rules
    children = definition["States"]["Each"]["ItemProcessor"]  # type: ignore[index]
    children["ProcessorConfig"]["ExecutionType"] = "STANDARD"
    assert "express-no-callback" not in [f.rule for f in lint_definition(definition)]


def test_standard_workflow_takes_callbacks(stack: cdk.Stack) -> None:
    accepted(lambda: Workflow(stack, "Flow", definition=review(stack)))


# -- express-no-sync -----------------------------------------------------------------------------
def tune(stack: cdk.Stack) -> ModelCustomization:
    bucket = s3.Bucket(stack, "Data")
    return ModelCustomization(
        stack,
        "Tune",
        base_model="amazon.titan-text-express-v1",
        training_data=S3Path(bucket, "train.jsonl"),
        output_data=S3Path(bucket, "output/"),
    )


def test_express_no_sync(stack: cdk.Stack) -> None:
    error = refused(
        "express-no-sync",
        lambda: Workflow(stack, "Flow", definition=tune(stack), express=True),
        argument="state 'TuneJob' Resource",
    )
    assert "createModelCustomizationJob.sync" in str(error)


def test_express_no_sync_in_lint() -> None:
    sync = {"Type": "Task", "Resource": "arn:aws:states:::glue:startJobRun.sync", "End": True}
    definition = {"StartAt": "Job", "States": {"Job": sync}}
    assert [f.rule for f in lint_definition(definition, type="EXPRESS")] == ["express-no-sync"]
    assert lint_definition(definition) == []


def test_standard_workflow_takes_sync(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Tuning")
    Workflow(stack, "Flow", definition=tune(stack), timeout=cdk.Duration.days(2), alarms=False)
    (machine,) = load(stack)
    assert "express-no-sync" not in [f.rule for f in lint_definition(machine.definition)]


# -- express-no-distributed-map ------------------------------------------------------------------
def test_express_no_distributed_map(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Batch")
    each = FanOut(
        stack,
        "Each",
        prompt="{% $string($states.input) %}",
        model=NOVA,
        max_concurrency=10,
        distributed=True,
        express_children=True,
    )
    Workflow(stack, "Flow", definition=each, express=True, alarms=False)
    with pytest.raises(Exception, match="express-no-distributed-map"):
        app.synth()


def test_inline_fan_out_in_express_passes(stack: cdk.Stack) -> None:
    each = FanOut(
        stack, "Each", prompt="{% $string($states.input) %}", model=NOVA, max_concurrency=4
    )
    accepted(lambda: Workflow(stack, "Flow", definition=each, express=True))
    (machine,) = load(stack)
    rules = {f.rule for f in lint_definition(machine.definition, type="EXPRESS")}
    assert not rules & {"express-no-distributed-map", "query-language-fields"}


# -- workflow-timeout-range ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("express", "timeout", "value"),
    [(True, cdk.Duration.seconds(301), "301 s"), (False, cdk.Duration.days(366), "31622400 s")],
)
def test_workflow_timeout_range(
    stack: cdk.Stack, express: bool, timeout: cdk.Duration, value: str
) -> None:
    refused(
        "workflow-timeout-range",
        lambda: Workflow(
            stack, "F", definition=sfn.Pass(stack, "P"), express=express, timeout=timeout
        ),
        argument="timeout",
        value=value,
    )


def test_workflow_timeout_edges_pass(stack: cdk.Stack) -> None:
    accepted(
        lambda: Workflow(
            stack,
            "E",
            definition=sfn.Pass(stack, "P1"),
            express=True,
            timeout=cdk.Duration.minutes(5),
        )
    )
    accepted(
        lambda: Workflow(
            stack, "S", definition=sfn.Pass(stack, "P2"), timeout=cdk.Duration.days(365)
        )
    )


# -- query-language-fields: every pattern inside JSONPath state machines -------------------------
KB, DS = "ABCDEFGHIJ", "KLMNOPQRST"
PATTERNS: dict[str, Callable[[cdk.Stack], sfn.IChainable]] = {
    "PromptChain": lambda s: PromptChain(
        s,
        "Chain",
        model=NOVA,
        prompts=[ChainPrompt(name="outline", prompt="{% $string($states.input) %}")],
    ),
    "FanOut": lambda s: FanOut(
        s, "Each", prompt="{% $string($states.input) %}", model=NOVA, max_concurrency=4
    ),
    "FanOut distributed": lambda s: FanOut(
        s,
        "Each",
        prompt="{% $string($states.input) %}",
        model=HAIKU,
        max_concurrency=4,
        distributed=True,
    ),
    "HumanApproval": lambda s: HumanApproval(
        s,
        "Review",
        channel=ApprovalChannel.sqs_queue(sqs.Queue(s, "Q")),
        timeout=cdk.Duration.minutes(30),
    ),
    "KnowledgeBaseSync": lambda s: KnowledgeBaseSync(
        s, "Sync", knowledge_base_id=KB, data_source_id=DS
    ),
    "ModelCustomization": tune,
    "CallHttpApi": lambda s: CallHttpApi(
        s,
        "Call",
        base_url="https://api.example.com",
        auth=HttpAuth.api_key(header_name="x-api-key", value=cdk.SecretValue.secrets_manager("k")),
        on_status={404: sfn.Pass(s, "NotFound")},
    ),
}


@pytest.mark.parametrize(
    "machine", ["plain sfn.StateMachine", "Workflow(query_language=JSON_PATH)"]
)
@pytest.mark.parametrize("pattern", sorted(PATTERNS))
def test_query_language_fields_patterns_in_jsonpath_machines(
    app: cdk.App, pattern: str, machine: str
) -> None:
    """Each lambdaless pattern declares JSONata on the states that use it, so a JSONPath state
    machine around it is valid (the rule finds nothing)."""
    stack = cdk.Stack(app, "Host")
    fragment = PATTERNS[pattern](stack)
    if machine.startswith("plain"):
        plain = sfn.StateMachine(
            stack, "SM", definition_body=sfn.DefinitionBody.from_chainable(fragment)
        )
        if isinstance(fragment, CallHttpApi):
            fragment.grant_endpoint(plain)  # a Workflow grants it itself
    else:
        Workflow(
            stack,
            "W",
            definition=fragment,
            query_language=sfn.QueryLanguage.JSON_PATH,
            timeout=cdk.Duration.hours(8),
            alarms=False,
        )
    (found,) = load(stack)
    assert found.definition.get("QueryLanguage", "JSONPath") == "JSONPath"
    rules = {f.rule for f in lint_definition(found.definition)}
    assert "query-language-fields" not in rules


def test_query_language_fields_refuses_mixed_states() -> None:
    definition: dict[str, Any] = {
        "StartAt": "Ask",
        "States": {
            "Ask": {
                "Type": "Task",
                "Resource": "arn:aws:states:::bedrock:invokeModel",
                "Arguments": {"ModelId": HAIKU, "Body": {"max_tokens": 100}},
                "End": True,
            }
        },
    }
    (finding,) = [f for f in lint_definition(definition) if f.rule == "query-language-fields"]
    assert finding.state == "Ask"
    assert "Arguments=" in finding.message
    definition["States"]["Ask"]["QueryLanguage"] = "JSONata"
    assert "query-language-fields" not in {f.rule for f in lint_definition(definition)}
    definition["States"]["Ask"]["ResultPath"] = "$.answer"
    (finding,) = [f for f in lint_definition(definition) if f.rule == "query-language-fields"]
    assert "ResultPath=" in finding.message


def test_query_language_fields_choice_rules_and_path_fields(stack: cdk.Stack) -> None:
    # aws-cdk-lib's JSONPath Condition.string_equals in a JSONata workflow: CreateStateMachine
    # refuses a JSONata Choice rule without Condition
    route = sfn.Choice(stack, "Route")
    route.when(sfn.Condition.string_equals("$.status", "ok"), sfn.Pass(stack, "Ok"))
    route.otherwise(sfn.Pass(stack, "Other"))
    definition = Workflow(stack, "Flow", definition=route, alarms=False).definition()
    (finding,) = [f for f in lint_definition(definition) if f.rule == "query-language-fields"]
    assert "state 'Route' Choices[0].Variable='$.status'" in finding.message
    jsonpath_choice = {
        "Type": "Choice",
        "Choices": [{"Condition": "{% $states.input.ok %}", "Next": "Done"}],
        "Default": "Done",
    }
    jsonata_wait = {"Type": "Wait", "SecondsPath": "$.delay", "Next": "Done"}
    for state, language, field in (
        (jsonpath_choice, "JSONPath", "Choices[0].Condition"),
        (jsonata_wait, "JSONata", "SecondsPath"),
    ):
        bad = {
            "QueryLanguage": language,
            "StartAt": "S",
            "States": {"S": state, "Done": {"Type": "Succeed"}},
        }
        (finding,) = [f for f in lint_definition(bad) if f.rule == "query-language-fields"]
        assert f"state 'S' {field}=" in finding.message


def test_query_language_fields_choices_of_each_language_pass(stack: cdk.Stack) -> None:
    route = sfn.Choice(stack, "Route")
    route.when(sfn.Condition.jsonata("{% $states.input.status = 'ok' %}"), sfn.Pass(stack, "Ok"))
    route.otherwise(sfn.Pass(stack, "Other"))
    jsonata = Workflow(stack, "Flow", definition=route, alarms=False).definition()
    check = sfn.Choice(stack, "Check", query_language=sfn.QueryLanguage.JSON_PATH)
    check.when(
        sfn.Condition.and_(
            sfn.Condition.is_present("$.status"), sfn.Condition.string_equals("$.status", "ok")
        ),
        sfn.Pass(stack, "Fine"),
    )
    check.otherwise(sfn.Wait(stack, "Hold", time=sfn.WaitTime.seconds_path("$.delay")))
    jsonpath = Workflow(
        stack, "Old", definition=check, query_language=sfn.QueryLanguage.JSON_PATH, alarms=False
    ).definition()
    for definition in (jsonata, jsonpath):
        assert "query-language-fields" not in {f.rule for f in lint_definition(definition)}


# -- wait-timestamp-format -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "stamp",
    [
        "2026-12-01 10:00:00",
        "2026-12-01T10:00:00",
        "2026-12-01t10:00:00z",
        "2026-02-30T00:00:00Z",
        "01/12/2026",
    ],
)
def test_wait_timestamp_format(stack: cdk.Stack, stamp: str) -> None:
    # aws-cdk-lib's WaitTime.timestamp writes any text
    hold = sfn.Wait(stack, "Hold", time=sfn.WaitTime.timestamp(stamp))
    definition = Workflow(stack, "Flow", definition=hold, alarms=False).definition()
    (finding,) = [f for f in lint_definition(definition) if f.rule == "wait-timestamp-format"]
    assert f"state 'Hold' Timestamp={stamp!r}" in finding.message


@pytest.mark.parametrize(
    "stamp",
    [
        "2026-12-01T09:00:00Z",
        "2026-12-01T10:00:00+01:00",
        "2026-12-01T09:00:00.250Z",
        "{% $states.input.notBefore %}",
    ],
)
def test_wait_timestamps_aws_accepts_pass(stack: cdk.Stack, stamp: str) -> None:
    hold = sfn.Wait(stack, "Hold", time=sfn.WaitTime.timestamp(stamp))
    definition = Workflow(stack, "Flow", definition=hold, alarms=False).definition()
    assert "wait-timestamp-format" not in {f.rule for f in lint_definition(definition)}


# -- fan-out-step-catches-all --------------------------------------------------------------------
def test_fan_out_step_catches_all(stack: cdk.Stack) -> None:
    ask = InvokeBedrock(stack, "Ask", model=HAIKU, prompt="{% $string($states.input) %}")
    ask.add_catch(sfn.Pass(stack, "Swallow"))
    refused(
        "fan-out-step-catches-all",
        lambda: FanOut(stack, "Each", step=ask, max_concurrency=4),
        argument="step Catch",
    )


def test_fan_out_step_with_named_catch_passes(stack: cdk.Stack) -> None:
    ask = InvokeBedrock(stack, "Ask", model=HAIKU, prompt="{% $string($states.input) %}")
    ask.add_catch(sfn.Pass(stack, "Invalid"), errors=["Bedrock.ValidationException"])
    each = accepted(lambda: FanOut(stack, "Each", step=ask, max_concurrency=4))
    Workflow(stack, "Flow", definition=each)  # type: ignore[arg-type]
