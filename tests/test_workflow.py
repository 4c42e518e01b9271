"""Workflow: secure defaults, retry budgets, and lambdaless steps composed like any CDK state."""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kms as kms
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk.assertions import Annotations, Match, Template
from syrupy.assertion import SnapshotAssertion

from lambdaless import (
    Converse,
    InvokeBedrock,
    LambdalessError,
    RetryPolicy,
    Workflow,
)

Asl = Callable[[cdk.Stack], dict[str, Any]]
NOVA = "amazon.nova-lite-v1:0"
CLAUDE = "anthropic.claude-3-5-haiku-20241022-v1:0"


def ask(scope: cdk.Stack, id: str = "Ask", **kwargs: Any) -> InvokeBedrock:
    options: dict[str, Any] = {"model": NOVA, "prompt": "{% $states.input.question %}", **kwargs}
    return InvokeBedrock(scope, id, **options)


def state_machine_props(stack: cdk.Stack) -> dict[str, Any]:
    machines = Template.from_stack(stack).find_resources("AWS::StepFunctions::StateMachine")
    assert len(machines) == 1
    return dict(next(iter(machines.values()))["Properties"])


def bedrock_actions(stack: cdk.Stack) -> list[str]:
    policies = Template.from_stack(stack).find_resources("AWS::IAM::Policy")
    return [
        s["Action"]
        for p in policies.values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if str(s["Action"]).startswith("bedrock:")
    ]


# -- defaults -----------------------------------------------------------------------------------
def test_standard_defaults(stack: cdk.Stack, asl: Asl) -> None:
    workflow = Workflow(stack, "Workflow", definition=ask(stack))
    props = state_machine_props(stack)
    assert props["StateMachineType"] == "STANDARD"
    assert props["TracingConfiguration"] == {"Enabled": True}
    logging = props["LoggingConfiguration"]
    assert logging["Level"] == "ALL"
    assert logging["IncludeExecutionData"] is False
    assert len(logging["Destinations"]) == 1
    assert "EncryptionConfiguration" not in props
    definition = asl(stack)
    assert definition["QueryLanguage"] == "JSONata"
    assert definition["TimeoutSeconds"] == 3600
    assert workflow.timeout.to_seconds() == 3600
    assert workflow.express is False
    assert workflow.role.node.path == workflow.state_machine.role.node.path
    template = Template.from_stack(stack)
    template.has_resource(
        "AWS::Logs::LogGroup",
        {"Properties": {"RetentionInDays": 365}, "DeletionPolicy": "Retain"},
    )


def test_express_defaults(stack: cdk.Stack, asl: Asl) -> None:
    Workflow(stack, "Workflow", definition=ask(stack), express=True)
    assert state_machine_props(stack)["StateMachineType"] == "EXPRESS"
    assert asl(stack)["TimeoutSeconds"] == 300


def test_options_can_be_turned(stack: cdk.Stack, asl: Asl) -> None:
    Workflow(
        stack,
        "Workflow",
        definition=ask(stack),
        timeout=cdk.Duration.minutes(10),
        include_execution_data=True,
        log_level=sfn.LogLevel.ERROR,
        tracing=False,
        state_machine_name="my-machine",
        comment="hello",
    )
    props = state_machine_props(stack)
    assert props["LoggingConfiguration"]["IncludeExecutionData"] is True
    assert props["LoggingConfiguration"]["Level"] == "ERROR"
    assert props.get("TracingConfiguration", {"Enabled": False}) == {"Enabled": False}
    assert props["StateMachineName"] == "my-machine"
    assert asl(stack)["TimeoutSeconds"] == 600
    assert asl(stack)["Comment"] == "hello"


