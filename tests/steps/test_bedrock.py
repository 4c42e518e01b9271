"""InvokeBedrock and Converse: snapshots of the resolved ASL, exact IAM, and bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template
from syrupy.assertion import SnapshotAssertion

from lambdaless import (
    BedrockModel,
    Converse,
    Inference,
    InvokeBedrock,
    LambdalessError,
    ModelFamily,
    RetryPolicy,
    Workflow,
)
from lambdaless.synthesized import resolve
from lambdaless.testing import iam_statements

Asl = Callable[[cdk.Stack], dict[str, Any]]

MODELS = {
    ModelFamily.ANTHROPIC: "anthropic.claude-3-5-haiku-20241022-v1:0",
    ModelFamily.NOVA: "amazon.nova-lite-v1:0",
    ModelFamily.TITAN: "amazon.titan-text-premier-v1:0",
    ModelFamily.LLAMA: "meta.llama3-1-8b-instruct-v1:0",
    ModelFamily.MISTRAL: "mistral.mistral-7b-instruct-v0:2",
    ModelFamily.COHERE: "cohere.command-r-plus-v1:0",
    ModelFamily.CHAT: "ai21.jamba-1-5-mini-v1:0",
}
PROMPTS = {
    "literal": "Say hello.",
    "expression": "{% 'Summarize: ' & $states.input.document %}",
}
APP_PROFILE = "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/a1b2c3d4e5f6"
PROVISIONED = "arn:aws:bedrock:us-east-1:111122223333:provisioned-model/abc123xyz789"
GUARDRAIL = "abcdef123456"
US_REGIONS = ("us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1")
LOGS = {
    "Action": [
        "logs:CreateLogDelivery",
        "logs:GetLogDelivery",
        "logs:UpdateLogDelivery",
        "logs:DeleteLogDelivery",
        "logs:ListLogDeliveries",
        "logs:PutResourcePolicy",
        "logs:DescribeResourcePolicies",
        "logs:DescribeLogGroups",
    ],
    "Effect": "Allow",
    "Resource": "*",
}
XRAY = {
    "Action": [
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
    ],
    "Effect": "Allow",
    "Resource": "*",
}


def only_state(stack: cdk.Stack, asl: Asl, step: Any) -> dict[str, Any]:
    """Put ``step`` in a Workflow and return the whole resolved ASL."""
    Workflow(stack, "Workflow", definition=step)
    return asl(stack)


def role_statements(stack: cdk.Stack) -> list[dict[str, Any]]:
    """The state machine role's policy statements with ARNs joined (``aws`` partition)."""
    policies = Template.from_stack(stack).find_resources("AWS::IAM::Policy")
    assert len(policies) == 1, list(policies)
    (policy,) = policies.values()
    document = resolve(policy["Properties"]["PolicyDocument"], {"AWS::Partition": "aws"})
    assert document["Version"] == "2012-10-17"
    return list(document["Statement"])


def arn(rest: str) -> dict[str, Any]:
    """An ARN as CDK renders it: ``arn:${AWS::Partition}<rest>``."""
    return {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, rest]]}


# -- snapshots: every family, literal and expression prompts ---------------------------------
@pytest.mark.parametrize("prompt", list(PROMPTS))
@pytest.mark.parametrize("family", list(MODELS), ids=lambda f: f.value)
def test_family_prompt(
    family: ModelFamily, prompt: str, stack: cdk.Stack, asl: Asl, snapshot_json: SnapshotAssertion
) -> None:
    step = InvokeBedrock(stack, "Ask", model=MODELS[family], prompt=PROMPTS[prompt])
    assert only_state(stack, asl, step) == snapshot_json


