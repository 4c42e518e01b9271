"""Model-reference rules: real Bedrock ids and profiles pass, realistic mistakes are refused."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_bedrock as bedrock
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from tests.rules._support import accepted, refused

from lambdaless import BedrockModel, InvokeBedrock, ModelFamily, Workflow
from lambdaless.analysis.lint import lint_definition
from lambdaless.rules._model_ids import KNOWN_MODEL_IDS

# Real ids from the Bedrock user guide ("models-supported" / model cards), every family and
# modality, including ids without a version suffix where the provider uses none.
REAL_IDS = [
    "anthropic.claude-3-haiku-20240307-v1:0",
    "anthropic.claude-3-5-haiku-20241022-v1:0",
    "anthropic.claude-3-5-sonnet-20241022-v2:0",
    "anthropic.claude-3-7-sonnet-20250219-v1:0",
    "anthropic.claude-sonnet-4-20250514-v1:0",
    "anthropic.claude-sonnet-4-5-20250929-v1:0",
    "anthropic.claude-haiku-4-5-20251001-v1:0",
    "anthropic.claude-opus-4-1-20250805-v1:0",
    "anthropic.claude-sonnet-4-6",
    "anthropic.claude-opus-4-7",
    "anthropic.claude-v2:1",
    "anthropic.claude-instant-v1",
    "amazon.nova-micro-v1:0",
    "amazon.nova-lite-v1:0",
    "amazon.nova-pro-v1:0",
    "amazon.nova-premier-v1:0",
    "amazon.nova-2-lite-v1:0",
    "amazon.nova-canvas-v1:0",
    "amazon.nova-reel-v1:1",
    "amazon.nova-sonic-v1:0",
    "amazon.titan-text-express-v1",
    "amazon.titan-text-lite-v1",
    "amazon.titan-text-premier-v1:0",
    "amazon.titan-embed-text-v1",
    "amazon.titan-embed-text-v2:0",
    "amazon.titan-embed-image-v1",
    "amazon.titan-image-generator-v2:0",
    "amazon.rerank-v1:0",
    "meta.llama3-8b-instruct-v1:0",
    "meta.llama3-1-405b-instruct-v1:0",
    "meta.llama3-2-90b-instruct-v1:0",
    "meta.llama3-3-70b-instruct-v1:0",
    "meta.llama4-scout-17b-instruct-v1:0",
    "mistral.mistral-7b-instruct-v0:2",
    "mistral.mixtral-8x7b-instruct-v0:1",
    "mistral.mistral-large-2407-v1:0",
    "mistral.pixtral-large-2502-v1:0",
    "cohere.command-r-v1:0",
    "cohere.command-r-plus-v1:0",
    "cohere.embed-english-v3",
    "cohere.embed-multilingual-v3",
    "cohere.embed-v4:0",
    "cohere.rerank-v3-5:0",
    "ai21.jamba-1-5-large-v1:0",
    "ai21.jamba-1-5-mini-v1:0",
    "deepseek.r1-v1:0",
    "deepseek.v3-v1:0",
    "openai.gpt-oss-120b-1:0",
    "openai.gpt-oss-20b-1:0",
    "qwen.qwen3-32b-v1:0",
    "qwen.qwen3-coder-480b-a35b-v1:0",
    "stability.sd3-5-large-v1:0",
    "stability.stable-image-ultra-v1:1",
    "luma.ray-v2:0",
    "twelvelabs.pegasus-1-2-v1:0",
    "twelvelabs.marengo-embed-2-7-v1:0",
    "writer.palmyra-x5-v1:0",
    "google.gemma-3-27b-it",
    "nvidia.nemotron-nano-12b-v2",
    "moonshot.kimi-k2-thinking",
    "minimax.minimax-m2",
    "zai.glm-4.7",
]
REAL_PROFILES = [
    "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
    "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
    "eu.anthropic.claude-3-7-sonnet-20250219-v1:0",
    "apac.amazon.nova-lite-v1:0",
    "jp.anthropic.claude-haiku-4-5-20251001-v1:0",
    "au.anthropic.claude-sonnet-4-5-20250929-v1:0",
    "us-gov.anthropic.claude-3-5-sonnet-20240620-v1:0",
    "us.meta.llama3-2-3b-instruct-v1:0",
    "us.amazon.nova-premier-v1:0",
    "us.cohere.embed-v4:0",
    "us.twelvelabs.pegasus-1-2-v1:0",
    "eu.amazon.titan-embed-text-v2:0",
]
ARN = "arn:aws:bedrock:us-east-1:111122223333:{kind}/a1b2c3d4e5f6"


@pytest.mark.parametrize("model_id", REAL_IDS + sorted(KNOWN_MODEL_IDS))
def test_real_model_ids_pass(model_id: str) -> None:
    model = accepted(lambda: BedrockModel.of(model_id))
    assert isinstance(model, BedrockModel)


@pytest.mark.parametrize("profile_id", REAL_PROFILES)
def test_real_profile_ids_pass(profile_id: str) -> None:
    accepted(lambda: BedrockModel.of(profile_id))


@pytest.mark.parametrize(
    "model_id",
    [
        " anthropic.claude-3-haiku-20240307-v1:0",
        "anthropic.claude-3-haiku-20240307-v1:0 ",
        "anthropic.claude-3-haiku-20240307-v1:0\n",
        "amazon.nova-lite-v1:0\t",
        "amazon.nova\u200b-lite-v1:0".replace("\u200b", "\x00"),
        "meta.llama3-8b-instruct-v1:0\r",
        "us.amazon.nova-pro-v1:0 ",
        "",
        "claude-3-haiku",
        "Anthropic.claude-3-haiku-20240307-v1:0",
        "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0",
        "arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.amazon.nova-lite-v1:0",
    ],
)
def test_model_id_shape(model_id: str) -> None:
    refused("model-id-shape", lambda: BedrockModel.of(model_id), argument="model_id")


@pytest.mark.parametrize(
    ("model_id", "hint"),
    [
        ("antropic.claude-3-haiku-20240307-v1:0", "anthropic"),
        ("claude.claude-3-haiku-20240307-v1:0", None),
        ("aws.nova-lite-v1:0", None),
        ("amazonn.titan-embed-text-v2:0", "amazon"),
        ("titan.embed-text-v2:0", None),
        ("stabilityai.stable-diffusion-xl-v1", "stability"),
        ("llama.llama3-8b-instruct-v1:0", None),
        ("openai.gpt-oss-120b-1:0".replace("openai", "open-ai"), "openai"),
        ("cohere-ai.embed-english-v3", None),
    ],
)
def test_model_provider(model_id: str, hint: str | None) -> None:
    error = refused("model-provider", lambda: BedrockModel.of(model_id), value=model_id)
    if hint:
        assert f"did you mean {hint!r}" in str(error)


@pytest.mark.parametrize(
    "model_id",
    [
        "uk.anthropic.claude-3-haiku-20240307-v1:0",
        "usa.amazon.nova-lite-v1:0",
        "europe.meta.llama3-2-3b-instruct-v1:0",
        "asia.amazon.titan-embed-text-v2:0",
        "xx.stability.sd3-5-large-v1:0",
        "gl.cohere.embed-v4:0",
    ],
)
def test_model_geography(model_id: str) -> None:
    refused("model-geography", lambda: BedrockModel.of(model_id), value=model_id)
    refused("model-geography", lambda: BedrockModel.cross_region_profile(model_id), value=model_id)


@pytest.mark.parametrize(
    ("model_id", "full"),
    [
        ("anthropic.claude-3-haiku-20240307", "anthropic.claude-3-haiku-20240307-v1:0"),
        ("anthropic.claude-3-haiku", "anthropic.claude-3-haiku-20240307-v1:0"),
        ("anthropic.claude-sonnet-4-5", "anthropic.claude-sonnet-4-5-20250929-v1:0"),
        ("anthropic.claude-3-5-sonnet-20241022-v2", "anthropic.claude-3-5-sonnet-20241022-v2:0"),
        ("amazon.nova-pro", "amazon.nova-pro-v1:0"),
        ("amazon.nova-lite-v1", "amazon.nova-lite-v1:0"),
        ("amazon.titan-embed-text-v2", "amazon.titan-embed-text-v2:0"),
        ("amazon.titan-image-generator-v2", "amazon.titan-image-generator-v2:0"),
        ("meta.llama3-8b-instruct", "meta.llama3-8b-instruct-v1:0"),
        ("mistral.mistral-large-2402", "mistral.mistral-large-2402-v1:0"),
        ("mistral.mistral-7b-instruct", "mistral.mistral-7b-instruct-v0:2"),
        ("cohere.command-r-plus", "cohere.command-r-plus-v1:0"),
        ("ai21.jamba-1-5-mini", "ai21.jamba-1-5-mini-v1:0"),
        ("stability.sd3-5-large", "stability.sd3-5-large-v1:0"),
        ("deepseek.r1", "deepseek.r1-v1:0"),
        ("anthropic.claude-opus-9-20301231", "anthropic.claude-opus-9-20301231-v1:0"),
    ],
)
def test_model_version_suffix(model_id: str, full: str) -> None:
    error = refused("model-version-suffix", lambda: BedrockModel.of(model_id), value=model_id)
    assert repr(full) in str(error)
    refused("model-version-suffix", lambda: BedrockModel.of(f"us.{model_id}"))


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:bedrock:us-east-1:1111222233:provisioned-model/a1b2c3d4e5f6",
        "arn:aws:bedrock:us-east-1:111122223333:provisioned-model/",
        "arn:aws:bedrock:useast1:111122223333:provisioned-model/a1b2c3d4e5f6",
        "arn:amazon:bedrock:us-east-1:111122223333:provisioned-model/a1b2c3d4e5f6",
        "arn:aws:bedrock:us-east-1:111122223333:provisioned-model/a1b2 c3d4e5f6",
        "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/a1b2c3d4e5f6",
        "arn:aws:sagemaker:us-east-1:111122223333:provisioned-model/a1b2c3d4e5f6",
        "a1b2c3d4e5f6",
    ],
)
def test_model_arn_malformed(arn: str) -> None:
    refused("model-arn", lambda: BedrockModel.provisioned(arn), argument="arn")


def test_model_arn_well_formed_passes() -> None:
    for partition in ("aws", "aws-cn", "aws-us-gov"):
        arn = f"arn:{partition}:bedrock:us-gov-west-1:111122223333:provisioned-model/a1b2c3"
        accepted(lambda arn=arn: BedrockModel.provisioned(arn))


@pytest.mark.parametrize(
    "make",
    [
        lambda: BedrockModel.provisioned(
            ARN.format(kind="provisioned-model").replace("us-east-1", "us-west-2"),
            family=ModelFamily.NOVA,
        ),
        lambda: BedrockModel.application_profile(
            ARN.format(kind="application-inference-profile").replace("us-east-1", "eu-west-1"),
            source=BedrockModel.of("amazon.nova-lite-v1:0"),
        ),
        lambda: BedrockModel.provisioned(
            ARN.format(kind="provisioned-model").replace("arn:aws:", "arn:aws-cn:"),
            family=ModelFamily.NOVA,
        ),
    ],
)
def test_model_arn_in_another_region_or_partition(us_stack: cdk.Stack, make: object) -> None:
    assert callable(make)
    model = make()
    refused(
        "model-arn",
        lambda: InvokeBedrock(us_stack, "Ask", model=model, prompt="hi"),
        argument="arn",
    )


def test_model_arn_in_the_stack_region_passes(us_stack: cdk.Stack, stack: cdk.Stack) -> None:
    model = BedrockModel.provisioned(ARN.format(kind="provisioned-model"), family=ModelFamily.NOVA)
    accepted(lambda: InvokeBedrock(us_stack, "Ask", model=model, prompt="hi"))
    # an environment-agnostic stack cannot tell: the ARN is taken as given
    accepted(lambda: InvokeBedrock(stack, "Ask", model=model, prompt="hi"))


@pytest.mark.parametrize(
    ("profile_id", "region"),
    [
        ("eu.anthropic.claude-3-7-sonnet-20250219-v1:0", "us-east-1"),
        ("us.amazon.nova-lite-v1:0", "eu-west-1"),
        ("apac.amazon.nova-lite-v1:0", "eu-central-1"),
        ("jp.anthropic.claude-haiku-4-5-20251001-v1:0", "us-west-2"),
    ],
)
def test_model_profile_region(app: cdk.App, profile_id: str, region: str) -> None:
    stack = cdk.Stack(app, "S", env=cdk.Environment(account="111122223333", region=region))
    refused(
        "model-profile-region",
        lambda: InvokeBedrock(stack, "Ask", model=profile_id, prompt="hi"),
        argument="profile_id",
        value=profile_id,
    )
    # global profiles are called from any commercial region
    accepted(
        lambda: InvokeBedrock(
            stack, "Global", model="global.anthropic.claude-sonnet-4-5-20250929-v1:0", prompt="x"
        )
    )


@pytest.mark.parametrize(
    ("model_id", "family"),
    [
        ("anthropic.claude-3-haiku-20240307-v1:0", ModelFamily.NOVA),
        ("amazon.nova-pro-v1:0", ModelFamily.ANTHROPIC),
        ("meta.llama3-1-70b-instruct-v1:0", ModelFamily.MISTRAL),
        ("mistral.mistral-large-2407-v1:0", ModelFamily.MISTRAL),
        ("amazon.titan-text-express-v1", ModelFamily.COHERE),
    ],
)
def test_model_family(model_id: str, family: ModelFamily) -> None:
    arn = ARN.format(kind="provisioned-model")
    refused(
        "model-family",
        lambda: BedrockModel.provisioned(arn, foundation_model_id=model_id, family=family),
        argument="family",
    )


def test_model_family_that_agrees_or_is_unknown_passes() -> None:
    arn = ARN.format(kind="provisioned-model")
    model = BedrockModel.provisioned(
        arn, foundation_model_id="amazon.nova-pro-v1:0", family=ModelFamily.NOVA
    )
    assert model.family is ModelFamily.NOVA
    # a model with no text family (an embedding model) leaves family= to the caller
    custom = BedrockModel.provisioned(
        arn, foundation_model_id="amazon.titan-embed-text-v2:0", family=ModelFamily.TITAN
    )
    assert custom.family is ModelFamily.TITAN


@pytest.mark.parametrize("other_region", ["us-east-1", "eu-west-1"])
def test_step_stack(app: cdk.App, other_region: str) -> None:
    env = cdk.Environment(account="111122223333", region="us-east-1")
    home = cdk.Stack(app, "Home", env=env)
    other = cdk.Stack(
        app, "Other", env=cdk.Environment(account="111122223333", region=other_region)
    )
    step = InvokeBedrock(other, "Ask", model="amazon.nova-lite-v1:0", prompt="hi")
    refused(
        "step-stack",
        lambda: Workflow(home, "Flow", definition=step, alarms=False),
        argument="step",
        value="Ask",
    )


def test_step_in_the_workflow_stack_passes(us_stack: cdk.Stack) -> None:
    step = InvokeBedrock(us_stack, "Ask", model="amazon.nova-lite-v1:0", prompt="hi")
    accepted(lambda: Workflow(us_stack, "Flow", definition=step, alarms=False))


@pytest.mark.parametrize(
    ("model_id", "real"),
    [
        ("anthropic.claude-3-5-sonnet-20241022-v1:0", "anthropic.claude-3-5-sonnet-20241022-v2:0"),
        ("anthropic.claude-3-haiku-20240307-v2:0", "anthropic.claude-3-haiku-20240307-v1:0"),
        ("amazon.nova-pro-v2:0", "amazon.nova-pro-v1:0"),
        ("meta.llama3-8b-instruct-v1:1", "meta.llama3-8b-instruct-v1:0"),
        ("amazon.titan-image-generator-v2:1", "amazon.titan-image-generator-v2:0"),
    ],
)
def test_model_version_that_does_not_exist(model_id: str, real: str) -> None:
    error = refused("model-version-suffix", lambda: BedrockModel.of(model_id), value=model_id)
    assert repr(real) in str(error)


# -- bedrock-task-model-id: aws-cdk-lib's own Bedrock tasks --------------------------------------
BODY = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 100, "messages": []}


def cdk_invoke(stack: cdk.Stack, model_id: str) -> dict[str, object]:
    """aws-cdk-lib's BedrockInvokeModel on FoundationModelIdentifier(model_id), in a Workflow."""
    model = bedrock.FoundationModel.from_foundation_model_id(
        stack, "Model", bedrock.FoundationModelIdentifier(model_id)
    )
    step = tasks.BedrockInvokeModel.jsonata(
        stack, "Ask", model=model, body=sfn.TaskInput.from_object(BODY)
    )
    return Workflow(stack, "Flow", definition=step, alarms=False).definition()