def test_kms_key_encrypts_state_machine_and_log_group(stack: cdk.Stack) -> None:
    key = kms.Key(stack, "Key")
    Workflow(stack, "Workflow", definition=ask(stack), encryption_key=key)
    key_arn = {"Fn::GetAtt": [stack.get_logical_id(key.node.default_child), "Arn"]}  # type: ignore[arg-type]
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::StepFunctions::StateMachine",
        {
            "EncryptionConfiguration": Match.object_like(
                {"KmsKeyId": key_arn, "Type": "CUSTOMER_MANAGED_KMS_KEY"}
            )
        },
    )
    template.has_resource_properties("AWS::Logs::LogGroup", {"KmsKeyId": key_arn})
    # CloudWatch Logs may use the key, for this account's log groups only
    template.has_resource_properties(
        "AWS::KMS::Key",
        {
            "KeyPolicy": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Principal": {
                                    "Service": {
                                        "Fn::Join": [
                                            "",
                                            ["logs.", {"Ref": "AWS::Region"}, ".amazonaws.com"],
                                        ]
                                    }
                                },
                                "Condition": {"ArnLike": Match.any_value()},
                            }
                        )
                    ]
                )
            }
        },
    )


def test_metrics(stack: cdk.Stack) -> None:
    workflow = Workflow(stack, "Workflow", definition=ask(stack))
    expected = {
        workflow.metric_failed: "ExecutionsFailed",
        workflow.metric_timed_out: "ExecutionsTimedOut",
        workflow.metric_throttled: "ExecutionThrottled",
        workflow.metric_aborted: "ExecutionsAborted",
        workflow.metric_succeeded: "ExecutionsSucceeded",
        workflow.metric_started: "ExecutionsStarted",
        workflow.metric_time: "ExecutionTime",
    }
    for method, name in expected.items():
        metric = method()
        assert isinstance(metric, cloudwatch.Metric)
        assert metric.namespace == "AWS/States"
        assert metric.metric_name == name


