"""``HumanApproval``: pause for a person's decision through a task token sent by SNS, SQS or
EventBridge, with a timeout, a heartbeat, and routes for approve, reject and timeout.

How the approver answers (the default message says so in its ``answer`` field,
:data:`HOW_TO_ANSWER`):

* approve: ``SendTaskSuccess(taskToken, output)`` with any JSON ``output`` (who approved, a
  note...). The wait task succeeds and the workflow continues straight on: no Choice state, so
  the approved path costs one state transition for its one service call.
* reject: ``SendTaskFailure(taskToken, error="Approval.Rejected", cause=<the reason>)``. The wait
  task fails with that error and its Catch routes to ``on_rejected``. Any other error name a
  ``SendTaskFailure`` carries, and a request that could not be sent, also end there: only a
  success approves.
* a ``SendTaskSuccess`` whose output says ``"approved": false`` (the shape of a decision field)
  is refused too: the task's ``Assign`` raises ``$error()`` (``States.QueryEvaluationError``,
  caught by the same ``States.ALL`` Catch), so such an answer rejects instead of approving.

``SendTaskSuccess``/``SendTaskFailure``/``SendTaskHeartbeat`` and the ``error``/``cause`` a
failure reports to the waiting task: AWS docs, "Wait for a Callback with Task Token" and the
Step Functions API reference (``SendTaskFailure``). A ``.waitForTaskToken`` task fails with
``States.Timeout`` after ``TimeoutSeconds`` and ``States.HeartbeatTimeout`` after
``HeartbeatSeconds`` without a heartbeat (AWS docs, "Handling errors in Step Functions
workflows"); both route to ``on_timed_out``.

The message carries ``$states.context.Task.Token`` (AWS docs, "Wait for a Callback with Task
Token"). SNS ``Publish``, SQS ``SendMessage`` and EventBridge ``PutEvents`` all support the
``.waitForTaskToken`` pattern (AWS docs, "Integrating optimized services with Step Functions").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from lambdaless._errors import at_path, require
from lambdaless.limits import STANDARD_MAX_SECONDS
from lambdaless.patterns._common import partition, variable_prefix
from lambdaless.prompts import is_expression
from lambdaless.rules.expressions import check_value
from lambdaless.rules.integrations import check_approval_message, check_message_group_id
from lambdaless.rules.retries import HEARTBEAT, whole_seconds
from lambdaless.steps._task import DirectTask

#: Errors that end the wait without a decision (AWS docs, "Handling errors in Step Functions
#: workflows": TimeoutSeconds -> States.Timeout, HeartbeatSeconds -> States.HeartbeatTimeout).
TIMEOUT_ERRORS = ("States.Timeout", "States.HeartbeatTimeout")
#: The error name an approver's ``SendTaskFailure`` gives to reject (the ``cause`` is the reason).
REJECTED_ERROR = "Approval.Rejected"
#: How to answer, as the default message tells the approver (add it to a custom ``message``).
HOW_TO_ANSWER = {
    "approve": "SendTaskSuccess with this taskToken; output: any JSON object (e.g. the reviewer)",
    "reject": (f"SendTaskFailure with this taskToken, error '{REJECTED_ERROR}', cause: the reason"),
}
#: What the approval request carries by default: the token, how to answer, the execution and
#: its input.
DEFAULT_MESSAGE = {
    "taskToken": "{% $states.context.Task.Token %}",
    "answer": HOW_TO_ANSWER,
    "execution": "{% $states.context.Execution.Id %}",
    "input": "{% $states.input %}",
}


@dataclass(frozen=True)
class ApprovalChannel:
    """Where the approval request goes. Build one with a classmethod."""

    kind: Literal["sns", "sqs", "events"]
    topic: sns.ITopic | None = None
    queue: sqs.IQueue | None = None
    message_group_id: str | None = None
    event_bus: events.IEventBus | None = None
    source: str = "lambdaless.approval"
    detail_type: str = "ApprovalRequested"

    @classmethod
    def sns_topic(cls, topic: sns.ITopic) -> ApprovalChannel:
        """Publish the request to an SNS topic (e-mail, chat, a ticketing hook...)."""
        require(hasattr(topic, "topic_arn"), "topic", topic, "an aws_sns.ITopic")
        return cls("sns", topic=topic)

    @classmethod
    def sqs_queue(
        cls, queue: sqs.IQueue, *, message_group_id: str | None = None
    ) -> ApprovalChannel:
        """Send the request to an SQS queue that a review tool consumes.

        Args:
            queue: the queue.
            message_group_id: the ``MessageGroupId`` (text or a ``{% %}`` expression), which a
                FIFO queue requires; none by default (refused for a FIFO queue). A FIFO
                request also gets a ``MessageDeduplicationId``: the SHA-256 of its task token.
        """
        require(hasattr(queue, "queue_url"), "queue", queue, "an aws_sqs.IQueue")
        check_message_group_id("message_group_id", message_group_id, fifo=queue.fifo)
        return cls("sqs", queue=queue, message_group_id=message_group_id)

    @classmethod
    def event_bridge(
        cls,
        event_bus: events.IEventBus,
        *,
        source: str = "lambdaless.approval",
        detail_type: str = "ApprovalRequested",
    ) -> ApprovalChannel:
        """Put the request on an EventBridge bus as an event (``source``, ``detail_type``)."""
        require(
            hasattr(event_bus, "event_bus_arn"), "event_bus", event_bus, "an aws_events.IEventBus"
        )
        require(
            isinstance(source, str) and 0 < len(source) <= 256 and not source.startswith("aws."),
            "source",
            source,
            "1 to 256 characters, not starting with 'aws.' (reserved for AWS services)",
        )
        require(
            isinstance(detail_type, str) and 0 < len(detail_type) <= 128,
            "detail_type",
            detail_type,
            "1 to 128 characters",
        )
        return cls("events", event_bus=event_bus, source=source, detail_type=detail_type)

    def render(
        self, scope: Construct, message: Any
    ) -> tuple[str, dict[str, Any], list[iam.PolicyStatement]]:
        """Resource ARN, Arguments and least-privilege statements of the request task."""
        arn = f"arn:{partition(scope)}:states:::"
        if self.kind == "sns":
            assert self.topic is not None
            statements = [
                iam.PolicyStatement(actions=["sns:Publish"], resources=[self.topic.topic_arn])
            ]
            key = self.topic.master_key
            if key is not None:
                # An encrypted topic needs the publisher to use its key (SNS docs, "Enabling
                # compatibility between encrypted topics and event sources").
                statements.append(
                    iam.PolicyStatement(
                        actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[key.key_arn]
                    )
                )
            return (
                arn + "sns:publish.waitForTaskToken",
                {"TopicArn": self.topic.topic_arn, "Message": _as_string(message)},
                statements,
            )
        if self.kind == "sqs":
            assert self.queue is not None
            statements = [
                iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[self.queue.queue_arn])
            ]
            queue_key = self.queue.encryption_master_key
            if queue_key is not None:
                # SQS SSE-KMS: senders need GenerateDataKey and Decrypt (SQS docs, "Key
                # management").
                statements.append(
                    iam.PolicyStatement(
                        actions=["kms:GenerateDataKey", "kms:Decrypt"],
                        resources=[queue_key.key_arn],
                    )
                )
            arguments = {"QueueUrl": self.queue.queue_url, "MessageBody": _as_string(message)}
            if self.message_group_id is not None:
                arguments["MessageGroupId"] = self.message_group_id
            if self.queue.fifo:
                # Each request has its own token: deduplicate on it, so the queue needs no
                # content-based deduplication (SQS API Reference, SendMessage).
                arguments["MessageDeduplicationId"] = (
                    "{% $hash($states.context.Task.Token, 'SHA-256') %}"
                )
            return (arn + "sqs:sendMessage.waitForTaskToken", arguments, statements)
        assert self.event_bus is not None
        return (
            arn + "events:putEvents.waitForTaskToken",
            {
                "Entries": [
                    {
                        "EventBusName": self.event_bus.event_bus_arn,
                        "Source": self.source,
                        "DetailType": self.detail_type,
                        "Detail": message,
                    }
                ]
            },
            [
                iam.PolicyStatement(
                    actions=["events:PutEvents"], resources=[self.event_bus.event_bus_arn]
                )
            ],
        )


def _as_string(message: Any) -> Any:
    """SNS messages and SQS bodies are strings: serialize an object with ``$string``."""
    if isinstance(message, str):
        return message
    return "{% $string(" + _jsonata_object(message) + ") %}"


def _jsonata_object(value: Any) -> str:
    """A JSON-like value whose strings may be ``{% %}`` expressions, as one JSONata expression."""
    import json

    if isinstance(value, Mapping):
        return (
            "{"
            + ", ".join(f"{json.dumps(str(k))}: {_jsonata_object(v)}" for k, v in value.items())
            + "}"
        )
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_jsonata_object(v) for v in value) + "]"
    if is_expression(value):
        return "(" + str(value)[2:-2].strip() + ")"
    return json.dumps(value)


class HumanApproval(sfn.StateMachineFragment):
    """Ask a person, wait for the answer (or the timeout), and route on it.

    Approved (``SendTaskSuccess``): the fragment continues with whatever follows it
    (``approval.next(...)``), with the input it received; no state decides in between.
    Rejected (``SendTaskFailure`` with :data:`REJECTED_ERROR`, any other failure but a timeout,
    or a success whose output says ``"approved": false``): ``on_rejected`` (by default a Fail
    whose error is the approver's ``SendTaskFailure`` error as given, e.g. :data:`REJECTED_ERROR`,
    and whose cause is the approver's; :data:`REJECTED_ERROR` when the failure has a
    ``States.*`` name, such as a refused answer). Timed out (``States.Timeout`` /
    ``States.HeartbeatTimeout``): ``on_timed_out`` (by default a Fail ``ApprovalTimedOut``).
    The answer is kept in the variable ``$<prefix>Decision``: the approver's output on success,
    ``{"approved": false, "error", "cause"}`` otherwise.

    Attributes:
        request: the ``.waitForTaskToken`` Task state (the fragment's only state on approval).
        decision_variable: the variable name holding the decision.
    """

    @at_path
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        channel: ApprovalChannel,
        timeout: cdk.Duration,
        heartbeat: cdk.Duration | None = None,
        message: Any = None,
        on_rejected: sfn.IChainable | None = None,
        on_timed_out: sfn.IChainable | None = None,
        comment: str | None = None,
    ) -> None:
        """
        Args:
            channel: SNS topic, SQS queue or EventBridge bus of the request.
            timeout: how long to wait for a decision (TimeoutSeconds); required, so no
                execution waits for a year.
            heartbeat: fail with ``States.HeartbeatTimeout`` when the approver's tool sends no
                ``SendTaskHeartbeat`` for this long; no heartbeat by default. Shorter than
                ``timeout``.
            message: what to send: a dict (strings may be ``{% %}`` expressions) or one
                expression; it must carry ``$states.context.Task.Token``, and should tell the
                approver how to answer (:data:`HOW_TO_ANSWER`). By default
                ``{"taskToken", "answer", "execution", "input"}``, where ``answer`` is
                :data:`HOW_TO_ANSWER` (plus the heartbeat interval when ``heartbeat`` is set).
            on_rejected: where a rejection goes; by default a Fail with the approver's error
                (``Approval.Rejected`` when they follow :data:`HOW_TO_ANSWER`) and cause.
            on_timed_out: where a timeout goes; by default Fail ``ApprovalTimedOut``.
            comment: the request Task's Comment.
        """
        super().__init__(scope, id)
        require(isinstance(channel, ApprovalChannel), "channel", channel, "an ApprovalChannel")
        timeout_seconds = _seconds("timeout", timeout)
        heartbeat_seconds = _seconds("heartbeat", heartbeat) if heartbeat is not None else None
        HEARTBEAT.require(
            heartbeat_seconds is None or heartbeat_seconds < timeout_seconds,
            "heartbeat",
            f"{heartbeat_seconds} s",
            f"less than timeout ({timeout_seconds} s)",
        )
        body = _default_message(heartbeat_seconds) if message is None else message
        require(
            isinstance(body, Mapping) or is_expression(body),
            "message",
            body,
            "a dict or a JSONata expression '{% ... %}'",
        )
        check_approval_message("message", body)
        if message is not None:
            check_value("message", message)
        decision = f"{variable_prefix(id)}Decision"
        self.decision_variable = decision
        resource, arguments, statements = channel.render(
            self, dict(body) if isinstance(body, Mapping) else body
        )
        self.request = DirectTask(
            self,
            f"{id}Request",
            heartbeat_seconds=heartbeat_seconds,
            resource=resource,
            arguments=arguments,
            output="{% $states.input %}",
            policy_statements=statements,
            retries=[],
            timeout=cdk.Duration.seconds(timeout_seconds),
            # An answer in the old decision shape, {"approved": false}, must not approve: keeping
            # it fails the state (States.QueryEvaluationError) into the States.ALL Catch below.
            # In Assign rather than Output: moto's interpreter (the local runner) evaluates a
            # Task's Assign inside its Retry/Catch handling and its Output after it.
            assign={
                decision: (
                    "{% $states.result.approved = false ? $error('the approver answered "
                    "approved: false' & ($exists($states.result.comment) ? ', ' & "
                    "$string($states.result.comment) : '')) : $states.result %}"
                )
            },
            comment=comment or "Wait for a person's decision",
        )
        rejected = on_rejected or sfn.Fail(
            self,
            f"{id}Rejected",
            # The approver's SendTaskFailure error passes through as given (a JSONata Error, AWS
            # docs "Fail workflow state"), so a rejection fails the execution with
            # REJECTED_ERROR as documented. A States.* name is Step Functions' own, not the
            # approver's (e.g. the States.QueryEvaluationError of a refused answer): it is
            # reported as REJECTED_ERROR.
            error=(
                f"{{% ($e := ${decision}.error; $type($e) = 'string' and $e != '' and "
                f"$substring($e, 0, 7) != 'States.' ? $e : '{REJECTED_ERROR}') %}}"
            ),
            cause=(
                f"{{% $exists(${decision}.cause) and ${decision}.cause != '' ? "
                f"$string(${decision}.cause) : 'rejected' %}}"
            ),
        )
        timed_out = on_timed_out or sfn.Fail(
            self,
            f"{id}TimedOut",
            error="ApprovalTimedOut",
            cause=f"no decision within {timeout_seconds} s",
        )
        failure = {
            decision: (
                "{% {'approved': false, 'error': $states.errorOutput.Error, "
                "'cause': $states.errorOutput.Cause} %}"
            )
        }
        self.request.add_catch(
            timed_out, errors=list(TIMEOUT_ERRORS), outputs="{% $states.input %}", assign=failure
        )
        # SendTaskFailure (Approval.Rejected or any other error), a request that could not be
        # sent, or an answer refused by Output above: all reject; only a success approves.
        self.request.add_catch(
            rejected, errors=[sfn.Errors.ALL], outputs="{% $states.input %}", assign=failure
        )
        self._end: list[sfn.INextable] = [self.request]
        if on_rejected is not None:
            self._end.extend(on_rejected.end_states)

    @property
    def start_state(self) -> sfn.State:
        """The request Task."""
        return self.request

    @property
    def end_states(self) -> list[sfn.INextable]:
        """The request Task (approved), and any open end of ``on_rejected``."""
        return self._end


def _default_message(heartbeat_seconds: int | None) -> dict[str, Any]:
    answer = dict(HOW_TO_ANSWER)
    if heartbeat_seconds is not None:
        answer["heartbeat"] = (
            f"SendTaskHeartbeat with this taskToken at least every {heartbeat_seconds} s"
        )
    return {**DEFAULT_MESSAGE, "answer": answer}


def _seconds(argument: str, value: cdk.Duration) -> int:
    return whole_seconds(argument, value, STANDARD_MAX_SECONDS, where=" (one year)")
