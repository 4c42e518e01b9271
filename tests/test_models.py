"""BedrockModel: kinds, families, ARNs, exact IAM resources and input validation."""

from __future__ import annotations

import aws_cdk as cdk
import pytest

from lambdaless import BedrockModel, LambdalessError, ModelFamily, ModelKind
from lambdaless.models import family_of
from lambdaless.synthesized import resolve

APP_PROFILE = "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/a1b2c3d4e5f6"
PROVISIONED = "arn:aws:bedrock:us-east-1:111122223333:provisioned-model/abc123xyz789"
US_REGIONS = ("us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1")


def statements(stack: cdk.Stack, model: BedrockModel) -> list[dict[str, object]]:
    """The model's policy statements, rendered and with ``${AWS::Partition}`` resolved."""
    return [
        resolve(stack.resolve(s.to_statement_json()), {"AWS::Partition": "aws"})
        for s in model.policy_statements(stack)
    ]


@pytest.mark.parametrize(
    ("model_id", "family"),
    [
        ("anthropic.claude-3-5-haiku-20241022-v1:0", ModelFamily.ANTHROPIC),
        ("anthropic.claude-sonnet-4-5-20250929-v1:0", ModelFamily.ANTHROPIC),
        ("amazon.nova-lite-v1:0", ModelFamily.NOVA),
        ("amazon.nova-pro-v1:0", ModelFamily.NOVA),
        ("amazon.nova-micro-v1:0", ModelFamily.NOVA),
        ("amazon.titan-text-premier-v1:0", ModelFamily.TITAN),
        ("amazon.titan-text-express-v1", ModelFamily.TITAN),
        ("meta.llama3-1-8b-instruct-v1:0", ModelFamily.LLAMA),
        ("meta.llama3-3-70b-instruct-v1:0", ModelFamily.LLAMA),
        ("mistral.mistral-7b-instruct-v0:2", ModelFamily.MISTRAL),
        ("mistral.mixtral-8x7b-instruct-v0:1", ModelFamily.MISTRAL),
        ("mistral.mistral-large-2402-v1:0", ModelFamily.MISTRAL),
        ("mistral.mistral-large-2407-v1:0", ModelFamily.CHAT),
        ("cohere.command-r-plus-v1:0", ModelFamily.COHERE),
        ("cohere.command-r-v1:0", ModelFamily.COHERE),
        ("ai21.jamba-1-5-mini-v1:0", ModelFamily.CHAT),
        ("openai.gpt-oss-120b-1:0", ModelFamily.CHAT),
        ("amazon.nova-canvas-v1:0", None),
        ("amazon.nova-sonic-v1:0", None),
        ("amazon.titan-embed-text-v2:0", None),
        ("stability.sd3-5-large-v1:0", None),
    ],
)
def test_family_is_derived_from_the_id(model_id: str, family: ModelFamily | None) -> None:
    assert family_of(model_id) is family
    assert BedrockModel.of(model_id).family is family


def test_of_dispatches_on_the_kind_of_identifier() -> None:
    assert BedrockModel.of("amazon.nova-lite-v1:0").kind is ModelKind.FOUNDATION_MODEL
    assert BedrockModel.of("us.amazon.nova-lite-v1:0").kind is ModelKind.CROSS_REGION_PROFILE
    assert BedrockModel.of(PROVISIONED).kind is ModelKind.PROVISIONED
    model = BedrockModel.foundation_model("amazon.nova-lite-v1:0")
    assert BedrockModel.of(model) is model


def test_cross_region_profile_fields() -> None:
    model = BedrockModel.cross_region_profile("us.anthropic.claude-3-5-haiku-20241022-v1:0")
    assert model.geography == "us"
    assert model.foundation_model_id == "anthropic.claude-3-5-haiku-20241022-v1:0"
    assert model.family is ModelFamily.ANTHROPIC
    assert model.destination_regions == US_REGIONS
    glob = BedrockModel.cross_region_profile("global.anthropic.claude-sonnet-4-5-20250929-v1:0")
    assert glob.geography == "global"
    assert glob.destination_regions == ()


# -- ARNs and IAM, per kind -------------------------------------------------------------------
def test_foundation_model(us_stack: cdk.Stack) -> None:
    model = BedrockModel.foundation_model("amazon.nova-lite-v1:0")
    arn = "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0"
    assert resolve(us_stack.resolve(model.invoke_arn(us_stack)), {"AWS::Partition": "aws"}) == arn
    assert statements(us_stack, model) == [
        {"Action": "bedrock:InvokeModel", "Effect": "Allow", "Resource": arn}
    ]


