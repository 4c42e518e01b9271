"""Per-family request bodies and one uniform answer for every family.

Text values are either literals or JSONata expressions written the way ASL writes them, as a
whole string ``"{% ... %}"`` (e.g. ``"{% $states.input.document %}"``). The uniform answer is::

    {"text": str, "stopReason": str, "usage": {"inputTokens": int, "outputTokens": int}}

With an output schema (a structured answer, :data:`ANSWER_TOOL`), the answer also carries
``json``: the object the model gave as the answer tool's input (``text`` is then whatever text
came beside it, often ``""``). An answer without that tool call fails the Task state with
``States.QueryEvaluationError`` (a JSONata ``$error``, see :data:`STRUCTURED_ANSWER_INVALID`).

``stopReason`` speaks the Converse API's vocabulary (``end_turn``, ``max_tokens``,
``stop_sequence``, ``content_filtered``, ...) whatever the family, so a Choice on it works for any
model. Request and response fields: AWS docs, "Inference request parameters and response fields
for foundation models" (one page per provider).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lambdaless._errors import require
from lambdaless.models import ModelFamily
from lambdaless.rules.expressions import check_text, is_expression
from lambdaless.rules.inference import check_inference, check_llama_stop_sequences

__all__ = [
    "ANSWER_TOOL",
    "STRUCTURED_ANSWER_INVALID",
    "Inference",
    "check_text",
    "concat",
    "converse_tool_config",
    "is_expression",
    "request_body",
]

ANTHROPIC_VERSION = "bedrock-2023-05-31"
NOVA_SCHEMA = "messages-v1"
# Prompt-cache checkpoints (Bedrock user guide, "Prompt caching for faster model inference"):
# Anthropic's native body marks the block to cache with ``cache_control``; Nova's native body and
# Converse put a ``cachePoint`` block after it. The cache then holds everything up to the mark.
ANTHROPIC_CACHE_CONTROL = {"type": "ephemeral"}
CACHE_POINT = {"type": "default"}
#: The one tool a structured answer forces the model to call: its input is the answer. A tool
#: name is 1-64 characters of ``[a-zA-Z0-9_-]`` ("Call a tool with the Converse API",
#: API_runtime_ToolSpecification; the Anthropic Messages body, "model-parameters-anthropic-
#: claude-messages-request-response").
ANSWER_TOOL = "answer"
_ANSWER_TOOL_DESCRIPTION = "Give your answer by calling this tool, with the answer as its input."
#: The first words of the Cause of a structured answer that came without the answer tool's
#: call; the Error is ``States.QueryEvaluationError``, the only name a JSONata ``$error`` raises
#: in Step Functions (ASL spec, Appendix A; Step Functions API reference,
#: "EvaluationFailedEventDetails").
STRUCTURED_ANSWER_INVALID = "StructuredAnswerInvalid"


def concat(*parts: str) -> str:
    """Join literal and expression text; stays a literal when every part is one."""
    if not any(is_expression(p) for p in parts):
        return "".join(parts)
    terms = [f"({p[2:-2].strip()})" if is_expression(p) else json.dumps(p) for p in parts if p]
    return "{% " + " & ".join(terms) + " %}"


@dataclass(frozen=True)
class Inference:
    """Inference parameters shared by every family.

    Args:
        max_tokens: the most tokens the model may generate (default 1024).
        temperature: randomness from 0 to 1 (up to 2 for AI21 Jamba and OpenAI models through
            InvokeModel); ``None`` keeps the model's default.
        top_p: nucleus-sampling mass from 0 to 1; ``None`` keeps the model's default.
        stop_sequences: texts that end generation; none by default.
    """

    max_tokens: int = 1024
    temperature: float | None = None
    top_p: float | None = None
    stop_sequences: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        require(
            isinstance(self.stop_sequences, list | tuple),
            "stop_sequences",
            self.stop_sequences,
            "a list or tuple of texts",
        )
        object.__setattr__(self, "stop_sequences", tuple(self.stop_sequences))
        check_inference(self)


def _drop_none(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None and v != []}


def _tool_description(schema: Mapping[str, Any]) -> str:
    description = schema.get("description")
    return (
        description if isinstance(description, str) and description else (_ANSWER_TOOL_DESCRIPTION)
    )


def _nova_tool_config(output_schema: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "tools": [
            {
                "toolSpec": {
                    "name": ANSWER_TOOL,
                    "description": _tool_description(output_schema),
                    "inputSchema": {"json": dict(output_schema)},
                }
            }
        ],
        "toolChoice": {"tool": {"name": ANSWER_TOOL}},
    }


def request_body(
    family: ModelFamily,
    *,
    prompt: str,
    system: str | None,
    inference: Inference,
    output_schema: Mapping[str, Any] | None = None,
    cache_system: bool = False,
) -> dict[str, Any]:
    """The native InvokeModel body of ``family`` for one user prompt; with ``output_schema``
    (Anthropic and Nova only, checked by the step), the answer tool and a tool choice forcing
    it; with ``cache_system``, a prompt-cache checkpoint after the system prompt (Anthropic and
    Nova)."""
    stops = list(inference.stop_sequences)
    t, p, n = inference.temperature, inference.top_p, inference.max_tokens
    if cache_system and (system is None or family not in (ModelFamily.ANTHROPIC, ModelFamily.NOVA)):
        raise ValueError("cache_system needs a system prompt and an Anthropic or Nova body")
    if family is ModelFamily.ANTHROPIC:
        anthropic_system: str | list[dict[str, Any]] | None = system
        if cache_system:
            anthropic_system = [
                {"type": "text", "text": system, "cache_control": dict(ANTHROPIC_CACHE_CONTROL)}
            ]
        # tools/tool_choice: {"type": "tool", "name"} makes Claude call that tool ("model-
        # parameters-anthropic-claude-messages-request-response").
        tools = (
            [
                {
                    "name": ANSWER_TOOL,
                    "description": _tool_description(output_schema),
                    "input_schema": dict(output_schema),
                }
            ]
            if output_schema is not None
            else None
        )
        return _drop_none(
            {
                "anthropic_version": ANTHROPIC_VERSION,
                "max_tokens": n,
                "system": anthropic_system,
                "messages": [{"role": "user", "content": [{"type": "text", "text": prompt}]}],
                "temperature": t,
                "top_p": p,
                "stop_sequences": stops,
                "tools": tools,
                "tool_choice": (
                    {"type": "tool", "name": ANSWER_TOOL} if output_schema is not None else None
                ),
            }
        )
    if family is ModelFamily.NOVA:
        # toolConfig as in Converse, camelCase (Amazon Nova user guide, "tool-choice": a
        # specific toolChoice makes the model call that tool, "using-invoke-api").
        return _drop_none(
            {
                "schemaVersion": NOVA_SCHEMA,
                "system": (
                    [
                        {"text": system},
                        *([{"cachePoint": dict(CACHE_POINT)}] if cache_system else []),
                    ]
                    if system is not None
                    else None
                ),
                "messages": [{"role": "user", "content": [{"text": prompt}]}],
                "inferenceConfig": _drop_none(
                    {"maxTokens": n, "temperature": t, "topP": p, "stopSequences": stops}
                ),
                "toolConfig": (
                    _nova_tool_config(output_schema) if output_schema is not None else None
                ),
            }
        )
    if family is ModelFamily.TITAN:  # no system field: it leads the prompt
        text = concat(system, "\n\n", prompt) if system is not None else prompt
        return {
            "inputText": text,
            "textGenerationConfig": _drop_none(
                {"maxTokenCount": n, "temperature": t, "topP": p, "stopSequences": stops}
            ),
        }
    if family is ModelFamily.LLAMA:
        check_llama_stop_sequences(stops)
        header = "<|start_header_id|>{}<|end_header_id|>\n\n"
        parts = ["<|begin_of_text|>"]
        if system is not None:
            parts += [header.format("system"), system, "<|eot_id|>"]
        parts += [header.format("user"), prompt, "<|eot_id|>", header.format("assistant")]
        return _drop_none(
            {"prompt": concat(*parts), "max_gen_len": n, "temperature": t, "top_p": p}
        )
    if family is ModelFamily.MISTRAL:
        lead = [system, "\n\n"] if system is not None else []
        return _drop_none(
            {
                "prompt": concat("<s>[INST] ", *lead, prompt, " [/INST]"),
                "max_tokens": n,
                "temperature": t,
                "top_p": p,
                "stop": stops,
            }
        )
    if family is ModelFamily.COHERE:
        return _drop_none(
            {
                "message": prompt,
                "preamble": system,
                "max_tokens": n,
                "temperature": t,
                "p": p,
                "stop_sequences": stops,
            }
        )
    messages = [{"role": "system", "content": system}] if system is not None else []
    return _drop_none(
        {
            "messages": [*messages, {"role": "user", "content": prompt}],
            "max_tokens": n,
            "temperature": t,
            "top_p": p,
            "stop": stops,
        }
    )


# Per family: JSONata paths (relative to the response body $b) of the answer text, the stop
# reason, and the input and output token counts, plus the stop-reason translation to Converse's
# vocabulary. Mistral's text-completion body carries no token counts.
@dataclass(frozen=True)
class _Answer:
    text: str
    stop: str
    input_tokens: str
    output_tokens: str
    stop_reasons: Mapping[str, str] = field(default_factory=dict)
    #: the answer tool's input, for the families lambdaless asks for structured answers
    tool_input: str | None = None
    #: cache read / write token counts, for the families with prompt caching
    cache_read: str | None = None
    cache_write: str | None = None


_OPENAI_STOPS = {"stop": "end_turn", "length": "max_tokens", "content_filter": "content_filtered"}
_ANSWERS: Mapping[ModelFamily, _Answer] = {
    ModelFamily.ANTHROPIC: _Answer(
        "$join($b.content[type='text'].text, '')",
        "$b.stop_reason",
        "$b.usage.input_tokens",
        "$b.usage.output_tokens",
        # a tool_use content block: {"type": "tool_use", "id", "name", "input": {...}}
        tool_input=f"$b.content[type='tool_use' and name='{ANSWER_TOOL}'][0].input",
        # usage.cache_read_input_tokens / cache_creation_input_tokens (Anthropic Messages API
        # on Bedrock, prompt caching)
        cache_read="$b.usage.cache_read_input_tokens",
        cache_write="$b.usage.cache_creation_input_tokens",
    ),
    ModelFamily.NOVA: _Answer(
        "$join($b.output.message.content.text, '')",
        "$b.stopReason",
        "$b.usage.inputTokens",
        "$b.usage.outputTokens",
        # a toolUse content block: {"toolUse": {"toolUseId", "name", "input": {...}}}
        tool_input=f"$b.output.message.content[toolUse.name='{ANSWER_TOOL}'][0].toolUse.input",
        # usage.cacheReadInputTokenCount / cacheWriteInputTokenCount (Amazon Nova user guide,
        # prompt caching)
        cache_read="$b.usage.cacheReadInputTokenCount",
        cache_write="$b.usage.cacheWriteInputTokenCount",
    ),
    ModelFamily.TITAN: _Answer(
        "$b.results[0].outputText",
        "$b.results[0].completionReason",
        "$b.inputTextTokenCount",
        "$b.results[0].tokenCount",
        {
            "FINISH": "end_turn",
            "LENGTH": "max_tokens",
            "STOP_CRITERIA_MET": "stop_sequence",
            "CONTENT_FILTERED": "content_filtered",
        },
    ),
    ModelFamily.LLAMA: _Answer(
        "$b.generation",
        "$b.stop_reason",
        "$b.prompt_token_count",
        "$b.generation_token_count",
        {"stop": "end_turn", "length": "max_tokens"},
    ),
    ModelFamily.MISTRAL: _Answer(
        "$b.outputs[0].text",
        "$b.outputs[0].stop_reason",
        "null",
        "null",
        {"stop": "end_turn", "length": "max_tokens"},
    ),
    ModelFamily.COHERE: _Answer(
        "$b.text",
        "$b.finish_reason",
        "$b.meta.billed_units.input_tokens",
        "$b.meta.billed_units.output_tokens",
        {
            "COMPLETE": "end_turn",
            "MAX_TOKENS": "max_tokens",
            "STOP_SEQUENCE": "stop_sequence",
            "ERROR_TOXIC": "content_filtered",
        },
    ),
    ModelFamily.CHAT: _Answer(
        "$b.choices[0].message.content",
        "($c := $b.choices[0]; $exists($c.finish_reason) ? $c.finish_reason : $c.stop_reason)",
        "$b.usage.prompt_tokens",
        "$b.usage.completion_tokens",
        _OPENAI_STOPS,
    ),
}

# Converse returns the SDK's shapes, capitalized by the Step Functions SDK integration, and
# already speaks the uniform stop-reason vocabulary.
_CONVERSE = _Answer(
    "$join($b.Output.Message.Content.Text, '')",
    "$b.StopReason",
    "$b.Usage.InputTokens",
    "$b.Usage.OutputTokens",
    # a ToolUse content block: {"ToolUse": {"ToolUseId", "Name", "Input": {...}}}
    # (API_runtime_ToolUseBlock, members capitalized by the SDK integration like the others)
    tool_input=f"$b.Output.Message.Content[ToolUse.Name='{ANSWER_TOOL}'][0].ToolUse.Input",
    # TokenUsage.cacheReadInputTokens / cacheWriteInputTokens (API_runtime_TokenUsage)
    cache_read="$b.Usage.CacheReadInputTokens",
    cache_write="$b.Usage.CacheWriteInputTokens",
)


def _uniform(answer: _Answer, body: str, *, structured: bool = False, cache: bool = False) -> str:
    stop = answer.stop
    if answer.stop_reasons:
        table = json.dumps(dict(answer.stop_reasons), separators=(",", ":"))
        stop = f"($r := {stop}; $m := $lookup({table}, $r); $exists($m) ? $m : $r)"
    text = answer.text
    parsed = ""
    if structured:
        assert answer.tool_input is not None
        # A forced tool call may come with no text block: text is then "", not left out.
        text = f"($x := {text}; $exists($x) ? $x : '')"
        # Step Functions cannot validate a JSON Schema; what it can check is that the answer
        # tool was called with an object. Anything else fails the state (a JSONata $error is
        # States.QueryEvaluationError), whose Retry/Catch the step's user chooses.
        parsed = (
            f"'json': ($j := {answer.tool_input}; $type($j) = 'object' ? $j : "
            f"$error('{STRUCTURED_ANSWER_INVALID}: the model did not answer by calling the "
            f"tool {ANSWER_TOOL} with an object (stop reason: ' & $string({answer.stop}) "
            f"& ')')), "
        )
    usage = f"'inputTokens': {answer.input_tokens}, 'outputTokens': {answer.output_tokens}"
    if cache and answer.cache_read and answer.cache_write:
        # 0 when the response omits them (no checkpoint reached its model's minimum size)
        usage += (
            f", 'cacheReadInputTokens': ($v := {answer.cache_read}; $exists($v) ? $v : 0)"
            f", 'cacheWriteInputTokens': ($v := {answer.cache_write}; $exists($v) ? $v : 0)"
        )
    return (
        f"{{% ($b := {body}; {{'text': {text}, {parsed}'stopReason': {stop}, "
        f"'usage': {{{usage}}}}}) %}}"
    )


def answer_expression(
    family: ModelFamily,
    body: str = "$states.result.Body",
    *,
    structured: bool = False,
    cache: bool = False,
) -> str:
    """JSONata that turns an InvokeModel result of ``family`` into the uniform answer (with
    ``json`` when ``structured``; with ``usage.cacheReadInputTokens``/``cacheWriteInputTokens``
    when ``cache``)."""
    return _uniform(_ANSWERS[family], body, structured=structured, cache=cache)


def converse_answer_expression(
    result: str = "$states.result", *, structured: bool = False, cache: bool = False
) -> str:
    """JSONata that turns a Converse result into the uniform answer (``structured`` and
    ``cache`` as above)."""
    return _uniform(_CONVERSE, result, structured=structured, cache=cache)


def converse_tool_config(output_schema: Mapping[str, Any]) -> dict[str, Any]:
    """Converse's ``ToolConfig`` with the answer tool and a tool choice forcing it
    (API_runtime_ToolConfiguration, API_runtime_ToolSpecification, API_runtime_ToolChoice).
    The schema is the ``Json`` document of ``InputSchema``, passed as written."""
    return {
        "Tools": [
            {
                "ToolSpec": {
                    "Name": ANSWER_TOOL,
                    "Description": _tool_description(output_schema),
                    "InputSchema": {"Json": dict(output_schema)},
                }
            }
        ],
        "ToolChoice": {"Tool": {"Name": ANSWER_TOOL}},
    }


def converse_arguments(
    *,
    prompt: str,
    system: str | None,
    inference: Inference,
    cache_system: bool = False,
    service_tier: str | None = None,
    latency: str | None = None,
) -> dict[str, Any]:
    """Converse's ``Messages``/``System``/``InferenceConfig`` (and ``ServiceTier``,
    ``PerformanceConfig``), capitalized as the SDK integration expects.

    Converse API reference: ``system`` takes ``SystemContentBlock``s, one of which may be a
    ``cachePoint``; ``serviceTier`` is ``{"type": priority | default | flex}``;
    ``performanceConfig`` is ``{"latency": standard | optimized}``.
    """
    system_blocks: list[dict[str, Any]] | None = None
    if system is not None:
        system_blocks = [{"Text": system}]
        if cache_system:
            system_blocks.append({"CachePoint": {"Type": CACHE_POINT["type"]}})
    return _drop_none(
        {
            "Messages": [{"Role": "user", "Content": [{"Text": prompt}]}],
            "System": system_blocks,
            "InferenceConfig": _drop_none(
                {
                    "MaxTokens": inference.max_tokens,
                    "Temperature": inference.temperature,
                    "TopP": inference.top_p,
                    "StopSequences": list(inference.stop_sequences),
                }
            ),
            "ServiceTier": {"Type": service_tier} if service_tier is not None else None,
            "PerformanceConfig": {"Latency": latency} if latency is not None else None,
        }
    )
