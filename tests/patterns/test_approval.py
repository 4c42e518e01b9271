"""HumanApproval: snapshot, IAM per channel, validation, and local runs of every route."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from syrupy.assertion import SnapshotAssertion

from lambdaless import ApprovalChannel, HumanApproval, LambdalessError, Workflow
from lambdaless.patterns.approval import REJECTED_ERROR
from lambdaless.testing import LocalRunner, mocks

Asl = Callable[[cdk.Stack], dict[str, Any]]


def _approval(stack: cdk.Stack, channel: ApprovalChannel, **options: Any) -> HumanApproval:
    approval = HumanApproval(
        stack,
        "Review",
        channel=channel,
        timeout=cdk.Duration.hours(24),
        heartbeat=cdk.Duration.hours(1),
        **options,
    )
    # a day-long wait needs a workflow that outlives it (rule timeout-beyond-workflow)
    Workflow(
        stack,
        "W",
        definition=approval.next(sfn.Succeed(stack, "Publish")),
        timeout=cdk.Duration.days(2),
    )
    return approval


def _sns(stack: cdk.Stack) -> HumanApproval:
    return _approval(stack, ApprovalChannel.sns_topic(sns.Topic(stack, "Topic")))


def test_snapshot(stack: cdk.Stack, asl: Asl, snapshot_json: SnapshotAssertion) -> None:
    _sns(stack)
    definition = asl(stack)
    assert definition == snapshot_json
    request = definition["States"]["ReviewRequest"]
    assert request["Resource"].endswith(":states:::sns:publish.waitForTaskToken")
    assert (request["TimeoutSeconds"], request["HeartbeatSeconds"]) == (86_400, 3_600)


@pytest.mark.parametrize("kind", ["sns", "sqs", "events"])
def test_iam_per_channel(stack: cdk.Stack, asl: Asl, sm_statements: Any, kind: str) -> None:
    key = kms.Key(stack, "Key")
    channel = {
        "sns": lambda: ApprovalChannel.sns_topic(sns.Topic(stack, "T", master_key=key)),
        "sqs": lambda: ApprovalChannel.sqs_queue(
            sqs.Queue(stack, "Q", encryption=sqs.QueueEncryption.KMS, encryption_master_key=key)
        ),
        "events": lambda: ApprovalChannel.event_bridge(events.EventBus(stack, "E")),
    }[kind]()
    _approval(stack, channel)
    actions = [s["Action"] for s in sm_statements(stack)]
    expected = {
        "sns": ["sns:Publish", ["kms:GenerateDataKey", "kms:Decrypt"]],
        "sqs": ["sqs:SendMessage", ["kms:GenerateDataKey", "kms:Decrypt"]],
        "events": ["events:PutEvents"],
    }[kind]
    assert actions == expected
    resource = asl(stack)["States"]["ReviewRequest"]["Resource"]
    suffix = {
        "sns": "sns:publish",
        "sqs": "sqs:sendMessage",
        "events": "events:putEvents",
    }[kind]
    assert resource.endswith(f":states:::{suffix}.waitForTaskToken")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"heartbeat": cdk.Duration.hours(24)}, "less than timeout"),
        ({"timeout": cdk.Duration.millis(1500)}, "whole number of seconds"),
        ({"message": {"text": "please approve"}}, "token inside an expression"),
    ],
)
def test_bad_options_are_refused(stack: cdk.Stack, options: dict[str, Any], message: str) -> None:
    arguments = {"timeout": cdk.Duration.hours(24), **options}
    with pytest.raises(LambdalessError, match=message):
        HumanApproval(
            stack, "R", channel=ApprovalChannel.sns_topic(sns.Topic(stack, "T")), **arguments
        )


def test_event_source_cannot_be_aws(stack: cdk.Stack) -> None:
    with pytest.raises(LambdalessError, match="reserved"):
        ApprovalChannel.event_bridge(events.EventBus(stack, "E"), source="aws.reviews")


# -- local runs ---------------------------------------------------------------------------------


def test_local_approved_continues_with_the_input(stack: cdk.Stack) -> None:
    """SendTaskSuccess goes straight on: one transition for the one call, no Choice."""
    _sns(stack)
    result = LocalRunner(stack).run(
        input={"doc": "x"}, task_tokens={"ReviewRequest": ("success", {"reviewer": "ana"})}
    )
    assert result.status == "SUCCEEDED"
    assert result.output == {"doc": "x"}
    assert result.states == ["ReviewRequest", "Publish"]
    call = result.calls_to("ReviewRequest")[0]
    assert call.task_token is not None
    message = json.loads(call.arguments["Message"])
    assert message["taskToken"] == call.task_token
    assert message["answer"]["reject"].startswith("SendTaskFailure")
    assert REJECTED_ERROR in message["answer"]["reject"]
    assert "every 3600 s" in message["answer"]["heartbeat"]


def test_local_rejected_by_send_task_failure(stack: cdk.Stack) -> None:
    _sns(stack)
    result = LocalRunner(stack).run(
        input={"doc": "x"},
        task_tokens={"ReviewRequest": ("failure", REJECTED_ERROR, "Too vague")},
    )
    # The documented rejection error reaches the execution as the approver sent it.
    assert (result.status, result.states, result.error, result.cause) == (
        "FAILED",
        ["ReviewRequest", "ReviewRejected"],
        REJECTED_ERROR,
        "Too vague",
    )


def test_local_any_send_task_failure_is_a_rejection(stack: cdk.Stack) -> None:
    _sns(stack)
    result = LocalRunner(stack).run(
        input={"doc": "x"},
        task_tokens={"ReviewRequest": ("failure", "Editor.Rejected", "Off-brand")},
    )
    assert (result.status, result.states[-1], result.error, result.cause) == (
        "FAILED",
        "ReviewRejected",
        "Editor.Rejected",
        "Off-brand",
    )


def test_local_failure_without_cause_says_rejected(stack: cdk.Stack) -> None:
    _sns(stack)
    result = LocalRunner(stack).run(
        input={"doc": "x"}, task_tokens={"ReviewRequest": ("failure", REJECTED_ERROR, "")}
    )
    assert (result.status, result.error, result.cause) == ("FAILED", REJECTED_ERROR, "rejected")


def test_local_old_decision_shape_approved_false_never_publishes(stack: cdk.Stack) -> None:
    """A success saying ``"approved": false`` fails the request's Assign with ``$error()``:
    ``States.QueryEvaluationError``, caught by the ``States.ALL`` Catch into ``ReviewRejected``,
    which reports it as the rejection error (a ``States.*`` name is not the approver's)."""
    _sns(stack)
    result = LocalRunner(stack).run(
        input={"doc": "x"},
        task_tokens={"ReviewRequest": ("success", {"approved": False, "comment": "Too vague"})},
    )
    assert (result.status, result.states, result.error) == (
        "FAILED",
        ["ReviewRequest", "ReviewRejected"],
        REJECTED_ERROR,
    )
    assert "the approver answered approved: false, Too vague" in str(result.cause)


def test_local_throttled_publish_goes_to_rejection_route(stack: cdk.Stack) -> None:
    """No retrier on the request (a retried publish would send a second token): a failed
    publish ends in the rejection route, with its error kept in the decision and reported."""
    _sns(stack)
    result = LocalRunner(stack).run(
        input={"doc": "x"},
        responses={"ReviewRequest": mocks.failure("SNS.ThrottledException", "Rate exceeded")},
    )
    assert (result.status, result.error, result.cause) == (
        "FAILED",
        "SNS.ThrottledException",
        "Rate exceeded",
    )


def test_local_timeout_route(stack: cdk.Stack) -> None:
    _sns(stack)
    result = LocalRunner(stack).run(
        input={"doc": "x"}, responses={"ReviewRequest": mocks.failure("States.Timeout", "")}
    )
    assert (result.status, result.error) == ("FAILED", "ApprovalTimedOut")
