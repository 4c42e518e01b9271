"""Converse with a Prompt management prompt (BedrockPrompt): ASL, IAM, the rules Converse
documents for prompt ARNs, aws-cdk-lib's CfnPrompt/CfnPromptVersion, and a local run."""

from __future__ import annotations

import json
import re
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_bedrock as bedrock
from syrupy.assertion import SnapshotAssertion
from tests.rules._support import refused

from lambdaless import (
    BedrockModel,
    BedrockPrompt,
    CapacityGuard,
    Converse,
    Inference,
    InvokeBedrock,
    LambdalessError,
    ModelCapacity,
    ModelQuota,
    Workflow,
)
from lambdaless.testing import LocalRunner, iam_statements, mocks

PROMPT = "arn:aws:bedrock:us-east-1:111122223333:prompt/PROMPT1234"
HAIKU = "anthropic.claude-3-5-haiku-20241022-v1:0"


def outline_prompt(**overrides: Any) -> BedrockPrompt:
    arguments: dict[str, Any] = {"model": HAIKU, "version": 3, "variables": ["topic", "audience"]}
    arguments.update(overrides)
    return BedrockPrompt.from_arn(PROMPT, **arguments)


def step(stack: cdk.Stack, **overrides: Any) -> Converse:
    arguments: dict[str, Any] = {
        "model": outline_prompt(),
        "prompt_variables": {"topic": "{% $states.input.topic %}", "audience": "engineers"},
    }
    arguments.update(overrides)
    return Converse(stack, "Outline", **arguments)


def partition_aws(value: Any) -> Any:
    return json.loads(json.dumps(value).replace("${AWS::Partition}", "aws"))


# -- the state and its IAM ----------------------------------------------------------------------
def test_managed_prompt_state(
    us_stack: cdk.Stack, asl: Any, snapshot_json: SnapshotAssertion
) -> None:
    """ModelId is the version's ARN, PromptVariables fill its variables (each {"Text": ...}),
    and no Messages/System/InferenceConfig is sent: the prompt defines them."""
    Workflow(us_stack, "W", definition=step(us_stack))
    state = asl(us_stack)["States"]["Outline"]
    assert state["Resource"] == "arn:${AWS::Partition}:states:::aws-sdk:bedrockruntime:converse"
    assert state["Arguments"] == {
        "ModelId": f"{PROMPT}:3",
        "PromptVariables": {
            "topic": {"Text": "{% $states.input.topic %}"},
            "audience": {"Text": "engineers"},
        },
    }
    assert asl(us_stack) == snapshot_json


def test_managed_prompt_appends_the_prompt_as_a_message(us_stack: cdk.Stack, asl: Any) -> None:
    """Converse appends ``messages`` after the prompt's own (API_runtime_Converse)."""
    Workflow(us_stack, "W", definition=step(us_stack, prompt="{% $states.input.extra %}"))
    assert asl(us_stack)["States"]["Outline"]["Arguments"]["Messages"] == [
        {"Role": "user", "Content": [{"Text": "{% $states.input.extra %}"}]}
    ]


def test_managed_prompt_iam_is_exact(us_stack: cdk.Stack) -> None:
    """RenderPrompt (and InvokeModel) on the prompt version called, and the model it runs."""
    workflow = Workflow(us_stack, "W", definition=step(us_stack))
    bedrock_statements = [
        s for s in partition_aws(iam_statements(workflow)) if "bedrock" in json.dumps(s["Action"])
    ]
    assert bedrock_statements == [
        {
            "Action": ["bedrock:InvokeModel", "bedrock:RenderPrompt"],
            "Effect": "Allow",
            "Resource": f"{PROMPT}:3",
        },
        {
            "Action": "bedrock:InvokeModel",
            "Effect": "Allow",
            "Resource": f"arn:aws:bedrock:us-east-1::foundation-model/{HAIKU}",
        },
    ]


def test_managed_prompt_through_a_profile_grants_the_profile(us_stack: cdk.Stack) -> None:
    prompt = outline_prompt(model=f"us.{HAIKU}")
    workflow = Workflow(us_stack, "W", definition=step(us_stack, model=prompt))
    resources = [s["Resource"] for s in partition_aws(iam_statements(workflow))]
    assert resources[1] == f"arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.{HAIKU}"
    assert f"arn:aws:bedrock:us-west-2::foundation-model/{HAIKU}" in resources[2]


