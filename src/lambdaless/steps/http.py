"""``CallHttpApi``: call an HTTPS API directly with the HTTP Task (``http:invoke``).

Service facts (AWS docs, "Call HTTPS APIs in Step Functions workflows",
https://docs.aws.amazon.com/step-functions/latest/dg/call-https-apis.html):

* The task's arguments are ``ApiEndpoint``, ``Method``, ``Authentication.ConnectionArn`` (an
  EventBridge connection, always required), ``Headers``, ``QueryParameters``, ``RequestBody``
  and ``Transform`` (``RequestBodyEncoding: URL_ENCODED`` with
  ``RequestEncodingOptions.ArrayFormat`` one of ``BRACKETS``, ``COMMAS``, ``INDICES`` (the
  default) or ``REPEAT``).
* The result is ``{"Headers", "ResponseBody", "StatusCode", "StatusText"}``; a JSON response
  body arrives already parsed in ``ResponseBody``.
* A non-2xx answer fails the task as ``States.Http.StatusCode.<code>``; a connection failure or
  the task's own ~60 s limit as ``States.Http.Socket``.
* The execution role needs ``states:InvokeHTTPEndpoint`` on the state machine (condition keys
  ``states:HTTPEndpoint`` and ``states:HTTPMethod``), ``events:RetrieveConnectionCredentials`` on
  the connection and ``secretsmanager:GetSecretValue`` / ``DescribeSecret`` on the secret
  EventBridge keeps the connection's credentials in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

import aws_cdk as cdk
import constructs
import jsii
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from lambdaless._errors import at_path, invalid, require
from lambdaless._stack_env import StackEnv
from lambdaless.prompts import is_expression
from lambdaless.retry import HTTP_TRANSIENT_ERRORS, RetryPolicy
from lambdaless.rules.expressions import check_value
from lambdaless.rules.integrations import (
    CONNECTION_SECRET,
    ENDPOINT_HOST,
    check_credential,
    check_headers,
    check_host,
    check_no_control_characters,
    secret_reference_kind,
)
from lambdaless.steps._task import DirectTask, check_variable_name

HTTP_INVOKE_RESOURCE = "arn:{partition}:states:::http:invoke"
#: Methods the HTTP Task accepts.
HTTP_METHODS: tuple[str, ...] = ("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD")
#: ``RequestEncodingOptions.ArrayFormat`` values of a URL-encoded body.
ARRAY_FORMATS: tuple[str, ...] = ("BRACKETS", "COMMAS", "INDICES", "REPEAT")
ArrayFormat = Literal["BRACKETS", "COMMAS", "INDICES", "REPEAT"]
HTTP_STATUS_ERROR_PREFIX = "States.Http.StatusCode."

_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# Path characters allowed in a base URL or a static path: RFC 3986 unreserved and sub-delims,
# ":" "@" "%" "/"; never "*" or "?" (IAM wildcards), "'" (JSONata quoting) or whitespace.
_PATH = re.compile(r"^[A-Za-z0-9._~!$&()+,;=:@%/-]*$")
_STATUS_CLASS = re.compile(r"^[1-5]xx$")
_CONNECTION_ARN = re.compile(
    r"^arn:aws(-[a-z]+)*:events:[a-z0-9-]+:\d{12}:connection/(?P<name>[A-Za-z0-9._-]+)/[0-9a-f-]+$"
)
_CONNECTION_SECRET_ARN = re.compile(
    r"^arn:aws(-[a-z]+)*:secretsmanager:[a-z0-9-]+:\d{12}:secret:events!connection/.+$"
)


# -- secrets -------------------------------------------------------------------------------------
def _check_secret(scope: Construct, argument: str, value: Any) -> cdk.SecretValue:
    """Accept only a SecretValue that CloudFormation resolves from Secrets Manager at deploy time
    (a ``{{resolve:secretsmanager:...}}`` dynamic reference): the template then holds a
    reference, never the secret. ``SecretValue.unsafe_plain_text`` resolves to the literal text,
    and an SSM SecureString (``{{resolve:ssm-secure:...}}``) is not resolved in
    ``AWS::Events::Connection`` (CloudFormation user guide, "dynamic-references-ssm-secure-
    strings": the resources that support it); both are refused."""
    allowed = (
        "a SecretValue from Secrets Manager, e.g. SecretValue.secrets_manager('name') or "
        "secret.secret_value_from_json('key'); SecretValue.unsafe_plain_text and plain strings "
        "would write the secret into the template, and CloudFormation does not resolve SSM "
        "SecureString references in an EventBridge connection"
    )
    if not isinstance(value, cdk.SecretValue):
        shown = "<not a SecretValue>" if isinstance(value, str) else value
        raise CONNECTION_SECRET.refuse(argument, shown, allowed)
    # Resolving the SecretValue itself fails synth in apps with the feature flag
    # `@aws-cdk/core:checkSecretUsage` on (every `cdk init` app sets it): read the token it wraps
    # instead. Only its shape is inspected here; the value goes to the connection as a SecretValue.
    kind = secret_reference_kind(cdk.Stack.of(scope).resolve(value.unsafe_unwrap()))
    CONNECTION_SECRET.require(
        kind == "secretsmanager",
        argument,
        "<a literal secret>" if kind == "literal" else "<an SSM SecureString reference>",
        allowed,
    )
    return value


# -- authentication ------------------------------------------------------------------------------
@dataclass(frozen=True)
class HttpAuth:
    """How the HTTP Task authenticates: the EventBridge connection it uses.

    Build one with :meth:`api_key`, :meth:`basic`, :meth:`oauth_client_credentials` (the step
    creates the connection), :meth:`connection` (an ``aws_events`` connection you manage) or
    :meth:`imported` (an existing connection by ARN, with its secret ARN: an imported connection's
    secret cannot be looked up, aws-cdk #30844).
    """

    kind: Literal["api_key", "basic", "oauth", "connection", "imported"]
    options: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def api_key(cls, *, header_name: str, value: cdk.SecretValue) -> HttpAuth:
        """Send ``value`` in the ``header_name`` header (e.g. ``x-api-key``)."""
        check_credential("header_name", header_name)
        require(
            isinstance(header_name, str) and bool(re.match(r"^[A-Za-z0-9-]{1,256}$", header_name)),
            "header_name",
            header_name,
            "an HTTP header name of letters, digits and '-'",
        )
        return cls("api_key", {"header_name": header_name, "value": value})

    @classmethod
    def basic(cls, *, username: str, password: cdk.SecretValue) -> HttpAuth:
        """HTTP Basic authentication."""
        check_credential("username", username)
        return cls("basic", {"username": username, "password": password})

    @classmethod
    def oauth_client_credentials(
        cls,
        *,
        authorization_endpoint: str,
        client_id: str,
        client_secret: cdk.SecretValue,
        http_method: Literal["GET", "POST", "PUT"] = "POST",
        body_parameters: Mapping[str, str] | None = None,
    ) -> HttpAuth:
        """OAuth client credentials: EventBridge fetches and refreshes the token.

        Args:
            authorization_endpoint: the https token URL.
            client_id: the client id (not a secret).
            client_secret: the client secret, from Secrets Manager.
            http_method: how EventBridge calls the token endpoint; POST by default.
            body_parameters: extra form fields for the token request, e.g.
                ``{"grant_type": "client_credentials", "scope": "read"}``; none by default.
        """
        _parse_base_url("authorization_endpoint", authorization_endpoint)
        require(
            http_method in ("GET", "POST", "PUT"), "http_method", http_method, "GET, POST or PUT"
        )
        check_credential("client_id", client_id)
        return cls(
            "oauth",
            {
                "authorization_endpoint": authorization_endpoint,
                "client_id": client_id,
                "client_secret": client_secret,
                "http_method": http_method,
                "body_parameters": dict(body_parameters or {}),
            },
        )

    @classmethod
    def connection(cls, connection: events.IConnection) -> HttpAuth:
        """An EventBridge connection you built (or one another step built: ``step.connection``)."""
        require(
            hasattr(connection, "connection_arn") and hasattr(connection, "connection_secret_arn"),
            "connection",
            connection,
            "an aws_events.IConnection",
        )
        return cls("connection", {"connection": connection})

    @classmethod
    def imported(cls, *, connection_arn: str, secret_arn: str) -> HttpAuth:
        """An existing connection by ARN, with the ARN of the secret EventBridge made for it
        (``arn:...:secret:events!connection/<name>/...``, shown by ``aws events
        describe-connection``)."""
        for argument, value, pattern, example in (
            ("connection_arn", connection_arn, _CONNECTION_ARN, "connection/<name>/<uuid>"),
            ("secret_arn", secret_arn, _CONNECTION_SECRET_ARN, "secret:events!connection/..."),
        ):
            require(
                isinstance(value, str)
                and (cdk.Token.is_unresolved(value) or bool(pattern.match(value))),
                argument,
                value,
                f"an ARN like arn:aws:...:{example}",
            )
        return cls("imported", {"connection_arn": connection_arn, "secret_arn": secret_arn})

    def build(self, scope: Construct, id: str) -> events.IConnection:
        """The connection, created (or imported) in ``scope`` as ``id``."""
        o = self.options
        if self.kind == "connection":
            connection: events.IConnection = o["connection"]
            return connection
        if self.kind == "imported":
            arn = o["connection_arn"]
            match = _CONNECTION_ARN.match(arn) if not cdk.Token.is_unresolved(arn) else None
            name = match["name"] if match else cdk.Fn.select(1, cdk.Fn.split("/", arn))
            return events.Connection.from_connection_attributes(
                scope,
                id,
                connection_arn=arn,
                connection_name=name,
                connection_secret_arn=o["secret_arn"],
            )
        if self.kind == "api_key":
            authorization = events.Authorization.api_key(
                o["header_name"], _check_secret(scope, "value", o["value"])
            )
        elif self.kind == "basic":
            authorization = events.Authorization.basic(
                o["username"], _check_secret(scope, "password", o["password"])
            )
        else:
            authorization = events.Authorization.oauth(
                authorization_endpoint=o["authorization_endpoint"],
                client_id=o["client_id"],
                client_secret=_check_secret(scope, "client_secret", o["client_secret"]),
                http_method=events.HttpMethod(o["http_method"]),
                body_parameters={
                    k: events.HttpParameter.from_string(v) for k, v in o["body_parameters"].items()
                }
                or None,
            )
        return events.Connection(scope, id, authorization=authorization)


# -- URLs ----------------------------------------------------------------------------------------
def _parse_base_url(argument: str, url: Any) -> str:
    """Validate an https base URL; return it with its host lower-cased and no trailing '/'."""
    allowed = (
        "an https URL like 'https://api.example.com' or 'https://api.example.com/v1', with no "
        "credentials, query, fragment, '*' or quotes"
    )
    require(isinstance(url, str) and bool(url) and not is_expression(url), argument, url, allowed)
    check_no_control_characters(argument, url)
    ENDPOINT_HOST.require(
        not url.lower().startswith("http://"), argument, url, "https only: " + allowed
    )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise invalid(argument, url, allowed) from None
    ENDPOINT_HOST.require(parts.scheme == "https", argument, url, allowed)
    ENDPOINT_HOST.require(
        parts.username is None and parts.password is None and "@" not in parts.netloc,
        argument,
        url,
        "no credentials in the URL (user:pass@): use auth= and an EventBridge connection",
    )
    host = (parts.hostname or "").lower()
    check_host(argument, url, host)
    labels = host.split(".")
    require(
        len(labels) >= 2 and all(_HOST_LABEL.match(label) for label in labels),
        argument,
        url,
        allowed,
    )
    require(
        not parts.query and not parts.fragment and "?" not in url and "#" not in url,
        argument,
        url,
        allowed + " (pass query parameters as query=)",
    )
    require(bool(_PATH.match(parts.path)) and "//" not in parts.path, argument, url, allowed)
    require(".." not in parts.path.split("/"), argument, url, "no '..' segments: " + allowed)
    netloc = host if port is None else f"{host}:{port}"
    return f"https://{netloc}{parts.path.rstrip('/')}"


def _static_path(path: str) -> str:
    check_no_control_characters("path", path)
    allowed = "a path like '/users/42' (no '?', '#', '*', quotes or '..'), or '{% ... %}'"
    require(bool(_PATH.match(path)), "path", path, allowed)
    require(".." not in path.split("/") and "//" not in path, "path", path, allowed)
    return path.lstrip("/")


def _inner(expression: str) -> str:
    return expression.strip()[2:-2].strip()


# -- status routing ------------------------------------------------------------------------------
def status_errors(status: int | str) -> list[str]:
    """The error names of a status code (``404``) or class (``"4xx"``: 400 to 499)."""
    if isinstance(status, int) and not isinstance(status, bool):
        require(
            100 <= status <= 599 and not 200 <= status <= 299,
            "on_status",
            status,
            "a non-2xx status code from 100 to 599 (2xx never fails the task)",
        )
        return [f"{HTTP_STATUS_ERROR_PREFIX}{status}"]
    if isinstance(status, str) and _STATUS_CLASS.match(status.lower()) and status[0] != "2":
        first = int(status[0]) * 100
        return [f"{HTTP_STATUS_ERROR_PREFIX}{code}" for code in range(first, first + 100)]
    raise invalid(
        "on_status", status, "a status code like 404 or a class '1xx', '3xx', '4xx', '5xx'"
    )


#: The handler's input after a status error: the code, the response body (from the error's Cause,
#: a JSON string of the response when it is one), and the raw error and cause.
STATUS_HANDLER_OUTPUT: dict[str, str] = {
    "statusCode": "{% $number($substringAfter($states.errorOutput.Error, '"
    + HTTP_STATUS_ERROR_PREFIX
    + "')) %}",
    "body": (
        "{% ($c := $states.errorOutput.Cause; "
        "$r := $substring($trim($c), 0, 1) = '{' ? $parse($c) : {}; "
        "$exists($r.ResponseBody) ? $r.ResponseBody : $c) %}"
    ),
    "error": "{% $states.errorOutput.Error %}",
    "cause": "{% $states.errorOutput.Cause %}",
}

#: The step's output on a 2xx answer.
RESPONSE_OUTPUT: dict[str, str] = {
    "statusCode": "{% $states.result.StatusCode %}",
    "headers": "{% $states.result.Headers %}",
    "body": "{% $states.result.ResponseBody %}",
}
_SHAPED_RESULT = (
    "{% {'statusCode': $states.result.StatusCode, 'headers': $states.result.Headers, "
    "'body': $states.result.ResponseBody} %}"
)


class CallHttpApi(DirectTask):
    """Call an HTTPS API directly, authenticated by an EventBridge connection.

    Output on a 2xx answer::

        {"statusCode": 200, "headers": {...}, "body": <parsed JSON, or text>}

    A non-2xx answer fails the task as ``States.Http.StatusCode.<code>``. ``on_status`` routes
    codes (``404``) or classes (``"5xx"``) to handlers, which receive
    ``{"statusCode", "body", "error", "cause"}``. Transient failures (408, 429, 502, 503, 504 and
    socket errors) are retried first with :meth:`RetryPolicy.http_transient`.

    IAM: ``states:InvokeHTTPEndpoint`` on the calling state machine only, for this method and
    this base URL (the exact URL when the path is static; ``<base>/*`` when it comes from state
    data, so a look-alike host such as ``<base>.evil.tld`` never matches), and read access to
    this connection and its secret only. A :class:`~lambdaless.Workflow` grants the first in a
    policy of its own; with a plain ``sfn.StateMachine`` call :meth:`grant_endpoint` (synth
    fails otherwise).
    """

    TRANSIENT_ERRORS: ClassVar[list[str]] = list(HTTP_TRANSIENT_ERRORS)
    METHODS: ClassVar[tuple[str, ...]] = HTTP_METHODS

    @at_path
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        base_url: str,
        auth: HttpAuth,
        method: str = "GET",
        path: str | None = None,
        headers: Mapping[str, Any] | str | None = None,
        query: Mapping[str, Any] | str | None = None,
        body: Any = None,
        form: Mapping[str, Any] | str | None = None,
        array_format: ArrayFormat | None = None,
        on_status: Mapping[int | str, sfn.IChainable] | None = None,
        timeout: cdk.Duration | None = None,
        retry: Sequence[RetryPolicy] | None = None,
        assign_result_to: str | None = None,
        comment: str | None = None,
    ) -> None:
        """
        Args:
            base_url: the API's https root, e.g. ``https://api.example.com/v1``. IAM allows
                this URL and nothing outside it.
            auth: the connection: :meth:`HttpAuth.api_key`, :meth:`HttpAuth.basic`,
                :meth:`HttpAuth.oauth_client_credentials` (the step creates it, as
                ``<id>Connection``), :meth:`HttpAuth.connection` or :meth:`HttpAuth.imported`.
            method: one of GET, POST, PUT, DELETE, PATCH, OPTIONS, HEAD; GET by default.
            path: appended to ``base_url`` after a '/': literal (``/users/42``) or a JSONata
                expression over state data (``"{% 'users/' & $states.input.id %}"``). None by
                default (the base URL itself).
            headers: request headers, a dict (values may be expressions) or one expression.
                Authentication headers come from the connection; none by default.
            query: query parameters (``QueryParameters``); none by default.
            body: a JSON request body (dict, list or expression); none by default.
            form: a body sent URL-encoded instead (``Transform.RequestBodyEncoding:
                URL_ENCODED``); none by default. Excludes ``body``.
            array_format: how ``form`` encodes arrays: BRACKETS, COMMAS, INDICES or REPEAT; the
                service default (INDICES) when None.
            on_status: status code or class -> handler state; specific codes are caught before
                classes. None by default (a non-2xx answer fails the execution).
            timeout: the Task's TimeoutSeconds; by default none (the HTTP Task stops at ~60 s
                with ``States.Http.Socket``).
            retry: retriers; by default ``[RetryPolicy.http_transient()]``. Pass ``[]`` for none.
            assign_result_to: also store the output in this JSONata variable.
            comment: the state's Comment.
        """
        base = _parse_base_url("base_url", base_url)
        require(
            isinstance(method, str) and method.upper() in HTTP_METHODS,
            "method",
            method,
            "one of " + ", ".join(HTTP_METHODS),
        )
        method = method.upper()
        require(
            isinstance(auth, HttpAuth), "auth", auth, "an HttpAuth value, e.g. HttpAuth.api_key"
        )
        check_variable_name("assign_result_to", assign_result_to)
        if body is not None and form is not None:
            raise invalid("body/form", {"body": body, "form": form}, "one of the two, not both")
        if (body is not None or form is not None) and method in ("GET", "HEAD"):
            raise invalid("method", method, "POST, PUT, PATCH or DELETE when a body is sent")
        if array_format is not None:
            require(form is not None, "array_format", array_format, "None unless form= is given")
            require(array_format in ARRAY_FORMATS, "array_format", array_format, str(ARRAY_FORMATS))
        for argument, value in (("headers", headers), ("query", query), ("form", form)):
            require(
                value is None or isinstance(value, Mapping) or is_expression(value),
                argument,
                value,
                "a dict, or a JSONata expression '{% ... %}'",
            )
        for argument, value in (("body", body), ("headers", headers), ("query", query)):
            if value is not None:
                check_value(argument, value)
        if isinstance(headers, Mapping):
            check_headers("headers", headers)

        dynamic_path = path is not None and is_expression(path)
        if path is None:
            endpoint = base
        elif dynamic_path:
            # A leading '/' from the data is dropped, so the URL always continues "<base>/".
            endpoint = f"{{% '{base}/' & $replace($string({_inner(path)}), /^\\/+/, '') %}}"
        else:
            require(isinstance(path, str), "path", path, "text or a JSONata expression")
            rest = _static_path(path)
            endpoint = f"{base}/{rest}" if rest else base

        connection = auth.build(scope, f"{id}Connection")
        arguments: dict[str, Any] = {
            "ApiEndpoint": endpoint,
            "Method": method,
            "Authentication": {"ConnectionArn": connection.connection_arn},
        }
        request_headers: Any = dict(headers) if isinstance(headers, Mapping) else headers
        if form is not None and (request_headers is None or isinstance(request_headers, dict)):
            request_headers = dict(request_headers or {})
            if not any(k.lower() == "content-type" for k in request_headers):
                request_headers["Content-Type"] = "application/x-www-form-urlencoded"
        if request_headers is not None:
            arguments["Headers"] = request_headers
        if query is not None:
            arguments["QueryParameters"] = dict(query) if isinstance(query, Mapping) else query
        if body is not None:
            arguments["RequestBody"] = dict(body) if isinstance(body, Mapping) else body
        if form is not None:
            arguments["RequestBody"] = dict(form) if isinstance(form, Mapping) else form
            transform: dict[str, Any] = {"RequestBodyEncoding": "URL_ENCODED"}
            if array_format is not None:
                transform["RequestEncodingOptions"] = {"ArrayFormat": array_format}
            arguments["Transform"] = transform

        self.base_url = base
        self.method = method
        self.connection = connection
        self.endpoint_condition = _endpoint_condition(base, endpoint, dynamic_path)
        handlers = _ordered_handlers(on_status or {})
        super().__init__(
            scope,
            id,
            resource=HTTP_INVOKE_RESOURCE.format(partition=StackEnv.of(scope).partition),
            arguments=arguments,
            output=RESPONSE_OUTPUT,
            policy_statements=_policy_statements(scope, connection),
            retries=retry if retry is not None else [RetryPolicy.http_transient()],
            timeout=timeout,
            # Assign sees $states.result as Output does: store the same shape.
            assign={assign_result_to: _SHAPED_RESULT} if assign_result_to else None,
            comment=comment,
        )
        #: whether a state machine's role was given states:InvokeHTTPEndpoint for this step
        self.endpoint_granted = False
        self.node.add_validation(_EndpointGranted(self))
        for errors, handler in handlers:
            self.add_catch(handler, errors=errors, outputs=STATUS_HANDLER_OUTPUT)

    def endpoint_statement(self, state_machine_arns: Sequence[str]) -> iam.PolicyStatement:
        """``states:InvokeHTTPEndpoint`` for this step's endpoint and method, on the calling
        state machine (AWS docs, "call-https-apis", IAM permissions: the Resource is the state
        machine's ARN). ``Workflow`` grants it in a policy of its own; see :meth:`grant_endpoint`.
        """
        conditions = {k: dict(v) for k, v in self.endpoint_condition.items()}
        conditions.setdefault("StringEquals", {})["states:HTTPMethod"] = self.method
        self.endpoint_granted = True
        return StackEnv.of(self).statement(
            ["states:InvokeHTTPEndpoint"], list(state_machine_arns), conditions
        )

    def grant_endpoint(self, state_machine: sfn.StateMachine) -> iam.Policy:
        """Grant ``states:InvokeHTTPEndpoint`` to a plain ``sfn.StateMachine`` running this step
        (a :class:`~lambdaless.Workflow` does it itself).

        The grant names the state machine's ARN, which its own role's default policy cannot
        (the state machine depends on that policy: a circular dependency), so it is a separate
        ``iam.Policy`` on the role, as aws-cdk-lib does for a Distributed Map's grants.
        """
        require(
            isinstance(state_machine, sfn.StateMachine),
            "state_machine",
            state_machine,
            "an aws_stepfunctions.StateMachine",
        )
        return iam.Policy(
            self,
            "EndpointPolicy",
            roles=[state_machine.role],
            statements=[self.endpoint_statement([state_machine.state_machine_arn])],
        )


