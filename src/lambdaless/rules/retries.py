"""Rules about retriers, catchers and timeouts.

AWS docs, Step Functions developer guide, "Handling errors in Step Functions workflows"
(https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html): the Retry
fields and their ranges, ``States.ALL`` alone and last, error names of each integration
(``Bedrock.*`` for the optimized Bedrock integration, ``<SdkService>.*`` for AWS SDK
integrations, ``States.Http.*`` for the HTTP Task), ``States.Runtime`` never retried or caught.
No CDK import.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol

from lambdaless.analysis.asl import iter_states, retry_budgets
from lambdaless.limits import ASL_MAX_INTEGER, RETRY_MAX_DELAY_SECONDS
from lambdaless.rules._graph import Machine, Violation
from lambdaless.rules._rule import Rule


class RetryPolicy(Protocol):
    """The fields of :class:`lambdaless.retry.RetryPolicy` the rules read (a Protocol, so the
    rules do not import the presets that call them)."""

    @property
    def errors(self) -> Sequence[str]: ...
    @property
    def interval_seconds(self) -> int: ...
    @property
    def max_attempts(self) -> int: ...
    @property
    def backoff_rate(self) -> float: ...
    @property
    def max_delay_seconds(self) -> int | None: ...
    @property
    def full_jitter(self) -> bool: ...


ERROR_HANDLING = (
    'Step Functions developer guide, "concepts-error-handling" '
    "(https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html)"
)
STATES_ALL = "States.ALL"
MAX_INTEGER = ASL_MAX_INTEGER  # IntervalSeconds, MaxAttempts, TimeoutSeconds, HeartbeatSeconds
MAX_DELAY_SECONDS = RETRY_MAX_DELAY_SECONDS  # MaxDelaySeconds: 366 days
JITTER_STRATEGIES = ("FULL", "NONE")

FIELD_RANGE = Rule(
    "retry-field-range",
    "a retrier's IntervalSeconds, MaxAttempts, BackoffRate, MaxDelaySeconds or JitterStrategy "
    "outside the range AWS accepts",
    ERROR_HANDLING,
    "construct",
)
CONTRADICTORY = Rule(
    "retry-contradictory",
    "retrier values that contradict each other: MaxDelaySeconds below IntervalSeconds, or "
    "jitter and a delay cap on a retrier that never retries (MaxAttempts 0)",
    ERROR_HANDLING,
    "construct",
)
ALL_LAST = Rule(
    "retry-states-all-last",
    "States.ALL beside other error names, or in a retrier or catcher that is not the last",
    ERROR_HANDLING,
    "synth",
)
NOT_RAISED = Rule(
    "retry-error-not-raised",
    "an error name in Retry or Catch that the step can never raise (Bedrock.* on Converse or "
    "HTTP, BedrockRuntime.* on InvokeModel, a bare ThrottlingException, States.Runtime), on a "
    "lambdaless step or on any Bedrock or HTTP Task of the graph, aws-cdk-lib's included",
    ERROR_HANDLING,
    "synth",
)
BUDGET = Rule(
    "retry-budget",
    "a state whose retries (back-off plus attempts x TimeoutSeconds) outlast the execution's "
    "timeout",
    ERROR_HANDLING,
    "synth",
)
TIMEOUT = Rule(
    "timeout-beyond-workflow",
    "a TimeoutSeconds, HeartbeatSeconds or Wait longer than the execution's timeout: the "
    "execution times out first, so the state's own timeout route never runs",
    'Step Functions developer guide, "state-task" (TimeoutSeconds, HeartbeatSeconds) and '
    '"state-wait" (https://docs.aws.amazon.com/step-functions/latest/dg/state-task.html)',
    "synth",
)
HEARTBEAT = Rule(
    "heartbeat-below-timeout",
    "a HeartbeatSeconds not smaller than the Task's TimeoutSeconds",
    'Step Functions developer guide, "state-task" '
    "(https://docs.aws.amazon.com/step-functions/latest/dg/state-task.html)",
    "synth",
)
WHOLE_SECONDS = Rule(
    "duration-whole-seconds",
    "a Duration that is not a whole number of seconds, or out of range, refused before "
    "aws-cdk-lib sees it (ASL timeouts and waits are integers of seconds)",
    'Step Functions developer guide, "state-task" '
    "(https://docs.aws.amazon.com/step-functions/latest/dg/state-task.html)",
    "construct",
)

RULES: tuple[Rule, ...] = (
    FIELD_RANGE,
    CONTRADICTORY,
    ALL_LAST,
    NOT_RAISED,
    BUDGET,
    TIMEOUT,
    HEARTBEAT,
    WHOLE_SECONDS,
)


# -- durations -----------------------------------------------------------------------------------
def whole_seconds(argument: str, value: Any, maximum: int, *, where: str = "") -> int:
    """An ``aws_cdk.Duration`` of whole seconds from 1 to ``maximum``, as an int.

    ``Duration.to_seconds()`` raises a jsii error on fractions, so the check reads the exact
    value first (``integral=False``) and names the argument instead.
    """
    to_seconds = getattr(value, "to_seconds", None)
    if not callable(to_seconds):
        raise WHOLE_SECONDS.refuse(argument, value, "an aws_cdk.Duration", wrong_type=True)
    seconds = float(to_seconds(integral=False))
    WHOLE_SECONDS.require(
        seconds == int(seconds) and 1 <= seconds <= maximum,
        argument,
        f"{seconds:g} s",
        f"a whole number of seconds from 1 to {maximum}{where}",
    )
    return int(seconds)


# -- retrier fields ------------------------------------------------------------------------------
def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


#: ASL field -> (type check, low, high, what is allowed)
_RANGES = {
    "IntervalSeconds": (_is_int, 1, MAX_INTEGER, f"an integer from 1 to {MAX_INTEGER}"),
    "MaxAttempts": (_is_int, 0, MAX_INTEGER, f"an integer from 0 to {MAX_INTEGER}"),
    "BackoffRate": (_is_number, 1.0, float("inf"), "a number of at least 1.0"),
    "MaxDelaySeconds": (_is_int, 1, MAX_DELAY_SECONDS, f"an integer from 1 to {MAX_DELAY_SECONDS}"),
}


def retrier_problems(retrier: Mapping[str, Any]) -> list[tuple[Rule, str, str]]:
    """``(rule, field, allowed)`` for each field of one ASL retrier AWS refuses or that
    contradicts another (the order of retriers is :func:`states_all_problems`'s)."""
    found: list[tuple[Rule, str, str]] = []
    errors = retrier.get("ErrorEquals")
    if not (isinstance(errors, list) and errors and all(isinstance(e, str) and e for e in errors)):
        found.append((FIELD_RANGE, "ErrorEquals", "a non-empty list of error names"))
    for field, (kind, low, high, allowed) in _RANGES.items():
        if field in retrier and not (kind(retrier[field]) and low <= retrier[field] <= high):
            found.append((FIELD_RANGE, field, allowed))
    if "JitterStrategy" in retrier and retrier["JitterStrategy"] not in JITTER_STRATEGIES:
        found.append((FIELD_RANGE, "JitterStrategy", " or ".join(JITTER_STRATEGIES)))
    if found:
        return found
    interval, cap = retrier.get("IntervalSeconds", 1), retrier.get("MaxDelaySeconds")
    if cap is not None and cap < interval:
        found.append(
            (CONTRADICTORY, "MaxDelaySeconds", f"at least IntervalSeconds ({interval}), or none")
        )
    if retrier.get("MaxAttempts", 3) == 0:
        for field in ("JitterStrategy", "MaxDelaySeconds"):
            if retrier.get(field) not in (None, "NONE"):
                found.append((CONTRADICTORY, field, "none on a retrier with MaxAttempts 0"))
    return found


#: ASL retrier field -> RetryPolicy argument, so construction errors name the Python argument.
_ARGUMENTS = {
    "ErrorEquals": "errors",
    "IntervalSeconds": "interval_seconds",
    "MaxAttempts": "max_attempts",
    "BackoffRate": "backoff_rate",
    "MaxDelaySeconds": "max_delay_seconds",
    "JitterStrategy": "full_jitter",
}


def check_policy(policy: RetryPolicy) -> None:
    """Raise the first rule a :class:`~lambdaless.retry.RetryPolicy` breaks."""
    retrier = {
        "ErrorEquals": list(policy.errors),
        "IntervalSeconds": policy.interval_seconds,
        "MaxAttempts": policy.max_attempts,
        "BackoffRate": policy.backoff_rate,
    }
    if policy.max_delay_seconds is not None:
        retrier["MaxDelaySeconds"] = policy.max_delay_seconds
    FIELD_RANGE.require(
        isinstance(policy.full_jitter, bool), "full_jitter", policy.full_jitter, "True or False"
    )
    if policy.full_jitter:
        retrier["JitterStrategy"] = "FULL"
    for rule, field, allowed in retrier_problems(retrier):
        argument = _ARGUMENTS[field]
        raise rule.refuse(argument, getattr(policy, argument), allowed)
    ALL_LAST.require(
        STATES_ALL not in policy.errors or len(policy.errors) == 1,
        "errors",
        policy.errors,
        f"{STATES_ALL} alone, never beside other names",
    )


# -- States.ALL ----------------------------------------------------------------------------------
def states_all_problems(handlers: Sequence[Mapping[str, Any]]) -> str | None:
    """What is wrong with where ``States.ALL`` sits in a Retry or Catch list, or ``None``."""
    for index, handler in enumerate(handlers):
        errors = handler.get("ErrorEquals") or []
        if STATES_ALL in errors and (len(errors) > 1 or index != len(handlers) - 1):
            return f"{STATES_ALL} alone in its ErrorEquals, in the last entry ({index} is not)"
    return None


def check_retry_order(argument: str, errors: Iterable[Sequence[str]]) -> None:
    """Raise unless ``States.ALL`` sits alone in the last of ``errors`` (ErrorEquals lists)."""
    lists = [list(e) for e in errors]
    problem = states_all_problems([{"ErrorEquals": e} for e in lists])
    if problem is not None:
        raise ALL_LAST.refuse(argument, lists, problem)


# -- error names a step can raise ----------------------------------------------------------------
#: ``States.*`` errors any Task can raise (AWS docs, "concepts-error-handling"). Map, Parallel
#: and Choice errors (ExceedToleratedFailureThreshold, ItemReaderFailed, ResultWriterFailed,
#: BranchFailed, NoChoiceMatched) never come from a Task; HeartbeatTimeout only from a Task with
#: HeartbeatSeconds; States.Runtime is never retried or caught.
TASK_STATES_ERRORS = frozenset(
    {
        STATES_ALL,
        "States.Timeout",
        "States.TaskFailed",
        "States.Permissions",
        "States.DataLimitExceeded",
        "States.ResultPathMatchFailure",
        "States.ParameterPathFailure",
        "States.IntrinsicFailure",
        "States.QueryEvaluationError",
    }
)


def _service_errors(resource: str) -> tuple[str, frozenset[str]] | None:
    """The prefix of the errors a lambdaless step's integration raises, and the exception names
    it knows (empty: any name after the prefix), or ``None`` for an integration we do not model."""
    from lambdaless.service_errors import (
        BEDROCK_PERMANENT_ERRORS,
        BEDROCK_TIMEOUT_ERRORS,
        BEDROCK_TRANSIENT_ERRORS,
    )

    bedrock = frozenset(
        e.removeprefix("Bedrock.")
        for e in (*BEDROCK_TRANSIENT_ERRORS, *BEDROCK_TIMEOUT_ERRORS, *BEDROCK_PERMANENT_ERRORS)
    )
    if resource.endswith(":states:::bedrock:invokeModel"):
        # The optimized integration: "Bedrock.<Exception>" ("connect-bedrock").
        return "Bedrock.", bedrock
    if ":states:::aws-sdk:bedrockruntime:" in resource:
        # AWS SDK integrations: "<SdkServiceName>.<Exception>" ("supported-services-awssdk").
        return "BedrockRuntime.", bedrock
    if resource.endswith(":states:::http:invoke"):
        # "States.Http.StatusCode.<code>" and "States.Http.Socket" ("call-https-apis").
        return "States.Http.", frozenset()
    return None


def _allowed_names(prefix: str, heartbeat: bool) -> str:
    states = sorted(TASK_STATES_ERRORS | ({"States.HeartbeatTimeout"} if heartbeat else set()))
    if prefix == "States.Http.":
        service = "States.Http.StatusCode.<non-2xx code> or States.Http.Socket"
    else:
        service = f"{prefix}<Exception> (e.g. {prefix}ThrottlingException)"
    return f"{service}, or one of " + ", ".join(states)


def _raisable(name: str, prefix: str, known: frozenset[str], heartbeat: bool) -> bool:
    if name in TASK_STATES_ERRORS or (heartbeat and name == "States.HeartbeatTimeout"):
        return True
    if not name.startswith(prefix):
        return False
    rest = name.removeprefix(prefix)
    if prefix == "States.Http.":
        code = rest.removeprefix("StatusCode.")
        return rest == "Socket" or (
            rest.startswith("StatusCode.")
            and code.isdigit()
            and 100 <= int(code) <= 599
            and not 200 <= int(code) <= 299
        )
    return not known or rest in known


def _never_raised(
    errors: Sequence[str], resource: str, heartbeat: bool
) -> Iterator[tuple[str, str]]:
    """``(name, what is allowed)`` for each name of ``errors`` that a Task calling ``resource``
    can never raise (none for an integration we do not model)."""
    service = _service_errors(resource)
    if service is None:
        return
    prefix, known = service
    for name in errors:
        if not _raisable(name, prefix, known, heartbeat):
            yield name, _allowed_names(prefix, heartbeat)


def check_error_names(
    argument: str, errors: Sequence[str], *, resource: str, heartbeat: bool = False
) -> None:
    """Raise when ``errors`` (a Retry or Catch ErrorEquals of a Task calling ``resource``) names
    an error that Task can never raise: such a retrier or catcher never matches."""
    for name, allowed in _never_raised(errors, resource, heartbeat):
        raise NOT_RAISED.refuse(argument, name, allowed)


# -- the graph -----------------------------------------------------------------------------------
def check_machine(machine: Machine) -> list[Violation]:
    """``retry-states-all-last``, ``retry-error-not-raised``, ``heartbeat-below-timeout``,
    ``timeout-beyond-workflow`` and ``retry-budget`` on every state.

    ``retry-error-not-raised`` covers every Bedrock and HTTP Task, aws-cdk-lib's
    ``BedrockInvokeModel`` with ``add_retry(errors=["ThrottlingException"])`` included: the
    optimized integration raises ``Bedrock.ThrottlingException``, so that retrier never runs."""
    found: list[Violation] = []
    limit = machine.timeout_seconds
    over = f"at most {limit:g} s, {machine.timeout_source}"
    for _, name, state in iter_states(machine.definition):
        for field in ("Retry", "Catch"):
            handlers = state.get(field) or []
            problem = states_all_problems(handlers)
            if problem is not None:
                errors = [h.get("ErrorEquals") for h in handlers]
                found.append(Violation(ALL_LAST, name, field, errors, problem))
            if state.get("Type") == "Task":
                resource = str(state.get("Resource", ""))
                beats = "HeartbeatSeconds" in state or "HeartbeatSecondsPath" in state
                for handler in handlers:
                    names = handler.get("ErrorEquals") or []
                    for error, allowed in _never_raised(names, resource, beats):
                        found.append(Violation(NOT_RAISED, name, field, error, allowed))
        timeout, heartbeat = state.get("TimeoutSeconds"), state.get("HeartbeatSeconds")
        if isinstance(timeout, int) and isinstance(heartbeat, int) and heartbeat >= timeout:
            found.append(
                Violation(HEARTBEAT, name, "HeartbeatSeconds", heartbeat, f"less than {timeout} s")
            )
        fields: tuple[str, ...] = ("TimeoutSeconds", "HeartbeatSeconds")
        if state.get("Type") == "Wait":
            fields = ("Seconds",)
        for field in fields:
            seconds = state.get(field)
            if isinstance(seconds, int) and seconds > limit:
                found.append(Violation(TIMEOUT, name, field, seconds, over))
    for budget in retry_budgets(machine.definition):
        if budget.worst_case_seconds > limit:
            found.append(
                Violation(
                    BUDGET,
                    budget.state,
                    "Retry",
                    budget.describe(),
                    f"retries that end within {limit:g} s, {machine.timeout_source}: lower "
                    "MaxAttempts or MaxDelaySeconds, shorten TimeoutSeconds, or "
                    + ("use a Standard workflow" if machine.express else "raise the timeout"),
                )
            )
    return found
