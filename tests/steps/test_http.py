"""CallHttpApi: rendered ASL (snapshots), least-privilege IAM, URL checks and secret handling."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_events as events
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk.assertions import Match, Template
from syrupy.assertion import SnapshotAssertion

from lambdaless import CallHttpApi, HttpAuth, LambdalessError, Workflow

Asl = Callable[[cdk.Stack], dict[str, Any]]
API_KEY = cdk.SecretValue.secrets_manager("lambdaless/test/api-key")
CONNECTION_ARN = (
    "arn:aws:events:us-east-1:111122223333:connection/partner/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
)
SECRET_ARN = (
    "arn:aws:secretsmanager:us-east-1:111122223333:secret:events!connection/partner/"
    "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0-AbCdEf"
)


def api_key() -> HttpAuth:
    return HttpAuth.api_key(header_name="x-api-key", value=API_KEY)


def machine(stack: cdk.Stack, definition: sfn.IChainable, **kwargs: Any) -> Workflow:
    return Workflow(stack, "Workflow", definition=definition, **kwargs)


def the_state(asl: Asl, stack: cdk.Stack, name: str = "Call") -> dict[str, Any]:
    return asl(stack)["States"][name]


# -- snapshots of every variant --------------------------------------------------------------------
def test_static_get(stack: cdk.Stack, asl: Asl, snapshot_json: SnapshotAssertion) -> None:
    machine(stack, CallHttpApi(stack, "Call", base_url="https://api.example.com", auth=api_key()))
    assert asl(stack) == snapshot_json


def test_dynamic_path_with_status_routing_and_variable(
    stack: cdk.Stack, asl: Asl, snapshot_json: SnapshotAssertion
) -> None:
    not_found = sfn.Pass(stack, "NotFound")
    conflict = sfn.Pass(stack, "Conflict")
    client_error = sfn.Fail(stack, "ClientError")
    server_error = sfn.Fail(stack, "ServerError")
    call = CallHttpApi(
        stack,
        "Call",
        base_url="https://api.example.com/v1/",
        path="{% 'users/' & $states.input.userId %}",
        auth=api_key(),
        on_status={"5xx": server_error, "4xx": client_error, 409: conflict, 404: not_found},
        assign_result_to="user",
    )
    machine(stack, call)
    definition = asl(stack)
    catches = definition["States"]["Call"]["Catch"]
    # Specific codes first, then classes; a class expands to its hundred codes.
    assert [c["Next"] for c in catches] == ["NotFound", "Conflict", "ClientError", "ServerError"]
    assert catches[2]["ErrorEquals"][0] == "States.Http.StatusCode.400"
    assert len(catches[2]["ErrorEquals"]) == 100
    assert definition == snapshot_json


def test_post_json_body_headers_query(
    us_stack: cdk.Stack, asl: Asl, snapshot_json: SnapshotAssertion
) -> None:
    call = CallHttpApi(
        us_stack,
        "Call",
        base_url="https://api.example.com",
        method="post",
        path="/orders",
        headers={"Content-Type": "application/json", "X-Request-Id": "{% $uuid() %}"},
        query={"dryRun": "false"},
        body={"sku": "{% $states.input.sku %}", "quantity": 1},
        auth=api_key(),
        timeout=cdk.Duration.seconds(30),
        comment="Create an order",
    )
    machine(us_stack, call)
    assert asl(us_stack) == snapshot_json


def test_form_encoded_body(stack: cdk.Stack, asl: Asl, snapshot_json: SnapshotAssertion) -> None:
    call = CallHttpApi(
        stack,
        "Call",
        base_url="https://api.example.com",
        method="POST",
        path="/forms",
        form={"tags": "{% $states.input.tags %}", "name": "lambdaless"},
        array_format="BRACKETS",
        auth=api_key(),
    )
    machine(stack, call)
    state = the_state(asl, stack)
    assert state["Arguments"]["Transform"] == {
        "RequestBodyEncoding": "URL_ENCODED",
        "RequestEncodingOptions": {"ArrayFormat": "BRACKETS"},
    }
    assert state["Arguments"]["Headers"] == {"Content-Type": "application/x-www-form-urlencoded"}
    assert asl(stack) == snapshot_json


def test_basic_auth_connection(
    stack: cdk.Stack, template: Callable[[cdk.Stack], Template], snapshot_json: SnapshotAssertion
) -> None:
    secret = secretsmanager.Secret(stack, "Password")
    call = CallHttpApi(
        stack,
        "Call",
        base_url="https://api.example.com",
        auth=HttpAuth.basic(username="svc", password=secret.secret_value),
        retry=[],
    )
    machine(stack, call)
    connection = template(stack).find_resources("AWS::Events::Connection")
    assert next(iter(connection.values()))["Properties"] == snapshot_json


def test_oauth_connection(
    stack: cdk.Stack, template: Callable[[cdk.Stack], Template], snapshot_json: SnapshotAssertion
) -> None:
    call = CallHttpApi(
        stack,
        "Call",
        base_url="https://api.example.com",
        auth=HttpAuth.oauth_client_credentials(
            authorization_endpoint="https://auth.example.com/oauth2/token",
            client_id="lambdaless",
            client_secret=cdk.SecretValue.secrets_manager("oauth", json_field="clientSecret"),
            body_parameters={"grant_type": "client_credentials"},
        ),
    )
    machine(stack, call)
    connection = template(stack).find_resources("AWS::Events::Connection")
    assert next(iter(connection.values()))["Properties"] == snapshot_json


def test_imported_connection(
    us_stack: cdk.Stack, asl: Asl, snapshot_json: SnapshotAssertion
) -> None:
    call = CallHttpApi(
        us_stack,
        "Call",
        base_url="https://partner.example.com",
        auth=HttpAuth.imported(connection_arn=CONNECTION_ARN, secret_arn=SECRET_ARN),
    )
    machine(us_stack, call)
    assert Template.from_stack(us_stack).find_resources("AWS::Events::Connection") == {}
    assert the_state(asl, us_stack)["Arguments"]["Authentication"] == {
        "ConnectionArn": CONNECTION_ARN
    }
    assert asl(us_stack) == snapshot_json


def test_in_jsonpath_state_machine(
    stack: cdk.Stack, asl: Asl, snapshot_json: SnapshotAssertion
) -> None:
    call = CallHttpApi(stack, "Call", base_url="https://api.example.com", auth=api_key())
    machine(stack, call, query_language=sfn.QueryLanguage.JSON_PATH)
    definition = asl(stack)
    assert definition["States"]["Call"]["QueryLanguage"] == "JSONata"
    assert definition == snapshot_json


def test_shared_connection_between_steps(stack: cdk.Stack, asl: Asl) -> None:
    first = CallHttpApi(stack, "First", base_url="https://api.example.com", auth=api_key())
    second = CallHttpApi(
        stack,
        "Second",
        base_url="https://api.example.com",
        auth=HttpAuth.connection(first.connection),
    )
    machine(stack, first.next(second))
    assert len(Template.from_stack(stack).find_resources("AWS::Events::Connection")) == 1
    states = asl(stack)["States"]
    assert (
        states["First"]["Arguments"]["Authentication"]
        == states["Second"]["Arguments"]["Authentication"]
    )


# -- IAM ----------------------------------------------------------------------------------------
def policy_statements(stack: cdk.Stack) -> list[dict[str, Any]]:
    policies = Template.from_stack(stack).find_resources("AWS::IAM::Policy")
    statements: list[dict[str, Any]] = []
    for policy in policies.values():
        statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return statements


def test_iam_static_endpoint_is_exact(us_stack: cdk.Stack) -> None:
    workflow = machine(
        us_stack,
        CallHttpApi(
            us_stack, "Call", base_url="https://api.example.com", path="/v1/status", auth=api_key()
        ),
    )
    machine_id = us_stack.resolve(workflow.state_machine.state_machine_arn)["Ref"]
    Template.from_stack(us_stack).has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        {
                            "Action": "states:InvokeHTTPEndpoint",
                            "Effect": "Allow",
                            # the calling state machine only (AWS docs, "call-https-apis")
                            "Resource": {"Ref": machine_id},
                            "Condition": {
                                "StringEquals": {
                                    "states:HTTPEndpoint": "https://api.example.com/v1/status",
                                    "states:HTTPMethod": "GET",
                                }
                            },
                        }
                    ]
                )
            }
        },
    )


def test_iam_connection_and_secret_only(stack: cdk.Stack) -> None:
    machine(stack, CallHttpApi(stack, "Call", base_url="https://api.example.com", auth=api_key()))
    statements = policy_statements(stack)
    by_action = {json.dumps(s["Action"]): s for s in statements}
    (connection_id,) = Template.from_stack(stack).find_resources("AWS::Events::Connection")
    assert by_action['"events:RetrieveConnectionCredentials"']["Resource"] == {
        "Fn::GetAtt": [connection_id, "Arn"]
    }
    assert by_action['["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]'][
        "Resource"
    ] == {"Fn::GetAtt": [connection_id, "SecretArn"]}
    for statement in statements:
        if any(
            a.split(":")[0] in ("events", "secretsmanager", "states")
            for a in (
                [statement["Action"]]
                if isinstance(statement["Action"], str)
                else statement["Action"]
            )
        ):
            assert statement["Resource"] != "*"


def test_iam_imported_connection(us_stack: cdk.Stack) -> None:
    machine(
        us_stack,
        CallHttpApi(
            us_stack,
            "Call",
            base_url="https://partner.example.com",
            method="DELETE",
            path="{% 'items/' & $states.input.id %}",
            auth=HttpAuth.imported(connection_arn=CONNECTION_ARN, secret_arn=SECRET_ARN),
        ),
    )
    statements = policy_statements(us_stack)
    assert {
        "Action": "events:RetrieveConnectionCredentials",
        "Effect": "Allow",
        "Resource": CONNECTION_ARN,
    } in statements
    assert {
        "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
        "Effect": "Allow",
        "Resource": SECRET_ARN,
    } in statements
    invoke = next(s for s in statements if s["Action"] == "states:InvokeHTTPEndpoint")
    assert invoke["Condition"] == {
        "StringLike": {"states:HTTPEndpoint": "https://partner.example.com/*"},
        "StringEquals": {"states:HTTPMethod": "DELETE"},
    }


def string_like(pattern: str, value: str) -> bool:
    """IAM's StringLike: case-sensitive, '*' any run of characters, '?' exactly one."""
    regex = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.fullmatch(regex, value, flags=re.DOTALL) is not None


