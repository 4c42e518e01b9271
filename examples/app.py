"""The CDK app of the examples: ``cdk synth`` runs ``python -m examples.app``."""

from __future__ import annotations

import aws_cdk as cdk

from examples.article_chain import ArticleChainStack
from examples.documents_at_scale import DocumentsAtScaleStack
from examples.enrich_summarize import EnrichAndSummarizeStack
from examples.fine_tune import FineTuneStack
from examples.flex_digest import FlexDigestStack
from examples.http_auth_flow import HttpAuthFlowStack
from examples.knowledge_base_refresh import KnowledgeBaseRefreshStack
from examples.publish_approval import PublishApprovalStack
from examples.review_fan_out import ReviewFanOutStack
from examples.shared_capacity import SharedCapacityStack
from examples.summarizer import DocumentSummarizerStack
from examples.ticket_labels import TicketLabelsStack

#: Stack name -> stack class. Each example has a mock file ``examples/mocks/<name>.json``, a
#: sample input ``<name>.input.json`` and, when it reads S3, its S3 seeds ``<name>.s3.json``.
EXAMPLES: dict[str, type[cdk.Stack]] = {
    "DocumentSummarizer": DocumentSummarizerStack,
    "EnrichAndSummarize": EnrichAndSummarizeStack,
    "HttpAuthFlow": HttpAuthFlowStack,
    "ArticleChain": ArticleChainStack,
    "ReviewFanOut": ReviewFanOutStack,
    "PublishApproval": PublishApprovalStack,
    "KnowledgeBaseRefresh": KnowledgeBaseRefreshStack,
    "FineTune": FineTuneStack,
    "SharedCapacity": SharedCapacityStack,
    "FlexDigest": FlexDigestStack,
    "TicketLabels": TicketLabelsStack,
    "DocumentsAtScale": DocumentsAtScaleStack,
}


def build(app: cdk.App) -> list[cdk.Stack]:
    """Add every example stack to ``app``."""
    return [stack_class(app, name) for name, stack_class in EXAMPLES.items()]


if __name__ == "__main__":
    app = cdk.App()
    build(app)
    app.synth()
