"""Rules about inference parameters per model family, and what Converse supports.

The generic ranges (:data:`INFERENCE_RANGE`) are checked when an ``Inference`` is built; the
per-model limits when a step puts it together with a model (``InvokeBedrock``, ``Converse``,
and the patterns built on them).
"""

from __future__ import annotations

import re
from typing import Any

from lambdaless.rules._rule import Rule

_GUIDE = "https://docs.aws.amazon.com/bedrock/latest/userguide/"

INFERENCE_RANGE = Rule(
    "inference-range",
    "max_tokens not a positive integer, temperature outside 0-2 or top_p outside 0-1 (the widest "
    "ranges any Bedrock family documents), or empty stop sequences",
    _GUIDE + "inference-parameters.html",
    "construct",
)
INFERENCE_MODEL_LIMITS = Rule(
    "inference-model-limits",
    "max_tokens above the model's documented output limit, temperature outside the family's "
    "range, or stop sequences the family does not take",
    _GUIDE + "model-parameters.html",
    "construct",
)
INFERENCE_SAMPLING_EXCLUSIVE = Rule(
    "inference-sampling-exclusive",
    "temperature and top_p together on Anthropic Claude models from Opus 4.1 and the 4.5 "
    "generation on, which refuse both in one request",
    _GUIDE + "model-parameters-anthropic-claude-messages-request-response.html",
    "construct",
)
INFERENCE_SAMPLING_REFUSED = Rule(
    "inference-sampling-refused",
    "temperature or top_p on Anthropic Claude models that refuse sampling parameters (Opus 4.7 "
    "and later, Sonnet 5, Haiku after 4.5, Fable, Mythos: a 400 on every request)",
    _GUIDE + "model-card-anthropic-claude-opus-4-7.html",
    "construct",
)
CONVERSE_MODEL = Rule(
    "converse-model",
    "Converse with a model it does not support (embedding, image, video, speech, rerank "
    "models), or a system prompt for a model whose Converse support has none",
    _GUIDE + "conversation-inference-supported-models-features.html",
    "construct",
)

RULES: tuple[Rule, ...] = (
    INFERENCE_RANGE,
    INFERENCE_MODEL_LIMITS,
    INFERENCE_SAMPLING_EXCLUSIVE,
    INFERENCE_SAMPLING_REFUSED,
    CONVERSE_MODEL,
)

#: Highest temperature any family takes (AI21 Jamba and OpenAI gpt-oss: 0-2; "model-parameters-
#: jamba", "model-parameters-openai"); the others take 0-1.
MAX_TEMPERATURE = 2.0
# Model id pattern -> (most output tokens, highest temperature), first match wins. Output limits
# from each provider's "model-parameters-*" page and model card; only documented limits are
# listed, other models are left to Bedrock.
_MODEL_LIMITS: tuple[tuple[re.Pattern[str], int | None, float], ...] = tuple(
    (re.compile(pattern), max_tokens, temperature)
    for pattern, max_tokens, temperature in (
        (r"^anthropic\.claude-3-(haiku|sonnet|opus)-", 4096, 1.0),
        (r"^anthropic\.claude-3-5-", 8192, 1.0),
        (r"^anthropic\.claude-3-7-sonnet-", 64_000, 1.0),
        (r"^anthropic\.claude-opus-4-(1-)?\d{8}", 32_000, 1.0),
        (r"^anthropic\.claude-(sonnet-4|sonnet-4-5|haiku-4-5|opus-4-5)-\d{8}", 64_000, 1.0),
        (r"^anthropic\.", None, 1.0),
        (r"^amazon\.nova-premier-", 32_000, 1.0),
        (r"^amazon\.nova-(micro|lite|pro)-", 10_000, 1.0),
        (r"^amazon\.titan-text-express-", 8192, 1.0),
        (r"^amazon\.titan-text-lite-", 4096, 1.0),
        (r"^amazon\.titan-text-premier-", 3072, 1.0),
        (r"^amazon\.", None, 1.0),
        (r"^meta\.llama", 2048, 1.0),
        (r"^mistral\.mixtral-8x7b-", 4096, 1.0),
        (r"^mistral\.(mistral-7b|mistral-large-2402|mistral-small-2402)-", 8192, 1.0),
        (r"^mistral\.", None, 1.0),
        (r"^cohere\.command-r", 4000, 1.0),
        (r"^ai21\.jamba-1-5-", 4096, 2.0),
        (r"^ai21\.", None, 2.0),
        (r"^openai\.", None, 2.0),
    )
)
#: Converse's InferenceConfiguration takes temperature and topP from 0 to 1 (Bedrock API
#: reference, "API_runtime_InferenceConfiguration").
CONVERSE_MAX_TEMPERATURE = 1.0
# Claude models that refuse temperature together with top_p: Opus 4.1, every model of the 4.5
# generation on, and the later ones named without a version.
_CLAUDE_VERSION = re.compile(r"^anthropic\.claude-(opus|sonnet|haiku)-(\d+)(?:-(\d)(?!\d))?")
_CLAUDE_UNVERSIONED_NEW = re.compile(r"^anthropic\.claude-(fable|mythos)")
# Models Converse does not support ("The Converse API doesn't support embedding models or image
# generation models"; video, speech-to-speech and rerank models have their own APIs).
_NOT_CONVERSE = re.compile(
    r"(embed|image|canvas|reel|sonic|stable-|sd3|\.ray-|rerank|marengo|titan-tg1)"
)
# Models whose Converse support has no system prompt (same page: Amazon Titan, Mistral 7B
# Instruct and Mixtral, Cohere Command text, AI21 Jurassic-2).
_NO_SYSTEM_PROMPT = re.compile(
    r"^(amazon\.titan-text|mistral\.mistral-7b|mistral\.mixtral|cohere\.command-(light-)?text|"
    r"ai21\.j2)"
)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_inference(inference: Any) -> None:
    """The ranges every family shares, checked when an ``Inference`` is built."""
    n = inference.max_tokens
    INFERENCE_RANGE.require(
        isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= 1_000_000,
        "max_tokens",
        n,
        "an integer from 1 to 1000000",
    )
    for name, top in (("temperature", MAX_TEMPERATURE), ("top_p", 1.0)):
        value = getattr(inference, name)
        INFERENCE_RANGE.require(
            value is None or (_number(value) and 0.0 <= value <= top),
            name,
            value,
            f"None or a number from 0.0 to {top:g}",
        )
    INFERENCE_RANGE.require(
        all(isinstance(s, str) and s for s in inference.stop_sequences),
        "stop_sequences",
        list(inference.stop_sequences),
        "non-empty strings",
    )