def condition_allows(condition: dict[str, dict[str, Any]], endpoint: str, method: str) -> bool:
    """Every operator and key must hold (AND); a list of values is any-of (OR)."""
    context = {"states:HTTPEndpoint": endpoint, "states:HTTPMethod": method}
    for operator, keys in condition.items():
        for key, values in keys.items():
            values = values if isinstance(values, list) else [values]
            if operator == "StringEquals":
                ok = context[key] in values
            elif operator == "StringLike":
                ok = any(string_like(v, context[key]) for v in values)
            else:
                raise AssertionError(f"unexpected operator {operator}")
            if not ok:
                return False
    return True


@pytest.mark.parametrize(
    ("path", "endpoint", "allowed"),
    [
        ("{% $states.input.path %}", "https://api.example.com/users/1", True),
        ("{% $states.input.path %}", "https://api.example.com/", True),
        ("{% $states.input.path %}", "https://api.example.com.evil.tld", False),
        ("{% $states.input.path %}", "https://api.example.com.evil.tld/users", False),
        ("{% $states.input.path %}", "https://api.example.community", False),
        ("{% $states.input.path %}", "https://api.example.community/users", False),
        ("{% $states.input.path %}", "https://api.example.com@evil.tld/", False),
        ("{% $states.input.path %}", "http://api.example.com/users", False),
        ("/users", "https://api.example.com/users", True),
        ("/users", "https://api.example.com/users/2", False),
        ("/users", "https://api.example.com.evil.tld/users", False),
        ("/users", "https://api.example.community/users", False),
    ],
)
def test_generated_condition_has_a_path_boundary(
    stack: cdk.Stack, path: str, endpoint: str, allowed: bool
) -> None:
    call = CallHttpApi(stack, "Call", base_url="https://api.example.com", path=path, auth=api_key())
    machine(stack, call)
    invoke = next(s for s in policy_statements(stack) if s["Action"] == "states:InvokeHTTPEndpoint")
    assert condition_allows(invoke["Condition"], endpoint, "GET") is allowed
    assert not condition_allows(invoke["Condition"], "https://api.example.com/users", "POST")


