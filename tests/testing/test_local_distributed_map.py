"""Distributed Maps that read from and write to S3, run locally on moto S3 as AWS runs them:
the ItemReader (JSON Lines, JSON, CSV, S3 listing; MaxItems), the ItemBatcher, the
ResultWriter (manifest and result files) and the tolerated failure threshold."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from lambdaless.synthesized import LOCAL_PSEUDO_PARAMETERS
from lambdaless.testing import LocalRunner, RunResult, mocks

BUCKET = "documents"
MODEL = "anthropic.claude-3-5-haiku-20241022-v1:0"
DOCUMENTS = [{"id": f"d{n}", "text": f"Document {n} about the tides."} for n in range(1, 6)]


@pytest.fixture
def bucket() -> Iterator[Any]:
    import boto3
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("s3", region_name=LOCAL_PSEUDO_PARAMETERS["AWS::Region"])
        client.create_bucket(Bucket=BUCKET)
        yield client


def put(client: Any, key: str, body: str) -> None:
    client.put_object(Bucket=BUCKET, Key=key, Body=body.encode())


def read(client: Any, key: str) -> Any:
    return json.loads(client.get_object(Bucket=BUCKET, Key=key)["Body"].read())


def jsonl(items: list[Any]) -> str:
    return "".join(json.dumps(item) + "\n" for item in items)


def summarize(language: str) -> dict[str, Any]:
    """The child workflow: one Bedrock call summarizing the item's text."""
    text = "{% $states.input.text %}" if language == "JSONata" else None
    task: dict[str, Any] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::bedrock:invokeModel",
        "End": True,
    }
    body = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 200,
        "messages": [{"role": "user", "content": text}],
    }
    if language == "JSONata":
        task["Arguments"] = {"ModelId": MODEL, "Body": body}
        task["Output"] = (
            "{% {'id': $states.input.id, 'summary': $states.result.Body.content[0].text} %}"
        )
    else:
        body["messages"] = [{"role": "user", "content.$": "$.text"}]
        task["Parameters"] = {"ModelId": MODEL, "Body": body}
        task["ResultSelector"] = {"stop.$": "$.Body.stop_reason"}
        task["ResultPath"] = "$.result"
        task["OutputPath"] = "$"
    return {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "Summarize",
        "States": {"Summarize": task},
    }


def distributed_map(language: str, **fields: Any) -> dict[str, Any]:
    state = {"Type": "Map", "ItemProcessor": summarize(language), "End": True, **fields}
    return {"QueryLanguage": language, "StartAt": "Documents", "States": {"Documents": state}}


def reader(language: str, key: str, **config: Any) -> dict[str, Any]:
    location = "Arguments" if language == "JSONata" else "Parameters"
    return {
        "Resource": "arn:aws:states:::s3:getObject",
        "ReaderConfig": config,
        location: {"Bucket": BUCKET, "Key": key},
    }


def answers(count: int) -> list[Any]:
    return [mocks.bedrock_text("anthropic", f"Summary {n}.") for n in range(1, count + 1)]


def run(definition: dict[str, Any], count: int, **kwargs: Any) -> RunResult:
    return LocalRunner(definition, passthrough=True).run(
        responses={"Summarize": answers(count)}, timeout_seconds=120, **kwargs
    )


def summarized_texts(result: RunResult) -> list[Any]:
    return [call.arguments["Body"]["messages"][0]["content"] for call in result.calls]


# -- ItemReader ------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["JSONata", "JSONPath"])
def test_jsonl_reader_gives_one_item_a_line(bucket: Any, language: str) -> None:
    """AWS docs, "ItemReader (Map)": InputType JSONL, one item per line, in file order; a
    trailing newline or a blank line is no item."""
    put(bucket, "in/docs.jsonl", jsonl(DOCUMENTS[:2]) + "\n" + jsonl(DOCUMENTS[2:]))
    definition = distributed_map(
        language, ItemReader=reader(language, "in/docs.jsonl", InputType="JSONL")
    )

    result = run(definition, 5)

    assert result.status == "SUCCEEDED", result.cause
    assert summarized_texts(result) == [d["text"] for d in DOCUMENTS]
    assert len(result.output) == 5
    if language == "JSONata":
        assert result.output[0] == {"id": "d1", "summary": "Summary 1."}
    else:
        assert result.output[4] == {**DOCUMENTS[4], "result": {"stop": "end_turn"}}


