"""Re-ingest a knowledge base's data source, then check it answers from the new documents.

``KnowledgeBaseSync`` starts the ingestion job and polls it with growing waits (15 s doubling
to 5 min), at most 40 polls: about 3 hours of waiting (10,965 s), and in the worst case 876
history events, far under the 25,000 of a Standard execution. Once COMPLETE it asks a
smoke-test question with RetrieveAndGenerate.

Input: none. Output: ``{"text", "citations", "sessionId"}``.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from lambdaless import KnowledgeBaseSync, Workflow


class KnowledgeBaseRefreshStack(cdk.Stack):
    """Sync the docs data source, then ask the knowledge base one question."""

    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        sync = KnowledgeBaseSync(
            self,
            "Refresh",
            knowledge_base_id="KBDOCS0001",
            data_source_id="DSDOCS0001",
            initial_wait=cdk.Duration.seconds(15),
            max_wait=cdk.Duration.minutes(5),
            max_polls=40,
            question="What changed in the latest release notes?",
            model="us.amazon.nova-pro-v1:0",
        )
        self.workflow = Workflow(
            self, "KnowledgeBase", definition=sync, timeout=cdk.Duration.hours(4)
        )