@jsii.implements(constructs.IValidation)
class _EndpointGranted:
    """Fails synth when no state machine was granted ``states:InvokeHTTPEndpoint`` for the
    step: its calls would all be refused (AccessDenied) at run time."""

    def __init__(self, step: CallHttpApi) -> None:
        self._step = step

    def validate(self) -> list[str]:
        if self._step.endpoint_granted:
            return []
        return [
            f"CallHttpApi {self._step.node.id!r} has no states:InvokeHTTPEndpoint grant: use it "
            "in a lambdaless Workflow (which grants it on its state machine) or call "
            "step.grant_endpoint(state_machine) for an aws_stepfunctions.StateMachine"
        ]


def _ordered_handlers(
    on_status: Mapping[int | str, sfn.IChainable],
) -> list[tuple[list[str], sfn.IChainable]]:
    """Specific codes first (ascending), then classes, so a mapped 404 wins over "4xx"."""
    require(isinstance(on_status, Mapping), "on_status", on_status, "a dict of status -> state")
    codes: list[tuple[list[str], sfn.IChainable]] = []
    classes: list[tuple[list[str], sfn.IChainable]] = []
    seen: dict[str, int | str] = {}
    for status, handler in on_status.items():
        require(
            hasattr(handler, "start_state"), f"on_status[{status!r}]", handler, "a state or chain"
        )
        names = status_errors(status)
        key = str(status).lower()
        require(key not in seen, "on_status", status, "each code or class once")
        seen[key] = status
        (codes if isinstance(status, int) else classes).append((names, handler))
    codes.sort(key=lambda item: item[0][0])
    classes.sort(key=lambda item: item[0][0])
    return codes + classes


