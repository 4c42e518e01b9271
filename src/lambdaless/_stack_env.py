"""A stack's partition, region and account, read once per scope, and its IAM statements,
built once per stack.

Each read of ``Stack.of(scope)`` or of a stack attribute is a call into the jsii Node process
(about 0.15 ms); a workflow of a few steps would otherwise spend more time reading its stack
than aws-cdk-lib spends building it. The values never change once a stack exists, and
steps share the statements they grant alike (:meth:`StackEnv.statement`).
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import IConstruct

_BY_SCOPE: weakref.WeakKeyDictionary[IConstruct, StackEnv] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class StackEnv:
    """Where a stack deploys; ``region`` is a token for an environment-agnostic stack."""

    partition: str
    region: str
    account: str
    region_known: bool
    _statements: dict[str, iam.PolicyStatement] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )

    @classmethod
    def of(cls, scope: IConstruct) -> StackEnv:
        """The environment of ``scope``'s stack."""
        env = _BY_SCOPE.get(scope)
        if env is None:
            stack = scope if isinstance(scope, cdk.Stack) else cdk.Stack.of(scope)
            env = _BY_SCOPE.get(stack)
            if env is None:
                region = stack.region
                env = cls(
                    stack.partition, region, stack.account, not cdk.Token.is_unresolved(region)
                )
                _BY_SCOPE[stack] = env
            _BY_SCOPE[scope] = env
        return env

    def arn(self, service: str, resource: str, *, region: str | None = None) -> str:
        """``arn:<partition>:<service>:<region>:<account>:<resource>`` in this environment."""
        where = self.region if region is None else region
        return f"arn:{self.partition}:{service}:{where}:{self.account}:{resource}"

    def finding_text(self, text: str) -> str:
        """``text`` as cdk-nag writes it in a finding id: the stack's pseudo-parameter tokens
        become ``<AWS::Partition>``, ``<AWS::Region>`` and ``<AWS::AccountId>``."""
        for value, name in (
            (self.partition, "<AWS::Partition>"),
            (self.region, "<AWS::Region>"),
            (self.account, "<AWS::AccountId>"),
        ):
            if value.startswith("${Token["):
                text = text.replace(value, name)
        return text

    def statement(
        self,
        actions: Sequence[str],
        resources: Sequence[str],
        conditions: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> iam.PolicyStatement:
        """An IAM statement, built once per stack however many steps grant it.

        Creating a ``PolicyStatement`` is a call into aws-cdk-lib; steps that call the same
        model or API share one object (aws-cdk-lib freezes a statement once a policy renders
        it, so sharing it between roles is safe).
        """
        key = json.dumps([list(actions), list(resources), conditions], sort_keys=True)
        found = self._statements.get(key)
        if found is None:
            found = self._statements[key] = iam.PolicyStatement(
                actions=list(actions),
                resources=list(resources),
                conditions=dict(conditions) if conditions else None,
            )
        return found

    def foundation_model_arn(self, region: str, model_id: str) -> str:
        """A foundation model's ARN (no account) in ``region``, or region-less with ``""``."""
        return f"arn:{self.partition}:bedrock:{region}::foundation-model/{model_id}"
