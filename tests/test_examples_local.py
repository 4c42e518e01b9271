"""Every example runs offline with its own mock file: happy, throttled, and failure paths."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from examples.app import EXAMPLES
from tests.conftest import ExampleApp

from lambdaless.synthesized import SynthesizedStateMachine, load
from lambdaless.testing import LocalRunner, MockConfig, RunResult

MOCKS = Path(__file__).resolve().parent.parent / "examples" / "mocks"


@pytest.fixture(scope="module")
def example_machines(example_app: ExampleApp) -> dict[str, Any]:
    """Stack name -> (stack, its state machines), from the session's one synthesis."""
    return {name: (example_app.stacks[name], load(example_app.stacks[name])) for name in EXAMPLES}


def _cases(name: str) -> Iterator[tuple[str, str]]:
    config = MockConfig.load(MOCKS / f"{name}.json")
    for machine, spec in config.state_machines.items():
        for case in spec:
            yield machine, case


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_example_has_a_mock_file_with_three_paths(
    name: str, example_machines: dict[str, Any]
) -> None:
    """Each example scripts a happy path, a throttled path and a failure path, and every test
    case in its file runs to the end with no missing mock, on the sample input beside it
    (``examples/mocks/<Stack>.input.json``)."""
    stack, machines = example_machines[name]
    assert (MOCKS / f"{name}.json").is_file(), f"examples/mocks/{name}.json is missing"
    runner = LocalRunner(stack)
    sample = json.loads((MOCKS / f"{name}.input.json").read_text())
    seeds = _seeds(name)
    outcomes = []
    for machine_key, case in _cases(name):
        result = runner.run(
            _machine(machines, machine_key).path,
            sample,
            mock_config=MOCKS / f"{name}.json",
            test_case=case,
            s3=seeds,
            timeout_seconds=120,
        )
        assert result.status in ("SUCCEEDED", "FAILED"), (machine_key, case, result.error)
        kept = _kept_failures(result)
        outcomes.append((case, result.status, result.retries, result.states, kept))
    assert len(outcomes) >= 3, outcomes
    assert any(status == "SUCCEEDED" and retries == 0 for _, status, retries, _, _ in outcomes)
    assert any(retries > 0 for _, _, retries, _, _ in outcomes), "no throttled path"
    assert any(
        status == "FAILED" or (len(states) > 1 and retries == 0) or kept
        for _, status, retries, states, kept in outcomes
    ), "no failure path"


def _kept_failures(result: RunResult) -> int:
    """Items whose error the run kept as a record (``{"ok": false, "error", ...}``), in its
    output or in the objects it wrote to S3 (a Distributed Map's result files, where each
    child's output is JSON text): a failure path whose route the parent's states do not show."""

    def count(value: Any) -> int:
        if isinstance(value, str) and value[:1] in "{[":
            try:
                return count(json.loads(value))
            except ValueError:
                return 0
        if isinstance(value, dict):
            kept = int(value.get("ok") is False and "error" in value)
            return kept + sum(count(v) for v in value.values())
        if isinstance(value, list):
            return sum(count(v) for v in value)
        return 0

    written = [result.s3.text(b, k) for b, k in result.s3.written] if result.s3 else []
    return count(result.output) + sum(count(text) for text in written)


def _seeds(name: str) -> Path | None:
    """The example's S3 seeds, ``examples/mocks/<Stack>.s3.json``, as ``lambdaless run`` finds
    them beside the mock file."""
    path = MOCKS / f"{name}.s3.json"
    return path if path.is_file() else None


def _machine(machines: list[SynthesizedStateMachine], key: str) -> SynthesizedStateMachine:
    """The state machine a mock file's ``StateMachines`` key names (the only one when the
    stack has one, e.g. SharedCapacity has Triage, Digest and its capacity's Reclaim)."""
    if len(machines) == 1:
        return machines[0]
    (machine,) = [m for m in machines if key in (m.name, m.logical_id)]
    return machine


DOCUMENT = {"document": "The tide rises and falls twice a day, pulled by the moon."}


