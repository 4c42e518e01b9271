"""Enrich a record from a REST API, summarize it with Bedrock, post the summary to a webhook.

1. ``FetchCustomer``: GET ``/v2/customers/<id>`` from the CRM (API key from Secrets Manager).
   A 404 goes to ``CustomerNotFound``; 429, 502, 503, 504 and socket errors are retried with
   backoff and full jitter before anything else happens.
2. ``Summarize``: Nova Lite (US cross-region profile) writes three sentences about the record.
3. ``PostSummary``: POST ``{"text": ...}`` to a chat webhook that authenticates by header.
   (Slack's own incoming webhooks carry their secret in the URL path, which would put it in the
   template and in the IAM condition; use a webhook that takes its credential in a header.)

Before deploying, create the two secrets::

    aws secretsmanager create-secret --name lambdaless/examples/crm-api-key --secret-string ...
    aws secretsmanager create-secret --name lambdaless/examples/webhook-token --secret-string ...

Input: ``{"customerId": "c-123"}``. Output: the webhook call's ``{"statusCode", "headers",
"body"}``, or ``{"found": false, "customerId"}`` when the CRM has no such customer.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from lambdaless import BedrockModel, CallHttpApi, HttpAuth, Inference, InvokeBedrock, Workflow

CRM = "https://crm.example.com/v2"
WEBHOOK = "https://chat.example.com/hooks"
MODEL = BedrockModel.cross_region_profile("us.amazon.nova-lite-v1:0")


class EnrichAndSummarizeStack(cdk.Stack):
    """CRM record -> Bedrock summary -> chat webhook, with a not-found branch."""

    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        not_found = sfn.Succeed.jsonata(
            self,
            "CustomerNotFound",
            outputs={
                "found": False,
                "customerId": "{% $states.context.Execution.Input.customerId %}",
            },
        )
        fetch = CallHttpApi(
            self,
            "FetchCustomer",
            base_url=CRM,
            path="{% 'customers/' & $encodeUrlComponent($states.input.customerId) %}",
            auth=HttpAuth.api_key(
                header_name="x-api-key",
                value=cdk.SecretValue.secrets_manager("lambdaless/examples/crm-api-key"),
            ),
            on_status={404: not_found},
            comment="404 -> CustomerNotFound; 429 and 5xx gateway errors are retried",
        )
        summarize = InvokeBedrock(
            self,
            "Summarize",
            model=MODEL,
            system="You write short, factual account summaries for a sales team.",
            prompt=(
                "{% 'Summarize this customer record in three sentences:\\n\\n' & "
                "$string($states.input.body) %}"
            ),
            inference=Inference(max_tokens=300, temperature=0.2),
        )
        post = CallHttpApi(
            self,
            "PostSummary",
            base_url=WEBHOOK,
            method="POST",
            path="/summaries",
            body={"text": "{% $states.input.text %}"},
            auth=HttpAuth.api_key(
                header_name="Authorization",
                value=cdk.SecretValue.secrets_manager("lambdaless/examples/webhook-token"),
            ),
        )
        self.workflow = Workflow(
            self, "EnrichAndSummarize", definition=fetch.next(summarize).next(post)
        )
