"""The moto self-test, and the hooks' effect on things moto alone gets wrong."""

from __future__ import annotations

from typing import Any

import pytest

from lambdaless.testing import LocalRunner, MissingMockError, _moto_hooks, mocks


def test_check_moto_internals_passes_on_the_pinned_moto() -> None:
    _moto_hooks.check_moto_internals()


def test_check_moto_internals_names_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    internals = (
        *_moto_hooks._INTERNALS,
        ("moto.stepfunctions.parser.asl.eval.environment", "Environment.renamed_in_moto_6"),
        ("moto.stepfunctions.parser.gone", "Anything"),
    )
    monkeypatch.setattr(_moto_hooks, "_INTERNALS", internals)

    with pytest.raises(_moto_hooks.MotoInternalsError) as raised:
        _moto_hooks.check_moto_internals()

    message = str(raised.value)
    assert "Environment.renamed_in_moto_6" in message
    assert "moto.stepfunctions.parser.gone.Anything" in message
    assert "moto==5.2.5" in message


_P = "moto.stepfunctions.parser.asl"
_TASK = f"{_P}.component.state.exec.state_task"


@pytest.mark.parametrize(
    ("module", "attribute"),
    [
        (f"{_P}.jsonata.jsonata", "_eval_jsonata"),
        (f"{_P}.component.common.error_name.custom_error_name", "CustomErrorName.__init__"),
        (f"{_TASK}.state_task", "StateTask._eval_parameters"),
        (f"{_TASK}.state_task_factory", "state_task_service_for"),
        (f"{_TASK}.service.state_task_service_callback", "StateTaskServiceCallback._eval_body"),
        (f"{_TASK}.mock_eval_utils", "_eval_mocked_response_throw"),
        (f"{_P}.component.state.wait.wait_function.wait_function", "WaitFunction._wait_interval"),
        (f"{_P}.component.common.retry.retrier_decl", "RetrierDecl._eval_body"),
    ],
)
def test_install_replaces_each_patched_internal_it_checks(module: str, attribute: str) -> None:
    """Every function the hooks replace is listed for check_moto_internals, and is replaced."""
    _moto_hooks.install()
    assert (module, attribute) in _moto_hooks._INTERNALS
    assert _moto_hooks._resolve(module, attribute).__module__ == _moto_hooks.__name__


JSONATA = {
    "QueryLanguage": "JSONata",
    "StartAt": "Shape",
    "States": {
        "Shape": {
            "Type": "Pass",
            "Assign": {"quote": "{% $states.input.text %}", "n": 2},
            "Output": {"id": "{% $uuid() %}", "sha": "{% $hash('abc', 'SHA-256') %}"},
            "Next": "Use",
        },
        "Use": {
            "Type": "Pass",
            "Output": {
                "quote": "{% $quote %}",
                "words": "{% $count($split($quote, ' ')) * $n %}",
                "id": "{% $states.input.id %}",
                "sha": "{% $states.input.sha %}",
                "execution": "{% $states.context.Execution.Name %}",
            },
            "End": True,
        },
    },
}


def test_jsonata_keeps_quotes_backslashes_and_newlines_in_variables() -> None:
    text = 'She said "tide\\moon"\nthen left'

    result = LocalRunner(JSONATA).run(input={"text": text})

    assert result.status == "SUCCEEDED", result.cause
    output: dict[str, Any] = result.output
    assert output["quote"] == text
    assert output["words"] == 8
    assert len(output["id"]) == 36
    assert output["sha"] == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert output["execution"].startswith("local-")


def test_a_jsonata_error_fails_the_execution() -> None:
    broken = {
        "QueryLanguage": "JSONata",
        "StartAt": "Bad",
        "States": {"Bad": {"Type": "Pass", "Output": "{% $number('x') %}", "End": True}},
    }

    result = LocalRunner(broken).run()

    # AWS fails such a state with States.QueryEvaluationError; the evaluator sees no state, so
    # moto reports States.Runtime with that error name and jsonata's message in the cause.
    assert (result.status, result.error) == ("FAILED", "States.Runtime")
    assert "States.QueryEvaluationError" in str(result.cause)


def test_moto_outside_the_runner_keeps_real_sleep() -> None:
    import importlib

    retrier_decl = importlib.import_module(
        "moto.stepfunctions.parser.asl.component.common.retry.retrier_decl"
    )
    assert isinstance(retrier_decl.time, _moto_hooks._VirtualTime)
    assert getattr(_moto_hooks._thread, "record_retry", None) is None


def test_http_task_parses_and_its_status_errors_can_be_retried() -> None:
    asl = {
        "QueryLanguage": "JSONata",
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::http:invoke",
                "Arguments": {
                    "ApiEndpoint": "https://api.example.com/v1/items",
                    "Method": "GET",
                    "Authentication": {"ConnectionArn": "arn:aws:events:::connection/x/y"},
                    "Headers": {"X-Trace": "{% $states.context.Execution.Name %}"},
                    "Transform": {"RequestBodyEncoding": "URL_ENCODED"},
                },
                "Retry": [
                    {"ErrorEquals": ["States.Http.StatusCode.429"], "MaxAttempts": 2},
                    {"ErrorEquals": ["States.TaskFailed"], "MaxAttempts": 1},
                ],
                "Output": "{% $states.result.ResponseBody %}",
                "End": True,
            }
        },
    }

    result = LocalRunner(asl).run(
        responses={
            "Call": [
                mocks.http_response(429),
                mocks.http_response(500),
                mocks.http_response(200, {"items": [1]}),
            ]
        }
    )

    assert result.output == {"items": [1]}
    assert result.retries == 2
    arguments = result.calls_to("Call")[0].arguments
    assert arguments["Transform"] == {"RequestBodyEncoding": "URL_ENCODED"}
    assert arguments["Headers"]["X-Trace"].startswith("local-")