@pytest.mark.parametrize(
    ("case", "status", "states", "retries", "error"),
    [
        ("HappyPath", "SUCCEEDED", ["Summarize"], 0, None),
        ("ThrottledThenSucceeds", "SUCCEEDED", ["Summarize"], 2, None),
        (
            "FallbackWhenThrottlingPersists",
            "SUCCEEDED",
            ["Summarize", "SummarizeWithFallback"],
            6,
            None,
        ),
        (
            "PermanentFailure",
            "FAILED",
            ["Summarize", "SummaryFailed"],
            0,
            "Bedrock.ValidationException",
        ),
    ],
)
def test_summarizer_paths(
    case: str,
    status: str,
    states: list[str],
    retries: int,
    error: str | None,
    example_machines: dict[str, Any],
) -> None:
    stack, _ = example_machines["DocumentSummarizer"]
    result = LocalRunner(stack).run(
        input=DOCUMENT, mock_config=MOCKS / "DocumentSummarizer.json", test_case=case
    )
    assert (result.status, result.states, result.retries, result.error) == (
        status,
        states,
        retries,
        error,
    )
    if status == "SUCCEEDED":
        assert set(result.output) == {"text", "stopReason", "usage"}
        assert result.output["stopReason"] == "end_turn"
        # one transition per model call on the happy path
        assert result.transitions == len(states)
    else:
        assert result.cause == "Input is too long for requested model."


def test_summarizer_backoff_follows_the_retry_preset(example_machines: dict[str, Any]) -> None:
    """The fallback case exhausts bedrock_transient(): six delays, each within [0, cap]."""
    stack, _ = example_machines["DocumentSummarizer"]
    result = LocalRunner(stack).run(
        input=DOCUMENT,
        mock_config=MOCKS / "DocumentSummarizer.json",
        test_case="FallbackWhenThrottlingPersists",
    )
    caps = [2, 4, 8, 16, 32, 60]
    delays = [seconds for state, seconds in result.retry_delays if state == "Summarize"]
    assert len(delays) == len(caps)
    assert all(0 <= d <= cap for d, cap in zip(delays, caps, strict=True)), delays


def test_summarizer_sends_the_document_to_claude(example_machines: dict[str, Any]) -> None:
    stack, _ = example_machines["DocumentSummarizer"]
    result = LocalRunner(stack).run(
        input=DOCUMENT, mock_config=MOCKS / "DocumentSummarizer.json", test_case="HappyPath"
    )
    (call,) = result.calls_to("Summarize")
    body = call.arguments["Body"]
    assert body["messages"][0]["content"][0]["text"].endswith(DOCUMENT["document"])
    assert body["system"].startswith("You summarize documents")
    assert call.arguments["ModelId"].endswith(
        ":inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0"
    )


def test_a_mocked_dynamodb_error_keeps_its_name(example_machines: dict[str, Any]) -> None:
    """A mocked Throw on a DynamoDB Task reaches Retry and Catch under the name the mock gives,
    as in Step Functions Local (moto alone renamed it ``DynamoDB.AmazonDynamoDBException``):
    the Reclaim run whose caller released first ends in AlreadyReleased, and the capacity that
    was full makes the acquire retry ``DynamoDB.ConditionalCheckFailedException``."""
    stack, machines = example_machines["SharedCapacity"]
    runner = LocalRunner(stack)
    sample = json.loads((MOCKS / "SharedCapacity.input.json").read_text())
    mocks = MOCKS / "SharedCapacity.json"
    released = runner.run(
        _machine(machines, "Reclaim").path,
        sample,
        mock_config=mocks,
        test_case="CallerReleasedFirst",
    )
    assert (released.status, released.states[-1], released.error) == (
        "SUCCEEDED",
        "AlreadyReleased",
        None,
    )
    waited = runner.run(
        _machine(machines, "Triage").path,
        sample,
        mock_config=mocks,
        test_case="CapacityFullThenFree",
    )
    assert waited.status == "SUCCEEDED"
    assert waited.retries > 0
    assert (len(waited.output["results"]), waited.output["failures"]) == (3, []), waited.output
