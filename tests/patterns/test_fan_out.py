"""FanOut: the quota formula against hand-computed numbers, limits, snapshots, IAM, and local
runs, including the acceptance run of 1,000 items with two failing for good."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from syrupy.assertion import SnapshotAssertion

from lambdaless import (
    BedrockModel,
    FanOut,
    Inference,
    InvokeBedrock,
    LambdalessError,
    ModelQuota,
    QuotaKind,
    S3Items,
    S3Path,
    Workflow,
)
from lambdaless.quotas import concurrency_for_quota, output_burndown_for
from lambdaless.testing import LocalRunner, mocks

Asl = Callable[[cdk.Stack], dict[str, Any]]
NOVA = "amazon.nova-lite-v1:0"
PROMPT = "{% 'Summarize: ' & $states.input.text %}"


# -- the formula ---------------------------------------------------------------------------------


def test_concurrency_from_quota_matches_the_hand_computed_number() -> None:
    # Nova (burndown 1), max_tokens 1,024 (Inference's default): the reservation 976 + 1,024 =
    # 2,000 binds; 200,000 / 2,000 = 100 calls/min < 500 requests/min; 100 / 60 x 12 s = 20.
    quota = ModelQuota(
        requests_per_minute=500,
        tokens_per_minute=200_000,
        input_tokens=976,
        output_tokens=300,
        latency_seconds=12,
    )
    assert quota.reservation(max_tokens=1024) == 2_000
    assert quota.settlement(max_tokens=1024, model_id=NOVA) == 1_276
    assert quota.max_concurrency(max_tokens=1024, model_id=NOVA) == 20


CLAUDE_4 = "anthropic.claude-sonnet-4-20250514-v1:0"


def test_claude_5x_burndown_with_max_tokens_1024_against_the_aws_page() -> None:
    # Bedrock user guide, "How tokens are counted in Amazon Bedrock" (quotas-token-burndown):
    # a call reserves input + max_tokens when it starts, and settles at input + 5 x output
    # for Claude Sonnet 4 (burndown 5x for output tokens).
    assert output_burndown_for(CLAUDE_4) == 5.0
    assert BedrockModel.of("us." + CLAUDE_4).foundation_model_id == CLAUDE_4
    assert output_burndown_for("anthropic.claude-3-5-haiku-20241022-v1:0") == 1.0
    assert output_burndown_for(NOVA) == 1.0
    short = ModelQuota(
        tokens_per_minute=200_000, input_tokens=1_000, output_tokens=100, latency_seconds=12
    )
    # Reservation 1,000 + 1,024 = 2,024 > settlement 1,000 + 5 x 100 = 1,500: the reservation
    # binds: 200,000 / 2,024 = 98.8 calls/min x 12 / 60 = 19.8 -> 19 in flight.
    assert short.reservation(max_tokens=1024) == 2_024
    assert short.settlement(max_tokens=1024, model_id=CLAUDE_4) == 1_500
    assert short.max_concurrency(max_tokens=1024, model_id=CLAUDE_4) == 19
    # 400 output tokens settle at 1,000 + 5 x 400 = 3,000 > 2,024: the burndown binds:
    # 200,000 / 3,000 = 66.7 calls/min -> 13.3 -> 13 (the old tokens_per_item of 1,400 gave 28).
    long = ModelQuota(
        tokens_per_minute=200_000, input_tokens=1_000, output_tokens=400, latency_seconds=12
    )
    assert long.max_concurrency(max_tokens=1024, model_id=CLAUDE_4) == 13
    # Unknown output: the worst case, every call writes max_tokens: 1,000 + 5 x 1,024 = 6,120.
    worst = ModelQuota(tokens_per_minute=200_000, input_tokens=1_000, latency_seconds=12)
    assert worst.call_tokens(max_tokens=1024, model_id=CLAUDE_4) == 6_120
    assert worst.max_concurrency(max_tokens=1024, model_id=CLAUDE_4) == 6
    # The user's own rate wins over the table.
    assert (
        worst.__class__(
            tokens_per_minute=200_000, input_tokens=1_000, latency_seconds=12, output_burndown=1
        ).max_concurrency(max_tokens=1024, model_id=CLAUDE_4)
        == 19
    )


def test_quota_kinds_follow_the_model() -> None:
    assert QuotaKind.of(BedrockModel.of(NOVA)) is QuotaKind.ON_DEMAND
    assert QuotaKind.of(BedrockModel.of("us." + CLAUDE_4)) is QuotaKind.CROSS_REGION
    assert QuotaKind.CROSS_REGION.value.startswith("Cross-Region InvokeModel tokens per minute")


@pytest.mark.parametrize(
    ("rpm", "tpm", "tokens", "latency", "expected"),
    [
        (60, 1_000_000, 100, 30, 30),  # requests bind: 60/min = 1/s x 30 s
        (400, 200_000, 1_500, 6, 13),  # 133.3/min -> 2.22/s x 6 s = 13.3 -> 13
        (10, 10_000, 5_000, 1, 1),  # 2/min x 1 s = 0.03 -> at least 1
        (None, 10_000, 5_000, 60, 2),  # no RPM quota: 10,000 / 5,000 = 2/min x 60 s = 2
    ],
)
def test_concurrency_formula_cases(
    rpm: float | None, tpm: float, tokens: int, latency: float, expected: int
) -> None:
    # input 0 and max_tokens = the whole call: the reservation is the call's tokens
    assert (
        concurrency_for_quota(
            requests_per_minute=rpm,
            tokens_per_minute=tpm,
            input_tokens=0,
            max_tokens=tokens,
            latency_seconds=latency,
        )
        == expected
    )


def test_quota_figures_must_be_positive() -> None:
    with pytest.raises(LambdalessError, match="tokens_per_minute=0"):
        ModelQuota(tokens_per_minute=0, input_tokens=1, latency_seconds=1)
    with pytest.raises(LambdalessError, match="input_tokens=-1"):
        ModelQuota(tokens_per_minute=1, input_tokens=-1, latency_seconds=1)
    with pytest.raises(LambdalessError, match="max_tokens=0"):
        ModelQuota(tokens_per_minute=1, input_tokens=1, latency_seconds=1).reservation(max_tokens=0)


def test_the_map_gets_the_derived_concurrency(stack: cdk.Stack, asl: Asl) -> None:
    quota = ModelQuota(
        requests_per_minute=500,
        tokens_per_minute=200_000,
        input_tokens=976,
        latency_seconds=12,
    )
    fan = FanOut(stack, "Summaries", prompt=PROMPT, model=NOVA, quota=quota)
    Workflow(stack, "W", definition=fan)
    assert fan.max_concurrency == 20
    assert asl(stack)["States"]["Summaries"]["MaxConcurrency"] == 20


def test_the_quota_reads_max_tokens_from_the_step(stack: cdk.Stack) -> None:
    quota = ModelQuota(tokens_per_minute=200_000, input_tokens=1_000, latency_seconds=12)
    step = InvokeBedrock(
        stack, "S", model="us." + CLAUDE_4, prompt=PROMPT, inference=Inference(max_tokens=200)
    )
    # 1,000 + 5 x 200 = 2,000 -> 100/min -> 20
    assert FanOut(stack, "F", step=step, quota=quota).max_concurrency == 20
    raw = InvokeBedrock(stack, "R", model=NOVA, body={"x": 1})
    with pytest.raises(LambdalessError, match="its max_tokens"):
        FanOut(stack, "G", step=raw, quota=quota)


# -- limits -------------------------------------------------------------------------------------


def test_inline_concurrency_from_a_quota_is_capped_at_40(stack: cdk.Stack) -> None:
    big = ModelQuota(
        requests_per_minute=6_000,
        tokens_per_minute=10_000_000,
        input_tokens=0,
        latency_seconds=10,
    )
    assert big.max_concurrency(max_tokens=1024) == 1_000  # the 6,000 requests bind
    assert FanOut(stack, "F", prompt=PROMPT, model=NOVA, quota=big).max_concurrency == 40
    assert (
        FanOut(stack, "D", prompt=PROMPT, model=NOVA, quota=big, distributed=True).max_concurrency
        == 1_000
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_concurrency": 41}, "from 1 to 40 for an inline Map"),
        ({"max_concurrency": 10_001, "distributed": True}, "from 1 to 10000 for a Distributed"),
        ({"max_concurrency": 0}, "max_concurrency=0"),
        ({}, "exactly one: unbounded concurrency"),
        ({"max_concurrency": 5, "tolerated_failure_percentage": 5}, "Distributed Map setting"),
        (
            {"max_concurrency": 5, "distributed": True, "tolerated_failure_percentage": 101},
            "from 0 to 100",
        ),
        ({"max_concurrency": 5, "items": "$.items"}, "items="),
        ({"max_concurrency": 5, "express_children": True}, "express_children"),
    ],
)
def test_bad_options_are_refused(stack: cdk.Stack, options: dict[str, Any], message: str) -> None:
    with pytest.raises(LambdalessError, match=message):
        FanOut(stack, "F", prompt=PROMPT, model=NOVA, **options)


def test_quota_over_10000_distributed_is_refused(stack: cdk.Stack) -> None:
    huge = ModelQuota(tokens_per_minute=1e9, input_tokens=0, latency_seconds=60)
    with pytest.raises(LambdalessError, match="at most 10000 concurrent items"):
        FanOut(stack, "F", prompt=PROMPT, model=NOVA, quota=huge, distributed=True)


def test_prompt_or_step(stack: cdk.Stack) -> None:
    with pytest.raises(LambdalessError, match="exactly one of the two"):
        FanOut(stack, "F", max_concurrency=1)
    step = InvokeBedrock(stack, "S", model=NOVA, prompt="x")
    with pytest.raises(LambdalessError, match="None with step="):
        FanOut(stack, "G", step=step, model=NOVA, max_concurrency=1)


# -- snapshots and IAM --------------------------------------------------------------------------


def test_inline_snapshot(stack: cdk.Stack, asl: Asl, snapshot_json: SnapshotAssertion) -> None:
    fan = FanOut(stack, "Summaries", prompt=PROMPT, model=NOVA, max_concurrency=8)
    Workflow(stack, "W", definition=fan)
    assert asl(stack) == snapshot_json


def test_distributed_s3_snapshot_and_iam(
    us_stack: cdk.Stack, asl: Asl, snapshot_json: SnapshotAssertion, sm_statements: Any
) -> None:
    bucket = s3.Bucket(us_stack, "Docs")
    fan = FanOut(
        us_stack,
        "Summaries",
        prompt=PROMPT,
        model=NOVA,
        item_reader=S3Items.csv(S3Path(bucket, "in/docs.csv")),
        results_to=S3Path(bucket, "summaries/"),
        max_concurrency=200,
        tolerated_failure_percentage=2,  # asl-validator 4.0.0 misreads a decimal: see UNSETTLED
        express_children=True,
    )
    Workflow(us_stack, "W", definition=fan)
    definition = asl(us_stack)
    assert definition == snapshot_json
    state = definition["States"]["Summaries"]
    assert state["ItemProcessor"]["ProcessorConfig"] == {
        "Mode": "DISTRIBUTED",
        "ExecutionType": "EXPRESS",
    }
    # Results go to S3 (AWS docs, "input-output-resultwriter"); the Map passes AWS's summary on.
    assert state["ResultWriter"] == {
        "Resource": "arn:${AWS::Partition}:states:::s3:putObject",
        "Arguments": {"Bucket": state["ItemReader"]["Arguments"]["Bucket"], "Prefix": "summaries/"},
    }
    assert "Output" not in state
    actions = [s["Action"] for s in sm_statements(us_stack)]
    assert "bedrock:InvokeModel" in actions
    assert "s3:GetObject" in actions
    # ResultWriter's S3 actions under the prefix only, not the whole bucket.
    (writer,) = [s for s in sm_statements(us_stack) if "s3:PutObject" in s["Action"]]
    assert writer["Action"] == [
        "s3:PutObject",
        "s3:GetObject",
        "s3:ListMultipartUploadParts",
        "s3:AbortMultipartUpload",
    ]
    bucket_id = us_stack.resolve(bucket.bucket_arn)["Fn::GetAtt"][0]
    assert us_stack.resolve(writer["Resource"]) == {
        "Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, "/summaries/*"]]
    }


def test_items_from_s3_need_a_result_writer(stack: cdk.Stack) -> None:
    """Items read from S3 are unbounded, so are their inline results: refused without
    results_to (over 256 KiB, States.DataLimitExceeded loses every result)."""
    bucket = s3.Bucket(stack, "Docs")
    reader = S3Items.json(S3Path(bucket, "in/docs.json"))
    with pytest.raises(LambdalessError, match=r"results_to=None .*item_reader"):
        FanOut(stack, "F", prompt=PROMPT, model=NOVA, item_reader=reader, max_concurrency=5)
    with pytest.raises(LambdalessError, match=r"results_to=.*inline Map"):
        FanOut(
            stack,
            "G",
            prompt=PROMPT,
            model=NOVA,
            max_concurrency=5,
            results_to=S3Path(bucket, "out/"),
        )


@pytest.mark.parametrize("kind", ["json", "jsonl"])
def test_item_reader_formats(us_stack: cdk.Stack, asl: Asl, kind: str) -> None:
    bucket = s3.Bucket(us_stack, "Docs")
    path = S3Path(bucket, f"in/docs.{kind}")
    reader = S3Items.json(path) if kind == "json" else S3Items.jsonl(path, max_items=500)
    Workflow(
        us_stack,
        "W",
        definition=FanOut(
            us_stack,
            "F",
            prompt=PROMPT,
            model=NOVA,
            item_reader=reader,
            results_to=S3Path(bucket, "out/"),
            max_concurrency=10,
        ),
    )
    item_reader = asl(us_stack)["States"]["F"]["ItemReader"]
    assert item_reader["ReaderConfig"]["InputType"] == kind.upper()


def test_any_step_can_be_fanned_out(stack: cdk.Stack, asl: Asl) -> None:
    step = InvokeBedrock(stack, "Classify", model=NOVA, prompt="{% $states.input %}")
    Workflow(stack, "W", definition=FanOut(stack, "F", step=step, max_concurrency=4))
    processor = asl(stack)["States"]["F"]["ItemProcessor"]
    assert processor["StartAt"] == "Classify"
    assert processor["States"]["Classify"]["Catch"][0]["Next"] == "FItemFailed"


# -- local runs ---------------------------------------------------------------------------------


def _inline(stack: cdk.Stack) -> None:
    Workflow(
        stack,
        "W",
        definition=FanOut(stack, "Summaries", prompt=PROMPT, model=NOVA, max_concurrency=1),
    )


def test_local_happy_path_keeps_each_item_with_its_answer(stack: cdk.Stack) -> None:
    _inline(stack)
    items = [{"text": f"doc {i}"} for i in range(3)]
    result = LocalRunner(stack).run(
        input={"items": items},
        responses={"SummariesItem": [mocks.bedrock_text("nova", f"sum {i}") for i in range(3)]},
    )
    assert result.status == "SUCCEEDED"
    assert result.output["failures"] == []
    assert [(r["item"], r["text"]) for r in result.output["results"]] == [
        (items[i], f"sum {i}") for i in range(3)
    ]


def test_local_throttled_item_retries_then_succeeds(stack: cdk.Stack) -> None:
    _inline(stack)
    result = LocalRunner(stack).run(
        input={"items": [{"text": "a"}]},
        responses={"SummariesItem": mocks.throttle(2, mocks.bedrock_text("nova", "ok"))},
    )
    assert result.status == "SUCCEEDED"
    assert result.retries == 2
    assert [r["text"] for r in result.output["results"]] == ["ok"]


def test_local_item_throttled_for_good_lands_in_failures(stack: cdk.Stack) -> None:
    _inline(stack)
    result = LocalRunner(stack).run(
        input={"items": [{"text": "a"}]},
        responses={"SummariesItem": mocks.throttle(99, mocks.bedrock_text("nova", "never"))},
    )
    assert result.status == "SUCCEEDED"
    assert result.retries == 6  # bedrock_transient() gives up after six retries
    assert result.output == {
        "results": [],
        "failures": [
            {
                "ok": False,
                "item": {"text": "a"},
                "error": "Bedrock.ThrottlingException",
                "cause": "Too many requests, please wait before trying again.",
            }
        ],
    }


def test_acceptance_1000_items_two_failing_for_good(stack: cdk.Stack) -> None:
    """1,000 items, two refused for good: 998 results and 2 failures with their errors."""
    fan = FanOut(
        stack, "Summaries", prompt=PROMPT, model=NOVA, max_concurrency=40, distributed=True
    )
    Workflow(stack, "W", definition=fan)
    items = [{"text": f"doc {i}"} for i in range(1_000)]
    responses: list[Any] = [mocks.bedrock_text("nova", "summary")] * 1_000
    responses[100] = mocks.failure("Bedrock.ValidationException", "Input is too long")
    responses[700] = mocks.failure("Bedrock.AccessDeniedException", "No access to the model")
    result = LocalRunner(stack).run(
        input={"items": items}, responses={"SummariesItem": responses}, timeout_seconds=300
    )
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    output = result.output
    assert len(output["results"]) == 998
    assert len(output["failures"]) == 2
    assert sorted((f["error"], f["cause"]) for f in output["failures"]) == [
        ("Bedrock.AccessDeniedException", "No access to the model"),
        ("Bedrock.ValidationException", "Input is too long"),
    ]
    seen = [r["item"]["text"] for r in output["results"]] + [
        f["item"]["text"] for f in output["failures"]
    ]
    assert sorted(seen) == sorted(i["text"] for i in items)  # no item lost, none twice


def test_a_result_writer_runs_locally_on_moto_s3(stack: cdk.Stack) -> None:
    """The local runner writes FanOut's results to (moto) S3 as the ResultWriter does: the
    output names the manifest, which lists the SUCCEEDED file holding every child."""
    import json

    import boto3
    from moto import mock_aws

    bucket = s3.Bucket.from_bucket_name(stack, "Out", "fan-out-results")
    fan = FanOut(
        stack,
        "Summaries",
        prompt=PROMPT,
        model=NOVA,
        distributed=True,
        results_to=S3Path(bucket, "out/"),
        max_concurrency=2,
    )
    Workflow(stack, "W", definition=fan)
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="fan-out-results")
        result = LocalRunner(stack, passthrough=True).run(
            input={"items": [{"text": "a"}, {"text": "b"}]},
            responses={"SummariesItem": [mocks.bedrock_text("nova", t) for t in "AB"]},
        )
        assert result.status == "SUCCEEDED", result.cause
        details = result.output["ResultWriterDetails"]
        assert details["Bucket"] == "fan-out-results"
        manifest = json.loads(client.get_object(**details)["Body"].read())
        (succeeded,) = manifest["ResultFiles"]["SUCCEEDED"]
        records = json.loads(
            client.get_object(Bucket="fan-out-results", Key=succeeded["Key"])["Body"].read()
        )
    assert [json.loads(r["Output"])["text"] for r in records] == ["A", "B"]


def test_local_structured_answers_keep_their_item_and_malformed_ones_fail(
    stack: cdk.Stack,
) -> None:
    schema = {"type": "object", "properties": {"score": {"type": "number"}}}
    fan = FanOut(
        stack,
        "Scores",
        prompt=PROMPT,
        model="anthropic.claude-3-5-haiku-20241022-v1:0",
        output_schema=schema,
        max_concurrency=2,
    )
    Workflow(stack, "W", definition=fan)
    assert fan.step.output_schema == schema  # type: ignore[attr-defined]
    items = [{"text": "a"}, {"text": "b"}]
    result = LocalRunner(stack).run(
        input={"items": items},
        responses={
            "ScoresItem": [
                mocks.bedrock_tool_use("anthropic", {"score": 0.5}),
                mocks.bedrock_text("anthropic", "no tool"),
            ]
        },
    )
    assert result.status == "SUCCEEDED"
    assert [(r["item"], r["json"]) for r in result.output["results"]] == [
        (items[0], {"score": 0.5})
    ]
    [failure] = result.output["failures"]
    assert (failure["item"], failure["error"]) == (items[1], "States.QueryEvaluationError")
    assert "StructuredAnswerInvalid" in failure["cause"]


def test_fan_out_output_schema_is_refused_beside_a_step(stack: cdk.Stack) -> None:
    fan = FanOut(
        stack,
        "Scores",
        prompt=PROMPT,
        model=NOVA,
        output_schema={"type": "object"},
        max_concurrency=2,
    )
    assert "toolConfig" in fan.step.state_json["Arguments"]["Body"]  # type: ignore[attr-defined]
    with pytest.raises(LambdalessError, match=r"^model/system/inference/output_schema/retry="):
        FanOut(stack, "Other", step=fan.step, output_schema={"type": "object"}, max_concurrency=1)
