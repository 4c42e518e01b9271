"""Small helpers shared by the patterns (private)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from aws_cdk import aws_s3 as s3
from constructs import Construct

from lambdaless._errors import require
from lambdaless._stack_env import StackEnv


@dataclass(frozen=True)
class S3Path:
    """An object (or a key prefix) in a bucket.

    Args:
        bucket: the bucket; IAM is scoped to it.
        key: the object key, or a prefix ending in ``/`` for an output location.
    """

    bucket: s3.IBucket
    key: str

    def __post_init__(self) -> None:
        require(hasattr(self.bucket, "bucket_arn"), "bucket", self.bucket, "an aws_s3.IBucket")
        require(
            isinstance(self.key, str) and self.key != "" and not self.key.startswith("/"),
            "key",
            self.key,
            "a non-empty object key without a leading '/'",
        )

    @property
    def uri(self) -> str:
        """``s3://bucket/key``."""
        return f"s3://{self.bucket.bucket_name}/{self.key}"

    @property
    def object_arn(self) -> str:
        """The ARN of this exact object."""
        return self.bucket.arn_for_objects(self.key)

    @property
    def prefix_arn(self) -> str:
        """The ARN of every object under this key, taken as a prefix."""
        return self.bucket.arn_for_objects(self.key.rstrip("*") + "*")


def region_arn(scope: Construct, service: str, resource: str) -> str:
    """``arn:<partition>:<service>:<region>:<account>:<resource>`` for the scope's stack."""
    return StackEnv.of(scope).arn(service, resource)


def partition(scope: Construct) -> str:
    """The partition of the scope's stack."""
    return StackEnv.of(scope).partition


def variable_prefix(construct_id: str) -> str:
    """A JSONata variable prefix from a construct id: ``"Kb-Sync"`` -> ``"kbSync"``."""
    words = [w for w in re.split(r"[^A-Za-z0-9]+", construct_id) if w]
    text = "".join(w[:1].upper() + w[1:] for w in words) or "pattern"
    text = text[:1].lower() + text[1:]
    return text if not text[:1].isdigit() else "p" + text


#: What a Distributed Map's ResultWriter needs on its prefix (AWS docs,
#: "input-output-resultwriter", IAM policies). FanOut grants them; Workflow finds that grant for
#: its cdk-nag acknowledgement.
RESULT_WRITER_ACTIONS = (
    "s3:PutObject",
    "s3:GetObject",
    "s3:ListMultipartUploadParts",
    "s3:AbortMultipartUpload",
)