@pytest.mark.parametrize(
    ("language", "max_items"),
    [
        ("JSONata", {"MaxItems": 3}),
        ("JSONata", {"MaxItems": "{% $states.input.limit %}"}),
        ("JSONPath", {"MaxItems": 3}),
        ("JSONPath", {"MaxItemsPath": "$.limit"}),
    ],
)
def test_jsonl_reader_keeps_the_first_max_items(
    bucket: Any, language: str, max_items: dict[str, Any]
) -> None:
    put(bucket, "in/docs.jsonl", jsonl(DOCUMENTS))
    config = {"InputType": "JSONL", **max_items}
    definition = distributed_map(language, ItemReader=reader(language, "in/docs.jsonl", **config))

    result = run(definition, 3, input={"limit": 3})

    assert result.status == "SUCCEEDED", result.cause
    assert summarized_texts(result) == [d["text"] for d in DOCUMENTS[:3]]


def test_a_line_that_is_not_json_fails_the_reader(bucket: Any) -> None:
    put(bucket, "in/docs.jsonl", jsonl(DOCUMENTS[:2]) + "{not json\n")
    definition = distributed_map(
        "JSONata", ItemReader=reader("JSONata", "in/docs.jsonl", InputType="JSONL")
    )

    result = run(definition, 0)

    assert result.status == "FAILED"
    assert result.error == "States.ItemReaderFailed"
    assert "line 3" in str(result.cause)
    assert result.calls == []  # no child starts when the items cannot be read


@pytest.mark.parametrize("language", ["JSONata", "JSONPath"])
def test_json_csv_and_listing_readers_still_read_s3(bucket: Any, language: str) -> None:
    put(bucket, "in/docs.json", json.dumps(DOCUMENTS[:2]))
    put(bucket, "in/docs.csv", "id,text\nd1,First text.\nd2,Second text.\n")
    listing = {
        "Resource": "arn:aws:states:::s3:listObjectsV2",
        ("Arguments" if language == "JSONata" else "Parameters"): {
            "Bucket": BUCKET,
            "Prefix": "in/",
        },
    }
    for item_reader, texts in [
        (reader(language, "in/docs.json", InputType="JSON"), [d["text"] for d in DOCUMENTS[:2]]),
        (
            reader(language, "in/docs.csv", InputType="CSV", CSVHeaderLocation="FIRST_ROW"),
            ["First text.", "Second text."],
        ),
    ]:
        result = run(distributed_map(language, ItemReader=item_reader), 2)
        assert result.status == "SUCCEEDED", result.cause
        assert summarized_texts(result) == texts

    selector = (
        {"text": "{% $states.context.Map.Item.Value.Key %}"}
        if language == "JSONata"
        else {"text.$": "$$.Map.Item.Value.Key"}
    )
    result = run(distributed_map(language, ItemReader=listing, ItemSelector=selector), 2)
    assert result.status == "SUCCEEDED", result.cause
    assert summarized_texts(result) == ["in/docs.csv", "in/docs.json"]


# -- ItemBatcher ----------------------------------------------------------------------------


def batch_processor() -> dict[str, Any]:
    """A child that receives a batch and returns it as it came."""
    return {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "Keep",
        "States": {"Keep": {"Type": "Pass", "End": True}},
    }


def batched(language: str, batcher: dict[str, Any], **fields: Any) -> dict[str, Any]:
    state = {
        "Type": "Map",
        "ItemReader": reader(language, "in/docs.jsonl", InputType="JSONL"),
        "ItemBatcher": batcher,
        "ItemProcessor": batch_processor(),
        "End": True,
        **fields,
    }
    return {"QueryLanguage": language, "StartAt": "Batches", "States": {"Batches": state}}


