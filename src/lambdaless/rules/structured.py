"""Rules about structured answers: the JSON Schema a step's answer must follow, and the models
that can be made to answer in it.

A structured answer is a forced tool call: one tool whose input schema is the answer's schema,
and a tool choice naming it (Anthropic's ``tools``/``tool_choice`` in the InvokeModel body,
Converse's ``toolConfig``). The schema is checked here before deploying: a JSON Schema whose
keywords have the types the specification gives them, an object at the root (a tool's input is
an object), local ``$ref``s that resolve, and no string Step Functions would evaluate.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from lambdaless.rules._rule import Rule

_GUIDE = "https://docs.aws.amazon.com/bedrock/latest/userguide/"
_API = "https://docs.aws.amazon.com/bedrock/latest/APIReference/"

OUTPUT_SCHEMA_VALID = Rule(
    "output-schema-valid",
    "an output_schema that is not a JSON Schema: a keyword of the wrong type (type names, "
    "properties, required, items, enum, anyOf/allOf/oneOf, $defs, numeric bounds, pattern), a "
    "$ref that does not resolve inside the schema, or a value JSON cannot carry",
    _API + "API_runtime_ToolInputSchema.html",
    "construct",
)
OUTPUT_SCHEMA_OBJECT = Rule(
    "output-schema-object",
    'an output_schema whose root is not {"type": "object", ...}: a tool\'s input is an object',
    _GUIDE + "tool-use-inference-call.html",
    "construct",
)
OUTPUT_SCHEMA_LITERAL = Rule(
    "output-schema-literal",
    "a string in output_schema written as a JSONata expression '{% ... %}': Step Functions would "
    "evaluate it inside the Task's Arguments instead of sending it",
    "https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html",
    "construct",
)
STRUCTURED_ANSWER_MODEL = Rule(
    "structured-answer-model",
    "output_schema on a model that cannot be made to call a given tool: one other than "
    "Anthropic Claude (3 and later) or Amazon Nova, the only ones whose Converse API takes a "
    "specific tool choice and whose InvokeModel body can force a tool",
    _API + "API_runtime_ToolChoice.html",
    "construct",
)

RULES: tuple[Rule, ...] = (
    OUTPUT_SCHEMA_VALID,
    OUTPUT_SCHEMA_OBJECT,
    OUTPUT_SCHEMA_LITERAL,
    STRUCTURED_ANSWER_MODEL,
)

#: JSON Schema's type names (JSON Schema Validation, draft 2020-12, section 6.1.1).
TYPE_NAMES = frozenset({"null", "boolean", "object", "array", "number", "string", "integer"})
# Keywords whose value is one schema, a map of schemas, a non-empty list of schemas, a
# non-negative integer, a number, or text (draft 2020-12, Core and Validation vocabularies).
_ONE_SCHEMA = (
    "items",
    "additionalProperties",
    "not",
    "contains",
    "propertyNames",
    "if",
    "then",
    "else",
    "unevaluatedItems",
    "unevaluatedProperties",
    "additionalItems",
)
_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SCHEMA_LISTS = ("anyOf", "allOf", "oneOf", "prefixItems")
_COUNTS = (
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "minContains",
    "maxContains",
)
_NUMBERS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")
_TEXTS = ("title", "description", "format", "$id", "$schema", "$comment", "$anchor")
_EXPRESSION = re.compile(r"^\{%.*%\}$", re.DOTALL)

#: The InvokeModel families whose native body forces a tool: Anthropic Claude (the Messages
#: body's ``tools`` and ``tool_choice``, "model-parameters-anthropic-claude-messages-request-
#: response") and Amazon Nova (``toolConfig`` with ``toolChoice``: the Invoke API "supports the
#: same features as the Converse API except for document input", Amazon Nova user guide,
#: "using-invoke-api"; "Amazon Nova models support ... tool choice", "tool-choice").
NATIVE_TOOL_FAMILIES = frozenset({"anthropic", "nova"})
#: Converse's SpecificToolChoice ("The Model must request the specified tool. Only supported by
#: Anthropic Claude 3 and Amazon Nova models", API_runtime_ToolChoice).
_CONVERSE_TOOL_CHOICE = re.compile(r"^(anthropic\.claude|amazon\.nova)")
#: Claude models before Claude 3 take no tools ("conversation-inference-supported-models-
#: features": tool use from Claude 3 on).
_CLAUDE_WITHOUT_TOOLS = re.compile(r"^anthropic\.claude-(v2|instant)")


def check_output_schema(argument: str, schema: Any) -> None:
    """``schema`` is a JSON Schema Bedrock can take as a tool's input schema."""
    OUTPUT_SCHEMA_OBJECT.require(
        isinstance(schema, Mapping) and schema.get("type") == "object",
        argument,
        schema,
        'a JSON Schema for an object: a dict with "type": "object" at its root (wrap a '
        'list or a value in a property, e.g. {"type": "object", "properties": {"items": ...}})',
    )
    _check_schema(argument, schema, schema)


