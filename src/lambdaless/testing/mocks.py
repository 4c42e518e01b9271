"""Scripted task results for the local runner, in Step Functions Local's mock vocabulary.

A :data:`MockedResponse` is a :class:`Return` (the task's result) or a :class:`Throw` (the task
fails with an error name and a cause). Use them in ``LocalRunner.run(responses=...)`` or turn them
into a Step Functions Local mock-config file with :func:`to_mock_config`.

Task results have the shape Step Functions hands to the state (``$states.result``), not the raw
service response: ``bedrock:invokeModel`` returns ``{"Body": <model JSON>, "ContentType": ...}``
and AWS SDK integrations return the SDK's shape names in PascalCase.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Protocol

__all__ = [
    "BEDROCK_FAMILIES",
    "MockedResponse",
    "Return",
    "Throw",
    "bedrock_text",
    "bedrock_tool_use",
    "check_shape",
    "converse_text",
    "converse_tool_use",
    "failure",
    "http_response",
    "responses_from",
    "service_refusal",
    "success",
    "throttle",
    "to_mock_config",
    "to_mocked_response_json",
]


@dataclass(frozen=True)
class Return:
    """The task succeeds with ``payload`` as its result."""

    payload: Any

    def to_json(self) -> dict[str, Any]:
        """This response as a Step Functions Local mocked-response entry."""
        return {"Return": self.payload}


@dataclass(frozen=True)
class Throw:
    """The task fails with ``error`` (matched by Retry/Catch ``ErrorEquals``) and ``cause``."""

    error: str
    cause: str = ""

    def to_json(self) -> dict[str, Any]:
        """This response as a Step Functions Local mocked-response entry."""
        return {"Throw": {"Error": self.error, "Cause": self.cause}}


MockedResponse = Return | Throw


class _HasValue(Protocol):
    @property
    def value(self) -> str: ...


# --------------------------------------------------------------------------------------------
# Bedrock InvokeModel: one native response body per model family
# --------------------------------------------------------------------------------------------


def _anthropic(text: str, stop: str | None, tokens_in: int, tokens_out: int) -> dict[str, Any]:
    # Anthropic Messages API on Bedrock ("Anthropic Claude Messages API", Bedrock user guide).
    return {
        "id": "msg_local",
        "type": "message",
        "role": "assistant",
        "content": [{"type": "text", "text": text}],
        "stop_reason": stop or "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": tokens_in, "output_tokens": tokens_out},
    }


def _nova(text: str, stop: str | None, tokens_in: int, tokens_out: int) -> dict[str, Any]:
    # Amazon Nova understanding models, InvokeModel response ("Amazon Nova User Guide").
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": stop or "end_turn",
        "usage": {
            "inputTokens": tokens_in,
            "outputTokens": tokens_out,
            "totalTokens": tokens_in + tokens_out,
        },
    }


def _titan(text: str, stop: str | None, tokens_in: int, tokens_out: int) -> dict[str, Any]:
    # Amazon Titan Text ("Amazon Titan Text models", Bedrock user guide).
    return {
        "inputTextTokenCount": tokens_in,
        "results": [
            {"tokenCount": tokens_out, "outputText": text, "completionReason": stop or "FINISH"}
        ],
    }


def _llama(text: str, stop: str | None, tokens_in: int, tokens_out: int) -> dict[str, Any]:
    # Meta Llama ("Meta Llama models", Bedrock user guide).
    return {
        "generation": text,
        "prompt_token_count": tokens_in,
        "generation_token_count": tokens_out,
        "stop_reason": stop or "stop",
    }


def _mistral(text: str, stop: str | None, tokens_in: int, tokens_out: int) -> dict[str, Any]:
    # Mistral AI text completion ("Mistral AI models", Bedrock user guide): no token usage.
    del tokens_in, tokens_out
    return {"outputs": [{"text": text, "stop_reason": stop or "stop"}]}


def _cohere(text: str, stop: str | None, tokens_in: int, tokens_out: int) -> dict[str, Any]:
    # Cohere Command R / R+ ("Cohere Command R and Command R+ models", Bedrock user guide).
    return {
        "response_id": "local",
        "text": text,
        "generation_id": "local",
        "chat_history": [],
        "finish_reason": stop or "COMPLETE",
        "meta": {
            "api_version": {"version": "1"},
            "billed_units": {"input_tokens": tokens_in, "output_tokens": tokens_out},
        },
    }


def _chat_completions(
    text: str, stop: str | None, tokens_in: int, tokens_out: int
) -> dict[str, Any]:
    # OpenAI-style chat completion bodies (OpenAI gpt-oss, AI21 Jamba, DeepSeek on Bedrock).
    return {
        "id": "chatcmpl-local",
        "object": "chat.completion",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": stop or "stop",
            }
        ],
        "usage": {
            "prompt_tokens": tokens_in,
            "completion_tokens": tokens_out,
            "total_tokens": tokens_in + tokens_out,
        },
    }


_BodyBuilder = Callable[[str, "str | None", int, int], dict[str, Any]]

#: Model family name -> builder of that family's native InvokeModel response body. The single
#: table of families known to the mocks; names are the lowercase family names the constructs use.
BEDROCK_FAMILIES: Mapping[str, _BodyBuilder] = {
    "anthropic": _anthropic,
    "nova": _nova,
    "titan": _titan,
    "llama": _llama,
    "mistral": _mistral,
    "cohere": _cohere,
    "chat": _chat_completions,
    "openai": _chat_completions,
    "ai21": _chat_completions,
    "deepseek": _chat_completions,
}


def _family_name(family: str | _HasValue) -> str:
    name = family if isinstance(family, str) else getattr(family, "value", None)
    if not isinstance(name, str) or name.lower() not in BEDROCK_FAMILIES:
        raise ValueError(
            f"family={family!r} is not a known model family; use one of "
            f"{', '.join(sorted(BEDROCK_FAMILIES))} (or an object whose .value is one)"
        )
    return name.lower()


#: Where each family with prompt caching reports cache tokens in its native ``usage``:
#: Anthropic's ``cache_read_input_tokens``/``cache_creation_input_tokens`` (Anthropic Messages
#: API on Bedrock), Nova's ``cacheReadInputTokenCount``/``cacheWriteInputTokenCount`` (Amazon
#: Nova user guide, prompt caching).
_CACHE_USAGE: Mapping[str, tuple[str, str]] = {
    "anthropic": ("cache_read_input_tokens", "cache_creation_input_tokens"),
    "nova": ("cacheReadInputTokenCount", "cacheWriteInputTokenCount"),
}


def _check_tokens(**counts: int | None) -> None:
    for name, value in counts.items():
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or value < 0
        ):
            raise ValueError(f"{name}={value!r}: expected a whole number of tokens, 0 or more")


def bedrock_text(
    family: str | _HasValue,
    text: str,
    *,
    stop_reason: str | None = None,
    input_tokens: int = 10,
    output_tokens: int = 20,
    cache_read_tokens: int | None = None,
    cache_write_tokens: int | None = None,
) -> Return:
    """The result of ``arn:aws:states:::bedrock:invokeModel`` for a model of ``family`` answering
    ``text``: ``{"Body": <native JSON>, "ContentType": "application/json"}``.

    ``stop_reason`` defaults to the family's natural end of answer (``end_turn``, ``FINISH``,
    ``stop``, ``COMPLETE``). ``cache_read_tokens``/``cache_write_tokens`` add the prompt-cache
    counts to the usage of the families that report them (``anthropic``, ``nova``); by default
    the body has none, as when the request set no cache checkpoint.
    """
    name = _family_name(family)
    builder = BEDROCK_FAMILIES[name]
    _check_tokens(cache_read_tokens=cache_read_tokens, cache_write_tokens=cache_write_tokens)
    body = builder(text, stop_reason, input_tokens, output_tokens)
    if cache_read_tokens is not None or cache_write_tokens is not None:
        if name not in _CACHE_USAGE:
            raise ValueError(
                f"family={name!r} has no prompt caching; cache tokens are reported by "
                f"{', '.join(sorted(_CACHE_USAGE))} bodies"
            )
        read_key, write_key = _CACHE_USAGE[name]
        body["usage"][read_key] = cache_read_tokens or 0
        body["usage"][write_key] = cache_write_tokens or 0
    # Step Functions parses the model's JSON response into Body (AWS docs, "Invoke and customize
    # Amazon Bedrock models with Step Functions").
    return Return({"Body": body, "ContentType": "application/json"})


def converse_text(
    text: str,
    *,
    stop_reason: str = "end_turn",
    input_tokens: int = 10,
    output_tokens: int = 20,
    cache_read_tokens: int | None = None,
    cache_write_tokens: int | None = None,
    service_tier: str | None = None,
) -> Return:
    """The result of ``arn:aws:states:::aws-sdk:bedrockruntime:converse`` answering ``text``.

    AWS SDK integrations return the API's response members in PascalCase (AWS docs, "Learning to
    use AWS service SDK integrations in Step Functions"), so the Converse response's
    ``output.message.content[0].text`` is ``Output.Message.Content[0].Text`` here. Cache counts
    land in ``Usage.CacheReadInputTokens``/``CacheWriteInputTokens`` (TokenUsage) and the tier
    that served the request in ``ServiceTier.Type`` (ConverseResponse), when given.
    """
    _check_tokens(cache_read_tokens=cache_read_tokens, cache_write_tokens=cache_write_tokens)
    usage: dict[str, int] = {
        "InputTokens": input_tokens,
        "OutputTokens": output_tokens,
        "TotalTokens": input_tokens + output_tokens,
    }
    if cache_read_tokens is not None or cache_write_tokens is not None:
        usage["CacheReadInputTokens"] = cache_read_tokens or 0
        usage["CacheWriteInputTokens"] = cache_write_tokens or 0
    result: dict[str, Any] = {
        "Output": {"Message": {"Role": "assistant", "Content": [{"Text": text}]}},
        "StopReason": stop_reason,
        "Usage": usage,
        "Metrics": {"LatencyMs": 100},
    }
    if service_tier is not None:
        result["ServiceTier"] = {"Type": service_tier}
    return Return(result)


#: The tool a structured answer forces (``lambdaless.prompts.ANSWER_TOOL``, kept here so the
#: mocks load without the construct layer; a test keeps the two equal).
ANSWER_TOOL = "answer"


def bedrock_tool_use(
    family: str | _HasValue,
    tool_input: Any,
    *,
    text: str | None = None,
    name: str = ANSWER_TOOL,
    stop_reason: str = "tool_use",
    input_tokens: int = 10,
    output_tokens: int = 20,
) -> Return:
    """The ``bedrock:invokeModel`` result of a model of ``family`` (``anthropic`` or ``nova``)
    that calls the tool ``name`` with ``tool_input``, after a text block when ``text`` is given,
    with stop reason ``tool_use``: Anthropic's ``{"type": "tool_use", "id", "name", "input"}``
    content block (Bedrock user guide, "Anthropic Claude Messages API"), Nova's
    ``{"toolUse": {"toolUseId", "name", "input"}}`` (Amazon Nova user guide, "tool-use").
    This is what a step with ``output_schema`` receives; pass a non-object ``tool_input`` or
    another ``name`` to see a malformed answer fail."""
    kind = _family_name(family)
    if kind == "anthropic":
        content: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
        content.append({"type": "tool_use", "id": "toolu_local", "name": name, "input": tool_input})
        body = _anthropic("", stop_reason, input_tokens, output_tokens)
        body["content"] = content
    elif kind == "nova":
        content = [{"text": text}] if text else []
        content.append(
            {"toolUse": {"toolUseId": "tooluse_local", "name": name, "input": tool_input}}
        )
        body = _nova("", stop_reason, input_tokens, output_tokens)
        body["output"]["message"]["content"] = content
    else:
        raise ValueError(
            f"family={family!r} has no tool use in lambdaless's InvokeModel bodies; use "
            "'anthropic' or 'nova' (or mocks.converse_tool_use for a Converse step)"
        )
    return Return({"Body": body, "ContentType": "application/json"})


def converse_tool_use(
    tool_input: Any,
    *,
    text: str | None = None,
    name: str = ANSWER_TOOL,
    stop_reason: str = "tool_use",
    input_tokens: int = 10,
    output_tokens: int = 20,
) -> Return:
    """The ``aws-sdk:bedrockruntime:converse`` result of a model that calls the tool ``name``
    with ``tool_input``: a ``ToolUse`` content block (Bedrock API reference,
    "API_runtime_ToolUseBlock": ``toolUseId``, ``name``, ``input``, in PascalCase as the SDK
    integration returns members; the input document keeps its own keys), after a ``Text``
    block when ``text`` is given."""
    result = converse_text(
        "", stop_reason=stop_reason, input_tokens=input_tokens, output_tokens=output_tokens
    ).payload
    content: list[dict[str, Any]] = [{"Text": text}] if text is not None else []
    content.append({"ToolUse": {"ToolUseId": "tooluse_local", "Name": name, "Input": tool_input}})
    result["Output"]["Message"]["Content"] = content
    return Return(result)


def http_response(
    status: int,
    body: Any = None,
    headers: Mapping[str, Any] | None = None,
) -> MockedResponse:
    """The outcome of ``arn:aws:states:::http:invoke`` when the endpoint answers ``status``.

    2xx returns ``{"Headers", "ResponseBody", "StatusCode", "StatusText"}``; any other status fails
    the task with ``States.Http.StatusCode.<status>`` (AWS docs, "Call HTTPS APIs in Step
    Functions workflows"), its Cause a JSON string of the same four fields.
    """
    try:
        status_text = HTTPStatus(status).phrase
    except ValueError:
        status_text = ""
    if headers is None:
        headers = {"Content-Type": "application/json"} if body is not None else {}
    result = {
        "Headers": dict(headers),
        "ResponseBody": body,
        "StatusCode": status,
        "StatusText": status_text,
    }
    if 200 <= status < 300:
        return Return(result)
    return Throw(f"States.Http.StatusCode.{status}", json.dumps(result, separators=(",", ":")))


def throttle(
    n: int,
    then: MockedResponse | Any,
    *,
    error: str = "Bedrock.ThrottlingException",
    cause: str = "Too many requests, please wait before trying again.",
) -> list[MockedResponse]:
    """``n`` failures with ``error`` (a Bedrock throttle by default), then ``then``."""
    if n < 0:
        raise ValueError(f"n={n} must be 0 or more")
    return [Throw(error, cause) for _ in range(n)] + responses_from(then)


def failure(error: str, cause: str = "") -> Throw:
    """The task fails with ``error`` and ``cause``."""
    return Throw(error, cause)


def success(payload: Any) -> Return:
    """The task succeeds with ``payload`` as its result."""
    return Return(payload)


def responses_from(value: MockedResponse | Any) -> list[MockedResponse]:
    """Normalise a ``responses=`` value to one response per invocation: a list or tuple is a
    sequence of responses, a :class:`Return`/:class:`Throw` is one, anything else is a payload
    to return."""
    if isinstance(value, list | tuple):
        flat: list[MockedResponse] = []
        for item in value:
            flat.extend(responses_from(item))
        return flat
    if isinstance(value, Return | Throw):
        return [value]
    return [Return(value)]


# --------------------------------------------------------------------------------------------
# Shapes: a mocked result must be one its integration can return
# --------------------------------------------------------------------------------------------

#: The request field only one family's InvokeModel body has -> that family and the response
#: field holding its answer (Bedrock user guide, each family's "inference request parameters
#: and response fields" page). In order: Anthropic bodies also have ``messages``; Nova's
#: ``schemaVersion`` is optional, so ``messages`` alone is Nova or a chat-completions body;
#: Llama and Mistral both send ``prompt``.
_REQUEST_FAMILIES: tuple[tuple[str, str, frozenset[str]], ...] = (
    ("anthropic_version", "anthropic", frozenset({"content"})),
    ("schemaVersion", "nova", frozenset({"output"})),
    ("inputText", "titan", frozenset({"results"})),
    ("prompt", "llama or mistral", frozenset({"generation", "outputs"})),
    ("message", "cohere", frozenset({"text"})),
    ("messages", "nova or chat", frozenset({"output", "choices"})),
)
_ANSWER_FAMILIES = {
    "content": "anthropic",
    "output": "nova",
    "results": "titan",
    "generation": "llama",
    "outputs": "mistral",
    "text": "cohere",
    "choices": "chat",
}


def _invoke_model_problem(arguments: Any, result: Any) -> str | None:
    if not isinstance(result, Mapping) or "Body" not in result:
        return (
            "a bedrock:invokeModel result is {'Body': <the model's JSON>, 'ContentType': ...} "
            "(AWS docs, 'Invoke and customize Amazon Bedrock models with Step Functions'); "
            f"got {_short(result)}; use mocks.bedrock_text(family, text)"
        )
    body = result["Body"]
    request = arguments.get("Body") if isinstance(arguments, Mapping) else None
    if not isinstance(request, Mapping):
        return None  # a body the runner cannot read (an expression's string): Body suffices
    match = next((m for m in _REQUEST_FAMILIES if m[0] in request), None)
    if match is None:
        return None
    _, family, answers = match
    if isinstance(body, Mapping) and answers & set(body):
        return None
    other = next(
        (f for key, f in _ANSWER_FAMILIES.items() if isinstance(body, Mapping) and key in body),
        None,
    )
    told = f"a {other} response" if other else _short(body)
    wanted = " or ".join(repr(a) for a in sorted(answers))
    return (
        f"the request is a {family} body, whose response carries {wanted}, but the mocked "
        f"Body is {told}; use mocks.bedrock_text(<family>, text)"
    )


def _converse_problem(result: Any) -> str | None:
    message = result.get("Output", {}).get("Message") if isinstance(result, Mapping) else None
    if isinstance(message, Mapping) and "Content" in message:
        return None
    return (
        "a bedrockruntime:converse result has Output.Message.Content (the SDK's shape in "
        "PascalCase, AWS docs, 'Learning to use AWS service SDK integrations in Step "
        f"Functions'); got {_short(result)}; use mocks.converse_text(text)"
    )


def _http_problem(result: Any) -> str | None:
    if not isinstance(result, Mapping) or not {"ResponseBody", "StatusCode"} <= set(result):
        return (
            "an http:invoke result has ResponseBody, StatusCode, StatusText and Headers (AWS "
            f"docs, 'Call HTTPS APIs in Step Functions workflows'); got {_short(result)}; "
            "use mocks.http_response(status, body)"
        )
    status = result["StatusCode"]
    if not isinstance(status, int) or not 200 <= status < 300:
        return (
            f"an http:invoke Return has a 2xx StatusCode; StatusCode {status!r} fails the task "
            "with States.Http.StatusCode.<code> on AWS: use mocks.http_response(status, body), "
            "which throws for non-2xx"
        )
    return None


def _short(value: Any, limit: int = 120) -> str:
    text = json.dumps(value, default=repr)
    return text if len(text) <= limit else text[: limit - 3] + "..."


#: Converse request members Bedrock refuses beside a Prompt management prompt ARN as modelId
#: ("If you use a prompt from Prompt management, you can't include the following fields in the
#: request: additionalModelRequestFields, inferenceConfig, system, or toolConfig", Bedrock API
#: reference, "Converse"), in the SDK integration's PascalCase.
PROMPT_REFUSED_FIELDS = ("AdditionalModelRequestFields", "InferenceConfig", "System", "ToolConfig")
_PROMPT_ARN = re.compile(r"^arn:aws[a-z-]*:bedrock:[a-z0-9-]+:\d{12}:prompt/")


def service_refusal(resource: str, arguments: Any) -> Throw | None:
    """The error the service answers a request it refuses before any model runs, or ``None``.

    Checked: a ``converse``/``converseStream`` call whose ``ModelId`` is a prompt ARN with a
    field Converse refuses beside one fails with ``BedrockRuntime.ValidationException``, whatever
    the mocks say (``Converse`` refuses those at synth; a hand-written state can send them).
    """
    service = resource.rsplit(":::", 1)[-1]
    if not service.startswith("aws-sdk:bedrockruntime:converse") or not isinstance(
        arguments, Mapping
    ):
        return None
    model = arguments.get("ModelId")
    if not isinstance(model, str) or not _PROMPT_ARN.match(model):
        return None
    refused = [name for name in PROMPT_REFUSED_FIELDS if name in arguments]
    if not refused:
        return None
    return Throw(
        "BedrockRuntime.ValidationException",
        f"{', '.join(refused)} cannot be sent with a Prompt management prompt ({model}): "
        "define them in the prompt",
    )


def check_shape(resource: str, arguments: Any, response: MockedResponse) -> str | None:
    """Why a mocked result is one the Task's integration could never return, or ``None``.

    Checked for the integrations lambdaless calls: ``bedrock:invokeModel`` (a ``Body``, and for
    a request of a known family that family's answer field), ``aws-sdk:bedrockruntime:
    converse`` (``Output.Message.Content``) and ``http:invoke`` (``ResponseBody`` and a 2xx
    ``StatusCode``). A ``Throw`` always fits.
    """
    if not isinstance(response, Return):
        return None
    service = resource.rsplit(":::", 1)[-1]
    if service.startswith("bedrock:invokeModel"):
        return _invoke_model_problem(arguments, response.payload)
    if service.startswith("aws-sdk:bedrockruntime:converse"):
        return _converse_problem(response.payload)
    if service.startswith("http:invoke"):
        return _http_problem(response.payload)
    return None


def to_mocked_response_json(responses: Iterable[MockedResponse]) -> dict[str, Any]:
    """Responses in Step Functions Local's numbering: ``{"0": ..., "1-2": ...}``, consecutive
    equal responses merged into one range."""
    entries: dict[str, Any] = {}
    items = list(responses)
    start = 0
    while start < len(items):
        end = start
        while end + 1 < len(items) and items[end + 1] == items[start]:
            end += 1
        key = str(start) if end == start else f"{start}-{end}"
        entries[key] = items[start].to_json()
        start = end + 1
    return entries


def to_mock_config(
    state_machine: str,
    test_cases: Mapping[str, Mapping[str, MockedResponse | Sequence[MockedResponse] | Any]],
) -> dict[str, Any]:
    """A Step Functions Local mock-config document for ``state_machine``.

    ``test_cases`` maps a test case name to ``{state name: responses}``; each state's responses
    become a mocked response named ``<TestCase><State>``.
    """
    cases: dict[str, dict[str, str]] = {}
    mocked: dict[str, Any] = {}
    for case, states in test_cases.items():
        cases[case] = {}
        for state, value in states.items():
            name = "".join(char for char in f"{case}{state}" if char.isalnum())
            cases[case][state] = name
            mocked[name] = to_mocked_response_json(responses_from(value))
    return {
        "StateMachines": {state_machine: {"TestCases": cases}},
        "MockedResponses": mocked,
    }
