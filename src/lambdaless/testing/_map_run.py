"""What a Distributed Map does with its items and with its children's outcomes, as the Step
Functions developer guide documents it: plain data in, plain data out (the moto glue that calls
these is section 6 of :mod:`lambdaless.testing._moto_hooks`).

- ``read_jsonl``: ItemReader ``InputType: "JSONL"`` ("ItemReader (Map)").
- ``batches``: ``ItemBatcher`` ("ItemBatcher (Map)").
- ``threshold_exceeded``: ``ToleratedFailureCount``/``ToleratedFailurePercentage``
  ("Using Map state in Distributed mode", failure thresholds).
- ``child_records``/``result_files``: ``ResultWriter`` and ``WriterConfig`` ("ResultWriter
  (Map)").
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

#: The status of a child that succeeded; any other (FAILED, TIMED_OUT, ABORTED) is a failure.
SUCCEEDED = "SUCCEEDED"


class MapRunError(Exception):
    """A Map Run fails with a Step Functions error (``error``) and a ``cause``."""

    def __init__(self, error: str, cause: str) -> None:
        super().__init__(f"{error}: {cause}")
        self.error = error
        self.cause = cause


@dataclass(frozen=True)
class ChildRun:
    """One child workflow execution of a Map Run and how it ended."""

    index: int
    name: str
    execution_arn: str
    state_machine_arn: str
    input: Any
    status: str
    start_date: str
    stop_date: str
    output: Any = None
    error: str | None = None
    cause: str | None = None
    #: items the child processed (a batch's items; 1 without an ItemBatcher)
    items: int = 1

    @property
    def succeeded(self) -> bool:
        return self.status == SUCCEEDED


def _json_text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def json_bytes(value: Any) -> int:
    """The size of a JSON value as Step Functions counts payloads: its UTF-8 text."""
    return len(_json_text(value).encode("utf-8"))


def read_jsonl(text: str, max_items: int) -> list[Any]:
    """The items of a JSON Lines object: one JSON value per line, at most ``max_items``.

    AWS docs, "ItemReader (Map)": ``InputType: "JSONL"`` reads a JSON Lines file, one item a
    line, and ``MaxItems`` keeps the first lines. The guide says nothing of blank lines; the
    JSON Lines format has none, and a file ending in a newline is the usual case, so lines of
    whitespace only are not items. A line that is not JSON fails the reader
    (``States.ItemReaderFailed``).
    """
    items: list[Any] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if len(items) >= max_items:
            break
        if not line.strip():
            continue
        try:
            items.append(json.loads(line))
        except ValueError as error:
            raise MapRunError(
                "States.ItemReaderFailed", f"line {number} of the JSON Lines object: {error}"
            ) from None
    return items


def batches(
    items: Sequence[Any],
    *,
    max_items: int | None,
    max_bytes: int | None,
    batch_input: Any = None,
) -> list[dict[str, Any]]:
    """The child inputs of an ``ItemBatcher``: ``{"Items": [...]}``, plus ``"BatchInput"`` when
    the batcher has one, in item order.

    AWS docs, "ItemBatcher (Map)": each child receives ``{"BatchInput": ..., "Items": [...]}``
    with at most ``MaxItemsPerBatch`` items and at most ``MaxInputBytesPerBatch`` bytes (up to
    256 KiB); with neither, a batch is limited by the 256 KiB child input only. The byte limit
    counts the whole child input. The guide does not say what happens to one item larger than
    ``MaxInputBytesPerBatch``: here it travels alone in its batch (and the child's input quota
    then applies to it as to any input).
    """
    result: list[dict[str, Any]] = []
    current: list[Any] = []

    def child(group: list[Any]) -> dict[str, Any]:
        value: dict[str, Any] = {"Items": group}
        if batch_input is not None:
            value = {"BatchInput": batch_input, **value}
        return value

    for item in items:
        candidate = [*current, item]
        too_many = max_items is not None and len(candidate) > max_items
        too_big = max_bytes is not None and json_bytes(child(candidate)) > max_bytes
        if current and (too_many or too_big):
            result.append(child(current))
            current = [item]
        else:
            current = candidate
    if current:
        result.append(child(current))
    return result


def threshold_exceeded(
    children: Sequence[ChildRun],
    *,
    tolerated_count: int | None,
    tolerated_percentage: float | None,
) -> str | None:
    """Why the Map Run fails with ``States.ExceedToleratedFailureThreshold``, or ``None``.

    AWS docs, "Using Map state in Distributed mode" (failure thresholds): the threshold counts
    failed *items* (a failed child fails every item of its batch; failed, timed-out and aborted
    children all count); the Map Run fails when the failed items exceed
    ``ToleratedFailureCount`` or their share exceeds ``ToleratedFailurePercentage``, either one
    when both are set. With neither, no failure is tolerated.
    """
    total = sum(child.items for child in children)
    failed = sum(child.items for child in children if not child.succeeded)
    if not failed:
        return None
    if tolerated_count is None and tolerated_percentage is None:
        return f"{failed} of {total} items failed and the Map tolerates no failure"
    share = 100.0 * failed / total
    if tolerated_count is not None and failed > tolerated_count:
        return (
            f"{failed} of {total} items failed, more than ToleratedFailureCount {tolerated_count}"
        )
    if tolerated_percentage is not None and share > tolerated_percentage:
        return (
            f"{failed} of {total} items failed ({share:g}%), more than "
            f"ToleratedFailurePercentage {tolerated_percentage:g}%"
        )
    return None


def child_record(child: ChildRun) -> dict[str, Any]:
    """A child's entry in the result files with ``Transformation: "NONE"`` (the default when
    exporting to S3; AWS docs, "ResultWriter (Map)"): its execution metadata, with its input
    and output as JSON text; a child that did not succeed has ``Error`` and ``Cause`` instead of
    an output."""
    record: dict[str, Any] = {
        "ExecutionArn": child.execution_arn,
        "Input": _json_text(child.input),
        "InputDetails": {"Included": True},
        "Name": child.name,
    }
    if child.succeeded:
        record["Output"] = _json_text(child.output)
        record["OutputDetails"] = {"Included": True}
    else:
        record["Error"] = child.error or ""
        record["Cause"] = child.cause or ""
    record.update(
        RedriveCount=0,
        RedriveStatus="NOT_REDRIVABLE" if child.succeeded else "REDRIVABLE",
        StartDate=child.start_date,
        StateMachineArn=child.state_machine_arn,
        Status=child.status,
        StopDate=child.stop_date,
    )
    return record


TRANSFORMATIONS = ("NONE", "COMPACT", "FLATTEN")
OUTPUT_TYPES = ("JSON", "JSONL")


def transformed(children: Sequence[ChildRun], transformation: str) -> list[Any]:
    """The children's results under ``WriterConfig.Transformation`` (AWS docs, "ResultWriter
    (Map)"): ``NONE`` each child's execution record; ``COMPACT`` (the default without a
    ResultWriter) each child's output; ``FLATTEN`` the outputs with array outputs flattened one
    level. Whatever the transformation, a child that failed appears as its unchanged execution
    result, as with ``NONE``."""
    result: list[Any] = []
    for child in children:
        if transformation == "NONE" or not child.succeeded:
            result.append(child_record(child))
        elif transformation == "FLATTEN" and isinstance(child.output, list):
            result.extend(child.output)
        else:
            result.append(child.output)
    return result


def result_files(
    children: Sequence[ChildRun],
    *,
    bucket: str,
    prefix: str,
    map_run_arn: str,
    transformation: str = "NONE",
    output_type: str = "JSON",
) -> tuple[list[tuple[str, bytes]], str]:
    """The objects a ResultWriter writes and the manifest's key: ``(key, body)`` for every
    ``SUCCEEDED_<n>``/``FAILED_<n>`` file and for ``manifest.json`` (last), all under
    ``<Prefix>/<Map Run id>/``.

    AWS docs, "ResultWriter (Map)": executions with the same status are written to the same
    files; ``manifest.json`` names the destination bucket, the Map Run and every file
    (``ResultFiles`` by status: ``FAILED``, ``PENDING``, ``SUCCEEDED``, each ``{"Key",
    "Size"}``). Children that timed out or were aborted are failures here. No child is ever
    left pending locally (every child runs to its end), so ``PENDING`` is empty. A file of
    ``OutputType: "JSONL"`` holds one record a line.
    """
    run_id = map_run_arn.rsplit(":", 1)[-1]
    folder = f"{prefix}/" if prefix and not prefix.endswith("/") else prefix
    folder = f"{folder}{run_id}/"
    extension = "jsonl" if output_type == "JSONL" else "json"
    groups = {
        "SUCCEEDED": [c for c in children if c.succeeded],
        "FAILED": [c for c in children if not c.succeeded],
    }
    objects: list[tuple[str, bytes]] = []
    listed: dict[str, list[dict[str, Any]]] = {"FAILED": [], "PENDING": [], "SUCCEEDED": []}
    for status, group in groups.items():
        if not group:
            continue
        records = transformed(group, transformation)
        if output_type == "JSONL":
            body = "".join(_json_text(record) + "\n" for record in records).encode("utf-8")
        else:
            body = _json_text(records).encode("utf-8")
        key = f"{folder}{status}_0.{extension}"
        objects.append((key, body))
        listed[status].append({"Key": key, "Size": len(body)})
    manifest = {"DestinationBucket": bucket, "MapRunArn": map_run_arn, "ResultFiles": listed}
    manifest_key = f"{folder}manifest.json"
    objects.append((manifest_key, _json_text(manifest).encode("utf-8")))
    return objects, manifest_key
