"""ModelCapacity: the weighted semaphore in ASL, its IAM, and local runs against moto's DynamoDB
with real conditional updates: several executions at once never exceed the capacity, every item
ends in results or failures, and an execution that fails while holding capacity is reclaimed."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk.assertions import Template

from lambdaless import FanOut, Inference, InvokeBedrock, LambdalessError, ModelQuota, Workflow
from lambdaless.analysis.annotations import acknowledge
from lambdaless.analysis.lint import lint
from lambdaless.patterns.capacity import CapacityGuard, ModelCapacity
from lambdaless.retry import RetryPolicy
from lambdaless.synthesized import LOCAL_PSEUDO_PARAMETERS
from lambdaless.testing import LocalRunner, RunResult, mocks

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
    patterns = [r["Properties"].get("EventPattern") for r in rules]
    assert {
        "source": ["aws.states"],
        "detail-type": ["Step Functions Execution Status Change"],
        "detail": {"status": ["FAILED", "TIMED_OUT", "ABORTED"]},
    } in patterns
    assert any(r["Properties"].get("ScheduleExpression") == "rate(5 minutes)" for r in rules)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _machines(stack: cdk.Stack) -> list[dict[str, Any]]:
    from lambdaless.synthesized import load

    return [m.definition for m in load(Template.from_stack(stack).to_json())]


# -- local runs against moto's DynamoDB ---------------------------------------------------------


class Store:
    """moto's DynamoDB, with each conditional update applied atomically as DynamoDB does (moto's
    backend takes no lock, so threads could interleave a condition check and its update), and
    ``used`` recorded after every successful write."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.used: list[int] = []


@pytest.fixture
def dynamodb() -> Iterator[Store]:
    import boto3
    from moto import mock_aws
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.Lock()
    update_item = DynamoDBBackend.update_item
    store = Store(None)

    def atomic_update_item(self: Any, *args: Any, **kwargs: Any) -> Any:
        with lock:
            item = update_item(self, *args, **kwargs)
            used = item.attrs.get("used")
            if used is not None:
                store.used.append(int(used.value))
            return item

    with mock_aws(), pytest.MonkeyPatch.context() as patch:
        patch.setattr(DynamoDBBackend, "update_item", atomic_update_item)
        store.client = boto3.client("dynamodb", region_name=LOCAL_PSEUDO_PARAMETERS["AWS::Region"])
        yield store


def _table(runner: LocalRunner, dynamodb: Store) -> str:
    """Create the capacity table the synthesized ASL names."""
    reclaim = runner.state_machine("Reclaim")
    name = reclaim.definition["States"]["ReadHolders"]["Arguments"]["TableName"]
    dynamodb.client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return str(name)


def _item(dynamodb: Store, table: str) -> dict[str, Any]:
    item = dynamodb.client.get_item(
        TableName=table, Key={"pk": {"S": "capacity"}}, ConsistentRead=True
    )
    return dict(item.get("Item", {}))


def _holders(item: dict[str, Any]) -> list[str]:
    return [name for name in item if name.startswith("h#")]


