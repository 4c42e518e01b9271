"""What a test asserts about a synthesized app: its state machine definitions and IAM statements.

Both read the template CloudFormation would receive (``aws_cdk.assertions.Template``) and
resolve intrinsics to readable placeholders (``${AWS::Region}``, ``${Table.Arn}``; see
:mod:`lambdaless.synthesized`), so the same app gives the same JSON on every run: a snapshot
changes only when the app does.

>>> definitions(stack)        # {"Summarizer": {"StartAt": "Summarize", "States": {...}}}
>>> definition(workflow)      # the ASL of one Workflow
>>> iam_statements(workflow)  # the statements of its role, resolved

Importing this module loads nothing heavy; aws-cdk-lib loads on the first call.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lambdaless.synthesized import load, resolve

Source = Any
"""A CDK ``Stack``, a ``Workflow`` (or any construct in a stack), a template dict, a template
file or a cdk.out folder."""


def definitions(source: Source) -> dict[str, dict[str, Any]]:
    """Every state machine's resolved ASL, by name (the ``Workflow``'s id, or the construct path
    when two machines share a name)."""
    machines = load(source)
    names = [m.name for m in machines]
    return {
        (m.name if names.count(m.name) == 1 else m.path): m.definition
        for m in sorted(machines, key=lambda m: m.path)
    }


def definition(source: Source) -> dict[str, Any]:
    """The resolved ASL of the only state machine in ``source`` (``ValueError`` otherwise)."""
    machines = load(source)
    if len(machines) != 1:
        found = ", ".join(m.path for m in machines) or "none"
        raise ValueError(f"source={source!r} holds {len(machines)} state machines: {found}")
    return machines[0].definition


def iam_statements(source: Source) -> list[dict[str, Any]]:
    """The resolved statements of every IAM policy in a stack, or of the policies attached to a
    ``Workflow``'s role (or any construct with a ``role``), in template order."""
    template, roles = _template_and_roles(source)
    statements: list[dict[str, Any]] = []
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") != "AWS::IAM::Policy":
            continue
        props = resource.get("Properties", {})
        attached = {str(resolve(role)) for role in props.get("Roles", [])}
        if roles is not None and not attached & roles:
            continue
        statements.extend(resolve(props["PolicyDocument"]["Statement"]))
    return statements


def _template_and_roles(source: Source) -> tuple[Mapping[str, Any], set[str] | None]:
    """The template holding ``source``, and the ``${LogicalId}`` of its role when ``source`` is a
    construct with one (``None``: every policy)."""
    import json

    if isinstance(source, Mapping):
        return source, None
    if isinstance(source, str | Path):
        return dict(json.loads(Path(source).read_text())), None
    from aws_cdk import CfnElement, Stack
    from aws_cdk.assertions import Template

    stack = Stack.of(source)
    template = Template.from_stack(stack).to_json()
    role = getattr(source, "role", None)
    if source is stack or role is None:
        return template, None
    cfn = role.node.default_child
    if not isinstance(cfn, CfnElement):
        return template, set()  # an imported role: its policies are not in this template
    return template, {"${" + stack.resolve(cfn.logical_id) + "}"}