def task_model_findings(definition: dict[str, object]) -> list[str]:
    return [f.message for f in lint_definition(definition) if f.rule == "bedrock-task-model-id"]


@pytest.mark.parametrize(
    ("model_id", "expected"),
    [
        # a cross-region profile passed as a foundation model: foundation-model/us.… names no model
        ("us.anthropic.claude-haiku-4-5-20251001-v1:0", "inference-profile/us.anthropic"),
        ("global.anthropic.claude-sonnet-4-5-20250929-v1:0", "is a cross-region inference"),
        ("anthropic.claude-3-haiku-20240307", "'anthropic.claude-3-haiku-20240307-v1:0'"),
        ("anthropics.claude-3-haiku-20240307-v1:0", "a model of a Bedrock provider"),
    ],
)
def test_bedrock_task_model_id(us_stack: cdk.Stack, model_id: str, expected: str) -> None:
    (message,) = task_model_findings(cdk_invoke(us_stack, model_id))
    assert "state 'Ask' Arguments.ModelId=" in message
    assert expected in message


@pytest.mark.parametrize(
    "model_id",
    ["anthropic.claude-3-haiku-20240307-v1:0", "amazon.nova-lite-v1:0", "amazon.nova-9-pro-v1:0"],
)
def test_bedrock_task_real_or_new_models_pass(us_stack: cdk.Stack, model_id: str) -> None:
    # an id absent from the known list passes when its provider exists: Bedrock adds models
    assert task_model_findings(cdk_invoke(us_stack, model_id)) == []


def test_bedrock_task_model_ids_of_other_kinds() -> None:
    def ask(model: str, resource: str = "arn:aws:states:::aws-sdk:bedrockruntime:converse") -> Any:
        task = {"Type": "Task", "Resource": resource, "Arguments": {"ModelId": model}, "End": True}
        return {"QueryLanguage": "JSONata", "StartAt": "Ask", "States": {"Ask": task}}

    passing = [
        "us.anthropic.claude-haiku-4-5-20251001-v1:0",
        "arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.amazon.nova-lite-v1:0",
        "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/a1b2c3d4e5f6",
        "arn:aws:bedrock:us-east-1:111122223333:provisioned-model/abc123def456",
        "{% $states.input.model %}",
    ]
    for model in passing:
        assert task_model_findings(ask(model)) == [], model
    assert task_model_findings(ask("uss.amazon.nova-lite-v1:0"))
    assert task_model_findings(ask("amazon.nova-lite", "arn:aws:states:::bedrock:invokeModel"))
    assert task_model_findings(ask("amazon.nova-lite", "arn:aws:states:::sqs:sendMessage")) == []