def _run_together(runs: list[Callable[[], RunResult]]) -> list[RunResult]:
    results: list[Any] = [None] * len(runs)
    start = threading.Barrier(len(runs))

    def go(i: int) -> None:
        start.wait()
        results[i] = runs[i]()

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(runs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_executions_started_together_never_exceed_the_capacity(
    stack: cdk.Stack, dynamodb: Any
) -> None:
    # a generous bound on waiting: the local runner takes no time for back-offs
    capacity = _capacity(
        stack, wait=RetryPolicy.capacity_wait(max_delay_seconds=1, max_attempts=3_000)
    )
    fan = FanOut(
        stack, "Summaries", prompt=PROMPT, model=CLAUDE, max_concurrency=3, capacity=capacity
    )
    workflow = Workflow(stack, "W", definition=fan)
    acknowledge(workflow, "history-events", reason="4 items; 3,000 waits is a local-run bound")
    runner = LocalRunner(stack, passthrough=True)
    table = _table(runner, dynamodb)
    answer = mocks.bedrock_text("anthropic", "Short.")
    refused = mocks.failure("Bedrock.ValidationException", "bad input")
    items = [{"text": f"document {i}"} for i in range(4)]

    def one(n: int) -> Callable[[], RunResult]:
        # the third execution's second call is refused for good: its holding is released too
        responses = {"SummariesItem": [answer, refused, answer] if n == 2 else answer}
        return lambda: runner.run(
            "W", input={"items": items}, responses=responses, repeat_last=True, timeout_seconds=120
        )

    results = _run_together([one(n) for n in range(3)])
    # every item acquired once and released once; never more than two calls in flight
    assert len(dynamodb.used) == 24
    assert max(dynamodb.used) <= capacity.budget_tokens
    # the executions did contend: some acquires waited, and those waits are in the history
    waits = [state for r in results for state, _ in r.retry_delays if state == "SummariesAcquire"]
    assert waits
    for n, result in enumerate(results):
        assert result.status == "SUCCEEDED", result.cause
        output = result.output
        assert len(output["results"]) + len(output["failures"]) == len(items)
        assert len(output["failures"]) == (1 if n == 2 else 0)
    # everything was given back
    item = _item(dynamodb, table)
    assert item["used"] == {"N": "0"}
    assert item["calls"] == {"N": "0"}
    assert _holders(item) == []


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
    table = _table(runner, dynamodb)

    failed = runner.run(
        "Fragile",
        input={"text": "x"},
        responses={"Ask": mocks.failure("Bedrock.ValidationException", "no")},
    )
    assert failed.status == "FAILED"
    item = _item(dynamodb, table)
    assert item["used"] == {"N": str(weight)}
    (holder,) = _holders(item)
    execution_arn = holder[2:].rsplit("#", 1)[0]
    assert ":execution:" in execution_arn

    # an unrelated execution's end releases nothing
    other = {
        "detail": {"executionArn": execution_arn + "-other", "status": "FAILED"},
        "time": "2026-11-30T12:00:00Z",
    }
    assert runner.run("Reclaim", input=other).status == "SUCCEEDED"
    assert _item(dynamodb, table)["used"] == {"N": str(weight)}

    # EventBridge's "Step Functions Execution Status Change" for the failed execution
    event = {
        "source": "aws.states",
        "detail-type": "Step Functions Execution Status Change",
        "time": "2026-11-30T12:00:00Z",
        "detail": {"executionArn": execution_arn, "status": "FAILED"},
    }
    reclaimed = runner.run("Reclaim", input=event)
    assert reclaimed.status == "SUCCEEDED", reclaimed.cause
    item = _item(dynamodb, table)
    assert item["used"] == {"N": "0"}
    assert _holders(item) == []

    # the share is usable again: a guarded call goes through
    ok = runner.run(
        "Fragile", input={"text": "x"}, responses={"Ask": mocks.bedrock_text("anthropic", "Fine.")}
    )
    assert ok.status == "SUCCEEDED"
    assert _item(dynamodb, table)["used"] == {"N": "0"}


def test_expired_leases_are_swept(stack: cdk.Stack, dynamodb: Store) -> None:
    capacity = _capacity(stack)
    call = InvokeBedrock(stack, "Ask", model=CLAUDE, prompt=PROMPT)
    weight = capacity.weight(1024)
    acquire = capacity.acquire(stack, "Take", weight=weight, holder_variable="held")
    release = capacity.release(stack, "GiveBack", weight=weight, holder_variable="held")
    Workflow(stack, "Fragile", definition=acquire.next(call).next(release))
    runner = LocalRunner(stack, passthrough=True)
    table = _table(runner, dynamodb)
    runner.run(
        "Fragile",
        input={"text": "x"},
        responses={"Ask": mocks.failure("Bedrock.ValidationException", "no")},
    )
    # a scheduled event before the lease ends keeps the holding; one after it releases it
    early = {"detail-type": "Scheduled Event", "time": "2000-01-01T00:00:00Z", "detail": {}}
    runner.run("Reclaim", input=early)
    assert _item(dynamodb, table)["used"] == {"N": str(weight)}
    late = {"detail-type": "Scheduled Event", "time": "2999-01-01T00:00:00Z", "detail": {}}
    assert runner.run("Reclaim", input=late).status == "SUCCEEDED"
    assert _item(dynamodb, table)["used"] == {"N": "0"}


def test_guard_releases_and_fails_with_the_steps_error(stack: cdk.Stack, dynamodb: Store) -> None:
    capacity = _capacity(stack)
    call = InvokeBedrock(
        stack, "Ask", model=CLAUDE, prompt=PROMPT, inference=Inference(max_tokens=512)
    )
    guard = CapacityGuard(stack, "Guarded", capacity=capacity, step=call)
    assert guard.weight == 1_512
    Workflow(stack, "W", definition=guard.next(sfn.Succeed(stack, "Done")))
    runner = LocalRunner(stack, passthrough=True)
    table = _table(runner, dynamodb)
    failed = runner.run(
        "W",
        input={"text": "x"},
        responses={"Ask": mocks.failure("Bedrock.ValidationException", "no")},
    )
    assert failed.status == "FAILED"
    assert failed.error == "Bedrock.ValidationException"
    assert _item(dynamodb, table)["used"] == {"N": "0"}
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
    table = _table(runner, dynamodb)
    reclaim = runner.state_machine("Reclaim")
    assert "lambdaless:max-items=1" in reclaim.definition["States"]["ReleaseEach"]["Comment"]
    assert lint(reclaim) == []
    for n in range(2):  # the test capacity holds two such calls
        runner.run(
            "Fragile",
            input={"text": f"x{n}"},
            responses={"Ask": mocks.failure("Bedrock.ValidationException", "no")},
        )
    assert len(_holders(_item(dynamodb, table))) == 2
    late = {"detail-type": "Scheduled Event", "time": "2999-01-01T00:00:00Z", "detail": {}}
    assert runner.run("Reclaim", input=late).status == "SUCCEEDED"
    assert _item(dynamodb, table)["used"] == {"N": str(weight)}
    assert runner.run("Reclaim", input=late).status == "SUCCEEDED"
    assert _item(dynamodb, table)["used"] == {"N": "0"}
