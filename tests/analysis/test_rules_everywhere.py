"""Every lint rule fires in both places it runs: at synth (the validation plugin) and in
``lambdaless inspect`` (issue 12: "every rule runs both at synth and in inspect").

Each rule has a state machine that breaks it, written as ASL and put into a ``Workflow``'s
template, so the plugin and the CLI read exactly the same definition. A rule added to
:data:`lambdaless.analysis.annotations.RULES`, or a graph rule of the catalogue the lint runs
(:mod:`lambdaless.rules.retries`, :mod:`lambdaless.rules.workflow_types`,
:mod:`lambdaless.rules.data_flow`), without a case here
fails this test.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_stepfunctions as sfn

from lambdaless import Workflow
from lambdaless.analysis.annotations import RULES
from lambdaless.cli import main
from lambdaless.rules import data_flow, expressions, integrations, models, retries, workflow_types

from .test_lint import BEDROCK, map_of_answers, poll_loop

_RETRY_OUTLASTS_TIMEOUT = {
    "StartAt": "Ask",
    "TimeoutSeconds": 100,
    "States": {
        "Ask": {
            "Type": "Task",
            "Resource": BEDROCK,
            "TimeoutSeconds": 60,
            "Arguments": {"Body": {"max_tokens": 500}},
            "Retry": [{"ErrorEquals": ["Bedrock.ThrottlingException"], "MaxAttempts": 2}],
            "End": True,
        }
    },
}
_EXPRESS_TOO_LONG = {
    "StartAt": "Hold",
    "States": {"Hold": {"Type": "Wait", "Seconds": 400, "End": True}},
}


def _one(state: dict[str, Any], **machine: Any) -> dict[str, Any]:
    return {"StartAt": "S", **machine, "States": {"S": {**state, "End": True}}}


_CALLBACK = "arn:aws:states:::sqs:sendMessage.waitForTaskToken"
_DISTRIBUTED = {
    "Type": "Map",
    "ItemProcessor": {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "End": True}},
    },
}
#: graph rules of the catalogue (lambdaless.rules) the lint runs: rule -> (ASL, Express?)
CATALOGUE_CASES: dict[str, tuple[dict[str, Any], bool]] = {
    "retry-states-all-last": (
        _one(
            {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage",
                "Retry": [{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["SQS.X"]}],
            }
        ),
        False,
    ),
    "retry-error-not-raised": (
        # aws-cdk-lib's BedrockInvokeModel with add_retry(errors=["ThrottlingException"]): the
        # optimized integration raises Bedrock.ThrottlingException, so the retrier never runs.
        _one(
            {
                "Type": "Task",
                "Resource": BEDROCK,
                "Arguments": {"Body": {"max_tokens": 500}},
                "Retry": [{"ErrorEquals": ["ThrottlingException"], "MaxAttempts": 3}],
            }
        ),
        False,
    ),
    "timeout-beyond-workflow": (
        _one({"Type": "Wait", "Seconds": 7200}, TimeoutSeconds=3600),
        False,
    ),
    "heartbeat-below-timeout": (
        _one({"Type": "Task", "Resource": _CALLBACK, "TimeoutSeconds": 60, "HeartbeatSeconds": 60}),
        False,
    ),
    "express-no-callback": (_one({"Type": "Task", "Resource": _CALLBACK}), True),
    "express-no-sync": (
        _one({"Type": "Task", "Resource": "arn:aws:states:::glue:startJobRun.sync"}),
        True,
    ),
    "express-no-distributed-map": (_one(_DISTRIBUTED), True),
    "query-language-fields": (
        _one({"Type": "Pass", "Output": "{% $states.input %}"}, QueryLanguage="JSONPath"),
        False,
    ),
    "jsonpath-in-jsonata": (
        _one({"Type": "Pass", "Output": {"id.$": "$.id"}}, QueryLanguage="JSONata"),
        False,
    ),
    "wait-timestamp-format": (_one({"Type": "Wait", "Timestamp": "2026-12-01 09:00"}), False),
    "variable-not-in-scope": (
        _one({"Type": "Pass", "Output": "{% $answer %}"}, QueryLanguage="JSONata"),
        False,
    ),
    "states-field-unavailable": (
        _one({"Type": "Pass", "Output": "{% $states.result %}"}, QueryLanguage="JSONata"),
        False,
    ),
    # aws-cdk-lib's HttpInvoke takes these silently; the HTTP Task refuses them on AWS
    "http-header-reserved": (
        _one(
            {
                "Type": "Task",
                "Resource": "arn:aws:states:::http:invoke",
                "Arguments": {
                    "ApiEndpoint": "https://api.example.com",
                    "Method": "GET",
                    "Headers": {"Authorization": "Bearer abc"},
                },
            },
            QueryLanguage="JSONata",
        ),
        False,
    ),
    "http-endpoint-host": (
        _one(
            {
                "Type": "Task",
                "Resource": "arn:aws:states:::http:invoke",
                "Arguments": {
                    "ApiEndpoint": "{% 'http://api.example.com' & '/' & 'v1' %}",
                    "Method": "GET",
                },
            },
            QueryLanguage="JSONata",
        ),
        False,
    ),
    # aws-cdk-lib's FoundationModelIdentifier with a cross-region profile id
    "bedrock-task-model-id": (
        _one(
            {
                "Type": "Task",
                "Resource": BEDROCK,
                "Arguments": {
                    "ModelId": "arn:aws:bedrock:us-east-1::foundation-model/"
                    "us.anthropic.claude-haiku-4-5-20251001-v1:0",
                    "Body": {"max_tokens": 500},
                },
            },
            QueryLanguage="JSONata",
        ),
        False,
    ),
    "callback-task-token": (
        _one({"Type": "Task", "Resource": _CALLBACK, "Parameters": {"MessageBody": "hi"}}),
        False,
    ),
}

#: rule -> (ASL that breaks it, Express?)
CASES: dict[str, tuple[dict[str, Any], bool]] = {
    "history-events": (poll_loop("lambdaless:max-iterations=5000"), False),
    "unbounded-loop": (poll_loop(), False),
    "express-duration": (_EXPRESS_TOO_LONG, True),
    "map-concurrency": (map_of_answers(), False),
    "payload-size": (map_of_answers(), False),
    "retry-budget": (_RETRY_OUTLASTS_TIMEOUT, False),
    # Claude 3.5 Haiku: Legacy until 2026-06-19, then past its EOL date; a warning either way
    # (an acknowledged model, or an ASL written by hand: the constructs refuse it after the date)
    "model-legacy": (
        _one(
            {
                "Type": "Task",
                "Resource": BEDROCK,
                "Arguments": {
                    "ModelId": "arn:aws:bedrock:us-east-1:111122223333:inference-profile/"
                    "us.anthropic.claude-3-5-haiku-20241022-v1:0",
                    "Body": {"max_tokens": 500},
                },
            }
        ),
        False,
    ),
}


def test_every_rule_has_a_case() -> None:
    assert sorted(CASES) == sorted(RULES)
    graph_rules = {
        rule.id
        for rule in (
            *retries.RULES,
            *workflow_types.RULES,
            *data_flow.RULES,
            integrations.HEADER_RESERVED,
            integrations.ENDPOINT_HOST,
            models.TASK_MODEL_ID,
            expressions.JSONPATH_IN_JSONATA,
        )
        if rule.where == "synth"
    }
    assert sorted(CATALOGUE_CASES) == sorted(graph_rules - set(CASES))


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """``(cdk.out, the synth failure's text)`` of an app with one Workflow per rule."""
    out = tmp_path_factory.mktemp("rules") / "cdk.out"
    app = cdk.App(outdir=str(out), context={"aws:cdk:enable-path-metadata": True})
    for rule, (definition, express) in {**CASES, **CATALOGUE_CASES}.items():
        stack = cdk.Stack(app, "Rule" + "".join(w.title() for w in rule.split("-")))
        workflow = Workflow(
            stack,
            "Flow",
            definition=sfn.Pass(stack, "Placeholder"),
            express=express,
            alarms=False,
        )
        cfn = workflow.state_machine.node.default_child
        assert isinstance(cfn, sfn.CfnStateMachine)
        cfn.add_property_override("DefinitionString", json.dumps(definition))
    with pytest.raises(Exception, match=r"(?i)validation") as failure:  # errors fail synth
        app.synth()
    return out, str(failure.value)


@pytest.mark.parametrize("rule", sorted({**CASES, **CATALOGUE_CASES}))
def test_rule_fires_at_synth(synthesized: tuple[Path, str], rule: str) -> None:
    out, failure = synthesized
    assert "unbounded-loop" in failure  # the errors failed synth
    report = json.loads((out / "validation-report.json").read_text())
    fired = {
        (violation["ruleName"], where["constructPath"].split("/")[0])
        for plugin in report["pluginReports"]
        if plugin["pluginName"] == "lambdaless"
        for violation in plugin["violations"]
        for where in violation["violatingConstructs"]
    }
    stack = "Rule" + "".join(w.title() for w in rule.split("-"))
    assert (rule, stack) in fired, sorted(fired)


@pytest.mark.parametrize("rule", sorted({**CASES, **CATALOGUE_CASES}))
def test_rule_fires_in_inspect(
    synthesized: tuple[Path, str], rule: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out, _ = synthesized
    stack = "Rule" + "".join(w.title() for w in rule.split("-"))
    main(["inspect", str(out / f"{stack}.template.json")])
    assert f"] {rule} (" in capsys.readouterr().out
