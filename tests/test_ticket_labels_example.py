"""The ``BatchInference`` example (``examples/ticket_labels.py``): no Lambda function, the limits
lint passes with no acknowledgement, ``min_records`` is AWS's default quota and the sample input
meets it, and its local runs on moto's S3 with its seeds (``examples/mocks/TicketLabels.s3.json``:
what Bedrock writes, one record failed) read every record back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template
from tests.conftest import ExampleApp

from lambdaless.analysis.annotations import read
from lambdaless.analysis.lint import lint
from lambdaless.limits import BATCH_MIN_RECORDS_DEFAULT
from lambdaless.synthesized import load
from lambdaless.testing import LocalRunner, RunResult

MOCKS = Path(__file__).resolve().parent.parent / "examples" / "mocks"
SAMPLE = json.loads((MOCKS / "TicketLabels.input.json").read_text())
JOB = "arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/k2vd7t3x9qpl"


@pytest.fixture(scope="module")
def stack(example_app: ExampleApp) -> cdk.Stack:
    return example_app.stacks["TicketLabels"]


def _run(stack: cdk.Stack, case: str, execution_name: str) -> RunResult:
    return LocalRunner(stack).run(
        input=SAMPLE,
        mock_config=MOCKS / "TicketLabels.json",
        test_case=case,
        s3=MOCKS / "TicketLabels.s3.json",
        execution_name=execution_name,
        timeout_seconds=120,
    )


@pytest.fixture(scope="module")
def happy(stack: cdk.Stack) -> RunResult:
    return _run(stack, "HappyPath", "nightly-1")


def test_no_lambda_function(stack: cdk.Stack) -> None:
    types = {r["Type"] for r in Template.from_stack(stack).to_json()["Resources"].values()}
    assert not {t for t in types if t.startswith("AWS::Lambda::")}, types


def test_limits_lint_passes_without_acknowledgements(stack: cdk.Stack) -> None:
    (machine,) = load(stack)
    assert lint(machine) == []
    assert read(machine.resource, machine.definition).acknowledgements == ()


def test_the_sample_meets_the_default_minimum_of_records(stack: cdk.Stack) -> None:
    (machine,) = load(stack)
    (too_few, _) = machine.definition["States"]["LabelsCount"]["Choices"]
    assert too_few["Condition"] == (
        f"{{% $count($states.input.tickets) < {BATCH_MIN_RECORDS_DEFAULT} %}}"
    )
    assert len(SAMPLE["tickets"]) >= BATCH_MIN_RECORDS_DEFAULT


def test_every_ticket_is_an_answer_or_a_listed_failure(happy: RunResult) -> None:
    assert happy.status == "SUCCEEDED", happy.cause
    assert happy.s3 is not None
    work = happy.s3.name("Work")
    assert happy.output == {
        "jobArn": JOB,
        "records": 104,
        "results": 103,
        "failures": 1,
        "resultsAt": f"s3://{work}/tickets/results/nightly-1/",
        "manifest": {"total": 104, "errors": 1},
    }
    assert happy.wait_delays == [60, 120, 240]  # Validating, InProgress, Completed
    first = happy.s3.json("Work", "tickets/results/nightly-1/00000000000.json")
    second = happy.s3.json("Work", "tickets/results/nightly-1/00000000053.json")
    assert (len(first["results"]), first["failures"]) == (53, [])
    assert len(second["results"]) == 50
    assert second["failures"] == [
        {
            "recordId": "00000000061",
            "error": {
                "errorCode": 500,
                "errorMessage": "Internal server error while processing the record.",
            },
        }
    ]
    assert first["results"][0] == {
        "recordId": "00000000000",
        "text": "billing | high | Customer was charged twice for the Router X2 order; refund the "
        "duplicate charge.",
        "stopReason": "end_turn",
        "usage": {"inputTokens": 121, "outputTokens": 24},
    }


def test_the_seeds_answer_exactly_the_records_the_run_wrote(happy: RunResult) -> None:
    """Bedrock's output repeats each record's modelInput: the seeded output files must be the
    answers to the very files the workflow writes, record by record."""
    assert happy.s3 is not None
    written = happy.s3.keys("Work", "tickets/input/nightly-1/")
    assert [key.rsplit("/", 1)[1] for key in written] == [
        "00000000000.jsonl",
        "00000000053.jsonl",
    ]
    for key in written:
        name = key.rsplit("/", 1)[1]
        sent = _lines(happy.s3.text("Work", key))
        answered = _lines((MOCKS / "TicketLabels" / f"{name}.out").read_text())
        assert [r["recordId"] for r in sent] == [r["recordId"] for r in answered]
        assert [r["modelInput"] for r in sent] == [r["modelInput"] for r in answered]


def test_a_failed_job_fails_the_run_with_its_message(stack: cdk.Stack) -> None:
    result = _run(stack, "JobFailed", "nightly-2")
    assert (result.status, result.error) == ("FAILED", "BatchInference.JobFailed")
    assert result.cause == (
        f"batch job {JOB} ended Failed: The service role is not allowed to read the input data "
        "in S3."
    )
    assert result.s3 is not None
    assert [key for _, key in result.s3.written] == [
        "tickets/input/nightly-2/00000000000.jsonl",
        "tickets/input/nightly-2/00000000053.jsonl",
    ]


def _lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]
