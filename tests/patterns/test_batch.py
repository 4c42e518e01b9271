"""BatchInference: snapshot, no Lambda, the exact IAM of the workflow and of the Bedrock service
role, the batch rules, the polling numbers of the module docstring, the lint, and local runs on
moto S3 (job submitted, polled, output read back, one record failed and listed), with the items
from the state or read from a JSON Lines, JSON or CSV object."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template
from syrupy.assertion import SnapshotAssertion

from lambdaless import BatchInference, BedrockModel, LambdalessError, S3Items, S3Path, Workflow
from lambdaless.analysis.batch import poll_schedule
from lambdaless.analysis.lint import lint_definition
from lambdaless.patterns import batch
from lambdaless.patterns.batch import default_records_per_file
from lambdaless.synthesized import LOCAL_PSEUDO_PARAMETERS, load
from lambdaless.testing import LocalRunner, mocks

Asl = Callable[[cdk.Stack], dict[str, Any]]
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
BUCKET = "batch-work"
JOB = "arn:aws:bedrock:us-east-1:111122223333:model-invocation-job/abcdefghijkl"


def _batch(stack: cdk.Stack, **options: Any) -> BatchInference:
    bucket = s3.Bucket.from_bucket_name(stack, "Work", BUCKET)
    args: dict[str, Any] = {
        "prompt": "{% 'Summarize: ' & $states.input %}",
        "model": HAIKU,
        "work": S3Path(bucket, "batch/"),
    }
    args.update(options)
    fragment = BatchInference(stack, "Summaries", **args)
    Workflow(stack, "W", definition=fragment, timeout=cdk.Duration.days(3))
    return fragment


def _from_s3(stack: cdk.Stack, kind: str = "jsonl", **options: Any) -> BatchInference:
    """A BatchInference reading its items from ``items/docs.<kind>`` of the work bucket."""
    items = s3.Bucket.from_bucket_name(stack, "Items", BUCKET)
    path = S3Path(items, f"items/docs.{kind}")
    reader = S3Items.csv(path) if kind == "csv" else getattr(S3Items, kind)(path)
    return _batch(stack, item_reader=options.pop("item_reader", reader), **options)


def _state(definition: dict[str, Any], name: str) -> dict[str, Any]:
    from lambdaless.analysis.asl import iter_states

    return dict(next(state for _, n, state in iter_states(definition) if n == name))


def test_snapshot(us_stack: cdk.Stack, asl: Asl, snapshot_json: SnapshotAssertion) -> None:
    _batch(us_stack, kms_key=kms.Key(us_stack, "Key"))
    definition = asl(us_stack)
    assert definition == snapshot_json
    assert definition["States"]["SummariesSubmit"]["Resource"] == (
        "arn:${AWS::Partition}:states:::aws-sdk:bedrock:createModelInvocationJob"
    )


def test_snapshot_items_from_s3(
    us_stack: cdk.Stack, asl: Asl, snapshot_json: SnapshotAssertion
) -> None:
    _from_s3(us_stack)
    assert asl(us_stack) == snapshot_json


@pytest.mark.parametrize("from_s3", [False, True], ids=["items", "item_reader"])
def test_no_lambda_and_no_lint_finding(us_stack: cdk.Stack, asl: Asl, from_s3: bool) -> None:
    if from_s3:
        _from_s3(us_stack)
    else:
        _batch(us_stack)
    resources = Template.from_stack(us_stack).to_json()["Resources"]
    assert [r for r in resources.values() if r["Type"].startswith("AWS::Lambda::")] == []
    assert ":lambda:" not in json.dumps(asl(us_stack))
    # the pattern's own structure raises nothing; the test model's lifecycle (Claude 3 Haiku,
    # a model-legacy warning on any date) is the lifecycle rules' (tests/rules)
    findings = lint_definition(asl(us_stack))
    assert [f for f in findings if f.rule != "model-legacy"] == []


def _arn(stack: cdk.Stack, text: str) -> Any:
    return stack.resolve(f"arn:{stack.partition}:{text}")


def _role_id(stack: cdk.Stack) -> str:
    roles = Template.from_stack(stack).find_resources("AWS::IAM::Role")
    return next(name for name in roles if name.startswith("SummariesBedrockRole"))


def test_state_machine_iam(us_stack: cdk.Stack, sm_statements: Any) -> None:
    _batch(us_stack)
    jobs = _arn(us_stack, "bedrock:us-east-1:111122223333:model-invocation-job/*")

    def objects(folder: str) -> Any:
        return _arn(us_stack, f"s3:::{BUCKET}/batch/{folder}/*")

    assert sm_statements(us_stack) == [
        {
            "Action": "bedrock:CreateModelInvocationJob",
            "Effect": "Allow",
            "Resource": [_arn(us_stack, f"bedrock:us-east-1::foundation-model/{HAIKU}"), jobs],
        },
        {
            "Action": "iam:PassRole",
            "Condition": {"StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}},
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [_role_id(us_stack), "Arn"]},
        },
        {"Action": "bedrock:GetModelInvocationJob", "Effect": "Allow", "Resource": jobs},
        # the output listing (the Read Map's ItemReader), then each folder's one action
        {
            "Action": "s3:ListBucket",
            "Condition": {"StringLike": {"s3:prefix": "batch/output/*"}},
            "Effect": "Allow",
            "Resource": _arn(us_stack, f"s3:::{BUCKET}"),
        },
        {"Action": "s3:GetObject", "Effect": "Allow", "Resource": objects("output")},
        {"Action": "s3:PutObject", "Effect": "Allow", "Resource": objects("results")},
        {"Action": "s3:PutObject", "Effect": "Allow", "Resource": objects("input")},
    ]


def test_state_machine_iam_items_from_s3(us_stack: cdk.Stack, sm_statements: Any) -> None:
    """The Write Map's ItemReader may read its one object, nothing else of the bucket."""
    _from_s3(us_stack)
    statements = sm_statements(us_stack)
    reads = [s for s in statements if s["Action"] == "s3:GetObject"]
    assert reads == [
        {
            "Action": "s3:GetObject",
            "Effect": "Allow",
            "Resource": _arn(us_stack, f"s3:::{BUCKET}/items/docs.jsonl"),
        },
        {
            "Action": "s3:GetObject",
            "Effect": "Allow",
            "Resource": _arn(us_stack, f"s3:::{BUCKET}/batch/output/*"),
        },
    ]
    listings = [s for s in statements if "s3:ListBucket" in json.dumps(s["Action"])]
    assert listings == [
        {
            "Action": "s3:ListBucket",
            "Condition": {"StringLike": {"s3:prefix": "batch/output/*"}},
            "Effect": "Allow",
            "Resource": _arn(us_stack, f"s3:::{BUCKET}"),
        }
    ]


