"""Rules about service integrations: HTTP Task headers and hosts, EventBridge connection
secrets, approval messages, SQS FIFO queues, and the names we give AWS resources. No CDK
import.

The header and host rules run twice: on ``CallHttpApi``'s arguments at construction, and on
every HTTP Task of the synthesized definition (aws-cdk-lib's ``HttpInvoke`` included, which
passes a reserved header or an ``http://`` root silently) through :func:`check_machine`.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from lambdaless.analysis.asl import iter_states
from lambdaless.rules._graph import Machine, Violation
from lambdaless.rules._rule import Rule

_HTTPS = (
    'Step Functions developer guide, "call-https-apis" '
    "(https://docs.aws.amazon.com/step-functions/latest/dg/call-https-apis.html)"
)

HEADER_RESERVED = Rule(
    "http-header-reserved",
    "a request header the HTTP Task refuses at run time with States.Runtime (Authorization, "
    "Host, x-amz-*, x-amzn-*, x-forwarded-* and the others listed by AWS), on CallHttpApi or "
    "on any HTTP Task of the graph (aws-cdk-lib's HttpInvoke included)",
    _HTTPS,
    "synth",
)
HEADER_MALFORMED = Rule(
    "http-header-malformed",
    "a header name that is not an HTTP token, or CR, LF or another control character in a "
    "header name or value",
    _HTTPS,
    "construct",
)
ENDPOINT_HOST = Rule(
    "http-endpoint-host",
    "an endpoint the HTTP Task cannot call: not https, credentials in the URL, or a host that "
    "is not a public domain name (an IP address, localhost, .local, .internal, ...), on "
    "CallHttpApi or on any HTTP Task of the graph (aws-cdk-lib's HttpInvoke included)",
    _HTTPS,
    "synth",
)
CONNECTION_SECRET = Rule(
    "connection-secret-kind",
    "an EventBridge connection secret that is not a Secrets Manager reference (plain text, an "
    "SSM SecureString, which AWS::Events::Connection does not resolve), or credentials "
    "outside CreateConnection's limits",
    'EventBridge user guide, "eb-api-destination-connection", and CloudFormation user guide, '
    '"dynamic-references-ssm-secure-strings" '
    "(https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_CreateConnection.html)",
    "construct",
)
APPROVAL_TOKEN = Rule(
    "approval-token-in-expression",
    "an approval message whose task token is not inside a JSONata expression: the approver "
    "would receive the literal text and could never answer",
    'Step Functions developer guide, "connect-to-resource" (Wait for a callback with the task '
    "token) (https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html)",
    "construct",
)
FIFO_GROUP = Rule(
    "sqs-fifo-message-group",
    "a message sent to an SQS FIFO queue without a message group id",
    'Amazon SQS API Reference, "API_SendMessage" (MessageGroupId) '
    "(https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html)",
    "construct",
)
MACHINE_NAME = Rule(
    "state-machine-name",
    "a state machine name longer than 80 characters or with characters Step Functions "
    "refuses (whitespace, newlines, brackets, wildcards, control characters, ...)",
    'Step Functions API Reference, "API_CreateStateMachine" (name) '
    "(https://docs.aws.amazon.com/step-functions/latest/apireference/API_CreateStateMachine.html)",
    "construct",
)
MACHINE_NAME_UNIQUE = Rule(
    "state-machine-name-unique",
    "two Workflows with the same state_machine_name in one account and region of one app: "
    "the second deployment fails (names are unique per account and region)",
    'Step Functions API Reference, "API_CreateStateMachine" (StateMachineAlreadyExists) '
    "(https://docs.aws.amazon.com/step-functions/latest/apireference/API_CreateStateMachine.html)",
    "synth",
)

RULES: tuple[Rule, ...] = (
    HEADER_RESERVED,
    HEADER_MALFORMED,
    ENDPOINT_HOST,
    CONNECTION_SECRET,
    APPROVAL_TOKEN,
    FIFO_GROUP,
    MACHINE_NAME,
    MACHINE_NAME_UNIQUE,
)

# -- HTTP headers --------------------------------------------------------------------------------
#: Headers the HTTP Task refuses (AWS docs, "call-https-apis", unsupported headers), plus
#: Authorization: the connection supplies authentication and the task fails on its own.
RESERVED_HEADERS = frozenset(
    name.lower()
    for name in (
        "A-IM",
        "Accept-Charset",
        "Accept-Datetime",
        "Accept-Encoding",
        "Authorization",
        "Cache-Control",
        "Connection",
        "Content-Encoding",
        "Content-MD5",
        "Date",
        "Expect",
        "Forwarded",
        "From",
        "Host",
        "HTTP2-Settings",
        "If-Match",
        "If-Modified-Since",
        "If-None-Match",
        "If-Range",
        "If-Unmodified-Since",
        "Max-Forwards",
        "Origin",
        "Pragma",
        "Proxy-Authorization",
        "Referer",
        "Server",
        "TE",
        "Trailer",
        "Transfer-Encoding",
        "Upgrade",
        "Via",
        "Warning",
    )
)
RESERVED_PREFIXES = ("x-forwarded-", "x-amz-", "x-amzn-")
#: RFC 9110 field name: a token.
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def is_reserved_header(name: str) -> bool:
    """Whether the HTTP Task refuses a header of this name."""
    lower = name.lower()
    return lower in RESERVED_HEADERS or lower.startswith(RESERVED_PREFIXES)


def check_headers(argument: str, headers: Mapping[str, Any]) -> None:
    """Refuse reserved and malformed header names and literal values with control characters
    (a ``{% %}`` value is evaluated at run time and not checked here)."""
    for name, value in headers.items():
        HEADER_MALFORMED.require(
            isinstance(name, str) and bool(_TOKEN.fullmatch(name)),
            f"{argument} name",
            name,
            "letters, digits and !#$%&'*+.^_`|~- only (an HTTP token): no spaces, CR or LF",
        )
        HEADER_RESERVED.require(
            not is_reserved_header(name),
            f"{argument} name",
            name,
            "a header the HTTP Task sends: not "
            + ", ".join(sorted(RESERVED_HEADERS))
            + " or x-amz-*, x-amzn-*, x-forwarded-* (authentication comes from auth=)",
        )
        if isinstance(value, str):
            HEADER_MALFORMED.require(
                not _CONTROL.search(value),
                f"{argument}[{name!r}]",
                value,
                "text without CR, LF or other control characters",
            )


def check_no_control_characters(argument: str, value: str) -> None:
    """Refuse CR, LF and other control characters in a URL part (a path, a query value)."""
    HEADER_MALFORMED.require(
        not _CONTROL.search(value) and "\t" not in value,
        argument,
        value,
        "text without CR, LF, tabs or other control characters",
    )


# -- hosts ---------------------------------------------------------------------------------------
#: Names that never resolve to a public host: RFC 6761 special-use names, mDNS ``.local``
#: (RFC 6762), ``.internal`` (reserved for private use by ICANN) and ``home.arpa`` (RFC 8375).
PRIVATE_SUFFIXES = (".localhost", ".local", ".internal", ".invalid", ".test", ".home.arpa")


def host_problem(host: str) -> str | None:
    """Why the HTTP Task cannot reach ``host``, or ``None``: it calls public domain names with
    publicly trusted certificates (AWS docs, "call-https-apis"), so no IP address or private
    name."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        return (
            "a public domain name, not an IP address (the HTTP Task needs a publicly trusted "
            "certificate for the name)"
        )
    if host == "localhost" or ("." + host).endswith(PRIVATE_SUFFIXES):
        return (
            "a public domain name, not localhost or a private name ("
            + ", ".join(PRIVATE_SUFFIXES)
            + ")"
        )
    return None


