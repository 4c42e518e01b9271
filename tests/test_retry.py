"""RetryPolicy: exact preset values (a changed default must fail here), rendering and timing."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_stepfunctions as sfn

from lambdaless import InvokeBedrock, LambdalessError, RetryPolicy, Workflow
from lambdaless.retry import (
    BEDROCK_PERMANENT_ERRORS,
    BEDROCK_TIMEOUT_ERRORS,
    BEDROCK_TRANSIENT_ERRORS,
    CONVERSE_PERMANENT_ERRORS,
    CONVERSE_TIMEOUT_ERRORS,
    CONVERSE_TRANSIENT_ERRORS,
    HTTP_TRANSIENT_ERRORS,
    retry_delays,
    worst_case_seconds,
)

TRANSIENT = [
    "Bedrock.ThrottlingException",
    "Bedrock.ModelNotReadyException",
    "Bedrock.ServiceUnavailableException",
    "Bedrock.InternalServerException",
]
PERMANENT = [
    "Bedrock.ValidationException",
    "Bedrock.AccessDeniedException",
    "Bedrock.ResourceNotFoundException",
    "Bedrock.ModelErrorException",
    "Bedrock.ServiceQuotaExceededException",
]


# -- error-name tables ----------------------------------------------------------------------
def test_error_tables_are_exact() -> None:
    assert list(BEDROCK_TRANSIENT_ERRORS) == TRANSIENT
    assert list(BEDROCK_TIMEOUT_ERRORS) == ["Bedrock.ModelTimeoutException"]
    assert list(BEDROCK_PERMANENT_ERRORS) == PERMANENT
    assert list(CONVERSE_TRANSIENT_ERRORS) == [
        e.replace("Bedrock.", "BedrockRuntime.") for e in TRANSIENT
    ]
    assert list(CONVERSE_TIMEOUT_ERRORS) == ["BedrockRuntime.ModelTimeoutException"]
    assert list(CONVERSE_PERMANENT_ERRORS) == [
        e.replace("Bedrock.", "BedrockRuntime.") for e in PERMANENT
    ]
    assert list(HTTP_TRANSIENT_ERRORS) == [
        "States.Http.StatusCode.408",
        "States.Http.StatusCode.429",
        "States.Http.StatusCode.502",
        "States.Http.StatusCode.503",
        "States.Http.StatusCode.504",
        "States.Http.Socket",
    ]


def test_no_bare_exception_name_is_ever_retried() -> None:
    """A bare ``ThrottlingException`` never matches ``Bedrock.ThrottlingException``."""
    for name in (*BEDROCK_TRANSIENT_ERRORS, *BEDROCK_TIMEOUT_ERRORS, *BEDROCK_PERMANENT_ERRORS):
        assert name.startswith("Bedrock."), name
    assert not set(BEDROCK_PERMANENT_ERRORS) & set(BEDROCK_TRANSIENT_ERRORS)
    assert not set(CONVERSE_PERMANENT_ERRORS) & set(CONVERSE_TRANSIENT_ERRORS)


# -- presets: every value pinned --------------------------------------------------------------
@pytest.mark.parametrize(
    ("preset", "expected"),
    [
        (
            RetryPolicy.bedrock_transient,
            RetryPolicy(
                errors=tuple(TRANSIENT),
                interval_seconds=2,
                max_attempts=6,
                backoff_rate=2.0,
                max_delay_seconds=60,
                full_jitter=True,
            ),
        ),
        (
            RetryPolicy.bedrock_model_timeout,
            RetryPolicy(
                errors=("Bedrock.ModelTimeoutException",),
                interval_seconds=5,
                max_attempts=2,
                backoff_rate=2.0,
                max_delay_seconds=10,
                full_jitter=True,
            ),
        ),
        (
            RetryPolicy.converse_transient,
            RetryPolicy(
                errors=tuple(e.replace("Bedrock.", "BedrockRuntime.") for e in TRANSIENT),
                interval_seconds=2,
                max_attempts=6,
                backoff_rate=2.0,
                max_delay_seconds=60,
                full_jitter=True,
            ),
        ),
        (
            RetryPolicy.converse_model_timeout,
            RetryPolicy(
                errors=("BedrockRuntime.ModelTimeoutException",),
                interval_seconds=5,
                max_attempts=2,
                backoff_rate=2.0,
                max_delay_seconds=10,
                full_jitter=True,
            ),
        ),
        (
            RetryPolicy.http_transient,
            RetryPolicy(
                errors=(
                    "States.Http.StatusCode.408",
                    "States.Http.StatusCode.429",
                    "States.Http.StatusCode.502",
                    "States.Http.StatusCode.503",
                    "States.Http.StatusCode.504",
                    "States.Http.Socket",
                ),
                interval_seconds=2,
                max_attempts=5,
                backoff_rate=2.0,
                max_delay_seconds=30,
                full_jitter=True,
            ),
        ),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_preset_values(preset: Any, expected: RetryPolicy) -> None:
    policy = preset()
    assert policy == expected
    # field by field too, so a failure names the value that moved
    assert policy.interval_seconds == expected.interval_seconds
    assert policy.max_attempts == expected.max_attempts
    assert policy.backoff_rate == expected.backoff_rate
    assert policy.max_delay_seconds == expected.max_delay_seconds
    assert policy.full_jitter is expected.full_jitter
    assert policy.errors == expected.errors


def test_preset_timings() -> None:
    assert RetryPolicy.bedrock_transient().delays() == [2, 4, 8, 16, 32, 60]
    assert RetryPolicy.bedrock_transient().worst_case_wait_seconds() == 122
    assert RetryPolicy.bedrock_model_timeout().delays() == [5, 10]
    assert RetryPolicy.bedrock_model_timeout().worst_case_wait_seconds() == 15
    assert RetryPolicy.http_transient().delays() == [2, 4, 8, 16, 30]
    assert RetryPolicy.http_transient().worst_case_wait_seconds() == 60


def test_default_invoke_bedrock_retry_block(stack: cdk.Stack, asl: Any) -> None:
    step = InvokeBedrock(stack, "Ask", model="amazon.nova-lite-v1:0", prompt="Hi")
    Workflow(stack, "W", definition=step)
    assert asl(stack)["States"]["Ask"]["Retry"] == [
        {
            "ErrorEquals": TRANSIENT,
            "IntervalSeconds": 2,
            "MaxAttempts": 6,
            "BackoffRate": 2,
            "MaxDelaySeconds": 60,
            "JitterStrategy": "FULL",
        },
        {
            "ErrorEquals": ["Bedrock.ModelTimeoutException"],
            "IntervalSeconds": 5,
            "MaxAttempts": 2,
            "BackoffRate": 2,
            "MaxDelaySeconds": 10,
            "JitterStrategy": "FULL",
        },
    ]
    assert "Catch" not in asl(stack)["States"]["Ask"]


# -- rendering --------------------------------------------------------------------------------
def test_to_asl_omits_unset_fields() -> None:
    assert RetryPolicy(errors=("States.Timeout",)).to_asl() == {
        "ErrorEquals": ["States.Timeout"],
        "IntervalSeconds": 1,
        "MaxAttempts": 3,
        "BackoffRate": 2.0,
    }


def test_to_retry_props_round_trips_through_cdk(stack: cdk.Stack, asl: Any) -> None:
    policy = RetryPolicy.bedrock_transient()
    props = policy.to_retry_props()
    assert props.errors == TRANSIENT
    assert props.max_attempts == 6
    assert props.jitter_strategy == sfn.JitterType.FULL
    wait = sfn.Wait(stack, "Wait", time=sfn.WaitTime.duration(cdk.Duration.seconds(1)))
    task = sfn.Parallel(stack, "Par").branch(wait)
    task.add_retry(
        errors=props.errors,
        interval=props.interval,
        max_attempts=props.max_attempts,
        backoff_rate=props.backoff_rate,
        max_delay=props.max_delay,
        jitter_strategy=props.jitter_strategy,
    )
    Workflow(stack, "W", definition=task)
    assert asl(stack)["States"]["Par"]["Retry"] == [policy.to_asl()]


def test_with_changes_a_copy_and_validates() -> None:
    base = RetryPolicy.bedrock_transient()
    changed = base.with_(max_attempts=2)
    assert changed.max_attempts == 2
    assert base.max_attempts == 6
    with pytest.raises(LambdalessError, match=r"^max_attempts=-1 "):
        base.with_(max_attempts=-1)


# -- timing -----------------------------------------------------------------------------------
def test_retry_delays_fill_asl_defaults() -> None:
    assert retry_delays({"ErrorEquals": ["X"]}) == [1, 2, 4]
    assert retry_delays({"MaxAttempts": 0}) == []
    assert retry_delays({"IntervalSeconds": 3, "BackoffRate": 1, "MaxAttempts": 2}) == [3, 3]
    assert retry_delays({"IntervalSeconds": 10, "MaxAttempts": 4, "MaxDelaySeconds": 25}) == [
        10,
        20,
        25,
        25,
    ]


def test_worst_case_adds_every_retrier() -> None:
    retriers = [
        RetryPolicy.bedrock_transient().to_asl(),
        RetryPolicy.bedrock_model_timeout().to_asl(),
    ]
    assert worst_case_seconds(retriers) == (137, 9)
    assert worst_case_seconds([]) == (0, 1)


def test_no_retry_has_no_wait() -> None:
    policy = RetryPolicy(errors=("States.ALL",), max_attempts=0)
    assert policy.delays() == []
    assert policy.worst_case_wait_seconds() == 0


# -- validation -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "argument"),
    [
        ({"errors": ()}, "errors"),
        ({"errors": ("",)}, "errors"),
        ({"errors": ("States.ALL", "States.Timeout")}, "errors"),
        ({"interval_seconds": 0}, "interval_seconds"),
        ({"interval_seconds": 1.5}, "interval_seconds"),
        ({"max_attempts": -1}, "max_attempts"),
        ({"backoff_rate": 0.5}, "backoff_rate"),
        ({"max_delay_seconds": 0}, "max_delay_seconds"),
    ],
)
def test_invalid_policy_names_the_argument(changes: dict[str, Any], argument: str) -> None:
    values: dict[str, Any] = {"errors": ("Bedrock.ThrottlingException",), **changes}
    with pytest.raises(LambdalessError, match=rf"^{argument}=") as caught:
        RetryPolicy(**values)
    assert "is not allowed: expected" in str(caught.value)


def test_policy_is_frozen() -> None:
    policy = RetryPolicy.bedrock_transient()
    with pytest.raises(AttributeError):
        policy.max_attempts = 1  # type: ignore[misc]
