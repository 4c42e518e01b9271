"""``FanOut``: run a prompt (or any step) on every item, at a concurrency the model's quota allows.

Concurrency from the quota, in Bedrock's own accounting (:mod:`lambdaless.quotas`): each call
weighs the larger of its reservation (input + ``max_tokens``, taken from the step) and its
settlement (input + output x the model's burndown rate), and Little's law turns the sustainable
rate into calls in flight::

    calls_per_minute = min(requests_per_minute, tokens_per_minute / max(reservation, settlement))
    max_concurrency  = max(1, floor(calls_per_minute / 60 x latency_seconds))

For example Claude Sonnet 4 (burndown 5) at 200,000 tokens/min, 1,000 input and 200 output
tokens, ``max_tokens`` 1,024 and 12 s per call: the reservation is 2,024, the settlement
1,000 + 5 x 200 = 2,000, so 200,000 / 2,024 = 98.8 calls/min, x 12 / 60 = 19 in flight.

No item is lost: each iteration catches ``States.ALL`` and returns
``{"ok": false, "item", "error", "cause"}``, and the Map state's own ``Output`` splits the
iterations into ``{"results": [...], "failures": [...]}`` (no extra state).

Results in S3 (``results_to=``, required with ``item_reader=``): a Distributed Map without a
``ResultWriter`` returns every child's output inline, and above 256 KiB the execution fails with
``States.DataLimitExceeded``, which ``States.ALL`` cannot catch (AWS docs, "state-map-distributed",
"concepts-error-handling"): every result would be lost. With ``results_to`` the children's
outputs are written to S3 (AWS docs, "input-output-resultwriter") and the Map's output is
AWS's summary ``{"MapRunArn", "ResultWriterDetails": {"Bucket", "Key"}}``, ``Key`` being the
run's ``manifest.json``; the manifest lists ``SUCCEEDED_<n>.json`` files (every item the step
answered *and* every failure it caught: ``{"ok": false, ...}`` records, as above) and
``FAILED_<n>.json`` / ``PENDING_<n>.json`` files (children that failed uncaught or never ran).
There is no ``results``/``failures`` split in the state output then: read them from S3.

Limits (AWS docs, "Using Map state in Inline mode" and "Using Map state in Distributed mode"):
an inline Map runs at most 40 iterations at once and adds every iteration's events to the
parent's 25,000-event history; a Distributed Map runs each item as a child execution, at most
10,000 of them in parallel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import jsii
from aws_cdk import aws_iam as iam
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from lambdaless._errors import at_path, invalid, require
from lambdaless.limits import (
    DISTRIBUTED_MAP_MAX_CONCURRENCY,
    DISTRIBUTED_MAP_MAX_ITEMS,
    INLINE_MAP_MAX_CONCURRENCY,
)
from lambdaless.models import BedrockModel, ModelLike
from lambdaless.output_schema import OutputSchemaLike
from lambdaless.patterns._common import RESULT_WRITER_ACTIONS, S3Path
from lambdaless.patterns.capacity import CapacityGuard, ModelCapacity, call_shape
from lambdaless.prompts import Inference, check_text, is_expression
from lambdaless.quotas import ModelQuota
from lambdaless.retry import RetryPolicy
from lambdaless.rules.expressions import check_jsonata
from lambdaless.rules.workflow_types import check_fan_out_step
from lambdaless.steps.bedrock import Converse, InvokeBedrock

#: What each failed iteration returns: the item, the error and its cause.
FAILURE_OUTPUT = (
    "{% {'ok': false, 'item': $states.input, 'error': $states.errorOutput.Error, "
    "'cause': $states.errorOutput.Cause} %}"
)
#: The Map state's Output: iterations split into results and failures, in item order.
PARTITION_OUTPUT = (
    "{% ($r := $states.result; {'results': [$r[$not(ok = false)]], "
    "'failures': [$r[ok = false]]}) %}"
)


@dataclass(frozen=True)
class S3Items:
    """Items read from S3 by a Distributed Map's ItemReader. Build one with a classmethod."""

    path: S3Path
    format: Literal["json", "jsonl", "csv"]
    csv_headers: tuple[str, ...] | None = None
    max_items: int | None = None

    @classmethod
    def json(cls, path: S3Path, *, max_items: int | None = None) -> S3Items:
        """A JSON array in one object; each element is an item."""
        return cls(path, "json", max_items=max_items)

    @classmethod
    def jsonl(cls, path: S3Path, *, max_items: int | None = None) -> S3Items:
        """JSON Lines: each line is an item."""
        return cls(path, "jsonl", max_items=max_items)

    @classmethod
    def csv(
        cls, path: S3Path, *, headers: Sequence[str] | None = None, max_items: int | None = None
    ) -> S3Items:
        """A CSV file: each row is an item keyed by the header names, which are the file's
        first row unless ``headers`` gives them."""
        return cls(path, "csv", tuple(headers) if headers is not None else None, max_items)

    def __post_init__(self) -> None:
        require(isinstance(self.path, S3Path), "path", self.path, "an S3Path")
        require(
            self.max_items is None
            or (
                isinstance(self.max_items, int) and 1 <= self.max_items <= DISTRIBUTED_MAP_MAX_ITEMS
            ),
            "max_items",
            self.max_items,
            "None or an integer from 1 to 100000000",
        )

    def reader(self) -> sfn.IItemReader:
        """The aws-cdk-lib ItemReader, granted ``s3:GetObject`` on its one object."""
        bucket, key = self.path.bucket, self.path.key
        reader: _JsonReader | _JsonLReader | _CsvReader
        if self.format == "json":
            reader = _JsonReader(bucket=bucket, key=key, max_items=self.max_items)
        elif self.format == "jsonl":
            reader = _JsonLReader(bucket=bucket, key=key, max_items=self.max_items)
        else:
            headers = (
                sfn.CsvHeaders.use(list(self.csv_headers))
                if self.csv_headers is not None
                else sfn.CsvHeaders.use_first_row()
            )
            reader = _CsvReader(
                bucket=bucket, key=key, csv_headers=headers, max_items=self.max_items
            )
        reader.object_arn = self.path.object_arn
        return reader


