"""Rules about prompts and JSONata expressions: syntax, ``{% %}``, variables and payload size.

Every text a user gives a step (prompt, system, question, body values, item selectors) goes
through :func:`check_value`: an expression is parsed with the same grammar Step Functions
implements (JSONata 2.0.6, "transforming-data"), and a literal is checked for the mistakes that
make it a literal by accident (a JSONPath path, an expression not wrapping the whole string).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from lambdaless.limits import PAYLOAD_MAX_BYTES
from lambdaless.rules._rule import Rule

_SFN = "https://docs.aws.amazon.com/step-functions/latest/dg/"

JSONATA_SYNTAX = Rule(
    "jsonata-syntax",
    "a JSONata expression that does not parse (JSONata 2.0.6, Step Functions' version), or "
    "calls $eval, which Step Functions does not provide",
    _SFN + "transforming-data.html",
    "construct",
)
JSONATA_WHOLE_STRING = Rule(
    "jsonata-whole-string",
    "'{% %}' that does not wrap the whole string (Step Functions then sends it as literal text)",
    _SFN + "transforming-data.html",
    "construct",
)
JSONPATH_IN_JSONATA = Rule(
    "jsonpath-in-jsonata",
    "a JSONPath path ('$.foo', '$$.Execution'), a bare '$variable', an intrinsic function "
    "('States.Format(...)') or a '.$' key where JSONata is expected: sent as literal text; in "
    "lambdaless arguments, and as '.$' keys in any JSONata state of the graph (aws-cdk-lib's "
    "item_selector={'doc.$': '$$.Map.Item.Value'} in a JSONata Map)",
    _SFN + "transforming-data.html",
    "synth",
)
VARIABLE_NAME = Rule(
    "variable-name",
    "a variable name that is not a valid name, is the reserved $states, or shadows a JSONata "
    "built-in function ($lookup, $string, ...)",
    _SFN + "workflow-variables.html",
    "construct",
)
PAYLOAD_LITERAL = Rule(
    "payload-literal-size",
    "a literal argument larger than the 256 KiB (262,144 bytes) a state's input or output may be",
    _SFN + "service-quotas.html",
    "construct",
)

RULES: tuple[Rule, ...] = (
    JSONATA_SYNTAX,
    JSONATA_WHOLE_STRING,
    JSONPATH_IN_JSONATA,
    VARIABLE_NAME,
    PAYLOAD_LITERAL,
)

#: Function names of JSONata 2.0.6 ("Function library", docs.jsonata.org) and those Step
#: Functions adds ("transforming-data", JSONata functions provided by Step Functions). A
#: variable of that name hides the function from every later expression of the execution.
BUILT_IN_FUNCTIONS: frozenset[str] = frozenset(
    [
        "string",
        "length",
        "substring",
        "substringBefore",
        "substringAfter",
        "uppercase",
        "lowercase",
        "trim",
        "pad",
        "contains",
        "split",
        "join",
        "match",
        "replace",
        "eval",
        "base64encode",
        "base64decode",
        "encodeUrlComponent",
        "encodeUrl",
        "decodeUrlComponent",
        "decodeUrl",
        "formatNumber",
        "formatBase",
        "formatInteger",
        "parseInteger",
        "number",
        "abs",
        "floor",
        "ceil",
        "round",
        "power",
        "sqrt",
        "random",
        "sum",
        "max",
        "min",
        "average",
        "boolean",
        "not",
        "exists",
        "count",
        "append",
        "sort",
        "reverse",
        "shuffle",
        "distinct",
        "zip",
        "keys",
        "lookup",
        "spread",
        "merge",
        "sift",
        "each",
        "error",
        "assert",
        "type",
        "map",
        "filter",
        "single",
        "reduce",
        "now",
        "millis",
        "fromMillis",
        "toMillis",
        "partition",
        "range",
        "hash",
        "uuid",
        "parse",
    ]
)
#: Step Functions' one reserved variable ("workflow-variables", Reserved variable: $states).
RESERVED_VARIABLES: frozenset[str] = frozenset({"states"})

_JSONPATH = re.compile(r"^\$\$?(\.[^\s.]+|\[[^\]]*\])*$")
# '$states...' or '$name.path': a variable read meant as an expression ('$USD' alone is text)
_BARE_VARIABLE = re.compile(
    r"^\$(states|[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_-]+|\[[^\]]*\])+)(\.[A-Za-z0-9_-]+)*$"
)
_INTRINSIC = re.compile(r"^States\.[A-Z][A-Za-z]*\(")
_EVAL = re.compile(r"\$eval\s*\(")


def is_expression(value: object) -> bool:
    """Whether ``value`` is a JSONata expression string ``{% ... %}``."""
    return isinstance(value, str) and value.startswith("{%") and value.endswith("%}")


def _jsonpath_hint(text: str) -> str:
    if text.startswith("$$."):
        return "'{% $states.context." + text[3:] + " %}'"
    if text.startswith("$."):
        return "'{% $states.input." + text[2:] + " %}'"
    if text in ("$", "$$"):
        return "'{% $states.input %}'"
    return "'{% " + text + " %}'"


def check_string(argument: str, text: str) -> None:
    """One string where JSONata is accepted: a whole ``{% %}`` expression that parses, or a
    literal that is not an expression or path by mistake."""
    if is_expression(text):
        check_jsonata(argument, text)
        return
    if "{%" in text or "%}" in text:
        stripped = text.strip()
        hint = (
            f"remove the surrounding whitespace: {stripped!r}"
            if is_expression(stripped)
            else "one expression for the whole string, joining literal text with '&', e.g. "
            "'{% \"Summarize: \" & $states.input.document %}'"
        )
        raise JSONATA_WHOLE_STRING.refuse(
            argument, text, f"'{{% ... %}}' around the whole string, or no '{{%'/'%}}': {hint}"
        )
    if _JSONPATH.match(text) or _BARE_VARIABLE.match(text):
        raise JSONPATH_IN_JSONATA.refuse(
            argument,
            text,
            f"a JSONata expression, e.g. {_jsonpath_hint(text)}: in a JSONata state this text is "
            "sent as is, not evaluated",
        )
    if _INTRINSIC.match(text):
        raise JSONPATH_IN_JSONATA.refuse(
            argument,
            text,
            "a JSONata expression: intrinsic functions belong to JSONPath states; e.g. "
            "'{% \"Hello \" & $states.input.name %}' instead of States.Format",
        )


def check_jsonata(argument: str, expression: str) -> None:
    """Parse ``{% body %}`` as JSONata; the error names the argument and the position."""
    body = expression[2:-2]
    JSONATA_SYNTAX.require(
        body.strip() != "", argument, expression, "a JSONata expression inside '{% %}'"
    )
    JSONATA_SYNTAX.require(
        _EVAL.search(body) is None,
        argument,
        expression,
        "an expression without $eval, which Step Functions does not provide (use $parse)",
    )
    # jsonata-python implements the JSONata grammar in pure Python; imported on first use so
    # an app with no user expressions does not pay for it.
    from jsonata import Jsonata  # type: ignore[import-untyped]
    from jsonata.jexception import JException  # type: ignore[import-untyped]

    try:
        Jsonata(body)
    except JException as error:
        position = int(getattr(error, "location", 0) or 0)
        near = body[max(0, position - 10) : position + 10]
        message = str(getattr(error, "msg", None) or error).strip()
        raise JSONATA_SYNTAX.refuse(
            argument,
            expression,
            f"a valid JSONata expression: {message} at character {position} of the expression "
            f"(near {near!r})",
        ) from None
    except (RecursionError, ValueError, TypeError, IndexError) as error:
        raise JSONATA_SYNTAX.refuse(
            argument, expression, f"a valid JSONata expression ({error})"
        ) from None


def check_value(argument: str, value: Any) -> None:
    """Every string of a JSON value (a body, arguments), keys included, and its literal size."""
    _walk(argument, value)
    check_literal_size(argument, value)


def _walk(argument: str, value: Any) -> None:
    if isinstance(value, str):
        check_string(argument, value)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            JSONPATH_IN_JSONATA.require(
                not (isinstance(key, str) and key.endswith(".$")),
                argument,
                key,
                f"a key without '.$' ({str(key)[:-2]!r}) whose value is '{{% ... %}}': JSONata "
                "states evaluate expressions, not '.$' keys",
            )
            _walk(f"{argument}.{key}", item)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _walk(f"{argument}[{index}]", item)


def check_literal_size(argument: str, value: Any) -> None:
    """A literal can never exceed the payload a state may carry."""
    if isinstance(value, str) and is_expression(value):
        return
    try:
        size = len(json.dumps(value, ensure_ascii=False, default=str).encode("utf-8"))
    except (TypeError, ValueError):  # a value JSON cannot carry is refused elsewhere
        return
    PAYLOAD_LITERAL.require(
        size <= PAYLOAD_MAX_BYTES,
        argument,
        f"<{size:,} bytes>",
        f"at most {PAYLOAD_MAX_BYTES:,} bytes (256 KiB) as JSON: pass large content through "
        "S3 (input_s3_uri) or the execution's input instead of a literal",
    )


def check_text(argument: str, value: object) -> str:
    """A prompt or system text: a non-empty literal or a ``{% %}`` expression."""
    JSONATA_WHOLE_STRING.require(
        isinstance(value, str) and value.strip() != "",
        argument,
        value,
        "non-empty text, or a JSONata expression written as '{% ... %}'",
    )
    assert isinstance(value, str)
    check_string(argument, value)
    check_literal_size(argument, value)
    return value


def check_variable_name(argument: str, name: str | None) -> None:
    """A variable name as ASL allows it in ``Assign`` (letters, digits and underscores, not
    starting with a digit, at most 80 characters), neither reserved nor a built-in function."""
    if name is None:
        return
    VARIABLE_NAME.require(
        isinstance(name, str) and name.isidentifier() and name.isascii() and len(name) <= 80,
        argument,
        name,
        "a variable name of letters, digits and underscores, not starting with a digit, at "
        "most 80 characters (without the leading '$')",
    )
    VARIABLE_NAME.require(
        name not in RESERVED_VARIABLES,
        argument,
        name,
        "a name other than 'states': $states is Step Functions' reserved variable",
    )
    VARIABLE_NAME.require(
        name not in BUILT_IN_FUNCTIONS,
        argument,
        name,
        f"a name that is not a JSONata function: ${name} would hide ${name}() from later "
        "expressions (lambdaless's own answer expressions use $lookup, $join and $exists)",
    )
