"""The full-scale ``FanOut`` example (``examples/documents_at_scale.py``): 10,000 documents from a
JSON Lines object in S3, results written to S3, synthesized with no Lambda function and passing
the limits lint with no acknowledgement. (Its cdk-nag check runs with the hardening fixtures.)"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template
from examples.documents_at_scale import MAX_DOCUMENTS, QUOTA, DocumentsAtScaleStack

from lambdaless.analysis.annotations import read
from lambdaless.analysis.lint import lint
from lambdaless.synthesized import load


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