def check_host(argument: str, url: str, host: str) -> None:
    """Refuse a host the HTTP Task cannot reach (:func:`host_problem`)."""
    problem = host_problem(host)
    if problem is not None:
        raise ENDPOINT_HOST.refuse(argument, url, problem)


# -- EventBridge connection credentials ----------------------------------------------------------
#: CreateConnection's pattern for an API key name, a user name, a client id: 1 to 512
#: characters, no control characters or ':' (EventBridge API reference, "API_CreateConnection").
_CREDENTIAL = re.compile(r"^[ \t]*[^\x00-\x1F:\x7F]+([ \t]+[^\x00-\x1F:\x7F]+)*[ \t]*$")


def check_credential(argument: str, value: Any) -> None:
    """An API key name, a Basic user name or an OAuth client id, as CreateConnection takes it."""
    CONNECTION_SECRET.require(
        isinstance(value, str) and 1 <= len(value) <= 512 and bool(_CREDENTIAL.fullmatch(value)),
        argument,
        value,
        "1 to 512 characters without ':' or control characters",
    )


def secret_reference_kind(resolved: Any) -> str:
    """``secretsmanager``, ``ssm-secure`` or ``literal``: what CloudFormation resolves a
    SecretValue to."""
    text = resolved if isinstance(resolved, str) else repr(resolved)
    if "{{resolve:secretsmanager:" in text:
        return "secretsmanager"
    if "{{resolve:ssm-secure:" in text:
        return "ssm-secure"
    return "literal"


# -- approval messages ---------------------------------------------------------------------------
TASK_TOKEN = "$states.context.Task.Token"


def token_in_expression(message: Any) -> bool:
    """Whether some ``{% %}`` expression of ``message`` (a dict, list or string) reads the task
    token; a literal "$states.context.Task.Token" outside an expression is sent as text."""
    if isinstance(message, Mapping):
        return any(token_in_expression(v) for v in message.values())
    if isinstance(message, list | tuple):
        return any(token_in_expression(v) for v in message)
    if isinstance(message, str):
        text = message.strip()
        return text.startswith("{%") and text.endswith("%}") and TASK_TOKEN in text
    return False