def test_aws_cdk_lib_style_condition_would_match_the_attack() -> None:
    # Why the boundary matters: aws-cdk-lib's HttpInvoke writes "<apiRoot>*".
    assert string_like("https://api.example.com*", "https://api.example.com.evil.tld")
    assert string_like("https://api.example.com*", "https://api.example.community")
    assert not string_like("https://api.example.com/*", "https://api.example.com.evil.tld")


# -- validation -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"base_url": "http://api.example.com"}, "https only"),
        ({"base_url": "https://user:pass@api.example.com"}, "no credentials"),
        ({"base_url": "https://token@api.example.com"}, "no credentials"),
        ({"base_url": "api.example.com"}, "an https URL"),
        ({"base_url": "https://"}, "an https URL"),
        ({"base_url": "https://api.example.com?x=1"}, "query="),
        ({"base_url": "https://api.example.com/v1#top"}, "query="),
        ({"base_url": "https://api.example.com/*"}, "an https URL"),
        ({"base_url": "https://api.exa mple.com"}, "an https URL"),
        ({"base_url": "https://api.example.com:99999"}, "an https URL"),
        ({"base_url": "https://localhost"}, "a public domain name"),
        ({"base_url": "{% $states.input.url %}"}, "an https URL"),
        ({"method": "FETCH"}, "one of GET, POST"),
        ({"method": "{% $states.input.method %}"}, "one of GET, POST"),
        ({"path": "/users?id=1"}, "a path like"),
        ({"path": "/../admin"}, "a path like"),
        ({"body": {"a": 1}}, "POST, PUT, PATCH or DELETE"),
        ({"method": "POST", "body": {"a": 1}, "form": {"b": 2}}, "not both"),
        ({"method": "POST", "form": {"b": 2}, "array_format": "SEMICOLONS"}, "BRACKETS"),
        ({"array_format": "BRACKETS"}, "unless form"),
        ({"headers": ["x"]}, "a dict"),
        ({"on_status": {200: None}}, "a state or chain"),
        ({"assign_result_to": "1bad"}, "variable name"),
    ],
)
def test_refuses_bad_input(stack: cdk.Stack, kwargs: dict[str, Any], message: str) -> None:
    options: dict[str, Any] = {"base_url": "https://api.example.com", "auth": api_key()}
    options.update(kwargs)
    with pytest.raises(LambdalessError, match=re.escape(message)) as error:
        CallHttpApi(stack, "Call", **options)
    assert "=" in str(error.value)  # names the argument