def _limits(model_id: str) -> tuple[int | None, float]:
    for pattern, max_tokens, temperature in _MODEL_LIMITS:
        if pattern.search(model_id):
            return max_tokens, temperature
    return None, 1.0


def refuses_sampling_together(model_id: str) -> bool:
    """Whether an Anthropic model refuses ``temperature`` together with ``top_p``."""
    if _CLAUDE_UNVERSIONED_NEW.match(model_id):
        return True
    match = _CLAUDE_VERSION.match(model_id)
    if match is None:
        return False
    kind, major, minor = match[1], int(match[2]), int(match[3] or 0)
    return (major, minor) >= (4, 5) or (kind == "opus" and (major, minor) >= (4, 1))


def check_llama_stop_sequences(stop_sequences: Any) -> None:
    """Meta Llama's native body has no stop sequences ("model-parameters-meta")."""
    INFERENCE_MODEL_LIMITS.require(
        not stop_sequences,
        "stop_sequences",
        list(stop_sequences),
        "none: Meta Llama's InvokeModel body has no stop sequences (use Converse)",
    )


def refuses_sampling(model_id: str) -> bool:
    """Whether an Anthropic model refuses ``temperature`` and ``top_p`` altogether."""
    if _CLAUDE_UNVERSIONED_NEW.match(model_id):
        return True
    match = _CLAUDE_VERSION.match(model_id)
    if match is None:
        return False
    kind, version = match[1], (int(match[2]), int(match[3] or 0))
    return version > (4, 5) if kind == "haiku" else version >= (4, 7)


def check_for_model(
    model_id: str | None, inference: Any, *, converse: bool, system: str | None = None
) -> None:
    """``inference`` (and ``system``) against what the model documents, for InvokeModel's
    native body or for Converse. ``model_id`` is the foundation model (None if unknown)."""
    if model_id is None:
        return
    max_tokens, temperature_top = _limits(model_id)
    if converse:
        CONVERSE_MODEL.require(
            _NOT_CONVERSE.search(model_id) is None,
            "model",
            model_id,
            "a text or chat model: Converse does not support embedding, image, video, "
            "speech or rerank models",
        )
        CONVERSE_MODEL.require(
            system is None or _NO_SYSTEM_PROMPT.search(model_id) is None,
            "system",
            system,
            f"None: Converse takes no system prompt for {model_id} (put the instructions in "
            "the prompt)",
        )
        temperature_top = min(temperature_top, CONVERSE_MAX_TEMPERATURE)
    if max_tokens is not None:
        INFERENCE_MODEL_LIMITS.require(
            inference.max_tokens <= max_tokens,
            "max_tokens",
            inference.max_tokens,
            f"at most {max_tokens} for {model_id} (its documented output limit)",
        )
    t = inference.temperature
    INFERENCE_MODEL_LIMITS.require(
        t is None or t <= temperature_top,
        "temperature",
        t,
        f"a number from 0 to {temperature_top:g} for {model_id}"
        + (" through Converse" if converse else ""),
    )
    INFERENCE_SAMPLING_REFUSED.require(
        not (
            (inference.temperature is not None or inference.top_p is not None)
            and refuses_sampling(model_id)
        ),
        "temperature/top_p",
        (inference.temperature, inference.top_p),
        f"None for both: {model_id} refuses sampling parameters",
    )
    INFERENCE_SAMPLING_EXCLUSIVE.require(
        not (
            inference.temperature is not None
            and inference.top_p is not None
            and refuses_sampling_together(model_id)
        ),
        "temperature/top_p",
        (inference.temperature, inference.top_p),
        f"one of the two for {model_id}: it refuses temperature and top_p in one request",
    )
