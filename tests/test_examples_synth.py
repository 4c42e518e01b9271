"""The example app, built in-process: every example state machine's ASL is a snapshot.

Changing an example's model, prompt, retries or routes fails here until the snapshot is reviewed
and updated (``pytest --snapshot-update``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template
from examples.app import EXAMPLES
from syrupy.assertion import SnapshotAssertion
from tests.conftest import ExampleApp

from lambdaless.synthesized import SynthesizedStateMachine, load, resolve

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def stacks(example_app: ExampleApp) -> dict[str, cdk.Stack]:
    """Every example stack, from the session's one synthesis of the example app."""
    return {name: example_app.stacks[name] for name in EXAMPLES}


@pytest.fixture(scope="module")
def machines(stacks: dict[str, cdk.Stack]) -> dict[str, list[SynthesizedStateMachine]]:
    return {name: load(stack) for name, stack in stacks.items()}


def test_every_example_is_built(stacks: dict[str, cdk.Stack]) -> None:
    assert sorted(stacks) == sorted(EXAMPLES)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_asl(
    name: str,
    machines: dict[str, list[SynthesizedStateMachine]],
    snapshot_json: SnapshotAssertion,
) -> None:
    found = machines[name]
    assert found, f"{name} has no state machine"
    # keyed by logical id: the construct path is only in the template when path metadata is on
    assert {m.logical_id: m.definition for m in found} == snapshot_json


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_has_no_lambda_function(name: str, stacks: dict[str, cdk.Stack]) -> None:
    """The library's promise: every example, DocumentsAtScale's 10,000 documents and
    TicketLabels' batch job included, calls Bedrock, S3 and HTTP APIs from Step Functions with
    no Lambda function (not even a custom resource's)."""
    types = {r["Type"] for r in Template.from_stack(stacks[name]).to_json()["Resources"].values()}
    assert not {t for t in types if t.startswith("AWS::Lambda::")}, sorted(types)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_has_a_mock_file(name: str) -> None:
    assert (ROOT / "examples" / "mocks" / f"{name}.json").is_file()


# -- the summarizer, in particular ------------------------------------------------------------
def summarizer(machines: dict[str, list[SynthesizedStateMachine]]) -> dict[str, Any]:
    (machine,) = machines["DocumentSummarizer"]
    return machine.definition


def test_summarizer_falls_back_on_throttling(
    machines: dict[str, list[SynthesizedStateMachine]],
) -> None:
    states = summarizer(machines)["States"]
    catches = states["Summarize"]["Catch"]
    assert catches[0]["Next"] == "SummarizeWithFallback"
    assert "Bedrock.ThrottlingException" in catches[0]["ErrorEquals"]
    assert catches[0]["Output"] == "{% $states.input %}"  # the fallback sees the document again
    assert catches[1]["Next"] == "SummaryFailed"
    assert "Bedrock.ValidationException" in catches[1]["ErrorEquals"]
    assert states["SummaryFailed"]["Error"] == "{% $states.input.Error %}"
    assert states["SummaryFailed"]["Cause"] == "{% $states.input.Cause %}"
    assert states["Summarize"]["Arguments"]["ModelId"].endswith(
        ":inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0"
    )


def test_summarizer_grants_only_invoke_model(stacks: dict[str, cdk.Stack]) -> None:
    template = Template.from_stack(stacks["DocumentSummarizer"])
    policies = template.find_resources("AWS::IAM::Policy")
    statements = [
        resolve(s)
        for p in policies.values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    bedrock = [s for s in statements if str(s["Action"]).startswith("bedrock")]
    assert {s["Action"] for s in bedrock} == {"bedrock:InvokeModel"}
    # two profiles: each profile ARN, plus its routed models under a profile condition
    assert len(bedrock) == 4
    assert sum("Condition" in s for s in bedrock) == 2
