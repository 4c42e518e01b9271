"""The local runner is as strict as AWS: uncatchable errors, the payload quota, mocks that run
out, deterministic Map mocks, any JSON input, and mocked results of the wrong shape."""

from __future__ import annotations

import decimal
import json
from typing import Any

import pytest

from lambdaless._errors import LambdalessError
from lambdaless.testing import (
    LocalRunner,
    MissingMockError,
    MockShapeError,
    Return,
    Throw,
    mocks,
)

LIMIT = 262_144
CATCH_ALL = [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}]
RETRY_ALL = [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 3, "IntervalSeconds": 1}]
CAUGHT = {"Type": "Pass", "Output": "caught", "End": True}


def machine(*, retry: Any = None, catch: Any = None, **task: Any) -> dict[str, Any]:
    """One JSONata Task ``Call`` (with optional Retry/Catch to a Pass ``Caught``)."""
    state: dict[str, Any] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
        "Arguments": {"Bucket": "b", "Key": "k"},
        "End": True,
        **task,
    }
    if retry is not None:
        state["Retry"] = retry
    if catch is not None:
        state["Catch"] = catch
    return {
        "QueryLanguage": "JSONata",
        "StartAt": "Call",
        "States": {"Call": state, "Caught": CAUGHT},
    }


# -- errors States.ALL cannot catch ---------------------------------------------------------------


@pytest.mark.parametrize("error", ["States.Runtime", "States.DataLimitExceeded"])
def test_terminal_errors_are_neither_retried_nor_caught_by_states_all(error: str) -> None:
    result = LocalRunner(machine(retry=RETRY_ALL, catch=CATCH_ALL)).run(
        responses={"Call": Throw(error, "terminal")}
    )

    assert (result.status, result.error, result.states) == ("FAILED", error, ["Call"])
    assert result.retries == 0


def test_task_failed_does_not_catch_terminal_errors_either() -> None:
    catch = [{"ErrorEquals": ["States.TaskFailed"], "Next": "Caught"}]
    result = LocalRunner(machine(catch=catch)).run(
        responses={"Call": Throw("States.DataLimitExceeded")}
    )

    assert (result.status, result.error) == ("FAILED", "States.DataLimitExceeded")


def test_data_limit_exceeded_is_caught_when_named() -> None:
    catch = [{"ErrorEquals": ["States.DataLimitExceeded"], "Next": "Caught"}]
    result = LocalRunner(machine(catch=catch)).run(
        responses={"Call": Throw("States.DataLimitExceeded")}
    )

    assert (result.status, result.output) == ("SUCCEEDED", "caught")


def test_runtime_is_not_caught_even_when_named() -> None:
    catch = [{"ErrorEquals": ["States.Runtime"], "Next": "Caught"}]
    result = LocalRunner(machine(catch=catch)).run(responses={"Call": Throw("States.Runtime")})

    assert (result.status, result.error) == ("FAILED", "States.Runtime")


def test_a_terminal_error_in_a_map_iteration_fails_the_execution() -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "Items": "{% $states.input.items %}",
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": "Call",
                    "States": {
                        "Call": {
                            "Type": "Task",
                            "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
                            "Arguments": {"Bucket": "b", "Key": "{% $states.input %}"},
                            "End": True,
                        }
                    },
                },
                "Catch": CATCH_ALL,
                "End": True,
            },
            "Caught": CAUGHT,
        },
    }
    result = LocalRunner(definition).run(
        input={"items": ["a", "b"]},
        responses={"Call": [Return({}), Throw("States.DataLimitExceeded", "too big")]},
    )

    assert (result.status, result.error) == ("FAILED", "States.DataLimitExceeded")
    assert "Caught" not in result.states


def test_a_jsonata_error_is_a_catchable_query_evaluation_error() -> None:
    """AWS reports a failed expression as States.QueryEvaluationError, which States.ALL
    catches; moto's own engine reports it as the uncatchable States.Runtime."""
    catch = {"ErrorEquals": ["States.ALL"], "Next": "Caught"}
    definition = machine(
        catch=[{**catch, "Output": "{% $states.errorOutput.Error %}"}],
        Assign={"x": "{% $error('boom') %}"},
    )
    definition["States"]["Caught"] = {"Type": "Pass", "End": True}
    result = LocalRunner(definition).run(responses={"Call": Return({})})

    assert (result.status, result.output) == ("SUCCEEDED", "States.QueryEvaluationError")


# -- the 256 KiB payload quota --------------------------------------------------------------------


def pad_machine(length: int) -> dict[str, Any]:
    """A Pass whose output is a JSON string of ``length + 2`` bytes (its quotes included)."""
    return {
        "QueryLanguage": "JSONata",
        "StartAt": "Big",
        "States": {
            "Big": {"Type": "Pass", "Output": f"{{% $pad('', {length}, 'x') %}}", "End": True}
        },
    }