def test_read_listing_is_limited_to_the_output_prefix(stack: cdk.Stack) -> None:
    """The Read Map lists the execution's output folder (its Prefix), and its s3:ListBucket
    holds only for prefixes under the output folder of ``work`` (s3:prefix)."""
    bucket = s3.Bucket(stack, "Work")
    fragment = BatchInference(
        stack, "B", prompt="p", model=HAIKU, work=S3Path(bucket, "jobs/nightly/")
    )
    Workflow(stack, "W", definition=fragment, timeout=cdk.Duration.days(3))
    policies = Template.from_stack(stack).find_resources("AWS::IAM::Policy")
    listings = [
        statement
        for policy in policies.values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Action"] == "s3:ListBucket"
    ]
    # the workflow's (conditioned) and the Bedrock service role's (Bedrock lists the input)
    assert [st.get("Condition") for st in listings] == [
        None,
        {"StringLike": {"s3:prefix": "jobs/nightly/output/*"}},
    ]
    arguments = load(stack)[0].definition["States"]["BRead"]["ItemReader"]["Arguments"]
    assert arguments["Prefix"] == (
        "{% \"jobs/nightly/output/\" & $states.context.Execution.Name & '/' %}"
    )


def test_items_from_s3_shape(stack: cdk.Stack) -> None:
    """Read from S3: an ItemReader on the object reading max_records + 1 items, each item kept
    with its index (ItemSelector), batched records_per_file a child with the execution name
    (ItemBatcher); the Count Choice follows the Write and counts the records written."""
    fragment = _from_s3(stack, min_records=3, max_records=10, records_per_file=2)
    definition = load(stack)[0].definition
    assert definition["StartAt"] == "SummariesWrite"
    write = definition["States"]["SummariesWrite"]
    assert write["ItemReader"]["ReaderConfig"] == {"InputType": "JSONL", "MaxItems": 11}
    assert write["ItemSelector"] == {
        "index": "{% $states.context.Map.Item.Index %}",
        "value": "{% $states.context.Map.Item.Value %}",
    }
    assert write["ItemBatcher"] == {
        "MaxItemsPerBatch": 2,
        "BatchInput": {"run": "{% $states.context.Execution.Name %}"},
    }
    assert "Items" not in write
    assert write["Next"] == "SummariesCount"
    assert "lambdaless:max-items=6 " in write["Comment"]  # ceil(11 / 2) children
    count = definition["States"]["SummariesCount"]
    assert [c["Condition"] for c in count["Choices"]] == [
        "{% $summariesWritten < 3 %}",
        "{% $summariesWritten > 10 %}",
    ]
    assert count["Default"] == "SummariesSubmit"
    assert fragment.start_state is fragment.write


