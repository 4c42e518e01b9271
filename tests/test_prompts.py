"""Request bodies per family, and the uniform-answer JSONata evaluated against native responses."""

from __future__ import annotations

from typing import Any

import jsonata
import pytest

from lambdaless import Inference, LambdalessError, ModelFamily
from lambdaless.prompts import (
    answer_expression,
    check_text,
    concat,
    converse_answer_expression,
    converse_arguments,
    is_expression,
    request_body,
)

USAGE = {"inputTokens": 12, "outputTokens": 34}


def evaluate(expression: str, states: dict[str, Any]) -> Any:
    """Evaluate an ASL JSONata string ``{% ... %}`` with ``$states`` bound, as ASL does."""
    assert is_expression(expression), expression
    return jsonata.Jsonata(expression[2:-2]).evaluate(None, {"states": states})


def answer(family: ModelFamily, body: dict[str, Any]) -> Any:
    return evaluate(answer_expression(family), {"result": {"Body": body, "ContentType": "x"}})


# -- native responses (AWS docs, "Inference request parameters and response fields") ------------
def anthropic(stop: str = "end_turn") -> dict[str, Any]:
    return {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": "claude",
        "content": [{"type": "text", "text": "Hello"}, {"type": "text", "text": " world"}],
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {"input_tokens": 12, "output_tokens": 34},
    }


def nova(stop: str = "end_turn") -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": "Hello world"}]}},
        "stopReason": stop,
        "usage": {"inputTokens": 12, "outputTokens": 34, "totalTokens": 46},
    }


def titan(stop: str = "FINISH") -> dict[str, Any]:
    return {
        "inputTextTokenCount": 12,
        "results": [{"tokenCount": 34, "outputText": "Hello world", "completionReason": stop}],
    }


def llama(stop: str = "stop") -> dict[str, Any]:
    return {
        "generation": "Hello world",
        "prompt_token_count": 12,
        "generation_token_count": 34,
        "stop_reason": stop,
    }


def mistral(stop: str = "stop") -> dict[str, Any]:
    return {"outputs": [{"text": "Hello world", "stop_reason": stop}]}


def cohere(stop: str = "COMPLETE") -> dict[str, Any]:
    return {
        "response_id": "r1",
        "text": "Hello world",
        "generation_id": "g1",
        "chat_history": [],
        "finish_reason": stop,
        "meta": {
            "api_version": {"version": "1"},
            "billed_units": {"input_tokens": 12, "output_tokens": 34},
        },
    }


def jamba(stop: str = "stop") -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello world"},
                "finish_reason": stop,
            }
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": 34, "total_tokens": 46},
    }


def mistral_large(stop: str = "stop") -> dict[str, Any]:
    """Mistral Large 2407 speaks chat completions, but names the field ``stop_reason``."""
    return {
        "id": "1",
        "object": "chat.completion",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello world"},
                "stop_reason": stop,
            }
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": 34, "total_tokens": 46},
    }


@pytest.mark.parametrize(
    ("family", "make", "native", "uniform"),
    [
        (ModelFamily.ANTHROPIC, anthropic, "end_turn", "end_turn"),
        (ModelFamily.ANTHROPIC, anthropic, "max_tokens", "max_tokens"),
        (ModelFamily.ANTHROPIC, anthropic, "stop_sequence", "stop_sequence"),
        (ModelFamily.NOVA, nova, "end_turn", "end_turn"),
        (ModelFamily.NOVA, nova, "max_tokens", "max_tokens"),
        (ModelFamily.NOVA, nova, "content_filtered", "content_filtered"),
        (ModelFamily.TITAN, titan, "FINISH", "end_turn"),
        (ModelFamily.TITAN, titan, "LENGTH", "max_tokens"),
        (ModelFamily.TITAN, titan, "STOP_CRITERIA_MET", "stop_sequence"),
        (ModelFamily.TITAN, titan, "CONTENT_FILTERED", "content_filtered"),
        (ModelFamily.TITAN, titan, "RAG_QUERY_WHEN_RAG_DISABLED", "RAG_QUERY_WHEN_RAG_DISABLED"),
        (ModelFamily.LLAMA, llama, "stop", "end_turn"),
        (ModelFamily.LLAMA, llama, "length", "max_tokens"),
        (ModelFamily.MISTRAL, mistral, "stop", "end_turn"),
        (ModelFamily.MISTRAL, mistral, "length", "max_tokens"),
        (ModelFamily.COHERE, cohere, "COMPLETE", "end_turn"),
        (ModelFamily.COHERE, cohere, "MAX_TOKENS", "max_tokens"),
        (ModelFamily.COHERE, cohere, "STOP_SEQUENCE", "stop_sequence"),
        (ModelFamily.COHERE, cohere, "ERROR_TOXIC", "content_filtered"),
        (ModelFamily.CHAT, jamba, "stop", "end_turn"),
        (ModelFamily.CHAT, jamba, "length", "max_tokens"),
        (ModelFamily.CHAT, jamba, "content_filter", "content_filtered"),
        (ModelFamily.CHAT, mistral_large, "stop", "end_turn"),
        (ModelFamily.CHAT, mistral_large, "length", "max_tokens"),
    ],
)
def test_uniform_answer(family: ModelFamily, make: Any, native: str, uniform: str) -> None:
    result = answer(family, make(native))
    # Mistral's text-completion response carries no token counts
    usage = {"inputTokens": None, "outputTokens": None} if make is mistral else USAGE
    assert result == {"text": "Hello world", "stopReason": uniform, "usage": usage}


