"""The base of every lambdaless Task: a CDK state that renders JSONata ASL and brings its IAM."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from lambdaless._errors import require, whole_seconds
from lambdaless.retry import RetryPolicy

#: Largest TimeoutSeconds ASL accepts.
MAX_TIMEOUT_SECONDS = 99_999_999


def check_variable_name(argument: str, name: str | None) -> None:
    """A JSONata variable name as ASL allows it in ``Assign`` (letters, digits, underscore)."""
    require(
        name is None
        or (isinstance(name, str) and name.isidentifier() and name.isascii() and len(name) <= 80),
        argument,
        name,
        "a variable name of letters, digits and underscores, not starting with a digit",
    )


class DirectTask(sfn.CustomState):
    """A Task state that calls a service directly, with its retries and IAM built in.

    It composes like any CDK state (``next``, ``add_retry``, ``add_catch``, inside ``Map`` and
    ``Parallel``). It always renders JSONata; inside a JSONPath state machine it declares
    ``"QueryLanguage": "JSONata"`` for itself, which ASL allows state by state.
    """

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
    ) -> None:
        timeout_seconds = (
            whole_seconds("timeout", timeout, MAX_TIMEOUT_SECONDS) if timeout is not None else None
        )
        require(comment is None or isinstance(comment, str), "comment", comment, "text or None")
        require(
            isinstance(retries, list | tuple) and all(isinstance(r, RetryPolicy) for r in retries),
            "retry",
            retries,
            "RetryPolicy values, e.g. RetryPolicy.bedrock_transient()",
        )
        state: dict[str, Any] = {
            "Type": "Task",
            "Comment": comment,
            "Resource": resource,
            "Arguments": dict(arguments),
            "Output": output,
            "Assign": dict(assign) if assign else None,
            "TimeoutSeconds": timeout_seconds,
        }
        super().__init__(scope, id, state_json={k: v for k, v in state.items() if v is not None})
        self._policy_statements = list(policy_statements)
        self._catch_fields: list[tuple[str, list[str], dict[str, Any]]] = []
        # Rendered in to_state_json rather than through add_retry: the same ASL without a
        # dozen jsii calls per step. Retriers added later with add_retry() come after these.
        self._retriers = [retry.to_asl() for retry in retries]

    @property
    def policy_statements(self) -> list[iam.PolicyStatement]:
        """The statements this step adds to its state machine's role."""
        return list(self._policy_statements)

    def bind_to_graph(self, graph: sfn.StateGraph) -> None:
        """Register this step's IAM with the graph, as aws-cdk-lib's tasks do."""
        super().bind_to_graph(graph)
        for statement in self._policy_statements:
            graph.register_policy_statement(statement)

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
        names = list(errors) if errors is not None else [sfn.Errors.ALL]
        super().add_catch(handler, errors=names)
        fields = {"Output": outputs, "Assign": dict(assign) if assign else None}
        # CustomState renders catches the JSONPath way and drops Output/Assign: keep them here.
        self._catch_fields.append((handler.start_state.state_id, names, fields))
        return self

    def to_state_json(self, query_language: sfn.QueryLanguage | None = None) -> Any:
        """The state's ASL; JSONata even inside a JSONPath state machine."""
        state = dict(super().to_state_json(query_language))
        if query_language != sfn.QueryLanguage.JSONATA:
            state["QueryLanguage"] = "JSONata"
        if self._retriers:
            state["Retry"] = [*self._retriers, *state.get("Retry", [])]
        catches = []
        for catch in state.get("Catch", []):
            rendered = {k: v for k, v in catch.items() if v is not None and k != "ResultPath"}
            for next_id, names, fields in self._catch_fields:
                if (rendered.get("Next"), rendered.get("ErrorEquals")) == (next_id, names):
                    rendered.update({k: v for k, v in fields.items() if v is not None})
            catches.append(rendered)
        if catches:
            state["Catch"] = catches
        return state
