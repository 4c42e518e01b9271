"""The Bedrock service role of a job (customization, batch inference), built from its S3 paths.

Trust: ``bedrock.amazonaws.com`` for this account's jobs of one kind only (``aws:SourceAccount``
and ``aws:SourceArn``), as the Bedrock user guide prescribes for both job kinds ("Create a
service role for model customization"; "Create a custom service role for batch inference",
https://docs.aws.amazon.com/bedrock/latest/userguide/batch-iam-sr.html).
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from lambdaless._nag import acknowledge, default_policy_resource, finding_text
from lambdaless.patterns._common import S3Path


def bedrock_service_role(
    scope: Construct,
    *,
    job_arns: str,
    reads: Sequence[str],
    buckets: Sequence[S3Path],
    output: S3Path,
    key_statement: iam.PolicyStatement | None,
    description: str,
    output_reason: str,
    read_reason: str | None = None,
) -> iam.Role:
    """A role Bedrock assumes for the jobs ``job_arns`` (an ARN pattern): ``s3:GetObject`` on
    ``reads`` (object or prefix ARNs), ``s3:ListBucket`` on the buckets of ``buckets``,
    ``s3:GetObject``/``s3:PutObject`` under ``output``, and ``key_statement`` if given.

    ``output_reason`` (and ``read_reason`` when ``reads`` holds a prefix) acknowledge cdk-nag's
    wildcard finding: Bedrock names the objects it writes (and reads every file of an input
    prefix), so the grant is the prefix.
    """
    stack = cdk.Stack.of(scope)
    role = iam.Role(
        scope,
        "BedrockRole",
        assumed_by=iam.ServicePrincipal(
            "bedrock.amazonaws.com",
            conditions={
                "StringEquals": {"aws:SourceAccount": stack.account},
                "ArnEquals": {"aws:SourceArn": job_arns},
            },
        ),
        description=description,
    )
    role.add_to_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=list(reads)))
    role.add_to_policy(
        iam.PolicyStatement(
            actions=["s3:ListBucket"],
            resources=sorted({p.bucket.bucket_arn for p in buckets}, key=str),
        )
    )
    role.add_to_policy(
        iam.PolicyStatement(actions=["s3:GetObject", "s3:PutObject"], resources=[output.prefix_arn])
    )
    if key_statement is not None:
        role.add_to_policy(key_statement)
    policy = default_policy_resource(role)
    if policy is not None:
        reasons = {output.prefix_arn: output_reason}
        if read_reason is not None:
            reasons.update({arn: read_reason for arn in reads if str(arn).endswith("*")})
        for arn, reason in reasons.items():
            acknowledge(
                policy, f"AwsSolutions-IAM5[Resource::{finding_text(stack.resolve(arn))}]", reason
            )
    return role
