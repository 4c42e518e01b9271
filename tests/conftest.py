"""Shared fixtures: fresh CDK stacks, resolved ASL and readable JSON snapshots, through the same
public helpers users get (``lambdaless.testing`` and its pytest plugin's ``asl_snapshot``)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The suite's synth date: every App of the test process reads it from its context (aws-cdk-lib
# reads CDK_CONTEXT_JSON when an App is built; set before jsii starts), so no test depends on the
# real date. It falls before the Bedrock end of life of Claude 3.5 Haiku (2026-06-19) and
# Claude 3 Haiku (2026-09-10), which tests of other rules still call; the lifecycle rules' own
# tests set their dates per stack (tests/rules/test_lifecycle_rules.py).
SUITE_DATE = "2026-06-01"
os.environ["CDK_CONTEXT_JSON"] = json.dumps(
    {**json.loads(os.environ.get("CDK_CONTEXT_JSON") or "{}"), "lambdaless:today": SUITE_DATE}
)

import aws_cdk as cdk  # noqa: E402  (after the context above)
import pytest  # noqa: E402
from aws_cdk.assertions import Template  # noqa: E402
from syrupy.assertion import SnapshotAssertion  # noqa: E402

from lambdaless.testing import definition  # noqa: E402

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def app(tmp_path: Path) -> cdk.App:
    """A CDK app writing to a temporary cloud assembly."""
    return cdk.App(outdir=str(tmp_path / "cdk.out"))


@pytest.fixture
def stack(app: cdk.App) -> cdk.Stack:
    """An environment-agnostic stack (region and account stay CloudFormation references)."""
    return cdk.Stack(app, "TestStack")


@pytest.fixture
def us_stack(app: cdk.App) -> cdk.Stack:
    """A stack pinned to us-east-1 and a test account, for exact IAM ARNs."""
    return cdk.Stack(
        app, "UsStack", env=cdk.Environment(account="111122223333", region="us-east-1")
    )


@pytest.fixture
def asl() -> Callable[[cdk.Stack], dict[str, Any]]:
    """The resolved ASL of a stack's only state machine."""

    return definition


@pytest.fixture
def template() -> Callable[[cdk.Stack], Template]:
    """``aws_cdk.assertions.Template`` of a stack."""
    return Template.from_stack


@pytest.fixture
def snapshot_json(asl_snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots as readable JSON files, one per test, under tests/__snapshots__/."""
    return asl_snapshot


@dataclass(frozen=True)
class ExampleApp:
    """The example app, with the hardening fixture stacks beside the examples."""

    app: cdk.App
    outdir: Path
    #: stack name -> stack: every example (``examples.app.EXAMPLES``), then the fixtures
    stacks: dict[str, cdk.Stack]
    #: the synth error cdk-nag raised on unacknowledged findings, or ``None``
    error: str | None


@pytest.fixture(scope="session")
def example_app(tmp_path_factory: pytest.TempPathFactory) -> ExampleApp:
    """Every example stack and hardening fixture, built and synthesized once per session, with
    cdk-nag's AwsSolutions pack as a validation plugin. ``Template.from_stack`` and
    ``lambdaless.synthesized.load(stack)`` read this one synthesis (aws-cdk-lib caches it)."""
    from cdk_nag import AwsSolutionsChecks
    from tests.hardening._support import stack_classes

    outdir = tmp_path_factory.mktemp("examples") / "cdk.out"
    # Path metadata as the CDK CLI writes it, so ``lambdaless inspect`` of this cdk.out names
    # state machines by construct path (tests/analysis/test_diagram_and_cli.py reads it too).
    app = cdk.App(outdir=str(outdir), context={"aws:cdk:enable-path-metadata": True})
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    stacks = {name: stack_class(app, name) for name, stack_class in stack_classes().items()}
    error = None
    try:
        app.synth()
    except RuntimeError as failure:  # the plugin fails synth on any unacknowledged finding
        error = str(failure)
    return ExampleApp(app, outdir, stacks, error)
