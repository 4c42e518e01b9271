"""The limits lint at synth, as an aws-cdk-lib policy-validation plugin.

The first ``Workflow`` of an app registers one :class:`LimitsPlugin` on the app (its Stage).
After synthesis, aws-cdk-lib hands the plugin the template files; the plugin lints the state
machines of the app's Workflows there, the same template-only path as ``lambdaless inspect``.
Unacknowledged errors fail ``cdk synth`` (and ``app.synth()``) with aws-cdk-lib's validation
report, naming the state machine, the state and the numbers; warnings are reported without
failing. Acknowledge a finding with :func:`lambdaless.analysis.acknowledge` (with a reason,
kept in the template; each finding prints the call, :func:`how_to_acknowledge`), or with
aws-cdk-lib's ``Validations.of(workflow).acknowledge(...)`` using the id the report prints.

Linting the written templates costs no call into aws-cdk-lib per workflow: rendering each
definition again during synth used to cost more than building the workflow.

The plugin also records each Workflow's cdk-nag acknowledgements (the wildcards AWS imposes on
its role), when cdk-nag is loaded: aws-cdk-lib matches acknowledgements to findings after every
plugin has run, so recording them here costs apps without cdk-nag nothing.

This is the construct side's adapter of the lint: :mod:`lambdaless.analysis` reads templates and
ASL only and never imports aws-cdk-lib.
"""

from __future__ import annotations

import datetime
import json
import sys
from collections.abc import Mapping
from pathlib import Path

import aws_cdk as cdk
import jsii
from constructs import IConstruct

from lambdaless._nag import acknowledge_all
from lambdaless.analysis.lint import Finding, lint
from lambdaless.rules.lifecycle import synth_date
from lambdaless.synthesized import state_machines

PLUGIN_NAME = "lambdaless"


@jsii.implements(cdk.IPolicyValidationPlugin)
class LimitsPlugin:
    """Lints the state machines of an app's Workflows in its synthesized templates."""

    def __init__(self, today: datetime.date) -> None:
        #: the day model lifecycles are judged on (the app's ``lambdaless:today``, or today)
        self.today = today
        #: construct paths (``/Stack/Workflow/StateMachine/Resource``) of the machines to lint
        self.paths: set[str] = set()
        #: cdk-nag acknowledgements (finding -> reason) to record on each Workflow
        self.nag_acknowledgements: list[tuple[IConstruct, Mapping[str, str]]] = []

    @property
    def name(self) -> str:
        return PLUGIN_NAME

    @property
    def version(self) -> str | None:
        return None

    @property
    def rule_ids(self) -> list[str] | None:
        return None

    def validate(self, context: cdk.IPolicyValidationContext) -> cdk.PolicyValidationPluginReport:
        if "cdk_nag" in sys.modules:  # only cdk-nag reports AwsSolutions findings
            for workflow, reasons in self.nag_acknowledgements:
                acknowledge_all(workflow, reasons)
        self.nag_acknowledgements.clear()
        violations = []
        blocking = False
        for template_path in context.template_paths:
            for logical_id, finding in self._findings(Path(template_path)):
                if finding.acknowledged is not None:
                    continue
                blocking = blocking or finding.blocking
                violations.append(
                    cdk.PolicyViolation(
                        rule_name=finding.rule,
                        description=f"{finding.describe()} {how_to_acknowledge(finding)}",
                        severity=finding.severity,
                        violating_resources=[
                            cdk.PolicyViolatingResource(
                                locations=[f"Resources/{logical_id}/Properties/DefinitionString"],
                                resource_logical_id=logical_id,
                                template_path=template_path,
                            )
                        ],
                    )
                )
        return cdk.PolicyValidationPluginReport(success=not blocking, violations=violations)

    def _findings(self, template_path: Path) -> list[tuple[str, Finding]]:
        ours = {
            logical_id: path
            for path, logical_id in _logical_ids(template_path).items()
            if path in self.paths
        }
        if not ours:
            return []
        template = json.loads(template_path.read_text())
        stack = template_path.name.removesuffix(".template.json")
        return [
            (machine.logical_id, finding)
            for machine in state_machines(template, stack=stack, paths=ours)
            if machine.logical_id in ours
            for finding in lint(machine, today=self.today)
        ]


def how_to_acknowledge(finding: Finding) -> str:
    """The one statement that accepts ``finding``, to run where the app builds its Workflow."""
    workflow = finding.state_machine.strip("/").removesuffix("/StateMachine")
    state = f"state={finding.state!r}, " if finding.state else ""
    return (
        "To accept it, give the reason it cannot happen: from lambdaless.analysis import "
        f"acknowledge; acknowledge(workflow, {finding.rule!r}, {state}reason='<why>') "
        f"where workflow is the Workflow {workflow}."
    )


def _logical_ids(template_path: Path) -> dict[str, str]:
    """Construct path -> logical id of every resource in a template, from the cloud assembly
    manifest beside it (aws-cdk-lib records each resource's ``aws:cdk:logicalId`` there)."""
    manifest = json.loads((template_path.parent / "manifest.json").read_text())
    for artifact in manifest.get("artifacts", {}).values():
        if artifact.get("properties", {}).get("templateFile") != template_path.name:
            continue
        metadata = artifact.get("metadata") or {}
        extra = artifact.get("additionalMetadataFile")
        if extra:
            metadata = {**metadata, **json.loads((template_path.parent / extra).read_text())}
        return {
            path: entry["data"]
            for path, entries in metadata.items()
            for entry in entries
            if entry.get("type") == "aws:cdk:logicalId"
        }
    return {}


#: The attribute of a Stage (an App) that holds its :class:`LimitsPlugin`.
_ATTRIBUTE = "_lambdaless_limits_plugin"


def at_synth(
    scope: IConstruct,
    workflow_id: str,
    workflow: IConstruct,
    nag_acknowledgements: Mapping[str, str],
) -> None:
    """When the app synthesizes, lint the state machine of ``workflow`` (``workflow_id`` in
    ``scope``) and, if cdk-nag runs, acknowledge ``nag_acknowledgements`` on it.

    The app's plugin is kept on the app (its Stage) itself: one per construct tree.
    """
    stage = cdk.Stage.of(scope)
    if stage is None:
        return  # a construct tree without an App: nothing synthesizes it
    plugin: LimitsPlugin | None = getattr(stage, _ATTRIBUTE, None)
    if plugin is None:
        plugin = LimitsPlugin(synth_date(stage))
        setattr(stage, _ATTRIBUTE, plugin)
        cdk.Validations.of(stage).add_plugins(plugin)
    # constructs sanitizes "/" in ids to "--" (constructs library, Node constructor)
    path = scope.node.path
    parent = f"/{path}" if path else ""
    plugin.paths.add(f"{parent}/{workflow_id.replace('/', '--')}/StateMachine/Resource")
    plugin.nag_acknowledgements.append((workflow, nag_acknowledgements))
