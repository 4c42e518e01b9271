"""Fine-tune Amazon Nova Micro on a JSONL file in S3, waiting for the job, encrypted with your key.

The base model is one AWS lists for fine-tuning (Bedrock user guide, "custom-model-supported":
``amazon.nova-micro-v1:0:128k``, in us-east-1), with its three hyper-parameters at their
documented defaults ("cm-hp-nova-mm": epochCount 1-5, learningRate 1e-6 to 1e-4,
learningRateWarmupSteps 0-100). Titan Text G1 - Express, which this example used before, is no
longer in that list.

``ModelCustomization`` starts ``CreateModelCustomizationJob`` with ``.sync``: the Task ends when
the job does, hours later, without polling code. The Bedrock service role is created for you:
it reads only the training and validation objects and writes only under the output prefix.

Input: none. Output: the finished job's description.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from lambdaless import ModelCustomization, S3Path, Workflow


class FineTuneStack(cdk.Stack):
    """A fine-tuning job the workflow waits for, with a Fail state keeping its error."""

    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        key = kms.Key(self, "ModelKey", enable_key_rotation=True)
        access_logs = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        )
        data = s3.Bucket(
            self,
            "TrainingData",
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="training-data/",
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        )
        tune = ModelCustomization(
            self,
            "Tune",
            base_model="amazon.nova-micro-v1:0:128k",
            training_data=S3Path(data, "train/support.jsonl"),
            validation_data=[S3Path(data, "validation/support.jsonl")],
            output_data=S3Path(data, "output/"),
            hyper_parameters={
                "epochCount": "2",
                "learningRate": "0.00001",
                "learningRateWarmupSteps": "10",
            },
            kms_key=key,
        )
        failed = sfn.Fail(
            self,
            "TuningFailed",
            error="{% $states.input.Error %}",
            cause="{% $states.input.Cause %}",
        )
        tune.task.add_catch(failed)
        self.workflow = Workflow(self, "FineTuning", definition=tune, timeout=cdk.Duration.days(7))
