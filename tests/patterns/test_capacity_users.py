"""``capacity=`` on the steps and patterns that call a model: ``InvokeBedrock``, ``Converse``,
``PromptChain`` and ``KnowledgeBaseSync``'s question. Each stands for ``acquire -> call ->
release`` wherever it is chained; the ASL (snapshots), the IAM, the cost ``lambdaless inspect``
shows, and local runs on moto's DynamoDB releasing on success, on a caught error and after the
retries run out."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk.assertions import Template
from syrupy.assertion import SnapshotAssertion
from tests.patterns.conftest import Store, capacity_item, capacity_table, holders

from lambdaless import (
    ChainPrompt,
    Converse,
    FanOut,
    Inference,
    InvokeBedrock,
    KnowledgeBaseSync,
    LambdalessError,
    ModelCapacity,
    ModelQuota,
    PromptChain,
    RetryPolicy,
    Workflow,
)
from lambdaless.analysis.cost import cost
from lambdaless.cli import render_inspect
from lambdaless.synthesized import SynthesizedStateMachine, load
from lambdaless.testing import LocalRunner, mocks

CLAUDE = "us.anthropic.claude-sonnet-4-20250514-v1:0"
PROMPT = "{% 'Summarize: ' & $states.input.text %}"
# 30,000 tokens/min x 10 s / 60 = 5,000 tokens in flight; a call with max_tokens 1,024 weighs
# 1,000 + 1,024 = 2,024 (more than 1,000 + 5 x 100 settled).
QUOTA = ModelQuota(
    tokens_per_minute=30_000, input_tokens=1_000, output_tokens=100, latency_seconds=10
)
ANSWER = mocks.bedrock_text("anthropic", "Short.")


def _capacity(stack: cdk.Stack) -> ModelCapacity:
    return ModelCapacity(stack, "Claude", model=CLAUDE, quota=QUOTA)


def _machines(stack: cdk.Stack) -> dict[str, SynthesizedStateMachine]:
    """The stack's state machines by their Workflow's id (``W``, ``Plain``...)."""
    found = load(Template.from_stack(stack).to_json())
    return {m.logical_id.split("StateMachine")[0]: m for m in found}


def _definition(stack: cdk.Stack, name: str = "W") -> dict[str, Any]:
    return _machines(stack)[name].definition


# -- the ASL -------------------------------------------------------------------------------------


def test_invoke_bedrock_with_capacity_stands_for_acquire_call_release(
    stack: cdk.Stack, snapshot_json: SnapshotAssertion
) -> None:
    capacity = _capacity(stack)
    ask = InvokeBedrock(stack, "Ask", model=CLAUDE, prompt=PROMPT, capacity=capacity)
    handler = sfn.Pass(stack, "Refused")
    ask.add_catch(handler, errors=InvokeBedrock.PERMANENT_ERRORS)
    Workflow(stack, "W", definition=ask.next(sfn.Succeed(stack, "Done")))
    definition = _definition(stack)
    assert definition == snapshot_json
    states = definition["States"]
    assert definition["StartAt"] == "AskAcquire"
    assert states["AskAcquire"]["Next"] == "Ask"
    assert states["Ask"]["Next"] == "AskRelease"
    assert states["AskRelease"]["Next"] == "Done"
    assert states["AskReleasedLater"]["Next"] == "Done"  # a failed release goes on
    # the user's catch, then the catch-all (last, as ASL wants), each through a release
    catches = [(c["ErrorEquals"], c["Next"]) for c in states["Ask"]["Catch"]]
    assert catches == [
        (InvokeBedrock.PERMANENT_ERRORS, "AskReleaseAfterError"),
        (["States.ALL"], "AskReleaseAfterError2"),
    ]
    assert states["AskReleaseAfterError"]["Next"] == "Refused"
    assert states["AskReleaseAfterError2"]["Next"] == "AskFailed"
    assert states["AskFailed"]["Type"] == "Fail"
    for release in ("AskRelease", "AskReleaseAfterError", "AskReleaseAfterError2"):
        assert states[release]["Arguments"]["ExpressionAttributeValues"][":w"] == {"N": "2024"}


def test_a_catch_all_of_the_user_replaces_the_default_fail(stack: cdk.Stack) -> None:
    capacity = _capacity(stack)
    ask = Converse(stack, "Ask", model=CLAUDE, prompt=PROMPT, capacity=capacity)
    ask.add_catch(sfn.Pass(stack, "Handled"))
    Workflow(stack, "W", definition=ask)
    states = _definition(stack)["States"]
    assert [c["ErrorEquals"] for c in states["Ask"]["Catch"]] == [["States.ALL"]]
    assert "AskFailed" not in states
    assert states["AskReleaseAfterError"]["Next"] == "Handled"
    assert states["AskRelease"]["End"] is True


def test_a_guarded_step_inside_a_chain_and_as_a_catch_target(stack: cdk.Stack) -> None:
    capacity = _capacity(stack)
    first = sfn.Pass(stack, "First")
    ask = InvokeBedrock(stack, "Ask", model=CLAUDE, prompt=PROMPT, capacity=capacity)
    # reaching the step from another state, or from a Catch, enters its acquire
    other = InvokeBedrock(stack, "Other", model=CLAUDE, prompt=PROMPT)
    other.add_catch(ask)
    Workflow(stack, "W", definition=first.next(other).next(ask))
    states = _definition(stack)["States"]
    assert states["First"]["Next"] == "Other"
    assert states["Other"]["Next"] == "AskAcquire"
    assert states["Other"]["Catch"][0]["Next"] == "AskAcquire"


def test_prompt_chain_with_capacity(stack: cdk.Stack, snapshot_json: SnapshotAssertion) -> None:
    capacity = _capacity(stack)
    chain = PromptChain(
        stack,
        "Article",
        model=CLAUDE,
        prompts=[
            ChainPrompt("outline", PROMPT, inference=Inference(max_tokens=300)),
            ChainPrompt("draft", "{% 'Write from: ' & $outline.text %}"),
        ],
        capacity=capacity,
    )
    Workflow(stack, "W", definition=chain)
    definition = _definition(stack)
    assert definition == snapshot_json
    states = definition["States"]
    assert definition["StartAt"] == "OutlineAcquire"
    assert states["OutlineRelease"]["Next"] == "DraftAcquire"
    assert states["OutlineReleasedLater"]["Next"] == "DraftAcquire"
    assert states["DraftRelease"]["End"] is True
    # each step weighs what it takes: max(1,000 + 300 reserved, 1,000 + 5 x 100 settled),
    # and max(1,000 + 1,024, 1,500)
    weights = {
        name: state["Arguments"]["ExpressionAttributeValues"][":w"]["N"]
        for name, state in states.items()
        if name.endswith("Acquire")
    }
    assert weights == {"OutlineAcquire": "1500", "DraftAcquire": "2024"}


def test_knowledge_base_question_with_capacity(
    us_stack: cdk.Stack, snapshot_json: SnapshotAssertion
) -> None:
    capacity = ModelCapacity(us_stack, "Claude", model=CLAUDE, quota=QUOTA)
    sync = KnowledgeBaseSync(
        us_stack,
        "Sync",
        knowledge_base_id="KB12345678",
        data_source_id="DS12345678",
        question="What changed?",
        model=CLAUDE,
        capacity=capacity,
    )
    Workflow(us_stack, "W", definition=sync.next(sfn.Succeed(us_stack, "Done")))
    definition = _definition(us_stack)
    assert definition == snapshot_json
    states = definition["States"]
    assert states["SyncCheck"]["Default"] == "SyncAskAcquire"
    assert states["SyncAsk"]["Next"] == "SyncAskRelease"
    assert states["SyncAskRelease"]["Next"] == "Done"
    # the answer's maxTokens is what the acquire weighs: 1,000 input + 1,024
    config = states["SyncAsk"]["Arguments"]["RetrieveAndGenerateConfiguration"]
    generation = config["KnowledgeBaseConfiguration"]["GenerationConfiguration"]
    assert generation == {"InferenceConfig": {"TextInferenceConfig": {"MaxTokens": 1024}}}
    weight = states["SyncAskAcquire"]["Arguments"]["ExpressionAttributeValues"][":w"]
    assert weight == {"N": "2024"}
    # the history bound counts the acquire's waits and the release
    assert (
        sync.worst_case_history_events
        > KnowledgeBaseSync(
            us_stack,
            "Plain",
            knowledge_base_id="KB12345678",
            data_source_id="DS12345678",
            question="What changed?",
            model=CLAUDE,
        ).worst_case_history_events
        + 3 * capacity.wait.max_attempts
    )


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (
            lambda s, c: InvokeBedrock(s, "A", model=CLAUDE, body={"x": 1}, capacity=c),
            "capacity",
        ),
        (
            lambda s, c: InvokeBedrock(
                s, "A", model="amazon.nova-lite-v1:0", prompt=PROMPT, capacity=c
            ),
            "this capacity's model",
        ),
        (
            lambda s, c: KnowledgeBaseSync(
                s, "K", knowledge_base_id="KB12345678", data_source_id="DS12345678", capacity=c
            ),
            "None unless question= is given",
        ),
        (
            lambda s, c: FanOut(
                s,
                "F",
                step=InvokeBedrock(s, "A", model=CLAUDE, prompt=PROMPT, capacity=c),
                max_concurrency=2,
                capacity=c,
            ),
            "one acquire per call",
        ),
    ],
)
def test_misuse_is_refused_by_name(stack: cdk.Stack, build: Any, match: str) -> None:
    with pytest.raises(LambdalessError, match=match):
        build(stack, _capacity(stack))


# -- IAM and the reclaim rule ---------------------------------------------------------------------


def test_iam_and_one_reclaim_rule_per_machine(stack: cdk.Stack) -> None:
    capacity = _capacity(stack)
    ask = InvokeBedrock(stack, "Ask", model=CLAUDE, prompt=PROMPT, capacity=capacity)
    again = Converse(stack, "Again", model=CLAUDE, prompt=PROMPT, capacity=capacity)
    Workflow(stack, "W", definition=ask.next(again))
    # a plain StateMachine is watched when asked to
    plain_step = InvokeBedrock(stack, "Solo", model=CLAUDE, prompt=PROMPT, capacity=capacity)
    plain = sfn.StateMachine(
        stack, "Plain", definition_body=sfn.DefinitionBody.from_chainable(plain_step)
    )
    capacity.watch(plain)
    template = Template.from_stack(stack).to_json()
    resources = template["Resources"]
    watched = sorted(
        json.dumps(r["Properties"]["EventPattern"]["detail"]["stateMachineArn"][0])
        for r in resources.values()
        if r["Type"] == "AWS::Events::Rule" and "EventPattern" in r["Properties"]
    )
    machines = sorted(
        json.dumps({"Ref": name})
        for name, r in resources.items()
        if r["Type"] == "AWS::StepFunctions::StateMachine" and "Reclaim" not in name
    )
    assert watched == machines  # one rule each (two guarded steps: still one), none else
    statements = [
        statement
        for r in resources.values()
        if r["Type"] == "AWS::IAM::Policy"
        for statement in r["Properties"]["PolicyDocument"]["Statement"]
        if "dynamodb:" in json.dumps(statement["Action"])
    ]
    for statement in statements:
        assert statement["Action"] in ("dynamodb:UpdateItem", "dynamodb:GetItem")
        assert statement["Condition"] == {
            "ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["capacity"]}
        }


# -- what lambdaless inspect shows ----------------------------------------------------------------


def _with_and_without(build: Any) -> tuple[SynthesizedStateMachine, SynthesizedStateMachine]:
    pair = []
    for guarded in (True, False):
        env = cdk.Environment(account="111111111111", region="us-east-1")
        stack = cdk.Stack(cdk.App(), "S", env=env)
        capacity = _capacity(stack) if guarded else None
        Workflow(stack, "W", definition=build(stack, capacity))
        pair.append(_machines(stack)["W"])
    return pair[0], pair[1]


USERS: dict[str, Any] = {
    "InvokeBedrock": (
        1,
        lambda s, c: InvokeBedrock(s, "Ask", model=CLAUDE, prompt=PROMPT, capacity=c),
    ),
    "Converse": (1, lambda s, c: Converse(s, "Ask", model=CLAUDE, prompt=PROMPT, capacity=c)),
    "PromptChain": (
        2,
        lambda s, c: PromptChain(
            s,
            "Chain",
            model=CLAUDE,
            prompts=[ChainPrompt("a", PROMPT), ChainPrompt("b", "{% $a.text %}")],
            capacity=c,
        ),
    ),
    "KnowledgeBaseSync": (
        1,
        lambda s, c: KnowledgeBaseSync(
            s,
            "Sync",
            knowledge_base_id="KB12345678",
            data_source_id="DS12345678",
            question="What changed?",
            model=CLAUDE,
            max_tokens=1024,
            capacity=c,
        ),
    ),
}


@pytest.mark.parametrize("user", sorted(USERS))
def test_inspect_shows_the_capacitys_cost_per_call(user: str) -> None:
    calls, build = USERS[user]
    guarded, bare = _with_and_without(build)
    with_capacity, without = cost(guarded), cost(bare)
    # happy path: an acquire and a release per call, each a transition and one DynamoDB write
    assert with_capacity.happy.transitions == without.happy.transitions + 2 * calls
    assert with_capacity.happy.dynamodb_requests == 2 * calls
    assert without.worst.dynamodb_requests == 0
    # worst case: every wait used (a refused conditional update is a billed write too)
    waits = RetryPolicy.capacity_wait().max_attempts + RetryPolicy.dynamodb_transient().max_attempts
    assert with_capacity.worst.dynamodb_requests >= calls * (2 + waits)
    table = render_inspect(guarded, with_capacity, [])
    row = next(line for line in table.splitlines() if "DynamoDB requests" in line)
    assert row.split()[2] == str(2 * calls)
    assert "of which DynamoDB" in table


# -- local runs on moto's DynamoDB ----------------------------------------------------------------


def _guarded_workflow(stack: cdk.Stack) -> tuple[ModelCapacity, LocalRunner]:
    capacity = _capacity(stack)
    ask = InvokeBedrock(
        stack,
        "Ask",
        model=CLAUDE,
        prompt=PROMPT,
        capacity=capacity,
        retry=[RetryPolicy.bedrock_transient().with_(max_attempts=2)],
    )
    ask.add_catch(sfn.Pass(stack, "Refused"), errors=["Bedrock.ValidationException"])
    Workflow(stack, "W", definition=ask.next(sfn.Succeed(stack, "Done")))
    return capacity, LocalRunner(stack, passthrough=True)


def test_local_run_releases_on_success(stack: cdk.Stack, dynamodb: Store) -> None:
    _, runner = _guarded_workflow(stack)
    table = capacity_table(runner, dynamodb)
    result = runner.run("W", input={"text": "x"}, responses={"Ask": ANSWER})
    assert result.status == "SUCCEEDED", result.cause
    assert result.states == ["AskAcquire", "Ask", "AskRelease", "Done"]
    assert result.output["text"] == "Short."  # the release passes the answer on
    assert dynamodb.used == [2024, 0]
    assert holders(capacity_item(dynamodb, table)) == []


def test_local_run_releases_on_a_caught_error(stack: cdk.Stack, dynamodb: Store) -> None:
    _, runner = _guarded_workflow(stack)
    table = capacity_table(runner, dynamodb)
    refused = mocks.failure("Bedrock.ValidationException", "bad input")
    result = runner.run("W", input={"text": "x"}, responses={"Ask": refused})
    assert result.status == "SUCCEEDED", result.cause
    assert result.states == ["AskAcquire", "Ask", "AskReleaseAfterError", "Refused"]
    assert result.output["Error"] == "Bedrock.ValidationException"
    assert dynamodb.used == [2024, 0]
    assert holders(capacity_item(dynamodb, table)) == []


def test_local_run_releases_when_the_retries_run_out(stack: cdk.Stack, dynamodb: Store) -> None:
    _, runner = _guarded_workflow(stack)
    table = capacity_table(runner, dynamodb)
    throttled = mocks.throttle(3, ANSWER)  # one more than the two retries allow
    result = runner.run("W", input={"text": "x"}, responses={"Ask": throttled})
    assert result.status == "FAILED"
    assert result.error == "Bedrock.ThrottlingException"  # the step's own error, kept
    assert result.states == ["AskAcquire", "Ask", "AskReleaseAfterError2", "AskFailed"]
    assert dynamodb.used == [2024, 0]
    assert holders(capacity_item(dynamodb, table)) == []


def test_local_run_of_a_prompt_chain_with_capacity(stack: cdk.Stack, dynamodb: Store) -> None:
    capacity = _capacity(stack)
    chain = PromptChain(
        stack,
        "Article",
        model=CLAUDE,
        prompts=[ChainPrompt("outline", PROMPT), ChainPrompt("draft", "{% $outline.text %}")],
        capacity=capacity,
    )
    Workflow(stack, "W", definition=chain)
    runner = LocalRunner(stack, passthrough=True)
    table = capacity_table(runner, dynamodb)
    result = runner.run("W", input={"text": "x"}, responses={"Outline": ANSWER, "Draft": ANSWER})
    assert result.status == "SUCCEEDED", result.cause
    assert result.states == [
        "OutlineAcquire",
        "Outline",
        "OutlineRelease",
        "DraftAcquire",
        "Draft",
        "DraftRelease",
    ]
    assert dynamodb.used == [2024, 0, 2024, 0]
    assert holders(capacity_item(dynamodb, table)) == []
