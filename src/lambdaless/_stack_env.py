"""A stack's partition, region and account, read once per construct.

Each read of ``Stack.of(scope)`` or of a stack attribute is a call into the jsii Node process
(about 0.15 ms); a workflow of a few steps would otherwise spend more time reading its stack
than aws-cdk-lib spends building it. The values never change once a stack exists, so
:meth:`StackEnv.of` keeps them on the constructs themselves (the stack, and the scope asked
about): the cache lives and dies with its construct tree, never in this module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import IConstruct

#: The attribute of a construct that holds its stack's :class:`StackEnv`.
_ATTRIBUTE = "_lambdaless_stack_env"


@dataclass(frozen=True)
class StackEnv:
    """Where a stack deploys; ``region`` is a token for an environment-agnostic stack."""

    partition: str
    region: str
    account: str
    region_known: bool

    @classmethod
    def of(cls, scope: IConstruct) -> StackEnv:
        """The environment of ``scope``'s stack."""
        env: StackEnv | None = getattr(scope, _ATTRIBUTE, None)
        if env is None:
            stack = scope if isinstance(scope, cdk.Stack) else cdk.Stack.of(scope)
            env = getattr(stack, _ATTRIBUTE, None)
            if env is None:
                region = stack.region
                env = cls(
                    stack.partition, region, stack.account, not cdk.Token.is_unresolved(region)
                )
                setattr(stack, _ATTRIBUTE, env)
            setattr(scope, _ATTRIBUTE, env)
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
        """A new IAM statement: each step owns its statements (aws-cdk-lib merges equal
        statements of one policy when it renders it)."""
        return iam.PolicyStatement(
            actions=list(actions),
            resources=list(resources),
            conditions=dict(conditions) if conditions else None,
        )

    def foundation_model_arn(self, region: str, model_id: str) -> str:
        """A foundation model's ARN (no account) in ``region``, or region-less with ``""``."""
        return f"arn:{self.partition}:bedrock:{region}::foundation-model/{model_id}"