def test_items_from_s3_fail_as_from_the_state(app: cdk.App) -> None:
    """Too few or too many records fail with the same errors and causes from either source."""
    stacks = [cdk.Stack(app, "FromState"), cdk.Stack(app, "FromS3")]
    _batch(stacks[0], min_records=3, max_records=10, records_per_file=2)
    _from_s3(stacks[1], min_records=3, max_records=10, records_per_file=2)
    fails = [
        {k: v for k, v in load(stack)[0].definition["States"].items() if v["Type"] == "Fail"}
        for stack in stacks
    ]
    assert fails[0] == fails[1]
    assert set(fails[0]) >= {"SummariesTooFewRecords", "SummariesTooManyRecords"}


@pytest.mark.parametrize(
    ("max_items", "read"), [(None, 50_001), (20_000, 20_000), (80_000, 50_001)]
)
def test_reader_reads_one_more_than_max_records(
    stack: cdk.Stack, max_items: int | None, read: int
) -> None:
    """MaxItems is max_records + 1, or the S3Items' own smaller max_items (which then bounds
    the run: nothing beyond it is read, as in FanOut)."""
    bucket = s3.Bucket.from_bucket_name(stack, "Items", BUCKET)
    reader = S3Items.json(S3Path(bucket, "items.json"), max_items=max_items)
    _batch(stack, item_reader=reader)
    write = load(stack)[0].definition["States"]["SummariesWrite"]
    assert write["ItemReader"]["ReaderConfig"]["MaxItems"] == read


@pytest.mark.parametrize("kind", ["json", "jsonl", "csv"])
def test_child_writes_the_same_records_from_either_source(app: cdk.App, kind: str) -> None:
    """A Write child's Key and Body (JSONata, evaluated): the S3 source's batch
    {BatchInput, Items: [{index, value}]} gives the same file as the state's {items, first,
    run}: record ids are the items' indexes, unique and in order."""
    import jsonata  # type: ignore[import-untyped]

    def child(definition: dict[str, Any], states_input: dict[str, Any]) -> tuple[str, str]:
        task = _state(definition, "SummariesWriteFile")
        key, body = (task["Arguments"][k][2:-2] for k in ("Key", "Body"))
        env = {"states": {"input": states_input}}
        return (
            jsonata.Jsonata(key).evaluate(None, env),
            jsonata.Jsonata(body).evaluate(None, env),
        )

    stack, s3_stack = cdk.Stack(app, "FromState"), cdk.Stack(app, "FromS3")
    _batch(stack, records_per_file=2, min_records=3, max_records=100)
    _from_s3(s3_stack, kind, records_per_file=2, min_records=3, max_records=100)
    items = ["gamma", {"name": "delta"}]
    from_state = child(load(stack)[0].definition, {"items": items, "first": 12, "run": "r-1"})
    from_s3 = child(
        load(s3_stack)[0].definition,
        {
            "BatchInput": {"run": "r-1"},
            "Items": [{"index": 12, "value": items[0]}, {"index": 13, "value": items[1]}],
        },
    )
    assert from_s3 == from_state
    key, body = from_s3
    assert key == "batch/input/r-1/00000000012.jsonl"
    records = [json.loads(line) for line in body.split("\n")]
    assert [r["recordId"] for r in records] == ["00000000012", "00000000013"]
    assert records[0]["modelInput"]["messages"][0]["content"][0]["text"] == "Summarize: gamma"