def test_managed_prompt_draft_is_the_unversioned_arn(us_stack: cdk.Stack, asl: Any) -> None:
    prompt = BedrockPrompt.from_arn(PROMPT, model=HAIKU)
    Workflow(us_stack, "W", definition=Converse(us_stack, "Outline", model=prompt))
    assert asl(us_stack)["States"]["Outline"]["Arguments"] == {"ModelId": PROMPT}


def test_step_exposes_the_model_and_the_prompt(us_stack: cdk.Stack) -> None:
    built = step(us_stack)
    assert built.model == BedrockModel.of(HAIKU)
    assert built.managed_prompt == outline_prompt()
    assert built.max_tokens is None  # set by the prompt, unknown for an imported ARN


# -- aws-cdk-lib's CfnPrompt and CfnPromptVersion ----------------------------------------------
def cfn_prompt(stack: cdk.Stack, model_id: str | None = HAIKU) -> bedrock.CfnPrompt:
    variant = bedrock.CfnPrompt.PromptVariantProperty(
        name="v1",
        template_type="TEXT",
        model_id=model_id,
        template_configuration=bedrock.CfnPrompt.PromptTemplateConfigurationProperty(
            text=bedrock.CfnPrompt.TextPromptTemplateConfigurationProperty(
                text="Outline {{topic}} for {{audience}}.",
                input_variables=[
                    bedrock.CfnPrompt.PromptInputVariableProperty(name="topic"),
                    bedrock.CfnPrompt.PromptInputVariableProperty(name="audience"),
                ],
            )
        ),
        inference_configuration=bedrock.CfnPrompt.PromptInferenceConfigurationProperty(
            text=bedrock.CfnPrompt.PromptModelInferenceConfigurationProperty(max_tokens=500)
        ),
    )
    return bedrock.CfnPrompt(
        stack, "Prompt", name="outline", default_variant="v1", variants=[variant]
    )


def test_cfn_prompt_and_version_give_model_variables_and_max_tokens(us_stack: cdk.Stack) -> None:
    prompt = cfn_prompt(us_stack)
    version = bedrock.CfnPromptVersion(us_stack, "Version", prompt_arn=prompt.attr_arn)
    for construct, logical_id in ((prompt, "Prompt"), (version, "Version")):
        managed = BedrockPrompt.from_cfn(construct)
        assert managed.model == BedrockModel.of(HAIKU)
        assert managed.variables == ("topic", "audience")
        assert managed.max_tokens == 500
        # the draft's ARN, or the version's (the version's prompt is read for the rest)
        assert us_stack.resolve(managed.arn) == {"Fn::GetAtt": [logical_id, "Arn"]}
    built = Converse(
        us_stack,
        "Outline",
        model=BedrockPrompt.from_cfn(version),
        prompt_variables={"topic": "CDK", "audience": "engineers"},
    )
    assert built.max_tokens == 500


def test_cfn_prompt_without_a_readable_model_needs_model(us_stack: cdk.Stack) -> None:
    prompt = cfn_prompt(us_stack, model_id=None)
    refused("prompt-model", lambda: BedrockPrompt.from_cfn(prompt), argument="model=None")
    assert BedrockPrompt.from_cfn(prompt, model=HAIKU).model == BedrockModel.of(HAIKU)
    imported = bedrock.CfnPromptVersion(us_stack, "Other", prompt_arn=PROMPT)
    refused("prompt-model", lambda: BedrockPrompt.from_cfn(imported), argument="model=None")


def test_from_cfn_refuses_other_constructs(us_stack: cdk.Stack) -> None:
    refused("prompt-arn", lambda: BedrockPrompt.from_cfn(us_stack), argument="prompt=")  # type: ignore[arg-type]


