"""``ModelCapacity``: one model's quota, shared by every workflow and execution that calls it.

A Bedrock quota belongs to the account, per model and Region (:mod:`lambdaless.quotas`), so a
concurrency worked out for one execution is wrong by the number of executions running at once.
``ModelCapacity`` is a counting semaphore in one DynamoDB item, driven by Step Functions' direct
``arn:aws:states:::dynamodb:updateItem`` integration (no Lambda); it follows the design of AWS's
concurrency-control sample ("Controlling concurrency in distributed systems using AWS Step
Functions", a DynamoDB lock item and a cleanup workflow on execution status changes), weighted
by quota tokens instead of counting calls:

* **acquire** (one Task before the call): ``SET used = used + weight, calls = calls + 1,
  <holder> = {w, exp}`` on the condition ``used <= budget - weight`` (and ``calls <= budget - 1``
  with an RPM quota). ``weight`` is what the call takes from the quota,
  ``max(input + max_tokens, input + burndown x output)``; ``budget`` is the quota tokens that may
  be in flight at once, ``tokens_per_minute / 60 x latency_seconds`` (Little's law). A full
  capacity fails the update with ``DynamoDB.ConditionalCheckFailedException``, which the Task
  retries with exponential back-off and full jitter, a bounded number of times
  (``RetryPolicy.capacity_wait``): every wait is a retry in the execution's history.
* **release** (one Task after the call, on success and after any caught error or exhausted
  retry): ``SET used = used - weight, calls = calls - 1 REMOVE <holder>`` on the condition that
  the holder still exists, so a release never counts twice.
* **reclaim** (no person involved): an execution that fails, times out or is aborted while
  holding capacity is released by the ``Reclaim`` workflow, started by an EventBridge rule on
  "Step Functions Execution Status Change" (``FAILED``, ``TIMED_OUT``, ``ABORTED``), which
  releases every holder named after that execution. Each holder also carries a lease that
  expires ``lease`` after it was taken; the same workflow runs every ``sweep_every`` and
  releases expired leases, which covers an event that never arrives. A leak lasts at worst
  until the next rule delivery (usually seconds), and never longer than ``lease +
  sweep_every``.

Cost per call (Standard workflow): two more state transitions (acquire, release) plus one per
wait, and two DynamoDB write requests plus one per wait (a failed conditional update is billed
as a write).
"""

from __future__ import annotations

import math
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from lambdaless._errors import require
from lambdaless._stack_env import StackEnv
from lambdaless.models import BedrockModel, ModelLike
from lambdaless.quotas import ModelQuota, QuotaKind
from lambdaless.retry import CAPACITY_FULL_ERROR, RetryPolicy
from lambdaless.rules.retries import whole_seconds
from lambdaless.steps._task import DirectTask

# AWS docs, "Call DynamoDB APIs with Step Functions": the optimized integrations.
UPDATE_ITEM_RESOURCE = "arn:{partition}:states:::dynamodb:updateItem"
GET_ITEM_RESOURCE = "arn:{partition}:states:::dynamodb:getItem"
#: The partition key value of the one capacity item.
ITEM_KEY = "capacity"
#: Holder attributes are named ``h#<execution ARN>#<entered time>#<hash of the input>``.
HOLDER_PREFIX = "h#"
#: The holder's name, computed alike by the acquire's Arguments and its Assign (Assign cannot
#: read Arguments). Two iterations of one execution that enter at the same millisecond with
#: the same input get the same name; the acquire's ``attribute_not_exists`` condition then
#: makes the second wait for the first, so a name is never held twice.
HOLDER_NAME = (
    f"'{HOLDER_PREFIX}' & $states.context.Execution.Id & '#' & "
    "$states.context.State.EnteredTime & '#' & $hash($string($states.input), 'SHA-256')"
)
#: The statuses that end an execution without its own releases (AWS docs, "Step Functions
#: execution status change events" in "Automating Step Functions event delivery with
#: EventBridge").
ABANDONED_STATUSES = ("FAILED", "TIMED_OUT", "ABORTED")
#: Holdings one Reclaim run gives back: each costs up to 24 history events, so 500 stay far
#: below the 25,000-event limit of a Standard execution; the next sweep takes any beyond them.
RELEASES_PER_RUN = 500