@pytest.mark.parametrize("family", list(MODELS), ids=lambda f: f.value)
def test_family_system_and_inference(
    family: ModelFamily, stack: cdk.Stack, asl: Asl, snapshot_json: SnapshotAssertion
) -> None:
    stops = () if family is ModelFamily.LLAMA else ("</answer>",)
    step = InvokeBedrock(
        stack,
        "Ask",
        model=MODELS[family],
        prompt="{% $states.input.question %}",
        system="You answer in one sentence.",
        inference=Inference(max_tokens=256, temperature=0.2, top_p=0.9, stop_sequences=stops),
    )
    assert only_state(stack, asl, step) == snapshot_json


def test_expression_system_prompt(
    stack: cdk.Stack, asl: Asl, snapshot_json: SnapshotAssertion
) -> None:
    step = InvokeBedrock(
        stack,
        "Ask",
        model=MODELS[ModelFamily.TITAN],
        prompt="{% $states.input.question %}",
        system="{% $states.input.persona %}",
    )
    assert only_state(stack, asl, step) == snapshot_json


# -- snapshots: options -----------------------------------------------------------------------
def test_raw_body_dict(stack: cdk.Stack, asl: Asl, snapshot_json: SnapshotAssertion) -> None:
    body = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 64,
        "messages": "{% $states.input.messages %}",
    }
    step = InvokeBedrock(stack, "Ask", model=MODELS[ModelFamily.ANTHROPIC], body=body)
    assert only_state(stack, asl, step) == snapshot_json


def test_raw_body_expression_unknown_family(
    stack: cdk.Stack, asl: Asl, snapshot_json: SnapshotAssertion
) -> None:
    """A model with no text family: the body goes as is and the raw Body comes back."""
    step = InvokeBedrock(
        stack, "Embed", model="amazon.titan-embed-text-v2:0", body="{% $states.input.request %}"
    )
    definition = only_state(stack, asl, step)
    assert definition["States"]["Embed"]["Output"] == "{% $states.result.Body %}"
    assert definition == snapshot_json


def test_s3_input_and_output(stack: cdk.Stack, asl: Asl, snapshot_json: SnapshotAssertion) -> None:
    step = InvokeBedrock(
        stack,
        "Ask",
        model=MODELS[ModelFamily.NOVA],
        input_s3_uri="s3://my-bucket/requests/big.json",
        output_s3_uri="s3://my-bucket/answers/big.json",
    )
    definition = only_state(stack, asl, step)
    state = definition["States"]["Ask"]
    assert state["Arguments"]["Input"] == {"S3Uri": "s3://my-bucket/requests/big.json"}
    assert state["Arguments"]["Output"] == {"S3Uri": "s3://my-bucket/answers/big.json"}
    assert "Body" not in state["Arguments"]
    assert definition == snapshot_json


def test_s3_expression_uris_with_bucket(
    stack: cdk.Stack, asl: Asl, snapshot_json: SnapshotAssertion
) -> None:
    bucket = s3.Bucket(stack, "Bucket")
    step = InvokeBedrock(
        stack,
        "Ask",
        model=MODELS[ModelFamily.NOVA],
        prompt="Hi",
        output_s3_uri=(
            "{% 's3://' & $states.input.bucket & '/out/' & $states.context.Execution.Name %}"
        ),
        s3_bucket=bucket,
    )
    assert only_state(stack, asl, step) == snapshot_json


def test_guardrail(stack: cdk.Stack, asl: Asl, snapshot_json: SnapshotAssertion) -> None:
    step = InvokeBedrock(
        stack,
        "Ask",
        model=MODELS[ModelFamily.ANTHROPIC],
        prompt="Hi",
        guardrail_id=GUARDRAIL,
        guardrail_version="DRAFT",
    )
    definition = only_state(stack, asl, step)
    arguments = definition["States"]["Ask"]["Arguments"]
    assert arguments["GuardrailIdentifier"] == GUARDRAIL
    assert arguments["GuardrailVersion"] == "DRAFT"
    assert definition == snapshot_json


