"""ModelCustomization: snapshot, the exact IAM of CreateModelCustomizationJob.sync and of the
Bedrock service role, validation, and local runs of the .sync task (mocked final result)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template
from syrupy.assertion import SnapshotAssertion

from lambdaless import LambdalessError, ModelCustomization, S3Path, Workflow
from lambdaless.testing import LocalRunner, mocks

Asl = Callable[[cdk.Stack], dict[str, Any]]


def _tune(stack: cdk.Stack, **options: Any) -> ModelCustomization:
    bucket = s3.Bucket(stack, "Data")
    tune = ModelCustomization(
        stack,
        "Tune",
        base_model="amazon.titan-text-express-v1",
        training_data=S3Path(bucket, "train.jsonl"),
        validation_data=[S3Path(bucket, "validation.jsonl")],
        output_data=S3Path(bucket, "output/"),
        hyper_parameters={"epochCount": "2"},
        **options,
    )
    Workflow(stack, "W", definition=tune, timeout=cdk.Duration.days(2))
    return tune


def test_snapshot(us_stack: cdk.Stack, asl: Asl, snapshot_json: SnapshotAssertion) -> None:
    _tune(us_stack, kms_key=kms.Key(us_stack, "Key"))
    definition = asl(us_stack)
    assert definition == snapshot_json
    assert definition["States"]["TuneJob"]["Resource"] == (
        "arn:${AWS::Partition}:states:::bedrock:createModelCustomizationJob.sync"
    )


def _arn(stack: cdk.Stack, text: str) -> Any:
    return stack.resolve(f"arn:{stack.partition}:bedrock:us-east-1:{text}")


def test_state_machine_iam(us_stack: cdk.Stack, sm_statements: Any) -> None:
    _tune(us_stack)
    jobs = _arn(us_stack, "111122223333:model-customization-job/*")
    assert sm_statements(us_stack) == [
        {
            "Action": "bedrock:CreateModelCustomizationJob",
            "Effect": "Allow",
            "Resource": [
                _arn(us_stack, ":foundation-model/amazon.titan-text-express-v1"),
                _arn(us_stack, "111122223333:custom-model/*"),
                jobs,
            ],
        },
        {
            "Action": ["bedrock:GetModelCustomizationJob", "bedrock:StopModelCustomizationJob"],
            "Effect": "Allow",
            "Resource": jobs,
        },
        {
            "Action": "iam:PassRole",
            "Condition": {"StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}},
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [_role_id(us_stack), "Arn"]},
        },
    ]


def _role_id(stack: cdk.Stack) -> str:
    roles = Template.from_stack(stack).find_resources("AWS::IAM::Role")
    return next(name for name in roles if name.startswith("TuneBedrockRole"))


def test_service_role_trust_and_data_access(us_stack: cdk.Stack) -> None:
    _tune(us_stack, kms_key=kms.Key(us_stack, "Key"))
    template = Template.from_stack(us_stack)
    role = template.find_resources("AWS::IAM::Role")[_role_id(us_stack)]
    trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust == [
        {
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": "111122223333"},
                "ArnEquals": {
                    "aws:SourceArn": _arn(us_stack, "111122223333:model-customization-job/*")
                },
            },
            "Effect": "Allow",
            "Principal": {"Service": "bedrock.amazonaws.com"},
        }
    ]
    policies = template.find_resources("AWS::IAM::Policy")
    statements = next(
        p["Properties"]["PolicyDocument"]["Statement"]
        for name, p in policies.items()
        if name.startswith("TuneBedrockRoleDefaultPolicy")
    )
    actions = [s["Action"] for s in statements]
    assert actions == [
        "s3:GetObject",
        "s3:ListBucket",
        ["s3:GetObject", "s3:PutObject"],
        ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:CreateGrant"],
    ]
    assert statements[2]["Resource"]["Fn::Join"][1][-1] == "/output/*"
    assert statements[3]["Condition"] == {
        "StringEquals": {"kms:ViaService": "bedrock.us-east-1.amazonaws.com"}
    }


def test_given_role_is_used_as_is(us_stack: cdk.Stack, asl: Asl) -> None:
    role = cdk.aws_iam.Role.from_role_arn(
        us_stack, "Given", "arn:aws:iam::111122223333:role/BedrockTuning"
    )
    tune = _tune(us_stack, role=role)
    assert tune.role is role
    assert asl(us_stack)["States"]["TuneJob"]["Arguments"]["RoleArn"] == (
        "arn:aws:iam::111122223333:role/BedrockTuning"
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"base_model": "us.amazon.nova-lite-v1:0"}, "a foundation model id"),
        ({"job_name": "bad name!"}, "job_name='bad name!'"),
        ({"custom_model_name": "x" * 64}, "custom_model_name="),
        ({"customization_type": "LORA"}, "customization_type='LORA'"),
        ({"hyper_parameters": {"epochCount": 2}}, "string names and string values"),
    ],
)
def test_bad_options_are_refused(stack: cdk.Stack, options: dict[str, Any], message: str) -> None:
    bucket = s3.Bucket(stack, "Data")
    arguments: dict[str, Any] = {
        "base_model": "amazon.titan-text-express-v1",
        "training_data": S3Path(bucket, "t.jsonl"),
        "output_data": S3Path(bucket, "out/"),
        **options,
    }
    with pytest.raises(LambdalessError, match=message):
        ModelCustomization(stack, "T", **arguments)


@pytest.mark.parametrize(
    ("response", "status"),
    [
        (mocks.success({"Status": "Completed"}), "SUCCEEDED"),
        (mocks.throttle(1, mocks.success({"Status": "Completed"})), "SUCCEEDED"),
        (mocks.failure("Bedrock.ValidationException", "bad data"), "FAILED"),
    ],
)
def test_local_runs(us_stack: cdk.Stack, response: Any, status: str) -> None:
    _tune(us_stack)
    result = LocalRunner(us_stack).run(input={}, responses={"TuneJob": response})
    assert result.status == status
