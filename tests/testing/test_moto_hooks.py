"""The moto self-test, and the hooks' effect on things moto alone gets wrong."""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

import pytest

from lambdaless.testing import LocalRunner, MissingMockError, _moto_hooks, mocks


def test_check_moto_internals_passes_on_the_pinned_moto() -> None:
    _moto_hooks.check_moto_internals()


def test_check_moto_internals_names_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    internals = (
        *_moto_hooks._INTERNALS,
        ("moto.stepfunctions.parser.asl.eval.environment", "Environment.renamed_in_moto_6", "any"),
        ("moto.stepfunctions.parser.gone", "Anything", "any"),
    )
    monkeypatch.setattr(_moto_hooks, "_INTERNALS", internals)

    with pytest.raises(_moto_hooks.MotoInternalsError) as raised:
        _moto_hooks.check_moto_internals()

    message = str(raised.value)
    assert "Environment.renamed_in_moto_6" in message
    assert "moto.stepfunctions.parser.gone.Anything" in message
    assert f"moto{_moto_hooks.MOTO_VERSIONS} (installed: moto {version('moto')})" in message


_P = "moto.stepfunctions.parser.asl"
_TASK = f"{_P}.component.state.exec.state_task"


def _with(monkeypatch: pytest.MonkeyPatch, *entries: tuple[str, str, Any]) -> str:
    monkeypatch.setattr(_moto_hooks, "_INTERNALS", entries)
    with pytest.raises(_moto_hooks.MotoInternalsError) as raised:
        _moto_hooks.check_moto_internals()
    return str(raised.value)


def test_check_moto_internals_compares_signatures(monkeypatch: pytest.MonkeyPatch) -> None:
    """A changed parameter list is drift, not a TypeError in a user's test."""
    message = _with(
        monkeypatch,
        (f"{_TASK}.state_task", "StateTask._eval_parameters", ("self", "env", "extra")),
        (f"{_P}.eval.evaluation_details", "ExecutionDetails", ("arn", "name")),
    )
    assert "StateTask._eval_parameters parameters are (self, env), expected (self, env, extra)" in (
        message
    )
    assert "ExecutionDetails parameters are (arn, name, role_arn, inpt, start_time)" in message


def test_check_moto_internals_compares_kinds(monkeypatch: pytest.MonkeyPatch) -> None:
    message = _with(monkeypatch, ("moto.stepfunctions.parser.utils", "TMP_THREADS", "dict"))
    assert "TMP_THREADS is list, expected dict" in message


def test_check_moto_internals_checks_instance_attributes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        _moto_hooks,
        "_ATTRIBUTES",
        (
            *_moto_hooks._ATTRIBUTES,
            (f"{_P}.eval.environment", "Environment", ("next_state_name", "renamed_attribute")),
        ),
    )
    with pytest.raises(_moto_hooks.MotoInternalsError, match="Environment no longer sets "):
        _moto_hooks.check_moto_internals()


def test_every_patched_attribute_is_checked_and_patched_only_during_a_run() -> None:
    """The hooks are moto's only while a local execution runs: each patched attribute is in
    the drift table, replaced during a run, and moto's own after it."""
    checked = {
        (module, attribute.rsplit(".", 1)[-1]) for module, attribute, _ in _moto_hooks._INTERNALS
    }
    patched = _moto_hooks.patched_attributes()
    originals = [getattr(owner, name) for owner, name in patched]
    seen: list[Any] = []

    def during(request: Any) -> Any:
        seen.extend(getattr(owner, name) for owner, name in patched)
        return ("success", {})

    definition = {
        "StartAt": "Ask",
        "States": {
            "Ask": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"QueueUrl": "q", "MessageBody.$": "$$.Task.Token"},
                "End": True,
            }
        },
    }
    LocalRunner(definition).run(task_tokens=during)

    for (owner, name), original, value in zip(patched, originals, seen, strict=True):
        module = owner.__module__ if isinstance(owner, type) else owner.__name__
        assert (module, name) in checked, (module, name)
        assert value is not original, name  # replaced while the execution ran
        assert getattr(owner, name) is original, name  # and moto's own again after


def test_moto_behaves_as_moto_after_a_local_run() -> None:
    """After a run, moto alone: no JSONata evaluator, States.* custom names refused, $uuid
    stubbed, real sleep in retries, and no filter on its loggers."""
    import importlib
    import logging

    LocalRunner(JSONATA).run(input={"text": "x"})

    jsonata = importlib.import_module(f"{_P}.jsonata.jsonata")
    custom = importlib.import_module(f"{_P}.component.common.error_name.custom_error_name")
    intrinsics = importlib.import_module(f"{_P}.component.intrinsic.jsonata")
    retrier_decl = importlib.import_module(f"{_P}.component.common.retry.retrier_decl")
    assert jsonata._eval_jsonata is None
    with pytest.raises(ValueError, match=r"MUST NOT begin with the prefix 'States\.'"):
        custom.CustomErrorName("States.Http.StatusCode.429")
    assert "$uuid" in intrinsics._DECLARATION_BY_VARIABLE_REFERENCE
    assert retrier_decl.time is __import__("time")
    logger = logging.getLogger(f"{_P}.component.eval_component")
    assert logger.filters == []
    assert logger.level == logging.NOTSET


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


