"""Hardening fixtures: stacks that switch on what no example uses, checked like the examples."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from lambdaless import (
    BatchInference,
    BedrockModel,
    ChainPrompt,
    Converse,
    FanOut,
    Inference,
    InvokeBedrock,
    KnowledgeBaseSync,
    ModelCapacity,
    ModelQuota,
    PromptChain,
    Redrive,
    RetryPolicy,
    S3Items,
    S3Path,
    Workflow,
)


class EncryptedExpressStack(cdk.Stack):
    """An Express, JSONPath workflow encrypted with a customer-managed key."""

    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        key = kms.Key(self, "Key", enable_key_rotation=True, description="workflow data")
        ask = Converse(
            self,
            "Ask",
            model=BedrockModel.foundation_model("amazon.nova-lite-v1:0"),
            prompt="{% $states.input.question %}",
            retry=[RetryPolicy.converse_transient()],
        )
        invoke = InvokeBedrock(
            self,
            "Invoke",
            model="anthropic.claude-3-5-haiku-20241022-v1:0",
            prompt="{% $states.input.question %}",
            timeout=cdk.Duration.seconds(60),
            retry=[],
        )
        Workflow(
            self,
            "Encrypted",
            definition=ask.next(invoke),
            express=True,
            query_language=sfn.QueryLanguage.JSON_PATH,
            encryption_key=key,
        )


class RedrivenStack(cdk.Stack):
    """A Standard workflow with alarms notifying an encrypted topic, and redrive."""

    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        topic = sns.Topic(
            self,
            "Alarms",
            # A customer-managed key: CloudWatch cannot use an AWS-managed one (alias/aws/sns).
            master_key=kms.Key(self, "SnsKey", enable_key_rotation=True, description="alarms"),
            enforce_ssl=True,
        )
        ask = InvokeBedrock(
            self,
            "Ask",
            model=BedrockModel.cross_region_profile("eu.amazon.nova-pro-v1:0"),
            prompt="{% $states.input.question %}",
        )
        check = Converse(
            self,
            "Check",
            model="mistral.mistral-large-2407-v1:0",
            prompt="{% 'Check this answer: ' & $states.input.text %}",
        )
        self.workflow = Workflow(self, "Answer", definition=ask.next(check), alarm_topic=topic)
        self.redrive = Redrive(self, "Redrive", workflow=self.workflow, max_redrives=2)


class ResultsInS3Stack(cdk.Stack):
    """A Distributed FanOut writing its results to S3 (ResultWriter under a prefix)."""

    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        bucket = s3.Bucket(
            self,
            "Results",
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            server_access_logs_prefix="access-logs/",
        )
        fan = FanOut(
            self,
            "Summaries",
            prompt="{% 'Summarize: ' & $states.input.text %}",
            model="amazon.nova-lite-v1:0",
            inference=Inference(max_tokens=400),
            distributed=True,
            results_to=S3Path(bucket, "summaries/"),
            max_concurrency=20,
        )
        Workflow(self, "Summarize", definition=fan)


class BatchFromS3Stack(cdk.Stack):
    """BatchInference both ways: items read from a JSON Lines object (ItemReader, ItemBatcher)
    with a customer-managed key for the job's output, and items from the state."""

    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        bucket = s3.Bucket(
            self,
            "Work",
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            server_access_logs_prefix="access-logs/",
        )
        key = kms.Key(self, "Key", enable_key_rotation=True, description="batch output")
        model = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
        from_s3 = BatchInference(
            self,
            "Nightly",
            prompt="{% 'Summarize: ' & $states.input.text %}",
            model=model,
            work=S3Path(bucket, "nightly/"),
            item_reader=S3Items.jsonl(S3Path(bucket, "incoming/documents.jsonl")),
            kms_key=key,
        )
        Workflow(self, "FromS3", definition=from_s3, timeout=cdk.Duration.days(3))
        from_state = BatchInference(
            self,
            "Adhoc",
            prompt="{% 'Summarize: ' & $states.input %}",
            model=model,
            work=S3Path(bucket, "adhoc/"),
        )
        Workflow(self, "FromState", definition=from_state, timeout=cdk.Duration.days(3))


class CapacityUsersStack(cdk.Stack):
    """Every step and pattern that takes ``capacity=``, sharing one ``ModelCapacity``."""

    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        claude = "us.anthropic.claude-sonnet-4-20250514-v1:0"
        quota = ModelQuota(
            tokens_per_minute=200_000, input_tokens=1_000, output_tokens=200, latency_seconds=8
        )
        capacity = ModelCapacity(self, "Claude", model=claude, quota=quota)
        chain = PromptChain(
            self,
            "Chain",
            model=claude,
            prompts=[
                ChainPrompt("outline", "{% $states.input.topic %}"),
                ChainPrompt("draft", "{% $outline.text %}", converse=True),
            ],
            capacity=capacity,
        )
        check = InvokeBedrock(
            self, "Check", model=claude, prompt="{% $draft.text %}", capacity=capacity
        )
        Workflow(self, "Write", definition=chain.next(check))
        sync = KnowledgeBaseSync(
            self,
            "Sync",
            knowledge_base_id="KB12345678",
            data_source_id="DS12345678",
            question="{% $states.input.question %}",
            model=claude,
            capacity=capacity,
        )
        Workflow(self, "Refresh", definition=sync)


#: Stack name -> class, synthesized beside ``examples.app.EXAMPLES``.
FIXTURES: dict[str, type[cdk.Stack]] = {
    "HardeningEncryptedExpress": EncryptedExpressStack,
    "HardeningRedriven": RedrivenStack,
    "HardeningResultsInS3": ResultsInS3Stack,
    "HardeningCapacityUsers": CapacityUsersStack,
    "HardeningBatchInference": BatchFromS3Stack,
}
