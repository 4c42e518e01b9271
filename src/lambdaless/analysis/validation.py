"""The limits lint as a CDK validation, so that ``cdk synth`` reports unacknowledged errors.

``Workflow`` registers it with ``self.node.add_validation(LimitsValidation(self))``. At synth it
renders the state machine's resource the way the template will hold it (definition and
``lambdaless:analysis`` metadata), reads it back with :mod:`lambdaless.synthesized`, and lints
that: the same template-only path as ``lambdaless inspect``. Errors fail synth (acknowledge them
with :func:`lambdaless.analysis.annotations.acknowledge` when you know better); warnings are
added as CDK warning annotations.

This module imports aws-cdk-lib; the rest of :mod:`lambdaless.analysis` does not.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_stepfunctions as sfn
from constructs import IValidation

from lambdaless.analysis.annotations import METADATA_KEY
from lambdaless.analysis.lint import Finding, lint
from lambdaless.synthesized import STATE_MACHINE_TYPE, state_machines


def synthesized_resource(cfn: sfn.CfnStateMachine) -> dict[str, Any]:
    """The template resource of ``cfn`` as synth will write it (the parts the lint reads)."""
    stack = cdk.Stack.of(cfn)
    properties: dict[str, Any] = {
        "DefinitionString": stack.resolve(cfn.definition_string),
        "StateMachineType": cfn.state_machine_type or "STANDARD",
    }
    metadata: dict[str, Any] = {"aws:cdk:path": cfn.node.path}
    analysis = cfn.get_metadata(METADATA_KEY)
    if analysis:
        metadata[METADATA_KEY] = stack.resolve(analysis)
    return {"Type": STATE_MACHINE_TYPE, "Properties": properties, "Metadata": metadata}


def findings_of(construct: Any) -> list[Finding]:
    """Lint findings of a ``Workflow``, ``StateMachine`` or ``CfnStateMachine``."""
    from lambdaless.analysis.annotations import _cfn_state_machine

    cfn = _cfn_state_machine(construct)
    template = {"Resources": {cdk.Stack.of(cfn).get_logical_id(cfn): synthesized_resource(cfn)}}
    (machine,) = state_machines(template, stack=cdk.Stack.of(cfn).stack_name)
    return lint(machine)


@jsii.implements(IValidation)
class LimitsValidation:
    """Fails synth on unacknowledged lint errors of one state machine; warns on the rest."""

    def __init__(self, construct: Any) -> None:
        self.construct = construct

    def validate(self) -> list[str]:
        findings = findings_of(self.construct)
        for finding in findings:
            if finding.severity == "warning" and finding.acknowledged is None:
                cdk.Annotations.of(self.construct).add_warning_v2(
                    f"lambdaless:{finding.rule}", finding.describe()
                )
        return [
            finding.describe()
            + f" (acknowledge with lambdaless.analysis.acknowledge(workflow, {finding.rule!r}, "
            + (f"state={finding.state!r}, " if finding.state else "")
            + "reason=...))"
            for finding in findings
            if finding.blocking
        ]