@pytest.mark.parametrize("status", [200, 204, 99, 600, "2xx", "6xx", "40x", "teapot", True])
def test_refuses_bad_status(stack: cdk.Stack, status: Any) -> None:
    with pytest.raises(LambdalessError, match="on_status"):
        CallHttpApi(
            stack,
            "Call",
            base_url="https://api.example.com",
            auth=api_key(),
            on_status={status: sfn.Pass(stack, "Handler")},
        )


@pytest.mark.parametrize(
    "auth",
    [
        lambda: HttpAuth.api_key(
            header_name="x-api-key", value=cdk.SecretValue.unsafe_plain_text("hunter2")
        ),
        lambda: HttpAuth.api_key(header_name="x-api-key", value="hunter2"),  # type: ignore[arg-type]
        lambda: HttpAuth.basic(username="u", password=cdk.SecretValue.unsafe_plain_text("pw")),
        lambda: HttpAuth.oauth_client_credentials(
            authorization_endpoint="https://auth.example.com/token",
            client_id="id",
            client_secret=cdk.SecretValue.unsafe_plain_text("s3cr3t"),
        ),
    ],
)
def test_refuses_literal_secrets(stack: cdk.Stack, auth: Callable[[], HttpAuth]) -> None:
    with pytest.raises(LambdalessError, match="Secrets Manager") as error:
        CallHttpApi(stack, "Call", base_url="https://api.example.com", auth=auth())
    for secret in ("hunter2", "pw", "s3cr3t"):
        assert secret not in str(error.value)


