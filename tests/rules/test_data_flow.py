"""What a state reads when it runs (lambdaless.rules.data_flow): variables in scope, the
``$states`` fields where they exist, the task token of a callback Task. Each mistake passes
aws-cdk-lib's synth and fails only on AWS; realistic workflows that must still pass beside them.

Pages: Step Functions developer guide "workflow-variables" (scopes: a Map iteration or Parallel
branch reads outer variables, not the reverse; a Distributed Map's children read none of their
parent's), "transforming-data" ($states.result in a Task, Map or Parallel's Output and Assign,
$states.errorOutput in a Catch), "connect-to-resource" (a callback Task passes its token).
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from tests.rules._support import accepted, refused

from lambdaless import ApprovalChannel, Converse, HumanApproval, Workflow
from lambdaless.analysis.lint import lint_definition

HAIKU = "us.anthropic.claude-3-5-haiku-20241022-v1:0"
TOPIC = "arn:aws:sns:us-east-1:111122223333:reviews"


RULES = ("variable-not-in-scope", "states-field-unavailable", "callback-task-token")


def rules(definition: dict[str, Any]) -> list[str]:
    """The findings of this module's rules (the lint's others, such as payload-size, aside)."""
    return [f.rule for f in lint_definition(definition) if f.rule in RULES]


def messages(definition: dict[str, Any]) -> str:
    return "\n".join(f.message for f in lint_definition(definition) if f.rule in RULES)


def machine(*states: tuple[str, dict[str, Any]], language: str = "JSONata") -> dict[str, Any]:
    """A chain of states, in order."""
    names = [name for name, _ in states]
    chained = {
        name: {**state, **({"Next": names[i + 1]} if i + 1 < len(names) else {"End": True})}
        for i, (name, state) in enumerate(states)
    }
    return {"QueryLanguage": language, "StartAt": names[0], "States": chained}


def pass_state(**fields: Any) -> dict[str, Any]:
    return {"Type": "Pass", **fields}


def inline_map(
    *states: tuple[str, dict[str, Any]], distributed: bool = False, **fields: Any
) -> dict[str, Any]:
    processor = machine(*states)
    processor.pop("QueryLanguage")
    if distributed:
        processor["ProcessorConfig"] = {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
    return {
        "Type": "Map",
        "Items": "{% $states.input.docs %}",
        "ItemProcessor": processor,
        **fields,
    }


def workflow_definition(stack: cdk.Stack, definition: sfn.IChainable) -> dict[str, Any]:
    return Workflow(stack, "Flow", definition=definition, alarms=False).definition()


# -- variable-not-in-scope -----------------------------------------------------------------------
def test_variable_typo_is_refused() -> None:
    definition = machine(
        ("Draft", pass_state(Assign={"draft": "{% $states.input.text %}"})),
        ("Polish", pass_state(Output="{% 'Polish: ' & $drafts %}")),
    )
    assert rules(definition) == ["variable-not-in-scope"]
    assert "Output='$drafts'" in messages(definition)
    assert "variables in scope: $draft" in messages(definition)


def test_variable_assigned_in_a_map_iteration_read_after_the_map(stack: cdk.Stack) -> None:
    each = sfn.Map(stack, "Each", items=sfn.ProvideItems.jsonata("{% $states.input.docs %}"))
    each.item_processor(Converse(stack, "Ask", model=HAIKU, prompt="hi", assign_result_to="answer"))
    done = sfn.Pass(stack, "Done", outputs="{% $answer.text %}")
    definition = workflow_definition(stack, each.next(done))
    assert rules(definition) == ["variable-not-in-scope"]
    assert "state 'Done' Output='$answer'" in messages(definition)


def test_variable_assigned_in_one_parallel_branch_read_in_another() -> None:
    branches = [
        {"StartAt": "A", "States": {"A": pass_state(Assign={"a": 1}, End=True)}},
        {"StartAt": "B", "States": {"B": pass_state(Output="{% $a %}", End=True)}},
    ]
    definition = machine(("Both", {"Type": "Parallel", "Branches": branches}))
    assert rules(definition) == ["variable-not-in-scope"]
    assert "(a Parallel branch)" in messages(definition)


def test_distributed_map_children_cannot_read_the_parents_variables() -> None:
    ask = ("Ask", pass_state(Output="{% $prefix & $states.input %}"))
    definition = machine(
        ("Init", pass_state(Assign={"prefix": "Summarize: "})),
        ("Each", inline_map(ask, distributed=True)),
    )
    assert rules(definition) == ["variable-not-in-scope"]
    assert "pass the value in ItemSelector" in messages(definition)
    # an inline Map's iterations read them
    init = ("Init", pass_state(Assign={"prefix": "Summarize: "}))
    assert rules(machine(init, ("Each", inline_map(ask)))) == []


def test_distributed_map_gets_the_value_in_item_selector() -> None:
    ask = ("Ask", pass_state(Output="{% $states.input.prefix & $states.input.doc %}"))
    selector = {"prefix": "{% $prefix %}", "doc": "{% $states.context.Map.Item.Value %}"}
    definition = machine(
        ("Init", pass_state(Assign={"prefix": "Summarize: "})),
        ("Each", inline_map(ask, distributed=True, ItemSelector=selector)),
    )
    assert rules(definition) == []


def test_jsonpath_variable_reads() -> None:
    definition = machine(
        ("Init", pass_state(Assign={"count.$": "$.count"})),
        (
            "Use",
            pass_state(
                Parameters={
                    "n.$": "$count",
                    "label.$": "States.Format('{} of $total', $count)",
                    "id.$": "$$.Execution.Id",
                    "first.$": "$.items[0]",
                }
            ),
        ),
        ("Bad", pass_state(Parameters={"n.$": "States.Format('{}', $totals)"})),
        language="JSONPath",
    )
    assert rules(definition) == ["variable-not-in-scope"]
    assert "state 'Bad' Parameters='$totals'" in messages(definition)


@pytest.mark.parametrize(
    "expression",
    [
        "{% ($n := $count(xs); $n * 2) %}",
        "{% $map($states.input.docs, function($doc, $i) { $doc & $string($i) }) %}",
        "{% $states.input.orders@$o#$pos.{'id': $o.id, 'at': $pos} %}",
        "{% '$notAVariable in text' & $uppercase($states.input.name) %}",
        "{% $partition($states.input.items, 10) %}",
    ],
)
def test_local_names_and_functions_are_not_workflow_variables(expression: str) -> None:
    assert rules(machine(("P", pass_state(Output=expression)))) == []


def test_variables_assigned_by_catchers_and_choice_rules(stack: cdk.Stack) -> None:
    ask = Converse(stack, "Ask", model=HAIKU, prompt="hi", assign_result_to="answer")
    report = sfn.Pass(stack, "Report", outputs="{% {'error': $failure, 'route': $route} %}")
    ask.add_catch(report, errors=["States.ALL"], assign={"failure": "{% $states.errorOutput %}"})
    route = sfn.Choice(stack, "Route")
    route.when(
        sfn.Condition.jsonata("{% $answer.stopReason = 'max_tokens' %}"),
        report,
        assign={"route": "truncated"},
    )
    route.otherwise(sfn.Pass(stack, "Done", outputs="{% $answer.text %}"))
    definition = workflow_definition(stack, ask.next(route))
    assert rules(definition) == []


def test_variable_from_an_outer_scope_inside_an_inline_map(stack: cdk.Stack) -> None:
    init = sfn.Pass(stack, "Init", assign={"tone": "{% $states.input.tone %}"})
    each = sfn.Map(stack, "Each", items=sfn.ProvideItems.jsonata("{% $states.input.docs %}"))
    each.item_processor(Converse(stack, "Ask", model=HAIKU, prompt="{% $tone & $states.input %}"))
    assert rules(workflow_definition(stack, init.next(each))) == []


# -- states-field-unavailable --------------------------------------------------------------------
def test_states_result_in_arguments_is_refused_at_construction(stack: cdk.Stack) -> None:
    # "the previous answer" is this state's input, not $states.result
    step = Converse(stack, "Polish", model=HAIKU, prompt="{% $states.result.text %}")
    refused(
        "states-field-unavailable",
        lambda: Workflow(stack, "Flow", definition=step),
        argument="state 'Polish' Arguments",
    )


@pytest.mark.parametrize(
    ("state", "field"),
    [
        (pass_state(Output="{% $states.result %}"), "Output"),
        (pass_state(Output="{% $states.errorOutput.Cause %}"), "Output"),
        (
            {"Type": "Choice", "Choices": [{"Condition": "{% $states.result.ok %}", "Next": "X"}]},
            "Choices[0].Condition",
        ),
    ],
)
def test_states_fields_where_they_do_not_exist(state: dict[str, Any], field: str) -> None:
    states = {"S": state, "X": pass_state(End=True)}
    if state["Type"] != "Choice":
        states["S"]["Next"] = "X"
    definition = {"QueryLanguage": "JSONata", "StartAt": "S", "States": states}
    assert rules(definition) == ["states-field-unavailable"]
    assert f"state 'S' {field}=" in messages(definition)


def test_states_fields_where_they_exist() -> None:
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::aws-sdk:bedrockruntime:converse",
        "Arguments": {"ModelId": HAIKU, "Messages": "{% $states.input.messages %}"},
        "Output": "{% $states.result.Output %}",
        "Assign": {"usage": "{% $states.result.Usage %}"},
        "Catch": [
            {
                "ErrorEquals": ["States.ALL"],
                "Output": "{% $states.errorOutput %}",
                "Assign": {"cause": "{% $states.errorOutput.Cause %}"},
                "Next": "Failed",
            }
        ],
    }
    definition = machine(
        ("Ask", task),
        ("Report", pass_state(Output="{% {'usage': $usage, 'input': $states.input} %}")),
    )
    definition["States"]["Failed"] = pass_state(Output="{% $cause %}", End=True)
    assert rules(definition) == []


# -- callback-task-token -------------------------------------------------------------------------
def test_callback_without_its_token_is_refused(stack: cdk.Stack) -> None:
    # aws-cdk-lib checks the token only for some tasks; CallAwsService takes the pattern silently
    notify = tasks.CallAwsService.jsonata(
        stack,
        "Notify",
        service="sns",
        action="publish",
        parameters={"TopicArn": TOPIC, "Message": "{% $string($states.input) %}"},
        iam_resources=[TOPIC],
        integration_pattern=sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
    )
    definition = workflow_definition(stack, notify)
    assert rules(definition) == ["callback-task-token"]
    assert "state 'Notify' Resource=" in messages(definition)


def test_jsonpath_callback_without_its_token_is_refused() -> None:
    send = {
        "Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": "https://sqs/q", "MessageBody": {"doc.$": "$.doc"}},
    }
    assert rules(machine(("Send", send), language="JSONPath")) == ["callback-task-token"]
    send["Parameters"]["MessageBody"]["token.$"] = "$$.Task.Token"
    assert rules(machine(("Send", send), language="JSONPath")) == []


def test_callbacks_that_pass_their_token(stack: cdk.Stack) -> None:
    queue = sqs.Queue(stack, "Reviews")
    send = tasks.SqsSendMessage.jsonata(
        stack,
        "Send",
        queue=queue,
        message_body=sfn.TaskInput.from_object(
            {"doc": "{% $states.input %}", "token": "{% $states.context.Task.Token %}"}
        ),
        integration_pattern=sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
    )
    review = HumanApproval(
        stack,
        "Review",
        channel=ApprovalChannel.sns_topic(sns.Topic(stack, "Topic")),
        timeout=cdk.Duration.minutes(30),
    )
    assert rules(accepted(lambda: workflow_definition(stack, send.next(review)))) == []  # type: ignore[arg-type]