def test_definition_method_returns_the_resolved_asl(stack: cdk.Stack, asl: Asl) -> None:
    workflow = Workflow(stack, "Workflow", definition=ask(stack))
    assert workflow.definition() == asl(stack)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"express": True, "timeout": cdk.Duration.seconds(301)}, "timeout='301 s'"),
        ({"express": True, "timeout": cdk.Duration.hours(1)}, "timeout='3600 s'"),
        ({"timeout": cdk.Duration.days(366)}, "timeout='31622400 s'"),
        ({"timeout": cdk.Duration.millis(1500)}, "timeout='1.5 s'"),
        ({"timeout": 60}, "timeout=60"),
    ],
)
def test_bad_timeout(stack: cdk.Stack, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(LambdalessError) as caught:
        Workflow(stack, "Workflow", definition=ask(stack), **kwargs)
    assert str(caught.value).startswith(message), str(caught.value)


def test_bad_definition(stack: cdk.Stack) -> None:
    with pytest.raises(LambdalessError, match=r"^definition="):
        Workflow(stack, "Workflow", definition="Ask")  # type: ignore[arg-type]


# -- retry budgets ------------------------------------------------------------------------------
def test_default_step_fits_an_express_workflow(stack: cdk.Stack) -> None:
    """137 s of back-off across 9 attempts, no TimeoutSeconds: fits 300 s."""
    Workflow(stack, "Workflow", definition=ask(stack), express=True)


def test_express_budget_with_step_timeout_fails_with_the_numbers(stack: cdk.Stack) -> None:
    step = ask(stack, "Summarize", timeout=cdk.Duration.seconds(60))
    with pytest.raises(LambdalessError) as caught:
        Workflow(stack, "Workflow", definition=step, express=True)
    message = str(caught.value)
    assert message.startswith("state 'Summarize' Retry="), message
    assert "137 s of back-off + 9 attempts x 60 s timeout = 677 s" in message
    assert "within 300 s, the Express workflow's timeout" in message
    assert "[rule retry-budget;" in message
    assert "use a Standard workflow" in message


def test_express_budget_without_timeout_fails(stack: cdk.Stack) -> None:
    slow = RetryPolicy(errors=("Bedrock.ThrottlingException",), interval_seconds=10, max_attempts=6)
    step = ask(stack, "Slow", retry=[slow])  # 10+20+40+80+160+320 = 630 s
    with pytest.raises(LambdalessError) as caught:
        Workflow(stack, "Workflow", definition=step, express=True)
    message = str(caught.value)
    assert message.startswith("state 'Slow' Retry=")
    assert "630 s of back-off across 7 attempts (no TimeoutSeconds)" in message
    assert "300 s" in message


def test_fitting_budget_with_timeout_passes(stack: cdk.Stack) -> None:
    # 137 s + 9 x 15 s = 272 s <= 300 s
    Workflow(
        stack, "Workflow", definition=ask(stack, timeout=cdk.Duration.seconds(15)), express=True
    )


def test_express_budget_is_checked_inside_map_and_parallel(stack: cdk.Stack) -> None:
    inner = ask(stack, "Inner", timeout=cdk.Duration.seconds(60))
    each = sfn.Map(stack, "Each", items=sfn.ProvideItems.jsonata("{% $states.input.items %}"))
    each.item_processor(sfn.Parallel(stack, "Both").branch(inner))
    with pytest.raises(LambdalessError, match=r"^state 'Inner' Retry="):
        Workflow(stack, "Workflow", definition=each, express=True)


def test_standard_with_a_short_timeout(stack: cdk.Stack) -> None:
    with pytest.raises(LambdalessError) as caught:
        Workflow(stack, "Workflow", definition=ask(stack), timeout=cdk.Duration.minutes(2))
    message = str(caught.value)
    assert message.startswith("state 'Ask' Retry=")
    assert "137 s of back-off across 9 attempts" in message
    assert "within 120 s, the Standard workflow's timeout" in message
    assert "raise the timeout" in message
    Workflow(stack, "Fits", definition=ask(stack, "Ask2"), timeout=cdk.Duration.minutes(3))


def test_no_retry_needs_no_budget(stack: cdk.Stack) -> None:
    step = ask(stack, timeout=cdk.Duration.seconds(299), retry=[])
    Workflow(stack, "Workflow", definition=step, express=True)


# -- composition --------------------------------------------------------------------------------
def test_chain_with_cdk_states(
    stack: cdk.Stack, asl: Asl, snapshot_json: SnapshotAssertion
) -> None:
    first = ask(stack, "Draft", assign_result_to="draft")
    review = Converse(stack, "Review", model=CLAUDE, prompt="{% 'Review: ' & $draft.text %}")
    truncated = sfn.Pass(stack, "Truncated", outputs={"warning": "cut short"})
    done = sfn.Succeed(stack, "Done")
    choice = (
        sfn.Choice(stack, "CutShort")
        .when(sfn.Condition.jsonata("{% $states.input.stopReason = 'max_tokens' %}"), truncated)
        .otherwise(done)
    )
    first.next(sfn.Pass(stack, "Log")).next(review).next(choice)
    Workflow(stack, "Workflow", definition=first)
    definition = asl(stack)
    assert definition["StartAt"] == "Draft"
    assert definition["States"]["Draft"]["Next"] == "Log"
    assert definition["States"]["Review"]["Next"] == "CutShort"
    assert bedrock_actions(stack) == ["bedrock:InvokeModel", "bedrock:InvokeModel"]
    assert definition == snapshot_json


def test_add_catch_keeps_output_and_assign(
    stack: cdk.Stack, asl: Asl, snapshot_json: SnapshotAssertion
) -> None:
    step = ask(stack)
    fallback = ask(stack, "Fallback", model=CLAUDE)
    failed = sfn.Fail(
        stack, "Failed", error="{% $states.input.Error %}", cause="{% $states.input.Cause %}"
    )
    step.add_catch(
        fallback,
        errors=InvokeBedrock.TRANSIENT_ERRORS,
        outputs="{% $states.input %}",
        assign={"firstError": "{% $states.errorOutput.Error %}"},
    )
    step.add_catch(failed, errors=InvokeBedrock.PERMANENT_ERRORS)
    step.add_catch(failed)  # States.ALL by default
    Workflow(stack, "Workflow", definition=step)
    catches = asl(stack)["States"]["Ask"]["Catch"]
    assert catches == [
        {
            "ErrorEquals": InvokeBedrock.TRANSIENT_ERRORS,
            "Next": "Fallback",
            "Output": "{% $states.input %}",
            "Assign": {"firstError": "{% $states.errorOutput.Error %}"},
        },
        {"ErrorEquals": InvokeBedrock.PERMANENT_ERRORS, "Next": "Failed"},
        {"ErrorEquals": ["States.ALL"], "Next": "Failed"},
    ]
    assert asl(stack) == snapshot_json


def test_add_catch_refuses_result_path(stack: cdk.Stack) -> None:
    with pytest.raises(LambdalessError, match=r"^result_path='\$\.error'"):
        ask(stack).add_catch(sfn.Succeed(stack, "Done"), result_path="$.error")


def test_inside_parallel(stack: cdk.Stack, asl: Asl, snapshot_json: SnapshotAssertion) -> None:
    both = sfn.Parallel(stack, "Both", outputs="{% $states.result %}")
    both.branch(ask(stack, "AskNova"))
    both.branch(Converse(stack, "AskClaude", model=CLAUDE, prompt="{% $states.input.question %}"))
    Workflow(stack, "Workflow", definition=both)
    assert bedrock_actions(stack) == ["bedrock:InvokeModel", "bedrock:InvokeModel"]
    assert asl(stack) == snapshot_json


def test_inside_map(us_stack: cdk.Stack, asl: Asl, snapshot_json: SnapshotAssertion) -> None:
    each = sfn.Map(
        us_stack,
        "EachDocument",
        items=sfn.ProvideItems.jsonata("{% $states.input.documents %}"),
        item_selector={"document": "{% $states.context.Map.Item.Value %}"},
        max_concurrency=4,
    )
    each.item_processor(
        InvokeBedrock(
            us_stack,
            "Summarize",
            model="us.anthropic.claude-3-5-haiku-20241022-v1:0",
            prompt="{% 'Summarize: ' & $states.input.document %}",
        )
    )
    Workflow(us_stack, "Workflow", definition=each)
    policies = Template.from_stack(us_stack).find_resources("AWS::IAM::Policy")
    (policy,) = policies.values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    # both the profile and its routed models are granted, though the step is inside the Map
    assert [s["Action"] for s in statements[:2]] == ["bedrock:InvokeModel"] * 2
    assert "Condition" in statements[1]
    assert asl(us_stack) == snapshot_json


def test_in_a_jsonpath_state_machine(
    stack: cdk.Stack, asl: Asl, snapshot_json: SnapshotAssertion
) -> None:
    prepare = sfn.Pass(stack, "Prepare", parameters={"question.$": "$.q"})
    step = ask(stack)
    step.add_catch(sfn.Fail(stack, "Failed"), errors=InvokeBedrock.PERMANENT_ERRORS)
    each = sfn.Map(stack, "Each", items_path="$.items")
    each.item_processor(Converse(stack, "Chat", model=CLAUDE, prompt="{% $states.input.q %}"))
    prepare.next(step).next(each)
    Workflow(stack, "Workflow", definition=prepare, query_language=sfn.QueryLanguage.JSON_PATH)
    definition = asl(stack)
    assert definition.get("QueryLanguage", "JSONPath") == "JSONPath"
    assert "QueryLanguage" not in definition["States"]["Prepare"]
    assert definition["States"]["Ask"]["QueryLanguage"] == "JSONata"
    assert "ResultPath" not in definition["States"]["Ask"]["Catch"][0]
    chat = definition["States"]["Each"]["ItemProcessor"]["States"]["Chat"]
    assert chat["QueryLanguage"] == "JSONata"
    assert bedrock_actions(stack) == ["bedrock:InvokeModel", "bedrock:InvokeModel"]
    assert definition == snapshot_json


def test_inside_a_fragment_and_nested_workflows(stack: cdk.Stack, asl: Asl) -> None:
    class Twice(sfn.StateMachineFragment):
        def __init__(self, scope: cdk.Stack, id: str) -> None:
            super().__init__(scope, id)
            first = ask(self, "First")
            second = ask(self, "Second")
            first.next(second)
            self._start: sfn.State = first
            self._ends: list[sfn.INextable] = [second]

        @property
        def start_state(self) -> sfn.State:
            return self._start

        @property
        def end_states(self) -> list[sfn.INextable]:
            return self._ends

    Workflow(stack, "Workflow", definition=Twice(stack, "Twice"))
    assert list(asl(stack)["States"]) == ["First", "Second"]
    assert bedrock_actions(stack) == ["bedrock:InvokeModel"]  # the same grant, once


def test_add_retry_comes_before_the_step_defaults_without_a_warning(
    stack: cdk.Stack, asl: Asl
) -> None:
    step = ask(stack, "Ask")
    step.add_retry(errors=["Bedrock.ThrottlingException"], max_attempts=10)
    Workflow(stack, "Workflow", definition=step, alarms=False)
    retry = asl(stack)["States"]["Ask"]["Retry"]
    assert retry[0]["ErrorEquals"] == ["Bedrock.ThrottlingException"]
    assert retry[0]["MaxAttempts"] == 10
    assert [r["ErrorEquals"] for r in retry[1:]] == [list(r.errors) for r in step.retries], (
        "the step's own retriers follow"
    )
    Annotations.from_stack(stack).has_no_warning("*", Match.any_value())


def test_add_retry_of_states_all_is_refused_by_name(stack: cdk.Stack) -> None:
    with pytest.raises(LambdalessError, match=r"^errors=\['States.ALL'\].*last retrier"):
        ask(stack, "Ask").add_retry()


def test_catch_output_renders_in_a_jsonpath_state_machine(stack: cdk.Stack, asl: Asl) -> None:
    step = ask(stack, "Ask")
    step.add_catch(sfn.Pass(stack, "Handle"), outputs="{% $states.errorOutput.Cause %}")
    Workflow(
        stack,
        "Workflow",
        definition=step,
        query_language=sfn.QueryLanguage.JSON_PATH,
        alarms=False,
    )
    state = asl(stack)["States"]["Ask"]
    assert state["QueryLanguage"] == "JSONata"
    assert state["Catch"] == [
        {
            "ErrorEquals": ["States.ALL"],
            "Next": "Handle",
            "Output": "{% $states.errorOutput.Cause %}",
        }
    ]


def test_workflow_knows_its_steps_inside_map_and_parallel(stack: cdk.Stack) -> None:
    inner, outer = ask(stack, "Inner"), ask(stack, "Outer")
    each = sfn.Map(stack, "Each", items=sfn.ProvideItems.jsonata("{% $states.input.items %}"))
    each.item_processor(sfn.Parallel(stack, "Both").branch(inner))
    workflow = Workflow(stack, "Workflow", definition=outer.next(each), alarms=False)
    assert {s.step_name for s in workflow.steps} == {"Inner", "Outer"}


@pytest.mark.parametrize("nag_loaded", [True, False])
def test_nag_acknowledgements_are_recorded_at_synth_when_cdk_nag_runs(
    app: cdk.App, stack: cdk.Stack, monkeypatch: pytest.MonkeyPatch, nag_loaded: bool
) -> None:
    if nag_loaded:
        monkeypatch.setitem(sys.modules, "cdk_nag", types.ModuleType("cdk_nag"))
    else:
        monkeypatch.delitem(sys.modules, "cdk_nag", raising=False)
    workflow = Workflow(stack, "Workflow", definition=ask(stack), alarms=False)

    def acknowledged() -> dict[str, str]:
        return {
            finding: reason
            for entry in workflow.node.metadata
            if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
            for finding, reason in dict(entry.data).items()
        }

    assert acknowledged() == {}  # nothing at construction: no call into aws-cdk-lib
    app.synth()
    if nag_loaded:
        assert list(acknowledged()) == ["AwsSolutions::AwsSolutions-IAM5[Resource::*]"]
        assert "X-Ray" in acknowledged()["AwsSolutions::AwsSolutions-IAM5[Resource::*]"]
    else:
        assert acknowledged() == {}


def test_workflow_finds_its_steps_wherever_they_were_bound(stack: cdk.Stack) -> None:
    """Steps of a Parallel (bound when given their branch) count; a step of another state
    machine does not."""
    plain = ask(stack, "InAPlainMachine")
    sfn.StateMachine(stack, "Plain", definition_body=sfn.DefinitionBody.from_chainable(plain))
    inner = ask(stack, "Inner")
    branches = sfn.Parallel(stack, "Both").branch(inner)  # binds Inner now, in its branch
    workflow = Workflow(
        stack, "Workflow", definition=ask(stack, "Outer").next(branches), alarms=False
    )
    assert {s.step_name for s in workflow.steps} == {"Inner", "Outer"}