@pytest.mark.parametrize(
    ("language", "batcher"),
    [
        ("JSONata", {"MaxItemsPerBatch": 2, "BatchInput": {"run": "{% $states.input.run %}"}}),
        (
            "JSONata",
            {"MaxItemsPerBatch": "{% $states.input.size %}", "BatchInput": {"run": "r-1"}},
        ),
        ("JSONPath", {"MaxItemsPerBatch": 2, "BatchInput": {"run.$": "$.run"}}),
        ("JSONPath", {"MaxItemsPerBatchPath": "$.size", "BatchInput": {"run": "r-1"}}),
    ],
)
def test_each_child_gets_a_batch_of_items_and_the_batch_input(
    bucket: Any, language: str, batcher: dict[str, Any]
) -> None:
    """AWS docs, "ItemBatcher (Map)": each child's input is ``{"BatchInput", "Items"}``, with
    at most MaxItemsPerBatch items, in item order."""
    put(bucket, "in/docs.jsonl", jsonl(DOCUMENTS))

    result = LocalRunner(batched(language, batcher)).run(input={"run": "r-1", "size": 2})

    assert result.status == "SUCCEEDED", result.cause
    assert result.output == [
        {"BatchInput": {"run": "r-1"}, "Items": DOCUMENTS[0:2]},
        {"BatchInput": {"run": "r-1"}, "Items": DOCUMENTS[2:4]},
        {"BatchInput": {"run": "r-1"}, "Items": DOCUMENTS[4:5]},
    ]


def test_the_item_selector_shapes_each_item_before_batching(bucket: Any) -> None:
    put(bucket, "in/docs.jsonl", jsonl(DOCUMENTS))
    selector = {
        "id": "{% $states.context.Map.Item.Value.id %}",
        "index": "{% $states.context.Map.Item.Index %}",
    }

    result = LocalRunner(batched("JSONata", {"MaxItemsPerBatch": 3}, ItemSelector=selector)).run()

    assert result.status == "SUCCEEDED", result.cause
    assert result.output == [
        {"Items": [{"id": "d1", "index": 0}, {"id": "d2", "index": 1}, {"id": "d3", "index": 2}]},
        {"Items": [{"id": "d4", "index": 3}, {"id": "d5", "index": 4}]},
    ]


@pytest.mark.parametrize(
    "batcher",
    [
        {"MaxInputBytesPerBatch": 150},
        {"MaxInputBytesPerBatch": "{% $states.input.bytes %}"},
    ],
)
def test_max_input_bytes_bounds_each_batch(bucket: Any, batcher: dict[str, Any]) -> None:
    """A batch holds as many items as fit in MaxInputBytesPerBatch bytes of child input."""
    put(bucket, "in/docs.jsonl", jsonl(DOCUMENTS))

    result = LocalRunner(batched("JSONata", batcher)).run(input={"bytes": 150})

    assert result.status == "SUCCEEDED", result.cause
    sizes = [len(json.dumps(batch, separators=(",", ":"))) for batch in result.output]
    assert all(size <= 150 for size in sizes), sizes
    assert [d for batch in result.output for d in batch["Items"]] == DOCUMENTS
    assert [len(batch["Items"]) for batch in result.output] == [2, 2, 1]


def test_a_batcher_maximum_that_is_not_a_positive_integer_fails_the_map(bucket: Any) -> None:
    put(bucket, "in/docs.jsonl", jsonl(DOCUMENTS))

    result = LocalRunner(batched("JSONata", {"MaxItemsPerBatch": "{% 0 %}"})).run()

    assert result.status == "FAILED"
    assert result.error == "States.Runtime"
    assert "MaxItemsPerBatch is 0" in str(result.cause)


# -- ResultWriter ---------------------------------------------------------------------------


def writer(language: str, prefix: str = "results/", **fields: Any) -> dict[str, Any]:
    location = "Arguments" if language == "JSONata" else "Parameters"
    return {
        "Resource": "arn:aws:states:::s3:putObject",
        location: {"Bucket": BUCKET, "Prefix": prefix},
        **fields,
    }


def failing_third(count: int = 5) -> list[Any]:
    """Bedrock answers for ``count`` children, the third refusing its request for good."""
    responses = answers(count)
    responses[2] = mocks.failure("Bedrock.ValidationException", "Malformed input request")
    return responses


def written(client: Any, result: RunResult) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """The manifest the Map's output names, and the records of each file it lists by status."""
    details = result.output["ResultWriterDetails"]
    assert details["Bucket"] == BUCKET
    manifest = read(client, details["Key"])
    records = {
        status: [record for entry in entries for record in read(client, entry["Key"])]
        for status, entries in manifest["ResultFiles"].items()
    }
    return manifest, records


