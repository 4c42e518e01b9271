"""A local run's S3: the template's buckets under local names, and moto's S3 for runs with seeds.

Names. CloudFormation names a bucket the template does not name; the runner gives each
``AWS::S3::Bucket`` of the state machine's template a deterministic local name instead
(:func:`local_bucket_name`: the stack and the logical id, lowercased, a valid bucket name) and
puts it, its ARN and its domain names where the definition has ``${LogicalId}``,
``${LogicalId.Arn}``, ``${LogicalId.DomainName}`` or ``${LogicalId.RegionalDomainName}``
(:func:`localize`). A bucket whose template gives a literal ``BucketName`` keeps it.

World. With seeds (:class:`lambdaless.testing.s3_seeds.S3Seeds`), the run happens inside moto's
public ``mock_aws()`` (:class:`LocalS3`): the template's buckets are created, as a deploy would,
then the buckets and objects the seeds name; afterwards :meth:`LocalS3.contents` reads back
every object and which ones the run wrote. Inside a ``mock_aws()`` the caller already opened,
the run uses that moto world (and leaves its objects there).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from lambdaless.limits import S3_BUCKET_NAME_MAX_CHARS, S3_BUCKET_NAME_MIN_CHARS
from lambdaless.synthesized import SynthesizedStateMachine
from lambdaless.testing.s3_seeds import S3Contents, S3SeedError, S3Seeds, is_bucket_name

#: CloudFormation attributes of AWS::S3::Bucket the runner fills (CloudFormation user guide,
#: AWS::S3::Bucket, "Return values"): the name (Ref) and these Fn::GetAtt attributes.
_ATTRIBUTES = ("Arn", "DomainName", "RegionalDomainName")


def local_bucket_name(stack: str, logical_id: str) -> str:
    """``<stack>-<logical id>`` lowercased, as a valid general purpose bucket name: 3 to 63
    lowercase letters, digits and hyphens (longer names keep a hash of the whole)."""
    base = re.sub(r"[^a-z0-9]+", "-", f"{stack}-{logical_id}".lower()).strip("-")
    if len(base) < S3_BUCKET_NAME_MIN_CHARS:
        base = f"local-{base or 'bucket'}"
    if len(base) > S3_BUCKET_NAME_MAX_CHARS:
        digest = hashlib.sha256(f"{stack}/{logical_id}".encode()).hexdigest()[:8]
        base = base[: S3_BUCKET_NAME_MAX_CHARS - 9].rstrip("-") + "-" + digest
    return base


def bucket_names(machine: SynthesizedStateMachine) -> dict[str, str]:
    """Every way a seed may name one of the template's buckets -> its local name: the logical
    id, the construct path (without ``/Resource``) and the construct id when no other bucket of
    the template has it."""
    names: dict[str, str] = {}
    ids: dict[str, list[str]] = {}
    for bucket in machine.buckets:
        name = bucket.name or local_bucket_name(machine.stack, bucket.logical_id)
        names[bucket.logical_id] = name
        names[bucket.path.removesuffix("/Resource")] = name
        ids.setdefault(bucket.construct_id, []).append(name)
    for construct_id, found in ids.items():
        if len(found) == 1:
            names.setdefault(construct_id, found[0])
    return names


def localize(
    definition: dict[str, Any], machine: SynthesizedStateMachine, *, partition: str, region: str
) -> dict[str, Any]:
    """``definition`` with the template's bucket placeholders replaced by local values."""
    if not machine.buckets:
        return definition
    text = json.dumps(definition)
    for bucket in machine.buckets:
        name = bucket.name or local_bucket_name(machine.stack, bucket.logical_id)
        values = {
            "": name,
            ".Arn": f"arn:{partition}:s3:::{name}",
            ".DomainName": f"{name}.s3.amazonaws.com",
            ".RegionalDomainName": f"{name}.s3.{region}.amazonaws.com",
        }
        for suffix, value in values.items():
            text = text.replace("${" + bucket.logical_id + suffix + "}", value)
    localized: dict[str, Any] = json.loads(text)
    return localized


