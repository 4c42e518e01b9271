"""Triage many customer reviews in parallel, as fast as the model's quota allows, losing none.

``FanOut`` runs one prompt per review. Its concurrency comes from the quota: 400 requests and
200,000 tokens per minute, about 1,500 input tokens and 6 s per review. Bedrock reserves the
input plus the step's ``max_tokens`` (5) per call, so the tokens allow 200,000 / 1,505 = 132.9
reviews a minute and Little's law gives floor(132.9 / 60 x 6) = 13 in flight. A review the
model refuses lands in ``failures`` with its error; the others in ``results``.

A batch holds at most 500 reviews, declared with ``bound()`` so the limits lint sizes the worst
case with it: 500 x 33 history events stay under Standard's 25,000, and 500 five-token answers
far under the 256 KiB state output. Split larger sets, or use a Distributed Map
(``FanOut(distributed=True, results_to=...)``).

Input: ``{"reviews": [{"id": ..., "text": ...}, ...]}`` (at most 500).
Output: ``{"results": [{"item", "text", "stopReason", "usage"}], "failures": [{"ok": false,
"item", "error", "cause"}]}``.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from lambdaless import FanOut, Inference, ModelQuota, Workflow
from lambdaless.analysis import bound

MAX_REVIEWS = 500  # reviews per batch (execution)


class ReviewFanOutStack(cdk.Stack):
    """Classify each review as positive, negative or mixed, at a quota-derived concurrency."""

    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        triage = FanOut(
            self,
            "Triage",
            items="{% $states.input.reviews %}",
            model="us.amazon.nova-lite-v1:0",
            system="Answer with one word: positive, negative or mixed.",
            prompt="{% 'Review: ' & $states.input.text %}",
            inference=Inference(max_tokens=5, temperature=0.0),
            quota=ModelQuota(
                requests_per_minute=400,
                tokens_per_minute=200_000,
                input_tokens=1_500,
                latency_seconds=6,
            ),
        )
        self.workflow = Workflow(self, "Reviews", definition=triage)
        bound(self.workflow, "Triage", MAX_REVIEWS)