@pytest.mark.parametrize("language", ["JSONata", "JSONPath"])
def test_result_writer_writes_the_manifest_and_a_file_per_status(
    bucket: Any, language: str
) -> None:
    """AWS docs, "ResultWriter (Map)": under ``<Prefix><Map Run id>/``, ``manifest.json``
    lists ``SUCCEEDED_0.json`` and ``FAILED_0.json`` (Key and Size); each record is the child's
    execution (input and output as JSON text; a failure's Error and Cause); the Map's result is
    ``{"MapRunArn", "ResultWriterDetails": {"Bucket", "Key"}}``."""
    put(bucket, "in/docs.jsonl", jsonl(DOCUMENTS))
    definition = distributed_map(
        language,
        ItemReader=reader(language, "in/docs.jsonl", InputType="JSONL"),
        ResultWriter=writer(language),
        ToleratedFailureCount=1,
    )

    result = LocalRunner(definition, passthrough=True).run(
        responses={"Summarize": failing_third()}, timeout_seconds=120
    )

    assert result.status == "SUCCEEDED", result.cause
    assert set(result.output) == {"MapRunArn", "ResultWriterDetails"}
    run_id = result.output["MapRunArn"].rsplit(":", 1)[-1]
    assert result.output["MapRunArn"].startswith("arn:aws:states:us-east-1:123456789012:mapRun:")
    manifest, records = written(bucket, result)
    assert result.output["ResultWriterDetails"]["Key"] == f"results/{run_id}/manifest.json"
    assert manifest["DestinationBucket"] == BUCKET
    assert manifest["MapRunArn"] == result.output["MapRunArn"]
    files = manifest["ResultFiles"]
    assert [e["Key"] for e in files["SUCCEEDED"]] == [f"results/{run_id}/SUCCEEDED_0.json"]
    assert [e["Key"] for e in files["FAILED"]] == [f"results/{run_id}/FAILED_0.json"]
    assert files["PENDING"] == []
    for entry in files["SUCCEEDED"] + files["FAILED"]:
        body = bucket.get_object(Bucket=BUCKET, Key=entry["Key"])["Body"].read()
        assert entry["Size"] == len(body)

    assert [json.loads(r["Input"]) for r in records["SUCCEEDED"]] == [
        d for i, d in enumerate(DOCUMENTS) if i != 2
    ]
    first = records["SUCCEEDED"][0]
    assert first["Status"] == "SUCCEEDED"
    assert set(first) >= {"ExecutionArn", "Name", "StartDate", "StopDate", "StateMachineArn"}
    assert first["ExecutionArn"].endswith(f":{first['Name']}")
    output = json.loads(first["Output"])
    if language == "JSONata":
        assert output == {"id": "d1", "summary": "Summary 1."}
    else:
        assert output["result"] == {"stop": "end_turn"}
    (failed,) = records["FAILED"]
    assert json.loads(failed["Input"]) == DOCUMENTS[2]
    assert failed["Status"] == "FAILED"
    assert (failed["Error"], failed["Cause"]) == (
        "Bedrock.ValidationException",
        "Malformed input request",
    )
    assert "Output" not in failed


def test_a_prefix_without_a_slash_is_a_folder_and_jsonl_output_is_one_record_a_line(
    bucket: Any,
) -> None:
    put(bucket, "in/docs.jsonl", jsonl(DOCUMENTS[:2]))
    definition = distributed_map(
        "JSONata",
        ItemReader=reader("JSONata", "in/docs.jsonl", InputType="JSONL"),
        ResultWriter=writer(
            "JSONata",
            prefix="{% 'runs/' & $states.context.Execution.Name %}",
            WriterConfig={"OutputType": "JSONL", "Transformation": "COMPACT"},
        ),
    )

    result = run(definition, 2, execution_name="nightly")

    assert result.status == "SUCCEEDED", result.cause
    manifest = read(bucket, result.output["ResultWriterDetails"]["Key"])
    (entry,) = manifest["ResultFiles"]["SUCCEEDED"]
    run_id = result.output["MapRunArn"].rsplit(":", 1)[-1]
    assert entry["Key"] == f"runs/nightly/{run_id}/SUCCEEDED_0.jsonl"
    body = bucket.get_object(Bucket=BUCKET, Key=entry["Key"])["Body"].read().decode()
    assert [json.loads(line) for line in body.splitlines()] == [
        {"id": "d1", "summary": "Summary 1."},
        {"id": "d2", "summary": "Summary 2."},
    ]