# -- rules ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "arn",
    [
        "PROMPT1234",  # an id, not an ARN
        "arn:aws:bedrock:us-east-1:111122223333:prompt/short",
        "arn:aws:bedrock:us-east-1:111122223333:prompt/PROMPT1234:",
        "arn:aws:bedrock:us-east-1:111122223333:prompt/PROMPT1234:123456",
        "arn:aws:bedrock:us-east-1:111122223333:prompt/PROMPT1234:0",
        "arn:aws:bedrock:us-east-1:1111:prompt/PROMPT1234",
        "arn:aws:bedrock:us-east-1:111122223333:agent/PROMPT1234",
        "arn:aws:s3:us-east-1:111122223333:prompt/PROMPT1234",
        f" {PROMPT}",
        42,
    ],
)
def test_prompt_arn_rule(arn: Any) -> None:
    refused("prompt-arn", lambda: BedrockPrompt.from_arn(arn, model=HAIKU), argument="arn=")


@pytest.mark.parametrize("version", [0, "0", -1, "v1", "DRAFT", 100000, True, 1.5])
def test_prompt_version_rule(version: Any) -> None:
    refused(
        "prompt-arn",
        lambda: BedrockPrompt.from_arn(PROMPT, model=HAIKU, version=version),
        argument="version=",
    )


def test_prompt_version_given_twice() -> None:
    with pytest.raises(LambdalessError, match=r"^version=2 .*already names version 1"):
        BedrockPrompt.from_arn(f"{PROMPT}:1", model=HAIKU, version=2)
    assert BedrockPrompt.from_arn(f"{PROMPT}:1", model=HAIKU).arn == f"{PROMPT}:1"
    assert BedrockPrompt.from_arn(PROMPT, model=HAIKU, version="12").arn == f"{PROMPT}:12"


def test_prompt_in_another_region_than_the_stack(us_stack: cdk.Stack) -> None:
    prompt = BedrockPrompt.from_arn(PROMPT.replace("us-east-1", "eu-west-1"), model=HAIKU)
    error = refused("prompt-arn", lambda: Converse(us_stack, "Outline", model=prompt))
    assert "stack's region 'us-east-1'" in str(error)


def test_prompt_model_rule_refuses_a_bad_model() -> None:
    with pytest.raises(LambdalessError, match=r"^model_id='not a model'"):
        BedrockPrompt.from_arn(PROMPT, model="not a model")
    with pytest.raises(TypeError):
        BedrockPrompt.from_arn(PROMPT)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("argument", "value"),
    [
        ("system", "Be brief."),
        ("inference", Inference(max_tokens=100)),
        ("output_schema", {"type": "object", "properties": {"title": {"type": "string"}}}),
    ],
)
def test_prompt_request_fields_rule(us_stack: cdk.Stack, argument: str, value: Any) -> None:
    """Converse refuses inferenceConfig and system beside a prompt ARN."""
    refused("prompt-request-fields", lambda: step(us_stack, **{argument: value}), argument=argument)


@pytest.mark.parametrize(
    ("variables", "match"),
    [
        ({"topic": "x"}, r"^prompt_variables=.*missing \['audience'\]"),
        ({"topic": "x", "audience": "y", "tone": "z"}, r"^prompt_variables=.*unknown \['tone'\]"),
        ({"topic": 3, "audience": "y"}, r"^prompt_variables\['topic'\]=3 .*text"),
        ({"topic": "x", "bad name": "y"}, r"^prompt_variables=.*variable names"),
        ("topic", r"^prompt_variables='topic' .*a dict"),
    ],
)
def test_prompt_variables_rule(us_stack: cdk.Stack, variables: Any, match: str) -> None:
    error = refused("prompt-variables", lambda: step(us_stack, prompt_variables=variables))
    assert re.match(match, str(error)), error


def test_prompt_variables_values_are_checked_as_jsonata(us_stack: cdk.Stack) -> None:
    with pytest.raises(LambdalessError, match=r"^prompt_variables\['topic'\]="):
        step(us_stack, prompt_variables={"topic": "{% $states.input. %}", "audience": "y"})


def test_prompt_variables_need_a_managed_prompt(us_stack: cdk.Stack) -> None:
    refused(
        "prompt-variables",
        lambda: Converse(
            us_stack, "Chat", model=HAIKU, prompt="Hi", prompt_variables={"topic": "x"}
        ),
        argument="prompt_variables=",
    )


