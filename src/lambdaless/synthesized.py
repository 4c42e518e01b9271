"""Read state machines back out of synthesized CloudFormation templates.

Everything downstream of synthesis (snapshots, analysis, the local runner) goes through this
module, so that all of them see the definition exactly as CloudFormation would receive it.
CloudFormation intrinsics inside ``DefinitionString`` are resolved to readable placeholders:
``{"Ref": "X"}`` becomes ``${X}``, ``{"Fn::GetAtt": ["X", "Arn"]}`` becomes ``${X.Arn}``, and a
pseudo parameter such as ``AWS::Partition`` becomes ``${AWS::Partition}`` unless a concrete value
is supplied (the local runner supplies ``aws``, a region and an account).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STATE_MACHINE_TYPE = "AWS::StepFunctions::StateMachine"
BUCKET_TYPE = "AWS::S3::Bucket"

#: Concrete values for a local account, used by the runner and by validators that reject
#: placeholders inside ARNs.
LOCAL_PSEUDO_PARAMETERS: Mapping[str, str] = {
    "AWS::Partition": "aws",
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "123456789012",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "LocalStack",
}


@dataclass(frozen=True)
class TemplateBucket:
    """An ``AWS::S3::Bucket`` of the template a state machine comes from."""

    logical_id: str
    #: the construct path (``Stack/Documents/Resource``), or the logical id without metadata
    path: str
    #: the literal ``BucketName`` property, or ``None`` when CloudFormation generates the name
    name: str | None

    @property
    def construct_id(self) -> str:
        """The bucket construct's id: ``Documents`` for ``Stack/Documents/Resource``."""
        parts = [p for p in self.path.split("/") if p and p != "Resource"]
        return parts[-1] if parts else self.logical_id


@dataclass(frozen=True)
class SynthesizedStateMachine:
    """One state machine found in a template: where it came from and its resolved ASL."""

    stack: str
    logical_id: str
    path: str
    type: str
    definition: dict[str, Any]
    resource: Mapping[str, Any]
    #: the template's S3 buckets (the local runner creates them, as a deploy would)
    buckets: tuple[TemplateBucket, ...] = field(default=())

    @property
    def name(self) -> str:
        """The construct path's last meaningful segment: ``Summarizer`` for
        ``Stack/Summarizer/StateMachine/Resource`` (a ``Workflow``'s inner id is skipped)."""
        parts = [p for p in self.path.split("/") if p and p != "Resource"]
        if len(parts) > 2 and parts[-1] == "StateMachine":
            parts.pop()
        return parts[-1] if parts else self.logical_id


def resolve(node: Any, pseudo: Mapping[str, str] | None = None) -> Any:
    """Resolve CloudFormation intrinsics in ``node`` to strings (see module docstring)."""
    values = pseudo or {}
    if isinstance(node, list):
        return [resolve(item, values) for item in node]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        ((key, arg),) = node.items()
        if key == "Ref":
            return values.get(arg, "${" + str(arg) + "}")
        if key == "Fn::GetAtt":
            target = arg if isinstance(arg, list) else str(arg).split(".", 1)
            return "${" + ".".join(str(p) for p in target) + "}"
        if key == "Fn::Join":
            separator, parts = arg
            return str(separator).join(str(resolve(p, values)) for p in parts)
        if key == "Fn::Sub":
            text = arg if isinstance(arg, str) else arg[0]
            for name, value in values.items():
                text = text.replace("${" + name + "}", value)
            return text
        if key == "Fn::Select":
            index, items = arg
            return resolve(items, values)[int(index)]
    return {k: resolve(v, values) for k, v in node.items()}


