"""The batch inference rules, on their check functions (BatchInference calls them)."""

from __future__ import annotations

from tests.rules._support import accepted, refused

from lambdaless.models import ModelFamily
from lambdaless.rules.batch import check_batch_model, check_batch_records, check_batch_timeout


def test_batch_model() -> None:
    refused(
        "batch-model",
        lambda: check_batch_model("model", "arn:p", provisioned=True, family=ModelFamily.TITAN),
        argument="model",
        value="arn:p",
    )
    refused(
        "batch-model",
        lambda: check_batch_model(
            "model", "amazon.titan-embed-text-v2:0", provisioned=False, family=None
        ),
        argument="model",
    )
    accepted(lambda: check_batch_model("model", "x.y", provisioned=False, family=ModelFamily.NOVA))


def test_batch_records() -> None:
    refused("batch-records", lambda: check_batch_records(0, 10, 1), argument="min_records", value=0)
    refused("batch-records", lambda: check_batch_records(1.5, 10, 1), argument="min_records")
    refused("batch-records", lambda: check_batch_records(100, 99, 1), argument="max_records")
    refused("batch-records", lambda: check_batch_records(1, 10, 11), argument="records_per_file")
    refused("batch-records", lambda: check_batch_records(1, 10, True), argument="records_per_file")
    accepted(lambda: check_batch_records(100, 50_000, 19))


def test_batch_job_timeout() -> None:
    for hours in (23, 169, 24.5, None):
        refused(
            "batch-job-timeout",
            lambda hours=hours: check_batch_timeout("job_timeout_hours", hours),
            argument="job_timeout_hours",
        )
    assert accepted(lambda: check_batch_timeout("job_timeout_hours", 24)) == 24
    assert accepted(lambda: check_batch_timeout("job_timeout_hours", 168)) == 168