class _OneObject:
    """An ItemReader granting ``s3:GetObject`` on the one object it reads, as AWS's policy for a
    JSON, JSON Lines or CSV file does (AWS docs, "input-output-itemreader", IAM policies);
    aws-cdk-lib grants every object of the bucket."""

    object_arn: str

    @jsii.member(jsii_name="providePolicyStatements")
    def provide_policy_statements(self) -> list[iam.PolicyStatement]:
        return [iam.PolicyStatement(actions=["s3:GetObject"], resources=[self.object_arn])]


class _JsonReader(_OneObject, sfn.S3JsonItemReader):
    pass


class _JsonLReader(_OneObject, sfn.S3JsonLItemReader):
    pass


class _CsvReader(_OneObject, sfn.S3CsvItemReader):
    pass


#: aws-cdk-lib renders ``ResultWriterV2`` only under this feature flag; FanOut sets it on its own
#: subtree, so the app's other Maps are untouched.
RESULT_WRITER_V2_FLAG = "@aws-cdk/aws-stepfunctions:useDistributedMapResultWriterV2"


class _PrefixResultWriter(sfn.ResultWriterV2):
    """aws-cdk-lib's ResultWriter, granting S3 under its prefix only (aws-cdk-lib grants the
    whole bucket). The actions are those AWS lists for ResultWriter (AWS docs,
    "input-output-resultwriter", IAM policies)."""

    def __init__(self, path: S3Path) -> None:
        super().__init__(bucket=path.bucket, prefix=path.key)
        self._path = path

    @jsii.member(jsii_name="providePolicyStatements")
    def provide_policy_statements(self) -> list[iam.PolicyStatement]:
        return [
            iam.PolicyStatement(
                actions=list(RESULT_WRITER_ACTIONS), resources=[self._path.prefix_arn]
            )
        ]


def _call_shape(
    argument: str,
    prompt: str | None,
    model: ModelLike | None,
    inference: Inference | None,
    step: sfn.State | None,
) -> tuple[int, str | None]:
    """The ``max_tokens`` and foundation-model id of the call each item makes."""
    if prompt is not None:
        bedrock_model = BedrockModel.of(model)  # type: ignore[arg-type]
        return (inference or Inference()).max_tokens, bedrock_model.foundation_model_id
    assert step is not None
    return call_shape(argument, step)