def _sync_task(resource: str, catch: list[str] | None = None) -> dict[str, Any]:
    task: dict[str, Any] = {
        "Type": "Task",
        "Resource": resource,
        "Arguments": {"JobName": "{% 'tune-' & $states.context.Execution.Name %}"},
        "Output": "{% $states.result %}",
        "End": True,
    }
    states: dict[str, Any] = {"Job": task}
    if catch is not None:
        task["Catch"] = [
            {"ErrorEquals": catch, "Output": "{% $states.errorOutput %}", "Next": "Caught"}
        ]
        states["Caught"] = {"Type": "Pass", "End": True}
    return {"QueryLanguage": "JSONata", "StartAt": "Job", "States": states}


@pytest.mark.parametrize(
    "resource",
    [
        # moto has no poller for these services and refused .sync before consulting any mock.
        "arn:aws:states:::bedrock:createModelCustomizationJob.sync",
        "arn:aws:states:::sagemaker:createTrainingJob.sync",
        "arn:aws:states:::codebuild:startBuild.sync:2",
        # moto's own .sync services keep working mocked.
        "arn:aws:states:::glue:startJobRun.sync",
        "arn:aws:states:::states:startExecution.sync:2",
    ],
)
def test_mocked_sync_task_returns_the_final_result(resource: str) -> None:
    final = {"Status": "Completed", "JobArn": "arn:aws:bedrock:us-east-1:1:job/x"}

    result = LocalRunner(_sync_task(resource)).run(responses={"Job": mocks.success(final)})

    assert (result.status, result.output) == ("SUCCEEDED", final), result.cause
    (call,) = result.calls_to("Job")
    assert call.task_token is None


def test_mocked_sync_task_throw_fails_the_task() -> None:
    asl = _sync_task("arn:aws:states:::bedrock:createModelCustomizationJob.sync", ["Bedrock.Bad"])

    caught = LocalRunner(asl).run(responses={"Job": mocks.failure("Bedrock.Bad", "malformed")})
    uncaught = LocalRunner(asl).run(responses={"Job": mocks.failure("Other", "no")})

    assert (caught.status, caught.output) == (
        "SUCCEEDED",
        {"Error": "Bedrock.Bad", "Cause": "malformed"},
    )
    assert (uncaught.status, uncaught.error, uncaught.cause) == ("FAILED", "Other", "no")
    assert caught.calls_to("Job")[0].arguments["JobName"].startswith("tune-local-")


def test_unmocked_sync_task_is_a_missing_mock() -> None:
    with pytest.raises(MissingMockError, match="'Job'"):
        LocalRunner(_sync_task("arn:aws:states:::bedrock:createModelCustomizationJob.sync")).run()


@pytest.mark.parametrize(
    ("error", "catch", "caught"),
    [
        ("States.Timeout", ["States.Timeout"], True),
        ("States.HeartbeatTimeout", ["States.HeartbeatTimeout"], True),
        ("States.TaskFailed", ["States.TaskFailed"], True),
        ("States.Timeout", ["States.ALL"], True),
        # AWS docs, "Handling errors in Step Functions workflows": States.TaskFailed matches
        # any error except States.Timeout.
        ("States.Timeout", ["States.TaskFailed"], False),
        ("States.Timeout", ["States.HeartbeatTimeout"], False),
    ],
)
def test_mocked_states_errors_are_those_errors(error: str, catch: list[str], caught: bool) -> None:
    asl = _sync_task("arn:aws:states:::sns:publish", catch)

    result = LocalRunner(asl).run(responses={"Job": mocks.failure(error, "why")})

    if caught:
        assert (result.status, result.output) == ("SUCCEEDED", {"Error": error, "Cause": "why"})
    else:
        assert (result.status, result.error, result.cause) == ("FAILED", error, "why")


def test_a_mocked_timeout_is_recorded_as_a_task_timeout() -> None:
    result = LocalRunner(_sync_task("arn:aws:states:::sns:publish")).run(
        responses={"Job": mocks.failure("States.Timeout")}
    )

    kinds = [str(getattr(e["type"], "value", e["type"])) for e in result.history]
    assert "TaskTimedOut" in kinds
    assert "TaskFailed" not in kinds
    assert (result.status, result.error) == ("FAILED", "States.Timeout")


def test_unknown_states_error_in_a_mock_is_refused() -> None:
    with pytest.raises(ValueError, match=r"'States\.Timeuot', which is not a Step Functions error"):
        LocalRunner(_sync_task("arn:aws:states:::sns:publish")).run(
            responses={"Job": mocks.failure("States.Timeuot")}
        )


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (("timeout",), "States.Timeout"),
        (("heartbeat_timeout",), "States.HeartbeatTimeout"),
        (mocks.Throw("States.Timeout"), "States.Timeout"),
    ],
)
def test_a_task_token_can_time_out_without_waiting(answer: Any, error: str) -> None:
    asl = _sync_task("arn:aws:states:::sqs:sendMessage.waitForTaskToken", [error])
    asl["States"]["Job"]["TimeoutSeconds"] = 86_400
    asl["States"]["Job"]["HeartbeatSeconds"] = 3_600

    result = LocalRunner(asl).run(task_tokens={"Job": answer}, timeout_seconds=10)

    assert (result.status, result.output) == ("SUCCEEDED", {"Error": error, "Cause": ""})
    assert result.calls_to("Job")[0].task_token is not None