def test_anthropic_answer_keeps_only_text_blocks() -> None:
    body = anthropic("tool_use")
    body["content"] = [
        {"type": "text", "text": "Let me check."},
        {"type": "tool_use", "id": "t1", "name": "lookup", "input": {}},
    ]
    assert answer(ModelFamily.ANTHROPIC, body) == {
        "text": "Let me check.",
        "stopReason": "tool_use",
        "usage": USAGE,
    }


def test_converse_answer() -> None:
    result = {
        "Output": {
            "Message": {"Role": "assistant", "Content": [{"Text": "Hello "}, {"Text": "world"}]}
        },
        "StopReason": "max_tokens",
        "Usage": {"InputTokens": 12, "OutputTokens": 34, "TotalTokens": 46},
        "Metrics": {"LatencyMs": 300},
    }
    assert evaluate(converse_answer_expression(), {"result": result}) == {
        "text": "Hello world",
        "stopReason": "max_tokens",
        "usage": USAGE,
    }


# -- request bodies ---------------------------------------------------------------------------
FULL = Inference(max_tokens=200, temperature=0.3, top_p=0.9, stop_sequences=("END",))


def test_anthropic_body() -> None:
    assert request_body(ModelFamily.ANTHROPIC, prompt="Hi", system="Sys", inference=FULL) == {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 200,
        "system": "Sys",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}],
        "temperature": 0.3,
        "top_p": 0.9,
        "stop_sequences": ["END"],
    }


def test_nova_body() -> None:
    assert request_body(ModelFamily.NOVA, prompt="Hi", system="Sys", inference=FULL) == {
        "schemaVersion": "messages-v1",
        "system": [{"text": "Sys"}],
        "messages": [{"role": "user", "content": [{"text": "Hi"}]}],
        "inferenceConfig": {
            "maxTokens": 200,
            "temperature": 0.3,
            "topP": 0.9,
            "stopSequences": ["END"],
        },
    }


def test_titan_body() -> None:
    assert request_body(ModelFamily.TITAN, prompt="Hi", system="Sys", inference=FULL) == {
        "inputText": "Sys\n\nHi",
        "textGenerationConfig": {
            "maxTokenCount": 200,
            "temperature": 0.3,
            "topP": 0.9,
            "stopSequences": ["END"],
        },
    }


def test_llama_body() -> None:
    body = request_body(
        ModelFamily.LLAMA, prompt="Hi", system="Sys", inference=Inference(max_tokens=5, top_p=0.5)
    )
    assert body == {
        "prompt": "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nSys<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n",
        "max_gen_len": 5,
        "top_p": 0.5,
    }


def test_mistral_body() -> None:
    assert request_body(ModelFamily.MISTRAL, prompt="Hi", system=None, inference=FULL) == {
        "prompt": "<s>[INST] Hi [/INST]",
        "max_tokens": 200,
        "temperature": 0.3,
        "top_p": 0.9,
        "stop": ["END"],
    }


def test_cohere_body() -> None:
    assert request_body(ModelFamily.COHERE, prompt="Hi", system="Sys", inference=FULL) == {
        "message": "Hi",
        "preamble": "Sys",
        "max_tokens": 200,
        "temperature": 0.3,
        "p": 0.9,
        "stop_sequences": ["END"],
    }


def test_chat_body() -> None:
    assert request_body(ModelFamily.CHAT, prompt="Hi", system="Sys", inference=FULL) == {
        "messages": [{"role": "system", "content": "Sys"}, {"role": "user", "content": "Hi"}],
        "max_tokens": 200,
        "temperature": 0.3,
        "top_p": 0.9,
        "stop": ["END"],
    }


