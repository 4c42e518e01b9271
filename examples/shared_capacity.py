"""Two workflows, one model quota: review triage and a review digest share Claude's capacity.

A Bedrock quota is the account's, per model and Region, so two workflows calling Claude Sonnet 4
(and any number of executions of each) draw on the same tokens per minute. One
``ModelCapacity`` holds that quota: 200,000 cross-Region tokens a minute at about 8 s a call,
so 200,000 / 60 x 8 = 26,666 quota tokens may be in flight. ``Triage`` (a ``FanOut``) takes
max(1,000 + 5, 1,000 + 5 x 5) = 1,025 per review (``max_tokens`` 5; output burns 5x);
``Digest`` (one ``InvokeBedrock`` with ``capacity=``) takes max(1,000 + 300,
1,000 + 5 x 200) = 2,000. Each call acquires its share before it starts and gives it back after,
on success or error; a full capacity makes callers wait (a retried ``ConditionalCheckFailed``
in their history). An execution that dies holding a share is released by the capacity's
``Reclaim`` workflow (EventBridge on failed, timed-out and aborted executions, and a sweep of
expired leases).

Input of both workflows: ``{"reviews": [{"id": ..., "text": ...}, ...]}``, at most 50 reviews a
batch, declared with ``bound()`` so the limits lint sizes Triage's history (each review can take
up to 373 events while it waits for capacity and retries) and its answers for 50 items.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from lambdaless import (
    FanOut,
    Inference,
    InvokeBedrock,
    ModelCapacity,
    ModelQuota,
    Workflow,
)
from lambdaless.analysis import bound

CLAUDE = "us.anthropic.claude-sonnet-4-20250514-v1:0"
MAX_REVIEWS = 50


class SharedCapacityStack(cdk.Stack):
    """Triage and Digest, two workflows sharing one ``ModelCapacity`` for Claude Sonnet 4."""

    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        quota = ModelQuota(
            tokens_per_minute=200_000, input_tokens=1_000, output_tokens=200, latency_seconds=8
        )
        self.capacity = ModelCapacity(self, "Claude", model=CLAUDE, quota=quota)
        classify = FanOut(
            self,
            "Classify",
            items="{% $states.input.reviews %}",
            model=CLAUDE,
            system="Answer with one word: positive, negative or mixed.",
            prompt="{% 'Review: ' & $states.input.text %}",
            inference=Inference(max_tokens=5, temperature=0.0),
            quota=quota,
            capacity=self.capacity,
        )
        self.triage = Workflow(self, "Triage", definition=classify)
        bound(self.triage, "Classify", MAX_REVIEWS)
        summarize = InvokeBedrock(
            self,
            "Summarize",
            model=CLAUDE,
            prompt="{% 'Summarize these reviews in two sentences: ' & "
            "$join($states.input.reviews.text, '\\n') %}",
            inference=Inference(max_tokens=300),
            capacity=self.capacity,  # the step stands for acquire -> call -> release
        )
        self.digest = Workflow(self, "Digest", definition=summarize)
