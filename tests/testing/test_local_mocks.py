"""Mock helpers: native Bedrock bodies per family, Converse, HTTP, throttles."""

from __future__ import annotations

import enum
import json

import pytest

from lambdaless.testing import Return, Throw, mocks


class Family(enum.Enum):
    NOVA = "nova"


@pytest.mark.parametrize(
    ("family", "path", "stop"),
    [
        ("anthropic", ("content", 0, "text"), ("stop_reason", "end_turn")),
        ("nova", ("output", "message", "content", 0, "text"), ("stopReason", "end_turn")),
        ("titan", ("results", 0, "outputText"), None),
        ("llama", ("generation",), ("stop_reason", "stop")),
        ("mistral", ("outputs", 0, "text"), None),
        ("cohere", ("text",), ("finish_reason", "COMPLETE")),
        ("chat", ("choices", 0, "message", "content"), None),
        ("openai", ("choices", 0, "message", "content"), None),
        ("ai21", ("choices", 0, "message", "content"), None),
        ("deepseek", ("choices", 0, "message", "content"), None),
    ],
)
def test_bedrock_text_uses_each_family_native_body(
    family: str, path: tuple[str | int, ...], stop: tuple[str, str] | None
) -> None:
    response = mocks.bedrock_text(family, "hello")

    assert isinstance(response, Return)
    assert response.payload["ContentType"] == "application/json"
    node = response.payload["Body"]
    for key in path:
        node = node[key]
    assert node == "hello"
    if stop is not None:
        assert response.payload["Body"][stop[0]] == stop[1]


def test_token_counts_land_where_each_family_reports_them() -> None:
    def body(family: str) -> dict[str, object]:
        payload = mocks.bedrock_text(family, "x", input_tokens=3, output_tokens=4).payload
        return dict(payload["Body"])

    assert body("anthropic")["usage"] == {"input_tokens": 3, "output_tokens": 4}
    assert body("nova")["usage"] == {"inputTokens": 3, "outputTokens": 4, "totalTokens": 7}
    titan = body("titan")
    assert titan["inputTextTokenCount"] == 3
    assert titan["results"] == [{"tokenCount": 4, "outputText": "x", "completionReason": "FINISH"}]
    assert (body("llama")["prompt_token_count"], body("llama")["generation_token_count"]) == (3, 4)
    assert body("cohere")["meta"] == {
        "api_version": {"version": "1"},
        "billed_units": {"input_tokens": 3, "output_tokens": 4},
    }
    assert body("chat")["usage"] == {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}


def test_family_may_be_an_enum_and_stop_reason_is_kept() -> None:
    response = mocks.bedrock_text(Family.NOVA, "cut", stop_reason="max_tokens")

    assert response.payload["Body"]["stopReason"] == "max_tokens"


def test_unknown_family_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="anthropic, chat, cohere"):
        mocks.bedrock_text("gpt", "x")


def test_converse_text_is_pascal_case() -> None:
    payload = mocks.converse_text("hi", stop_reason="max_tokens", input_tokens=1).payload

    assert payload["Output"]["Message"]["Content"][0]["Text"] == "hi"
    assert payload["StopReason"] == "max_tokens"
    assert payload["Usage"] == {"InputTokens": 1, "OutputTokens": 20, "TotalTokens": 21}


def test_http_response_success_and_failure() -> None:
    ok = mocks.http_response(201, {"id": 7}, {"Location": "/items/7"})
    assert ok == Return(
        {
            "Headers": {"Location": "/items/7"},
            "ResponseBody": {"id": 7},
            "StatusCode": 201,
            "StatusText": "Created",
        }
    )

    failed = mocks.http_response(429, "slow down", {"Retry-After": "3"})
    assert isinstance(failed, Throw)
    assert failed.error == "States.Http.StatusCode.429"
    assert json.loads(failed.cause) == {
        "Headers": {"Retry-After": "3"},
        "ResponseBody": "slow down",
        "StatusCode": 429,
        "StatusText": "Too Many Requests",
    }


def test_throttle_then_and_failure() -> None:
    responses = mocks.throttle(2, {"ok": True}, error="Bedrock.ModelNotReadyException")

    assert [type(r) for r in responses] == [Throw, Throw, Return]
    assert responses[0].error == "Bedrock.ModelNotReadyException"  # type: ignore[union-attr]
    assert mocks.failure("E", "c").to_json() == {"Throw": {"Error": "E", "Cause": "c"}}
    assert mocks.responses_from([mocks.success(1), [2, 3]]) == [Return(1), Return(2), Return(3)]
