"""Rules about service integrations (lambdaless.rules.integrations), with realistic inputs that
must still pass.

Pages: Step Functions developer guide "call-https-apis" (headers the HTTP Task refuses, public
domain names with trusted certificates), EventBridge "API_CreateConnection" and CloudFormation
"dynamic-references-ssm-secure-strings" (connection credentials), "connect-to-resource" (the task
token in the message), SQS "API_SendMessage" (MessageGroupId), Step Functions
"API_CreateStateMachine" (name).
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_events as events
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from tests.rules._support import accepted, refused

from lambdaless import ApprovalChannel, CallHttpApi, HttpAuth, HumanApproval, Workflow
from lambdaless.analysis.lint import lint_definition
from lambdaless.synthesized import load

API_KEY = cdk.SecretValue.secrets_manager("lambdaless/test/api-key")


def call(stack: cdk.Stack, **options: Any) -> CallHttpApi:
    options.setdefault("base_url", "https://api.example.com/v1")
    options.setdefault("auth", HttpAuth.api_key(header_name="x-api-key", value=API_KEY))
    return CallHttpApi(stack, "Call", **options)


# -- http-header-reserved (issue item 7) ---------------------------------------------------------
@pytest.mark.parametrize(
    "name",
    [
        "Authorization",
        "host",
        "X-Amz-Date",
        "x-amzn-trace-id",
        "X-Forwarded-For",
        "Cache-Control",
        "Accept-Encoding",
        "If-None-Match",
        "Origin",
        "Transfer-Encoding",
    ],
)
def test_http_header_reserved(stack: cdk.Stack, name: str) -> None:
    refused(
        "http-header-reserved",
        lambda: call(stack, headers={name: "value"}),
        argument="headers name",
        value=name,
    )


def test_http_headers_an_api_needs_pass(stack: cdk.Stack) -> None:
    headers = {
        "Accept": "application/json",
        "Content-Type": "application/json",
        "Idempotency-Key": "{% $states.context.Execution.Name %}",
        "X-Request-Id": "{% $uuid() %}",
        "User-Agent": "lambdaless/1.0",
        "Stripe-Version": "2024-06-20",
    }
    accepted(lambda: call(stack, method="POST", headers=headers, body={"a": 1}))


# -- http-header-malformed -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("headers", "argument"),
    [
        ({"X-Note": "line one\r\nX-Injected: yes"}, "headers['X-Note']"),
        ({"X-Note": "tab\x00nul"}, "headers['X-Note']"),
        ({"X Note": "v"}, "headers name"),
        ({"X-Note\n": "v"}, "headers name"),
        ({"": "v"}, "headers name"),
    ],
)
def test_http_header_malformed(stack: cdk.Stack, headers: dict[str, str], argument: str) -> None:
    refused("http-header-malformed", lambda: call(stack, headers=headers), argument=argument)


def test_http_header_malformed_in_paths(stack: cdk.Stack) -> None:
    refused(
        "http-header-malformed", lambda: call(stack, path="/users/1\r\nHost: evil"), argument="path"
    )
    refused(
        "http-header-malformed",
        lambda: call(stack, base_url="https://api.example.com/v1\n"),
        argument="base_url",
    )
    accepted(lambda: call(stack, path="/users/42/orders"))


# -- http-endpoint-host --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "http://api.example.com",
        "https://10.0.0.12/v1",
        "https://[2001:db8::1]/v1",
        "https://localhost:8443",
        "https://billing.internal",
        "https://printer.local",
        "https://api.test",
        "https://user:secret@api.example.com",
    ],
)
def test_http_endpoint_host(stack: cdk.Stack, url: str) -> None:
    refused("http-endpoint-host", lambda: call(stack, base_url=url), argument="base_url", value=url)


def test_http_endpoint_public_hosts_pass(stack: cdk.Stack) -> None:
    for index, url in enumerate(
        (
            "https://api.stripe.com/v1",
            "https://example.my.salesforce.com",
            "https://api.example.com:8443",
        )
    ):
        accepted(
            lambda url=url, index=index: CallHttpApi(
                stack,
                f"Call{index}",
                base_url=url,
                auth=HttpAuth.api_key(header_name="x-api-key", value=API_KEY),
            )
        )


# -- the same two rules on aws-cdk-lib's HttpInvoke (the graph) ---------------------------------
def http_invoke(stack: cdk.Stack, *, api_root: str, headers: dict[str, str] | None = None) -> Any:
    connection = events.Connection(
        stack,
        "Crm",
        authorization=events.Authorization.api_key("x-api-key", API_KEY),
    )
    return tasks.HttpInvoke.jsonata(
        stack,
        "Fetch",
        api_root=api_root,
        api_endpoint=sfn.TaskInput.from_text("customers"),
        method=sfn.TaskInput.from_text("GET"),
        connection=connection,
        headers=sfn.TaskInput.from_object(headers) if headers else None,
    )


def lint_rules(stack: cdk.Stack, step: Any) -> list[tuple[str, str]]:
    definition = Workflow(stack, "Flow", definition=step, alarms=False).definition()
    return [(f.rule, f.message) for f in lint_definition(definition) if f.rule.startswith("http-")]


@pytest.mark.parametrize("name", ["Authorization", "host", "X-Amz-Date", "X-Forwarded-For"])
def test_http_header_reserved_on_http_invoke(stack: cdk.Stack, name: str) -> None:
    step = http_invoke(stack, api_root="https://crm.example.com", headers={name: "x"})
    ((rule, message),) = lint_rules(stack, step)
    assert rule == "http-header-reserved"
    assert f"state 'Fetch' Arguments.Headers={name!r}" in message


@pytest.mark.parametrize(
    "root",
    ["http://crm.example.com", "https://10.0.0.12", "https://crm.internal", "https://u:p@x.com"],
)
def test_http_endpoint_host_on_http_invoke(stack: cdk.Stack, root: str) -> None:
    ((rule, message),) = lint_rules(stack, http_invoke(stack, api_root=root))
    assert rule == "http-endpoint-host"
    assert f"{root}/customers" in message


def test_http_invoke_that_aws_accepts_passes(stack: cdk.Stack) -> None:
    headers = {"Content-Type": "application/json", "X-Request-Id": "{% $states.input.id %}"}
    step = http_invoke(stack, api_root="https://crm.example.com:8443/v2", headers=headers)
    assert lint_rules(stack, step) == []


def test_http_task_endpoint_known_only_at_run_time_passes() -> None:
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::http:invoke",
        "Parameters": {"ApiEndpoint.$": "$.url", "Method": "GET", "Headers": {"Accept": "*/*"}},
        "End": True,
    }
    definition = {"StartAt": "Call", "States": {"Call": task}}
    assert [f.rule for f in lint_definition(definition) if f.rule.startswith("http-")] == []
    task["Parameters"] = {"ApiEndpoint": "http://api.example.com", "Method": "GET"}
    assert [f.rule for f in lint_definition(definition)] == ["http-endpoint-host"]


# -- connection-secret-kind ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("auth", "argument"),
    [
        (
            lambda: HttpAuth.api_key(
                header_name="x-api-key", value=cdk.SecretValue.unsafe_plain_text("k")
            ),
            "value",
        ),
        (
            lambda: HttpAuth.api_key(
                header_name="x-api-key", value=cdk.SecretValue.ssm_secure("/partner/api-key", "1")
            ),
            "value",
        ),
        (lambda: HttpAuth.basic(username="ops:admin", password=API_KEY), "username"),
        (lambda: HttpAuth.basic(username="ops\n", password=API_KEY), "username"),
        (
            lambda: HttpAuth.oauth_client_credentials(
                authorization_endpoint="https://auth.example.com/token",
                client_id="",
                client_secret=API_KEY,
            ),
            "client_id",
        ),
    ],
)
def test_connection_secret_kind(stack: cdk.Stack, auth: Any, argument: str) -> None:
    refused("connection-secret-kind", lambda: call(stack, auth=auth()), argument=argument)


def test_connection_secrets_from_secrets_manager_pass(stack: cdk.Stack) -> None:
    basic = HttpAuth.basic(
        username="ops-bot", password=cdk.SecretValue.secrets_manager("partner/pw")
    )
    accepted(lambda: call(stack, auth=basic))


# -- approval-token-in-expression ----------------------------------------------------------------
def approval(
    stack: cdk.Stack, message: Any, channel: ApprovalChannel | None = None
) -> HumanApproval:
    return HumanApproval(
        stack,
        "Review",
        channel=channel or ApprovalChannel.sns_topic(sns.Topic(stack, "Reviews")),
        timeout=cdk.Duration.hours(1),
        message=message,
    )


@pytest.mark.parametrize(
    "message",
    [
        {"token": "$states.context.Task.Token"},  # a literal, never evaluated
        {"token": "$$.Task.Token"},  # JSONPath in a JSONata state: also a literal
        {"token.$": "$$.Task.Token"},
        {"text": "Please review {% $states.context.Task.Token %}"},  # not the whole string
        "{% $states.input.summary %}",
    ],
)
def test_approval_token_in_expression(stack: cdk.Stack, message: Any) -> None:
    refused("approval-token-in-expression", lambda: approval(stack, message), argument="message")


def test_approval_messages_with_the_token_pass(stack: cdk.Stack) -> None:
    accepted(
        lambda: approval(
            stack, {"token": "{% $states.context.Task.Token %}", "doc": "{% $states.input %}"}
        )
    )
    accepted(
        lambda: HumanApproval(
            stack,
            "Other",
            channel=ApprovalChannel.sns_topic(sns.Topic(stack, "T2")),
            timeout=cdk.Duration.hours(1),
            message="{% 'Review ' & $states.input.id & ': ' & $states.context.Task.Token %}",
        )
    )


# -- sqs-fifo-message-group ----------------------------------------------------------------------
def test_sqs_fifo_message_group(stack: cdk.Stack) -> None:
    queue = sqs.Queue(stack, "Reviews", fifo=True)
    refused(
        "sqs-fifo-message-group",
        lambda: ApprovalChannel.sqs_queue(queue),
        argument="message_group_id",
    )
    refused(
        "sqs-fifo-message-group",
        lambda: ApprovalChannel.sqs_queue(queue, message_group_id="has space"),
        argument="message_group_id",
    )


def test_sqs_fifo_with_a_group_sends_group_and_deduplication_ids(stack: cdk.Stack) -> None:
    queue = sqs.Queue(stack, "Reviews", fifo=True)
    channel = accepted(lambda: ApprovalChannel.sqs_queue(queue, message_group_id="approvals"))
    assert isinstance(channel, ApprovalChannel)
    Workflow(stack, "Flow", definition=approval(stack, None, channel))
    (machine,) = load(stack)
    arguments = machine.definition["States"]["ReviewRequest"]["Arguments"]
    assert arguments["MessageGroupId"] == "approvals"
    assert (
        arguments["MessageDeduplicationId"] == "{% $hash($states.context.Task.Token, 'SHA-256') %}"
    )
    accepted(lambda: ApprovalChannel.sqs_queue(sqs.Queue(stack, "Standard")))


# -- state-machine-name --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name", ["orders\nsummary", "order-summary\n", "orders summary", "a" * 81, "orders/summary", ""]
)
def test_state_machine_name(stack: cdk.Stack, name: str) -> None:
    refused(
        "state-machine-name",
        lambda: Workflow(stack, "Flow", definition=sfn.Pass(stack, "P"), state_machine_name=name),
        argument="state_machine_name",
    )


# -- state-machine-name-unique -------------------------------------------------------------------
def test_state_machine_name_unique(app: cdk.App) -> None:
    env = cdk.Environment(account="111122223333", region="us-east-1")
    one, two = cdk.Stack(app, "One", env=env), cdk.Stack(app, "Two", env=env)
    Workflow(one, "Flow", definition=sfn.Pass(one, "P"), state_machine_name="order-summary")
    refused(
        "state-machine-name-unique",
        lambda: Workflow(
            two, "Flow", definition=sfn.Pass(two, "P"), state_machine_name="order-summary"
        ),
        argument="state_machine_name",
        value="order-summary",
    )


def test_state_machine_names_per_region_pass(app: cdk.App) -> None:
    east = cdk.Stack(app, "East", env=cdk.Environment(account="111122223333", region="us-east-1"))
    west = cdk.Stack(app, "West", env=cdk.Environment(account="111122223333", region="us-west-2"))
    for stack in (east, west):
        accepted(
            lambda stack=stack: Workflow(
                stack, "Flow", definition=sfn.Pass(stack, "P"), state_machine_name="order-summary"
            )
        )
    accepted(
        lambda: Workflow(
            east, "Other", definition=sfn.Pass(east, "Q"), state_machine_name="order-triage"
        )
    )