def test_a_state_output_of_exactly_256_kib_passes() -> None:
    result = LocalRunner(pad_machine(LIMIT - 2)).run()

    assert result.status == "SUCCEEDED"
    assert len(json.dumps(result.output)) == LIMIT


def test_a_state_output_over_256_kib_fails_with_data_limit_exceeded() -> None:
    result = LocalRunner(pad_machine(LIMIT - 1)).run()

    assert (result.status, result.error) == ("FAILED", "States.DataLimitExceeded")


def test_a_task_result_over_256_kib_is_not_caught_by_states_all() -> None:
    result = LocalRunner(machine(catch=CATCH_ALL)).run(responses={"Call": Return("x" * LIMIT)})

    assert (result.status, result.error) == ("FAILED", "States.DataLimitExceeded")


def test_task_arguments_over_256_kib_fail_with_data_limit_exceeded() -> None:
    definition = machine(catch=CATCH_ALL, Arguments={"Body": f"{{% $pad('', {LIMIT}, 'x') %}}"})
    result = LocalRunner(definition).run(responses={"Call": Return({})})

    assert (result.status, result.error) == ("FAILED", "States.DataLimitExceeded")
    assert result.calls == []  # the call was never made


def test_an_execution_input_over_256_kib_is_refused() -> None:
    with pytest.raises(LambdalessError, match=r"input=.*at most 262,144 bytes"):
        LocalRunner(pad_machine(1)).run(input="x" * (LIMIT - 1))  # 262,145 bytes with quotes


# -- mocks that run out ---------------------------------------------------------------------------


def throttled_twice() -> dict[str, Any]:
    retry = [{"ErrorEquals": ["Bedrock.ThrottlingException"], "MaxAttempts": 5}]
    return machine(retry=retry)


def test_an_invocation_beyond_the_mocked_responses_fails_the_run() -> None:
    responses = {
        "Call": [Throw("Bedrock.ThrottlingException"), Throw("Bedrock.ThrottlingException")]
    }

    with pytest.raises(MissingMockError, match=r"invoked 3 times .* cover only invocations 0-1"):
        LocalRunner(throttled_twice()).run(responses=responses)


def test_a_single_response_answers_one_invocation_only() -> None:
    with pytest.raises(MissingMockError, match=r"cover only invocation 0"):
        LocalRunner(throttled_twice()).run(responses={"Call": Throw("Bedrock.ThrottlingException")})


def test_repeating_the_last_response_is_opt_in() -> None:
    result = LocalRunner(throttled_twice()).run(
        responses={"Call": [Throw("Bedrock.ThrottlingException"), Return({"ok": True})]},
        repeat_last=True,
    )
    assert (result.status, result.retries) == ("SUCCEEDED", 1)

    result = LocalRunner(throttled_twice()).run(
        responses={"Call": Throw("Bedrock.ThrottlingException")}, repeat_last=True
    )
    assert (result.status, result.retries) == ("FAILED", 5)


def test_a_mock_config_range_covers_every_invocation_it_names() -> None:
    config = {
        "StateMachines": {"M": {"TestCases": {"Case": {"Call": "Throttled"}}}},
        "MockedResponses": {
            "Throttled": {
                "0-4": {"Throw": {"Error": "Bedrock.ThrottlingException", "Cause": ""}},
                "5": {"Throw": {"Error": "Bedrock.ThrottlingException", "Cause": "last"}},
            }
        },
    }
    result = LocalRunner(throttled_twice()).run(mock_config=config)

    assert (result.status, result.retries, result.cause) == ("FAILED", 5, "last")


# -- Map items get the same responses on every run ------------------------------------------------


def fan_out(max_concurrency: int) -> dict[str, Any]:
    return {
        "QueryLanguage": "JSONata",
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "Items": "{% $states.input %}",
                "MaxConcurrency": max_concurrency,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": "Label",
                    "States": {
                        "Label": {
                            "Type": "Task",
                            "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
                            "Arguments": {"Bucket": "b", "Key": "{% $states.input %}"},
                            "Retry": [{"ErrorEquals": ["Throttled"], "MaxAttempts": 3}],
                            "Output": "{% $states.input & '=' & $states.result.label %}",
                            "End": True,
                        }
                    },
                },
                "End": True,
            }
        },
    }


