"""Acknowledging cdk-nag findings where lambdaless causes them, so users inherit the reasons.

cdk-nag 3 runs as an aws-cdk-lib policy-validation plugin and reads acknowledgements recorded
with aws-cdk-lib's own ``Validations.of(construct).acknowledge(...)``: no cdk-nag import is
needed at run time. Each acknowledgement names one finding (``RuleId[FindingId]``) on one
resource, so nothing else on that resource, and nothing on its neighbours, is hidden.
``Workflow`` records its acknowledgements at synth, when cdk-nag is loaded
(:mod:`lambdaless.synth_lint`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import IConstruct

#: cdk-nag 3 reports plugin findings as ``<pack>::<rule>[<finding>]``.
AWS_SOLUTIONS = "AwsSolutions::"


@dataclass(frozen=True)
class UnavoidableWildcard:
    """A resource wildcard AWS imposes on ``actions``, and the reason (cdk-nag IAM5)."""

    suffix: str
    actions: frozenset[str]
    reason: str
    condition_key: str | None = None

    def matches(self, resource: str) -> bool:
        """Whether ``resource`` is this wildcard: a suffix, or exactly ``*`` for ``"*"``."""
        return resource == "*" if self.suffix == "*" else resource.endswith(self.suffix)

    def covers(self, statement: Mapping[str, Any], resource: str) -> bool:
        """Whether ``resource`` in ``statement`` is this wildcard, on these actions only."""
        action = statement.get("Action")
        actions = set(action if isinstance(action, list) else [action])
        conditions = json.dumps(statement.get("Condition") or {})
        return (
            self.matches(resource)
            and actions <= self.actions
            and (self.condition_key is None or self.condition_key in conditions)
        )


#: Wildcard resources lambdaless steps grant because the ARN cannot be known at deploy time.
UNAVOIDABLE_WILDCARDS: tuple[UnavoidableWildcard, ...] = (
    UnavoidableWildcard(
        ":model-customization-job/*",
        frozenset(
            {
                "bedrock:CreateModelCustomizationJob",
                "bedrock:GetModelCustomizationJob",
                "bedrock:StopModelCustomizationJob",
            }
        ),
        "Bedrock gives a customization job an ARN with an id it generates when the job starts "
        "(model-customization-job/<id>), so the workflow can only name the job ARN pattern.",
    ),
    UnavoidableWildcard(
        ":model-invocation-job/*",
        frozenset({"bedrock:CreateModelInvocationJob", "bedrock:GetModelInvocationJob"}),
        "Bedrock gives a batch inference job an ARN with an id it generates when the job is "
        "created (model-invocation-job/<id>), so the workflow can only name the job ARN pattern.",
    ),
    UnavoidableWildcard(
        ":custom-model/*",
        frozenset({"bedrock:CreateModelCustomizationJob"}),
        "The custom model a customization job creates gets an ARN with an id Bedrock "
        "generates (custom-model/<id>); CreateModelCustomizationJob is authorized on it.",
    ),
    UnavoidableWildcard(
        "*",
        frozenset({"bedrock:RetrieveAndGenerate"}),
        "bedrock:RetrieveAndGenerate has no resource-level permissions: AWS requires "
        "Resource '*' (Bedrock user guide, knowledge-base-prereq-permissions-general); "
        "the knowledge base is scoped by bedrock:Retrieve and the model by bedrock:InvokeModel.",
    ),
)


def acknowledge(resource: IConstruct, finding: str, reason: str) -> None:
    """Acknowledge the AwsSolutions ``finding`` (e.g. ``AwsSolutions-IAM5[Resource::*]``)."""
    acknowledge_all(resource, {finding: reason})


def acknowledge_all(scope: IConstruct, reasons: Mapping[str, str]) -> None:
    """Acknowledge AwsSolutions findings (finding id -> reason) on ``scope`` and below, in one
    call (each call into aws-cdk-lib costs a round trip to its Node process)."""
    cdk.Validations.of(scope).acknowledge(
        *(cdk.Acknowledgment(id=AWS_SOLUTIONS + f, reason=r) for f, r in sorted(reasons.items()))
    )


def wildcard_reason(text: str) -> str:
    """The reason for an :data:`UNAVOIDABLE_WILDCARDS` resource, by its finding text."""
    return next(rule.reason for rule in UNAVOIDABLE_WILDCARDS if rule.matches(text))


def default_policy_resource(role: IConstruct) -> iam.CfnPolicy | None:
    """The ``AWS::IAM::Policy`` resource of a role's default policy, if it has one."""
    policy = role.node.try_find_child("DefaultPolicy")
    resource = policy.node.default_child if policy is not None else None
    return resource if isinstance(resource, iam.CfnPolicy) else None


def finding_text(value: Any) -> str:
    """A resolved template value as cdk-nag writes it in a finding id.

    ``{"Ref": "AWS::Region"}`` becomes ``<AWS::Region>`` and ``{"Fn::GetAtt": ["X", "Arn"]}``
    becomes ``<X.Arn>``, inside ``Fn::Join`` text.
    """
    if isinstance(value, dict) and len(value) == 1:
        ((key, arg),) = value.items()
        if key == "Ref":
            return f"<{arg}>"
        if key == "Fn::GetAtt":
            return "<" + ".".join(str(p) for p in arg) + ">"
        if key == "Fn::Join":
            separator, parts = arg
            return str(separator).join(finding_text(p) for p in parts)
    if isinstance(value, dict | list):  # other intrinsics: as compact JSON, as cdk-nag writes
        return json.dumps(value, separators=(",", ":"))
    return str(value)
