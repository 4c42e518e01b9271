"""Rules about retriers, catchers and timeouts (lambdaless.rules.retries), each refused with its
AWS page, beside realistic inputs that must still pass.

Pages: Step Functions developer guide "concepts-error-handling" (Retry fields and ranges,
States.ALL alone and last, error names per integration) and "state-task" / "state-wait"
(TimeoutSeconds, HeartbeatSeconds, Seconds).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from tests.rules._support import accepted, refused

from lambdaless import (
    ApprovalChannel,
    CallHttpApi,
    Converse,
    HttpAuth,
    HumanApproval,
    InvokeBedrock,
    RetryPolicy,
    Workflow,
)
from lambdaless.analysis.lint import lint_definition
from lambdaless.analysis.retry_checks import check_retriers

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
NOVA = "amazon.nova-lite-v1:0"
API_KEY = cdk.SecretValue.secrets_manager("lambdaless/test/api-key")
BEDROCK = "arn:aws:states:::bedrock:invokeModel"


def http(stack: cdk.Stack, id: str = "Call", **options: Any) -> CallHttpApi:
    auth = HttpAuth.api_key(header_name="x-api-key", value=API_KEY)
    return CallHttpApi(stack, id, base_url="https://api.example.com", auth=auth, **options)


def approval(stack: cdk.Stack, timeout: cdk.Duration, **options: Any) -> HumanApproval:
    channel = ApprovalChannel.sns_topic(sns.Topic(stack, "Reviews"))
    return HumanApproval(stack, "Review", channel=channel, timeout=timeout, **options)


# -- retry-field-range ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("interval_seconds", 0),
        ("interval_seconds", 1.5),
        ("max_attempts", -1),
        ("max_attempts", True),
        ("max_attempts", 100_000_000),
        ("backoff_rate", 0.5),
        ("backoff_rate", float("nan")),
        ("max_delay_seconds", 31_622_401),
        ("full_jitter", "yes"),
    ],
)
def test_retry_field_range(field: str, value: Any) -> None:
    refused(
        "retry-field-range",
        lambda: RetryPolicy(errors=("Bedrock.ThrottlingException",), **{field: value}),
        argument=field,
    )


def test_retry_field_range_accepts_presets_and_edges() -> None:
    for preset in (RetryPolicy.bedrock_transient, RetryPolicy.http_transient):
        accepted(preset)
    accepted(
        lambda: RetryPolicy(
            errors=("States.Timeout",),
            interval_seconds=99_999_999,
            max_attempts=0,
            backoff_rate=1.0,
        )
    )
    bad = {"ErrorEquals": ["X"], "JitterStrategy": "HALF", "BackoffRate": 0.9}
    assert {p.field for p in check_retriers({"States": {"T": {"Retry": [bad]}}})} == {
        "JitterStrategy",
        "BackoffRate",
    }


# -- retry-contradictory -------------------------------------------------------------------------
def test_retry_contradictory_cap_below_interval() -> None:
    refused(
        "retry-contradictory",
        lambda: RetryPolicy(errors=("X.Y",), interval_seconds=10, max_delay_seconds=5),
        argument="max_delay_seconds",
        value=5,
    )


def test_retry_contradictory_jitter_without_retries() -> None:
    refused(
        "retry-contradictory",
        lambda: RetryPolicy(errors=("X.Y",), max_attempts=0, full_jitter=True),
        argument="full_jitter",
    )
    accepted(lambda: RetryPolicy(errors=("X.Y",), interval_seconds=5, max_delay_seconds=5))
    accepted(lambda: RetryPolicy(errors=("X.Y",), max_attempts=0))


# -- retry-states-all-last -----------------------------------------------------------------------
def test_retry_states_all_last_in_a_policy_and_a_steps_list(stack: cdk.Stack) -> None:
    refused(
        "retry-states-all-last",
        lambda: RetryPolicy(errors=("States.ALL", "Bedrock.ThrottlingException")),
        argument="errors",
    )
    everything = RetryPolicy(errors=("States.ALL",), max_attempts=1)
    refused(
        "retry-states-all-last",
        lambda: InvokeBedrock(
            stack,
            "Ask",
            model=MODEL,
            prompt="Hi",
            retry=[everything, RetryPolicy.bedrock_transient()],
        ),
        argument="retry",
    )
    accepted(
        lambda: InvokeBedrock(
            stack,
            "Ok",
            model=MODEL,
            prompt="Hi",
            retry=[RetryPolicy.bedrock_transient(), everything],
        )
    )


def test_retry_states_all_last_in_synthesized_asl() -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "T",
        "TimeoutSeconds": 600,
        "States": {
            "T": {
                "Type": "Task",
                "Resource": BEDROCK,
                "Retry": [{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["Bedrock.X"]}],
                "Catch": [
                    {"ErrorEquals": ["Bedrock.X"], "Next": "F"},
                    {"ErrorEquals": ["States.ALL"], "Next": "F"},
                ],
                "End": True,
            },
            "F": {"Type": "Fail"},
        },
    }
    findings = [f for f in lint_definition(definition) if f.rule == "retry-states-all-last"]
    assert [(f.state, f.severity) for f in findings] == [("T", "error")]
    assert "state 'T' Retry=" in findings[0].message


# -- retry-error-not-raised ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("step", "errors"),
    [
        ("invoke", ("ThrottlingException",)),
        ("invoke", ("BedrockRuntime.ThrottlingException",)),
        ("invoke", ("Bedrock.ThrottledException",)),  # no such exception
        ("converse", ("Bedrock.ThrottlingException",)),
        ("http", ("Bedrock.ThrottlingException",)),
        ("http", ("States.Http.StatusCode.200",)),
        ("invoke", ("States.Http.Socket",)),
        ("invoke", ("States.Runtime",)),
        ("invoke", ("States.HeartbeatTimeout",)),  # no HeartbeatSeconds
    ],
)
def test_retry_error_not_raised(stack: cdk.Stack, step: str, errors: tuple[str, ...]) -> None:
    policy = RetryPolicy(errors=errors)
    build = {
        "invoke": lambda: InvokeBedrock(stack, "S", model=MODEL, prompt="Hi", retry=[policy]),
        "converse": lambda: Converse(stack, "S", model=NOVA, prompt="Hi", retry=[policy]),
        "http": lambda: http(stack, "S", retry=[policy]),
    }[step]
    refused("retry-error-not-raised", build, argument="retry errors", value=errors[0])


def test_retry_error_not_raised_in_add_retry_and_add_catch(stack: cdk.Stack) -> None:
    call = http(stack)
    refused(
        "retry-error-not-raised",
        lambda: call.add_retry(errors=["Bedrock.ThrottlingException"]),
        argument="errors",
    )
    handler = sfn.Pass(stack, "Handle")
    refused(
        "retry-error-not-raised",
        lambda: call.add_catch(handler, errors=["ThrottlingException"]),
        value="ThrottlingException",
    )
    accepted(lambda: call.add_catch(handler, errors=["States.Http.StatusCode.404"]))


def test_retry_error_names_each_step_raises_pass(stack: cdk.Stack) -> None:
    accepted(lambda: InvokeBedrock(stack, "A", model=MODEL, prompt="Hi"))
    accepted(lambda: Converse(stack, "B", model=NOVA, prompt="Hi"))
    accepted(lambda: http(stack, "C", retry=[RetryPolicy(errors=("States.Timeout",))]))
    ask = InvokeBedrock(stack, "D", model=MODEL, prompt="Hi", timeout=cdk.Duration.seconds(60))
    accepted(lambda: ask.add_catch(sfn.Pass(stack, "E"), errors=["Bedrock.ValidationException"]))
    accepted(lambda: ask.add_catch(sfn.Pass(stack, "F"), errors=["States.TaskFailed"]))
    accepted(lambda: ask.add_retry(errors=["Bedrock.ModelNotReadyException"], max_attempts=2))


# -- timeout-beyond-workflow (issue item 5) ------------------------------------------------------
def test_timeout_beyond_workflow_a_day_long_approval_in_the_default_hour(stack: cdk.Stack) -> None:
    review = approval(stack, cdk.Duration.hours(24))
    error = refused(
        "timeout-beyond-workflow",
        lambda: Workflow(stack, "Flow", definition=review),
        argument="state 'ReviewRequest' TimeoutSeconds",
        value=86400,
    )
    assert "at most 3600 s, the Standard workflow's timeout" in str(error)


def test_timeout_beyond_workflow_heartbeat_and_step_timeout(stack: cdk.Stack) -> None:
    review = approval(stack, cdk.Duration.hours(1), heartbeat=cdk.Duration.minutes(30))
    refused(
        "timeout-beyond-workflow",
        lambda: Workflow(stack, "Flow", definition=review, timeout=cdk.Duration.minutes(20)),
        argument="state 'ReviewRequest' TimeoutSeconds",
    )
    ask = InvokeBedrock(stack, "Ask", model=MODEL, prompt="Hi", timeout=cdk.Duration.minutes(10))
    refused(
        "timeout-beyond-workflow",
        lambda: Workflow(stack, "Express", definition=ask, express=True),
        argument="state 'Ask' TimeoutSeconds",
        value=600,
    )


def test_timeout_within_workflow_passes(stack: cdk.Stack) -> None:
    review = approval(stack, cdk.Duration.hours(24), heartbeat=cdk.Duration.hours(1))
    accepted(lambda: Workflow(stack, "Flow", definition=review, timeout=cdk.Duration.days(2)))


def test_timeout_beyond_workflow_wait_state_fails_synth(tmp_path: Path) -> None:
    """A plain aws-cdk-lib Wait is no lambdaless step: the lint finds it at synth."""
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Waits")
    wait = sfn.Wait(stack, "Cool", time=sfn.WaitTime.duration(cdk.Duration.hours(2)))
    Workflow(stack, "Flow", definition=wait, alarms=False)
    with pytest.raises(Exception, match="timeout-beyond-workflow") as caught:
        app.synth()
    assert "state 'Cool' Seconds=7200" in str(caught.value)


def test_timeout_beyond_workflow_in_lint_uses_the_execution_timeout() -> None:
    definition = {
        "StartAt": "Cool",
        "TimeoutSeconds": 60,
        "States": {"Cool": {"Type": "Wait", "Seconds": 61, "End": True}},
    }
    (finding,) = lint_definition(definition)
    assert finding.rule == "timeout-beyond-workflow"
    definition["States"]["Cool"]["Seconds"] = 60
    assert lint_definition(definition) == []


# -- retry-budget --------------------------------------------------------------------------------
def test_retry_budget(stack: cdk.Stack) -> None:
    ask = InvokeBedrock(stack, "Ask", model=MODEL, prompt="Hi", timeout=cdk.Duration.seconds(60))
    error = refused(
        "retry-budget",
        lambda: Workflow(stack, "Flow", definition=ask, express=True),
        argument="state 'Ask' Retry",
    )
    assert "137 s of back-off + 9 attempts x 60 s timeout = 677 s" in str(error)
    quick = InvokeBedrock(
        stack, "Quick", model=MODEL, prompt="Hi", timeout=cdk.Duration.seconds(15)
    )
    accepted(lambda: Workflow(stack, "Fits", definition=quick, express=True))


# -- heartbeat-below-timeout ---------------------------------------------------------------------
def test_heartbeat_below_timeout(stack: cdk.Stack) -> None:
    refused(
        "heartbeat-below-timeout",
        lambda: approval(stack, cdk.Duration.hours(1), heartbeat=cdk.Duration.hours(1)),
        argument="heartbeat",
        value="3600 s",
    )
    definition = {
        "StartAt": "Wait",
        "States": {
            "Wait": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"MessageBody": {"TaskToken.$": "$$.Task.Token"}},
                "TimeoutSeconds": 300,
                "HeartbeatSeconds": 300,
                "End": True,
            }
        },
    }
    assert [f.rule for f in lint_definition(definition)] == ["heartbeat-below-timeout"]


# -- duration-whole-seconds ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("build", "argument"),
    [
        (lambda s: approval(s, cdk.Duration.millis(90_500)), "timeout"),
        (
            lambda s: approval(s, cdk.Duration.hours(1), heartbeat=cdk.Duration.millis(10)),
            "heartbeat",
        ),
        (
            lambda s: InvokeBedrock(
                s, "Ask", model=MODEL, prompt="Hi", timeout=cdk.Duration.millis(2500)
            ),
            "timeout",
        ),
        (
            lambda s: Workflow(
                s, "Flow", definition=sfn.Pass(s, "P"), timeout=cdk.Duration.millis(1500)
            ),
            "timeout",
        ),
        (lambda s: approval(s, 3600), "timeout"),  # type: ignore[arg-type]
    ],
)
def test_duration_whole_seconds(stack: cdk.Stack, build: Any, argument: str) -> None:
    refused("duration-whole-seconds", lambda: build(stack), argument=argument)


def test_duration_whole_seconds_accepts_minutes(stack: cdk.Stack) -> None:
    accepted(lambda: approval(stack, cdk.Duration.minutes(90)))
