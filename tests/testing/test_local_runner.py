"""The local runner on hand-written JSONata and JSONPath state machines."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from lambdaless import LambdalessError
from lambdaless.testing import LocalRunner, MissingMockError, RunResult, TaskTokenRequest, mocks

Definition = Callable[[str], dict[str, Any]]

DOCUMENTS = [
    {"id": "d1", "text": "The moon pulls the sea."},
    {"id": "d2", "text": "Tides rise twice a day."},
    {"id": "d3", "text": "Spring tides follow full moons."},
]


def happy_responses(throttles_on_summarize: int = 2, throttles_on_critique: int = 1) -> Any:
    return {
        "FetchDocuments": mocks.http_response(200, {"documents": DOCUMENTS}),
        "Summarize": mocks.throttle(
            throttles_on_summarize,
            [mocks.bedrock_text("anthropic", f"Summary of {d['id']}.") for d in DOCUMENTS],
        ),
        "Critique": mocks.throttle(throttles_on_critique, mocks.converse_text("Fine.")),
        "Notify": mocks.http_response(202),
    }


def retry_bound(attempt: int, interval: float, rate: float, max_delay: float) -> float:
    """The largest back-off before retry ``attempt`` (1-based) under FULL jitter: a random
    value in [0, min(interval * rate ** (attempt - 1), max_delay)] (AWS docs, "Handling errors in
    Step Functions workflows": JitterStrategy)."""
    return min(interval * rate ** (attempt - 1), max_delay)


@pytest.fixture
def research(definition: Definition) -> LocalRunner:
    return LocalRunner(definition("research_workflow"))


def test_workflow_with_bedrock_http_choice_map_parallel_and_three_throttles(
    research: LocalRunner,
) -> None:
    result = research.run(input={"topic": "tides"}, responses=happy_responses())

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.output == {
        "topic": "tides",
        "summaries": ["Summary of d1.", "Summary of d2.", "Summary of d3."],
        "critique": "Fine.",
        "delivered": True,
    }
    assert [state for state, _ in result.retry_delays] == ["Summarize", "Summarize", "Critique"]
    assert result.states[:3] == ["FetchDocuments", "AnyDocuments", "SummarizeEach"]
    assert result.states.count("Summarize") == 3  # entered once per item; retries re-enter nothing
    assert result.states[-1] == "Report"
    # Fetch, Choice, Map, 3 x Summarize, Parallel, Critique, Notify, Report
    assert result.transitions == 10
    assert result.billed_transitions == 13
    prompt = result.calls_to("Summarize")[0].arguments["Body"]["messages"][0]["content"]
    assert prompt == "Summarize in one sentence: The moon pulls the sea."
    assert result.calls_to("FetchDocuments")[0].arguments["QueryParameters"] == {"topic": "tides"}
    assert result.calls_to("Notify")[0].arguments["RequestBody"] == {"topic": "tides", "count": 3}


def test_retry_back_offs_are_recorded_never_slept(
    research: LocalRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The runner's virtual time: every back-off a retrier asks for is recorded in the result
    and none is slept (no clock read: the runner's own short polls may sleep, a back-off never
    does). Wall time belongs in benchmarks/."""
    slept: list[float] = []
    real_sleep = time.sleep

    def recording_sleep(seconds: float) -> None:
        slept.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr(time, "sleep", recording_sleep)
    result = research.run(input={"topic": "tides"}, responses=happy_responses())

    assert result.status == "SUCCEEDED"
    assert result.retries == 3
    requested = [delay for _, delay in result.retry_delays]
    assert len(requested) == 3
    assert sum(requested) > 0
    assert not set(requested) & set(slept), (requested, slept)


def test_backoff_delays_stay_within_interval_rate_max_delay_and_full_jitter(
    research: LocalRunner,
) -> None:
    # MaxAttempts 6: five throttles then success exercises the MaxDelaySeconds cap (2*2**4 = 32).
    for _ in range(10):
        result = research.run(
            input={"topic": "tides"},
            responses=happy_responses(throttles_on_summarize=5, throttles_on_critique=0),
        )
        assert result.status == "SUCCEEDED", result.cause
        delays = [delay for state, delay in result.retry_delays if state == "Summarize"]
        assert len(delays) == 5
        for attempt, delay in enumerate(delays, start=1):
            assert 0 <= delay <= retry_bound(attempt, interval=2, rate=2, max_delay=30)


def test_backoff_without_jitter_is_exact(definition: Definition) -> None:
    asl = definition("research_workflow")
    retrier = asl["States"]["SummarizeEach"]["ItemProcessor"]["States"]["Summarize"]["Retry"][0]
    retrier["JitterStrategy"] = "NONE"

    result = LocalRunner(asl).run(
        input={"topic": "tides"},
        responses=happy_responses(throttles_on_summarize=5, throttles_on_critique=0),
    )

    assert [delay for _, delay in result.retry_delays] == [2, 4, 8, 16, 30]


def test_exhausted_retries_are_caught_with_error_and_cause(research: LocalRunner) -> None:
    responses = happy_responses()
    responses["Summarize"] = mocks.throttle(7, mocks.bedrock_text("anthropic", "never"))

    result = research.run(input={"topic": "tides"}, responses=responses)

    assert result.status == "SUCCEEDED"
    assert result.states[-1] == "HandleFailure"
    assert result.output == {
        "Error": "Bedrock.ThrottlingException",
        "Cause": "Too many requests, please wait before trying again.",
    }
    assert result.retries == 6  # MaxAttempts counts retries: the first try plus six more


def test_http_error_status_is_an_error_name_with_a_json_cause(research: LocalRunner) -> None:
    result = research.run(
        input={"topic": "tides"},
        responses={"FetchDocuments": mocks.http_response(404, {"message": "no such topic"})},
    )

    assert result.output["Error"] == "States.Http.StatusCode.404"
    assert mocks_json(result.output["Cause"]) == {
        "Headers": {"Content-Type": "application/json"},
        "ResponseBody": {"message": "no such topic"},
        "StatusCode": 404,
        "StatusText": "Not Found",
    }


def mocks_json(text: str) -> Any:
    import json

    return json.loads(text)


def test_choice_takes_the_empty_branch(research: LocalRunner) -> None:
    result = research.run(
        input={"topic": "tides"},
        responses={"FetchDocuments": mocks.http_response(200, {"documents": []})},
    )

    assert result.states == ["FetchDocuments", "AnyDocuments", "NothingToSummarize"]
    assert result.output == {"topic": "tides", "summaries": []}


def test_unmocked_task_fails_with_a_clear_error_even_under_a_catch_all(
    research: LocalRunner,
) -> None:
    responses = happy_responses()
    del responses["Summarize"]

    with pytest.raises(MissingMockError, match=r"'Summarize' \(arn:aws:states:::bedrock:invok"):
        research.run(input={"topic": "tides"}, responses=responses)


def test_unmocked_http_task_fails_with_a_clear_error(research: LocalRunner) -> None:
    with pytest.raises(MissingMockError, match=r"'FetchDocuments' \(arn:aws:states:::http:invoke"):
        research.run(input={"topic": "tides"})


def test_mocks_for_unknown_states_are_rejected(research: LocalRunner) -> None:
    with pytest.raises(ValueError, match="Summarise"):
        research.run(responses={"Summarise": mocks.bedrock_text("anthropic", "typo")})


def test_wait_for_task_token_answered_with_success(definition: Definition) -> None:
    seen: list[TaskTokenRequest] = []

    def approve(request: TaskTokenRequest) -> tuple[str, Any]:
        seen.append(request)
        return ("success", {"reviewer": "ana"})

    result = LocalRunner(definition("approval")).run(
        input={"draft": "v1"}, task_tokens={"AskApproval": approve}
    )

    assert result.status == "SUCCEEDED"
    assert result.output == {"approved": True, "by": "ana"}
    (request,) = seen
    assert request.arguments["MessageBody"] == {"token": request.token, "draft": "v1"}
    assert len(request.token) > 20


def test_wait_for_task_token_failure_keeps_error_and_cause_in_the_catch(
    definition: Definition,
) -> None:
    result = LocalRunner(definition("approval")).run(
        input={"draft": "v1"},
        task_tokens=lambda request: ("failure", "Review.Rejected", "too long"),
    )

    assert result.states == ["AskApproval", "Rejected"]
    assert result.output == {"Error": "Review.Rejected", "Cause": "too long"}


def test_unanswered_task_token_says_how_to_answer_it(definition: Definition) -> None:
    with pytest.raises(MissingMockError, match=r"task_tokens=\{'AskApproval': \.\.\.\}"):
        LocalRunner(definition("approval")).run(input={"draft": "v1"})


def test_jsonpath_state_machine_with_sdk_sync_and_wait(definition: Definition) -> None:
    responses = {
        "Store": {"SdkHttpMetadata": {"HttpStatusCode": 200}},
        "Describe": {"ContentLength": 4096, "ContentType": "text/plain"},
        "RunJob": {"Status": "SUCCEEDED", "Output": '{"chunks": 4}'},
        "Publish": {"MessageId": "m-1"},
    }

    result = LocalRunner(definition("jsonpath_integrations")).run(
        input={"id": "j1", "key": "in.txt"}, responses=responses
    )

    assert result.status == "SUCCEEDED", result.cause
    assert result.states == ["Store", "Describe", "IsLarge", "RunJob", "Cool down", "Publish"]
    assert result.wait_delays == [600]
    assert result.output["object"] == {"size": 4096}
    assert result.output["published"] == {"MessageId": "m-1"}
    assert result.calls_to("Publish")[0].arguments["Message"] == "job j1 done"


def test_wall_clock_timeout_reports_timed_out() -> None:
    spinning = {
        "StartAt": "Spin",
        "States": {
            "Spin": {"Type": "Pass", "Next": "Again"},
            "Again": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.stop", "IsPresent": True, "Next": "Stop"}],
                "Default": "Spin",
            },
            "Stop": {"Type": "Succeed"},
        },
    }

    result = LocalRunner(spinning).run(input={}, timeout_seconds=0.3)

    assert result.status == "TIMED_OUT"
    assert result.error == "LocalRunner.Timeout"


def test_uncaught_failure_fails_the_execution() -> None:
    asl = {
        "QueryLanguage": "JSONata",
        "StartAt": "Ask",
        "States": {
            "Ask": {
                "Type": "Task",
                "Resource": "arn:aws:states:::bedrock:invokeModel",
                "Arguments": {"ModelId": "amazon.nova-lite-v1:0", "Body": {"messages": []}},
                "End": True,
            }
        },
    }

    result: RunResult = LocalRunner(asl).run(
        responses={"Ask": mocks.failure("Bedrock.ValidationException", "bad body")}
    )

    assert (result.status, result.error, result.cause) == (
        "FAILED",
        "Bedrock.ValidationException",
        "bad body",
    )
    assert result.output is None


def test_passthrough_sends_unmocked_aws_tasks_to_moto_backends() -> None:
    import boto3
    from moto import mock_aws

    asl = {
        "StartAt": "Publish",
        "States": {
            "Publish": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sns:publish",
                "Parameters": {"TopicArn.$": "$.topic", "Message": "done"},
                "End": True,
            }
        },
    }
    with mock_aws():
        topic = boto3.client("sns", region_name="us-east-1").create_topic(Name="done")
        result = LocalRunner(asl, passthrough=True).run(input={"topic": topic["TopicArn"]})

    assert result.status == "SUCCEEDED", result.cause
    assert "MessageId" in result.output


def test_passthrough_still_requires_mocks_for_bedrock(definition: Definition) -> None:
    with pytest.raises(MissingMockError, match="'FetchDocuments'"):
        LocalRunner(definition("research_workflow"), passthrough=True).run(input={"topic": "t"})


def test_activity_tasks_are_refused_up_front() -> None:
    asl = {
        "StartAt": "Work",
        "States": {
            "Work": {
                "Type": "Task",
                "Resource": "arn:aws:states:us-east-1:123456789012:activity:review",
                "End": True,
            }
        },
    }
    with pytest.raises(NotImplementedError, match=r"\['Work'\]"):
        LocalRunner(asl).run()


def test_selecting_among_several_state_machines(
    definition: Definition, template_of: Callable[[dict[str, Any], str], dict[str, Any]]
) -> None:
    template = template_of(definition("approval"), "Approval")
    template["Resources"].update(
        template_of(definition("research_workflow"), "Research")["Resources"]
    )
    runner = LocalRunner(template)

    assert runner.state_machine("Approval").name == "Approval"
    assert runner.state_machine("Research0A1B2C3D").name == "Research"
    assert runner.state_machine("TestStack/Research/Resource").logical_id == "Research0A1B2C3D"
    with pytest.raises(ValueError, match="state_machine= is required"):
        runner.run()
    with pytest.raises(ValueError, match="matches none"):
        runner.state_machine("Nope")


def test_execution_name_is_the_context_name_and_is_checked() -> None:
    asl = {
        "QueryLanguage": "JSONata",
        "StartAt": "Name",
        "States": {
            "Name": {"Type": "Pass", "Output": "{% $states.context.Execution.Name %}", "End": True}
        },
    }
    runner = LocalRunner(asl)
    assert runner.run(execution_name="nightly-2026-11-30").output == "nightly-2026-11-30"
    with pytest.raises(LambdalessError, match=r"execution_name='x{81}' .*1 to 80 characters"):
        runner.run(execution_name="x" * 81)