@pytest.mark.parametrize("kind", ["json", "jsonl", "csv"])
def test_inspect_counts_items_from_s3_alike(us_stack: cdk.Stack, kind: str) -> None:
    """inspect finds records_per_file in the ItemBatcher: the same prices and counts as from
    the state."""
    from lambdaless.analysis.batch import batch_cost, batch_jobs

    _from_s3(us_stack, kind)
    (job,) = batch_jobs(load(us_stack)[0].definition)
    assert (job.max_tokens, job.records_per_file, job.first_poll, job.max_poll) == (
        1024,
        19,
        60,
        900,
    )
    priced = batch_cost(job, items=10_000, input_tokens=1_000, output_tokens=200)
    assert priced.transitions == 6 + 527 * 4 + 2 + 99 * 3
    assert priced.parent_events == 25 + 99 * 9


def test_service_role_trust_and_scope(us_stack: cdk.Stack) -> None:
    _batch(us_stack, kms_key=kms.Key(us_stack, "Key"))
    template = Template.from_stack(us_stack)
    role = template.find_resources("AWS::IAM::Role")[_role_id(us_stack)]
    jobs = _arn(us_stack, "bedrock:us-east-1:111122223333:model-invocation-job/*")
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": "111122223333"},
                "ArnEquals": {"aws:SourceArn": jobs},
            },
            "Effect": "Allow",
            "Principal": {"Service": "bedrock.amazonaws.com"},
        }
    ]
    policies = template.find_resources("AWS::IAM::Policy")
    policy = next(p for name, p in policies.items() if name.startswith("SummariesBedrockRole"))
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert [(s["Action"], s["Resource"]) for s in statements[:3]] == [
        ("s3:GetObject", _arn(us_stack, f"s3:::{BUCKET}/batch/input/*")),
        ("s3:ListBucket", _arn(us_stack, f"s3:::{BUCKET}")),
        (["s3:GetObject", "s3:PutObject"], _arn(us_stack, f"s3:::{BUCKET}/batch/output/*")),
    ]
    assert statements[3]["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]


def test_profile_grants_the_role_its_routes(us_stack: cdk.Stack) -> None:
    _batch(us_stack, model=BedrockModel.cross_region_profile("us." + HAIKU))
    policies = Template.from_stack(us_stack).find_resources("AWS::IAM::Policy")
    policy = next(p for name, p in policies.items() if name.startswith("SummariesBedrockRole"))
    actions = [s["Action"] for s in policy["Properties"]["PolicyDocument"]["Statement"]]
    assert actions.count("bedrock:InvokeModel") >= 2  # the profile, then its routed models


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"model": "arn:aws:bedrock:us-east-1:111122223333:provisioned-model/abc123"},
            r"model=.*provisioned models \[rule batch-model;",
        ),
        ({"model": "amazon.titan-embed-text-v2:0"}, r"rule batch-model;"),
        ({"min_records": 0}, r"min_records=0 .*\[rule batch-records;"),
        ({"min_records": 200, "max_records": 100}, r"max_records=100 .*\[rule batch-records;"),
        ({"records_per_file": 0}, r"records_per_file=0 .*\[rule batch-records;"),
        ({"records_per_file": 2}, r"records_per_file=2 .*at least 8 for max_records=50000"),
        ({"job_timeout_hours": 23}, r"job_timeout_hours=23 .*\[rule batch-job-timeout;"),
        ({"job_timeout_hours": 169}, r"job_timeout_hours=169 .*\[rule batch-job-timeout;"),
        ({"work": "s3://b/k/"}, r"work='s3://b/k/'"),
        ({"items": "$.items"}, r"items='\$.items'"),
        ({"item_reader": "s3://b/items.jsonl"}, r"item_reader='s3://b/items.jsonl' .*S3Items"),
        (
            {
                "first_poll": cdk.Duration.seconds(120),
                "max_poll_interval": cdk.Duration.seconds(60),
            },
            r"max_poll_interval=60 .*at least first_poll",
        ),
        ({"max_concurrency": 0}, r"max_concurrency=0"),
    ],
)
def test_refused(stack: cdk.Stack, options: dict[str, Any], message: str) -> None:
    with pytest.raises(LambdalessError, match=message):
        _batch(stack, **options)