@pytest.mark.parametrize(
    "auth",
    [
        lambda: HttpAuth.api_key(header_name="x-api-key", value=API_KEY),
        lambda: HttpAuth.basic(username="u", password=cdk.SecretValue.secrets_manager("pw")),
        lambda: HttpAuth.oauth_client_credentials(
            authorization_endpoint="https://auth.example.com/token",
            client_id="id",
            client_secret=cdk.SecretValue.secrets_manager("oauth", json_field="clientSecret"),
        ),
    ],
)
def test_secret_check_works_with_check_secret_usage_flag(
    tmp_path: Any, auth: Callable[[], HttpAuth]
) -> None:
    # `cdk init` writes this flag into every new app's cdk.json; resolving a SecretValue under it
    # raises, so the reference check must not resolve the SecretValue itself.
    app = cdk.App(outdir=str(tmp_path), context={"@aws-cdk/core:checkSecretUsage": True})
    stack = cdk.Stack(app, "Flagged")
    call = CallHttpApi(stack, "Call", base_url="https://api.example.com", auth=auth())
    Workflow(stack, "Flow", definition=call)
    connections = Template.from_stack(stack).find_resources("AWS::Events::Connection")
    assert len(connections) == 1
    assert "{{resolve:secretsmanager:" in json.dumps(connections)
    literal = HttpAuth.api_key(
        header_name="x-api-key", value=cdk.SecretValue.unsafe_plain_text("hunter2")
    )
    with pytest.raises(LambdalessError, match="Secrets Manager"):
        CallHttpApi(stack, "Literal", base_url="https://api.example.com", auth=literal)


def test_refuses_bad_imported_arns_and_oauth_endpoint() -> None:
    with pytest.raises(LambdalessError, match="secret_arn"):
        HttpAuth.imported(connection_arn=CONNECTION_ARN, secret_arn="arn:aws:s3:::bucket")
    with pytest.raises(LambdalessError, match="connection_arn"):
        HttpAuth.imported(connection_arn="partner", secret_arn=SECRET_ARN)
    with pytest.raises(LambdalessError, match="https only"):
        HttpAuth.oauth_client_credentials(
            authorization_endpoint="http://auth.example.com/token",
            client_id="id",
            client_secret=API_KEY,
        )


def test_accepts_an_events_connection(stack: cdk.Stack) -> None:
    connection = events.Connection(
        stack, "Mine", authorization=events.Authorization.api_key("x-api-key", API_KEY)
    )
    call = CallHttpApi(
        stack, "Call", base_url="https://api.example.com", auth=HttpAuth.connection(connection)
    )
    assert call.connection is connection


# -- examples -------------------------------------------------------------------------------------
SECRET_FIELDS = ("ApiKeyValue", "Password", "ClientSecret")