def _check_schema(where: str, schema: Any, root: Mapping[str, Any]) -> None:
    if isinstance(schema, bool):  # true / false are schemas too
        return
    if not isinstance(schema, Mapping):
        raise OUTPUT_SCHEMA_VALID.refuse(where, schema, "a schema: a dict (or true/false)")
    for key in schema:
        OUTPUT_SCHEMA_VALID.require(
            isinstance(key, str), where, key, "text keys (JSON object keys are strings)"
        )
    _check_literals(where, schema)
    kind = schema.get("type")
    if kind is not None:
        names = kind if isinstance(kind, list) else [kind]
        OUTPUT_SCHEMA_VALID.require(
            len(names) > 0
            and all(isinstance(n, str) and n in TYPE_NAMES for n in names)
            and len(set(names)) == len(names),
            f"{where}.type",
            kind,
            f"one of {sorted(TYPE_NAMES)}, or a non-empty list of distinct ones",
        )
    required = schema.get("required")
    if required is not None:
        OUTPUT_SCHEMA_VALID.require(
            isinstance(required, list)
            and all(isinstance(n, str) for n in required)
            and len(set(required)) == len(required),
            f"{where}.required",
            required,
            "a list of distinct property names",
        )
    enum = schema.get("enum")
    if enum is not None:
        OUTPUT_SCHEMA_VALID.require(
            isinstance(enum, list) and len(enum) > 0,
            f"{where}.enum",
            enum,
            "a non-empty list of values",
        )
    for key in _ONE_SCHEMA:
        if key in schema:
            item = schema[key]
            if key in ("items", "additionalItems") and isinstance(item, list):  # draft 4-2019
                for index, sub in enumerate(item):
                    _check_schema(f"{where}.{key}[{index}]", sub, root)
            else:
                _check_schema(f"{where}.{key}", item, root)
    for key in _SCHEMA_MAPS:
        if key in schema:
            value = schema[key]
            OUTPUT_SCHEMA_VALID.require(
                isinstance(value, Mapping), f"{where}.{key}", value, "a dict of name -> schema"
            )
            for name, sub in value.items():
                _check_schema(f"{where}.{key}.{name}", sub, root)
    for key in _SCHEMA_LISTS:
        if key in schema:
            value = schema[key]
            OUTPUT_SCHEMA_VALID.require(
                isinstance(value, list) and len(value) > 0,
                f"{where}.{key}",
                value,
                "a non-empty list of schemas",
            )
            for index, sub in enumerate(value):
                _check_schema(f"{where}.{key}[{index}]", sub, root)
    for key in _COUNTS:
        if key in schema:
            value = schema[key]
            OUTPUT_SCHEMA_VALID.require(
                isinstance(value, int) and not isinstance(value, bool) and value >= 0,
                f"{where}.{key}",
                value,
                "a non-negative integer",
            )
    for key in _NUMBERS:
        if key in schema:
            value = schema[key]
            OUTPUT_SCHEMA_VALID.require(
                isinstance(value, int | float)
                and not isinstance(value, bool)
                and math.isfinite(value)
                and (key != "multipleOf" or value > 0),
                f"{where}.{key}",
                value,
                "a finite number" + (" above 0" if key == "multipleOf" else ""),
            )
    for key in _TEXTS:
        if key in schema:
            OUTPUT_SCHEMA_VALID.require(
                isinstance(schema[key], str), f"{where}.{key}", schema[key], "text"
            )
    if "pattern" in schema:
        pattern = schema["pattern"]
        try:
            re.compile(pattern)
        except (re.error, TypeError) as error:
            raise OUTPUT_SCHEMA_VALID.refuse(
                f"{where}.pattern", pattern, f"a regular expression ({error})"
            ) from None
    if "$ref" in schema:
        _check_ref(f"{where}.$ref", schema["$ref"], root)


