"""Shared fixtures: fresh CDK stacks, resolved ASL and readable JSON snapshots, through the same
public helpers users get (``lambdaless.testing`` and its pytest plugin's ``asl_snapshot``)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template
from syrupy.assertion import SnapshotAssertion

from lambdaless.testing import definition

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
