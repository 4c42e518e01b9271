"""Rules of Amazon Bedrock batch inference (``BatchInference``). No CDK import."""

from __future__ import annotations

from typing import Any

from lambdaless.limits import (
    BATCH_TIMEOUT_HOURS_MAX,
    BATCH_TIMEOUT_HOURS_MIN,
    DISTRIBUTED_MAP_MAX_ITEMS,
)
from lambdaless.rules._rule import Rule

_GUIDE = "https://docs.aws.amazon.com/bedrock/latest/userguide/"

BATCH_MODEL = Rule(
    "batch-model",
    "batch inference with a provisioned model, which batch inference does not support, or with "
    "a model whose InvokeModel body lambdaless does not write (no known family)",
    # "Batch inference isn't supported for provisioned models."; the modelInput of each record
    # is the model's InvokeModel body ("batch-inference-data").
    _GUIDE + "batch-inference.html",
    "construct",
)
BATCH_RECORDS = Rule(
    "batch-records",
    "min_records/max_records/records_per_file that are not whole numbers with 1 <= min_records "
    "<= max_records and 1 <= records_per_file <= max_records (the job's record quotas), or, "
    "items read from S3, a max_records + 1 above the ItemReader's MaxItems limit",
    _GUIDE + "batch-inference-data.html",
    "construct",
)
BATCH_TIMEOUT = Rule(
    "batch-job-timeout",
    f"a batch job timeout that is not a whole number of hours from {BATCH_TIMEOUT_HOURS_MIN} to "
    f"{BATCH_TIMEOUT_HOURS_MAX} (CreateModelInvocationJob timeoutDurationInHours)",
    "https://docs.aws.amazon.com/bedrock/latest/APIReference/API_CreateModelInvocationJob.html",
    "construct",
)

RULES: tuple[Rule, ...] = (BATCH_MODEL, BATCH_RECORDS, BATCH_TIMEOUT)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_batch_model(argument: str, identifier: str, *, provisioned: bool, family: Any) -> None:
    """Refuse a provisioned model, and a model without a native InvokeModel body family."""
    BATCH_MODEL.require(
        not provisioned,
        argument,
        identifier,
        "a foundation model or an inference profile: batch inference does not run on "
        "provisioned models",
    )
    BATCH_MODEL.require(
        family is not None,
        argument,
        identifier,
        "a model of a family whose InvokeModel body lambdaless writes (Anthropic, Nova, Titan, "
        "Llama, Mistral, Cohere, OpenAI-style chat)",
    )


def check_batch_records(
    min_records: Any, max_records: Any, records_per_file: Any, *, from_s3: bool = False
) -> None:
    """The record bounds: whole numbers, ``1 <= min_records <= max_records`` and
    ``1 <= records_per_file <= max_records``; items ``from_s3`` are read up to
    ``max_records + 1`` (ReaderConfig ``MaxItems``, at most 100,000,000: "ItemReader (Map)")."""
    BATCH_RECORDS.require(
        _whole(min_records) and min_records >= 1,
        "min_records",
        min_records,
        "a whole number >= 1: your account's 'Minimum number of records per batch inference "
        "job' quota for the model",
    )
    BATCH_RECORDS.require(
        _whole(max_records) and max_records >= min_records,
        "max_records",
        max_records,
        f"a whole number >= min_records ({min_records}): your account's 'Records per batch "
        "inference job' quota for the model",
    )
    BATCH_RECORDS.require(
        not from_s3 or max_records < DISTRIBUTED_MAP_MAX_ITEMS,
        "max_records",
        max_records,
        f"at most {DISTRIBUTED_MAP_MAX_ITEMS - 1:,} with item_reader=: the ItemReader reads "
        f"max_records + 1 items to tell there are too many, and reads at most "
        f"{DISTRIBUTED_MAP_MAX_ITEMS:,} (ReaderConfig MaxItems)",
    )
    BATCH_RECORDS.require(
        _whole(records_per_file) and 1 <= records_per_file <= max_records,
        "records_per_file",
        records_per_file,
        f"a whole number from 1 to max_records ({max_records})",
    )


def check_batch_timeout(argument: str, hours: Any) -> int:
    """``hours`` as a whole number of hours from 24 to 168."""
    BATCH_TIMEOUT.require(
        _whole(hours) and BATCH_TIMEOUT_HOURS_MIN <= hours <= BATCH_TIMEOUT_HOURS_MAX,
        argument,
        hours,
        f"a whole number of hours from {BATCH_TIMEOUT_HOURS_MIN} to {BATCH_TIMEOUT_HOURS_MAX}",
    )
    return int(hours)