@pytest.mark.parametrize(
    ("transformation", "expected"),
    [
        ("COMPACT", [["a", "b"], ["c"]]),
        ("FLATTEN", ["a", "b", "c"]),
    ],
)
def test_a_writer_config_alone_shapes_the_results_in_the_state(
    bucket: Any, transformation: str, expected: list[Any]
) -> None:
    """AWS docs, "ResultWriter (Map)": WriterConfig without Resource keeps the results in the
    state's output, transformed."""
    put(bucket, "in/tags.json", json.dumps([["a", "b"], ["c"]]))
    state = {
        "Type": "Map",
        "ItemReader": reader("JSONata", "in/tags.json", InputType="JSON"),
        "ItemProcessor": batch_processor(),
        "ResultWriter": {"WriterConfig": {"Transformation": transformation, "OutputType": "JSON"}},
        "End": True,
    }
    definition = {"QueryLanguage": "JSONata", "StartAt": "Tags", "States": {"Tags": state}}

    result = LocalRunner(definition).run()

    assert result.status == "SUCCEEDED", result.cause
    assert result.output == expected


def test_a_missing_bucket_fails_the_map_with_result_writer_failed(bucket: Any) -> None:
    put(bucket, "in/docs.jsonl", jsonl(DOCUMENTS[:1]))
    definition = distributed_map(
        "JSONata",
        ItemReader=reader("JSONata", "in/docs.jsonl", InputType="JSONL"),
        ResultWriter={
            "Resource": "arn:aws:states:::s3:putObject",
            "Arguments": {"Bucket": "no-such-bucket", "Prefix": "out/"},
        },
    )

    result = run(definition, 1)

    assert result.status == "FAILED"
    assert result.error == "States.ResultWriterFailed"
    assert "NoSuchBucket" in str(result.cause)


# -- tolerated failures ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({}, "FAILED"),  # no threshold: no failure tolerated
        ({"ToleratedFailureCount": 0}, "FAILED"),
        ({"ToleratedFailureCount": 1}, "SUCCEEDED"),
        ({"ToleratedFailurePercentage": 20}, "SUCCEEDED"),  # 1 of 5 is 20%, not above
        ({"ToleratedFailurePercentage": 19}, "FAILED"),
        ({"ToleratedFailureCount": 5, "ToleratedFailurePercentage": 10}, "FAILED"),  # either
        ({"ToleratedFailureCount": "{% $states.input.tolerate %}"}, "SUCCEEDED"),
        ({"ToleratedFailurePercentage": "{% $states.input.tolerate * 20 %}"}, "SUCCEEDED"),
    ],
)
def test_failed_children_count_against_the_threshold(
    bucket: Any, fields: dict[str, Any], status: str
) -> None:
    put(bucket, "in/docs.jsonl", jsonl(DOCUMENTS))
    definition = distributed_map(
        "JSONata", ItemReader=reader("JSONata", "in/docs.jsonl", InputType="JSONL"), **fields
    )

    result = LocalRunner(definition, passthrough=True).run(
        input={"tolerate": 1}, responses={"Summarize": failing_third()}, timeout_seconds=120
    )

    assert result.status == status, result.cause
    assert len(result.calls) == 5  # every child runs
    if status == "FAILED":
        assert result.error == "States.ExceedToleratedFailureThreshold"
        assert "1 of 5 items failed" in str(result.cause)
    else:
        # Without a ResultWriter the failed child stays in its place in the output as its
        # execution record (AWS docs, "ResultWriter (Map)": a failed child's result is
        # returned unchanged, as with Transformation NONE), never as null.
        assert result.output[0] == {"id": "d1", "summary": "Summary 1."}
        failed = result.output[2]
        assert failed["Status"] == "FAILED"
        assert failed["Error"] == "Bedrock.ValidationException"
        assert json.loads(failed["Input"]) == DOCUMENTS[2]


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"ToleratedFailureCountPath": "$.tolerate"}, "SUCCEEDED"),
        ({"ToleratedFailurePercentagePath": "$.percent"}, "FAILED"),
    ],
)
def test_jsonpath_thresholds_come_from_the_input(
    bucket: Any, fields: dict[str, Any], status: str
) -> None:
    put(bucket, "in/docs.jsonl", jsonl(DOCUMENTS))
    definition = distributed_map(
        "JSONPath", ItemReader=reader("JSONPath", "in/docs.jsonl", InputType="JSONL"), **fields
    )

    result = LocalRunner(definition, passthrough=True).run(
        input={"tolerate": 1, "percent": 10},
        responses={"Summarize": failing_third()},
        timeout_seconds=120,
    )

    assert result.status == status, result.cause