def test_timeout_comment_and_assign(
    stack: cdk.Stack, asl: Asl, snapshot_json: SnapshotAssertion
) -> None:
    step = InvokeBedrock(
        stack,
        "Ask",
        model=MODELS[ModelFamily.NOVA],
        prompt="Hi",
        timeout=cdk.Duration.seconds(30),
        assign_result_to="answer",
        comment="Ask Nova",
    )
    definition = only_state(stack, asl, step)
    state = definition["States"]["Ask"]
    assert state["TimeoutSeconds"] == 30
    assert state["Assign"] == {"answer": state["Output"]}
    assert definition == snapshot_json


def test_custom_retry(stack: cdk.Stack, asl: Asl, snapshot_json: SnapshotAssertion) -> None:
    policy = RetryPolicy.bedrock_transient().with_(max_attempts=3, max_delay_seconds=20)
    step = InvokeBedrock(stack, "Ask", model=MODELS[ModelFamily.NOVA], prompt="Hi", retry=[policy])
    definition = only_state(stack, asl, step)
    assert definition["States"]["Ask"]["Retry"] == [
        {**policy.to_asl(), "BackoffRate": 2}  # CDK renders 2.0 as 2
    ]
    assert definition == snapshot_json


def test_no_retry(stack: cdk.Stack, asl: Asl, snapshot_json: SnapshotAssertion) -> None:
    step = InvokeBedrock(stack, "Ask", model=MODELS[ModelFamily.NOVA], prompt="Hi", retry=[])
    definition = only_state(stack, asl, step)
    assert "Retry" not in definition["States"]["Ask"]
    assert definition == snapshot_json


def test_add_retry_after_construction(stack: cdk.Stack, asl: Asl) -> None:
    step = InvokeBedrock(stack, "Ask", model=MODELS[ModelFamily.NOVA], prompt="Hi", retry=[])
    step.add_retry(errors=["States.Timeout"], max_attempts=1)
    retry = only_state(stack, asl, step)["States"]["Ask"]["Retry"]
    assert [r["ErrorEquals"] for r in retry] == [["States.Timeout"]]


# -- snapshots: Converse ----------------------------------------------------------------------
def test_converse(stack: cdk.Stack, asl: Asl, snapshot_json: SnapshotAssertion) -> None:
    step = Converse(stack, "Chat", model="amazon.nova-lite-v1:0", prompt="Hi")
    definition = only_state(stack, asl, step)
    state = definition["States"]["Chat"]
    assert state["Resource"] == "arn:${AWS::Partition}:states:::aws-sdk:bedrockruntime:converse"
    assert [r["ErrorEquals"][0] for r in state["Retry"]] == [
        "BedrockRuntime.ThrottlingException",
        "BedrockRuntime.ModelTimeoutException",
    ]
    assert definition == snapshot_json


def test_converse_full(stack: cdk.Stack, asl: Asl, snapshot_json: SnapshotAssertion) -> None:
    step = Converse(
        stack,
        "Chat",
        model="deepseek.r1-v1:0",  # no InvokeModel family: Converse does not need one
        prompt="{% $states.input.question %}",
        system="Be brief.",
        inference=Inference(max_tokens=100, temperature=0.5, top_p=0.8, stop_sequences=("END",)),
        timeout=cdk.Duration.minutes(2),
        assign_result_to="reply",
        comment="Any chat model",
    )
    assert only_state(stack, asl, step) == snapshot_json


