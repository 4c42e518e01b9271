"""Every example stack, synthesized once per session with cdk-nag's AwsSolutions pack."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from cdk_nag import AwsSolutionsChecks
from tests.hardening._support import (
    ACKNOWLEDGED,
    VALIDATOR_PACKAGE,
    Acknowledgement,
    Synthesized,
    stack_classes,
)


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """Synthesize every stack into one cloud assembly, with AwsSolutions as a validation plugin."""
    outdir = tmp_path_factory.mktemp("hardening") / "cdk.out"
    app = cdk.App(outdir=str(outdir))
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    stacks = [stack_class(app, name) for name, stack_class in stack_classes().items()]
    error = None
    try:
        app.synth()
    except RuntimeError as failure:  # the plugin fails synth on any unacknowledged finding
        error = str(failure)
    report_file = outdir / "validation-report.json"
    report = json.loads(report_file.read_text()) if report_file.exists() else {}
    templates = {
        stack.stack_name: json.loads((outdir / stack.template_file).read_text()) for stack in stacks
    }
    acknowledgements = [
        Acknowledgement(construct.node.path, finding, reason)
        for construct in app.node.find_all()
        for entry in construct.node.metadata
        if entry.type == ACKNOWLEDGED
        for finding, reason in dict(entry.data).items()
        # aws-cdk-lib acknowledges some cfn-lint rules itself (e.g. W3045 on access-log buckets)
        if finding.startswith("AwsSolutions::")
    ]
    return Synthesized(templates, report, error, acknowledgements)


@pytest.fixture(scope="session")
def asl_validator_version() -> str:
    """The installed asl-validator version (pinned in package.json)."""
    version: str = json.loads(VALIDATOR_PACKAGE.read_text())["version"]
    return version