def test_items_and_item_reader_are_exclusive(stack: cdk.Stack) -> None:
    with pytest.raises(LambdalessError, match=r"items/item_reader=.* one of the two"):
        _from_s3(stack, items="{% $states.input.documents %}")


def test_items_from_s3_bound_max_records(stack: cdk.Stack) -> None:
    with pytest.raises(
        LambdalessError, match=r"max_records=100000000 .*item_reader=.*\[rule batch-records;"
    ):
        _from_s3(stack, max_records=100_000_000, records_per_file=1000)


def test_work_prefix_must_end_with_slash(stack: cdk.Stack) -> None:
    bucket = s3.Bucket.from_bucket_name(stack, "Work", BUCKET)
    with pytest.raises(LambdalessError, match=r"work='batch' .*ending in '/'"):
        BatchInference(stack, "B", prompt="p", model=HAIKU, work=S3Path(bucket, "batch"))


def test_docstring_polling_numbers() -> None:
    """The module docstring's figures for a 24-hour job are what the schedule gives."""
    waits = poll_schedule(60, 900, 24 * 3600)
    transitions = 3 * len(waits)
    text = " ".join((batch.__doc__ or "").split())
    assert f"gives {len(waits)} polls: {transitions} billed transitions" in text
    assert f"(US${transitions * 0.025 / 1000:.4f} at US$0.025 per 1,000)" in text
    assert f"{9 * len(waits)} history events in the parent" in text
    assert f"{9 * len(waits) / 25_000:.1%} of the 25,000 limit" in text
    assert waits[:6] == [60, 120, 240, 480, 900, 900]


def test_records_per_file_budget() -> None:
    assert default_records_per_file(1024) == 19
    assert default_records_per_file(64_000) == 1
    assert default_records_per_file(1) == 95  # the per-record budget dominates


def test_lint_checks_declared_inline_outputs() -> None:
    child = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    distributed = {"ProcessorConfig": {"Mode": "DISTRIBUTED"}, **child}

    def definition(comment: str) -> dict[str, Any]:
        return {
            "StartAt": "M",
            "States": {
                "M": {"Type": "Map", "Comment": comment, "ItemProcessor": distributed, "End": True}
            },
        }

    def rules(comment: str) -> list[tuple[str, str]]:
        return [(f.rule, f.severity) for f in lint_definition(definition(comment))]

    assert rules("") == [("payload-size", "warning")]
    assert rules("lambdaless:max-items=100 lambdaless:max-item-output-bytes=40") == []
    assert rules("lambdaless:max-items=10000 lambdaless:max-item-output-bytes=40") == [
        ("payload-size", "error")
    ]


# -- local runs on moto S3 ------------------------------------------------------------------


@pytest.fixture
def bucket() -> Iterator[Any]:
    import boto3
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("s3", region_name=LOCAL_PSEUDO_PARAMETERS["AWS::Region"])
        client.create_bucket(Bucket=BUCKET)
        yield client


def _answer(record_id: str, text: str) -> dict[str, Any]:
    return {
        "recordId": record_id,
        "modelInput": {},
        "modelOutput": {
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "usage": {"input_tokens": 7, "output_tokens": 3},
        },
    }


def _job_output(client: Any, run: str) -> None:
    """What Bedrock writes for five records in files of two, the fourth record failed."""
    files = {
        "00000000000": [_answer("00000000000", "one"), _answer("00000000001", "two")],
        "00000000002": [
            _answer("00000000002", "three"),
            {
                "recordId": "00000000003",
                "modelInput": {},
                "error": {"errorCode": 400, "errorMessage": "Malformed input request"},
            },
        ],
        "00000000004": [_answer("00000000004", "five")],
    }
    folder = f"batch/output/{run}/abcdefghijkl/"
    for name, records in files.items():
        body = "\n".join(json.dumps(r) for r in records) + "\n"
        client.put_object(Bucket=BUCKET, Key=f"{folder}{name}.jsonl.out", Body=body)
    manifest = {"totalRecordCount": 5, "successRecordCount": 4, "errorRecordCount": 1}
    client.put_object(Bucket=BUCKET, Key=f"{folder}manifest.json.out", Body=json.dumps(manifest))