# -- snapshots: each kind of model --------------------------------------------------------------
KINDS: dict[str, Callable[[], BedrockModel]] = {
    "foundation": lambda: BedrockModel.foundation_model("amazon.nova-pro-v1:0"),
    "us_profile": lambda: BedrockModel.cross_region_profile("us.amazon.nova-pro-v1:0"),
    "global_profile": lambda: BedrockModel.cross_region_profile(
        "global.anthropic.claude-sonnet-4-5-20250929-v1:0"
    ),
    "application_profile": lambda: BedrockModel.application_profile(
        APP_PROFILE, source=BedrockModel.cross_region_profile("us.amazon.nova-pro-v1:0")
    ),
    "provisioned": lambda: BedrockModel.provisioned(
        PROVISIONED, foundation_model_id="amazon.nova-pro-v1:0"
    ),
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_model_kind(
    kind: str, us_stack: cdk.Stack, asl: Asl, snapshot_json: SnapshotAssertion
) -> None:
    step = InvokeBedrock(us_stack, "Ask", model=KINDS[kind](), prompt="Hi")
    assert only_state(us_stack, asl, step) == snapshot_json


def test_model_kind_eu_profile(app: cdk.App, asl: Asl, snapshot_json: SnapshotAssertion) -> None:
    stack = cdk.Stack(
        app, "EuStack", env=cdk.Environment(account="111122223333", region="eu-west-1")
    )
    step = InvokeBedrock(stack, "Ask", model="eu.amazon.nova-pro-v1:0", prompt="Hi")
    definition = only_state(stack, asl, step)
    assert definition["States"]["Ask"]["Arguments"]["ModelId"] == (
        "arn:${AWS::Partition}:bedrock:eu-west-1:111122223333"
        ":inference-profile/eu.amazon.nova-pro-v1:0"
    )
    assert definition == snapshot_json


# -- IAM ----------------------------------------------------------------------------------------
def test_cross_region_profile_iam_is_exact(us_stack: cdk.Stack) -> None:
    """The profile ARN and the model in every destination region (source included); nothing else."""
    step = InvokeBedrock(us_stack, "Ask", model="us.amazon.nova-pro-v1:0", prompt="Hi")
    Workflow(us_stack, "Workflow", definition=step)
    profile = ":bedrock:us-east-1:111122223333:inference-profile/us.amazon.nova-pro-v1:0"
    template = Template.from_stack(us_stack)
    template.resource_count_is("AWS::IAM::Policy", 1)
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": Match.object_equals(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Action": "bedrock:InvokeModel",
                            "Effect": "Allow",
                            "Resource": arn(profile),
                        },
                        {
                            "Action": "bedrock:InvokeModel",
                            "Effect": "Allow",
                            "Resource": [
                                arn(f":bedrock:{r}::foundation-model/amazon.nova-pro-v1:0")
                                for r in US_REGIONS
                            ],
                            "Condition": {
                                "StringEquals": {"bedrock:InferenceProfileArn": arn(profile)}
                            },
                        },
                        LOGS,
                        XRAY,
                    ],
                }
            )
        },
    )


def test_global_profile_iam(us_stack: cdk.Stack) -> None:
    model_id = "anthropic.claude-sonnet-4-5-20250929-v1:0"
    step = InvokeBedrock(us_stack, "Ask", model=f"global.{model_id}", prompt="Hi")
    Workflow(us_stack, "Workflow", definition=step)
    profile = f"arn:aws:bedrock:us-east-1:111122223333:inference-profile/global.{model_id}"
    assert role_statements(us_stack) == [
        {"Action": "bedrock:InvokeModel", "Effect": "Allow", "Resource": profile},
        {
            "Action": "bedrock:InvokeModel",
            "Effect": "Allow",
            "Resource": [
                f"arn:aws:bedrock:us-east-1::foundation-model/{model_id}",
                f"arn:aws:bedrock:::foundation-model/{model_id}",
            ],
            "Condition": {"StringEquals": {"bedrock:InferenceProfileArn": profile}},
        },
        LOGS,
        XRAY,
    ]