def test_a_failed_batch_fails_each_of_its_items(bucket: Any) -> None:
    """The threshold counts items: a failed child of two items is two failures of five (40%)."""
    put(bucket, "in/docs.jsonl", jsonl(DOCUMENTS))
    processor = {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "Check",
        "States": {
            "Check": {
                "Type": "Choice",
                "Choices": [
                    {"Condition": "{% 'd3' in $states.input.Items.id %}", "Next": "Refuse"}
                ],
                "Default": "Done",
            },
            "Refuse": {"Type": "Fail", "Error": "Batch.Refused", "Cause": "d3 is in it"},
            "Done": {"Type": "Succeed"},
        },
    }
    for percent, status in [(39, "FAILED"), (40, "SUCCEEDED")]:
        definition = batched(
            "JSONata",
            {"MaxItemsPerBatch": 2},
            ItemProcessor=processor,
            ToleratedFailurePercentage=percent,
        )
        result = LocalRunner(definition).run()
        assert result.status == status, (percent, result.cause)
    assert result.output[1]["Error"] == "Batch.Refused"


def test_a_catch_on_the_threshold_error_handles_the_failed_map(bucket: Any) -> None:
    put(bucket, "in/docs.jsonl", jsonl(DOCUMENTS))
    definition = distributed_map(
        "JSONata",
        ItemReader=reader("JSONata", "in/docs.jsonl", InputType="JSONL"),
        Catch=[
            {
                "ErrorEquals": ["States.ExceedToleratedFailureThreshold"],
                "Output": "{% $states.errorOutput %}",
                "Next": "TooManyFailures",
            }
        ],
    )
    definition["States"]["TooManyFailures"] = {"Type": "Pass", "End": True}

    result = LocalRunner(definition, passthrough=True).run(
        responses={"Summarize": failing_third()}, timeout_seconds=120
    )

    assert result.status == "SUCCEEDED", result.cause
    assert (result.states[0], result.states[-1]) == ("Documents", "TooManyFailures")
    assert result.output["Error"] == "States.ExceedToleratedFailureThreshold"


# -- the DocumentsAtScale example, offline ------------------------------------------------


def documents_at_scale() -> dict[str, Any]:
    """DocumentsAtScale's state machine as synthesized, its bucket named ``documents``."""
    import aws_cdk as cdk
    from examples.documents_at_scale import DocumentsAtScaleStack

    from lambdaless.synthesized import load

    stack = DocumentsAtScaleStack(cdk.App(), "DocumentsAtScale")
    bucket_id = stack.get_logical_id(stack.bucket.node.default_child)  # type: ignore[arg-type]
    (machine,) = load(stack, pseudo={**LOCAL_PSEUDO_PARAMETERS, bucket_id: BUCKET})
    return machine.definition


def summaries(count: int, oversized: int) -> list[Any]:
    """Answers for ``count`` documents; the one at ``oversized`` is over 256 KiB, which fails
    its child for good: ``States.DataLimitExceeded``, which the item step's Catch on
    ``States.ALL`` does not catch (AWS docs, "Handling errors in Step Functions workflows")."""
    responses = [mocks.bedrock_text("anthropic", f"Summary {n}.") for n in range(count)]
    responses[oversized] = mocks.bedrock_text("anthropic", "x" * 270_000)
    return responses


