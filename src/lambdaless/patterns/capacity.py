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
* **waiting is bounded, not fair**: waiters are not queued; whoever retries first after a
  release takes the room (a FIFO queue would need a second item and two more writes per call).
  Starvation is bounded instead: a caller waits at most
  :attr:`ModelCapacity.worst_case_wait_seconds` (the sum of the retrier's longest delays:
  2,881 s with the default 100 tries), then its
  acquire fails with that error, which the caller routes like any error of its step (a
  ``FanOut`` lists the item in ``failures``). Every wait is a ``TaskFailed`` event and a retry
  in the history (``lambdaless.testing``'s ``retry_delays`` offline).
* **release** (one Task after the call, on success and after any caught error or exhausted
  retry): ``SET used = used - weight, calls = calls - 1 REMOVE <holder>`` on the condition that
  the holder still exists, so a release never counts twice.
* **reclaim** (no person involved): an execution that fails, times out or is aborted while
  holding capacity is released by the ``Reclaim`` workflow, started by an EventBridge rule on
  "Step Functions Execution Status Change" (``FAILED``, ``TIMED_OUT``, ``ABORTED``) of each
  state machine using the capacity (:meth:`ModelCapacity.watch`, called by ``Workflow``),
  which releases every holder named after that execution. Each holder also carries a lease
  that expires ``lease`` after it was taken; the same workflow runs every ``sweep_every`` and
  releases expired leases, which covers an event that never arrives (and Express executions,
  which send none). A leak lasts until the rule's delivery (usually seconds), and never longer
  than :attr:`ModelCapacity.worst_case_leak_seconds` = ``lease + sweep_every`` (20 minutes by
  default), plus one ``sweep_every`` per further 500 holdings abandoned at once (a run gives
  back at most 500).

Cost per call (Standard workflow): two more state transitions (acquire, release) plus one per
wait, and two DynamoDB write requests plus one per wait (a failed conditional update is billed
as a write).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, cast

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
#: The JSONata variable holding a caller's holder name between its acquire and its release.
HOLDER_VARIABLE = "capacityHolder"
KEEP_INPUT = "{% $states.input %}"
ERROR_ONLY = "{% {'Error': $states.errorOutput.Error, 'Cause': $states.errorOutput.Cause} %}"
RELEASED_LATER = "Released by the lease and the reclaim workflow"


def _n(value: float | int | str) -> dict[str, str]:
    """A DynamoDB number attribute value."""
    return {"N": value if isinstance(value, str) else str(int(value))}


class ModelCapacity(Construct):
    """A model's quota as a capacity shared by every workflow and execution that calls it.

    Create one per model (and account and Region), and pass it as ``capacity=`` to each step or
    pattern that calls the model (``InvokeBedrock``, ``Converse``, ``PromptChain``, ``FanOut``,
    ``KnowledgeBaseSync``'s question), or wrap a step built without it in a
    :class:`CapacityGuard`. See the module docstring for the design.

    Attributes:
        table: the DynamoDB table holding the capacity item.
        budget_tokens: quota tokens that may be in flight at once.
        budget_calls: calls that may be in flight at once under an RPM quota, or ``None``.
        reclaim: the ``sfn.StateMachine`` that releases abandoned holdings.
        lease_seconds: how long a holding lasts before the sweep may reclaim it.
        worst_case_wait_seconds: the longest a caller waits before its acquire fails.
        worst_case_leak_seconds: the longest an abandoned holding stays taken.
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
        self.model.check_end_of_life(scope, "model", model)
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
        #: the longest a caller waits for room before its acquire fails (every retry used)
        self.worst_case_wait_seconds = self.wait.worst_case_wait_seconds()
        #: the longest an abandoned holding stays taken (lease, then the next sweep), for up
        #: to RELEASES_PER_RUN holdings abandoned at once
        self.worst_case_leak_seconds = self.lease_seconds + sweep_seconds
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

    def guard(self, scope: Construct, id: str, step: DirectTask) -> CapacityGuard:
        """The acquire/release around a step built with ``capacity=`` (states named after it;
        its catch-all is added when it joins its graph, see :class:`CapacityGuard`)."""
        return CapacityGuard(
            scope,
            f"{id}Capacity",
            capacity=self,
            step=step,
            state_prefix_=id,
            route_errors_=False,
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
        task = DirectTask(
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
        task.acquires = self
        return task

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
        sweep = events.Rule(
            self,
            "Sweep",
            description="Reclaim model capacity whose lease expired",
            schedule=events.Schedule.rate(cdk.Duration.seconds(sweep_seconds)),
        )
        sweep.add_target(targets.SfnStateMachine(workflow.state_machine))
        self.reclaim_workflow = workflow
        return workflow.state_machine

    def watch(self, state_machine: sfn.IStateMachine) -> None:
        """Reclaim what ``state_machine``'s executions hold when they fail, time out or are
        aborted: an EventBridge rule, beside the machine, on its own status changes only.

        A ``Workflow`` calls this for every capacity its steps acquire; call it for a plain
        ``sfn.StateMachine`` (without it, only the lease sweep reclaims its holdings). The
        pattern matches the machine's ARN and, by prefix, ``<ARN>/...``: the
        ``stateMachine:<name>/<Map Run label>`` its Distributed Map's child executions report
        (AWS docs, "concepts-examine-map-run"). Express executions send no status events
        ("eventbridge-integration": Standard workflows only); the sweep covers them.
        """
        scope = cast(Construct | None, state_machine.node.scope)
        require(scope is not None, "state_machine", state_machine, "a state machine in a stack")
        assert scope is not None
        rule_id = f"Reclaim{cdk.Names.unique_id(self)}"
        if scope.node.try_find_child(rule_id) is not None:
            return  # watched already
        arn = state_machine.state_machine_arn
        rule = events.Rule(
            scope,
            rule_id,
            description=f"Reclaim {self.node.path} capacity held by executions of this state "
            "machine that failed, timed out or were aborted",
            event_pattern=events.EventPattern(
                source=["aws.states"],
                detail_type=["Step Functions Execution Status Change"],
                detail={
                    "status": list(ABANDONED_STATUSES),
                    "stateMachineArn": [arn, {"prefix": f"{arn}/"}],
                },
            ),
        )
        rule.add_target(targets.SfnStateMachine(self.reclaim))


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
    """One step between an acquire and a release of a :class:`ModelCapacity`.

    ``acquire -> step -> release``; an error of the step (caught with ``States.ALL`` after its
    own retries) goes through a release to ``on_error`` (with ``{"Error", "Cause"}``) or,
    without one, to a Fail state that ends the execution with the same error. :meth:`catch`
    routes more errors, each through its own release. A release that fails loses nothing (the
    lease and the reclaim workflow give the holding back): the workflow goes on.

    This is what a step's own ``capacity=`` builds (:meth:`ModelCapacity.guard`); use it
    directly to guard a step built without one.

    Attributes:
        acquire, release: the Task states around the step.
        release_after_error: the release the first caught error goes through (``None`` until
            an error is routed).
        weight: quota tokens the step holds while it runs.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        capacity: ModelCapacity,
        step: sfn.State,
        on_error: sfn.IChainable | None = None,
        state_prefix_: str | None = None,
        route_errors_: bool = True,
    ) -> None:
        """
        Args:
            capacity: the model's shared capacity.
            step: an ``InvokeBedrock`` or ``Converse`` built with a prompt, on the same model
                (or any state with ``add_catch`` carrying such a step's ``model`` and
                ``max_tokens``).
            on_error: where the step's errors go once its holding is released; by default a
                Fail state with the step's Error and Cause.
            state_prefix_: the prefix of the added states' names; ``id`` by default.
            route_errors_: route every error at once (``on_error``); ``False`` leaves the
                catch-all to :meth:`finish`, so a later ``States.ALL`` catch can take its place.
        """
        super().__init__(scope, id)
        require(isinstance(capacity, ModelCapacity), "capacity", capacity, "a ModelCapacity")
        max_tokens, _ = call_shape("step", step)
        capacity.check_model("step", step)
        self.weight = capacity.weight(max_tokens)
        self._capacity = capacity
        self._step: Any = step
        self._prefix = state_prefix_ or id
        self._after_error: list[DirectTask] = []
        self._caught_all = False
        self.acquire = capacity.acquire(
            self, f"{self._prefix}Acquire", weight=self.weight, holder_variable=HOLDER_VARIABLE
        )
        self.release = capacity.release(
            self, f"{self._prefix}Release", weight=self.weight, holder_variable=HOLDER_VARIABLE
        )
        self.released = sfn.Pass(self, f"{self._prefix}ReleasedLater", comment=RELEASED_LATER)
        self.release.add_catch(self.released, errors=[sfn.Errors.ALL], outputs=KEEP_INPUT)
        self.acquire.next(step)
        cast(sfn.INextable, step).next(self.release)
        if route_errors_:
            self.catch(on_error or self._fail(), outputs=ERROR_ONLY)

    @property
    def release_after_error(self) -> DirectTask | None:
        """The release the first routed error goes through."""
        return self._after_error[0] if self._after_error else None

    def catch(
        self,
        handler: sfn.IChainable,
        *,
        errors: Sequence[str] | None = None,
        outputs: Any = None,
        assign: Mapping[str, Any] | None = None,
    ) -> None:
        """Route the step's ``errors`` (default ``States.ALL``) through a release to
        ``handler``, which receives what the Catch outputs (``{"Error", "Cause"}`` by default)."""
        names = list(errors) if errors is not None else [sfn.Errors.ALL]
        count = len(self._after_error)
        release = self._capacity.release(
            self,
            f"{self._prefix}ReleaseAfterError{count + 1 if count else ''}",
            weight=self.weight,
            holder_variable=HOLDER_VARIABLE,
        )
        self._after_error.append(release)
        if isinstance(self._step, DirectTask):  # its own catch, not a guarded step's
            DirectTask.add_catch(self._step, release, errors=names, outputs=outputs, assign=assign)
        else:
            self._step.add_catch(release, errors=names, outputs=outputs, assign=assign)
        release.add_catch(handler, errors=[sfn.Errors.ALL], outputs=KEEP_INPUT)
        release.next(handler)
        self._caught_all = self._caught_all or sfn.Errors.ALL in names

    def finish(self) -> None:
        """Route the errors no catch took (once): through a release to a Fail state with the
        step's Error and Cause."""
        if not self._caught_all:
            self.catch(self._fail(), outputs=ERROR_ONLY)

    def _fail(self) -> sfn.Fail:
        return sfn.Fail(
            self,
            f"{self._prefix}Failed",
            error="{% $states.input.Error %}",
            cause="{% $states.input.Cause %}",
        )

    @property
    def start_state(self) -> sfn.State:
        """The acquire Task."""
        return self.acquire

    @property
    def end_states(self) -> list[sfn.INextable]:
        """The release Task (and the Pass its rare failure goes through)."""
        return [self.release, self.released]