def test_application_profile_iam(us_stack: cdk.Stack) -> None:
    """Through an application profile copied from a US system profile: both profiles, and the
    model in every US region, only through them ("inference-profiles-prereq")."""
    step = InvokeBedrock(us_stack, "Ask", model=KINDS["application_profile"](), prompt="Hi")
    workflow = Workflow(us_stack, "Workflow", definition=step)
    system = "arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.amazon.nova-pro-v1:0"
    expected = [
        {"Action": "bedrock:InvokeModel", "Effect": "Allow", "Resource": [APP_PROFILE, system]},
        {
            "Action": "bedrock:GetInferenceProfile",
            "Effect": "Allow",
            "Resource": [APP_PROFILE, system],
        },
        {
            "Action": "bedrock:InvokeModel",
            "Effect": "Allow",
            "Resource": [
                f"arn:aws:bedrock:{r}::foundation-model/amazon.nova-pro-v1:0" for r in US_REGIONS
            ],
            "Condition": {"StringEquals": {"bedrock:InferenceProfileArn": [APP_PROFILE, system]}},
        },
        LOGS,
        XRAY,
    ]
    assert role_statements(us_stack) == expected
    rendered = json.dumps(iam_statements(workflow)).replace("${AWS::Partition}", "aws")
    assert json.loads(rendered) == expected


def test_provisioned_iam(us_stack: cdk.Stack) -> None:
    step = InvokeBedrock(us_stack, "Ask", model=KINDS["provisioned"](), prompt="Hi")
    Workflow(us_stack, "Workflow", definition=step)
    assert role_statements(us_stack) == [
        {"Action": "bedrock:InvokeModel", "Effect": "Allow", "Resource": PROVISIONED},
        LOGS,
        XRAY,
    ]


def test_foundation_model_iam(us_stack: cdk.Stack) -> None:
    step = InvokeBedrock(us_stack, "Ask", model="amazon.nova-pro-v1:0", prompt="Hi")
    Workflow(us_stack, "Workflow", definition=step)
    assert role_statements(us_stack) == [
        {
            "Action": "bedrock:InvokeModel",
            "Effect": "Allow",
            "Resource": "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0",
        },
        LOGS,
        XRAY,
    ]


def test_converse_iam_uses_bedrock_invoke_model(us_stack: cdk.Stack) -> None:
    step = Converse(us_stack, "Chat", model="us.amazon.nova-pro-v1:0", prompt="Hi")
    Workflow(us_stack, "Workflow", definition=step)
    statements = role_statements(us_stack)
    bedrock = [s for s in statements if s not in (LOGS, XRAY)]
    assert [s["Action"] for s in bedrock] == ["bedrock:InvokeModel", "bedrock:InvokeModel"]
    assert bedrock[0]["Resource"] == (
        "arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.amazon.nova-pro-v1:0"
    )
    text = str(Template.from_stack(us_stack).to_json())
    assert "bedrockruntime:" not in text.replace("aws-sdk:bedrockruntime:converse", "")


def test_guardrail_iam(us_stack: cdk.Stack) -> None:
    step = InvokeBedrock(
        us_stack,
        "Ask",
        model="amazon.nova-pro-v1:0",
        prompt="Hi",
        guardrail_id=GUARDRAIL,
        guardrail_version="3",
    )
    Workflow(us_stack, "Workflow", definition=step)
    assert role_statements(us_stack)[1] == {
        "Action": "bedrock:ApplyGuardrail",
        "Effect": "Allow",
        "Resource": f"arn:aws:bedrock:us-east-1:111122223333:guardrail/{GUARDRAIL}",
    }


def test_guardrail_arn_is_granted_as_given(us_stack: cdk.Stack) -> None:
    guardrail = f"arn:aws:bedrock:us-west-2:111122223333:guardrail/{GUARDRAIL}"
    step = InvokeBedrock(
        us_stack,
        "Ask",
        model="amazon.nova-pro-v1:0",
        prompt="Hi",
        guardrail_id=guardrail,
        guardrail_version="1",
    )
    Workflow(us_stack, "Workflow", definition=step)
    assert role_statements(us_stack)[1]["Resource"] == guardrail


def test_s3_literal_uris_scope_to_the_exact_object(us_stack: cdk.Stack) -> None:
    step = InvokeBedrock(
        us_stack,
        "Ask",
        model="amazon.nova-pro-v1:0",
        input_s3_uri="s3://my-bucket/requests/big.json",
        output_s3_uri="s3://my-bucket/answers/big.json",
    )
    Workflow(us_stack, "Workflow", definition=step)
    assert role_statements(us_stack)[1:3] == [
        {
            "Action": "s3:GetObject",
            "Effect": "Allow",
            "Resource": "arn:aws:s3:::my-bucket/requests/big.json",
        },
        {
            "Action": "s3:PutObject",
            "Effect": "Allow",
            "Resource": "arn:aws:s3:::my-bucket/answers/big.json",
        },
    ]


