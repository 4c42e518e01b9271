"""The base of every lambdaless Task: a CDK state that renders JSONata ASL and brings its IAM."""

from __future__ import annotations

import decimal
import math
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, Self, cast

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from lambdaless._errors import at_path, invalid, require
from lambdaless._stack_env import StackEnv
from lambdaless.limits import ASL_MAX_INTEGER
from lambdaless.retry import RetryPolicy
from lambdaless.rules.expressions import check_value, check_variable_name
from lambdaless.rules.retries import check_error_names, check_retry_order, whole_seconds

__all__ = ["DirectTask", "StepCapacity", "StepGuard", "check_variable_name", "steps_in"]


#: Python values with no JSON form: jsii would fail on them with a dead kernel, not an error.
_NOT_JSON = (decimal.Decimal, set, frozenset, bytes, bytearray, complex)


def _require_json(where: str, value: Any) -> None:
    """Refuse a value an ASL field cannot carry (NaN, Infinity, ``Decimal``, sets, bytes),
    naming where it sits, e.g. ``Arguments.RequestBody.score``."""
    if (isinstance(value, float) and not math.isfinite(value)) or isinstance(value, _NOT_JSON):
        raise invalid(
            where,
            value,
            "a JSON value (text, a finite number, true/false, null, a list or an object); "
            "convert it first, e.g. float(Decimal) or a list for a set",
        )
    if isinstance(value, Mapping):
        for key, item in value.items():
            _require_json(f"{where}.{key}", item)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _require_json(f"{where}[{index}]", item)


class StepGuard(Protocol):
    """What a shared capacity puts around one step: acquire before it, release after it.

    (:class:`lambdaless.patterns.capacity.CapacityGuard`; a protocol here so the steps layer does
    not import the patterns layer.)"""

    @property
    def start_state(self) -> sfn.State: ...

    @property
    def end_states(self) -> list[sfn.INextable]: ...

    def catch(
        self,
        handler: sfn.IChainable,
        *,
        errors: Sequence[str] | None = None,
        outputs: Any = None,
        assign: Mapping[str, Any] | None = None,
    ) -> None: ...

    def finish(self) -> None: ...


class StepCapacity(Protocol):
    """A capacity a step can take as ``capacity=`` (:class:`~lambdaless.ModelCapacity`)."""

    def guard(self, scope: Construct, id: str, step: DirectTask) -> StepGuard: ...

    def watch(self, state_machine: sfn.IStateMachine) -> None: ...


