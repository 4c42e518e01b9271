"""Helpers for the pattern tests: the state machine role's own statements."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

Statements = Callable[[cdk.Stack], list[dict[str, Any]]]


@pytest.fixture
def sm_statements() -> Statements:
    """The statements of the state machine role's default policy, without the logs and X-Ray
    ones every Workflow has."""

    def statements(stack: cdk.Stack) -> list[dict[str, Any]]:
        policies = Template.from_stack(stack).find_resources("AWS::IAM::Policy")
        found = [
            s
            for name, policy in policies.items()
            if "StateMachineRoleDefaultPolicy" in name
            for s in policy["Properties"]["PolicyDocument"]["Statement"]
        ]
        return [s for s in found if not any(a in str(s["Action"]) for a in ("logs:", "xray:"))]

    return statements