def _small(stack: cdk.Stack) -> LocalRunner:
    # The minimum is the account's quota for the model (min_records=): a small job needs an
    # account whose quota allows it, as a test does here.
    _batch(stack, min_records=3, max_records=10, records_per_file=2)
    return LocalRunner(stack, passthrough=True)


ITEMS = {"items": ["alpha", "beta", "gamma", "delta", "epsilon"]}


def test_local_run_end_to_end(stack: cdk.Stack, bucket: Any) -> None:
    runner = _small(stack)
    _job_output(bucket, "run-1")
    result = runner.run(
        input=ITEMS,
        execution_name="run-1",
        responses={
            "SummariesSubmit": mocks.Return({"JobArn": JOB}),
            "SummariesPoll": [
                mocks.Return({"Status": "Validating"}),
                mocks.Return({"Status": "InProgress"}),
                mocks.Return({"Status": "Completed"}),
            ],
        },
        timeout_seconds=120,
    )
    assert result.status == "SUCCEEDED", result.cause
    assert result.output == {
        "jobArn": JOB,
        "records": 5,
        "results": 4,
        "failures": 1,
        "resultsAt": f"s3://{BUCKET}/batch/results/run-1/",
        "manifest": {"total": 5, "errors": 1},
    }
    assert result.wait_delays == [60, 120, 240]
    submitted = next(c for c in result.calls if c.state == "SummariesSubmit").arguments
    assert submitted["InputDataConfig"]["S3InputDataConfig"] == {
        "S3Uri": f"s3://{BUCKET}/batch/input/run-1/",
        "S3InputFormat": "JSONL",
    }
    assert submitted["OutputDataConfig"]["S3OutputDataConfig"]["S3Uri"] == (
        f"s3://{BUCKET}/batch/output/run-1/"
    )
    assert re.fullmatch(r"Summaries-[0-9a-f-]{36}", submitted["JobName"])

    written = bucket.get_object(Bucket=BUCKET, Key="batch/input/run-1/00000000002.jsonl")
    lines = [json.loads(line) for line in written["Body"].read().decode().splitlines()]
    assert [line["recordId"] for line in lines] == ["00000000002", "00000000003"]
    assert lines[1]["modelInput"]["messages"][0]["content"][0]["text"] == "Summarize: delta"
    assert lines[1]["modelInput"]["anthropic_version"] == "bedrock-2023-05-31"

    saved = bucket.get_object(Bucket=BUCKET, Key="batch/results/run-1/00000000002.json")
    assert json.loads(saved["Body"].read()) == {
        "results": [
            {
                "recordId": "00000000002",
                "text": "three",
                "stopReason": "end_turn",
                "usage": {"inputTokens": 7, "outputTokens": 3},
            }
        ],
        "failures": [
            {
                "recordId": "00000000003",
                "error": {"errorCode": 400, "errorMessage": "Malformed input request"},
            }
        ],
    }


def test_local_run_lost_records_fail(stack: cdk.Stack, bucket: Any) -> None:
    runner = _small(stack)
    _job_output(bucket, "run-2")
    bucket.delete_object(Bucket=BUCKET, Key="batch/output/run-2/abcdefghijkl/00000000004.jsonl.out")
    result = runner.run(
        input=ITEMS,
        execution_name="run-2",
        responses={
            "SummariesSubmit": mocks.Return({"JobArn": JOB}),
            "SummariesPoll": mocks.Return({"Status": "PartiallyCompleted"}),
        },
        timeout_seconds=120,
    )
    assert (result.status, result.error) == ("FAILED", "BatchInference.RecordsLost")
    assert result.cause == "wrote 5 records, read back 3 answers and 1 failures"


@pytest.mark.parametrize("status", ["Failed", "Stopped", "Expired"])
def test_local_run_job_failed(stack: cdk.Stack, bucket: Any, status: str) -> None:
    result = _small(stack).run(
        input=ITEMS,
        responses={
            "SummariesSubmit": mocks.Return({"JobArn": JOB}),
            "SummariesPoll": mocks.Return({"Status": status, "Message": "role cannot read"}),
        },
        timeout_seconds=120,
    )
    assert (result.status, result.error) == ("FAILED", "BatchInference.JobFailed")
    assert result.cause == f"batch job {JOB} ended {status}: role cannot read"


