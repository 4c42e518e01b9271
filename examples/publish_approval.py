"""Draft a press release, then publish it only after an editor approves it.

The draft goes to the editors' SNS topic with the task token and how to answer; the workflow
waits up to two days (an editor's tool sends a heartbeat at least every 12 hours). The editor
approves with ``SendTaskSuccess`` (the workflow goes straight on to publish: one transition for
the one call) or rejects with ``SendTaskFailure`` and the error ``Approval.Rejected``, the reason
as its cause. A rejection or silence ends in a Fail state that says which.

Input: ``{"topic": "..."}``. Output: the approved draft's uniform answer.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_sns as sns
from constructs import Construct

from lambdaless import ApprovalChannel, HumanApproval, InvokeBedrock, Workflow
from lambdaless.patterns.approval import HOW_TO_ANSWER


class PublishApprovalStack(cdk.Stack):
    """Draft, ask an editor, then publish or stop."""

    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        editors = sns.Topic(self, "Editors", enforce_ssl=True)
        draft = InvokeBedrock(
            self,
            "Draft",
            model="us.amazon.nova-pro-v1:0",
            prompt="{% 'Write a three-sentence press release about: ' & $states.input.topic %}",
        )
        approval = HumanApproval(
            self,
            "EditorReview",
            channel=ApprovalChannel.sns_topic(editors),
            timeout=cdk.Duration.days(2),
            heartbeat=cdk.Duration.hours(12),
            message={
                "taskToken": "{% $states.context.Task.Token %}",
                "answer": {
                    **HOW_TO_ANSWER,
                    "heartbeat": "SendTaskHeartbeat with this taskToken at least every 12 hours",
                },
                "draft": "{% $states.input.text %}",
            },
        )
        # The approved draft is the execution's output: no Succeed state after the approval, as
        # every state entered is a billed transition (approval: one transition, one call).
        self.workflow = Workflow(
            self,
            "Release",
            definition=draft.next(approval),
            timeout=cdk.Duration.days(3),
        )