def check_approval_message(argument: str, message: Any) -> None:
    """Refuse an approval message that does not send the task token."""
    APPROVAL_TOKEN.require(
        token_in_expression(message),
        argument,
        message,
        "a message with the token inside an expression, e.g. "
        '{"taskToken": "{% $states.context.Task.Token %}", ...}, or none for the default',
    )


# -- SQS FIFO -----------------------------------------------------------------------------------
#: A literal MessageGroupId: 1 to 128 of a-z, A-Z, 0-9 and punctuation (SQS API Reference,
#: SendMessage).
_GROUP_ID = re.compile(r"^[!-~]{1,128}$")


def check_message_group_id(argument: str, value: Any, *, fifo: bool) -> None:
    """A FIFO queue's messages need a ``MessageGroupId``; a literal one has SQS's form."""
    FIFO_GROUP.require(
        value is not None or not fifo,
        argument,
        value,
        "a message group id (text or a '{% %}' expression) for a FIFO queue, e.g. "
        "message_group_id='approvals'",
    )
    if value is None:
        return
    text = value.strip() if isinstance(value, str) else ""
    FIFO_GROUP.require(
        (text.startswith("{%") and text.endswith("%}")) or bool(_GROUP_ID.fullmatch(text)),
        argument,
        value,
        "1 to 128 letters, digits and punctuation, or a '{% %}' expression",
    )


# -- names ---------------------------------------------------------------------------------------
#: CreateStateMachine ``name``: 1 to 80 characters, none of whitespace, ``< > { } [ ] ? * " #
#: % \ ^ | ~ ` $ & , ; : /`` or control characters; aws-cdk-lib further allows only
#: ``[a-zA-Z0-9+!@.()\-=_']``, which we keep (it is stricter).
_MACHINE_NAME = re.compile(r"^[a-zA-Z0-9+!@.()\-=_']{1,80}$")


def check_state_machine_name(argument: str, name: Any) -> None:
    """A state machine name CreateStateMachine and aws-cdk-lib accept."""
    MACHINE_NAME.require(
        isinstance(name, str) and bool(_MACHINE_NAME.fullmatch(name)),
        argument,
        name,
        "None or 1 to 80 letters, digits and +!@.()-=_' (no spaces, newlines or other characters)",
    )


# -- every HTTP Task of a definition -------------------------------------------------------------
HTTP_INVOKE = ":::http:invoke"
_HOST_PROBLEMS = (
    "an https URL of a public domain name, without credentials: the HTTP Task calls https "
    "endpoints with publicly trusted certificates only"
)


def _literal_text(value: Any) -> str | None:
    """A string the state sends as it is: a literal, or a ``{% %}`` expression that reads
    nothing (aws-cdk-lib's HttpInvoke joins its api_root and path as one); else ``None``."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not (text.startswith("{%") and text.endswith("%}")):
        return value
    body = text[2:-2]
    if "$" in body:
        return None
    from jsonata import Jsonata  # type: ignore[import-untyped]
    from jsonata.jexception import JException  # type: ignore[import-untyped]

    try:
        result = Jsonata(body).evaluate(None)
    except (JException, RecursionError, ValueError, TypeError, IndexError):
        return None
    return result if isinstance(result, str) else None


def _endpoint_problem(url: str) -> str | None:
    """Why the HTTP Task cannot call ``url``, or ``None``."""
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
    except ValueError:
        return "a URL that parses"
    if parts.scheme.lower() != "https":
        return "https only: " + _HOST_PROBLEMS
    if parts.username is not None or parts.password is not None:
        return "no credentials in the URL (user:pass@): authenticate through the connection"
    return host_problem(host)


def check_machine(machine: Machine) -> list[Violation]:
    """``http-header-reserved`` and ``http-endpoint-host`` on every HTTP Task (``Arguments`` in
    JSONata, ``Parameters`` in JSONPath): the literal header names and the endpoint when it is
    known before the run."""
    found: list[Violation] = []
    for _, name, state in iter_states(machine.definition):
        if state.get("Type") != "Task" or not str(state.get("Resource", "")).endswith(HTTP_INVOKE):
            continue
        request = state.get("Arguments") or state.get("Parameters") or {}
        if not isinstance(request, Mapping):
            continue
        field = "Arguments" if "Arguments" in state else "Parameters"
        headers = request.get("Headers")
        if isinstance(headers, Mapping):
            for header in headers:
                if isinstance(header, str) and is_reserved_header(header.removesuffix(".$")):
                    found.append(
                        Violation(
                            HEADER_RESERVED,
                            name,
                            f"{field}.Headers",
                            header,
                            "a header the HTTP Task sends: not "
                            + ", ".join(sorted(RESERVED_HEADERS))
                            + " or x-amz-*, x-amzn-*, x-forwarded-* (it fails the Task with "
                            "States.Runtime; authentication comes from the connection)",
                        )
                    )
        url = _literal_text(request.get("ApiEndpoint"))
        problem = _endpoint_problem(url) if url is not None else None
        if url is not None and problem is not None:
            found.append(Violation(ENDPOINT_HOST, name, f"{field}.ApiEndpoint", url, problem))
    return found
