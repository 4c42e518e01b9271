"""S3 seeds: the S3 objects present before a local run, beside a Step Functions Local mock file.

Step Functions Local's mock-config format has no S3, so a workflow that reads S3 (a Distributed
Map's ItemReader, an ``aws-sdk:s3:getObject`` Task, a batch job's output) needs its objects
declared somewhere else: a seed file, ``<Name>.s3.json`` beside ``<Name>.json``::

    {
      "Objects": {
        "Documents": {
          "input/documents.jsonl": {"JsonLines": [{"id": "d1", "text": "..."}]}
        }
      },
      "TestCases": {
        "HappyPath": {
          "Work": {
            "output/${Execution.Name}/job/manifest.json.out": {"Json": {"totalRecordCount": 3}},
            "output/${Execution.Name}/job/records.jsonl.out": {"File": "Digest/records.jsonl.out"}
          }
        }
      }
    }

* ``Objects`` holds what every test case starts with; ``TestCases.<case>`` adds to it (and
  replaces an object of the same bucket and key) for the test case of that name. Both are
  optional.
* A bucket is named by the construct id (``Documents``) or the logical id of an
  ``AWS::S3::Bucket`` in the state machine's template, which the runner creates under a local
  name, or by the literal name of an imported bucket, which is then created too. A bucket with
  no objects (``"Work": {}``) is only created.
* A body is exactly one of ``Text`` (a string, UTF-8), ``Json`` (any JSON value, written as JSON
  text), ``JsonLines`` (a list of JSON values, one a line, each line ending in a newline) or
  ``File`` (a path relative to the seed file, written as its bytes).
* A key may contain ``${Execution.Name}``, replaced by the run's execution name: a case can seed
  what a service would have written for that very execution (e.g. Bedrock's batch output under
  ``output/<execution>/``). Keys are at most 1,024 bytes of UTF-8 once it is replaced.

Every problem raises :class:`S3SeedError` naming the seed file, the place in it and what is
allowed. This module reads and checks seeds; :mod:`lambdaless.testing._local_s3` writes them to
moto's S3 for a run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambdaless.limits import S3_BUCKET_NAME_MAX_CHARS, S3_BUCKET_NAME_MIN_CHARS, S3_KEY_MAX_BYTES

__all__ = ["EXECUTION_NAME", "S3Contents", "S3SeedError", "S3Seeds", "SeedObject"]

#: The placeholder a seed key may contain: the run's execution name.
EXECUTION_NAME = "${Execution.Name}"
_BODY_KINDS = ("Text", "Json", "JsonLines", "File")
_TOP_LEVEL = ("Objects", "TestCases")
_PLACEHOLDER = re.compile(r"\$\{[^}]*\}")
# Amazon S3 user guide, "General purpose bucket naming rules": lowercase letters, digits, dots
# and hyphens, beginning and ending with a letter or digit, no two adjacent dots, not an IP
# address.
_BUCKET_NAME = re.compile(
    rf"^[a-z0-9][a-z0-9.-]{{{S3_BUCKET_NAME_MIN_CHARS - 2},{S3_BUCKET_NAME_MAX_CHARS - 2}}}"
    r"[a-z0-9]$"
)
_IP_ADDRESS = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")


class S3SeedError(ValueError):
    """A seed document that cannot be written: the message names the seed file, the place in
    it and what is allowed."""


def is_bucket_name(name: str) -> bool:
    """Whether ``name`` is a valid general purpose bucket name."""
    return bool(_BUCKET_NAME.match(name)) and ".." not in name and not _IP_ADDRESS.match(name)


@dataclass(frozen=True)
class SeedObject:
    """One object to write before a run: ``bucket`` as the seed names it (a construct id,
    logical id or literal name), ``key`` possibly holding :data:`EXECUTION_NAME`."""

    bucket: str
    key: str
    body: bytes

    def key_for(self, execution_name: str) -> str:
        """The key of this object in the run named ``execution_name``."""
        return self.key.replace(EXECUTION_NAME, execution_name)


class S3Seeds:
    """A parsed seed document (see the module docstring for the format)."""

    def __init__(
        self, document: Any, *, base: str | Path | None = None, source: str = "the S3 seeds"
    ) -> None:
        """``base``: the folder ``File`` paths are relative to (the seed file's folder; the
        current directory by default). ``source``: how errors name the document."""
        self.source = source
        self._base = Path(base) if base is not None else Path()
        # test case (None: shared) -> the buckets it names, objects or not
        self._named: dict[str | None, list[str]] = {}
        if not isinstance(document, Mapping):
            raise self._error("", f"a JSON object with {' and/or '.join(_TOP_LEVEL)}", document)
        unknown = sorted(set(document) - set(_TOP_LEVEL))
        if unknown:
            raise self._error("", f"only the keys {', '.join(_TOP_LEVEL)}", unknown)
        self.shared: tuple[SeedObject, ...] = self._objects(document.get("Objects", {}), "Objects")
        cases = document.get("TestCases", {})
        if not isinstance(cases, Mapping):
            raise self._error("TestCases", "an object of test case name -> buckets", cases)
        self.test_cases: dict[str, tuple[SeedObject, ...]] = {
            str(case): self._objects(objects, f"TestCases.{case}")
            for case, objects in cases.items()
        }

    @classmethod
    def load(cls, source: S3Seeds | Mapping[str, Any] | str | Path) -> S3Seeds:
        """From a parsed document (``File`` paths relative to the current directory), a path to
        a seed file, or JSON text."""
        if isinstance(source, S3Seeds):
            return source
        if not isinstance(source, str | Path):
            return cls(source)
        text = str(source)
        if isinstance(source, str) and text.lstrip().startswith("{"):
            where, base = "the S3 seeds text", None
        else:
            path = Path(source)
            where, base = str(path), path.parent
            try:
                text = path.read_text()
            except OSError as error:
                raise S3SeedError(f"{path}: cannot read it ({error.strerror or error})") from None
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            raise S3SeedError(f"{where}: not valid JSON ({error})") from None
        return cls(document, base=base, source=where)

    def objects(self, test_case: str | None = None) -> list[SeedObject]:
        """What a run of ``test_case`` starts with: the shared objects, then the test case's
        (which replace a shared object of the same bucket and key)."""
        chosen = {(o.bucket, o.key): o for o in self.shared}
        if test_case is not None:
            chosen.update({(o.bucket, o.key): o for o in self.test_cases.get(test_case, ())})
        return list(chosen.values())

    def buckets(self, test_case: str | None = None) -> list[str]:
        """Every bucket a run of ``test_case`` names, objects or not, in first-seen order."""
        named = list(self._named.get(None, ()))
        if test_case is not None:
            named += self._named.get(test_case, ())
        return list(dict.fromkeys(named))

    def check_test_cases(self, known: Iterable[str]) -> None:
        """Refuse test cases the mock file does not have (a misspelt name would seed nothing)."""
        names = sorted(set(known))
        unknown = sorted(set(self.test_cases) - set(names))
        if unknown:
            raise self._error("TestCases", f"test cases of the mock file: {names}", unknown)

    # -- parsing ---------------------------------------------------------------------------
    def _error(self, where: str, allowed: str, value: Any) -> S3SeedError:
        at = f" {where}" if where else ""
        shown = repr(value)
        shown = shown if len(shown) <= 120 else shown[:117] + "..."
        return S3SeedError(f"{self.source}:{at} {shown} is not allowed: expected {allowed}")

    def _objects(self, buckets: Any, where: str) -> tuple[SeedObject, ...]:
        case = where.removeprefix("TestCases.") if where != "Objects" else None
        if not isinstance(buckets, Mapping):
            raise self._error(where, "an object of bucket -> {key: body}", buckets)
        found = []
        for bucket, keys in buckets.items():
            place = f"{where}.{bucket}"
            if not isinstance(bucket, str) or not bucket:
                raise self._error(where, "bucket names or construct ids", bucket)
            self._named.setdefault(case, []).append(bucket)
            if not isinstance(keys, Mapping):
                raise self._error(place, "an object of object key -> body", keys)
            for key, body in keys.items():
                self._check_key(f"{place}[{key!r}]", key)
                found.append(SeedObject(bucket, key, self._body(f"{place}[{key!r}]", body)))
        return tuple(found)

    def _check_key(self, place: str, key: str) -> None:
        if not key:
            raise self._error(place, "a non-empty object key", key)
        others = [p for p in _PLACEHOLDER.findall(key) if p != EXECUTION_NAME]
        if others:
            raise self._error(place, f"a key whose only placeholder is {EXECUTION_NAME}", others)
        # The longest execution name is 80 characters (StartExecution's name).
        longest = key.replace(EXECUTION_NAME, "x" * 80)
        if len(longest.encode("utf-8")) > S3_KEY_MAX_BYTES:
            raise self._error(
                place,
                f"a key of at most {S3_KEY_MAX_BYTES} bytes of UTF-8 (with {EXECUTION_NAME} "
                "counted as the longest execution name, 80 characters)",
                key,
            )

    def _body(self, place: str, body: Any) -> bytes:
        allowed = f"exactly one of {', '.join(_BODY_KINDS)}"
        if not isinstance(body, Mapping) or len(body) != 1 or next(iter(body)) not in _BODY_KINDS:
            shown = sorted(body) if isinstance(body, Mapping) else body
            raise self._error(place, f"a body: an object with {allowed}", shown)
        ((kind, value),) = body.items()
        if kind == "Text":
            if not isinstance(value, str):
                raise self._error(f"{place}.Text", "a string", value)
            return value.encode("utf-8")
        if kind == "Json":
            return self._json(f"{place}.Json", value).encode("utf-8")
        if kind == "JsonLines":
            if not isinstance(value, list):
                raise self._error(f"{place}.JsonLines", "a list of JSON values, one a line", value)
            lines = [self._json(f"{place}.JsonLines[{i}]", v) for i, v in enumerate(value)]
            return "".join(line + "\n" for line in lines).encode("utf-8")
        if not isinstance(value, str) or not value or Path(value).is_absolute():
            raise self._error(f"{place}.File", "a path relative to the seed file", value)
        path = self._base / value
        try:
            return path.read_bytes()
        except OSError as error:
            raise self._error(
                f"{place}.File",
                f"a readable file relative to the seed file ({path}: {error.strerror or error})",
                value,
            ) from None

    def _json(self, place: str, value: Any) -> str:
        try:
            return json.dumps(value, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as error:
            raise self._error(place, f"a JSON value ({error})", value) from None


@dataclass(frozen=True)
class S3Contents:
    """The S3 of one local run with seeds: the buckets and every object after the run.

    ``buckets`` maps each way a bucket may be named (construct id, logical id, literal name) to
    its local name; ``objects`` maps ``(local bucket name, key)`` to the body; ``written`` lists
    the objects the run created or changed, in bucket and key order.
    """

    buckets: Mapping[str, str]
    objects: Mapping[tuple[str, str], bytes]
    written: tuple[tuple[str, str], ...]

    def name(self, bucket: str) -> str:
        """The local name of ``bucket`` (a construct id, logical id or literal name)."""
        return self.buckets.get(bucket, bucket)

    def body(self, bucket: str, key: str) -> bytes:
        """An object's bytes; ``KeyError`` naming the objects of the bucket if it is absent."""
        name = self.name(bucket)
        try:
            return self.objects[(name, key)]
        except KeyError:
            present = sorted(k for b, k in self.objects if b == name)
            message = f"s3://{name}/{key} does not exist; the bucket holds {present}"
            raise KeyError(message) from None

    def text(self, bucket: str, key: str) -> str:
        """An object's body as UTF-8 text."""
        return self.body(bucket, key).decode("utf-8")

    def json(self, bucket: str, key: str) -> Any:
        """An object's body parsed as JSON."""
        return json.loads(self.body(bucket, key))

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        """The keys of ``bucket`` that start with ``prefix``, sorted."""
        name = self.name(bucket)
        return sorted(k for b, k in self.objects if b == name and k.startswith(prefix))
