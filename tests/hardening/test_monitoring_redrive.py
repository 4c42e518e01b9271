"""Alarms on by default (execution and Bedrock throttle alarms), a dashboard on request, and
redrive."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
import jsonata
import pytest
from aws_cdk import aws_sns as sns
from tests.hardening._support import Synthesized

from lambdaless import InvokeBedrock, LambdalessError, Redrive, Workflow, WorkflowMonitoring
from lambdaless.monitoring import bedrock_model_ids
from lambdaless.redrive import DEFAULT_TRANSIENT_ERRORS
from lambdaless.synthesized import load

EXECUTION_METRICS = {
    "ExecutionsFailed",
    "ExecutionsTimedOut",
    "ExecutionThrottled",
    "ExecutionsAborted",
}


def _resources(template: Mapping[str, Any], kind: str) -> dict[str, Any]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def test_every_workflow_has_its_alarms_and_no_dashboard(synthesized: Synthesized) -> None:
    checked = 0
    for name, template in synthesized.templates.items():
        alarms = [a["Properties"] for a in _resources(template, "AWS::CloudWatch::Alarm").values()]
        expected_models: set[str] = set()
        watched = [m for m in load(template) if "Redriver" not in m.logical_id]  # alarms=False
        for machine in watched:
            metrics = {
                a["MetricName"]
                for a in alarms
                if a["Namespace"] == "AWS/States"
                and a["Dimensions"]
                == [{"Name": "StateMachineArn", "Value": {"Ref": machine.logical_id}}]
            }
            assert metrics == EXECUTION_METRICS, f"{name}/{machine.path}"
            expected_models |= set(bedrock_model_ids(machine.definition))
            checked += 1
        throttled = {
            a["Dimensions"][0]["Value"]
            for a in alarms
            if (a["Namespace"], a["MetricName"]) == ("AWS/Bedrock", "InvocationThrottles")
        }
        assert throttled == expected_models, name
        assert _resources(template, "AWS::CloudWatch::Dashboard") == {}, name  # opt-in
    print(f"\nmonitoring: {checked} workflows with 4 execution alarms, Bedrock alarms per model")
    assert checked >= len(synthesized.templates)


def test_alarms_notify_the_topic(synthesized: Synthesized) -> None:
    template = synthesized.templates["HardeningRedriven"]
    (topic,) = _resources(template, "AWS::SNS::Topic")
    alarms = _resources(template, "AWS::CloudWatch::Alarm").values()
    assert len(alarms) == 4 + 2  # executions + Nova Pro profile + Mistral Large
    for alarm in alarms:
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic}]
        assert alarm["Properties"]["OKActions"] == [{"Ref": topic}]


def test_model_ids_are_read_from_the_definition() -> None:
    definition = {
        "StartAt": "A",
        "States": {
            "A": {
                "Type": "Task",
                "Resource": "arn:aws:states:::bedrock:invokeModel",
                "Arguments": {
                    "ModelId": "arn:${AWS::Partition}:bedrock:${AWS::Region}::"
                    "foundation-model/amazon.nova-lite-v1:0"
                },
                "Next": "B",
            },
            "B": {
                "Type": "Parallel",
                "Branches": [
                    {
                        "StartAt": "C",
                        "States": {
                            "C": {
                                "Type": "Task",
                                "Resource": "arn:aws:states:::aws-sdk:bedrockruntime:converse",
                                "Parameters": {
                                    "ModelId": "arn:aws:bedrock:eu-west-1:1:inference-profile/"
                                    "eu.amazon.nova-pro-v1:0"
                                },
                                "End": True,
                            },
                            "D": {
                                "Type": "Task",
                                "Resource": "arn:aws:states:::bedrock:invokeModel",
                                "Arguments": {"ModelId": "{% $states.input.model %}"},
                                "End": True,
                            },
                            "E": {
                                "Type": "Task",
                                "Resource": "arn:aws:states:::bedrock:invokeModel",
                                "Arguments": {"ModelId": "${Profile.InferenceProfileArn}"},
                                "End": True,
                            },
                        },
                    }
                ],
                "Next": "F",
            },
            "F": {
                "Type": "Task",
                "Resource": "arn:aws:states:::bedrock:invokeModel",
                "Arguments": {
                    "ModelId": "arn:aws:bedrock:us-east-1:111122223333:provisioned-model/abc"
                },
                "End": True,
            },
        },
    }
    assert bedrock_model_ids(definition) == [
        "amazon.nova-lite-v1:0",
        "eu.amazon.nova-pro-v1:0",
        "arn:aws:bedrock:us-east-1:111122223333:provisioned-model/abc",
    ]


def _ask(stack: cdk.Stack) -> InvokeBedrock:
    return InvokeBedrock(stack, "Ask", model="amazon.nova-lite-v1:0", prompt="hi")


@pytest.mark.parametrize(
    ("options", "argument"),
    [
        ({"period": cdk.Duration.seconds(90)}, "period"),
        ({"period": cdk.Duration.days(2)}, "period"),
        ({"bedrock_throttle_threshold": 0}, "bedrock_throttle_threshold"),
        ({"model_ids": [""]}, "model_ids"),
        ({"topic": "arn:aws:sns:us-east-1:1:t"}, "topic"),
    ],
)
def test_monitoring_refuses_bad_options(
    stack: cdk.Stack, options: dict[str, Any], argument: str
) -> None:
    workflow = Workflow(stack, "W", definition=_ask(stack), alarms=False)
    assert workflow.monitoring is None
    with pytest.raises(LambdalessError, match=argument):
        WorkflowMonitoring(stack, "M", workflow=workflow, **options)


def test_alarm_topic_needs_alarms(stack: cdk.Stack) -> None:
    topic = sns.Topic(stack, "T")
    with pytest.raises(LambdalessError, match="alarm_topic"):
        Workflow(stack, "W", definition=_ask(stack), alarms=False, alarm_topic=topic)


def test_alarm_topic_key_lets_cloudwatch_publish(stack: cdk.Stack) -> None:
    """A customer-managed key gets the statement CloudWatch needs (SNS developer guide,
    "sns-key-management"); without it every alarm notification is dropped."""
    from aws_cdk import aws_kms as kms
    from aws_cdk.assertions import Template

    key = kms.Key(stack, "K", enable_key_rotation=True)
    topic = sns.Topic(stack, "T", master_key=key)
    Workflow(stack, "W", definition=_ask(stack), alarm_topic=topic)
    statements = Template.from_stack(stack).find_resources("AWS::KMS::Key")
    (policy,) = [r["Properties"]["KeyPolicy"]["Statement"] for r in statements.values()]
    assert {
        "Effect": "Allow",
        "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
        "Resource": "*",
    } in policy


def test_alarm_topic_with_an_aws_managed_key_is_refused(stack: cdk.Stack) -> None:
    from aws_cdk import aws_kms as kms

    managed = kms.Alias.from_alias_name(stack, "A", "alias/aws/sns")
    topic = sns.Topic(stack, "T", master_key=managed)
    with pytest.raises(LambdalessError, match=r"AWS-managed key 'alias/aws/sns'.*customer-managed"):
        Workflow(stack, "W", definition=_ask(stack), alarm_topic=topic)


def test_alarm_topic_with_an_imported_key_is_refused_with_the_statement(
    stack: cdk.Stack,
) -> None:
    from aws_cdk import aws_kms as kms

    imported = kms.Key.from_key_arn(
        stack, "I", "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    )
    topic = sns.Topic(stack, "T", master_key=imported)
    with pytest.raises(LambdalessError, match=r"imported key .*cloudwatch\.amazonaws\.com"):
        Workflow(stack, "W", definition=_ask(stack), alarm_topic=topic)
    # What the message says to do next is accepted.
    unchecked = sns.Topic.from_topic_arn(stack, "U", "arn:aws:sns:us-east-1:111122223333:alarms")
    Workflow(
        stack,
        "W2",
        definition=InvokeBedrock(stack, "Ask2", model="amazon.nova-lite-v1:0", prompt="hi"),
        alarm_topic=unchecked,
    )


# -- redrive ------------------------------------------------------------------------------------
def test_redrive_rule_targets_the_redriver(synthesized: Synthesized) -> None:
    template = synthesized.templates["HardeningRedriven"]
    machines = load(template)
    watched = next(m for m in machines if m.logical_id.startswith("Answer"))
    redriver = next(m for m in machines if m.logical_id.startswith("RedriveRedriver"))
    (rule,) = _resources(template, "AWS::Events::Rule").values()
    assert rule["Properties"]["EventPattern"] == {
        "source": ["aws.states"],
        "detail-type": ["Step Functions Execution Status Change"],
        "detail": {"status": ["FAILED"], "stateMachineArn": [{"Ref": watched.logical_id}]},
    }
    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Ref": redriver.logical_id}
    assert redriver.type == "STANDARD"
    states = redriver.definition["States"]
    assert states["DescribeExecution"]["Resource"].endswith(
        ":states:::aws-sdk:sfn:describeExecution"
    )
    assert states["RedriveExecution"]["Resource"].endswith(":states:::aws-sdk:sfn:redriveExecution")


def test_redriver_may_only_describe_and_redrive_the_watched_executions(
    synthesized: Synthesized,
) -> None:
    template = synthesized.templates["HardeningRedriven"]
    watched = next(m for m in load(template) if m.logical_id.startswith("Answer"))
    executions = {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":states:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                ":execution:",
                {"Fn::GetAtt": [watched.logical_id, "Name"]},
                ":*",
            ],
        ]
    }
    granted = [
        (s["Action"], s["Resource"])
        for key, policy in _resources(template, "AWS::IAM::Policy").items()
        if key.startswith("RedriveRedriver")
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if str(s["Action"]).startswith("states:")
    ]
    redriver = next(m for m in load(template) if m.logical_id.startswith("RedriveRedriver"))
    assert sorted(granted, key=str) == sorted(
        [
            ("states:DescribeExecution", executions),
            ("states:GetExecutionHistory", executions),
            ("states:RedriveExecution", executions),
            # the rule's role, to start the redriver
            ("states:StartExecution", {"Ref": redriver.logical_id}),
        ],
        key=str,
    )


def _decide(definition: Mapping[str, Any], described: Mapping[str, Any]) -> str:
    choice = definition["States"]["WorthARedrive"]
    (rule,) = choice["Choices"]
    expression = rule["Condition"].removeprefix("{%").removesuffix("%}").strip()
    evaluator = jsonata.Jsonata(expression)
    frame = evaluator.create_frame()
    frame.bind("states", {"input": dict(described)})
    return str(rule["Next"] if evaluator.evaluate(None, frame) else choice["Default"])


@pytest.mark.parametrize(
    ("described", "decision"),
    [
        ({"error": "Bedrock.ThrottlingException", "redriveCount": 0}, "RedriveExecution"),
        ({"error": "States.Http.StatusCode.503", "redriveCount": 1}, "RedriveExecution"),
        ({"error": "Bedrock.ThrottlingException", "redriveCount": 2}, "LeftFailed"),
        ({"error": "Bedrock.ValidationException", "redriveCount": 0}, "LeftFailed"),
        ({"error": "States.Runtime", "redriveCount": 0}, "LeftFailed"),
        ({"error": "States.DataLimitExceeded", "redriveCount": 0}, "LeftFailed"),
        ({"redriveCount": 0}, "LeftFailed"),
        (
            {
                "error": "Bedrock.ThrottlingException",
                "redriveCount": 0,
                "redriveStatus": "NOT_REDRIVABLE",
            },
            "LeftFailed",
        ),
        # A Fail state re-raising a transient error: a redrive would enter it and fail again
        # ("Redriving executions": the redrive continues from the unsuccessful step).
        (
            {
                "error": "Bedrock.ThrottlingException",
                "redriveCount": 0,
                "failedAfter": "FailStateEntered",
            },
            "LeftFailed",
        ),
        (
            {
                "error": "Bedrock.ThrottlingException",
                "redriveCount": 0,
                "failedAfter": "TaskFailed",
            },
            "RedriveExecution",
        ),
        # Fewer than 24,999 events (RedriveExecution API reference), not 25,000.
        (
            {"error": "Bedrock.ThrottlingException", "redriveCount": 0, "historyEvents": 24_998},
            "RedriveExecution",
        ),
        (
            {"error": "Bedrock.ThrottlingException", "redriveCount": 0, "historyEvents": 24_999},
            "LeftFailed",
        ),
    ],
)
def test_redrive_decision(
    synthesized: Synthesized, described: dict[str, Any], decision: str
) -> None:
    template = synthesized.templates["HardeningRedriven"]
    redriver = next(m for m in load(template) if m.logical_id.startswith("RedriveRedriver"))
    described = {
        "redriveStatus": "REDRIVABLE",
        "historyEvents": 40,
        "failedAfter": "TaskTimedOut",
        **described,
    }
    assert _decide(redriver.definition, described) == decision


def test_redriver_reads_the_last_two_events_newest_first(synthesized: Synthesized) -> None:
    template = synthesized.templates["HardeningRedriven"]
    redriver = next(m for m in load(template) if m.logical_id.startswith("RedriveRedriver"))
    states = redriver.definition["States"]
    assert states["DescribeExecution"]["Next"] == "LastEvents"
    last = states["LastEvents"]
    assert last["Resource"].endswith(":states:::aws-sdk:sfn:getExecutionHistory")
    assert last["Arguments"] == {
        "ExecutionArn": "{% $states.input.executionArn %}",
        "ReverseOrder": True,
        "MaxResults": 2,
        "IncludeExecutionData": False,
    }
    assert last["Next"] == "WorthARedrive"
    # What the Output makes of a GetExecutionHistory answer for a Fail state's failure.
    expression = jsonata.Jsonata(last["Output"].removeprefix("{%").removesuffix("%}").strip())
    frame = expression.create_frame()
    events = [{"Id": 12, "Type": "ExecutionFailed"}, {"Id": 11, "Type": "FailStateEntered"}]
    frame.bind("states", {"input": {"error": "E"}, "result": {"Events": events}})
    assert expression.evaluate(None, frame) == {
        "error": "E",
        "historyEvents": 12,
        "failedAfter": "FailStateEntered",
    }


@pytest.mark.parametrize(
    ("options", "argument"),
    [
        ({"max_redrives": 0}, "max_redrives"),
        ({"max_redrives": True}, "max_redrives"),
        ({"delay": cdk.Duration.millis(1500)}, "delay"),
        ({"transient_errors": ["States.Runtime"]}, "transient_errors"),
        ({"transient_errors": ["States.ALL"]}, "transient_errors"),
        ({"transient_errors": ["Bedrock.ValidationException"]}, "transient_errors"),
        ({"transient_errors": []}, "transient_errors"),
    ],
)
def test_redrive_refuses_bad_options(
    stack: cdk.Stack, options: dict[str, Any], argument: str
) -> None:
    workflow = Workflow(stack, "W", definition=_ask(stack))
    with pytest.raises(LambdalessError, match=argument):
        Redrive(stack, "R", workflow=workflow, **options)


def test_redrive_refuses_express(stack: cdk.Stack) -> None:
    workflow = Workflow(stack, "W", definition=_ask(stack), express=True)
    with pytest.raises(LambdalessError, match="Standard"):
        Redrive(stack, "R", workflow=workflow)


def test_default_transient_errors_are_retried_errors() -> None:
    assert "Bedrock.ThrottlingException" in DEFAULT_TRANSIENT_ERRORS
    assert not any(e.startswith("States.Runtime") for e in DEFAULT_TRANSIENT_ERRORS)