def test_local_run_refuses_too_few_items_at_start(stack: cdk.Stack) -> None:
    result = _small(stack).run(input={"items": ["a", "b"]})
    assert (result.status, result.error) == ("FAILED", "BatchInference.TooFewRecords")
    assert "run them with FanOut" in str(result.cause)
    assert result.calls == []


def test_polls_are_bounded(stack: cdk.Stack) -> None:
    fragment = _batch(stack)
    definition = load(stack)[0].definition
    assert fragment.max_polls == len(poll_schedule(60, 900, 25 * 3600))
    assert (
        f"lambdaless:max-iterations={fragment.max_polls}"
        in (definition["States"]["SummariesWait"]["Comment"])
    )
    condition = definition["States"]["SummariesStatus"]["Choices"][2]["Condition"]
    assert condition == f"{{% $summariesPolls >= {fragment.max_polls} %}}"


def test_inspect_prices_the_job_at_the_batch_rate(us_stack: cdk.Stack) -> None:
    """Acceptance: the batch model cost per 1,000 items is at most half the on-demand cost of
    the same items, from the dated price table; the orchestration cost is stated."""
    from lambdaless.analysis.batch import batch_cost, batch_jobs
    from lambdaless.analysis.cost import cost
    from lambdaless.analysis.lint import lint
    from lambdaless.cli import render_inspect

    _batch(us_stack)
    machine = load(us_stack)[0]
    (job,) = batch_jobs(machine.definition)
    assert (job.state, job.max_tokens, job.records_per_file) == ("SummariesSubmit", 1024, 19)
    assert (job.first_poll, job.max_poll) == (60, 900)
    priced = batch_cost(job, items=10_000, input_tokens=1_000, output_tokens=200)
    assert priced.batch_per_1000 <= 0.5 * priced.on_demand_per_1000
    assert priced.transitions == 6 + 527 * 4 + 2 + 99 * 3
    assert priced.parent_events == 25 + 99 * 9
    text = render_inspect(machine, cost(machine), lint(machine))
    (line,) = [line for line in text.splitlines() if "batch inference SummariesSubmit" in line]
    assert f"SummariesSubmit ({HAIKU})," in line  # the model's id, not its ARN's placeholders
    assert "at the batch rate vs" in text
    assert "(0.50x); orchestration $" in text


def test_transition_count_matches_a_local_run(stack: cdk.Stack, bucket: Any) -> None:
    from lambdaless.analysis.batch import batch_jobs

    runner = _small(stack)
    _job_output(bucket, "run-3")
    result = runner.run(
        input=ITEMS,
        execution_name="run-3",
        responses={
            "SummariesSubmit": mocks.Return({"JobArn": JOB}),
            "SummariesPoll": [
                mocks.Return({"Status": "InProgress"}),
                mocks.Return({"Status": "Completed"}),
            ],
        },
        timeout_seconds=120,
    )
    (job,) = batch_jobs(runner.state_machine().definition)
    # The runner reports the parent execution; the Maps' children have their own histories.
    assert result.billed_transitions == job.parent_transitions(2) == 12
    assert len(result.history) == job.parent_events(2) == 43
    assert job.transitions(5, polls=2) == 12 + 3 * 1 + 3 * 3 + 2  # + WriteFile, read children


# -- local runs, items read from S3 (ItemReader, ItemBatcher) ----------------------------------

WORDS = ["alpha", "beta", "gamma", "delta", "epsilon"]


def _put_items(client: Any, kind: str, words: list[str]) -> None:
    """The items as an S3 object: JSON Lines, a JSON array, or CSV with a header row."""
    if kind == "jsonl":
        body = "".join(json.dumps(w) + "\n" for w in words)
    elif kind == "json":
        body = json.dumps(words)
    else:
        body = "text\n" + "".join(w + "\n" for w in words)
    client.put_object(Bucket=BUCKET, Key=f"items/docs.{kind}", Body=body)


