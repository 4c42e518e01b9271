"""Step Functions Local mock-config files, accepted unchanged."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lambdaless.testing import LocalRunner, MockConfig, MockConfigError, Return, Throw, mocks

Definition = Callable[[str], dict[str, Any]]


def test_a_step_functions_local_mock_file_runs_unchanged(
    research_template: dict[str, Any], mock_config_file: Path
) -> None:
    runner = LocalRunner(research_template)

    result = runner.run(
        input={"topic": "tides"}, mock_config=mock_config_file, test_case="HappyPath"
    )

    assert result.status == "SUCCEEDED", result.cause
    assert result.output == {
        "topic": "tides",
        "summaries": ["The moon drives the tides.", "Tides come twice daily."],
        "critique": "Accurate and brief.",
        "delivered": True,
    }
    assert [state for state, _ in result.retry_delays] == ["Summarize", "Summarize"]


def test_ranges_throw_until_retries_are_exhausted_then_the_catch_runs(
    research_template: dict[str, Any], mock_config_file: Path
) -> None:
    result = LocalRunner(research_template).run(
        input={"topic": "tides"}, mock_config=str(mock_config_file), test_case="ApiDown"
    )

    assert result.states == ["FetchDocuments", "HandleFailure"]
    assert result.retries == 2
    assert result.output["Error"] == "States.Http.StatusCode.503"
    assert json.loads(result.output["Cause"])["StatusText"] == "Service Unavailable"


def test_the_file_key_may_be_the_logical_id_or_the_only_state_machine(
    definition: Definition,
    template_of: Callable[[dict[str, Any], str], dict[str, Any]],
    mock_config_file: Path,
) -> None:
    document = json.loads(mock_config_file.read_text())
    document["StateMachines"] = {
        "ResearchWorkflow0A1B2C3D": document["StateMachines"]["ResearchWorkflow"]
    }
    runner = LocalRunner(template_of(definition("research_workflow"), "ResearchWorkflow"))
    assert runner.run(input={"topic": "t"}, mock_config=document, test_case="NoDocuments").states[
        -1
    ] == ("NothingToSummarize")

    bare = LocalRunner(definition("research_workflow"))  # named "StateMachine": the only key wins
    assert (
        bare.run(input={"topic": "t"}, mock_config=document, test_case="NoDocuments").status
        == "SUCCEEDED"
    )


def test_responses_override_a_test_case_per_state(
    research_template: dict[str, Any], mock_config_file: Path
) -> None:
    result = LocalRunner(research_template).run(
        input={"topic": "tides"},
        mock_config=mock_config_file,
        test_case="HappyPath",
        responses={"Critique": mocks.converse_text("Needs sources.")},
    )

    assert result.output["critique"] == "Needs sources."


def test_mock_config_parses_ranges_into_one_response_per_invocation(
    mock_config_file: Path,
) -> None:
    config = MockConfig.load(mock_config_file)

    case = config.test_case("ResearchWorkflow", "HappyPath")

    throttle = Throw(
        "Bedrock.ThrottlingException", "Too many requests, please wait before trying again."
    )
    assert case["Summarize"][:2] == [throttle, throttle]
    assert isinstance(case["Summarize"][2], Return)
    assert len(case["Summarize"]) == 4


@pytest.mark.parametrize(
    ("responses", "message"),
    [
        ({"M": {"1": {"Return": {}}}}, "consecutively from 0"),
        ({"M": {"0": {"Return": {}, "Throw": {"Error": "E"}}}}, "exactly one of"),
        ({"M": {"0": {"Throw": {"Cause": "no error"}}}}, "needs an 'Error'"),
        ({"M": {"0-x": {"Return": {}}}}, "not an invocation number"),
    ],
)
def test_invalid_mocked_responses_are_rejected(responses: Any, message: str) -> None:
    document = {
        "StateMachines": {"S": {"TestCases": {"T": {"A": "M"}}}},
        "MockedResponses": responses,
    }
    with pytest.raises(MockConfigError, match=message):
        MockConfig.load(document)


def test_unknown_test_case_lists_the_known_ones(
    research_template: dict[str, Any], mock_config_file: Path
) -> None:
    with pytest.raises(MockConfigError, match="ApiDown"):
        LocalRunner(research_template).run(mock_config=mock_config_file, test_case="Nope")


def test_mocks_convert_to_a_mock_config_that_reads_back() -> None:
    responses = mocks.throttle(2, mocks.bedrock_text("nova", "ok"))

    document = mocks.to_mock_config("Summarizer", {"Throttled": {"Summarize": responses}})

    assert document["StateMachines"] == {
        "Summarizer": {"TestCases": {"Throttled": {"Summarize": "ThrottledSummarize"}}}
    }
    assert list(document["MockedResponses"]["ThrottledSummarize"]) == ["0-1", "2"]
    assert MockConfig.load(json.dumps(document)).test_case("Summarizer", None) == {
        "Summarize": responses
    }


def test_a_key_that_begins_the_logical_id_selects_among_several(mock_config_file: Path) -> None:
    document = json.loads(mock_config_file.read_text())
    document["StateMachines"]["Other"] = document["StateMachines"]["ResearchWorkflow"]
    config = MockConfig.load(document)

    assert config.machine_key(["ResearchWorkflowStateMachine72945174"]) == "ResearchWorkflow"
    with pytest.raises(MockConfigError, match="no state machine named 'Unrelated'"):
        config.machine_key(["Unrelated"])
