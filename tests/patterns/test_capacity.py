"""ModelCapacity: the weighted semaphore in ASL, its IAM, and local runs against moto's DynamoDB
with real conditional updates: several executions at once never exceed the capacity, every item
ends in results or failures, and an execution that fails while holding capacity is reclaimed."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk.assertions import Template
from tests.patterns.conftest import Store, capacity_item, capacity_table, holders

from lambdaless import FanOut, Inference, InvokeBedrock, LambdalessError, ModelQuota, Workflow
from lambdaless.analysis.lint import lint
from lambdaless.patterns.capacity import CapacityGuard, ModelCapacity
from lambdaless.retry import RetryPolicy
from lambdaless.testing import LocalRunner, mocks

CLAUDE = "us.anthropic.claude-sonnet-4-20250514-v1:0"
PROMPT = "{% 'Summarize: ' & $states.input.text %}"
# 1,000 input + 1,024 max_tokens = 2,024 reserved > 1,000 + 5 x 100 settled: weight 2,024.
# 30,000 tokens/min x 10 s / 60 = 5,000 tokens in flight: two calls at once.
QUOTA = ModelQuota(
    tokens_per_minute=30_000, input_tokens=1_000, output_tokens=100, latency_seconds=10
)
Asl = Callable[[cdk.Stack], dict[str, Any]]


def _capacity(stack: cdk.Stack, **options: Any) -> ModelCapacity:
    return ModelCapacity(stack, "Claude", model=CLAUDE, quota=QUOTA, **options)


# -- construction ------------------------------------------------------------------------------


def test_budget_and_weight_follow_the_quota(stack: cdk.Stack) -> None:
    capacity = _capacity(stack)
    assert capacity.budget_tokens == 5_000
    assert capacity.budget_calls is None
    assert capacity.weight(1024) == 2_024
    with pytest.raises(LambdalessError, match="only 5000 may be in flight"):
        capacity.weight(4_500)


def test_worst_case_wait_and_leak_are_stated(stack: cdk.Stack) -> None:
    """No queue, so no order among waiters: what bounds starvation is the acquire's retrier,
    1 s doubling to 30 s over 100 tries (1 + 2 + 4 + 8 + 16 + 95 x 30 s); a leak ends at the
    lease (15 min) plus the next sweep (5 min)."""
    capacity = _capacity(stack)
    assert capacity.worst_case_wait_seconds == 2_881
    assert capacity.worst_case_leak_seconds == 20 * 60
    shorter = ModelCapacity(
        stack,
        "Short",
        model=CLAUDE,
        quota=QUOTA,
        wait=RetryPolicy.capacity_wait(max_delay_seconds=4, max_attempts=5),
        lease=cdk.Duration.minutes(2),
        sweep_every=cdk.Duration.minutes(1),
    )
    assert shorter.worst_case_wait_seconds == 1 + 2 + 4 + 4 + 4
    assert shorter.worst_case_leak_seconds == 180


def test_a_step_on_another_model_is_refused(stack: cdk.Stack) -> None:
    capacity = _capacity(stack)
    with pytest.raises(LambdalessError, match="capacity="):
        FanOut(
            stack,
            "F",
            prompt=PROMPT,
            model="amazon.nova-lite-v1:0",
            max_concurrency=2,
            capacity=capacity,
        )
    # the same model on demand counts against another quota
    with pytest.raises(LambdalessError, match="quota kind"):
        FanOut(
            stack,
            "G",
            prompt=PROMPT,
            model=CLAUDE.split(".", 1)[1],
            max_concurrency=2,
            capacity=capacity,
        )


def test_fan_out_with_capacity_asl(stack: cdk.Stack, asl: Asl) -> None:
    capacity = _capacity(stack)
    fan = FanOut(
        stack, "Summaries", prompt=PROMPT, model=CLAUDE, max_concurrency=3, capacity=capacity
    )
    Workflow(stack, "W", definition=fan)
    definitions = [m for m in _machines(stack) if "Summaries" in m["States"]]
    states = definitions[0]["States"]["Summaries"]["ItemProcessor"]["States"]
    acquire = states["SummariesAcquire"]
    assert acquire["Resource"].endswith(":states:::dynamodb:updateItem")
    assert acquire["Arguments"]["ConditionExpression"] == (
        "attribute_not_exists(#h) AND (attribute_not_exists(#used) OR (#used <= :room))"
    )
    assert acquire["Arguments"]["ExpressionAttributeValues"][":room"] == {"N": "2976"}
    assert acquire["Retry"][0]["ErrorEquals"] == ["DynamoDB.ConditionalCheckFailedException"]
    assert acquire["Retry"][0]["JitterStrategy"] == "FULL"
    assert acquire["Next"] == "SummariesItem"
    assert states["SummariesItem"]["Next"] == "SummariesRelease"
    assert states["SummariesItem"]["Catch"][0]["Next"] == "SummariesReleaseAfterError"
    assert states["SummariesReleaseAfterError"]["Next"] == "SummariesItemFailed"
    # happy path: acquire, call, release: two transitions more than without a capacity
    assert states["SummariesRelease"]["End"] is True


def test_no_capacity_means_no_change(stack: cdk.Stack, asl: Asl) -> None:
    fan = FanOut(stack, "Summaries", prompt=PROMPT, model=CLAUDE, max_concurrency=3)
    Workflow(stack, "W", definition=fan)
    states = asl(stack)["States"]["Summaries"]["ItemProcessor"]["States"]
    assert sorted(states) == ["SummariesItem", "SummariesItemFailed"]


def test_least_privilege_iam(stack: cdk.Stack) -> None:
    capacity = _capacity(stack)
    fan = FanOut(
        stack, "Summaries", prompt=PROMPT, model=CLAUDE, max_concurrency=3, capacity=capacity
    )
    Workflow(stack, "W", definition=fan)
    template = Template.from_stack(stack).to_json()
    dynamodb = [
        statement
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::IAM::Policy"
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
        if any(str(a).startswith("dynamodb:") for a in _list(statement["Action"]))
    ]
    assert dynamodb
    for statement in dynamodb:
        assert set(_list(statement["Action"])) <= {"dynamodb:UpdateItem", "dynamodb:GetItem"}
        assert statement["Condition"] == {
            "ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["capacity"]}
        }
        assert "Fn::GetAtt" in json.dumps(statement["Resource"])
    rules = [r for r in template["Resources"].values() if r["Type"] == "AWS::Events::Rule"]
    assert any(r["Properties"].get("ScheduleExpression") == "rate(5 minutes)" for r in rules)
    # the reclaim hears the status changes of the machines using the capacity, none other
    patterns = [r["Properties"]["EventPattern"] for r in rules if "EventPattern" in r["Properties"]]
    (machine,) = [
        name
        for name, r in template["Resources"].items()
        if r["Type"] == "AWS::StepFunctions::StateMachine" and "Summaries" in json.dumps(r)
    ]
    assert patterns == [
        {
            "source": ["aws.states"],
            "detail-type": ["Step Functions Execution Status Change"],
            "detail": {
                "status": ["FAILED", "TIMED_OUT", "ABORTED"],
                # its executions, and its Distributed Maps' children (<ARN>/<Map Run label>)
                "stateMachineArn": [
                    {"Ref": machine},
                    {"prefix": {"Fn::Join": ["", [{"Ref": machine}, "/"]]}},
                ],
            },
        }
    ]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _machines(stack: cdk.Stack) -> list[dict[str, Any]]:
    from lambdaless.synthesized import load

    return [m.definition for m in load(Template.from_stack(stack).to_json())]


# -- local runs against moto's DynamoDB ---------------------------------------------------------


def test_a_full_capacity_makes_a_caller_wait_visibly_then_go(
    stack: cdk.Stack, dynamodb: Store
) -> None:
    """Another execution holds the whole capacity; the caller's acquire is refused (a
    ConditionalCheckFailed, retried with jittered back-off: each wait is in its history) until
    that execution gives one call's share back, scripted here after the third refusal. No
    clock and no threads: the same waits every run."""
    capacity = _capacity(stack)
    fan = FanOut(
        stack, "Summaries", prompt=PROMPT, model=CLAUDE, max_concurrency=1, capacity=capacity
    )
    Workflow(stack, "W", definition=fan)
    runner = LocalRunner(stack, passthrough=True)
    table = capacity_table(runner, dynamodb)
    weight = capacity.weight(1024)
    lease = {"M": {"w": {"N": str(weight)}, "exp": {"N": "32503680000000"}}}
    dynamodb.client.put_item(
        TableName=table,
        Item={
            "pk": {"S": "capacity"},
            "used": {"N": str(2 * weight)},
            "calls": {"N": "2"},
            "h#other#1": lease,
            "h#other#2": lease,
        },
    )

    def other_execution_releases(refused: int) -> None:
        if refused == 3:
            dynamodb.client.update_item(
                TableName=table,
                Key={"pk": {"S": "capacity"}},
                UpdateExpression="SET #u = #u - :w, #c = #c - :one REMOVE #h",
                ExpressionAttributeNames={"#u": "used", "#c": "calls", "#h": "h#other#1"},
                ExpressionAttributeValues={":w": {"N": str(weight)}, ":one": {"N": "1"}},
            )

    dynamodb.on_refused = other_execution_releases
    items = [{"text": f"document {i}"} for i in range(3)]
    result = runner.run(
        "W",
        input={"items": items},
        responses={"SummariesItem": mocks.bedrock_text("anthropic", "Short.")},
        repeat_last=True,
    )
    assert result.status == "SUCCEEDED", result.cause
    assert len(result.output["results"]) == 3
    waits = [delay for state, delay in result.retry_delays if state == "SummariesAcquire"]
    assert len(waits) == 3  # the first item waited three times; the others found room
    assert all(0 <= delay <= max_delay for delay, max_delay in zip(waits, [1, 2, 4], strict=True))
    assert max(dynamodb.used) <= capacity.budget_tokens
    item = capacity_item(dynamodb, table)
    assert item["used"] == {"N": str(weight)}  # the other execution's second share only
    assert holders(item) == ["h#other#2"]


def test_every_item_of_several_executions_is_released_and_kept(
    stack: cdk.Stack, dynamodb: Store
) -> None:
    """Three executions of a FanOut with a shared capacity, one item refused for good: every
    item ends in results or failures, never more than the capacity is in flight, everything is
    given back."""
    capacity = _capacity(stack)
    fan = FanOut(
        stack, "Summaries", prompt=PROMPT, model=CLAUDE, max_concurrency=3, capacity=capacity
    )
    Workflow(stack, "W", definition=fan)
    runner = LocalRunner(stack, passthrough=True)
    table = capacity_table(runner, dynamodb)
    answer = mocks.bedrock_text("anthropic", "Short.")
    refused = mocks.failure("Bedrock.ValidationException", "bad input")
    items = [{"text": f"document {i}"} for i in range(4)]
    for n in range(3):
        responses = {"SummariesItem": [answer, refused, answer] if n == 2 else answer}
        result = runner.run("W", input={"items": items}, responses=responses, repeat_last=True)
        assert result.status == "SUCCEEDED", result.cause
        output = result.output
        assert len(output["results"]) + len(output["failures"]) == len(items)
        assert len(output["failures"]) == (1 if n == 2 else 0)
    assert len(dynamodb.used) == 24  # each item acquired once and released once
    assert max(dynamodb.used) <= capacity.budget_tokens
    item = capacity_item(dynamodb, table)
    assert item["used"] == {"N": "0"}
    assert item["calls"] == {"N": "0"}
    assert holders(item) == []


def test_a_failed_executions_holding_is_reclaimed(stack: cdk.Stack, dynamodb: Store) -> None:
    capacity = _capacity(stack)
    call = InvokeBedrock(stack, "Ask", model=CLAUDE, prompt=PROMPT)
    weight = capacity.weight(1024)
    # acquire -> call -> release with nothing between a failing call and the end: the
    # execution fails holding its share, as on AWS after an uncatchable error or an abort
    acquire = capacity.acquire(stack, "Take", weight=weight, holder_variable="held")
    release = capacity.release(stack, "GiveBack", weight=weight, holder_variable="held")
    Workflow(stack, "Fragile", definition=acquire.next(call).next(release))
    runner = LocalRunner(stack, passthrough=True)
    table = capacity_table(runner, dynamodb)

    failed = runner.run(
        "Fragile",
        input={"text": "x"},
        responses={"Ask": mocks.failure("Bedrock.ValidationException", "no")},
    )
    assert failed.status == "FAILED"
    item = capacity_item(dynamodb, table)
    assert item["used"] == {"N": str(weight)}
    (holder,) = holders(item)
    execution_arn = holder[2:].rsplit("#", 1)[0]
    assert ":execution:" in execution_arn

    # an unrelated execution's end releases nothing
    other = {
        "detail": {"executionArn": execution_arn + "-other", "status": "FAILED"},
        "time": "2026-11-30T12:00:00Z",
    }
    assert runner.run("Reclaim", input=other).status == "SUCCEEDED"
    assert capacity_item(dynamodb, table)["used"] == {"N": str(weight)}

    # EventBridge's "Step Functions Execution Status Change" for the failed execution
    event = {
        "source": "aws.states",
        "detail-type": "Step Functions Execution Status Change",
        "time": "2026-11-30T12:00:00Z",
        "detail": {"executionArn": execution_arn, "status": "FAILED"},
    }
    reclaimed = runner.run("Reclaim", input=event)
    assert reclaimed.status == "SUCCEEDED", reclaimed.cause
    item = capacity_item(dynamodb, table)
    assert item["used"] == {"N": "0"}
    assert holders(item) == []

    # the share is usable again: a guarded call goes through
    ok = runner.run(
        "Fragile", input={"text": "x"}, responses={"Ask": mocks.bedrock_text("anthropic", "Fine.")}
    )
    assert ok.status == "SUCCEEDED"
    assert capacity_item(dynamodb, table)["used"] == {"N": "0"}


def test_expired_leases_are_swept(stack: cdk.Stack, dynamodb: Store) -> None:
    capacity = _capacity(stack)
    call = InvokeBedrock(stack, "Ask", model=CLAUDE, prompt=PROMPT)
    weight = capacity.weight(1024)
    acquire = capacity.acquire(stack, "Take", weight=weight, holder_variable="held")
    release = capacity.release(stack, "GiveBack", weight=weight, holder_variable="held")
    Workflow(stack, "Fragile", definition=acquire.next(call).next(release))
    runner = LocalRunner(stack, passthrough=True)
    table = capacity_table(runner, dynamodb)
    runner.run(
        "Fragile",
        input={"text": "x"},
        responses={"Ask": mocks.failure("Bedrock.ValidationException", "no")},
    )
    # a scheduled event before the lease ends keeps the holding; one after it releases it
    early = {"detail-type": "Scheduled Event", "time": "2000-01-01T00:00:00Z", "detail": {}}
    runner.run("Reclaim", input=early)
    assert capacity_item(dynamodb, table)["used"] == {"N": str(weight)}
    late = {"detail-type": "Scheduled Event", "time": "2999-01-01T00:00:00Z", "detail": {}}
    assert runner.run("Reclaim", input=late).status == "SUCCEEDED"
    assert capacity_item(dynamodb, table)["used"] == {"N": "0"}


def test_guard_releases_and_fails_with_the_steps_error(stack: cdk.Stack, dynamodb: Store) -> None:
    capacity = _capacity(stack)
    call = InvokeBedrock(
        stack, "Ask", model=CLAUDE, prompt=PROMPT, inference=Inference(max_tokens=512)
    )
    guard = CapacityGuard(stack, "Guarded", capacity=capacity, step=call)
    assert guard.weight == 1_512
    Workflow(stack, "W", definition=guard.next(sfn.Succeed(stack, "Done")))
    runner = LocalRunner(stack, passthrough=True)
    table = capacity_table(runner, dynamodb)
    failed = runner.run(
        "W",
        input={"text": "x"},
        responses={"Ask": mocks.failure("Bedrock.ValidationException", "no")},
    )
    assert failed.status == "FAILED"
    assert failed.error == "Bedrock.ValidationException"
    assert capacity_item(dynamodb, table)["used"] == {"N": "0"}
    ok = runner.run(
        "W", input={"text": "x"}, responses={"Ask": mocks.bedrock_text("anthropic", "Fine.")}
    )
    assert ok.status == "SUCCEEDED"
    assert ok.states == ["GuardedAcquire", "Ask", "GuardedRelease", "Done"]


def test_reclaim_releases_a_bounded_batch_per_run(
    stack: cdk.Stack, dynamodb: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One Reclaim run gives back at most RELEASES_PER_RUN holdings, so its inline Map stays far
    below 25,000 history events (declared to the lint in the Map's Comment); the next sweep takes
    the rest."""
    import lambdaless.patterns.capacity as capacity_module

    monkeypatch.setattr(capacity_module, "RELEASES_PER_RUN", 1)
    capacity = _capacity(stack)
    call = InvokeBedrock(stack, "Ask", model=CLAUDE, prompt=PROMPT)
    weight = capacity.weight(1024)
    acquire = capacity.acquire(stack, "Take", weight=weight, holder_variable="held")
    release = capacity.release(stack, "GiveBack", weight=weight, holder_variable="held")
    Workflow(stack, "Fragile", definition=acquire.next(call).next(release))
    runner = LocalRunner(stack, passthrough=True)
    table = capacity_table(runner, dynamodb)
    reclaim = runner.state_machine("Reclaim")
    assert "lambdaless:max-items=1" in reclaim.definition["States"]["ReleaseEach"]["Comment"]
    assert lint(reclaim) == []
    for n in range(2):  # the test capacity holds two such calls
        runner.run(
            "Fragile",
            input={"text": f"x{n}"},
            responses={"Ask": mocks.failure("Bedrock.ValidationException", "no")},
        )
    assert len(holders(capacity_item(dynamodb, table))) == 2
    late = {"detail-type": "Scheduled Event", "time": "2999-01-01T00:00:00Z", "detail": {}}
    assert runner.run("Reclaim", input=late).status == "SUCCEEDED"
    assert capacity_item(dynamodb, table)["used"] == {"N": str(weight)}
    assert runner.run("Reclaim", input=late).status == "SUCCEEDED"
    assert capacity_item(dynamodb, table)["used"] == {"N": "0"}