def test_cross_region_profile_grants_source_and_every_destination(us_stack: cdk.Stack) -> None:
    model = BedrockModel.cross_region_profile("us.amazon.nova-pro-v1:0")
    profile = "arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.amazon.nova-pro-v1:0"
    assert statements(us_stack, model) == [
        {"Action": "bedrock:InvokeModel", "Effect": "Allow", "Resource": profile},
        {
            "Action": "bedrock:InvokeModel",
            "Effect": "Allow",
            "Resource": [
                f"arn:aws:bedrock:{r}::foundation-model/amazon.nova-pro-v1:0" for r in US_REGIONS
            ],
            "Condition": {"StringEquals": {"bedrock:InferenceProfileArn": profile}},
        },
    ]


def test_cross_region_profile_with_explicit_destinations(us_stack: cdk.Stack) -> None:
    model = BedrockModel.cross_region_profile(
        "us.amazon.nova-pro-v1:0", destination_regions=["us-west-2"]
    )
    routed = statements(us_stack, model)[1]["Resource"]
    # the source region is always granted, then the given destinations
    assert routed == [
        "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0",
        "arn:aws:bedrock:us-west-2::foundation-model/amazon.nova-pro-v1:0",
    ]


def test_global_profile_grants_the_regionless_model_arn(us_stack: cdk.Stack) -> None:
    model = BedrockModel.cross_region_profile("global.anthropic.claude-sonnet-4-5-20250929-v1:0")
    profile = (
        "arn:aws:bedrock:us-east-1:111122223333:inference-profile/"
        "global.anthropic.claude-sonnet-4-5-20250929-v1:0"
    )
    assert statements(us_stack, model)[1]["Resource"] == [
        "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0",
        "arn:aws:bedrock:::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0",
    ]
    assert statements(us_stack, model)[0]["Resource"] == profile


US_NOVA_PRO = "arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.amazon.nova-pro-v1:0"


def test_application_profile_from_a_system_profile(us_stack: cdk.Stack) -> None:
    """The profile and its source system profile, GetInferenceProfile on both, and the model in
    every region the system profile serves, usable only through the two profiles."""
    source = BedrockModel.cross_region_profile("us.amazon.nova-pro-v1:0")
    model = BedrockModel.application_profile(APP_PROFILE, source=source)
    assert model.family is ModelFamily.NOVA
    assert model.invoke_arn(us_stack) == APP_PROFILE
    assert statements(us_stack, model) == [
        {
            "Action": "bedrock:InvokeModel",
            "Effect": "Allow",
            "Resource": [APP_PROFILE, US_NOVA_PRO],
        },
        {
            "Action": "bedrock:GetInferenceProfile",
            "Effect": "Allow",
            "Resource": [APP_PROFILE, US_NOVA_PRO],
        },
        {
            "Action": "bedrock:InvokeModel",
            "Effect": "Allow",
            "Resource": [
                f"arn:aws:bedrock:{r}::foundation-model/amazon.nova-pro-v1:0" for r in US_REGIONS
            ],
            "Condition": {
                "StringEquals": {"bedrock:InferenceProfileArn": [APP_PROFILE, US_NOVA_PRO]}
            },
        },
    ]


def test_application_profile_from_explicit_destinations(us_stack: cdk.Stack) -> None:
    source = BedrockModel.cross_region_profile(
        "us.amazon.nova-pro-v1:0", destination_regions=["us-east-2"]
    )
    model = BedrockModel.application_profile(APP_PROFILE, source=source)
    assert statements(us_stack, model)[2]["Resource"] == [
        "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0",
        "arn:aws:bedrock:us-east-2::foundation-model/amazon.nova-pro-v1:0",
    ]


def test_application_profile_from_a_global_profile(us_stack: cdk.Stack) -> None:
    model_id = "anthropic.claude-sonnet-4-5-20250929-v1:0"
    model = BedrockModel.application_profile(APP_PROFILE, source=f"global.{model_id}")
    system = f"arn:aws:bedrock:us-east-1:111122223333:inference-profile/global.{model_id}"
    granted = statements(us_stack, model)
    assert granted[0]["Resource"] == [APP_PROFILE, system]
    assert granted[2]["Resource"] == [
        f"arn:aws:bedrock:us-east-1::foundation-model/{model_id}",
        f"arn:aws:bedrock:::foundation-model/{model_id}",
    ]


