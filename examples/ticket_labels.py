"""Label every support ticket closed today in one Bedrock batch job, at half the on-demand price.

Each night the support desk hands over the day's closed tickets, and by morning each should carry
a category, an urgency and a one-line summary for the weekly report. Nobody waits on it, so
``BatchInference`` runs the prompt on every ticket as one batch inference job: the batch rate is
half the on-demand token price for Claude Haiku 4.5 (here through its ``us.`` cross-Region
profile), and batch jobs do not draw on the on-demand quota the daytime workflows need (Bedrock
user guide, "Process multiple prompts with batch inference"). ``FlexDigest`` shows the
on-demand alternative for sets too small for a job.

A job needs at least the model's "Minimum number of records per batch inference job" (a Service
Quotas value per model; 100 by default, which this example keeps): a night with fewer tickets
fails at its start with ``BatchInference.TooFewRecords``, before anything is written, and should
go through ``FanOut`` instead. A job holds at most 50,000 records by default.

The run writes the tickets as JSONL records under ``tickets/input/<execution>/``, starts the
job, polls it with growing waits (60 s doubling to 15 minutes), reads Bedrock's ``.jsonl.out``
files from ``tickets/output/<execution>/<job id>/`` back into one answer per ticket, and writes
them to ``tickets/results/<execution>/``; a record Bedrock could not answer is listed with its
error, and the run fails (``BatchInference.RecordsLost``) unless answers + failures = tickets.

Input: ``{"tickets": [{"id", "product", "text"}, ...]}`` (at least 100). Output: ``{"jobArn",
"records", "results", "failures", "resultsAt", "manifest"}``.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from constructs import Construct

from lambdaless import BatchInference, Inference, S3Path, Workflow

MODEL = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
WORK_PREFIX = "tickets/"


class TicketLabelsStack(cdk.Stack):
    """A category, an urgency and a summary for each of the day's closed tickets, in batch."""

    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        self.bucket = s3.Bucket(
            self,
            "Work",
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            server_access_logs_prefix="access-logs/",
        )
        self.labels = BatchInference(
            self,
            "Labels",
            model=MODEL,
            items="{% $states.input.tickets %}",
            system=(
                "You label closed customer support tickets. Answer in one line: the category "
                "(billing, bug, account, shipping or other), the urgency (low, normal or high) "
                "and a one-sentence summary, separated by ' | '."
            ),
            prompt="{% 'Ticket ' & $states.input.id & ' (' & $states.input.product & '): ' "
            "& $states.input.text %}",
            inference=Inference(max_tokens=200, temperature=0.0),
            work=S3Path(self.bucket, WORK_PREFIX),
        )
        # The job may run 24 hours (its timeout) and is polled for an hour after that.
        self.workflow = Workflow(
            self, "Nightly", definition=self.labels, timeout=cdk.Duration.hours(26)
        )
