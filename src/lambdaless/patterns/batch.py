"""``BatchInference``: a prompt on every item through a Bedrock batch inference job, no Lambda.

Batch inference bills half the on-demand token price for many models and does not draw on the
on-demand quota (Amazon Bedrock pricing; "Process multiple prompts with batch inference",
https://docs.aws.amazon.com/bedrock/latest/userguide/batch-inference.html). Step Functions has no
optimized integration for it; the SDK integration, S3 and the Map states cover every step:

1. **Count** (Choice): fewer items than ``min_records`` or more than ``max_records`` fail the
   run (``BatchInference.TooFewRecords`` / ``TooManyRecords``) instead of failing the job at
   validation. Below the minimum use :class:`~lambdaless.patterns.fan_out.FanOut`. With
   ``items=`` the Choice counts the items before anything is written; with ``item_reader=``
   the count is only known once the object is read, so the Choice follows the Write on the
   records written, and the reader reads at most ``max_records + 1`` items
   (``ReaderConfig.MaxItems``): one more than allowed is enough to refuse the run.
2. **Write** (Distributed Map): each child writes one JSONL file
   ``<work>input/<execution>/<first record id>.jsonl`` with an ``aws-sdk:s3:putObject`` Task
   whose body JSONata joins the records, one per line,
   ``{"recordId": "<11 digits>", "modelInput": <the model's InvokeModel body>}`` ("Format and
   upload your batch inference data", batch-inference-data.html: files end in ``.jsonl``,
   ``modelInput`` is the InvokeModel body). The record id is the item's index in the items,
   zero-padded to 11 digits, so ids are unique and in item order. With ``items=`` the Map
   iterates over ``$partition(items, records_per_file)`` (one of Step Functions' JSONata
   functions, "Transforming data with JSONata", transforming-data.html) and each child gets
   ``{items, first, run}``. With ``item_reader=`` (:class:`~lambdaless.patterns.fan_out.S3Items`:
   a JSON array, JSON Lines or CSV object) the Map reads the object with an ItemReader
   ("ItemReader (Map)", input-output-itemreader.html), its ItemSelector keeps each item with
   its ``$states.context.Map.Item.Index`` (the ItemSelector runs on every item, before
   batching: "ItemSelector (Map)", input-output-itemselector.html), and its ItemBatcher
   (``MaxItemsPerBatch`` = ``records_per_file``, ``BatchInput`` = the execution name) gives each
   child ``{"BatchInput": {"run"}, "Items": [{"index", "value"}, ...]}`` ("ItemBatcher (Map)",
   input-output-itembatcher.html: batched items arrive in an ``Items`` array, ``BatchInput``
   beside it). Each file is one Task argument, so it stays under 256 KiB, far below the 1 GB
   input-file quota.
3. **Submit**: ``aws-sdk:bedrock:createModelInvocationJob`` (InputDataConfig.S3InputDataConfig
   on the execution's input folder, OutputDataConfig.S3OutputDataConfig on its output folder,
   the Bedrock service role, TimeoutDurationInHours; Bedrock API reference,
   "CreateModelInvocationJob"). ``ModelId`` takes a foundation model or an inference profile.
4. **Wait** by bounded polling with growing waits: Wait ``$wait`` s (doubling from
   ``first_poll`` up to ``max_poll_interval``), ``aws-sdk:bedrock:getModelInvocationJob``,
   Choice on ``Status`` (Bedrock API reference, "GetModelInvocationJob": Submitted, Validating,
   Scheduled, InProgress, Stopping are still running; Completed and PartiallyCompleted have
   output; Failed, Stopped and Expired fail the run with ``BatchInference.JobFailed``). After
   the job's own timeout plus an hour of polls the run fails with ``BatchInference.NoEnd``.
5. **Read** (Distributed Map, ItemReader ``s3:listObjectsV2`` over the execution's output
   folder): Bedrock writes one ``.jsonl.out`` file per input file, each line the record with
   ``modelOutput`` (the InvokeModel response body) or ``error`` in its place, and
   ``manifest.json.out`` with the job's counts ("View the results of a batch inference job",
   batch-inference-results.html). Each child reads one file (``aws-sdk:s3:getObject``), turns
   every ``modelOutput`` into the uniform answer of ``InvokeBedrock``
   (``{recordId, text, stopReason, usage}``) and every other record into
   ``{recordId, error}``, and writes ``<work>results/<execution>/<first record id>.json``
   (``{"results": [...], "failures": [...]}``).
6. **Check** (Choice): results + failures must equal the records written, else
   ``BatchInference.RecordsLost``. The output::

       {"jobArn", "records", "results", "failures", "resultsAt": "s3://.../", "manifest"}

Why polling, not an EventBridge rule resuming a task token. Bedrock emits job state changes to
EventBridge ("Monitor Amazon Bedrock job state changes using Amazon EventBridge"), but the task
token cannot travel with the job, so the event route needs a DynamoDB item (job ARN -> token),
a rule, a small Express workflow (GetItem, SendTaskSuccess/SendTaskFailure) and their IAM, and a
lost event leaves the run waiting until a heartbeat. For a 24-hour job, with the default waits
(60 s doubling to 900 s) :func:`lambdaless.analysis.batch.poll_schedule` gives 99 polls: 297
billed transitions (US$0.0074 at US$0.025 per 1,000) and 891 history events in the parent (9 a
poll: Wait 2, Task 5, Choice 2), 3.6% of the 25,000 limit. The event route costs about 2
transitions and 11 events in the parent, plus an Express request and DynamoDB reads per state
change: about US$0.0001. The saving, US$0.007 a job, is below a cent against a model bill of
dollars; the poll adds at most 15 minutes to a job of hours. Polling needs no other resource.

With ``items=`` the records are written from the state's items: they must fit in the 256 KiB
state input with the rest of it (e.g. document ids or S3 keys the prompt names, not whole
documents). With ``item_reader=`` only each child's batch must fit in 256 KiB; the state
machine may read its one object and nothing else of the bucket (``s3:GetObject`` on its ARN).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from lambdaless._errors import at_path, invalid, require
from lambdaless.analysis.batch import poll_schedule
from lambdaless.limits import (
    BATCH_MAX_RECORDS_DEFAULT,
    BATCH_MIN_RECORDS_DEFAULT,
    DISTRIBUTED_MAP_MAX_CONCURRENCY,
    PAYLOAD_MAX_BYTES,
)
from lambdaless.models import BedrockModel, ModelKind, ModelLike
from lambdaless.patterns._common import S3Path, partition, region_arn, variable_prefix
from lambdaless.patterns._service_role import bedrock_service_role
from lambdaless.patterns.fan_out import S3Items
from lambdaless.prompts import (
    Inference,
    answer_expression,
    check_text,
    is_expression,
    request_body,
)
from lambdaless.retry import RetryPolicy
from lambdaless.rules.batch import check_batch_model, check_batch_records, check_batch_timeout
from lambdaless.rules.expressions import check_jsonata
from lambdaless.steps._task import DirectTask

#: Job statuses with output, and those that end the job without (Bedrock API reference,
#: GetModelInvocationJob / ModelInvocationJobStatus).
DONE_STATUSES = ("Completed", "PartiallyCompleted")
FAILED_STATUSES = ("Failed", "Stopped", "Expired")

#: Bytes of a written file's share of a record besides the model's answer: the record id, the
#: JSON around the body and the item's text (a budget, not a measure: items are the caller's).
_RECORD_BUDGET_BYTES = 2048
#: Bytes per output token in a ``.jsonl.out`` line (UTF-8 text, JSON-escaped), as a budget.
_BYTES_PER_TOKEN = 8

_PREFIX_REASON = (
    "BatchInference names its files per execution (<prefix><execution>/...) and Bedrock names "
    "the output files, so the grant is the prefix, not single objects."
)
#: The most a Write or Read child returns: ``{"results":1000,"failures":1000}`` (32 bytes) or
#: the manifest's ``{"total":<n>,"errors":<n>}``.
_CHILD_OUTPUT_BYTES = 40
_STATES_INPUT = re.compile(r"\$states\.input(?![A-Za-z0-9_])")


def default_records_per_file(max_tokens: int) -> int:
    """Records per written file so that its ``.jsonl.out`` (input plus answers) stays within
    the 256 KiB a Task result may be: each record budgets ``_RECORD_BUDGET_BYTES`` plus
    ``max_tokens`` at ``_BYTES_PER_TOKEN``, against three quarters of the payload limit."""
    per_record = _RECORD_BUDGET_BYTES + max_tokens * _BYTES_PER_TOKEN
    return max(1, min(1000, (PAYLOAD_MAX_BYTES * 3 // 4) // per_record))


def _jsonata(value: Any) -> str:
    """JSONata source building ``value``, whose strings may be ``{% %}`` expressions."""
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{json.dumps(k)}: {_jsonata(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_jsonata(v) for v in value) + "]"
    if isinstance(value, str) and is_expression(value):
        return "(" + value[2:-2].strip() + ")"
    return json.dumps(value)


def _inner(expression: str) -> str:
    return expression[2:-2].strip()


class BatchInference(sfn.StateMachineFragment):
    """Run ``prompt`` on every item as one Bedrock batch inference job, and read the answers.

    See the module docstring for the states, the output and the costs. Standard workflows only
    (Distributed Map); give the Workflow a timeout above the job's (``job_timeout_hours``).

    Attributes:
        role: the Bedrock service role of the job (created unless given).
        write: the Distributed Map writing the input files.
        submit: the CreateModelInvocationJob Task.
        poll: the GetModelInvocationJob Task.
        read: the Distributed Map reading the output files.
        count: the Count Choice (before the Write with ``items=``, after it with
            ``item_reader=``).
        records_per_file: records in each written file.
        max_polls: polls made before the run gives up (``BatchInference.NoEnd``).
    """

    @at_path
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        prompt: str,
        model: ModelLike,
        work: S3Path,
        system: str | None = None,
        inference: Inference | None = None,
        items: str | None = None,
        item_reader: S3Items | None = None,
        min_records: int = BATCH_MIN_RECORDS_DEFAULT,
        max_records: int = BATCH_MAX_RECORDS_DEFAULT,
        records_per_file: int | None = None,
        job_timeout_hours: int = 24,
        first_poll: cdk.Duration | None = None,
        max_poll_interval: cdk.Duration | None = None,
        max_concurrency: int = 100,
        kms_key: kms.IKey | None = None,
        role: iam.IRole | None = None,
        comment: str | None = None,
    ) -> None:
        """
        Args:
            prompt: the prompt run on each item (``$states.input`` is the item), a literal or a
                ``{% %}`` expression.
            model: the model: a foundation model or an inference profile (not provisioned).
            work: the bucket and key prefix (ending in ``/``) under which each execution
                writes ``input/<execution>/``, Bedrock writes ``output/<execution>/`` and the
                answers go to ``results/<execution>/``. IAM is scoped to these prefixes.
            system: the system prompt; none by default.
            inference: inference parameters; ``Inference()`` by default.
            items: a JSONata expression giving the item array; by default
                ``{% $states.input.items %}``. Not with ``item_reader``.
            item_reader: read the items from one S3 object instead
                (``S3Items.json``/``jsonl``/``csv``); the state machine may read that object
                only. At most ``max_records + 1`` items are read (fewer if the S3Items has a
                smaller ``max_items``, which then bounds the run). None by default.
            min_records: your account's "Minimum number of records per batch inference job"
                quota for the model (Service Quotas); 100 by default, its usual default. Fewer
                items fail the run before the job is submitted: use ``FanOut`` for them.
            max_records: your account's "Records per batch inference job" quota for the
                model; 50,000 by default.
            records_per_file: records per written file; by default as many as keep a file's
                output (inputs and answers of ``max_tokens``) within 256 KiB, which the
                reading Task must not exceed (see :func:`default_records_per_file`).
            job_timeout_hours: the job's TimeoutDurationInHours, 24 (default) to 168.
            first_poll: the first wait before polling the job; 60 s by default.
            max_poll_interval: the longest wait between polls; 900 s by default.
            max_concurrency: child executions at once in each Distributed Map (100 by default,
                at most 10,000); they only call S3.
            kms_key: a customer-managed key Bedrock encrypts the output with (and may use to
                read input encrypted with it); S3-managed by default.
            role: the Bedrock service role; by default one is created, trusted by
                ``bedrock.amazonaws.com`` for this account's batch jobs only, reading only the
                input prefix and writing only the output prefix.
            comment: the Comment of the job's Task.
        """
        super().__init__(scope, id)
        check_text("prompt", prompt)
        bedrock_model = BedrockModel.of(model)
        bedrock_model.check_end_of_life(scope, "model", model)
        check_batch_model(
            "model",
            bedrock_model.identifier,
            provisioned=bedrock_model.kind is ModelKind.PROVISIONED,
            family=bedrock_model.family,
        )
        assert bedrock_model.family is not None
        require(isinstance(work, S3Path), "work", work, "an S3Path (bucket and key prefix)")
        require(
            work.key.endswith("/"), "work", work.key, "a key prefix ending in '/', e.g. 'batch/'"
        )
        inference = inference or Inference()
        if items is not None and item_reader is not None:
            raise invalid(
                "items/item_reader",
                (items, item_reader),
                "one of the two: the items come from the state (items=) or from S3 (item_reader=)",
            )
        if items is not None:
            require(is_expression(items), "items", items, "a JSONata expression '{% ... %}'")
            check_jsonata("items", items)
        require(
            item_reader is None or isinstance(item_reader, S3Items),
            "item_reader",
            item_reader,
            "None or an S3Items value (S3Items.json, S3Items.jsonl or S3Items.csv)",
        )
        per_file = (
            default_records_per_file(inference.max_tokens)
            if records_per_file is None
            else records_per_file
        )
        check_batch_records(min_records, max_records, per_file, from_s3=item_reader is not None)
        hours = check_batch_timeout("job_timeout_hours", job_timeout_hours)
        first = _seconds("first_poll", first_poll, 60)
        cap = _seconds("max_poll_interval", max_poll_interval, 900)
        require(cap >= first, "max_poll_interval", cap, f"at least first_poll ({first} s)")
        require(
            isinstance(max_concurrency, int)
            and not isinstance(max_concurrency, bool)
            and 1 <= max_concurrency <= DISTRIBUTED_MAP_MAX_CONCURRENCY,
            "max_concurrency",
            max_concurrency,
            f"an integer from 1 to {DISTRIBUTED_MAP_MAX_CONCURRENCY}",
        )
        self.records_per_file = per_file
        # Poll until the job's own timeout has passed, plus an hour for the last status change.
        self.max_polls = len(poll_schedule(first, cap, hours * 3600 + 3600))
        # Both Maps return their children's small outputs inline (no ResultWriter): declared
        # to the lint as at most `files` (+2 other objects) outputs of at most 40 bytes each.
        # Read from S3, one item more than max_records is read to tell there are too many.
        read_items = max_records
        if item_reader is not None:
            read_items = min(item_reader.max_items or max_records + 1, max_records + 1)
        files = -(-max_records // per_file)
        written_files = -(-read_items // per_file)
        inline = (files + 2) * (_CHILD_OUTPUT_BYTES + 1) + 2
        require(
            inline <= PAYLOAD_MAX_BYTES,
            "records_per_file",
            per_file,
            f"at least {-(-max_records * (_CHILD_OUTPUT_BYTES + 1) // PAYLOAD_MAX_BYTES)} for "
            f"max_records={max_records}: each file's child returns a count inline",
        )

        v = variable_prefix(id)
        job, wait, polls, written, read = (
            f"{v}{n}" for n in ("Job", "Wait", "Polls", "Written", "Read")
        )
        source = _inner(items or "{% $states.input.items %}")
        bucket = work.bucket
        input_dir, output_dir, results_dir = (
            S3Path(bucket, work.key + name + "/") for name in ("input", "output", "results")
        )
        run = "$states.context.Execution.Name"
        stack = cdk.Stack.of(self)
        job_arns = region_arn(self, "bedrock", "model-invocation-job/*")
        self.role = role or bedrock_service_role(
            self,
            job_arns=job_arns,
            reads=[input_dir.prefix_arn],
            buckets=[input_dir],
            output=output_dir,
            key_statement=_key_statement(kms_key, stack) if kms_key is not None else None,
            description="Bedrock batch inference: read the input files, write the outputs",
            output_reason=(
                "Bedrock writes each job's output files and manifest under the output prefix "
                "with object names it chooses, so the grant is the prefix."
            ),
            read_reason=(
                "A batch job reads every .jsonl file of its input folder, whose names the "
                "workflow derives from each execution, so the grant is the input prefix."
            ),
        )
        if bedrock_model.kind is not ModelKind.FOUNDATION_MODEL and role is None:
            # A profile routes the job's requests to its models (Bedrock user guide,
            # "batch-iam-sr": permissions to use inference profiles).
            for statement in bedrock_model.policy_statements(self):
                self.role.add_to_principal_policy(statement)

        # 1. Count
        too_few = sfn.Fail(
            self,
            f"{id}TooFewRecords",
            error="BatchInference.TooFewRecords",
            cause=f"fewer items than min_records={min_records}, the model's 'Minimum number of "
            "records per batch inference job': run them with FanOut",
        )
        too_many = sfn.Fail(
            self,
            f"{id}TooManyRecords",
            error="BatchInference.TooManyRecords",
            cause=f"more items than max_records={max_records}, the model's 'Records per batch "
            "inference job': split them into several runs",
        )

        # 2. Write
        body = _STATES_INPUT.sub(
            lambda _: "$item",
            _jsonata(
                request_body(
                    bedrock_model.family, prompt=prompt, system=system, inference=inference
                )
            ),
        )
        if item_reader is None:
            # A child's input: {items, first, run}; its item $i is item first + $i.
            record = (
                "{'recordId': $pad($string($states.input.first + $i), -11, '0'), "
                f"'modelInput': {body}}}"
            )
            lines = f"$map($states.input.items, function($item, $i) {{ $string({record}) }})"
            first_id, child_run, rows = "$states.input.first", "$states.input.run", "items"
        else:
            # A child's input: {"BatchInput": {run}, "Items": [{index, value}, ...]}.
            record = f"{{'recordId': $pad($string($record.index), -11, '0'), 'modelInput': {body}}}"
            lines = (
                "$map($states.input.Items, function($record) "
                f"{{ ($item := $record.value; $string({record})) }})"
            )
            first_id = "$states.input.Items[0].index"
            child_run, rows = "$states.input.BatchInput.run", "Items"
        put_file = DirectTask(
            self,
            f"{id}WriteFile",
            resource=f"arn:{partition(self)}:states:::aws-sdk:s3:putObject",
            arguments={
                "Bucket": bucket.bucket_name,
                "Key": "{% "
                + json.dumps(input_dir.key)
                + f" & {child_run} & '/' & $pad($string({first_id}), -11, '0') & '.jsonl' %}}",
                "Body": "{% $join(" + lines + ", '\\n') %}",
                "ContentType": "application/jsonl",
            },
            output="{% {'records': $count($states.input." + rows + ")} %}",
            policy_statements=[
                iam.PolicyStatement(actions=["s3:PutObject"], resources=[input_dir.prefix_arn])
            ],
            retries=[RetryPolicy.task_failed()],
            timeout=None,
            assign=None,
            comment="One JSONL file of batch records",
            prefix_grants={input_dir.prefix_arn: _PREFIX_REASON},
        )
        if item_reader is None:
            source_fields: dict[str, Any] = {
                "items": sfn.ProvideItems.jsonata("{% $partition(" + source + f", {per_file}) %}}"),
                "item_selector": {
                    "items": "{% $states.context.Map.Item.Value %}",
                    "first": "{% $states.context.Map.Item.Index * " + str(per_file) + " %}",
                    "run": "{% " + run + " %}",
                },
            }
        else:
            source_fields = {
                "item_reader": dataclasses.replace(item_reader, max_items=read_items).reader(),
                "item_selector": {
                    "index": "{% $states.context.Map.Item.Index %}",
                    "value": "{% $states.context.Map.Item.Value %}",
                },
                "item_batcher": sfn.ItemBatcher(
                    max_items_per_batch=per_file, batch_input={"run": "{% " + run + " %}"}
                ),
            }
        self.write = sfn.DistributedMap(
            self,
            f"{id}Write",
            **source_fields,
            max_concurrency=max_concurrency,
            outputs="{% {} %}",
            assign={written: "{% $sum($states.result.records) %}"},
            comment=f"Write the items as batch records, {per_file} a file "
            f"(lambdaless:max-items={written_files} "
            f"lambdaless:max-item-output-bytes={_CHILD_OUTPUT_BYTES})",
            query_language=sfn.QueryLanguage.JSONATA,
        )
        self.write.item_processor(put_file)

        # 3. Submit
        output_config: dict[str, Any] = {
            "S3Uri": "{% " + _uri(output_dir) + " & " + run + " & '/' %}"
        }
        if kms_key is not None:
            output_config["S3EncryptionKeyId"] = kms_key.key_arn
        model_arns = [bedrock_model.invoke_arn(self)]
        self.submit = DirectTask(
            self,
            f"{id}Submit",
            resource=f"arn:{partition(self)}:states:::aws-sdk:bedrock:createModelInvocationJob",
            arguments={
                "JobName": "{% '" + id[:20] + "-' & $uuid() %}",
                "ModelId": bedrock_model.invoke_arn(self),
                "RoleArn": self.role.role_arn,
                "InputDataConfig": {
                    "S3InputDataConfig": {
                        "S3Uri": "{% " + _uri(input_dir) + " & " + run + " & '/' %}",
                        "S3InputFormat": "JSONL",
                    }
                },
                "OutputDataConfig": {"S3OutputDataConfig": output_config},
                "TimeoutDurationInHours": hours,
            },
            output="{% $states.input %}",
            policy_statements=[
                iam.PolicyStatement(
                    actions=["bedrock:CreateModelInvocationJob"],
                    resources=[*model_arns, job_arns],
                ),
                iam.PolicyStatement(
                    actions=["iam:PassRole"],
                    resources=[self.role.role_arn],
                    conditions={"StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}},
                ),
            ],
            retries=[RetryPolicy.bedrock_control_plane_transient()],
            timeout=None,
            assign={job: "{% $states.result.JobArn %}", wait: first, polls: 0},
            comment=comment or f"Batch inference job of {bedrock_model.identifier}",
            wildcard_resources=[job_arns],
        )

        # 4. Wait
        wait_state = sfn.Wait(
            self,
            f"{id}Wait",
            time=sfn.WaitTime.seconds("{% $" + wait + " %}"),
            assign={wait: "{% $min([$" + wait + f" * 2, {cap}]) %}}"},
            comment=f"Growing waits: {first} s doubling to {cap} s "
            f"(lambdaless:max-iterations={self.max_polls})",
            query_language=sfn.QueryLanguage.JSONATA,
        )
        self.poll = DirectTask(
            self,
            f"{id}Poll",
            resource=f"arn:{partition(self)}:states:::aws-sdk:bedrock:getModelInvocationJob",
            arguments={"JobIdentifier": "{% $" + job + " %}"},
            output="{% {'status': $states.result.Status, 'message': $states.result.Message} %}",
            policy_statements=[
                iam.PolicyStatement(actions=["bedrock:GetModelInvocationJob"], resources=[job_arns])
            ],
            retries=[RetryPolicy.bedrock_control_plane_transient()],
            timeout=None,
            assign={polls: "{% $" + polls + " + 1 %}"},
            comment="The job's status",
            wildcard_resources=[job_arns],
        )
        job_failed = sfn.Fail(
            self,
            f"{id}JobFailed",
            error="BatchInference.JobFailed",
            cause="{% 'batch job ' & $" + job + " & ' ended ' & $states.input.status & "
            "($exists($states.input.message) ? ': ' & $states.input.message : '') %}",
        )
        no_end = sfn.Fail(
            self,
            f"{id}NoEnd",
            error="BatchInference.NoEnd",
            cause="{% 'batch job ' & $" + job + " & ' still ' & $states.input.status & ' after "
            f"{self.max_polls} polls' %}}",
        )

        # 5. Read
        read_file = DirectTask(
            self,
            f"{id}ReadFile",
            resource=f"arn:{partition(self)}:states:::aws-sdk:s3:getObject",
            arguments={"Bucket": bucket.bucket_name, "Key": "{% $states.input.key %}"},
            output="{% " + _answers(bedrock_model) + " %}",
            policy_statements=[
                iam.PolicyStatement(actions=["s3:GetObject"], resources=[output_dir.prefix_arn])
            ],
            retries=[RetryPolicy.task_failed()],
            timeout=None,
            assign=None,
            comment="One .jsonl.out file: answers and failed records",
            prefix_grants={output_dir.prefix_arn: _PREFIX_REASON},
        )
        save = DirectTask(
            self,
            f"{id}SaveAnswers",
            resource=f"arn:{partition(self)}:states:::aws-sdk:s3:putObject",
            arguments={
                "Bucket": bucket.bucket_name,
                "Key": "{% "
                + json.dumps(results_dir.key)
                + " & $states.input.run & '/' & $substringBefore($states.input.name, '.jsonl.out') "
                "& '.json' %}",
                "Body": "{% $string({'results': $states.input.results, "
                "'failures': $states.input.failures}) %}",
                "ContentType": "application/json",
            },
            output="{% {'results': $count($states.input.results), "
            "'failures': $count($states.input.failures)} %}",
            policy_statements=[
                iam.PolicyStatement(actions=["s3:PutObject"], resources=[results_dir.prefix_arn])
            ],
            retries=[RetryPolicy.task_failed()],
            timeout=None,
            assign=None,
            comment="The file's answers and failures",
            prefix_grants={results_dir.prefix_arn: _PREFIX_REASON},
        )
        read_manifest = DirectTask(
            self,
            f"{id}ReadManifest",
            resource=f"arn:{partition(self)}:states:::aws-sdk:s3:getObject",
            arguments={"Bucket": bucket.bucket_name, "Key": "{% $states.input.key %}"},
            output="{% ($m := $parse($states.result.Body); "
            "{'total': $m.totalRecordCount, 'errors': $m.errorRecordCount}) %}",
            policy_statements=[
                iam.PolicyStatement(actions=["s3:GetObject"], resources=[output_dir.prefix_arn])
            ],
            retries=[RetryPolicy.task_failed()],
            timeout=None,
            assign=None,
            comment="The job's manifest.json.out: Bedrock's counts",
            prefix_grants={output_dir.prefix_arn: _PREFIX_REASON},
        )
        other = sfn.Succeed(
            self,
            f"{id}OtherObject",
            comment="Neither an output file nor the manifest",
            outputs={},
            query_language=sfn.QueryLanguage.JSONATA,
        )
        route = (
            sfn.Choice(self, f"{id}FileKind", query_language=sfn.QueryLanguage.JSONATA)
            .when(
                sfn.Condition.jsonata("{% $contains($states.input.key, /\\.jsonl\\.out$/) %}"),
                read_file.next(save),
            )
            .when(
                sfn.Condition.jsonata(
                    "{% $contains($states.input.key, /manifest\\.json\\.out$/) %}"
                ),
                read_manifest,
            )
            .otherwise(other)
        )
        self.read = sfn.DistributedMap(
            self,
            f"{id}Read",
            item_reader=_PrefixListing(
                output_dir, "{% " + json.dumps(output_dir.key) + " & " + run + " & '/' %}"
            ),
            item_selector={
                "key": "{% $states.context.Map.Item.Value.Key %}",
                "name": "{% $split($states.context.Map.Item.Value.Key, '/')[-1] %}",
                "run": "{% " + run + " %}",
            },
            max_concurrency=max_concurrency,
            outputs="{% {} %}",
            assign={
                read: "{% {'results': $sum($states.result.results), "
                "'failures': $sum($states.result.failures), "
                "'manifest': $filter($states.result, function($f) { $exists($f.total) })[0]} %}"
            },
            comment="Read the job's output files back, one child per file "
            f"(lambdaless:max-items={files + 2} "
            f"lambdaless:max-item-output-bytes={_CHILD_OUTPUT_BYTES})",
            query_language=sfn.QueryLanguage.JSONATA,
        )
        self.read.item_processor(route)

        # 6. Check
        lost = sfn.Fail(
            self,
            f"{id}RecordsLost",
            error="BatchInference.RecordsLost",
            cause="{% 'wrote ' & $string($" + written + ") & ' records, read back ' & "
            "$string($" + read + ".results) & ' answers and ' & $string($" + read + ".failures) "
            "& ' failures' %}",
        )
        self.done = sfn.Pass(
            self,
            f"{id}Counted",
            outputs="{% {'jobArn': $"
            + job
            + ", 'records': $"
            + written
            + ", 'results': $"
            + read
            + ".results, 'failures': $"
            + read
            + ".failures, 'resultsAt': "
            + _uri(results_dir)
            + " & "
            + run
            + " & '/', 'manifest': $"
            + read
            + ".manifest} %}",
            comment="Every record is an answer or a failure",
            query_language=sfn.QueryLanguage.JSONATA,
        )
        check = (
            sfn.Choice(self, f"{id}Check", query_language=sfn.QueryLanguage.JSONATA)
            .when(
                sfn.Condition.jsonata(
                    "{% $" + read + ".results + $" + read + ".failures = $" + written + " %}"
                ),
                self.done,
            )
            .otherwise(lost)
        )
        status = (
            sfn.Choice(self, f"{id}Status", query_language=sfn.QueryLanguage.JSONATA)
            .when(
                sfn.Condition.jsonata(
                    "{% $states.input.status in " + json.dumps(list(DONE_STATUSES)) + " %}"
                ),
                self.read.next(check),
            )
            .when(
                sfn.Condition.jsonata(
                    "{% $states.input.status in " + json.dumps(list(FAILED_STATUSES)) + " %}"
                ),
                job_failed,
            )
            .when(sfn.Condition.jsonata("{% $" + polls + f" >= {self.max_polls} %}}"), no_end)
            .otherwise(wait_state)
        )
        wait_state.next(self.poll).next(status)
        # From the state: count the items, then write. From S3: write, then count the records.
        counted = f"$count({source})" if item_reader is None else f"${written}"
        self.count = (
            sfn.Choice(self, f"{id}Count", query_language=sfn.QueryLanguage.JSONATA)
            .when(sfn.Condition.jsonata(f"{{% {counted} < {min_records} %}}"), too_few)
            .when(sfn.Condition.jsonata(f"{{% {counted} > {max_records} %}}"), too_many)
        )
        self._start: sfn.State
        if item_reader is None:
            self.count.otherwise(self.write.next(self.submit).next(wait_state))
            self._start = self.count
        else:
            self.write.next(self.count.otherwise(self.submit.next(wait_state)))
            self._start = self.write

    @property
    def start_state(self) -> sfn.State:
        """The Count Choice (items from the state) or the Write Map (items from S3)."""
        return self._start

    @property
    def end_states(self) -> list[sfn.INextable]:
        """The Counted Pass."""
        return [self.done]


class _PrefixListing(sfn.S3ObjectsItemReader):
    """aws-cdk-lib's ``s3:listObjectsV2`` ItemReader, its ``s3:ListBucket`` limited to keys under
    ``path`` by an ``s3:prefix`` condition (Service Authorization Reference, "Actions, resources,
    and condition keys for Amazon S3", list_amazons3.html: ListBucket takes ``s3:prefix``);
    aws-cdk-lib grants the listing of the whole bucket."""

    def __init__(self, path: S3Path, prefix: str) -> None:
        super().__init__(bucket=path.bucket, prefix=prefix)
        self._path = path

    @jsii.member(jsii_name="providePolicyStatements")
    def provide_policy_statements(self) -> list[iam.PolicyStatement]:
        return [
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[self._path.bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": self._path.key + "*"}},
            )
        ]


def _seconds(argument: str, value: cdk.Duration | None, default: int) -> int:
    if value is None:
        return default
    require(isinstance(value, cdk.Duration), argument, value, "a cdk.Duration")
    seconds = value.to_seconds()
    require(
        float(seconds).is_integer() and seconds >= 1,
        argument,
        value,
        "a whole number of seconds, at least 1",
    )
    return int(seconds)


def _uri(path: S3Path) -> str:
    """JSONata for ``s3://bucket/key`` (the bucket name may be a CloudFormation reference)."""
    return "'s3://' & " + json.dumps(path.bucket.bucket_name) + " & '/" + path.key + "'"


def _answers(model: BedrockModel) -> str:
    """JSONata over a getObject result: the file's records split into uniform answers (with
    their record id) and failures (record id and error)."""
    assert model.family is not None
    answer = _inner(answer_expression(model.family, body="$r.modelOutput"))
    return (
        "($records := $map($filter($split($states.result.Body, '\\n'), "
        "function($l) { $length($trim($l)) > 0 }), function($l) { $parse($l) }); "
        "{'name': $states.input.name, 'run': $states.input.run, "
        "'results': [$map($filter($records, function($r) { $exists($r.modelOutput) }), "
        "function($r) { $merge([{'recordId': $r.recordId}, " + answer + "]) })], "
        "'failures': [$map($filter($records, function($r) { $not($exists($r.modelOutput)) }), "
        "function($r) { {'recordId': $r.recordId, 'error': $r.error} })]})"
    )


def _key_statement(key: kms.IKey, stack: cdk.Stack) -> iam.PolicyStatement:
    # Bedrock encrypts the job's output with the key (OutputDataConfig S3EncryptionKeyId) and
    # reads input encrypted with it, only through Bedrock.
    return iam.PolicyStatement(
        actions=["kms:Decrypt", "kms:GenerateDataKey"],
        resources=[key.key_arn],
        conditions={"StringEquals": {"kms:ViaService": f"s3.{stack.region}.amazonaws.com"}},
    )