def test_defaults_send_only_max_tokens() -> None:
    assert request_body(ModelFamily.NOVA, prompt="Hi", system=None, inference=Inference()) == {
        "schemaVersion": "messages-v1",
        "messages": [{"role": "user", "content": [{"text": "Hi"}]}],
        "inferenceConfig": {"maxTokens": 1024},
    }


def test_llama_refuses_stop_sequences() -> None:
    with pytest.raises(LambdalessError, match=r"^stop_sequences=\['END'\]"):
        request_body(ModelFamily.LLAMA, prompt="Hi", system=None, inference=FULL)


def test_converse_arguments() -> None:
    assert converse_arguments(prompt="Hi", system="Sys", inference=FULL) == {
        "Messages": [{"Role": "user", "Content": [{"Text": "Hi"}]}],
        "System": [{"Text": "Sys"}],
        "InferenceConfig": {
            "MaxTokens": 200,
            "Temperature": 0.3,
            "TopP": 0.9,
            "StopSequences": ["END"],
        },
    }


# -- concatenated prompts, evaluated as Step Functions would -----------------------------------
STATES = {"input": {"document": 'A "quoted"\ntext', "who": "Ada"}}


def test_concat_stays_literal() -> None:
    assert concat("a", "\n", "b") == "a\nb"
    assert concat() == ""


def test_concat_evaluates_to_the_joined_text() -> None:
    expression = concat("<s>[INST] ", "{% $states.input.document %}", ' "x" \\ [/INST]')
    assert evaluate(expression, STATES) == '<s>[INST] A "quoted"\ntext "x" \\ [/INST]'


def test_llama_expression_prompt() -> None:
    body = request_body(
        ModelFamily.LLAMA,
        prompt="{% 'Summarize: ' & $states.input.document %}",
        system="{% 'You help ' & $states.input.who %}",
        inference=Inference(),
    )
    assert evaluate(body["prompt"], STATES) == (
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou help Ada<|eot_id|>"
        '<|start_header_id|>user<|end_header_id|>\n\nSummarize: A "quoted"\ntext<|eot_id|>'
        "<|start_header_id|>assistant<|end_header_id|>\n\n"
    )


def test_mistral_expression_prompt() -> None:
    body = request_body(
        ModelFamily.MISTRAL,
        prompt="{% $states.input.document %}",
        system="Be brief.",
        inference=Inference(),
    )
    assert evaluate(body["prompt"], STATES) == '<s>[INST] Be brief.\n\nA "quoted"\ntext [/INST]'


def test_titan_expression_prompt() -> None:
    body = request_body(
        ModelFamily.TITAN, prompt="{% $states.input.document %}", system="S", inference=Inference()
    )
    assert evaluate(body["inputText"], STATES) == 'S\n\nA "quoted"\ntext'


def test_expression_prompt_is_passed_through_where_the_body_has_a_field() -> None:
    body = request_body(
        ModelFamily.ANTHROPIC,
        prompt="{% $states.input.document %}",
        system=None,
        inference=Inference(),
    )
    assert body["messages"][0]["content"][0]["text"] == "{% $states.input.document %}"


# -- validation -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"max_tokens": 0}, "max_tokens"),
        ({"max_tokens": -5}, "max_tokens"),
        ({"max_tokens": True}, "max_tokens"),
        ({"max_tokens": 1.5}, "max_tokens"),
        ({"temperature": 2.5}, "temperature"),  # 0-2: per-model limits in tests/rules
        ({"temperature": -0.1}, "temperature"),
        ({"temperature": "0.5"}, "temperature"),
        ({"top_p": 2}, "top_p"),
        ({"stop_sequences": ("",)}, "stop_sequences"),
    ],
)
def test_bad_inference(kwargs: dict[str, Any], argument: str) -> None:
    with pytest.raises(LambdalessError, match=rf"^{argument}="):
        Inference(**kwargs)


def test_inference_accepts_the_bounds() -> None:
    Inference(max_tokens=1, temperature=0, top_p=1.0)
    assert Inference(stop_sequences=["a"]).stop_sequences == ("a",)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["", "   ", "{% $x", "$x %}", None, 3])
def test_check_text_refuses(text: Any) -> None:
    with pytest.raises(LambdalessError, match=r"^prompt="):
        check_text("prompt", text)


def test_is_expression() -> None:
    assert is_expression("{% $x %}")
    assert not is_expression("x {% $x %}")
    assert not is_expression(None)
