"""A document summarizer on a cross-region Claude inference profile.

Claude (through the ``us.`` profile, so a burst spreads over the US regions) summarizes the
document. When throttling outlasts its retries, a smaller model on its own profile answers
instead. A request Bedrock refuses for good (validation, access, unknown model) ends in a Fail
state that keeps the error and its cause. A fallback that stays throttled too fails at its own
Task, not in the Fail state: a redrive (``lambdaless.Redrive``) resumes at the failed step, and
would only re-enter a Fail state and fail again (AWS docs, "Redriving executions").

It deploys with a canary: each change of the definition (a reworded prompt, another model)
publishes a new version, and the alias ``live`` sends 10% of new executions to it for 10
minutes before the rest, going back to the previous version if the workflow's failed,
timed-out or aborted alarm fires. Start executions with the alias ARN
(``workflow.rollout.alias_arn``).

Input: ``{"document": "..."}``. Output: ``{"text", "stopReason", "usage", "model"}``.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from lambdaless import BedrockModel, Deployment, Inference, InvokeBedrock, Workflow

PRIMARY = BedrockModel.cross_region_profile("us.anthropic.claude-sonnet-4-5-20250929-v1:0")
FALLBACK = BedrockModel.cross_region_profile("us.amazon.nova-lite-v1:0")
PROMPT = "{% 'Summarize this document in five bullet points:\\n\\n' & $states.input.document %}"
SYSTEM = "You summarize documents for busy readers. Keep facts; drop filler."


class DocumentSummarizerStack(cdk.Stack):
    """Summarize a document, falling back to a second model when the first stays throttled."""

    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        inference = Inference(max_tokens=800, temperature=0.2)
        summarize = InvokeBedrock(
            self,
            "Summarize",
            model=PRIMARY,
            prompt=PROMPT,
            system=SYSTEM,
            inference=inference,
            comment="Claude through the US cross-region profile",
        )
        fallback = InvokeBedrock(
            self,
            "SummarizeWithFallback",
            model=FALLBACK,
            prompt=PROMPT,
            system=SYSTEM,
            inference=inference,
            comment="Nova Lite when Claude stays throttled",
        )
        failed = sfn.Fail(
            self,
            "SummaryFailed",
            error="{% $states.input.Error %}",
            cause="{% $states.input.Cause %}",
        )
        # The fallback sees the original input again, not the error.
        summarize.add_catch(
            fallback, errors=InvokeBedrock.TRANSIENT_ERRORS, outputs="{% $states.input %}"
        )
        summarize.add_catch(failed, errors=InvokeBedrock.PERMANENT_ERRORS)
        # Transient errors are left uncaught here: the execution fails at the fallback Task,
        # which a redrive retries; a Fail state re-raising them could never be redriven.
        fallback.add_catch(failed, errors=InvokeBedrock.PERMANENT_ERRORS)
        # Both model steps end the workflow: no Succeed state, so the happy path costs exactly
        # one state transition per model call.
        self.workflow = Workflow(
            self,
            "Summarizer",
            definition=summarize,
            deployment=Deployment.canary(percent=10, interval=cdk.Duration.minutes(10)),
        )
