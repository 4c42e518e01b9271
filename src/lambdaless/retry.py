"""Retry policies: a frozen value, named presets, error-name tables and worst-case timing.

Step Functions Retry fields (AWS docs, "Handling errors in Step Functions workflows"):
``IntervalSeconds`` (default 1, at least 1), ``MaxAttempts`` (default 3; 0 never retries),
``BackoffRate`` (default 2.0, at least 1.0), ``MaxDelaySeconds`` (caps each delay) and
``JitterStrategy`` (``FULL`` draws each delay at random from [0, delay]; ``NONE``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lambdaless._errors import require
from lambdaless.analysis.asl import retry_delays as retry_delays
from lambdaless.analysis.asl import worst_case_seconds as worst_case_seconds
from lambdaless.service_errors import BEDROCK_PERMANENT_ERRORS as BEDROCK_PERMANENT_ERRORS
from lambdaless.service_errors import BEDROCK_TIMEOUT_ERRORS as BEDROCK_TIMEOUT_ERRORS
from lambdaless.service_errors import BEDROCK_TRANSIENT_ERRORS as BEDROCK_TRANSIENT_ERRORS

if TYPE_CHECKING:
    from aws_cdk import aws_stepfunctions as sfn

# AWS SDK integrations name errors "<ServiceName>.<Exception>" with the SDK's service name
# (AWS docs, "Handling errors in Step Functions workflows"): bedrock-runtime is "BedrockRuntime".
CONVERSE_TRANSIENT_ERRORS: tuple[str, ...] = tuple(
    e.replace("Bedrock.", "BedrockRuntime.") for e in BEDROCK_TRANSIENT_ERRORS
)
CONVERSE_TIMEOUT_ERRORS: tuple[str, ...] = ("BedrockRuntime.ModelTimeoutException",)
CONVERSE_PERMANENT_ERRORS: tuple[str, ...] = tuple(
    e.replace("Bedrock.", "BedrockRuntime.") for e in BEDROCK_PERMANENT_ERRORS
)

# The HTTP Task fails a non-2xx response as "States.Http.StatusCode.<code>" and a connection
# failure or its ~60 s timeout as "States.Http.Socket" (AWS docs, "Call HTTPS APIs in Step
# Functions workflows"). 408 and 429 are the only 4xx codes worth repeating.
HTTP_TRANSIENT_ERRORS: tuple[str, ...] = (
    "States.Http.StatusCode.408",
    "States.Http.StatusCode.429",
    "States.Http.StatusCode.502",
    "States.Http.StatusCode.503",
    "States.Http.StatusCode.504",
    "States.Http.Socket",
)

# AWS SDK integrations of the bedrock-agent and bedrock-agent-runtime APIs (same naming rule).
AGENT_TRANSIENT_ERRORS: tuple[str, ...] = (
    "BedrockAgent.ThrottlingException",
    "BedrockAgent.InternalServerException",
)
AGENT_RUNTIME_TRANSIENT_ERRORS: tuple[str, ...] = (
    "BedrockAgentRuntime.ThrottlingException",
    "BedrockAgentRuntime.InternalServerException",
    "BedrockAgentRuntime.BadGatewayException",
)
#: Transient errors of the Bedrock control plane (the ``bedrock`` API: model customization and
#: batch inference jobs), named ``Bedrock.<exception>`` by the optimized and the AWS SDK
#: integrations alike.
BEDROCK_CONTROL_PLANE_TRANSIENT_ERRORS: tuple[str, ...] = (
    "Bedrock.ThrottlingException",
    "Bedrock.InternalServerException",
)

RESERVED_ALL = "States.ALL"

# DynamoDB errors as the optimized integration names them, "DynamoDB.<ErrorCode>" (AWS docs,
# "Call DynamoDB APIs with Step Functions"; DynamoDB developer guide, "Error handling with
# DynamoDB": throughput, request-limit and throttling errors and 500s are worth retrying).
DYNAMODB_TRANSIENT_ERRORS: tuple[str, ...] = (
    "DynamoDB.ProvisionedThroughputExceededException",
    "DynamoDB.RequestLimitExceeded",
    "DynamoDB.ThrottlingException",
    "DynamoDB.InternalServerError",
)
#: A conditional update refused: for a model capacity, "full right now".
CAPACITY_FULL_ERROR = "DynamoDB.ConditionalCheckFailedException"


@dataclass(frozen=True)
class RetryPolicy:
    """One ASL retrier as a value: which errors, and how long to wait between attempts.

    Args:
        errors: the ``ErrorEquals`` names, e.g. ``("Bedrock.ThrottlingException",)``.
        interval_seconds: delay before the first retry (ASL default 1; at least 1).
        max_attempts: retries after the first try (ASL default 3; 0 means never retry).
        backoff_rate: factor applied to the delay after each retry (ASL default 2.0; >= 1).
        max_delay_seconds: cap on any single delay; ``None`` leaves delays uncapped.
        full_jitter: draw each delay at random from [0, delay] (``JitterStrategy: FULL``), which
            spreads out the retries of many executions throttled at the same moment.
    """

    errors: tuple[str, ...]
    interval_seconds: int = 1
    max_attempts: int = 3
    backoff_rate: float = 2.0
    max_delay_seconds: int | None = None
    full_jitter: bool = False

    def __post_init__(self) -> None:
        require(
            isinstance(self.errors, list | tuple),
            "errors",
            self.errors,
            "a list or tuple of error names",
        )
        errors = tuple(self.errors)
        object.__setattr__(self, "errors", errors)
        require(
            len(errors) > 0 and all(isinstance(e, str) and e for e in errors),
            "errors",
            errors,
            "at least one non-empty error name",
        )
        # ranges, contradictions and States.ALL: the catalogue's rules (lambdaless.rules)
        from lambdaless.rules.retries import check_policy

        check_policy(self)

    # -- presets ---------------------------------------------------------------------------
    @classmethod
    def bedrock_transient(cls) -> RetryPolicy:
        """Throttling, model-not-ready, 500 and 503 from ``bedrock:invokeModel``.

        Six retries from 2 s doubling, capped at 60 s, with full jitter: up to 2+4+8+16+32+60
        = 122 s of waiting, long enough to ride out a tokens-per-minute window.
        """
        return cls(
            errors=BEDROCK_TRANSIENT_ERRORS,
            interval_seconds=2,
            max_attempts=6,
            backoff_rate=2.0,
            max_delay_seconds=60,
            full_jitter=True,
        )

    @classmethod
    def bedrock_model_timeout(cls) -> RetryPolicy:
        """``ModelTimeoutException``: each try already waited long, so retry twice, briefly."""
        return cls(
            errors=BEDROCK_TIMEOUT_ERRORS,
            interval_seconds=5,
            max_attempts=2,
            backoff_rate=2.0,
            max_delay_seconds=10,
            full_jitter=True,
        )

    @classmethod
    def converse_transient(cls) -> RetryPolicy:
        """:meth:`bedrock_transient` under the SDK integration's ``BedrockRuntime.`` names."""
        return dataclasses.replace(cls.bedrock_transient(), errors=CONVERSE_TRANSIENT_ERRORS)

    @classmethod
    def converse_model_timeout(cls) -> RetryPolicy:
        """:meth:`bedrock_model_timeout` under the SDK integration's ``BedrockRuntime.`` names."""
        return dataclasses.replace(cls.bedrock_model_timeout(), errors=CONVERSE_TIMEOUT_ERRORS)

    @classmethod
    def http_transient(cls) -> RetryPolicy:
        """408, 429, 502, 503, 504 and socket errors of the HTTP Task; no other 4xx."""
        return cls(
            errors=HTTP_TRANSIENT_ERRORS,
            interval_seconds=2,
            max_attempts=5,
            backoff_rate=2.0,
            max_delay_seconds=30,
            full_jitter=True,
        )

    @classmethod
    def agent_transient(cls) -> RetryPolicy:
        """Throttling and 500s of the bedrock-agent API: four retries from 2 s, capped at 30 s."""
        return cls(
            errors=AGENT_TRANSIENT_ERRORS,
            interval_seconds=2,
            max_attempts=4,
            backoff_rate=2.0,
            max_delay_seconds=30,
            full_jitter=True,
        )

    @classmethod
    def agent_runtime_transient(cls) -> RetryPolicy:
        """:meth:`agent_transient` for the bedrock-agent-runtime API (502 too)."""
        return dataclasses.replace(cls.agent_transient(), errors=AGENT_RUNTIME_TRANSIENT_ERRORS)

    @classmethod
    def bedrock_control_plane_transient(cls) -> RetryPolicy:
        """Throttling and 500s of Bedrock control-plane calls (creating a model customization
        job, creating and polling a batch inference job): three retries from 5 s, capped at
        60 s."""
        return cls(
            errors=BEDROCK_CONTROL_PLANE_TRANSIENT_ERRORS,
            interval_seconds=5,
            max_attempts=3,
            backoff_rate=2.0,
            max_delay_seconds=60,
            full_jitter=True,
        )

    @classmethod
    def task_failed(cls) -> RetryPolicy:
        """Any failed AWS SDK call (``States.TaskFailed``): three retries from 5 s, for
        idempotent control-plane calls such as ``DescribeExecution``."""
        return cls(errors=("States.TaskFailed",), interval_seconds=5)

    @classmethod
    def dynamodb_transient(cls) -> RetryPolicy:
        """Throttling and 500s of the DynamoDB integration: five retries from 1 s, capped at
        10 s, full jitter."""
        return cls(
            errors=DYNAMODB_TRANSIENT_ERRORS,
            interval_seconds=1,
            max_attempts=5,
            backoff_rate=2.0,
            max_delay_seconds=10,
            full_jitter=True,
        )

    @classmethod
    def capacity_wait(cls, *, max_delay_seconds: int = 30, max_attempts: int = 100) -> RetryPolicy:
        """Waiting for a full :class:`~lambdaless.patterns.capacity.ModelCapacity`: retry the
        acquire from 1 s doubling up to ``max_delay_seconds`` (30 s by default), each delay
        drawn at random (full jitter, so waiters spread out), at most ``max_attempts`` times
        (100 by default: at most 1+2+4+8+16 + 95 x 30 = 2,881 s of waiting). Each retry is a
        ``TaskFailed`` event in the execution's history: the wait is visible."""
        return cls(
            errors=(CAPACITY_FULL_ERROR,),
            interval_seconds=1,
            max_attempts=max_attempts,
            backoff_rate=2.0,
            max_delay_seconds=max_delay_seconds,
            full_jitter=True,
        )

    def with_(self, **changes: Any) -> RetryPolicy:
        """A copy with some fields changed, validated like the original."""
        return dataclasses.replace(self, **changes)

    # -- timing ----------------------------------------------------------------------------
    def delays(self) -> list[float]:
        """The longest delay before each retry; full jitter only ever shortens them."""
        return retry_delays(self.to_asl())

    def worst_case_wait_seconds(self) -> float:
        """Total time spent waiting between attempts when every retry is used."""
        return sum(self.delays())

    # -- rendering -------------------------------------------------------------------------
    def to_asl(self) -> dict[str, Any]:
        """The ASL retrier object."""
        retrier: dict[str, Any] = {
            "ErrorEquals": list(self.errors),
            "IntervalSeconds": self.interval_seconds,
            "MaxAttempts": self.max_attempts,
            "BackoffRate": self.backoff_rate,
        }
        if self.max_delay_seconds is not None:
            retrier["MaxDelaySeconds"] = self.max_delay_seconds
        if self.full_jitter:
            retrier["JitterStrategy"] = "FULL"
        return retrier

    def to_retry_props(self) -> sfn.RetryProps:
        """The same retrier for aws-cdk-lib's ``add_retry``."""
        import aws_cdk as cdk
        from aws_cdk import aws_stepfunctions as sfn

        return sfn.RetryProps(
            errors=list(self.errors),
            interval=cdk.Duration.seconds(self.interval_seconds),
            max_attempts=self.max_attempts,
            backoff_rate=self.backoff_rate,
            max_delay=(
                cdk.Duration.seconds(self.max_delay_seconds)
                if self.max_delay_seconds is not None
                else None
            ),
            jitter_strategy=sfn.JitterType.FULL if self.full_jitter else None,
        )
