"""KnowledgeBaseSync: bounded polling (worst-case history < 25,000, checked against a local
run), snapshot, exact IAM, and local runs of every route."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from syrupy.assertion import SnapshotAssertion

from lambdaless import KnowledgeBaseSync, LambdalessError, RetryPolicy, Workflow
from lambdaless.limits import HISTORY_MAX_EVENTS
from lambdaless.patterns.knowledge_base import (
    wait_schedule,
    worst_case_history_events,
)
from lambdaless.testing import LocalRunner, mocks

Asl = Callable[[cdk.Stack], dict[str, Any]]
KB, DS = "KB12345678", "DS12345678"


def _job(status: str, reasons: list[str] | None = None) -> mocks.Return:
    job = {"IngestionJobId": "JOB1234567", "KnowledgeBaseId": KB, "DataSourceId": DS}
    job["Status"] = status
    if reasons is not None:
        job["FailureReasons"] = reasons  # type: ignore[assignment]
    return mocks.success({"IngestionJob": job})


def _sync(stack: cdk.Stack, **options: Any) -> KnowledgeBaseSync:
    sync = KnowledgeBaseSync(stack, "Sync", knowledge_base_id=KB, data_source_id=DS, **options)
    Workflow(stack, "W", definition=sync, timeout=cdk.Duration.hours(8))
    return sync


# -- the bound ----------------------------------------------------------------------------------


def test_default_worst_case_history_is_far_under_25000(stack: cdk.Stack) -> None:
    sync = _sync(stack)
    # 1 + start (2 + 3 x 5 attempts) + 60 polls x (2 + 17 + 2) + Done 2 + succeeded 1 = 1,281
    assert sync.worst_case_history_events == 1_281 < HISTORY_MAX_EVENTS
    assert sync.wait_schedule[:6] == [10, 20, 40, 80, 160, 300]
    assert sync.worst_case_wait_seconds == 10 + 20 + 40 + 80 + 160 + 55 * 300


def test_worst_case_with_retrieve_and_generate() -> None:
    retry = [RetryPolicy.agent_transient()]
    assert (
        worst_case_history_events(
            max_polls=40, start_retry=retry, poll_retry=retry, ask_retry=retry
        )
        == 1 + 17 + 40 * 21 + 18
    )


def test_worst_case_formula_matches_a_local_run(stack: cdk.Stack) -> None:
    """Every poll used, no retries: the history the engine writes has exactly the computed
    number of events when the last poll sees COMPLETE, one fewer when it times out."""
    _sync(stack, max_polls=7, retry=[])
    worst = worst_case_history_events(max_polls=7)
    assert worst == 1 + 5 + 7 * 9 + 2 + 1
    runner = LocalRunner(stack)
    result = runner.run(
        input={},
        responses={
            "SyncStart": _job("STARTING"),
            "SyncPoll": [*[_job("IN_PROGRESS")] * 6, _job("COMPLETE")],
        },
    )
    assert (result.status, result.states[-1]) == ("SUCCEEDED", "SyncDone")
    assert len(result.history) == worst
    result = runner.run(
        input={}, responses={"SyncStart": _job("STARTING"), "SyncPoll": [_job("IN_PROGRESS")] * 7}
    )
    assert (result.status, result.error) == ("FAILED", "IngestionTimedOut")
    assert len(result.history) == worst - 1


def test_too_many_polls_are_refused(stack: cdk.Stack) -> None:
    with pytest.raises(LambdalessError, match=r"max_polls=1200 .* over the 25,000"):
        KnowledgeBaseSync(stack, "S", knowledge_base_id=KB, data_source_id=DS, max_polls=1_200)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"knowledge_base_id": "kb"}, "knowledge_base_id='kb'"),
        ({"max_polls": 0}, "max_polls=0"),
        ({"initial_wait": cdk.Duration.minutes(10)}, "at least initial_wait"),
        ({"backoff_rate": 0.5}, "backoff_rate=0.5"),
        ({"question": "why?"}, "a model to answer"),
        ({"model": "amazon.nova-pro-v1:0"}, "None unless question"),
    ],
)
def test_bad_options_are_refused(stack: cdk.Stack, options: dict[str, Any], message: str) -> None:
    arguments = {"knowledge_base_id": KB, "data_source_id": DS, **options}
    with pytest.raises(LambdalessError, match=message):
        KnowledgeBaseSync(stack, "S", **arguments)


def test_wait_schedule_is_capped() -> None:
    assert wait_schedule(max_polls=5, initial_seconds=15, backoff_rate=3, max_wait_seconds=200) == [
        15,
        45,
        135,
        200,
        200,
    ]


# -- snapshot and IAM ---------------------------------------------------------------------------


def test_snapshot(us_stack: cdk.Stack, asl: Asl, snapshot_json: SnapshotAssertion) -> None:
    _sync(
        us_stack,
        max_polls=30,
        question="{% $states.context.Execution.Input.q %}",
        model="us.amazon.nova-pro-v1:0",
    )
    definition = asl(us_stack)
    assert definition == snapshot_json
    assert "lambdaless:max-iterations=30" in definition["States"]["SyncWait"]["Comment"]


def test_iam_is_scoped_to_the_knowledge_base(us_stack: cdk.Stack, sm_statements: Any) -> None:
    _sync(us_stack, question="What is new?", model="amazon.nova-pro-v1:0")
    statements = [
        {"Action": s["Action"], "Resource": s["Resource"]} for s in sm_statements(us_stack)
    ]
    resolved = [
        {"Action": s["Action"], "Resource": us_stack.resolve(s["Resource"])} for s in statements
    ]
    kb = {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":bedrock:us-east-1:111122223333:knowledge-base/KB12345678",
            ],
        ]
    }
    model = {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0",
            ],
        ]
    }
    assert sorted(resolved, key=str) == sorted(
        [
            {"Action": "bedrock:StartIngestionJob", "Resource": kb},
            {"Action": "bedrock:GetIngestionJob", "Resource": kb},
            {"Action": "bedrock:Retrieve", "Resource": kb},
            # No resource-level permissions (Bedrock user guide,
            # "knowledge-base-prereq-permissions-general")
            {"Action": "bedrock:RetrieveAndGenerate", "Resource": "*"},
            {"Action": "bedrock:InvokeModel", "Resource": model},
        ],
        key=str,
    )


# -- local runs ---------------------------------------------------------------------------------


RAG = mocks.success({"Output": {"Text": "42"}, "Citations": [], "SessionId": "s1"})


def test_local_happy_path_waits_longer_each_poll(us_stack: cdk.Stack) -> None:
    _sync(us_stack, question="What is new?", model="amazon.nova-pro-v1:0")
    result = LocalRunner(us_stack).run(
        input={},
        responses={
            "SyncStart": _job("STARTING"),
            "SyncPoll": [_job("STARTING"), _job("IN_PROGRESS"), _job("COMPLETE")],
            "SyncAsk": RAG,
        },
    )
    assert result.status == "SUCCEEDED"
    assert result.output == {"text": "42", "citations": [], "sessionId": "s1"}
    assert result.wait_delays == [10, 20, 40]
    assert result.calls_to("SyncPoll")[0].arguments == {
        "KnowledgeBaseId": KB,
        "DataSourceId": DS,
        "IngestionJobId": "JOB1234567",
    }
    token = result.calls_to("SyncStart")[0].arguments["ClientToken"]
    assert len(token) == 64


def test_local_throttled_poll_retries(us_stack: cdk.Stack) -> None:
    _sync(us_stack)
    result = LocalRunner(us_stack).run(
        input={},
        responses={
            "SyncStart": _job("STARTING"),
            "SyncPoll": mocks.throttle(
                2, _job("COMPLETE"), error="BedrockAgent.ThrottlingException", cause="Rate"
            ),
        },
    )
    assert result.retries == 2
    assert [s for s, _ in result.retry_delays] == ["SyncPoll", "SyncPoll"]
    # Without a question, COMPLETE ends the workflow (no States.NoChoiceMatched) with the job.
    assert (result.status, result.states[-2:]) == ("SUCCEEDED", ["SyncCheck", "SyncDone"])
    assert result.output["Status"] == "COMPLETE"


def test_without_a_question_the_choice_has_a_default(stack: cdk.Stack, asl: Asl) -> None:
    """The Choice of the loop never leaves COMPLETE unmatched, last state or not."""
    _sync(stack)
    states = asl(stack)["States"]
    assert states["SyncCheck"]["Default"] == "SyncDone"
    assert states["SyncDone"] == {"Type": "Pass", "Comment": "Ingestion COMPLETE", "End": True}


def test_local_failed_ingestion_fails_with_its_reasons(us_stack: cdk.Stack) -> None:
    _sync(us_stack)
    result = LocalRunner(us_stack).run(
        input={},
        responses={
            "SyncStart": _job("STARTING"),
            "SyncPoll": _job("FAILED", ["Access denied to s3://docs", "Bad PDF"]),
        },
    )
    assert (result.status, result.error) == ("FAILED", "IngestionFailed")
    assert result.cause == "Access denied to s3://docs; Bad PDF"


def test_local_stopped_ingestion_fails(us_stack: cdk.Stack) -> None:
    _sync(us_stack)
    result = LocalRunner(us_stack).run(
        input={}, responses={"SyncStart": _job("STARTING"), "SyncPoll": _job("STOPPED")}
    )
    assert (result.status, result.error) == ("FAILED", "IngestionFailed")
    assert result.cause == "ingestion job JOB1234567 STOPPED"


def test_local_out_of_polls_times_out(us_stack: cdk.Stack) -> None:
    _sync(us_stack, max_polls=4)
    result = LocalRunner(us_stack).run(
        input={}, responses={"SyncStart": _job("STARTING"), "SyncPoll": [_job("IN_PROGRESS")] * 4}
    )
    assert (result.status, result.error) == ("FAILED", "IngestionTimedOut")
    assert result.cause == "ingestion job JOB1234567 still IN_PROGRESS after 4 polls"
    assert len(result.calls_to("SyncPoll")) == 4


def test_local_start_refused(us_stack: cdk.Stack) -> None:
    _sync(us_stack)
    result = LocalRunner(us_stack).run(
        input={},
        responses={
            "SyncStart": mocks.failure("BedrockAgent.ConflictException", "a job is running")
        },
    )
    assert (result.status, result.error) == ("FAILED", "BedrockAgent.ConflictException")