@pytest.mark.parametrize(("documents", "status"), [(100, "SUCCEEDED"), (5, "FAILED")])
def test_documents_at_scale_runs_offline_within_and_over_its_tolerance(
    bucket: Any, documents: int, status: str
) -> None:
    """The example tolerates 1% of failed children: one failure in 100 documents is within it
    (the run succeeds and lists the failure in FAILED_0.json), one in 5 (20%) is over it (the
    Map fails with States.ExceedToleratedFailureThreshold, the files written all the same)."""
    items = [{"id": f"doc-{n}", "text": f"Document {n}."} for n in range(documents)]
    put(bucket, "input/documents.jsonl", jsonl(items))

    result = LocalRunner(documents_at_scale(), passthrough=True).run(
        responses={"SummariesItem": summaries(documents, oversized=3)}, timeout_seconds=600
    )

    assert result.status == status, result.cause
    assert len(result.calls) == documents
    listed = bucket.list_objects_v2(Bucket=BUCKET, Prefix="results/")["Contents"]
    keys = sorted(entry["Key"].rsplit("/", 1)[-1] for entry in listed)
    assert keys == ["FAILED_0.json", "SUCCEEDED_0.json", "manifest.json"]
    files = {entry["Key"].rsplit("/", 1)[-1]: read(bucket, entry["Key"]) for entry in listed}
    (failed,) = files["FAILED_0.json"]
    assert failed["Error"] == "States.DataLimitExceeded"
    assert json.loads(failed["Input"]) == items[3]
    succeeded = files["SUCCEEDED_0.json"]
    assert len(succeeded) == documents - 1
    first = json.loads(succeeded[0]["Output"])
    assert (first["item"], first["text"], first["stopReason"]) == (
        items[0],
        "Summary 0.",
        "end_turn",
    )
    if status == "SUCCEEDED":
        manifest_key = result.output["ResultWriterDetails"]["Key"]
        assert manifest_key.startswith("results/")
        assert manifest_key.endswith("/manifest.json")
        assert files["manifest.json"]["ResultFiles"]["FAILED"][0]["Key"].endswith("FAILED_0.json")
    else:
        assert result.error == "States.ExceedToleratedFailureThreshold"
        assert "1 of 5 items failed (20%)" in str(result.cause)


# -- the rules alone ------------------------------------------------------------------------


def test_an_item_larger_than_the_byte_limit_travels_alone() -> None:
    from lambdaless.testing._map_run import batches

    big = {"text": "x" * 200}
    assert batches([{"n": 1}, big, {"n": 2}], max_items=None, max_bytes=100) == [
        {"Items": [{"n": 1}]},
        {"Items": [big]},
        {"Items": [{"n": 2}]},
    ]


def test_a_writer_without_a_bucket_fails_with_result_writer_failed(bucket: Any) -> None:
    put(bucket, "in/docs.jsonl", jsonl(DOCUMENTS[:1]))
    definition = distributed_map(
        "JSONata",
        ItemReader=reader("JSONata", "in/docs.jsonl", InputType="JSONL"),
        ResultWriter={
            "Resource": "arn:aws:states:::s3:putObject",
            "Arguments": {"Prefix": "out/"},
        },
    )

    result = run(definition, 1)

    assert result.status == "FAILED"
    assert result.error == "States.ResultWriterFailed"
    assert "expected a Bucket name" in str(result.cause)


@pytest.mark.parametrize(
    ("bucket_name", "key"), [(BUCKET, "in/missing.jsonl"), ("no-such-bucket", "in/docs.jsonl")]
)
def test_a_source_that_cannot_be_read_fails_the_map_with_item_reader_failed(
    bucket: Any, bucket_name: str, key: str
) -> None:
    """A missing object or bucket is States.ItemReaderFailed, which a Catch names (AWS docs,
    "Handling errors in Step Functions workflows"), not an uncatchable States.Runtime."""
    put(bucket, "in/docs.jsonl", jsonl(DOCUMENTS))
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Read",
        "States": {
            "Read": {
                "Type": "Map",
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:getObject",
                    "ReaderConfig": {"InputType": "JSONL"},
                    "Arguments": {"Bucket": bucket_name, "Key": key},
                },
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Keep",
                    "States": {"Keep": {"Type": "Pass", "End": True}},
                },
                "Catch": [{"ErrorEquals": ["States.ItemReaderFailed"], "Next": "Unread"}],
                "End": True,
            },
            "Unread": {"Type": "Pass", "Output": "{% $states.input.Error %}", "End": True},
        },
    }

    result = LocalRunner(definition, passthrough=True).run()

    assert (result.status, result.output) == ("SUCCEEDED", "States.ItemReaderFailed")