def test_application_profile_from_a_foundation_model(us_stack: cdk.Stack) -> None:
    source = BedrockModel.foundation_model("anthropic.claude-3-5-haiku-20241022-v1:0")
    model = BedrockModel.application_profile(APP_PROFILE, source=source)
    assert statements(us_stack, model) == [
        {"Action": "bedrock:InvokeModel", "Effect": "Allow", "Resource": APP_PROFILE},
        {"Action": "bedrock:GetInferenceProfile", "Effect": "Allow", "Resource": APP_PROFILE},
        {
            "Action": "bedrock:InvokeModel",
            "Effect": "Allow",
            "Resource": (
                "arn:aws:bedrock:us-east-1::foundation-model/"
                "anthropic.claude-3-5-haiku-20241022-v1:0"
            ),
            "Condition": {"StringEquals": {"bedrock:InferenceProfileArn": APP_PROFILE}},
        },
    ]


@pytest.mark.parametrize(
    "source",
    [
        "us.amazon.nova-pro-v1:0",
        US_NOVA_PRO,  # the ARN CreateInferenceProfile's copyFrom takes
        BedrockModel.cross_region_profile("us.amazon.nova-pro-v1:0"),
    ],
)
def test_application_profile_source_as_id_or_arn(source: object) -> None:
    model = BedrockModel.application_profile(APP_PROFILE, source=source)  # type: ignore[arg-type]
    assert model.source == BedrockModel.cross_region_profile("us.amazon.nova-pro-v1:0")
    assert model.family is ModelFamily.NOVA


def _cfn_profile(stack: cdk.Stack, copy_from: str) -> object:
    from aws_cdk import aws_bedrock as bedrock

    return bedrock.CfnApplicationInferenceProfile(
        stack,
        "Profile",
        inference_profile_name="p",
        model_source=bedrock.CfnApplicationInferenceProfile.InferenceProfileModelSourceProperty(
            copy_from=copy_from
        ),
    )


def test_application_profile_accepts_a_token(us_stack: cdk.Stack) -> None:
    cfn = _cfn_profile(
        us_stack, "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0"
    )
    model = BedrockModel.application_profile(
        cfn.attr_inference_profile_arn,  # type: ignore[attr-defined]
        source=BedrockModel.foundation_model("amazon.nova-lite-v1:0"),
    )
    assert statements(us_stack, model)[0]["Resource"] == "${Profile.InferenceProfileArn}"


def test_cfn_application_profile_reads_its_source(us_stack: cdk.Stack) -> None:
    """aws-cdk-lib's CfnApplicationInferenceProfile (the only application-profile construct of
    stable aws_bedrock): the ARN is its attribute and the source its literal copy_from."""
    cfn = _cfn_profile(us_stack, US_NOVA_PRO)
    for model in (BedrockModel.of(cfn), BedrockModel.application_profile(cfn)):  # type: ignore[arg-type]
        assert model.kind is ModelKind.APPLICATION_PROFILE
        assert model.source == BedrockModel.cross_region_profile("us.amazon.nova-pro-v1:0")
        granted = statements(us_stack, model)
        assert granted[0]["Resource"] == ["${Profile.InferenceProfileArn}", US_NOVA_PRO]
        assert granted[2]["Condition"] == {
            "StringEquals": {
                "bedrock:InferenceProfileArn": ["${Profile.InferenceProfileArn}", US_NOVA_PRO]
            }
        }


def test_cfn_application_profile_with_a_token_source_needs_source(us_stack: cdk.Stack) -> None:
    model_arn = cdk.Fn.join("", ["arn:aws:bedrock:", cdk.Aws.REGION, "::foundation-model/x.y"])
    cfn = _cfn_profile(us_stack, model_arn)
    with pytest.raises(LambdalessError, match=r"^source=None") as err:
        BedrockModel.application_profile(cfn)  # type: ignore[arg-type]
    assert "get-inference-profile" in str(err.value)
    model = BedrockModel.application_profile(cfn, source="amazon.nova-lite-v1:0")  # type: ignore[arg-type]
    assert model.foundation_model_id == "amazon.nova-lite-v1:0"


def test_cfn_application_profile_refuses_a_contradicting_source(us_stack: cdk.Stack) -> None:
    cfn = _cfn_profile(us_stack, US_NOVA_PRO)
    with pytest.raises(LambdalessError, match=r"^source='amazon\.nova-lite-v1:0'") as err:
        BedrockModel.application_profile(cfn, source="amazon.nova-lite-v1:0")  # type: ignore[arg-type]
    assert "copy_from" in str(err.value)


def test_provisioned_grants_only_its_arn(us_stack: cdk.Stack) -> None:
    model = BedrockModel.provisioned(PROVISIONED, foundation_model_id="amazon.nova-lite-v1:0")
    assert model.family is ModelFamily.NOVA
    assert statements(us_stack, model) == [
        {"Action": "bedrock:InvokeModel", "Effect": "Allow", "Resource": PROVISIONED}
    ]
    assert BedrockModel.provisioned(PROVISIONED, family=ModelFamily.LLAMA).family is (
        ModelFamily.LLAMA
    )
    assert BedrockModel.provisioned(PROVISIONED).family is None


