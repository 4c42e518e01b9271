"""Ten thousand documents in one execution: a Distributed Map over a JSON Lines object in S3.

``FanOut`` reads the items with the Distributed Map's ItemReader (``input/documents.jsonl``, one
``{"id", "text"}`` per line, at most ``MAX_DOCUMENTS``), summarizes each in a child execution and
writes every child's output to S3 with the ResultWriter (``results/<Map Run id>/manifest.json``
and the ``SUCCEEDED_<n>.json`` / ``FAILED_<n>.json`` files it lists; AWS docs,
"input-output-resultwriter"). The parent execution's history does not grow with the items: each
child keeps its own (AWS docs, "state-map-distributed").

Concurrency comes from the quota: Claude Haiku 4.5 through its ``us.`` profile, at an account
quota of 400,000 tokens and 800 requests a minute (cross-Region; an example figure, not AWS's
default: read yours in Service Quotas), about 800 input and 150 output tokens a document,
``max_tokens`` 300 and 4 s a call. The reservation is 800 + 300 = 1,100 tokens; the settlement
is 800 + 5 x 150 = 1,550 (Claude 4 models burn output tokens at 5x, Bedrock user guide,
"quotas-token-burndown"), so the tokens allow 258 calls a minute and Little's law 17 children
in flight.

No document is lost: an error the step catches (a refused prompt, retries exhausted) is kept
as a ``{"ok": false, "item", "error", "cause"}`` record among the succeeded children; a child that
fails uncaught lands in a ``FAILED_<n>.json`` file, and up to ``TOLERATED_FAILURE_PERCENT`` of
them do not fail the run. The workflow's output names the manifest, which lists every file.

Input: ``{}`` (the object is fixed by the stack). Output: ``{"MapRunArn", "ResultWriterDetails":
{"Bucket", "Key"}}``.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from constructs import Construct

from lambdaless import FanOut, Inference, ModelQuota, S3Items, S3Path, Workflow

MODEL = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
MAX_DOCUMENTS = 10_000
TOLERATED_FAILURE_PERCENT = 1
QUOTA = ModelQuota(
    tokens_per_minute=400_000,
    requests_per_minute=800,
    input_tokens=800,
    output_tokens=150,
    latency_seconds=4,
)
INPUT_KEY = "input/documents.jsonl"
RESULTS_PREFIX = "results/"


class DocumentsAtScaleStack(cdk.Stack):
    """Summarize up to 10,000 documents from S3 into S3, at a quota-derived concurrency."""

    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        self.bucket = s3.Bucket(
            self,
            "Documents",
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            server_access_logs_prefix="access-logs/",
        )
        self.fan_out = FanOut(
            self,
            "Summaries",
            item_reader=S3Items.jsonl(S3Path(self.bucket, INPUT_KEY), max_items=MAX_DOCUMENTS),
            results_to=S3Path(self.bucket, RESULTS_PREFIX),
            model=MODEL,
            system="Summarize the document in two sentences.",
            prompt="{% $states.input.text %}",
            inference=Inference(max_tokens=300),
            quota=QUOTA,
            tolerated_failure_percentage=TOLERATED_FAILURE_PERCENT,
        )
        self.workflow = Workflow(
            self, "Summarize", definition=self.fan_out, timeout=cdk.Duration.hours(12)
        )