def test_s3_expression_uri_scopes_to_the_bucket(us_stack: cdk.Stack) -> None:
    bucket = s3.Bucket(us_stack, "Bucket")
    step = InvokeBedrock(
        us_stack,
        "Ask",
        model="amazon.nova-pro-v1:0",
        prompt="Hi",
        output_s3_uri="{% 's3://' & $states.input.bucket & '/out.json' %}",
        s3_bucket=bucket,
    )
    Workflow(us_stack, "Workflow", definition=step)
    assert role_statements(us_stack)[1] == {
        "Action": "s3:PutObject",
        "Effect": "Allow",
        "Resource": "${Bucket83908E77.Arn}/*",
    }


def test_no_wildcard_bedrock_action_anywhere(us_stack: cdk.Stack) -> None:
    steps = [
        InvokeBedrock(us_stack, "A", model="us.amazon.nova-pro-v1:0", prompt="Hi"),
        Converse(us_stack, "B", model="global.amazon.nova-2-lite-v1:0", prompt="Hi"),
        InvokeBedrock(
            us_stack,
            "C",
            model=KINDS["application_profile"](),
            prompt="Hi",
            guardrail_id=GUARDRAIL,
            guardrail_version="1",
        ),
    ]
    steps[0].next(steps[1]).next(steps[2])
    Workflow(us_stack, "Workflow", definition=steps[0])
    for statement in role_statements(us_stack):
        actions = statement["Action"]
        for action in actions if isinstance(actions, list) else [actions]:
            assert "*" not in action, statement
        if any(str(a).startswith("bedrock:") for a in [actions]):
            resources = statement["Resource"]
            for resource in resources if isinstance(resources, list) else [resources]:
                assert "*" not in resource, statement


def test_step_exposes_its_statements(us_stack: cdk.Stack) -> None:
    step = InvokeBedrock(us_stack, "Ask", model="us.amazon.nova-pro-v1:0", prompt="Hi")
    assert len(step.policy_statements) == 2
    assert step.model.kind.value == "inference-profile"


