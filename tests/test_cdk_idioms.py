"""What a CDK user expects of constructs: grants, metric options, aws-cdk-lib's model types,
typed errors that name the construct, and opt-in costs."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_bedrock as bedrock
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template

from lambdaless import (
    BedrockModel,
    InvokeBedrock,
    LambdalessError,
    Workflow,
    WorkflowMonitoring,
)
from lambdaless._errors import LambdalessTypeError
from lambdaless.models import ModelKind


def _workflow(stack: cdk.Stack, **options: Any) -> Workflow:
    step = InvokeBedrock(stack, "Ask", model="amazon.nova-lite-v1:0", prompt="hi")
    return Workflow(stack, "Flow", definition=step, **options)


def _role(stack: cdk.Stack) -> iam.Role:
    return iam.Role(stack, "Caller", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))


def _statements(stack: cdk.Stack, role: iam.Role) -> list[dict[str, Any]]:
    policies = Template.from_stack(stack).find_resources("AWS::IAM::Policy")
    return [
        statement
        for policy in policies.values()
        if policy["Properties"]["Roles"] == [{"Ref": stack.get_logical_id(role.node.default_child)}]  # type: ignore[arg-type]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _actions(statements: list[dict[str, Any]]) -> set[str]:
    found: set[str] = set()
    for statement in statements:
        action = statement["Action"]
        found |= {action} if isinstance(action, str) else set(action)
    return found


# -- grants -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("grant", "expected"),
    [
        ("grant_start_execution", {"states:StartExecution"}),
        (
            "grant_task_response",
            {"states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"},
        ),
        ("grant_redrive_execution", {"states:RedriveExecution"}),
    ],
)
def test_workflow_grants_what_aws_cdk_lib_grants(
    stack: cdk.Stack, grant: str, expected: set[str]
) -> None:
    workflow = _workflow(stack)
    role = _role(stack)
    result = getattr(workflow, grant)(role)
    assert isinstance(result, iam.Grant)
    assert result.success
    assert _actions(_statements(stack, role)) == expected


def test_grant_read_and_execution(stack: cdk.Stack) -> None:
    workflow = _workflow(stack)
    role = _role(stack)
    workflow.grant_read(role)
    workflow.grant_execution(role, "states:StopExecution")
    actions = _actions(_statements(stack, role))
    assert {
        "states:DescribeExecution",
        "states:GetExecutionHistory",
        "states:StopExecution",
    } <= actions
    assert not any(a.endswith("*") for a in actions)


def test_sync_and_redrive_grants_follow_the_workflow_type(stack: cdk.Stack) -> None:
    express = _workflow(stack, express=True)
    role = _role(stack)
    express.grant_start_sync_execution(role)
    assert _actions(_statements(stack, role)) == {"states:StartSyncExecution"}
    with pytest.raises(LambdalessError, match="a Standard workflow"):
        express.grant_redrive_execution(role)


def test_model_grant_invoke_matches_the_steps_statements(us_stack: cdk.Stack) -> None:
    model = BedrockModel.cross_region_profile("us.amazon.nova-lite-v1:0")
    role = _role(us_stack)
    assert model.grant_invoke(role).success
    statements = _statements(us_stack, role)
    expected = [us_stack.resolve(s.to_statement_json()) for s in model.policy_statements(us_stack)]
    assert [us_stack.resolve(s) for s in statements] == expected
    assert _actions(statements) == {"bedrock:InvokeModel"}
    assert "Condition" in statements[1]  # routed models only through the profile


def test_model_grant_invoke_refuses_non_grantees(stack: cdk.Stack) -> None:
    model = BedrockModel.of("amazon.nova-lite-v1:0")
    with pytest.raises(LambdalessTypeError, match="grantee="):
        model.grant_invoke("my-role")  # type: ignore[arg-type]
    principal = iam.ServicePrincipal("lambda.amazonaws.com")
    with pytest.raises(LambdalessTypeError, match="scope="):
        model.grant_invoke(principal)
    assert model.grant_invoke(principal, scope=stack).success is False  # no policy to add to


# -- metrics ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name", ["failed", "timed_out", "throttled", "aborted", "succeeded", "started", "time"]
)
def test_metric_options_pass_through(stack: cdk.Stack, name: str) -> None:
    workflow = _workflow(stack, alarms=False)
    method = getattr(workflow, f"metric_{name}")
    five = cdk.Duration.minutes(5)
    by_keyword = method(period=five, statistic="Maximum", label="mine")
    by_props = method(cloudwatch.MetricOptions(period=five, statistic="Maximum", label="mine"))
    for metric in (by_keyword, by_props):
        assert metric.period.to_seconds() == 300
        assert metric.statistic == "Maximum"
        assert metric.label == "mine"
    assert method(cloudwatch.MetricOptions(statistic="Maximum"), statistic="Minimum").statistic == (
        "Minimum"
    )


def test_metric_refuses_unknown_options(stack: cdk.Stack) -> None:
    workflow = _workflow(stack, alarms=False)
    with pytest.raises(LambdalessError, match="options=\\['perod'\\]"):
        workflow.metric_failed(perod=cdk.Duration.minutes(1))
    with pytest.raises(LambdalessTypeError, match="props="):
        workflow.metric_failed({"period": 60})  # type: ignore[arg-type]
    assert workflow.metric("ExecutionsSucceeded", period=cdk.Duration.hours(1)).metric_name == (
        "ExecutionsSucceeded"
    )


# -- aws-cdk-lib model types --------------------------------------------------------------------
def test_aws_cdk_lib_models_are_accepted_wherever_a_model_is(stack: cdk.Stack) -> None:
    foundation = bedrock.FoundationModel.from_foundation_model_id(
        stack, "Haiku", bedrock.FoundationModelIdentifier.ANTHROPIC_CLAUDE_3_5_HAIKU_20241022_V1_0
    )
    provisioned = bedrock.ProvisionedModel.from_provisioned_model_arn(
        stack, "Mine", "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc123"
    )
    assert BedrockModel.of(foundation) == BedrockModel.foundation_model(
        "anthropic.claude-3-5-haiku-20241022-v1:0"
    )
    assert BedrockModel.of(provisioned).kind is ModelKind.PROVISIONED
    step = InvokeBedrock(stack, "Ask", model=foundation, prompt="hi")
    assert step.model == BedrockModel.of(foundation)
    profile = BedrockModel.application_profile(
        "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/ab1",
        source=foundation,
    )
    assert profile.source == BedrockModel.of(foundation)


class _Profile:
    """Any ``aws_bedrock.IModel``: only ``model_arn`` is known."""

    model_arn = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-pro-v1:0"


def test_any_imodel_is_read_from_its_arn() -> None:
    assert BedrockModel.of(_Profile()) == BedrockModel.cross_region_profile(  # type: ignore[arg-type]
        "us.amazon.nova-pro-v1:0"
    )
    other = _Profile()
    other.model_arn = "arn:aws:bedrock:us-east-1:123456789012:custom-model/x"
    with pytest.raises(LambdalessError, match="model="):
        BedrockModel.of(other)  # type: ignore[arg-type]
    with pytest.raises(LambdalessTypeError, match="model=42"):
        BedrockModel.of(42)  # type: ignore[arg-type]


# -- errors -------------------------------------------------------------------------------------
def test_errors_carry_argument_value_and_construct_path(stack: cdk.Stack) -> None:
    with pytest.raises(LambdalessError) as caught:
        InvokeBedrock(stack, "Ask", model="not a model", prompt="hi")
    error = caught.value
    assert (error.argument, error.value, error.path) == ("model_id", "not a model", "TestStack/Ask")
    assert str(error).startswith("model_id='not a model' is not allowed: expected ")
    assert str(error).endswith("(at TestStack/Ask)")


def test_wrong_types_are_type_errors(stack: cdk.Stack) -> None:
    step = InvokeBedrock(stack, "Ask", model="amazon.nova-lite-v1:0", prompt="hi")
    with pytest.raises(TypeError) as caught:
        Workflow(stack, "Flow", definition=step, express="yes")  # type: ignore[arg-type]
    assert isinstance(caught.value, LambdalessTypeError)
    assert isinstance(caught.value, ValueError)  # still a LambdalessError for older callers
    assert caught.value.path == "TestStack/Flow"
    with pytest.raises(LambdalessTypeError, match="timeout=5"):
        Workflow(stack, "Flow2", definition=step, timeout=5)  # type: ignore[arg-type]


def test_the_innermost_construct_names_the_error(stack: cdk.Stack) -> None:
    step = InvokeBedrock(stack, "Ask", model="amazon.nova-lite-v1:0", prompt="hi")
    workflow = Workflow(stack, "Flow", definition=step, alarms=False)
    with pytest.raises(LambdalessError) as caught:
        WorkflowMonitoring(stack, "Watch", workflow=workflow, bedrock_throttle_threshold=0)
    assert caught.value.path == "TestStack/Watch"


# -- opt-in costs ----------------------------------------------------------------------------
def test_dashboard_is_opt_in_and_alarms_stay_on(stack: cdk.Stack) -> None:
    default = _workflow(stack)
    assert default.monitoring is not None
    assert default.monitoring.dashboard is None
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::CloudWatch::Dashboard", 0)
    assert len(template.find_resources("AWS::CloudWatch::Alarm")) == 5  # 4 executions + 1 model


def test_dashboard_on_request(stack: cdk.Stack) -> None:
    workflow = _workflow(stack, dashboard=True)
    assert workflow.monitoring is not None
    assert workflow.monitoring.dashboard is not None
    Template.from_stack(stack).resource_count_is("AWS::CloudWatch::Dashboard", 1)


def test_dashboard_needs_alarms(stack: cdk.Stack) -> None:
    with pytest.raises(LambdalessError, match=r"dashboard=True .*alarms=False"):
        _workflow(stack, alarms=False, dashboard=True)
