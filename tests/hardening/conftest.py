"""Every example stack, synthesized once per session with cdk-nag's AwsSolutions pack (the
``example_app`` fixture of tests/conftest.py)."""

from __future__ import annotations

import json

import pytest
from tests.conftest import ExampleApp
from tests.hardening._support import (
    ACKNOWLEDGED,
    VALIDATOR_PACKAGE,
    Acknowledgement,
    Synthesized,
)


@pytest.fixture(scope="session")
def synthesized(example_app: ExampleApp) -> Synthesized:
    """The templates, cdk-nag's report and the acknowledgements of the session's example app."""
    app, outdir, error = example_app.app, example_app.outdir, example_app.error
    stacks = list(example_app.stacks.values())
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
