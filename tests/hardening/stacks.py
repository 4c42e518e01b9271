"""Hardening fixtures: stacks that switch on what no example uses, checked like the examples."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from lambdaless import BedrockModel, Converse, InvokeBedrock, RetryPolicy, Workflow


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


#: Stack name -> class, synthesized beside ``examples.app.EXAMPLES``.
FIXTURES: dict[str, type[cdk.Stack]] = {
    "HardeningEncryptedExpress": EncryptedExpressStack,
}
