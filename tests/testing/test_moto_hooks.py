"""The moto self-test, and the hooks' effect on things moto alone gets wrong."""

from __future__ import annotations

from typing import Any

import pytest

from lambdaless.testing import LocalRunner, _moto_hooks, mocks


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
