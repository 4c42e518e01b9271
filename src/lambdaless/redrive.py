"""``Redrive``: redrive failed Standard executions from the point of failure, without Lambda.

An EventBridge rule matches the workflow's "Step Functions Execution Status Change" events with
status ``FAILED`` and starts a small Standard state machine that

1. waits ``delay`` (a throttle or outage is given time to clear);
2. calls ``aws-sdk:sfn:describeExecution`` for the execution's ``error``, ``redriveCount`` and
   ``redriveStatus``;
3. calls ``aws-sdk:sfn:getExecutionHistory`` for the last two events, newest first: the last
   event's ``Id`` is the number of events in the history, and the one before ``ExecutionFailed``
   says where the execution failed (``FailStateEntered`` for a Fail state);
4. redrives it with ``aws-sdk:sfn:redriveExecution`` only if the error is one of
   ``transient_errors``, the execution has been redriven fewer than ``max_redrives`` times, Step
   Functions says it is ``REDRIVABLE``, its history has fewer than 24,999 events, and it did not
   end in a Fail state; otherwise it stops and leaves the execution failed.

A redrive "continues the failed execution from the unsuccessful step" (AWS docs, "Redriving
executions"): when that step is a Fail state, the redrive enters the Fail state again and fails
the same way, a billed no-op that spends a redrive. A workflow that wants its transient errors
redriven lets them fail the Task (no Catch into a Fail state for them). A Fail state inside a
Parallel branch or a Map iteration is not seen this way (the events before ``ExecutionFailed``
are the Parallel's or Map's): keep transient errors out of such Fail states too.

An EventBridge rule cannot call ``RedriveExecution`` itself (it is no rule target), hence the
state machine. Its role may only describe and redrive executions of the watched workflow.

When AWS allows a redrive (AWS docs, "Redriving executions" and the ``RedriveExecution`` API):

* Standard workflows only (Express executions cannot be redriven);
* within 14 days of the execution's stop, and only if it did not succeed (FAILED, ABORTED or
  TIMED_OUT; this construct reacts to FAILED only);
* only if the history has fewer than 24,999 events (a redrive appends ``ExecutionRedriven`` and
  at least one more event: ``RedriveExecution`` API reference), and not if the execution exceeded
  its maximum execution time or was started before redrive existed (``redriveStatus`` is then
  ``NOT_REDRIVABLE``);
* the redriven execution keeps its ARN, definition and input, and resumes at the failed state:
  successful states are not rerun; inline Map/Parallel iterations that failed are;
* redriven state transitions are billed like any other.

Errors never redriven, whatever ``transient_errors`` says, because a rerun of the same
definition on the same input fails the same way: :data:`NEVER_REDRIVEN`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from lambdaless._errors import at_path, invalid, require
from lambdaless._nag import acknowledge, default_policy_resource, finding_text
from lambdaless.limits import MAX_REDRIVES, REDRIVE_MAX_HISTORY_EVENTS
from lambdaless.retry import (
    BEDROCK_PERMANENT_ERRORS,
    BEDROCK_TIMEOUT_ERRORS,
    BEDROCK_TRANSIENT_ERRORS,
    CONVERSE_PERMANENT_ERRORS,
    CONVERSE_TIMEOUT_ERRORS,
    CONVERSE_TRANSIENT_ERRORS,
    HTTP_TRANSIENT_ERRORS,
    RetryPolicy,
)
from lambdaless.steps._task import DirectTask

if TYPE_CHECKING:
    from lambdaless.workflow import Workflow

#: Redriven by default: the transient errors the steps already retry, once retries ran out.
DEFAULT_TRANSIENT_ERRORS: tuple[str, ...] = (
    *BEDROCK_TRANSIENT_ERRORS,
    *BEDROCK_TIMEOUT_ERRORS,
    *CONVERSE_TRANSIENT_ERRORS,
    *CONVERSE_TIMEOUT_ERRORS,
    *HTTP_TRANSIENT_ERRORS,
    "States.Timeout",  # a Task's TimeoutSeconds or HeartbeatSeconds elapsed
)
#: Definition and input errors: a redrive reruns the same definition on the same input.
NEVER_REDRIVEN: frozenset[str] = frozenset(
    {
        "States.ALL",
        "States.Runtime",
        "States.DataLimitExceeded",
        "States.QueryEvaluationError",
        "States.IntrinsicFailure",
        "States.ResultPathMatchFailure",
        "States.ParameterPathFailure",
        "States.ItemReaderFailed",
        "States.ResultWriterFailed",
        "States.Permissions",
        *BEDROCK_PERMANENT_ERRORS,
        *CONVERSE_PERMANENT_ERRORS,
    }
)
_SDK = "arn:{partition}:states:::aws-sdk:sfn:{action}"


class Redrive(Construct):
    """Redrive a Standard workflow's executions that failed on transient errors.

    Attributes:
        rule: the EventBridge rule on the workflow's FAILED executions.
        redriver: the small Standard :class:`~lambdaless.Workflow` that decides and redrives.
    """

    @at_path
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        workflow: Workflow,
        max_redrives: int = 2,
        delay: cdk.Duration | None = None,
        transient_errors: Sequence[str] | None = None,
    ) -> None:
        """
        Args:
            workflow: a Standard :class:`~lambdaless.Workflow` (AWS redrives no Express
                execution).
            max_redrives: redrives per execution at most (compared with its ``redriveCount``);
                2 by default, from 1 to 1000.
            delay: the wait before describing and redriving; one minute by default, from 1 s to
                one day.
            transient_errors: the execution errors worth a redrive; by default
                :data:`DEFAULT_TRANSIENT_ERRORS`. Names in :data:`NEVER_REDRIVEN` are refused.
        """
        super().__init__(scope, id)
        require(
            hasattr(workflow, "state_machine") and hasattr(workflow, "express"),
            "workflow",
            workflow,
            "a lambdaless Workflow",
        )
        require(
            not workflow.express,
            "workflow",
            workflow.node.path,
            "a Standard workflow: AWS redrives only Standard executions",
        )
        require(
            isinstance(max_redrives, int)
            and not isinstance(max_redrives, bool)
            and 1 <= max_redrives <= MAX_REDRIVES,
            "max_redrives",
            max_redrives,
            f"an integer from 1 to {MAX_REDRIVES}",
        )
        delay = delay if delay is not None else cdk.Duration.minutes(1)
        delay_seconds = delay.to_seconds(integral=False) if isinstance(delay, cdk.Duration) else 0
        require(
            delay_seconds == int(delay_seconds) and 1 <= delay_seconds <= 86_400,
            "delay",
            delay,
            "an aws_cdk.Duration of whole seconds, from 1 second to 1 day",
        )
        require(
            transient_errors is None or isinstance(transient_errors, list | tuple),
            "transient_errors",
            transient_errors,
            "None or a list of error names",
        )
        errors = (
            tuple(transient_errors) if transient_errors is not None else DEFAULT_TRANSIENT_ERRORS
        )
        require(
            len(errors) > 0 and all(isinstance(e, str) and e for e in errors),
            "transient_errors",
            errors,
            "at least one error name",
        )
        refused = sorted(set(errors) & NEVER_REDRIVEN)
        if refused:
            raise invalid(
                "transient_errors",
                refused,
                "transient error names: definition, input and permanent errors fail again on "
                "a redrive",
            )
        self.max_redrives = max_redrives
        self.transient_errors = errors

        stack = cdk.Stack.of(self)
        executions = stack.format_arn(
            service="states",
            resource="execution",
            resource_name=f"{workflow.state_machine.state_machine_name}:*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        pause = sfn.Wait(
            self,
            "LetItClear",
            time=sfn.WaitTime.duration(delay),
            comment="Give a throttle or an outage time to clear",
        )
        describe = DirectTask(
            self,
            "DescribeExecution",
            resource=_SDK.format(partition=stack.partition, action="describeExecution"),
            arguments={"ExecutionArn": "{% $states.input.detail.executionArn %}"},
            output=(
                "{% {'executionArn': $states.result.ExecutionArn, 'error': $states.result.Error,"
                " 'redriveCount': $states.result.RedriveCount,"
                " 'redriveStatus': $states.result.RedriveStatus} %}"
            ),
            policy_statements=[
                iam.PolicyStatement(actions=["states:DescribeExecution"], resources=[executions])
            ],
            retries=[RetryPolicy.task_failed()],
            timeout=cdk.Duration.seconds(60),
            assign=None,
            comment="Read the error, redriveCount and redriveStatus",
        )
        # The newest two events: the last one's Id is the history's length (event ids count up
        # from 1), the one before ExecutionFailed is where the execution failed (Step Functions
        # API reference, GetExecutionHistory and HistoryEvent).
        last_events = DirectTask(
            self,
            "LastEvents",
            resource=_SDK.format(partition=stack.partition, action="getExecutionHistory"),
            arguments={
                "ExecutionArn": "{% $states.input.executionArn %}",
                "ReverseOrder": True,
                "MaxResults": 2,
                "IncludeExecutionData": False,
            },
            output=(
                "{% $merge([$states.input, {'historyEvents': $states.result.Events[0].Id,"
                " 'failedAfter': $states.result.Events[1].Type}]) %}"
            ),
            policy_statements=[
                iam.PolicyStatement(actions=["states:GetExecutionHistory"], resources=[executions])
            ],
            retries=[RetryPolicy(errors=("States.TaskFailed",), interval_seconds=5)],
            timeout=cdk.Duration.seconds(60),
            assign=None,
            comment="Read how long the history is and whether a Fail state ended it",
        )
        redrive = DirectTask(
            self,
            "RedriveExecution",
            resource=_SDK.format(partition=stack.partition, action="redriveExecution"),
            arguments={"ExecutionArn": "{% $states.input.executionArn %}"},
            output="{% $states.result %}",
            policy_statements=[
                iam.PolicyStatement(actions=["states:RedriveExecution"], resources=[executions])
            ],
            retries=[RetryPolicy.task_failed()],
            timeout=cdk.Duration.seconds(60),
            assign=None,
            comment="Resume the execution at the state that failed",
        )
        worth_it = (
            "{% $states.input.redriveStatus = 'REDRIVABLE'"
            f" and $states.input.redriveCount < {max_redrives}"
            f" and $states.input.error in {json.dumps(list(errors))}"
            f" and $states.input.historyEvents < {REDRIVE_MAX_HISTORY_EVENTS}"
            " and $states.input.failedAfter != 'FailStateEntered' %}"
        )
        decide = (
            sfn.Choice(self, "WorthARedrive")
            .when(sfn.Condition.jsonata(worth_it), redrive)
            .otherwise(
                sfn.Succeed(
                    self,
                    "LeftFailed",
                    comment="Not transient, a Fail state, out of redrives or not redrivable",
                )
            )
        )
        # Imported here: workflow.py imports this package's modules at import time.
        from lambdaless.workflow import Workflow as _Workflow

        self.redriver = _Workflow(
            self,
            "Redriver",
            definition=pause.next(describe).next(last_events).next(decide),
            timeout=cdk.Duration.seconds(int(delay_seconds) + 600),
            alarms=False,
            comment=f"Redrive {workflow.node.path} executions that failed on transient errors",
        )
        policy = default_policy_resource(self.redriver.role)
        if policy is not None:
            acknowledge(
                policy,
                f"AwsSolutions-IAM5[Resource::{finding_text(stack.resolve(executions))}]",
                "Execution ids are chosen at run time: describe and redrive are granted on the "
                "executions of the one watched state machine only.",
            )
        self.rule = events.Rule(
            self,
            "OnFailed",
            description=f"FAILED executions of {workflow.node.path}",
            event_pattern=events.EventPattern(
                source=["aws.states"],
                detail_type=["Step Functions Execution Status Change"],
                detail={"status": ["FAILED"], "stateMachineArn": _machine_arns(workflow)},
            ),
            targets=[targets.SfnStateMachine(self.redriver.state_machine, retry_attempts=3)],
        )


def _machine_arns(workflow: Workflow) -> list[object]:
    """The event pattern's ``stateMachineArn`` values: the state machine's ARN and, when
    executions start through an alias (``Workflow(deployment=)``), its qualified ARNs too
    (``<arn>:<alias or version>``; state machine names hold no ``:``), whichever of the two
    the event carries for them."""
    arn = workflow.state_machine.state_machine_arn
    if getattr(workflow, "rollout", None) is None:
        return [arn]
    return [arn, {"prefix": f"{arn}:"}]