def state_machines(
    template: Mapping[str, Any],
    *,
    stack: str = "",
    pseudo: Mapping[str, str] | None = None,
    paths: Mapping[str, str] | None = None,
) -> list[SynthesizedStateMachine]:
    """Every state machine in one template, with its ``DefinitionString`` parsed to a dict.

    ``paths`` maps logical ids to construct paths where the template carries no
    ``aws:cdk:path`` metadata (an in-process ``App`` adds it only when the CDK CLI asks).
    """
    found = []
    resources = template.get("Resources", {})
    buckets = tuple(
        TemplateBucket(
            logical_id=logical_id,
            path=_path_of(logical_id, resource, paths),
            name=_literal_name(resource),
        )
        for logical_id, resource in resources.items()
        if resource.get("Type") == BUCKET_TYPE
    )
    for logical_id, resource in resources.items():
        if resource.get("Type") != STATE_MACHINE_TYPE:
            continue
        props = resource.get("Properties", {})
        raw = props.get("Definition") or resolve(props["DefinitionString"], pseudo)
        definition = json.loads(raw) if isinstance(raw, str) else resolve(raw, pseudo)
        substitutions = props.get("DefinitionSubstitutions") or {}
        if substitutions:
            text = json.dumps(definition)
            for name, value in substitutions.items():
                text = text.replace("${" + name + "}", str(resolve(value, pseudo)))
            definition = json.loads(text)
        found.append(
            SynthesizedStateMachine(
                stack=stack,
                logical_id=logical_id,
                path=_path_of(logical_id, resource, paths),
                type=str(props.get("StateMachineType", "STANDARD")),
                definition=definition,
                resource=resource,
                buckets=buckets,
            )
        )
    return found


def _path_of(logical_id: str, resource: Mapping[str, Any], paths: Mapping[str, str] | None) -> str:
    return str(
        resource.get("Metadata", {}).get("aws:cdk:path")
        or (paths or {}).get(logical_id, logical_id)
    )


def _literal_name(bucket: Mapping[str, Any]) -> str | None:
    name = bucket.get("Properties", {}).get("BucketName")
    return name if isinstance(name, str) else None


def _read_template(path: Path) -> Any:
    """A template file's JSON; a malformed one is a ``ValueError`` naming the file."""
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not a JSON template ({error})") from None


def templates_in(cdk_out: str | Path) -> dict[str, dict[str, Any]]:
    """Stack name -> template for every ``*.template.json`` in a cloud assembly folder."""
    folder = Path(cdk_out)
    if not folder.is_dir():
        raise FileNotFoundError(f"cdk_out={str(folder)!r} is not a folder; run `cdk synth` first")
    return {
        path.name.removesuffix(".template.json"): _read_template(path)
        for path in sorted(folder.rglob("*.template.json"))
    }


def load(source: Any, *, pseudo: Mapping[str, str] | None = None) -> list[SynthesizedStateMachine]:
    """State machines from a CDK ``Stack``, a template dict, a template file, a cdk.out folder,
    or any construct inside a stack (a ``Workflow``: the state machines under it)."""
    if isinstance(source, Mapping):
        return state_machines(source, pseudo=pseudo)
    if isinstance(source, str | Path):
        path = Path(source)
        if path.is_file():
            return state_machines(_read_template(path), stack=path.stem, pseudo=pseudo)
        return [
            machine
            for name, template in templates_in(path).items()
            for machine in state_machines(template, stack=name, pseudo=pseudo)
        ]
    from aws_cdk import CfnResource, Stack
    from aws_cdk.assertions import Template

    if isinstance(source, Stack):
        template = Template.from_stack(source).to_json()
        paths = {
            source.resolve(node.logical_id): node.node.path
            for node in source.node.find_all()
            if isinstance(node, CfnResource)
            and node.cfn_resource_type in (STATE_MACHINE_TYPE, BUCKET_TYPE)
        }
        return state_machines(template, stack=source.stack_name, pseudo=pseudo, paths=paths)
    from constructs import Construct

    if isinstance(source, Construct):
        prefix = source.node.path + "/"
        return [m for m in load(Stack.of(source), pseudo=pseudo) if m.path.startswith(prefix)]
    raise TypeError(
        f"source={source!r} is not a Stack, a construct, a template dict, a template file or a "
        "cdk.out folder"
    )
