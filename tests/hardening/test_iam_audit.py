"""An IAM audit of every policy document in every example template.

Violations:

* a wildcard action (``*``, ``service:*``, ``service:Get*``) or ``NotAction``, unless it is in
  :data:`AWS_REQUIRED`: today the default KMS key policy (AWS requires it so the key stays
  manageable through IAM) and aws-cdk-lib's ``kms:Decrypt*`` for log delivery on a
  customer-managed key, a pattern that matches exactly one action;
* ``Resource: "*"`` (or ``NotResource``) on a bedrock, secretsmanager or events action, unless
  the action is in :data:`AWS_REQUIRED_RESOURCE_WILDCARDS`: actions AWS documents without
  resource-level permissions, each with the AWS page that says so;
* ``states:InvokeHTTPEndpoint`` without a ``states:HTTPEndpoint`` condition, or with a
  ``StringLike`` pattern whose ``*`` can extend the host (``https://api.example.com*`` also
  matches ``https://api.example.com.evil.tld``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from tests.hardening._support import Synthesized

SENSITIVE_SERVICES = ("bedrock", "secretsmanager", "events")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _is_account_root(principal: Any) -> bool:
    """``{"AWS": arn:...:iam::<account>:root}`` as CDK renders it (a Join ending in ``:root``)."""
    aws = principal.get("AWS") if isinstance(principal, Mapping) else None
    text = str(aws)
    return aws is not None and text.rstrip("']}\" ").endswith(":root")


#: (resource type, predicate on the statement, why AWS requires it)
AWS_REQUIRED = (
    (
        "AWS::KMS::Key",
        lambda s: _as_list(s.get("Action")) == ["kms:*"] and _is_account_root(s.get("Principal")),
        "default key policy: the account root keeps kms:* so IAM policies can manage the key "
        "(AWS KMS docs, 'Default key policy')",
    ),
    (
        "AWS::KMS::Key",
        lambda s: (
            _as_list(s.get("Action")) == ["kms:Decrypt*"]
            and s.get("Principal") == {"Service": "delivery.logs.amazonaws.com"}
        ),
        "written by aws-cdk-lib's CustomerManagedEncryptionConfiguration for vended-log "
        "delivery; 'Decrypt*' matches exactly one KMS action, kms:Decrypt (Service "
        "Authorization Reference, AWS KMS)",
    ),
)

#: Sensitive actions that AWS authorizes only on ``Resource: "*"`` (action -> the AWS page). The
#: Service Authorization Reference lists no resource type for them, and the service's own guide
#: grants them on "*".
AWS_REQUIRED_RESOURCE_WILDCARDS: dict[str, str] = {
    "bedrock:RetrieveAndGenerate": (
        "no resource-level permissions: the policy for querying a knowledge base grants it on "
        "Resource '*' and bedrock:Retrieve on the knowledge base (Bedrock user guide, "
        "https://docs.aws.amazon.com/bedrock/latest/userguide/"
        "knowledge-base-prereq-permissions-general.html)"
    ),
}


def policy_statements(
    template: Mapping[str, Any],
) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    """``(logical id, resource type, statement)`` of every policy document, wherever it sits."""

    def walk(node: Any) -> Iterator[Mapping[str, Any]]:
        if isinstance(node, Mapping):
            statements = node.get("Statement")
            if isinstance(statements, list) and all(isinstance(s, Mapping) for s in statements):
                yield from statements
                return
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)

    for logical_id, resource in template.get("Resources", {}).items():
        for statement in walk(resource.get("Properties", {})):
            yield logical_id, resource["Type"], statement


def _http_endpoint_problem(statement: Mapping[str, Any]) -> str | None:
    conditions = statement.get("Condition") or {}
    endpoints = {
        operator: values.get("states:HTTPEndpoint")
        for operator, values in conditions.items()
        if isinstance(values, Mapping) and "states:HTTPEndpoint" in values
    }
    if not endpoints:
        return "states:InvokeHTTPEndpoint without a states:HTTPEndpoint condition"
    for operator, values in endpoints.items():
        for value in _as_list(values):
            text = str(value)
            if "Like" in operator and "*" in text:
                prefix = text.split("*", 1)[0]
                host_closed = "://" in prefix and "/" in prefix.split("://", 1)[1]
                if not host_closed:
                    return f"{operator} {text!r} lets '*' extend the host"
    return None


def audit(template: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """``(violations, allowed exceptions)`` in one template."""
    violations: list[str] = []
    allowed: list[str] = []
    for logical_id, kind, statement in policy_statements(template):
        if statement.get("Effect") != "Allow":
            continue
        where = f"{logical_id} ({kind})"
        actions = [str(a) for a in _as_list(statement.get("Action", []))]
        resources = _as_list(statement.get("Resource", []))
        if "NotAction" in statement:
            violations.append(f"{where}: NotAction {statement['NotAction']}")
        if "NotResource" in statement:
            violations.append(f"{where}: NotResource {statement['NotResource']}")
        wildcards = [a for a in actions if "*" in a or "?" in a]
        if wildcards:
            reasons = [why for k, ok, why in AWS_REQUIRED if k == kind and ok(statement)]
            if reasons:
                allowed.append(f"{where}: {wildcards}: {reasons[0]}")
            else:
                violations.append(f"{where}: wildcard action {wildcards}")
        if "*" in resources:
            sensitive = [a for a in actions if a.split(":", 1)[0].lower() in SENSITIVE_SERVICES]
            required = [a for a in sensitive if a in AWS_REQUIRED_RESOURCE_WILDCARDS]
            sensitive = [a for a in sensitive if a not in AWS_REQUIRED_RESOURCE_WILDCARDS]
            if sensitive:
                violations.append(f"{where}: Resource '*' on {sensitive}")
            allowed += [
                f"{where}: Resource '*' on {a}: {AWS_REQUIRED_RESOURCE_WILDCARDS[a]}"
                for a in required
            ]
        if "states:InvokeHTTPEndpoint" in actions:
            problem = _http_endpoint_problem(statement)
            if problem:
                violations.append(f"{where}: {problem}")
    return violations, allowed


def test_examples_pass_the_iam_audit(synthesized: Synthesized) -> None:
    violations: list[str] = []
    allowed: list[str] = []
    statements = 0
    for name, template in synthesized.templates.items():
        found, exceptions = audit(template)
        violations += [f"{name}/{v}" for v in found]
        allowed += [f"{name}/{a}" for a in exceptions]
        statements += sum(1 for _ in policy_statements(template))
    print(
        f"\nIAM audit: {len(synthesized.templates)} stacks, {statements} statements, "
        f"{len(violations)} violations, {len(allowed)} AWS-required exception(s)"
    )
    for line in allowed:
        print("  allowed:", line)
    assert violations == [], "\n".join(violations)


def _template(statement: Mapping[str, Any], kind: str = "AWS::IAM::Policy") -> dict[str, Any]:
    return {
        "Resources": {
            "P": {"Type": kind, "Properties": {"PolicyDocument": {"Statement": [statement]}}}
        }
    }


def test_the_audit_catches_each_violation() -> None:
    bad = [
        {"Effect": "Allow", "Action": "bedrock:InvokeModel", "Resource": "*"},
        {"Effect": "Allow", "Action": "bedrock:Retrieve", "Resource": "*"},
        {
            "Effect": "Allow",
            "Action": ["bedrock:RetrieveAndGenerate", "bedrock:Retrieve"],
            "Resource": "*",
        },
        {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": ["*"]},
        {"Effect": "Allow", "Action": "events:RetrieveConnectionCredentials", "Resource": "*"},
        {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"},
        {"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b"},
        {"Effect": "Allow", "Action": "xray:Put*", "Resource": "*"},
        {"Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:s3:::b"},
        {"Effect": "Allow", "Action": "states:InvokeHTTPEndpoint", "Resource": "arn:x"},
        {
            "Effect": "Allow",
            "Action": "states:InvokeHTTPEndpoint",
            "Resource": "arn:x",
            "Condition": {"StringLike": {"states:HTTPEndpoint": "https://api.example.com*"}},
        },
    ]
    for statement in bad:
        violations, _ = audit(_template(statement))
        assert violations, statement
    fine = [
        {"Effect": "Allow", "Action": "xray:PutTraceSegments", "Resource": "*"},
        {"Effect": "Deny", "Action": "*", "Resource": "*"},
        {
            "Effect": "Allow",
            "Action": "states:InvokeHTTPEndpoint",
            "Resource": "arn:x",
            "Condition": {"StringLike": {"states:HTTPEndpoint": "https://api.example.com/v1/*"}},
        },
        {
            "Effect": "Allow",
            "Action": "states:InvokeHTTPEndpoint",
            "Resource": "arn:x",
            "Condition": {"StringEquals": {"states:HTTPEndpoint": "https://api.example.com/a"}},
        },
    ]
    for statement in fine:
        assert audit(_template(statement)) == ([], []), statement
    root = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::1:root"]]}
    key_policy = {"Effect": "Allow", "Action": "kms:*", "Principal": {"AWS": root}, "Resource": "*"}
    violations, allowed = audit(
        {
            "Resources": {
                "K": {
                    "Type": "AWS::KMS::Key",
                    "Properties": {"KeyPolicy": {"Statement": [key_policy]}},
                }
            }
        }
    )
    assert (violations, len(allowed)) == ([], 1)
    assert audit(_template(key_policy))[0], "kms:* outside a key policy is a violation"


def test_resource_wildcards_aws_requires_are_allowed_with_their_page() -> None:
    statement = {"Effect": "Allow", "Action": "bedrock:RetrieveAndGenerate", "Resource": "*"}
    violations, allowed = audit(_template(statement))
    assert violations == []
    assert len(allowed) == 1
    assert "knowledge-base-prereq-permissions-general" in allowed[0]
    for action, why in AWS_REQUIRED_RESOURCE_WILDCARDS.items():
        assert "https://docs.aws.amazon.com/" in why, action