def _with_item(output: Any) -> Any:
    """A prompt step's Output with the item beside the uniform answer."""
    if is_expression(output):
        assert isinstance(output, str)
        return "{% $merge([{'item': $states.input}, (" + output[2:-2].strip() + ")]) %}"
    return output


class _ItemInvoke(InvokeBedrock):
    def _final_output(self, output: Any) -> Any:
        return _with_item(output)


class _ItemConverse(Converse):
    def _final_output(self, output: Any) -> Any:
        return _with_item(output)


class FanOut(sfn.StateMachineFragment):
    """A Map over items that runs a prompt (or any one step) on each, losing none.

    Output::

        {"results":  [<each successful item's output>, ...],
         "failures": [{"ok": false, "item": ..., "error": "...", "cause": "..."}, ...]}

    or, with ``results_to``, ``{"MapRunArn", "ResultWriterDetails": {"Bucket", "Key"}}`` and
    the same records in S3 (see the module docstring).

    With ``prompt=``, each result is the uniform answer with the item beside it:
    ``{"item", "text", "stopReason", "usage"}`` (and ``json`` with ``output_schema``; an item
    whose answer is malformed is a failure like any other). With ``step=``, each result is the
    step's output (make it an object: the split flattens array outputs).

    Attributes:
        map: the ``sfn.Map`` or ``sfn.DistributedMap`` state.
        step: the state run on each item.
        max_concurrency: the MaxConcurrency set on the Map.
        distributed: whether the Map runs in Distributed mode.
    """

    @at_path
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        prompt: str | None = None,
        model: ModelLike | None = None,
        system: str | None = None,
        inference: Inference | None = None,
        output_schema: OutputSchemaLike | None = None,
        retry: Sequence[RetryPolicy] | None = None,
        step: sfn.State | None = None,
        items: str | None = None,
        item_reader: S3Items | None = None,
        distributed: bool | None = None,
        max_concurrency: int | None = None,
        quota: ModelQuota | None = None,
        tolerated_failure_percentage: float | None = None,
        express_children: bool = False,
        results_to: S3Path | None = None,
        capacity: ModelCapacity | None = None,
        cache_system: bool = False,
        service_tier: str | None = None,
        comment: str | None = None,
    ) -> None:
        """
        Args:
            prompt: the prompt run on each item (``$states.input`` is the item); give this
                and ``model``, or ``step``.
            model: the model of ``prompt``.
            system: the system prompt of ``prompt``; none by default.
            inference: inference parameters of ``prompt``; ``Inference()`` by default.
            output_schema: make each item's answer a JSON object in this schema (``json`` in
                each result, see ``InvokeBedrock``); none by default.
            retry: retriers of the prompt step; by default InvokeModel's (or Converse's).
            step: instead of a prompt, any one state with ``add_catch`` (a lambdaless step,
                an aws-cdk-lib task, a Parallel for several states) run on each item.
            items: a JSONata expression giving the item array; by default
                ``{% $states.input.items %}``. Not with ``item_reader``.
            item_reader: read the items from S3 (JSON, JSON Lines or CSV); implies a
                Distributed Map.
            distributed: a Distributed Map (child executions, for large lists) instead of an
                inline Map; by default only when ``item_reader`` is given.
            max_concurrency: the Map's MaxConcurrency, given directly; at most 40 inline and
                10,000 distributed. Give this or ``quota``.
            quota: derive MaxConcurrency from the model's quota (see
                :class:`lambdaless.quotas.ModelQuota`), with the ``max_tokens`` and the model of
                the prompt (or of ``step``, an ``InvokeBedrock``/``Converse`` built with a
                prompt); an inline Map is capped at its 40.
            tolerated_failure_percentage: the share of child executions that may fail before
                the Distributed Map fails (0 to 100); none tolerated by default. Items caught
                by the step already count as successes; this covers uncatchable failures.
                Distributed only.
            express_children: run a Distributed Map's children as Express executions
                (cheaper, at most five minutes, at-least-once); Standard by default.
            results_to: write a Distributed Map's results to S3 under this prefix
                (``S3Path(bucket, "fan-out/")``; IAM is granted under the prefix only); the
                Map's output is then the ResultWriter summary (see the module docstring).
                Required with ``item_reader`` (items from S3 are not bounded by the state
                payload, their results would be); by default results come back inline.
            capacity: a :class:`~lambdaless.patterns.capacity.ModelCapacity` shared with every
                other workflow and execution calling the model: each item acquires its call's
                weight before the call and releases it after, on success and on error (two more
                Tasks, transitions and DynamoDB writes per item, plus one of each per wait).
                None by default: the items only share this Map's concurrency.
            cache_system: cache ``system`` for the items' calls (see :class:`InvokeBedrock`);
                default ``False``. With ``prompt=`` only.
            service_tier: the service tier of the items' calls, ``"priority"``, ``"default"``
                or ``"flex"`` (Flex suits a fan-out nobody waits on); the items then call
                Converse, the integration that carries it. None by default (Standard). With
                ``prompt=`` only.
            comment: the Map state's Comment.
        """
        super().__init__(scope, id)
        if (prompt is None) == (step is None):
            raise invalid("prompt/step", {"prompt": prompt, "step": step}, "exactly one of the two")
        if prompt is not None:
            check_text("prompt", prompt)
            require(model is not None, "model", model, "a model for prompt=")
        else:
            require(
                all(x is None for x in (model, system, inference, output_schema, retry)),
                "model/system/inference/output_schema/retry",
                [model, system, inference, output_schema, retry],
                "None with step= (configure the step itself)",
            )
            require(
                cache_system is False and service_tier is None,
                "cache_system/service_tier",
                [cache_system, service_tier],
                "False and None with step= (configure the step itself)",
            )
            require(
                isinstance(step, sfn.State) and hasattr(step, "add_catch"),
                "step",
                step,
                "one state with add_catch (a Task, Parallel or Map state)",
            )
        if items is not None and item_reader is not None:
            raise invalid("items/item_reader", (items, item_reader), "at most one of the two")
        if items is not None:
            require(is_expression(items), "items", items, "a JSONata expression '{% ... %}'")
            check_jsonata("items", items)
        require(
            item_reader is None or isinstance(item_reader, S3Items),
            "item_reader",
            item_reader,
            "an S3Items value",
        )
        if distributed is False and item_reader is not None:
            raise invalid("distributed", distributed, "True or None with item_reader=")
        self.distributed = bool(distributed) or item_reader is not None
        if (max_concurrency is None) == (quota is None):
            raise invalid(
                "max_concurrency/quota",
                {"max_concurrency": max_concurrency, "quota": quota},
                "exactly one: unbounded concurrency runs into the model's quota",
            )
        limit = DISTRIBUTED_MAP_MAX_CONCURRENCY if self.distributed else INLINE_MAP_MAX_CONCURRENCY
        mode = (
            "a Distributed Map" if self.distributed else "an inline Map (distributed=True for more)"
        )
        if max_concurrency is not None:
            require(
                isinstance(max_concurrency, int)
                and not isinstance(max_concurrency, bool)
                and 1 <= max_concurrency <= limit,
                "max_concurrency",
                max_concurrency,
                f"an integer from 1 to {limit} for {mode}",
            )
            self.max_concurrency = max_concurrency
        else:
            require(isinstance(quota, ModelQuota), "quota", quota, "a ModelQuota")
            assert quota is not None
            max_tokens, model_id = _call_shape("quota", prompt, model, inference, step)
            derived = quota.max_concurrency(max_tokens=max_tokens, model_id=model_id)
            if derived > limit and self.distributed:
                raise invalid(
                    "quota",
                    quota,
                    f"figures giving at most {limit} concurrent items; they give {derived}",
                )
            self.max_concurrency = min(derived, limit)
        if tolerated_failure_percentage is not None:
            require(
                self.distributed,
                "tolerated_failure_percentage",
                tolerated_failure_percentage,
                "None for an inline Map (a Distributed Map setting)",
            )
            require(
                isinstance(tolerated_failure_percentage, int | float)
                and not isinstance(tolerated_failure_percentage, bool)
                and 0 <= tolerated_failure_percentage <= 100,
                "tolerated_failure_percentage",
                tolerated_failure_percentage,
                "a number from 0 to 100",
            )
        require(
            not express_children or self.distributed,
            "express_children",
            express_children,
            "False for an inline Map",
        )
        require(
            results_to is None or isinstance(results_to, S3Path),
            "results_to",
            results_to,
            "None or an S3Path (bucket and key prefix) for a Distributed Map's results",
        )
        require(
            results_to is None or self.distributed,
            "results_to",
            results_to,
            "None for an inline Map (ResultWriter is a Distributed Map field)",
        )
        require(
            item_reader is None or results_to is not None,
            "results_to",
            results_to,
            "an S3Path with item_reader=: results of items read from S3 can exceed the 256 KiB "
            "state output, which fails the execution uncatchably (States.DataLimitExceeded)",
        )
        if results_to is not None:
            self.node.set_context(RESULT_WRITER_V2_FLAG, True)  # before any child exists
        #: where the results go (``None``: inline, in ``results``/``failures``)
        self.results_to = results_to

        if prompt is not None:
            bedrock_model = BedrockModel.of(model)  # type: ignore[arg-type]
            converse = service_tier is not None or bedrock_model.family is None
            item_class: type[_ItemInvoke | _ItemConverse] = (
                _ItemConverse if converse else _ItemInvoke
            )
            self.step: sfn.State = item_class(
                self,
                f"{id}Item",
                model=bedrock_model,
                prompt=prompt,
                system=system,
                inference=inference,
                output_schema=output_schema,
                cache_system=cache_system,
                service_tier=service_tier,
                retry=retry,
            )
        else:
            assert step is not None
            check_fan_out_step("step", step.to_state_json().get("Catch") or [])
            self.step = step
        failed = sfn.Succeed(self, f"{id}ItemFailed", comment="The item and its error, kept")
        processor: sfn.IChainable = self.step
        self.capacity = capacity
        own_guard = getattr(self.step, "capacity_guard", None)
        if capacity is None:
            catcher: Any = self.step
            catcher.add_catch(failed, errors=[sfn.Errors.ALL], outputs=FAILURE_OUTPUT)
            if isinstance(own_guard, CapacityGuard):  # step= built with its own capacity=
                own_guard.acquire.add_catch(failed, errors=[sfn.Errors.ALL], outputs=FAILURE_OUTPUT)
        else:
            require(isinstance(capacity, ModelCapacity), "capacity", capacity, "a ModelCapacity")
            require(
                own_guard is None,
                "capacity",
                capacity,
                "None when step= has its own capacity= (one acquire per call)",
            )
            _call_shape("capacity", prompt, model, inference, step)
            capacity.check_model("capacity", self.step)
            # acquire -> step -> release, every error released then kept with the item
            guard = CapacityGuard(
                self,
                f"{id}Capacity",
                capacity=capacity,
                step=self.step,
                state_prefix_=id,
                route_errors_=False,
            )
            guard.catch(failed, outputs=FAILURE_OUTPUT)
            # Acquire fails only when the wait is over: the item is listed with that error.
            guard.acquire.add_catch(failed, errors=[sfn.Errors.ALL], outputs=FAILURE_OUTPUT)
            processor = guard
            self.acquire, self.release = guard.acquire, guard.release

        provided = (
            sfn.ProvideItems.jsonata(items or "{% $states.input.items %}")
            if item_reader is None
            else None
        )
        self.map: sfn.MapBase
        if self.distributed:
            self.map = sfn.DistributedMap(
                self,
                id,
                items=provided,
                item_reader=item_reader.reader() if item_reader is not None else None,
                max_concurrency=self.max_concurrency,
                tolerated_failure_percentage=tolerated_failure_percentage,
                map_execution_type=(
                    sfn.StateMachineType.EXPRESS
                    if express_children
                    else sfn.StateMachineType.STANDARD
                ),
                result_writer_v2=(
                    _PrefixResultWriter(results_to) if results_to is not None else None
                ),
                # With a ResultWriter, $states.result is AWS's summary: passed on as it is.
                outputs=PARTITION_OUTPUT if results_to is None else None,
                comment=comment,
                # Items and Output are JSONata: say so inside JSONPath state machines too
                query_language=sfn.QueryLanguage.JSONATA,
            )
        else:
            self.map = sfn.Map(
                self,
                id,
                items=provided,
                max_concurrency=self.max_concurrency,
                outputs=PARTITION_OUTPUT,
                comment=comment,
                # Items and Output are JSONata: say so inside JSONPath state machines too
                query_language=sfn.QueryLanguage.JSONATA,
            )
        self.map.item_processor(processor)

    @property
    def start_state(self) -> sfn.State:
        """The Map state."""
        return self.map

    @property
    def end_states(self) -> list[sfn.INextable]:
        """The Map state."""
        return [self.map]
