"""Summarize last night's support tickets on Bedrock's Flex tier: nobody waits, so pay less.

``FanOut`` runs one prompt per ticket with ``service_tier="flex"``: Bedrock serves Flex requests
after Standard and Priority ones when it is busy, at a discount (Bedrock user guide, "Service
tiers for optimizing performance and cost"), which suits a batch that only has to be done by
morning. The tier travels in Converse's ``ServiceTier`` field, so the items call Converse (the
optimized ``bedrock:invokeModel`` integration cannot carry it); Nova Pro is one of the models AWS
sells in Flex. Slower answers are the trade: ``latency_seconds`` in the quota is set to 20 s, so
Little's law allows more items in flight for the same tokens per minute.

The quota: 100,000 tokens per minute, about 2,000 input tokens per ticket; Bedrock reserves the
input plus ``max_tokens`` (200) per call, so 100,000 / 2,200 = 45.5 calls a minute and
floor(45.5 / 60 x 20) = 15 in flight. A night holds at most 300 tickets (``bound()``).

Input: ``{"tickets": [{"id": ..., "text": ...}, ...]}``. Output: ``{"results": [{"item", "text",
"stopReason", "usage"}], "failures": [...]}``; ``lambdaless inspect`` prices the calls at Flex.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from lambdaless import FanOut, Inference, ModelQuota, Workflow
from lambdaless.analysis import bound

MAX_TICKETS = 300  # tickets per night (execution)


class FlexDigestStack(cdk.Stack):
    """One two-sentence summary per support ticket, on the Flex tier."""

    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        summaries = FanOut(
            self,
            "Summaries",
            items="{% $states.input.tickets %}",
            model="us.amazon.nova-pro-v1:0",
            service_tier="flex",
            system="Summarize the support ticket in two sentences: the problem, then the ask.",
            prompt="{% 'Ticket: ' & $states.input.text %}",
            inference=Inference(max_tokens=200, temperature=0.2),
            quota=ModelQuota(
                tokens_per_minute=100_000,
                input_tokens=2_000,
                latency_seconds=20,
            ),
        )
        self.workflow = Workflow(self, "Digest", definition=summaries)
        bound(self.workflow, "Summaries", MAX_TICKETS)
