"""The full-scale ``FanOut`` example (``examples/documents_at_scale.py``): 10,000 documents from a
JSON Lines object in S3, results written to S3, synthesized with no Lambda function and passing
the limits lint with no acknowledgement, and run offline with its mock file and seeds (five
documents in ``input/documents.jsonl``). Its cdk-nag check runs with the hardening tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template
from examples.documents_at_scale import MAX_DOCUMENTS, QUOTA, DocumentsAtScaleStack

from lambdaless.analysis.annotations import read
from lambdaless.analysis.lint import lint
from lambdaless.synthesized import load
from lambdaless.testing import LocalRunner, RunResult


@pytest.fixture(scope="module")
def synthesized() -> tuple[DocumentsAtScaleStack, dict[str, Any]]:
    stack = DocumentsAtScaleStack(cdk.App(), "DocumentsAtScale")
    return stack, Template.from_stack(stack).to_json()


def test_no_lambda_function(synthesized: tuple[DocumentsAtScaleStack, dict[str, Any]]) -> None:
    _, template = synthesized
    types = {resource["Type"] for resource in template["Resources"].values()}
    assert not {t for t in types if t.startswith("AWS::Lambda::")}, types
    assert "AWS::StepFunctions::StateMachine" in types


def test_limits_lint_passes_without_acknowledgements(
    synthesized: tuple[DocumentsAtScaleStack, dict[str, Any]],
) -> None:
    _, template = synthesized
    (machine,) = load(template)
    assert lint(machine) == []
    # nothing accepted: no lint acknowledgement (the cdk-nag reasons every Workflow gives for
    # its unavoidable wildcards are checked with the hardening fixtures)
    assert read(machine.resource, machine.definition).acknowledgements == ()


def test_distributed_map_reads_jsonl_and_writes_results_to_s3(
    synthesized: tuple[DocumentsAtScaleStack, dict[str, Any]],
) -> None:
    _, template = synthesized
    (machine,) = load(template)
    state = machine.definition["States"]["Summaries"]
    assert state["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
    assert state["ItemReader"]["ReaderConfig"] == {"InputType": "JSONL", "MaxItems": MAX_DOCUMENTS}
    assert state["ItemReader"]["Arguments"]["Key"] == "input/documents.jsonl"
    assert state["ResultWriter"]["Arguments"]["Prefix"] == "results/"
    assert state["ToleratedFailurePercentage"] == 1
    # the quota's concurrency: 400,000 / max(800 + 300, 800 + 5 x 150) calls a minute x 4 s / 60
    # (Claude Haiku 4.5 burns output tokens at 5x)
    assert state["MaxConcurrency"] == QUOTA.max_concurrency(
        max_tokens=300, model_id="anthropic.claude-haiku-4-5-20251001-v1:0"
    )
    assert state["MaxConcurrency"] == 17


def test_the_reader_may_read_its_one_object_only(
    synthesized: tuple[DocumentsAtScaleStack, dict[str, Any]],
) -> None:
    stack, template = synthesized
    reads = [
        statement
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::IAM::Policy"
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
        if statement["Action"] == "s3:GetObject"
    ]
    (read,) = reads
    bucket = stack.get_logical_id(stack.bucket.node.default_child)  # type: ignore[arg-type]
    assert read["Resource"] == {
        "Fn::Join": [
            "",
            [{"Fn::GetAtt": [bucket, "Arn"]}, "/input/documents.jsonl"],
        ]
    }


# -- offline, with its mock file and seeds (five documents) ------------------------------------

MOCKS = Path(__file__).resolve().parent.parent / "examples" / "mocks"


def _run(stack: DocumentsAtScaleStack, case: str) -> tuple[RunResult, list[dict[str, Any]]]:
    """A run of ``case`` and the child records of the result files its manifest lists."""
    result = LocalRunner(stack).run(
        input=json.loads((MOCKS / "DocumentsAtScale.input.json").read_text()),
        mock_config=MOCKS / "DocumentsAtScale.json",
        test_case=case,
        s3=MOCKS / "DocumentsAtScale.s3.json",
        timeout_seconds=120,
    )
    assert result.status == "SUCCEEDED", result.cause
    assert result.s3 is not None
    details = result.output["ResultWriterDetails"]
    assert details["Bucket"] == result.s3.name("Documents")
    manifest = result.s3.json("Documents", details["Key"])
    assert manifest["ResultFiles"]["FAILED"] == []
    records = [
        record
        for listed in manifest["ResultFiles"]["SUCCEEDED"]
        for record in result.s3.json("Documents", listed["Key"])
    ]
    return result, records


def test_offline_every_document_is_summarized(
    synthesized: tuple[DocumentsAtScaleStack, dict[str, Any]],
) -> None:
    stack, _ = synthesized
    result, records = _run(stack, "HappyPath")
    assert result.retries == 0
    outputs = [json.loads(record["Output"]) for record in records]
    assert [o["item"]["id"] for o in outputs] == [f"doc-000{n}" for n in range(1, 6)]
    assert all(o["stopReason"] == "end_turn" and o["text"] for o in outputs)


def test_offline_a_refused_document_is_kept_with_its_error(
    synthesized: tuple[DocumentsAtScaleStack, dict[str, Any]],
) -> None:
    stack, _ = synthesized
    _, records = _run(stack, "OneDocumentRefused")
    outputs = [json.loads(record["Output"]) for record in records]
    refused = [o for o in outputs if o.get("ok") is False]
    assert [(o["item"]["id"], o["error"]) for o in refused] == [
        ("doc-0003", "Bedrock.ValidationException")
    ]
    assert len(outputs) == 5  # none lost


def test_offline_a_throttled_call_is_retried(
    synthesized: tuple[DocumentsAtScaleStack, dict[str, Any]],
) -> None:
    stack, _ = synthesized
    result, records = _run(stack, "ThrottledThenSucceeds")
    assert [state for state, _ in result.retry_delays] == ["SummariesItem"]
    assert len(records) == 5