class DirectTask(sfn.CustomState):
    """A Task state that calls a service directly, with its retries and IAM built in.

    It composes like any CDK state (``next``, ``add_retry``, ``add_catch``, inside ``Map`` and
    ``Parallel``, in ``Workflow`` or a plain ``sfn.StateMachine``). It always speaks JSONata;
    inside a JSONPath state machine it declares ``"QueryLanguage": "JSONata"`` for itself, which
    ASL allows state by state.

    The state JSON, default retriers included, is fixed at construction. aws-cdk-lib calls back
    into Python only to read the query language (:attr:`_query_language`) while rendering, and
    once per graph (:meth:`_when_bound_to_graph`) to register the step's IAM, as its own tasks
    do; each callback costs a jsii round trip, so there are no others.

    With ``capacity=`` (a step that calls a model) the object is a :class:`_Guarded` subclass:
    wherever it is chained it stands for ``acquire -> step -> release`` (see there).
    """

    def __new__(cls, *args: Any, capacity: StepCapacity | None = None, **kwargs: Any) -> Self:
        # A step with a capacity is built as its guarded variant: only those objects pay the
        # jsii callbacks that make them stand for their acquire/release chain.
        target: type[DirectTask] = cls
        if capacity is not None and not issubclass(cls, _Guarded):
            name = f"Guarded{cls.__name__}"
            target = type(
                name, (_Guarded, cls), {"__module__": cls.__module__, "__qualname__": name}
            )
        return cast(Self, super().__new__(target))

    @at_path
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        resource: str,
        arguments: Mapping[str, Any],
        output: Any,
        policy_statements: Sequence[iam.PolicyStatement],
        retries: Sequence[RetryPolicy],
        timeout: cdk.Duration | None,
        assign: Mapping[str, Any] | None,
        comment: str | None,
        wildcard_resources: Sequence[str] = (),
        heartbeat_seconds: int | None = None,
        prefix_grants: Mapping[str, str] | None = None,
        capacity: StepCapacity | None = None,
    ) -> None:
        """
        Args:
            wildcard_resources: resources of ``policy_statements`` that must end in a wildcard
                (one of :data:`lambdaless._nag.UNAVOIDABLE_WILDCARDS`); ``Workflow``
                acknowledges their cdk-nag findings with the rule's reason.
            heartbeat_seconds: the Task's ``HeartbeatSeconds``, for callback tasks.
            prefix_grants: S3 prefix ARNs of ``policy_statements`` (ending in ``*``) -> why the
                grant is a prefix (object names chosen per execution or by a service);
                ``Workflow`` acknowledges their cdk-nag findings with that reason. None by
                default.
            capacity: a shared capacity the step acquires before its call and releases after
                it, on every path; none by default.
        """
        timeout_seconds = (
            whole_seconds("timeout", timeout, ASL_MAX_INTEGER) if timeout is not None else None
        )
        require(comment is None or isinstance(comment, str), "comment", comment, "text or None")
        require(
            isinstance(retries, list | tuple) and all(isinstance(r, RetryPolicy) for r in retries),
            "retry",
            retries,
            "RetryPolicy values, e.g. RetryPolicy.bedrock_transient()",
        )
        for field, value in (("Arguments", arguments), ("Output", output), ("Assign", assign)):
            _require_json(field, value)
        check_retry_order("retry", [r.errors for r in retries])
        for retry in retries:
            check_error_names(
                "retry errors", retry.errors, resource=resource, heartbeat=bool(heartbeat_seconds)
            )
        state: dict[str, Any] = {
            "Type": "Task",
            "Comment": comment,
            "Resource": resource,
            "Arguments": dict(arguments),
            "Output": self._final_output(output),
            "Assign": dict(assign) if assign else None,
            "TimeoutSeconds": timeout_seconds,
            "HeartbeatSeconds": heartbeat_seconds,
            "Retry": [retry.to_asl() for retry in retries] or None,
        }
        self.state_json = {k: v for k, v in state.items() if v is not None}
        super().__init__(scope, id, state_json=self.state_json)
        self.step_name = id
        self._resource = resource
        self._heartbeat = bool(heartbeat_seconds)
        self._policy_statements = list(policy_statements)
        self.retries: tuple[RetryPolicy, ...] = tuple(retries)
        env = StackEnv.of(scope)
        #: the stack this step was built in: its ARNs and IAM are that stack's
        self.stack_env = env
        self.nag_wildcards = [env.finding_text(resource) for resource in wildcard_resources]
        #: each prefix grant (an ARN, possibly with tokens: a bucket's ARN) -> its reason;
        #: ``Workflow`` resolves it into cdk-nag's finding text
        self.nag_prefixes = dict(prefix_grants or {})
        #: the capacity this Task acquires (a capacity's acquire Task), or ``None``: a
        #: ``Workflow`` has the capacity watch its executions (see ``ModelCapacity.watch``)
        self.acquires: StepCapacity | None = None
        #: the acquire/release around this step (``capacity=``), or ``None``
        self.capacity_guard: StepGuard | None = None
        if capacity is not None:
            # wired while the step still stands for itself, then it stands for the guard
            self.capacity_guard = capacity.guard(scope, id, self)

    def _final_output(self, output: Any) -> Any:
        """The state's ``Output``; a subclass may reshape what its base class built (a plain
        Python method: aws-cdk-lib never calls it, so it costs no jsii callback)."""
        return output

    @property
    def policy_statements(self) -> list[iam.PolicyStatement]:
        """The statements this step adds to its state machine's role (a copy of the list)."""
        return list(self._policy_statements)

    @property
    def _query_language(self) -> sfn.QueryLanguage:
        # CustomState takes no query language. Telling CDK this state is JSONata makes CDK itself
        # render "QueryLanguage" inside JSONPath machines and Catch Output/Assign the JSONata way.
        return sfn.QueryLanguage.JSONATA

    def _when_bound_to_graph(self, graph: sfn.StateGraph) -> None:
        """Register this step's IAM with its graph, as aws-cdk-lib's tasks do (once per graph)."""
        super()._when_bound_to_graph(graph)
        for statement in self._policy_statements:
            graph.register_policy_statement(statement)

    def add_retry(
        self,
        *,
        errors: Sequence[str] | None = None,
        interval: cdk.Duration | None = None,
        max_attempts: int | float | None = None,
        backoff_rate: int | float | None = None,
        max_delay: cdk.Duration | None = None,
        jitter_strategy: sfn.JitterType | None = None,
    ) -> DirectTask:
        """Add a retrier. It comes before the step's own retriers, so it takes precedence for
        the errors it names; ``States.ALL`` belongs in ``retry=`` (ASL wants it last)."""
        names = list(errors) if errors is not None else [sfn.Errors.ALL]
        check_error_names("errors", names, resource=self._resource, heartbeat=self._heartbeat)
        require(
            not (self.retries and sfn.Errors.ALL in names),
            "errors",
            names,
            "named errors: this step's own retriers follow yours and ASL requires States.ALL "
            "in the last retrier (pass retry=[..., RetryPolicy(errors=('States.ALL',), ...)])",
        )
        super().add_retry(
            errors=names,
            interval=interval,
            max_attempts=max_attempts,
            backoff_rate=backoff_rate,
            max_delay=max_delay,
            jitter_strategy=jitter_strategy,
        )
        if self.retries:  # the order is intended, documented above
            cdk.Annotations.of(self).acknowledge_warning(
                "@aws-cdk/aws-stepfunctions:multipleRetrySources",
                "lambdaless steps put add_retry() retriers before their own on purpose",
            )
        return self

    def add_catch(
        self,
        handler: sfn.IChainable,
        *,
        errors: Sequence[str] | None = None,
        outputs: Any = None,
        assign: Mapping[str, Any] | None = None,
        result_path: str | None = None,
    ) -> DirectTask:
        """Route ``errors`` (default ``States.ALL``) to ``handler``.

        The handler receives ``{"Error": ..., "Cause": ...}`` unless ``outputs`` (a JSONata
        expression over ``$states.errorOutput``) says otherwise; ``assign`` sets variables.
        """
        require(result_path is None, "result_path", result_path, "None: this step speaks JSONata")
        for name in assign or {}:
            check_variable_name("assign", name)
        if assign is not None:
            check_value("assign", assign)
        if outputs is not None:
            check_value("outputs", outputs)
        names = list(errors) if errors is not None else [sfn.Errors.ALL]
        check_error_names("errors", names, resource=self._resource, heartbeat=self._heartbeat)
        super().add_catch(handler, errors=errors, outputs=outputs, assign=assign)
        return self