def test_unknown_variables_are_not_checked(us_stack: cdk.Stack) -> None:
    prompt = outline_prompt(variables=None)
    assert step(us_stack, model=prompt, prompt_variables={"anything": "x"}).managed_prompt


def test_bad_declared_variables() -> None:
    refused(
        "prompt-variables",
        lambda: outline_prompt(variables=["ok", "not ok"]),
        argument="variables=",
    )


def test_prompt_converse_only_rule(us_stack: cdk.Stack) -> None:
    refused(
        "prompt-converse-only",
        lambda: InvokeBedrock(us_stack, "Ask", model=outline_prompt(), prompt="Hi"),  # type: ignore[arg-type]
        argument="model=",
    )


def test_a_model_still_needs_a_prompt(us_stack: cdk.Stack) -> None:
    with pytest.raises(LambdalessError, match=r"^prompt=None"):
        Converse(us_stack, "Chat", model=HAIKU)


# -- a local run ------------------------------------------------------------------------------
def test_local_run_fills_the_variables_and_reads_the_answer(us_stack: cdk.Stack) -> None:
    Workflow(us_stack, "W", definition=step(us_stack))
    result = LocalRunner(us_stack).run(
        "W",
        input={"topic": "Step Functions"},
        responses={"Outline": mocks.converse_text("1. States 2. Tasks", input_tokens=40)},
    )
    assert result.status == "SUCCEEDED", result.cause
    assert result.output == {
        "text": "1. States 2. Tasks",
        "stopReason": "end_turn",
        "usage": {"inputTokens": 40, "outputTokens": 20},
    }
    (call,) = result.calls_to("Outline")
    assert call.arguments == {
        "ModelId": f"{PROMPT}:3",
        "PromptVariables": {
            "topic": {"Text": "Step Functions"},
            "audience": {"Text": "engineers"},
        },
    }


def test_local_runner_refuses_what_converse_refuses_beside_a_prompt() -> None:
    """A hand-written Converse state that sends InferenceConfig with a prompt ARN fails with
    BedrockRuntime.ValidationException, as Bedrock answers it, whatever the mock says."""
    arguments = {"ModelId": f"{PROMPT}:3", "InferenceConfig": {"MaxTokens": 10}, "System": []}
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Ask",
        "States": {
            "Ask": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:bedrockruntime:converse",
                "Arguments": arguments,
                "End": True,
            }
        },
    }
    result = LocalRunner(definition).run(responses={"Ask": mocks.converse_text("never used")})
    assert result.status == "FAILED"
    assert result.error == "BedrockRuntime.ValidationException"
    assert "InferenceConfig, System" in str(result.cause)
    assert mocks.service_refusal("arn:aws:states:::aws-sdk:bedrockruntime:converse", {}) is None
    without = {"ModelId": f"{PROMPT}:3", "PromptVariables": {}}
    assert mocks.service_refusal("arn:aws:states:::bedrock:invokeModel", arguments) is None
    assert (
        mocks.service_refusal("arn:aws:states:::aws-sdk:bedrockruntime:converse", without) is None
    )


def test_capacity_guard_reads_a_known_prompt_max_tokens(us_stack: cdk.Stack) -> None:
    """ModelCapacity weighs a managed-prompt call by the prompt's maxTokens when it is known,
    and refuses one whose maxTokens it cannot read."""
    quota = ModelQuota(
        tokens_per_minute=30_000, input_tokens=1_000, output_tokens=100, latency_seconds=10
    )
    capacity = ModelCapacity(us_stack, "Haiku", model=HAIKU, quota=quota)
    known = Converse(
        us_stack,
        "Known",
        model=BedrockPrompt.from_cfn(cfn_prompt(us_stack)),
        prompt_variables={"topic": "x", "audience": "y"},
    )
    assert CapacityGuard(us_stack, "Guarded", capacity=capacity, step=known).weight == 1_500
    with pytest.raises(LambdalessError, match=r"^step=.*max_tokens"):
        CapacityGuard(us_stack, "Unknown", capacity=capacity, step=step(us_stack))