# -- bad input ----------------------------------------------------------------------------------
def invoke(stack: cdk.Stack, **kwargs: Any) -> InvokeBedrock:
    options: dict[str, Any] = {"model": MODELS[ModelFamily.NOVA], "prompt": "Hi", **kwargs}
    return InvokeBedrock(stack, "Ask", **options)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"model": "nova"}, "model_id"),
        ({"model": "amazon.nova lite"}, "model_id"),
        ({"model": "zz.amazon.nova-lite-v1:0"}, "model_id"),
        ({"model": APP_PROFILE}, "model"),
        ({"model": "stability.sd3-5-large-v1:0"}, "model"),  # unknown family without body
        ({"model": PROVISIONED}, "model"),  # provisioned without family, without body
        ({"body": {"inputText": "x"}}, "prompt/body/input_s3_uri"),
        ({"prompt": None}, "prompt/body/input_s3_uri"),
        ({"input_s3_uri": "s3://b/k"}, "prompt/body/input_s3_uri"),
        ({"prompt": None, "body": {"x": 1}, "system": "S"}, "system"),
        ({"prompt": None, "body": "not json"}, "body"),
        ({"prompt": None, "body": ["x"]}, "body"),
        ({"prompt": ""}, "prompt"),
        ({"prompt": "{% $states.input"}, "prompt"),
        ({"system": " "}, "system"),
        ({"guardrail_id": GUARDRAIL}, "guardrail_id/guardrail_version"),
        ({"guardrail_version": "1"}, "guardrail_id/guardrail_version"),
        ({"guardrail_id": "my-guardrail", "guardrail_version": "1"}, "guardrail_id"),
        ({"guardrail_id": GUARDRAIL, "guardrail_version": "v1"}, "guardrail_version"),
        ({"guardrail_id": GUARDRAIL, "guardrail_version": "0"}, "guardrail_version"),
        ({"inference": {"max_tokens": 5}}, "inference"),
        (
            {"model": MODELS[ModelFamily.LLAMA], "inference": Inference(stop_sequences=("x",))},
            "stop_sequences",
        ),
        ({"output_s3_uri": "https://bucket/key"}, "output_s3_uri"),
        ({"output_s3_uri": "s3://bucket"}, "output_s3_uri"),
        ({"output_s3_uri": "s3://Bad_Bucket/key"}, "output_s3_uri"),
        ({"output_s3_uri": "{% $uri %}"}, "output_s3_uri"),  # expression without s3_bucket
        ({"prompt": None, "input_s3_uri": "s3:/b/k"}, "input_s3_uri"),
        ({"timeout": cdk.Duration.millis(500)}, "timeout"),
        ({"timeout": 30}, "timeout"),
        ({"retry": [{"ErrorEquals": ["X"]}]}, "retry"),
        ({"assign_result_to": "1answer"}, "assign_result_to"),
        ({"assign_result_to": "my-answer"}, "assign_result_to"),
        ({"assign_result_to": "réponse"}, "assign_result_to"),
    ],
)
def test_bad_input_names_the_argument(
    stack: cdk.Stack, kwargs: dict[str, Any], argument: str
) -> None:
    with pytest.raises(LambdalessError) as caught:
        invoke(stack, **kwargs)
    message = str(caught.value)
    assert message.startswith(f"{argument}="), message
    assert "is not allowed: expected" in message


@pytest.mark.parametrize(
    ("inference", "argument"),
    [
        (lambda: Inference(temperature=2.01), "temperature"),
        (lambda: Inference(max_tokens=0), "max_tokens"),
        (lambda: Inference(top_p=-1), "top_p"),
    ],
)
def test_bad_inference_names_the_argument(inference: Callable[[], Any], argument: str) -> None:
    with pytest.raises(LambdalessError, match=rf"^{argument}="):
        inference()


def test_converse_bad_input(stack: cdk.Stack) -> None:
    with pytest.raises(LambdalessError, match=r"^prompt=None"):
        Converse(stack, "A", model="amazon.nova-lite-v1:0", prompt=None)  # type: ignore[arg-type]
    with pytest.raises(LambdalessError, match=r"^assign_result_to="):
        Converse(stack, "B", model="amazon.nova-lite-v1:0", prompt="Hi", assign_result_to="a b")
    with pytest.raises(LambdalessError, match=r"^model_id="):
        Converse(stack, "C", model="Nova Lite", prompt="Hi")


def test_body_with_known_family_still_gets_the_uniform_answer(stack: cdk.Stack, asl: Asl) -> None:
    step = InvokeBedrock(stack, "Ask", model=MODELS[ModelFamily.NOVA], body={"x": 1})
    state = only_state(stack, asl, step)["States"]["Ask"]
    assert state["Output"].startswith("{% ($b := $states.result.Body; {'text': ")
    assert state["Arguments"]["Body"] == {"x": 1}


def test_assign_with_s3_output_holds_the_step_output(stack: cdk.Stack, asl: Asl) -> None:
    step = InvokeBedrock(
        stack,
        "Ask",
        model=MODELS[ModelFamily.NOVA],
        prompt="Hi",
        output_s3_uri="s3://my-bucket/answers/a.json",
        assign_result_to="answer",
    )
    state = only_state(stack, asl, step)["States"]["Ask"]
    assert state["Output"] == {"outputS3Uri": "s3://my-bucket/answers/a.json"}
    assert state["Assign"] == {"answer": {"outputS3Uri": "s3://my-bucket/answers/a.json"}}