def _small_from_s3(stack: cdk.Stack, kind: str) -> LocalRunner:
    # CSV items are rows keyed by the header: the prompt names the column
    item = "$states.input.text" if kind == "csv" else "$states.input"
    _from_s3(
        stack,
        kind,
        prompt="{% 'Summarize: ' & " + item + " %}",
        min_records=3,
        max_records=10,
        records_per_file=2,
    )
    return LocalRunner(stack, passthrough=True)


@pytest.mark.parametrize("kind", ["jsonl", "json", "csv"])
def test_local_run_items_from_s3_end_to_end(stack: cdk.Stack, bucket: Any, kind: str) -> None:
    """The object read by the Write Map's ItemReader, batched two a child by its ItemBatcher:
    the same files, record ids, job and answers as from the state."""
    runner = _small_from_s3(stack, kind)
    _put_items(bucket, kind, WORDS)
    _job_output(bucket, "run-s3")
    result = runner.run(
        input={},
        execution_name="run-s3",
        responses={
            "SummariesSubmit": mocks.Return({"JobArn": JOB}),
            "SummariesPoll": [
                mocks.Return({"Status": "InProgress"}),
                mocks.Return({"Status": "Completed"}),
            ],
        },
        timeout_seconds=120,
    )
    assert result.status == "SUCCEEDED", result.cause
    assert result.output == {
        "jobArn": JOB,
        "records": 5,
        "results": 4,
        "failures": 1,
        "resultsAt": f"s3://{BUCKET}/batch/results/run-s3/",
        "manifest": {"total": 5, "errors": 1},
    }
    assert result.states[:3] == ["SummariesWrite", "SummariesCount", "SummariesSubmit"]
    listed = bucket.list_objects_v2(Bucket=BUCKET, Prefix="batch/input/run-s3/")
    assert [o["Key"].rsplit("/", 1)[1] for o in listed["Contents"]] == [
        "00000000000.jsonl",
        "00000000002.jsonl",
        "00000000004.jsonl",
    ]
    records = []
    for o in listed["Contents"]:
        body = bucket.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read().decode()
        records += [json.loads(line) for line in body.splitlines()]
    assert [r["recordId"] for r in records] == [f"{i:011d}" for i in range(5)]
    texts = [r["modelInput"]["messages"][0]["content"][0]["text"] for r in records]
    assert texts == [f"Summarize: {w}" for w in WORDS]
    # inspect's counts hold for this source too (the parent's share; children bill their own)
    from lambdaless.analysis.batch import batch_jobs

    (job,) = batch_jobs(runner.state_machine().definition)
    assert job.records_per_file == 2
    assert result.billed_transitions == job.parent_transitions(2) == 12
    assert len(result.history) == job.parent_events(2) == 43


@pytest.mark.parametrize(
    ("words", "error", "cause"),
    [
        (
            WORDS[:2],
            "BatchInference.TooFewRecords",
            "fewer items than min_records=3, the model's 'Minimum number of records per batch "
            "inference job': run them with FanOut",
        ),
        (
            [f"w{i}" for i in range(25)],
            "BatchInference.TooManyRecords",
            "more items than max_records=10, the model's 'Records per batch inference job': "
            "split them into several runs",
        ),
    ],
    ids=["too-few", "too-many"],
)
def test_local_run_items_from_s3_counted_before_the_job(
    stack: cdk.Stack, bucket: Any, words: list[str], error: str, cause: str
) -> None:
    """Read from S3, the records are counted once written: too few or too many fail the run
    with the causes of the state source, and no job is submitted. Of 25 items only
    max_records + 1 = 11 are read."""
    runner = _small_from_s3(stack, "jsonl")
    _put_items(bucket, "jsonl", words)
    result = runner.run(input={}, execution_name="run-count", timeout_seconds=120)
    assert (result.status, result.error, result.cause) == ("FAILED", error, cause)
    assert result.states == [
        "SummariesWrite",
        "SummariesCount",
        "Summaries" + error.removeprefix("BatchInference."),
    ]
    assert [c.state for c in result.calls if c.state == "SummariesSubmit"] == []
    listed = bucket.list_objects_v2(Bucket=BUCKET, Prefix="batch/input/run-count/")
    written = sum(
        len(bucket.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read().splitlines())
        for o in listed.get("Contents", [])
    )
    assert written == min(len(words), 11)