def _n(value: float | int | str) -> dict[str, str]:
    """A DynamoDB number attribute value."""
    return {"N": value if isinstance(value, str) else str(int(value))}


class ModelCapacity(Construct):
    """A model's quota as a capacity shared by every workflow and execution that calls it.

    Create one per model (and account and Region), and pass it to each ``FanOut`` (or
    :meth:`guard` any one step) that calls the model. See the module docstring for the design.

    Attributes:
        table: the DynamoDB table holding the capacity item.
        budget_tokens: quota tokens that may be in flight at once.
        budget_calls: calls that may be in flight at once under an RPM quota, or ``None``.
        reclaim: the ``sfn.StateMachine`` that releases abandoned holdings.
        lease_seconds: how long a holding lasts before the sweep may reclaim it.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        model: ModelLike,
        quota: ModelQuota,
        lease: cdk.Duration | None = None,
        sweep_every: cdk.Duration | None = None,
        wait: RetryPolicy | None = None,
    ) -> None:
        """
        Args:
            model: the model whose quota this is (a :class:`BedrockModel` or any id).
            quota: the account's quota for the model and the expected shape of one call;
                ``latency_seconds`` turns tokens per minute into tokens in flight.
            lease: how long a holding may last before the sweep reclaims it; 15 minutes by
                default. Make it longer than a guarded call's worst case (its timeout and
                retries): a lease that expires under a live call lets the quota be overbooked.
            sweep_every: how often the reclaim workflow sweeps expired leases; every 5 minutes
                by default.
            wait: the acquire Task's retrier when the capacity is full; by default
                ``RetryPolicy.capacity_wait()`` (1 s doubling to 30 s, full jitter, 100 tries).
        """
        super().__init__(scope, id)
        self.model = BedrockModel.of(model)
        require(isinstance(quota, ModelQuota), "quota", quota, "a ModelQuota")
        self.quota = quota
        self.lease_seconds = whole_seconds(
            "lease", lease if lease is not None else cdk.Duration.minutes(15), 366 * 86_400
        )
        sweep_seconds = whole_seconds(
            "sweep_every",
            sweep_every if sweep_every is not None else cdk.Duration.minutes(5),
            86_400,
        )
        require(
            sweep_seconds >= 60 and sweep_seconds % 60 == 0,
            "sweep_every",
            sweep_every,
            "whole minutes, at least 1 (an EventBridge rate)",
        )
        self.wait = wait if wait is not None else RetryPolicy.capacity_wait()
        require(
            isinstance(self.wait, RetryPolicy) and CAPACITY_FULL_ERROR in self.wait.errors,
            "wait",
            self.wait,
            f"a RetryPolicy on {CAPACITY_FULL_ERROR}",
        )
        self.quota_kind = QuotaKind.of(self.model)
        self.budget_tokens = math.floor(quota.tokens_per_minute / 60 * quota.latency_seconds)
        rpm = quota.requests_per_minute
        self.budget_calls = (
            None if rpm is None else max(1, math.floor(rpm / 60 * quota.latency_seconds))
        )

        # On-demand billing: the item is written twice per call; point-in-time recovery on
        # (cdk-nag AwsSolutions-DDB3). The table holds counters, never prompts.
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        self.reclaim = self._reclaim_workflow(sweep_seconds)

    def check_model(self, argument: str, step: sfn.State) -> None:
        """Refuse a step that calls another model, or the same one under the other quota."""
        step_model = getattr(step, "model", None)
        same = (
            isinstance(step_model, BedrockModel)
            and step_model.foundation_model_id == self.model.foundation_model_id
            and QuotaKind.of(step_model) is self.quota_kind
        )
        require(
            same,
            argument,
            getattr(step_model, "identifier", step_model),
            f"a call to {self.model.identifier} (this capacity's model and quota kind)",
        )

    # -- what a caller weighs ------------------------------------------------------------------
    def weight(self, max_tokens: int) -> int:
        """Quota tokens one call with this ``max_tokens`` holds while in flight."""
        weight = math.ceil(
            self.quota.call_tokens(max_tokens=max_tokens, model_id=self.model.foundation_model_id)
        )
        require(
            weight <= self.budget_tokens,
            "max_tokens",
            max_tokens,
            f"a call that fits the capacity: it weighs {weight} quota tokens, but only "
            f"{self.budget_tokens} may be in flight (tokens_per_minute / 60 x latency_seconds)",
        )
        return weight

    # -- the states a caller adds --------------------------------------------------------------
    def acquire(
        self, scope: Construct, id: str, *, weight: int, holder_variable: str
    ) -> DirectTask:
        """The Task that takes ``weight`` from the capacity, waiting while it is full, and
        stores the holder's name in the JSONata variable ``holder_variable``."""
        env = StackEnv.of(scope)
        condition = "#used <= :room"
        values: dict[str, Any] = {
            ":w": _n(weight),
            ":one": _n(1),
            ":zero": _n(0),
            ":room": _n(self.budget_tokens - weight),
            ":lease": {
                "M": {
                    "w": _n(weight),
                    "exp": {"N": f"{{% $string($millis() + {self.lease_seconds * 1000}) %}}"},
                }
            },
        }
        if self.budget_calls is not None:
            condition += " AND #calls <= :callroom"
            values[":callroom"] = _n(self.budget_calls - 1)
        return DirectTask(
            scope,
            id,
            resource=UPDATE_ITEM_RESOURCE.format(partition=env.partition),
            arguments={
                "TableName": self.table.table_name,
                "Key": {"pk": {"S": ITEM_KEY}},
                "UpdateExpression": (
                    "SET #used = if_not_exists(#used, :zero) + :w, "
                    "#calls = if_not_exists(#calls, :zero) + :one, #h = :lease"
                ),
                "ConditionExpression": (
                    f"attribute_not_exists(#h) AND (attribute_not_exists(#used) OR ({condition}))"
                ),
                "ExpressionAttributeNames": {
                    "#used": "used",
                    "#calls": "calls",
                    "#h": f"{{% {HOLDER_NAME} %}}",
                },
                "ExpressionAttributeValues": values,
                "ReturnValues": "UPDATED_NEW",  # the new totals, in the history
            },
            # the state passes its input on; the holder's name is kept for the release
            output="{% $states.input %}",
            assign={holder_variable: f"{{% {HOLDER_NAME} %}}"},
            policy_statements=[self._update_statement(scope)],
            retries=[self.wait, RetryPolicy.dynamodb_transient()],
            timeout=None,
            comment=f"Take {weight} quota tokens of {self.node.path} (waits while it is full)",
        )

    def release(
        self, scope: Construct, id: str, *, weight: int, holder_variable: str
    ) -> DirectTask:
        """The Task that gives back what :meth:`acquire` took; it passes its input on."""
        env = StackEnv.of(scope)
        return DirectTask(
            scope,
            id,
            resource=UPDATE_ITEM_RESOURCE.format(partition=env.partition),
            arguments=self._release_arguments(f"{{% ${holder_variable} %}}", weight),
            output="{% $states.input %}",
            assign=None,
            policy_statements=[self._update_statement(scope)],
            retries=[RetryPolicy.dynamodb_transient()],
            timeout=None,
            comment=f"Give back {weight} quota tokens of {self.node.path}",
        )

    def _release_arguments(self, holder: str, weight: int | str) -> dict[str, Any]:
        """UpdateItem arguments that give back ``weight`` held by ``holder``, once: the
        condition fails if the holder already gave it back."""
        return {
            "TableName": self.table.table_name,
            "Key": {"pk": {"S": ITEM_KEY}},
            "UpdateExpression": "SET #used = #used - :w, #calls = #calls - :one REMOVE #h",
            "ConditionExpression": "attribute_exists(#h)",
            "ExpressionAttributeNames": {"#used": "used", "#calls": "calls", "#h": holder},
            "ExpressionAttributeValues": {":w": _n(weight), ":one": _n(1)},
        }

    def _update_statement(self, scope: Construct) -> iam.PolicyStatement:
        # Least privilege: UpdateItem on this table's one item (AWS docs, "Using IAM policy
        # conditions for fine-grained access control": dynamodb:LeadingKeys).
        return iam.PolicyStatement(
            actions=["dynamodb:UpdateItem"],
            resources=[self.table.table_arn],
            conditions={"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [ITEM_KEY]}},
        )

    # -- reclaiming abandoned holdings ---------------------------------------------------------
    def _reclaim_workflow(self, sweep_seconds: int) -> sfn.StateMachine:
        from lambdaless.workflow import Workflow

        env = StackEnv.of(self)
        read = DirectTask(
            self,
            "ReadHolders",
            resource=GET_ITEM_RESOURCE.format(partition=env.partition),
            arguments={
                "TableName": self.table.table_name,
                "Key": {"pk": {"S": ITEM_KEY}},
                "ConsistentRead": True,
            },
            # Holders of the execution that ended (a status-change event), and every holder
            # whose lease expired before the event's time (any event, the sweep included).
            output=(
                "{% ($item := $states.result.Item; "
                "$now := $exists($states.input.time) ? $toMillis($states.input.time) : $millis(); "
                "$mine := $exists($states.input.detail.executionArn) ? "
                f"'{HOLDER_PREFIX}' & $states.input.detail.executionArn & '#' : '-'; "
                "$stale := $filter($keys($item), function($k) { "
                f"$substring($k, 0, {len(HOLDER_PREFIX)}) = '{HOLDER_PREFIX}' and "
                "($substring($k, 0, $length($mine)) = $mine or "
                "$number($lookup($item, $k).M.exp.N) < $now) }); "
                "{'holders': [$map($filter($stale, function($k, $i) { "
                f"$i < {RELEASES_PER_RUN} }}), function($k) {{ "
                "{'name': $k, 'w': $lookup($item, $k).M.w.N} })]}) %}"
            ),
            policy_statements=[
                iam.PolicyStatement(
                    actions=["dynamodb:GetItem"],
                    resources=[self.table.table_arn],
                    conditions={"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [ITEM_KEY]}},
                )
            ],
            retries=[RetryPolicy.dynamodb_transient()],
            timeout=None,
            assign=None,
            comment="The holders to release: the ended execution's, and expired leases",
        )
        give_back = DirectTask(
            self,
            "ReleaseHolder",
            resource=UPDATE_ITEM_RESOURCE.format(partition=env.partition),
            arguments=self._release_arguments("{% $states.input.name %}", "{% $states.input.w %}"),
            output="{% $states.input %}",
            policy_statements=[self._update_statement(self)],
            retries=[RetryPolicy.dynamodb_transient()],
            timeout=None,
            assign=None,
            comment="Give back one abandoned holding (unless its caller just did)",
        )
        gone = sfn.Succeed(self, "AlreadyReleased")
        give_back.add_catch(gone, errors=[CAPACITY_FULL_ERROR])
        each = sfn.Map(
            self,
            "ReleaseEach",
            items=sfn.ProvideItems.jsonata("{% $states.input.holders %}"),
            max_concurrency=10,
            # ReadHolders hands over at most RELEASES_PER_RUN holders (the limits lint reads
            # this bound); the next status event or sweep releases any beyond them.
            comment=f"lambdaless:max-items={RELEASES_PER_RUN}",
        )
        each.item_processor(give_back)
        workflow = Workflow(
            self,
            "Reclaim",
            definition=read.next(each),
            # Alarms on: a Reclaim that keeps failing (IAM, a deleted table) leaks capacity
            # silently, and each sweep would fail the same way.
            timeout=cdk.Duration.minutes(15),
            comment=f"Release holdings of {self.node.path} that no execution will release",
        )
        status = events.Rule(
            self,
            "OnExecutionEnded",
            description="Reclaim model capacity held by executions that failed, timed out or "
            "were aborted",
            event_pattern=events.EventPattern(
                source=["aws.states"],
                detail_type=["Step Functions Execution Status Change"],
                detail={"status": list(ABANDONED_STATUSES)},
            ),
        )
        status.add_target(targets.SfnStateMachine(workflow.state_machine))
        sweep = events.Rule(
            self,
            "Sweep",
            description="Reclaim model capacity whose lease expired",
            schedule=events.Schedule.rate(cdk.Duration.seconds(sweep_seconds)),
        )
        sweep.add_target(targets.SfnStateMachine(workflow.state_machine))
        self.reclaim_workflow = workflow
        return workflow.state_machine


def call_shape(argument: str, step: sfn.State) -> tuple[int, str | None]:
    """The ``max_tokens`` and foundation-model id of a Bedrock step built with a prompt."""
    max_tokens = getattr(step, "max_tokens", None)
    step_model = getattr(step, "model", None)
    if not isinstance(max_tokens, int) or not isinstance(step_model, BedrockModel):
        from lambdaless._errors import invalid

        raise invalid(
            argument,
            step,
            "with an InvokeBedrock/Converse step built with a prompt (its max_tokens sets what "
            "Bedrock reserves)",
        )
    return max_tokens, step_model.foundation_model_id


class CapacityGuard(sfn.StateMachineFragment):
    """One Bedrock step between an acquire and a release of a :class:`ModelCapacity`.

    ``acquire -> step -> release``; an error of the step (caught with ``States.ALL`` after its
    own retries) goes through ``release_after_error`` to ``on_error`` (with ``{"Error",
    "Cause"}``) or, without one, to a Fail state that ends the execution with the same error.

    Attributes:
        acquire, release, release_after_error: the added Task states.
        weight: quota tokens the step holds while it runs.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        capacity: ModelCapacity,
        step: DirectTask,
        on_error: sfn.IChainable | None = None,
    ) -> None:
        """
        Args:
            capacity: the model's shared capacity.
            step: an ``InvokeBedrock`` or ``Converse`` built with a prompt, on the same model.
            on_error: where the step's errors go once its holding is released; by default a
                Fail state with the step's Error and Cause.
        """
        super().__init__(scope, id)
        require(isinstance(capacity, ModelCapacity), "capacity", capacity, "a ModelCapacity")
        max_tokens, _ = call_shape("step", step)
        capacity.check_model("step", step)
        self.weight = capacity.weight(max_tokens)
        holder = "capacityHolder"
        self.acquire = capacity.acquire(
            self, f"{id}Acquire", weight=self.weight, holder_variable=holder
        )
        self.release = capacity.release(
            self, f"{id}Release", weight=self.weight, holder_variable=holder
        )
        self.release_after_error = capacity.release(
            self, f"{id}ReleaseAfterError", weight=self.weight, holder_variable=holder
        )
        target = on_error or sfn.Fail(
            self,
            f"{id}Failed",
            error="{% $states.input.Error %}",
            cause="{% $states.input.Cause %}",
        )
        error_output = (
            "{% {'Error': $states.errorOutput.Error, 'Cause': $states.errorOutput.Cause} %}"
        )
        step.add_catch(self.release_after_error, errors=[sfn.Errors.ALL], outputs=error_output)
        # a failed release loses nothing: the lease and the reclaim workflow give it back
        self.release_after_error.add_catch(
            target, errors=[sfn.Errors.ALL], outputs="{% $states.input %}"
        )
        self.release_after_error.next(target)
        self.acquire.next(step).next(self.release)
        # a release that fails loses nothing (the lease gives the holding back): go on
        self.released = sfn.Pass(self, f"{id}ReleasedLater", comment="Released by the lease")
        self.release.add_catch(
            self.released, errors=[sfn.Errors.ALL], outputs="{% $states.input %}"
        )

    @property
    def start_state(self) -> sfn.State:
        """The acquire Task."""
        return self.acquire

    @property
    def end_states(self) -> list[sfn.INextable]:
        """The release Task (and the Pass its rare failure goes through)."""
        return [self.release, self.released]