@pytest.mark.parametrize("max_concurrency", [0, 3])
def test_map_items_get_the_same_responses_on_every_run(max_concurrency: int) -> None:
    items = [f"item{i}" for i in range(8)]
    responses = [Throw("Throttled"), Return({"label": "r0"}), Throw("Throttled")] + [
        Return({"label": f"r{n}"}) for n in range(1, 8)
    ]
    runner = LocalRunner(fan_out(max_concurrency))

    outputs = [runner.run(input=items, responses={"Label": responses}).output for _ in range(20)]

    # Item by item, in item order: item0 is throttled once, item1 once, the rest answer first.
    expected = ["item0=r0", "item1=r1"] + [f"item{i}=r{i}" for i in range(2, 8)]
    assert outputs == [expected] * 20


# -- any JSON value is an execution input ---------------------------------------------------------

ECHO = {
    "QueryLanguage": "JSONata",
    "StartAt": "Echo",
    "States": {"Echo": {"Type": "Pass", "End": True}},
}


@pytest.mark.parametrize("value", [[1, "two", None], "text", 42, 2.5, True, None, {}])
def test_any_json_value_is_an_execution_input(value: Any) -> None:
    result = LocalRunner(ECHO).run(input=value)

    assert result.status == "SUCCEEDED"
    assert result.output == ({} if value is None else value)


@pytest.mark.parametrize(
    "value", [float("nan"), decimal.Decimal("1.5"), {"x": float("inf")}, {1, 2}]
)
def test_an_input_json_cannot_carry_is_refused_by_name(value: Any) -> None:
    with pytest.raises(LambdalessError, match=r"input=.*expected a JSON value"):
        LocalRunner(ECHO).run(input=value)


def test_a_mock_json_cannot_carry_is_refused_by_state() -> None:
    with pytest.raises(LambdalessError, match=r"the mock of 'Call'=.*expected a JSON value"):
        LocalRunner(machine()).run(responses={"Call": Return({"score": decimal.Decimal("0.5")})})


@pytest.mark.parametrize("timeout", [0, -1, float("nan")])
def test_a_nonsensical_timeout_is_refused(timeout: float) -> None:
    with pytest.raises(LambdalessError, match=r"timeout_seconds="):
        LocalRunner(ECHO).run(timeout_seconds=timeout)


# -- mocked results must have their integration's shape -------------------------------------------


def invoke_model(body: dict[str, Any]) -> dict[str, Any]:
    return machine(
        Resource="arn:aws:states:::bedrock:invokeModel",
        Arguments={"ModelId": "anthropic.claude-3-haiku-20240307-v1:0", "Body": body},
    )


ANTHROPIC_BODY = {
    "anthropic_version": "bedrock-2023-05-31",
    "max_tokens": 10,
    "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}],
}


def test_an_invoke_model_answer_without_body_fails_the_run() -> None:
    with pytest.raises(MockShapeError, match=r"'Call' .*\{'Body'.*bedrock_text"):
        LocalRunner(invoke_model(ANTHROPIC_BODY)).run(
            responses={"Call": Return({"content": [{"type": "text", "text": "Hi"}]})}
        )


def test_another_familys_answer_fails_the_run() -> None:
    with pytest.raises(MockShapeError, match=r"anthropic body.*'content'.*a nova response"):
        LocalRunner(invoke_model(ANTHROPIC_BODY)).run(
            responses={"Call": mocks.bedrock_text("nova", "Hi")}
        )


def test_the_familys_own_answer_runs() -> None:
    result = LocalRunner(invoke_model(ANTHROPIC_BODY)).run(
        responses={"Call": mocks.bedrock_text("anthropic", "Hi")}
    )

    assert result.status == "SUCCEEDED"


@pytest.mark.parametrize(
    "payload",
    [{"ResponseBody": {"ok": True}}, {"StatusCode": 200}, {"ok": True}],
)
def test_an_http_answer_without_response_body_or_status_fails_the_run(payload: Any) -> None:
    definition = machine(Resource="arn:aws:states:::http:invoke", Arguments={"ApiEndpoint": "x"})

    with pytest.raises(MockShapeError, match=r"http:invoke result has ResponseBody"):
        LocalRunner(definition).run(responses={"Call": Return(payload)})


def test_an_http_return_with_an_error_status_fails_the_run() -> None:
    definition = machine(Resource="arn:aws:states:::http:invoke", Arguments={"ApiEndpoint": "x"})

    with pytest.raises(MockShapeError, match=r"2xx StatusCode"):
        LocalRunner(definition).run(
            responses={"Call": Return({"ResponseBody": None, "StatusCode": 500})}
        )


def test_a_converse_answer_of_another_shape_fails_the_run() -> None:
    definition = machine(
        Resource="arn:aws:states:::aws-sdk:bedrockruntime:converse",
        Arguments={"ModelId": "x", "Messages": []},
    )

    with pytest.raises(MockShapeError, match=r"Output.Message.Content"):
        LocalRunner(definition).run(responses={"Call": mocks.bedrock_text("anthropic", "Hi")})