def resolve_bucket(reference: str, names: Mapping[str, str], seeds: S3Seeds, stack: str) -> str:
    """The local name of the bucket a seed names, or an error saying what it may name."""
    if reference in names:
        return names[reference]
    if is_bucket_name(reference):
        return reference  # an imported bucket, by its literal name
    known = sorted(k for k in names if "/" not in k)
    where = f"stack {stack!r}" if stack else "the template"
    raise S3SeedError(
        f"{seeds.source}: bucket {reference!r} is not allowed: expected the construct id or "
        f"logical id of an AWS::S3::Bucket of {where} ({', '.join(known) or 'it has none'}), "
        "or the literal name of an imported bucket (3 to 63 lowercase letters, digits, dots "
        "and hyphens)"
    )


class LocalS3:
    """moto's S3 for one run: buckets created, seeds written, contents read back."""

    def __init__(
        self,
        *,
        buckets: Sequence[str],
        objects: Sequence[tuple[str, str, bytes]],
        names: Mapping[str, str],
        region: str,
    ) -> None:
        """``buckets``: local names to create; ``objects``: (local bucket name, key, body) to
        write; ``names``: how buckets may be named -> local name (kept on the contents)."""
        self._buckets = list(dict.fromkeys(buckets))
        self._objects = objects
        self._names = dict(names)
        self._region = region
        self._mock: Any = None
        self._client: Any = None
        self._before: dict[tuple[str, str], bytes] = {}

    def __enter__(self) -> LocalS3:
        import boto3  # type: ignore[import-untyped]
        from moto import mock_aws

        self._mock = mock_aws()
        self._mock.start()
        try:
            self._client = boto3.client("s3", region_name=self._region)
            for name in self._buckets:
                self._create(name)
            for bucket, key, body in self._objects:
                self._client.put_object(Bucket=bucket, Key=key, Body=body)
            self._before = self._read()
        except BaseException:
            self._mock.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._mock.stop()

    def _create(self, name: str) -> None:
        # Amazon S3 API reference, CreateBucket: outside us-east-1 the Region is given as the
        # LocationConstraint.
        options: dict[str, Any] = {}
        if self._region != "us-east-1":
            options["CreateBucketConfiguration"] = {"LocationConstraint": self._region}
        # In a mock_aws() world the caller opened, the bucket may exist already.
        with contextlib.suppress(self._client.exceptions.BucketAlreadyOwnedByYou):
            self._client.create_bucket(Bucket=name, **options)

    def _read(self) -> dict[tuple[str, str], bytes]:
        found: dict[tuple[str, str], bytes] = {}
        for bucket in self._client.list_buckets().get("Buckets", []):
            name = bucket["Name"]
            pages = self._client.get_paginator("list_objects_v2").paginate(Bucket=name)
            for page in pages:
                for item in page.get("Contents", []):
                    response = self._client.get_object(Bucket=name, Key=item["Key"])
                    found[(name, item["Key"])] = response["Body"].read()
        return found

    def contents(self) -> S3Contents:
        """Every object now, and those the run created or changed."""
        after = self._read()
        written = tuple(sorted(k for k, body in after.items() if self._before.get(k) != body))
        return S3Contents(buckets=self._names, objects=after, written=written)


def plan(
    machine: SynthesizedStateMachine,
    seeds: S3Seeds,
    *,
    test_case: str | None,
    execution_name: str,
    region: str,
) -> LocalS3:
    """The S3 world of one run of ``machine``: its template's buckets, the seeds' buckets and
    objects for ``test_case``, keys with the execution name filled in."""
    names = bucket_names(machine)
    create = [b.name or local_bucket_name(machine.stack, b.logical_id) for b in machine.buckets]
    create += [resolve_bucket(b, names, seeds, machine.stack) for b in seeds.buckets(test_case)]
    objects = [
        (resolve_bucket(o.bucket, names, seeds, machine.stack), o.key_for(execution_name), o.body)
        for o in seeds.objects(test_case)
    ]
    return LocalS3(buckets=create, objects=objects, names=names, region=region)


def summary(contents: S3Contents, *, keep: int = 4) -> Iterable[str]:
    """Short lines naming what a run wrote to S3: ``s3://bucket/key (123 B)``, at most
    ``keep`` of them, then how many more."""
    shown = contents.written if len(contents.written) <= keep + 1 else contents.written[:keep]
    for bucket, key in shown:
        yield f"s3://{bucket}/{key} ({len(contents.objects[(bucket, key)]):,} B)"
    if len(shown) < len(contents.written):
        yield f"... and {len(contents.written) - len(shown)} more"