def test_env_agnostic_stack_keeps_region_and_account_as_references(stack: cdk.Stack) -> None:
    model = BedrockModel.cross_region_profile("eu.amazon.nova-pro-v1:0")
    assert resolve(stack.resolve(model.invoke_arn(stack))) == (
        "arn:${AWS::Partition}:bedrock:${AWS::Region}:${AWS::AccountId}"
        ":inference-profile/eu.amazon.nova-pro-v1:0"
    )


def test_profile_of_another_geography_than_the_stack(us_stack: cdk.Stack) -> None:
    model = BedrockModel.cross_region_profile("eu.amazon.nova-pro-v1:0")
    with pytest.raises(LambdalessError, match=r"^profile_id='eu\.amazon\.nova-pro-v1:0'") as err:
        model.invoke_arn(us_stack)
    assert "us-east-1" in str(err.value)


# -- bad input ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "model_id",
    ["", "anthropic", "Anthropic.Claude-v1", "anthropic.claude 3", ".claude", "anthropic."],
)
def test_malformed_model_id(model_id: str) -> None:
    with pytest.raises(LambdalessError, match=r"^model_id="):
        BedrockModel.foundation_model(model_id)
    with pytest.raises(LambdalessError, match=r"^model_id="):
        BedrockModel.of(model_id)


def test_profile_id_given_as_foundation_model() -> None:
    with pytest.raises(LambdalessError, match=r"^model_id='us\.amazon") as err:
        BedrockModel.foundation_model("us.amazon.nova-lite-v1:0")
    assert "cross_region_profile" in str(err.value)


@pytest.mark.parametrize(
    "profile_id",
    ["xx.amazon.nova-lite-v1:0", "amazon.nova-lite-v1:0", "us.", "mars.anthropic.claude-v2"],
)
def test_profile_id_with_unknown_geography(profile_id: str) -> None:
    with pytest.raises(LambdalessError, match=r"^profile_id=") as err:
        BedrockModel.cross_region_profile(profile_id)
    assert "apac" in str(err.value)  # the message lists the geographies


def test_unknown_geography_through_of_is_not_a_foundation_model() -> None:
    """``xx.anthropic.claude-...`` is a profile id with a typo, not a model of provider xx."""
    with pytest.raises(LambdalessError, match=r"^model_id='xx\.anthropic") as err:
        BedrockModel.of("xx.anthropic.claude-3-5-haiku-20241022-v1:0")
    assert "geography" in str(err.value)


def test_bad_destination_regions() -> None:
    with pytest.raises(LambdalessError, match=r"^destination_regions="):
        BedrockModel.cross_region_profile("us.amazon.nova-lite-v1:0", destination_regions=["usa"])


def test_application_profile_needs_a_source() -> None:
    """An imported ARN with an unknown source is refused: its models cannot be granted."""
    with pytest.raises(LambdalessError, match=r"^model=") as err:
        BedrockModel.of(APP_PROFILE)
    assert "source=" in str(err.value)
    with pytest.raises(LambdalessError, match=r"^source=None") as err:
        BedrockModel.application_profile(APP_PROFILE)
    assert "get-inference-profile" in str(err.value)
    provisioned = BedrockModel.provisioned(PROVISIONED)
    for bad in (provisioned, APP_PROFILE, PROVISIONED, 42, "not a model"):
        with pytest.raises(LambdalessError, match=r"^source="):
            BedrockModel.application_profile(APP_PROFILE, source=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "arn",
    [
        PROVISIONED,  # right shape, wrong kind
        "arn:aws:bedrock:us-east-1:1111:application-inference-profile/abc",
        "application-inference-profile/abc",
        "",
    ],
)
def test_bad_application_profile_arn(arn: str) -> None:
    source = BedrockModel.foundation_model("amazon.nova-lite-v1:0")
    with pytest.raises(LambdalessError, match=r"^arn="):
        BedrockModel.application_profile(arn, source=source)


def test_bad_provisioned_arguments() -> None:
    with pytest.raises(LambdalessError, match=r"^arn="):
        BedrockModel.provisioned(APP_PROFILE)
    with pytest.raises(LambdalessError, match=r"^foundation_model_id="):
        BedrockModel.provisioned(PROVISIONED, foundation_model_id="nova")
    with pytest.raises(LambdalessError, match=r"^family="):
        BedrockModel.provisioned(PROVISIONED, family="nova")  # type: ignore[arg-type]
