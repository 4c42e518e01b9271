"""Shared by the hardening tests: which stacks to check, the synthesized result, asl-validator.

The stacks come from ``examples.app.EXAMPLES`` at run time (so the hardening tests extend to
each example as it lands) plus the hardening fixtures of :mod:`tests.hardening.stacks`, which
switch on the options no example uses (customer-managed KMS key, alarms with a topic, redrive).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from lambdaless.synthesized import LOCAL_PSEUDO_PARAMETERS, SynthesizedStateMachine, load

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
VALIDATOR_SCRIPT = HERE / "asl_validate.js"
VALIDATOR_PACKAGE = ROOT / "node_modules" / "asl-validator" / "package.json"
ACKNOWLEDGED = "aws:cdk:acknowledged-rules"  # cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY


def stack_classes() -> dict[str, type[cdk.Stack]]:
    """The example stacks registered now, then the hardening fixtures."""
    from examples.app import EXAMPLES
    from tests.hardening.stacks import FIXTURES

    return {**EXAMPLES, **FIXTURES}


@dataclass(frozen=True)
class Acknowledgement:
    """One ``Validations.of(x).acknowledge(...)`` found in the construct tree."""

    path: str
    finding: str
    reason: str


@dataclass
class Synthesized:
    """The examples' templates, cdk-nag's validation report and the acknowledgements."""

    templates: dict[str, dict[str, Any]]
    report: dict[str, Any]
    error: str | None
    acknowledgements: list[Acknowledgement] = field(default_factory=list)

    def nag_report(self, plugin: str = "AwsSolutions") -> dict[str, Any]:
        """The plugin's part of the validation report."""
        reports = [r for r in self.report.get("pluginReports", []) if r["pluginName"] == plugin]
        assert len(reports) == 1, self.report
        return dict(reports[0])

    def state_machines(self) -> Iterator[SynthesizedStateMachine]:
        """Every state machine, with concrete pseudo parameters (ARNs validators accept)."""
        for name, template in self.templates.items():
            for machine in load(template, pseudo=LOCAL_PSEUDO_PARAMETERS):
                yield SynthesizedStateMachine(
                    stack=name,
                    logical_id=machine.logical_id,
                    path=machine.path,
                    type=machine.type,
                    definition=machine.definition,
                    resource=machine.resource,
                )


def validate_asl(definitions: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """asl-validator's verdict on each definition, from one node process."""
    node = shutil.which("node")
    if node is None or not VALIDATOR_PACKAGE.exists():
        pytest.fail("node and node_modules/asl-validator are needed: run `npm ci`")
    completed = subprocess.run(
        [node, str(VALIDATOR_SCRIPT)],
        input=json.dumps(list(definitions)),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    results: list[dict[str, Any]] = json.loads(completed.stdout)
    return results