class _Guarded(DirectTask):
    """A step with ``capacity=``: chained, it stands for ``acquire -> step -> release``.

    Its ``start_state`` is the acquire and its ``end_states`` the release's, so
    ``step.next(other)``, ``Workflow(definition=step)``, ``Map.item_processor(step)`` or a Catch
    to ``step`` all take the capacity first. ``add_catch`` routes the errors through a release
    before the handler; errors no catch names go through a release to a Fail state with the
    step's own Error and Cause (added when the step joins its graph, so a user's ``States.ALL``
    catch replaces it). Until the guard is wired the step stands for itself.
    """

    @property
    def start_state(self) -> sfn.State:
        guard = getattr(self, "capacity_guard", None)
        return self if guard is None else guard.start_state

    @property
    def end_states(self) -> list[sfn.INextable]:
        guard = getattr(self, "capacity_guard", None)
        return [self] if guard is None else guard.end_states

    def next(self, next: sfn.IChainable) -> sfn.Chain:
        if self.capacity_guard is None:
            return super().next(next)
        return sfn.Chain.start(cast(sfn.IChainable, self.capacity_guard)).next(next)

    def add_catch(
        self,
        handler: sfn.IChainable,
        *,
        errors: Sequence[str] | None = None,
        outputs: Any = None,
        assign: Mapping[str, Any] | None = None,
        result_path: str | None = None,
    ) -> DirectTask:
        if self.capacity_guard is None:
            return super().add_catch(
                handler, errors=errors, outputs=outputs, assign=assign, result_path=result_path
            )
        require(result_path is None, "result_path", result_path, "None: this step speaks JSONata")
        self.capacity_guard.catch(handler, errors=errors, outputs=outputs, assign=assign)
        return self

    def _when_bound_to_graph(self, graph: sfn.StateGraph) -> None:
        if self.capacity_guard is not None:
            self.capacity_guard.finish()  # the default error route, unless a catch took all
        super()._when_bound_to_graph(graph)


def steps_in(definition: sfn.IChainable) -> list[DirectTask]:
    """The lambdaless steps reachable from ``definition``, inside ``Map`` and ``Parallel`` too.

    One ``find_reachable_states`` call per graph: walking the states one by one from Python
    would cost a jsii round trip per state and transition.
    """
    start: Any = definition.start_state  # a step with capacity= starts at its acquire
    graphs = [start]
    found: dict[int, DirectTask] = {}
    seen: set[int] = set()
    while graphs:
        for state in sfn.State.find_reachable_states(graphs.pop(), include_error_handlers=True):
            if id(state) in seen:
                continue
            seen.add(id(state))
            if isinstance(state, DirectTask):
                found[id(state)] = state
            elif isinstance(state, sfn.Parallel):
                graphs.extend(branch.start_state for branch in state._branches)
            elif isinstance(state, sfn.MapBase):
                for nested in (state._processor, state._iteration):
                    if nested is not None:
                        graphs.append(nested.start_state)
    return list(found.values())
