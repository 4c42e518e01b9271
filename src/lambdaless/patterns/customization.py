"""``ModelCustomization``: a Bedrock model customization job that the workflow waits for.

``arn:aws:states:::bedrock:createModelCustomizationJob.sync`` (the optimized integration's Run a
Job pattern: the Task ends when the job does; AWS docs, "Invoke and customize Amazon Bedrock
models with Step Functions"). IAM as the Step Functions docs prescribe for ``.sync`` ("IAM
policies for Amazon Bedrock"): ``bedrock:CreateModelCustomizationJob`` on the base model, on
``custom-model/*`` and ``model-customization-job/*``; ``bedrock:GetModelCustomizationJob`` and
``bedrock:StopModelCustomizationJob`` on ``model-customization-job/*``; ``iam:PassRole`` on the
Bedrock service role, here also conditioned on ``iam:PassedToService``.

aws-cdk-lib's ``BedrockCreateModelCustomizationJob`` is not used: for ``.sync`` it grants
neither GetModelCustomizationJob nor StopModelCustomizationJob, and its PassRole has no
``iam:PassedToService`` condition.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Literal

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from lambdaless._errors import at_path, invalid, require
from lambdaless.models import BedrockModel, ModelKind, ModelLike
from lambdaless.patterns._common import S3Path, partition, region_arn
from lambdaless.patterns._service_role import bedrock_service_role
from lambdaless.prompts import is_expression
from lambdaless.retry import RetryPolicy
from lambdaless.rules.expressions import check_jsonata
from lambdaless.steps._task import DirectTask

CustomizationType = Literal["FINE_TUNING", "CONTINUED_PRE_TRAINING", "DISTILLATION"]
_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9+\-.])*$")  # JobName (API reference)
_MODEL_NAME = re.compile(r"^([0-9a-zA-Z][_-]?)+$")  # CustomModelName (API reference)


class ModelCustomization(sfn.StateMachineFragment):
    """Create a customization job (fine-tuning, continued pre-training, distillation) and wait
    until it ends.

    Output: the job description Step Functions returns when the job ends (the
    GetModelCustomizationJob response, PascalCase). A failed or stopped job fails the Task;
    route it with ``customization.task.add_catch(handler)``.

    Attributes:
        task: the ``.sync`` Task state.
        role: the Bedrock service role the job runs as (created unless given).
    """

    @at_path
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        base_model: ModelLike,
        training_data: S3Path,
        output_data: S3Path,
        validation_data: Sequence[S3Path] = (),
        hyper_parameters: Mapping[str, str] | None = None,
        customization_type: CustomizationType = "FINE_TUNING",
        job_name: str | None = None,
        custom_model_name: str | None = None,
        kms_key: kms.IKey | None = None,
        role: iam.IRole | None = None,
        timeout: cdk.Duration | None = None,
        comment: str | None = None,
    ) -> None:
        """
        Args:
            base_model: the foundation model to customize (a foundation-model id).
            training_data: the training JSONL in S3.
            output_data: the S3 prefix Bedrock writes metrics to (``key`` ending in ``/``).
            validation_data: up to 10 validation files; none by default (then give the
                ``"Evaluation percentage"`` hyper-parameter if the model needs one).
            hyper_parameters: string hyper-parameters (``epochCount``, ``learningRate``...);
                the model's defaults otherwise.
            customization_type: ``FINE_TUNING`` (default), ``CONTINUED_PRE_TRAINING`` or
                ``DISTILLATION``.
            job_name: the job name (literal or ``{% %}``); by default ``<id>-<uuid>``, unique
                per execution.
            custom_model_name: the resulting model's name; by default ``<id>-<uuid>``.
            kms_key: a customer-managed key to encrypt the custom model; AWS-managed by
                default.
            role: the Bedrock service role; by default one is created, trusted by
                ``bedrock.amazonaws.com`` for this account's customization jobs only, reading
                the training and validation objects and writing under the output prefix.
            timeout: the Task's TimeoutSeconds; by default none (the workflow's own timeout
                bounds it: jobs take hours, so give the Workflow a long timeout).
            comment: the Task's Comment.
        """
        super().__init__(scope, id)
        model = BedrockModel.of(base_model)
        model.check_end_of_life(scope, "base_model", base_model)
        require(
            model.kind is ModelKind.FOUNDATION_MODEL,
            "base_model",
            model.identifier,
            "a foundation model id, e.g. 'amazon.titan-text-express-v1'",
        )
        require(isinstance(training_data, S3Path), "training_data", training_data, "an S3Path")
        require(isinstance(output_data, S3Path), "output_data", output_data, "an S3Path")
        validation = list(validation_data)
        require(
            len(validation) <= 10 and all(isinstance(v, S3Path) for v in validation),
            "validation_data",
            validation,
            "at most 10 S3Path values",
        )
        require(
            customization_type in ("FINE_TUNING", "CONTINUED_PRE_TRAINING", "DISTILLATION"),
            "customization_type",
            customization_type,
            "'FINE_TUNING', 'CONTINUED_PRE_TRAINING' or 'DISTILLATION'",
        )
        params = dict(hyper_parameters or {})
        require(
            all(isinstance(k, str) and isinstance(v, str) for k, v in params.items()),
            "hyper_parameters",
            params,
            "string names and string values, e.g. {'epochCount': '2'}",
        )
        default_name = "{% '" + id[:26] + "-' & $uuid() %}"
        names = {
            "job_name": (job_name or default_name, _NAME),
            "custom_model_name": (custom_model_name or default_name, _MODEL_NAME),
        }
        for argument, (value, pattern) in names.items():
            if is_expression(value):
                check_jsonata(argument, value)
                continue
            require(
                isinstance(value, str) and 1 <= len(value) <= 63 and bool(pattern.match(value)),
                argument,
                value,
                f"1 to 63 characters matching {pattern.pattern}, or a '{{% ... %}}' expression",
            )
        if len(id[:26]) != len(id) and job_name is None:
            raise invalid("id", id, "at most 26 characters when job_name is not given")

        stack = cdk.Stack.of(self)
        job_arns = region_arn(self, "bedrock", "model-customization-job/*")
        self.role = role or self._service_role(
            training_data, validation, output_data, kms_key, job_arns
        )
        arguments: dict[str, object] = {
            "BaseModelIdentifier": model.invoke_arn(self),
            "CustomizationType": customization_type,
            "JobName": names["job_name"][0],
            "CustomModelName": names["custom_model_name"][0],
            "RoleArn": self.role.role_arn,
            "TrainingDataConfig": {"S3Uri": training_data.uri},
            "OutputDataConfig": {"S3Uri": output_data.uri},
        }
        if validation:
            arguments["ValidationDataConfig"] = {
                "Validators": [{"S3Uri": v.uri} for v in validation]
            }
        if params:
            arguments["HyperParameters"] = params
        if kms_key is not None:
            arguments["CustomModelKmsKeyId"] = kms_key.key_arn
        statements = [
            iam.PolicyStatement(
                actions=["bedrock:CreateModelCustomizationJob"],
                resources=[
                    model.invoke_arn(self),
                    region_arn(self, "bedrock", "custom-model/*"),
                    job_arns,
                ],
            ),
            iam.PolicyStatement(
                actions=["bedrock:GetModelCustomizationJob", "bedrock:StopModelCustomizationJob"],
                resources=[job_arns],
            ),
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[self.role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}},
            ),
        ]
        if kms_key is not None:
            statements.append(_key_statement(kms_key, stack))
        self.task = DirectTask(
            self,
            f"{id}Job",
            resource=f"arn:{partition(self)}:states:::bedrock:createModelCustomizationJob.sync",
            arguments=arguments,
            output="{% $states.result %}",
            policy_statements=statements,
            retries=[RetryPolicy.bedrock_control_plane_transient()],
            timeout=timeout,
            assign=None,
            comment=comment or f"{customization_type} of {model.identifier}",
            wildcard_resources=[job_arns, region_arn(self, "bedrock", "custom-model/*")],
        )

    @property
    def start_state(self) -> sfn.State:
        """The ``.sync`` Task."""
        return self.task

    @property
    def end_states(self) -> list[sfn.INextable]:
        """The ``.sync`` Task."""
        return [self.task]

    def _service_role(
        self,
        training: S3Path,
        validation: list[S3Path],
        output: S3Path,
        key: kms.IKey | None,
        job_arns: str,
    ) -> iam.IRole:
        readable = [training, *validation]
        return bedrock_service_role(
            self,
            job_arns=job_arns,
            reads=[p.object_arn for p in readable],
            buckets=[*readable, output],
            output=output,
            key_statement=_key_statement(key, cdk.Stack.of(self)) if key is not None else None,
            description="Bedrock model customization: read training data, write outputs",
            output_reason=(
                "Bedrock writes the job's metrics and artifacts under the output prefix with "
                "object names it chooses, so the grant is the prefix, not single objects."
            ),
        )


def _key_statement(key: kms.IKey, stack: cdk.Stack) -> iam.PolicyStatement:
    # Creating and using an encrypted custom model: Decrypt, GenerateDataKey, DescribeKey and
    # CreateGrant, only through Bedrock (Bedrock user guide, "Encryption of custom models").
    return iam.PolicyStatement(
        actions=["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:CreateGrant"],
        resources=[key.key_arn],
        conditions={"StringEquals": {"kms:ViaService": f"bedrock.{stack.region}.amazonaws.com"}},
    )
