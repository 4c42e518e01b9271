"""The ``local_runner`` fixture and the plugin's import weight."""

from __future__ import annotations

import ast
import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_stepfunctions as sfn

from lambdaless.testing import LocalRunner, mocks


def test_fixture_builds_runners(local_runner: Callable[..., LocalRunner]) -> None:
    runner = local_runner({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})

    assert runner.run(input={"a": 1}).output == {"a": 1}


def test_plugin_imports_nothing_heavy_at_module_level() -> None:
    spec = importlib.util.find_spec("lambdaless.testing.pytest_plugin")
    assert spec is not None
    assert spec.origin is not None
    tree = ast.parse(Path(spec.origin).read_text())
    top_level = [
        node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
        for node in tree.body
        if isinstance(node, ast.Import | ast.ImportFrom)
    ]
    assert all(not str(name).startswith(("aws_cdk", "jsii", "moto")) for name in top_level)
    assert "lambdaless.testing.runner" not in top_level


def test_runs_a_state_machine_from_a_cdk_stack(
    stack: cdk.Stack, local_runner: Callable[..., LocalRunner]
) -> None:
    ask = sfn.CustomState(
        stack,
        "Ask",
        state_json={
            "Type": "Task",
            "Resource": "arn:aws:states:::bedrock:invokeModel",
            "Arguments": {"ModelId": "amazon.nova-lite-v1:0", "Body": {"messages": []}},
            "Output": "{% $states.result.Body.output.message.content[0].text %}",
        },
    )
    sfn.StateMachine(
        stack,
        "Asker",
        definition_body=sfn.DefinitionBody.from_chainable(ask),
        query_language=sfn.QueryLanguage.JSONATA,
    )

    result: Any = local_runner(stack).run(
        "Asker", responses={"Ask": mocks.bedrock_text("nova", "answer")}
    )

    assert (result.status, result.output) == ("SUCCEEDED", "answer")
