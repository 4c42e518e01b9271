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