def _secret_fields(node: Any, path: str = "") -> list[tuple[str, Any]]:
    """Every value the template holds under a secret-bearing key, and every secret parameter."""
    found: list[tuple[str, Any]] = []
    if isinstance(node, dict):
        if node.get("IsValueSecret") is True:
            found.append((f"{path}.Value", node.get("Value")))
        for key, value in node.items():
            if key in SECRET_FIELDS or key == "SecretString":
                found.append((f"{path}.{key}", value))
            found.extend(_secret_fields(value, f"{path}.{key}"))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(_secret_fields(value, f"{path}[{index}]"))
    return found


def _is_dynamic_reference(value: Any) -> bool:
    rendered = json.dumps(value)
    return rendered.startswith(('"{{resolve:secretsmanager:', '"{{resolve:ssm-secure:')) or (
        isinstance(value, dict) and '"{{resolve:secretsmanager:' in rendered
    )


@pytest.fixture(scope="module")
def example_templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    from examples.app import EXAMPLES

    app = cdk.App(outdir=str(tmp_path_factory.mktemp("examples") / "cdk.out"))
    stacks = [EXAMPLES[name](app, name) for name in ("HttpAuthFlow", "EnrichAndSummarize")]
    return {s.stack_name: Template.from_stack(s).to_json() for s in stacks}


def test_examples_hold_no_secret_value(example_templates: dict[str, dict[str, Any]]) -> None:
    for name, template in example_templates.items():
        connections = [
            r for r in template["Resources"].values() if r["Type"] == "AWS::Events::Connection"
        ]
        assert connections, name
        fields = _secret_fields(template)
        assert fields, name
        for path, value in fields:
            assert _is_dynamic_reference(value), f"{name}{path} holds {value!r}"
        rendered = json.dumps(template)
        for mock_secret in ("session-token-for-tests",):
            assert mock_secret not in rendered


def test_examples_iam_is_bounded(example_templates: dict[str, dict[str, Any]]) -> None:
    for name, template in example_templates.items():
        for resource in template["Resources"].values():
            if resource["Type"] != "AWS::IAM::Policy":
                continue
            for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
                actions = statement["Action"]
                actions = [actions] if isinstance(actions, str) else actions
                if "states:InvokeHTTPEndpoint" in actions:
                    endpoint = {
                        **statement["Condition"].get("StringEquals", {}),
                        **statement["Condition"].get("StringLike", {}),
                    }["states:HTTPEndpoint"]
                    assert endpoint.startswith("https://")
                    assert "*" not in endpoint.rstrip("*")
                    assert not endpoint.endswith("*") or endpoint.endswith("/*"), name
                    assert "states:HTTPMethod" in statement["Condition"]["StringEquals"]
                if any(a.startswith(("events:", "secretsmanager:")) for a in actions):
                    assert statement["Resource"] != "*", name


@pytest.mark.parametrize(
    ("stack_name", "test_case", "payload", "status", "retries", "expected"),
    [
        (
            "HttpAuthFlow",
            "HappyPath",
            {"clientId": "c-1"},
            "SUCCEEDED",
            0,
            {"id": "client-1", "plan": "enterprise"},
        ),
        ("HttpAuthFlow", "AuthThrottledThenSucceeds", {"clientId": "c-1"}, "SUCCEEDED", 1, None),
        ("HttpAuthFlow", "ApiKeyRejected", {"clientId": "c-1"}, "FAILED", 0, None),
        ("EnrichAndSummarize", "HappyPath", {"customerId": "c-123"}, "SUCCEEDED", 0, None),
        (
            "EnrichAndSummarize",
            "CrmThrottledThenAnswers",
            {"customerId": "c-1"},
            "SUCCEEDED",
            2,
            None,
        ),
        (
            "EnrichAndSummarize",
            "CustomerNotFound",
            {"customerId": "c-9"},
            "SUCCEEDED",
            0,
            {"found": False, "customerId": "c-9"},
        ),
    ],
)
def test_examples_run_locally(
    example_templates: dict[str, dict[str, Any]],
    stack_name: str,
    test_case: str,
    payload: dict[str, Any],
    status: str,
    retries: int,
    expected: dict[str, Any] | None,
) -> None:
    from tests.conftest import ROOT

    from lambdaless.testing.runner import LocalRunner

    result = LocalRunner(example_templates[stack_name]).run(
        input=payload,
        mock_config=ROOT / "examples" / "mocks" / f"{stack_name}.json",
        test_case=test_case,
    )
    assert result.status == status
    assert result.retries == retries  # 429 is retried before anything else
    if expected is not None:
        output = result.output
        assert (output.get("body") if "body" in output else output) == expected