def _check_ref(where: str, ref: Any, root: Mapping[str, Any]) -> None:
    """A ``$ref`` must point inside the schema (``#`` or ``#/path``): the tool's schema travels
    alone, with no way to fetch another document."""
    OUTPUT_SCHEMA_VALID.require(
        isinstance(ref, str) and (ref == "#" or ref.startswith("#/")),
        where,
        ref,
        "a reference inside the schema: '#' or '#/$defs/<name>'",
    )
    node: Any = root
    for part in ref[2:].split("/") if ref != "#" else []:
        name = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping) and name in node:
            node = node[name]
        elif isinstance(node, list) and name.isdigit() and int(name) < len(node):
            node = node[int(name)]
        else:
            raise OUTPUT_SCHEMA_VALID.refuse(where, ref, "a reference to a part of this schema")


def _check_literals(where: str, schema: Mapping[str, Any]) -> None:
    """Values JSON can carry, and no string Step Functions would take for an expression."""
    stack: list[tuple[str, Any]] = [(where, schema)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            OUTPUT_SCHEMA_LITERAL.require(
                _EXPRESSION.match(value) is None,
                path,
                value,
                "literal text (not starting with '{%' and ending with '%}')",
            )
        elif isinstance(value, float):
            OUTPUT_SCHEMA_VALID.require(math.isfinite(value), path, value, "a finite number")
        elif isinstance(value, Mapping):
            stack.extend((f"{path}.{k}", v) for k, v in value.items() if not _is_subschema(k))
        elif isinstance(value, list | tuple):
            stack.extend((f"{path}[{i}]", v) for i, v in enumerate(value))
        elif value is not None and not isinstance(value, bool | int):
            raise OUTPUT_SCHEMA_VALID.refuse(
                path, value, "a JSON value (text, number, true/false, null, list or dict)"
            )


def _is_subschema(key: str) -> bool:
    """Keys whose values :func:`_check_schema` walks itself (each checked once)."""
    return key in _ONE_SCHEMA or key in _SCHEMA_MAPS or key in _SCHEMA_LISTS


def check_structured_model(
    argument: str, family: str | None, model_id: str | None, *, converse: bool
) -> None:
    """The model can be forced to call the answer tool (``family`` is the ModelFamily value,
    ``model_id`` the foundation model, None when unknown)."""
    STRUCTURED_ANSWER_MODEL.require(
        model_id is None or _CLAUDE_WITHOUT_TOOLS.search(model_id) is None,
        argument,
        model_id,
        "Claude 3 or a later Claude model: earlier ones take no tools",
    )
    if converse:
        STRUCTURED_ANSWER_MODEL.require(
            model_id is None or _CONVERSE_TOOL_CHOICE.search(model_id) is not None,
            argument,
            model_id,
            "an Anthropic Claude or Amazon Nova model: Converse's specific tool choice, which "
            "forces the answer tool, is supported by those only",
        )
        return
    STRUCTURED_ANSWER_MODEL.require(
        family in NATIVE_TOOL_FAMILIES,
        argument,
        model_id,
        "an Anthropic Claude or Amazon Nova model: their InvokeModel bodies force a tool call "
        "(tools/tool_choice, toolConfig); other families have no documented way",
    )