# -- IAM -----------------------------------------------------------------------------------------
def _endpoint_condition(base: str, endpoint: str, dynamic_path: bool) -> dict[str, dict[str, str]]:
    """The ``states:HTTPEndpoint`` condition.

    A static endpoint is matched exactly (``StringEquals``). A path from state data is matched
    with ``StringLike`` on ``<base>/*``: the '/' is the boundary, so ``<base>.evil.tld`` and
    ``<base>munity`` never match (aws-cdk-lib's ``<base>*`` matches both). Note that two operators
    in one statement must *both* hold, so "exact OR prefix" cannot be one statement; neither is
    needed, as a dynamic endpoint always continues ``<base>/``.
    """
    if dynamic_path:
        return {"StringLike": {"states:HTTPEndpoint": f"{base}/*"}}
    return {"StringEquals": {"states:HTTPEndpoint": endpoint}}


def _policy_statements(
    scope: Construct, connection: events.IConnection
) -> list[iam.PolicyStatement]:
    """The statements the step registers with its graph. states:InvokeHTTPEndpoint is not one
    of them: it names the state machine (:meth:`CallHttpApi.endpoint_statement`)."""
    env = StackEnv.of(scope)
    return [
        env.statement(["events:RetrieveConnectionCredentials"], [connection.connection_arn]),
        env.statement(
            ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
            [connection.connection_secret_arn],
        ),
    ]