def test_status_handler_reads_code_and_body(stack: cdk.Stack) -> None:
    from lambdaless.testing.mocks import http_response
    from lambdaless.testing.runner import LocalRunner

    handler = sfn.Pass(stack, "Conflict")
    call = CallHttpApi(
        stack,
        "Call",
        base_url="https://api.example.com",
        method="PUT",
        path="/items/1",
        body={"v": 2},
        auth=api_key(),
        on_status={409: handler},
    )
    machine(stack, call)
    result = LocalRunner(stack).run(
        input={}, responses={"Call": http_response(409, {"reason": "version mismatch"})}
    )
    assert result.status == "SUCCEEDED"
    assert result.output["statusCode"] == 409
    assert result.output["body"] == {"reason": "version mismatch"}
    assert result.output["error"] == "States.Http.StatusCode.409"


def _invoke_grants(stack: cdk.Stack) -> list[tuple[str, Any]]:
    """(policy logical id, Resource) of every states:InvokeHTTPEndpoint statement."""
    policies = Template.from_stack(stack).find_resources("AWS::IAM::Policy")
    return [
        (logical_id, statement["Resource"])
        for logical_id, policy in policies.items()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Action"] == "states:InvokeHTTPEndpoint"
    ]


def test_invoke_endpoint_is_granted_on_the_calling_state_machine_only(stack: cdk.Stack) -> None:
    """Not on stateMachine:* (issue 12, item 8): on the Workflow's own state machine, in a
    policy of its own (the default policy naming the state machine would be a cycle)."""
    workflow = machine(
        stack, CallHttpApi(stack, "Call", base_url="https://api.example.com", auth=api_key())
    )
    (grant,) = _invoke_grants(stack)
    assert grant[1] == stack.resolve(workflow.state_machine.state_machine_arn)
    assert grant[0].startswith("WorkflowHttpEndpoints")


def test_distributed_children_are_granted_by_their_qualified_arn(stack: cdk.Stack) -> None:
    from lambdaless import FanOut

    call = CallHttpApi(stack, "Call", base_url="https://api.example.com", auth=api_key())
    workflow = machine(stack, FanOut(stack, "Each", step=call, max_concurrency=5, distributed=True))
    ((_, resources),) = _invoke_grants(stack)
    arn = stack.resolve(workflow.state_machine.state_machine_arn)
    assert resources == [arn, {"Fn::Join": ["", [arn, "/*"]]}]


def test_a_plain_state_machine_must_grant_the_endpoint(tmp_path: Any) -> None:
    def plain(grant: bool) -> cdk.App:
        app = cdk.App(outdir=str(tmp_path / str(grant)))
        stack = cdk.Stack(app, "S")
        call = CallHttpApi(stack, "Call", base_url="https://api.example.com", auth=api_key())
        state_machine = sfn.StateMachine(
            stack, "Plain", definition_body=sfn.DefinitionBody.from_chainable(call)
        )
        if grant:
            call.grant_endpoint(state_machine)
        return app

    with pytest.raises(Exception, match=r"CallHttpApi 'Call' has no states:InvokeHTTPEndpoint"):
        plain(False).synth()
    template = plain(True).synth().get_stack_by_name("S").template
    grants = [
        statement["Resource"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::IAM::Policy"
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
        if statement["Action"] == "states:InvokeHTTPEndpoint"
    ]
    assert len(grants) == 1
    assert list(grants[0]) == ["Ref"]
