"""Hand-written ASL fixtures for the local runner's tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
MOCK_CONFIG_FILE = HERE / "mocks" / "MockConfigFile.json"


def load_asl(name: str) -> dict[str, Any]:
    """A definition from ``tests/testing/asl/<name>.json``."""
    document: dict[str, Any] = json.loads((HERE / "asl" / f"{name}.json").read_text())
    return document


def as_template(definition: dict[str, Any], construct: str) -> dict[str, Any]:
    """A CloudFormation template holding ``definition`` the way CDK synthesizes it."""
    return {
        "Resources": {
            f"{construct}0A1B2C3D": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {"DefinitionString": json.dumps(definition)},
                "Metadata": {"aws:cdk:path": f"TestStack/{construct}/Resource"},
            }
        }
    }


@pytest.fixture
def definition() -> Callable[[str], dict[str, Any]]:
    """Load a fixture definition by name."""
    return load_asl


@pytest.fixture
def research_template() -> dict[str, Any]:
    """The research workflow in a template, as construct ``ResearchWorkflow``."""
    return as_template(load_asl("research_workflow"), "ResearchWorkflow")


@pytest.fixture
def mock_config_file() -> Path:
    """``tests/testing/mocks/MockConfigFile.json``, written in the AWS docs' format."""
    return MOCK_CONFIG_FILE


@pytest.fixture
def template_of() -> Callable[[dict[str, Any], str], dict[str, Any]]:
    """Wrap a definition in a template, as a named construct."""
    return as_template