@pytest.mark.parametrize(
    ("count", "size"), [(0, 3), (1, 3), (5, 2), (9, 3), (100, 19), (23, 5), (7, 7), (7, 100)]
)
def test_partition_chunks_as_step_functions_does(count: int, size: int) -> None:
    """``$partition`` gives consecutive chunks of ``size``, the last one shorter (moto's own
    declaration gave 10 chunks for 100 items of 19, the last 4 empty)."""
    items = list(range(count))
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Split",
        "States": {
            "Split": {
                "Type": "Pass",
                "Output": "{% {'chunks': $partition($states.input.items, " + str(size) + ")} %}",
                "End": True,
            }
        },
    }

    result = LocalRunner(definition).run(input={"items": items})

    assert result.status == "SUCCEEDED", result.cause
    assert result.output["chunks"] == [items[i : i + size] for i in range(0, count, size)]


@pytest.mark.parametrize("size", ["0", "-1", "1.5", "'2'"])
def test_partition_refuses_a_size_that_is_not_a_positive_integer(size: str) -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Split",
        "States": {
            "Split": {
                "Type": "Pass",
                "Output": "{% $partition([1, 2, 3], " + size + ") %}",
                "End": True,
            }
        },
    }

    result = LocalRunner(definition).run()

    assert result.status == "FAILED"
    assert "chunk size must be a positive integer" in str(result.cause)


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


@pytest.mark.parametrize("mode", ["INLINE", "DISTRIBUTED"])
def test_a_map_worker_runs_its_items_without_growing_the_stack(mode: str) -> None:
    """moto's Map workers took each next item by recursion, so a worker running more items than
    the recursion limit allows died and left the execution waiting (10,000 documents through
    DocumentsAtScale hung). Under a recursion limit far below the item count, every item runs."""
    import sys

    import jsonata  # type: ignore[import-untyped]

    del jsonata  # imported first: jsonata-python raises the limit to 10,000 when imported
    processor: dict[str, Any] = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    if mode == "DISTRIBUTED":
        processor["ProcessorConfig"] = {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
    definition = {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "MaxConcurrency": 1,
                "ItemProcessor": processor,
                "End": True,
            }
        },
    }
    runner = LocalRunner(definition)
    runner.run(input={"items": [0]})  # moto's modules loaded under the usual limit
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(250)
    try:
        result = runner.run(input={"items": list(range(600))}, timeout_seconds=120)
    finally:
        sys.setrecursionlimit(limit)

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.output == list(range(600))


def test_a_definite_jsonpath_gives_its_value_not_a_list() -> None:
    """AWS: a reference path names one node, so ``$.Body.content[0].text`` is the text (the
    result selector aws-cdk-lib users write for InvokeModel); moto gave ``["..."]`` whenever
    the path went through an index. Wildcards and filters still give lists."""
    definition = {
        "StartAt": "Shape",
        "States": {
            "Shape": {
                "Type": "Pass",
                "Parameters": {
                    "text.$": "$.Body.content[0].text",
                    "last.$": "$.scores[-1]",
                    "first.$": "$.Body.content[0]",
                    "all.$": "$.Body.content[*].text",
                    "long.$": "$.Body.content[?(@.text == 'yo')].text",
                    "formatted.$": "States.Format('<{}>', $.Body.content[1].text)",
                },
                "End": True,
            }
        },
    }
    document = {"Body": {"content": [{"text": "hi"}, {"text": "yo"}]}, "scores": [5, 6]}

    result = LocalRunner(definition).run(input=document)

    assert result.status == "SUCCEEDED", result.cause
    assert result.output == {
        "text": "hi",
        "last": 6,
        "first": {"text": "hi"},
        "all": ["hi", "yo"],
        "long": ["yo"],
        "formatted": "<yo>",
    }


def test_a_definite_jsonpath_that_names_nothing_fails_the_state() -> None:
    definition = {
        "StartAt": "Shape",
        "States": {
            "Shape": {"Type": "Pass", "Parameters": {"t.$": "$.Body.content[3].text"}, "End": True}
        },
    }

    result = LocalRunner(definition).run(input={"Body": {"content": [{"text": "hi"}]}})

    assert (result.status, result.error) == ("FAILED", "States.Runtime")
    assert "$.Body.content[3].text" in str(result.cause)
