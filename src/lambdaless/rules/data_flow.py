"""Rules about what a state reads when it runs: workflow variables in scope, the ``$states``
fields that exist where they are read, and the task token a callback Task must send out.

Each passes ``cdk synth`` silently and fails only on AWS: an unknown variable or a
``$states.result`` read in ``Arguments`` fails the state with ``States.QueryEvaluationError``;
a ``.waitForTaskToken`` Task that never sends its token waits until its timeout (a year by
default). No CDK import.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from lambdaless.rules._graph import Machine, Violation
from lambdaless.rules._rule import Rule
from lambdaless.rules.expressions import BUILT_IN_FUNCTIONS, RESERVED_VARIABLES, is_expression
from lambdaless.rules.workflow_types import is_distributed

_SFN = "https://docs.aws.amazon.com/step-functions/latest/dg/"

VARIABLE_SCOPE = Rule(
    "variable-not-in-scope",
    "a workflow variable read where no state of its scope assigns it: a name no Assign sets "
    "(a typo), a variable assigned inside a Map iteration or a Parallel branch read outside "
    "it, or a parent's variable read inside a Distributed Map's child workflow",
    _SFN + "workflow-variables.html",
    "synth",
)
STATES_FIELD = Rule(
    "states-field-unavailable",
    "$states.result read outside the Output and Assign of a Task, Map or Parallel state, or "
    "$states.errorOutput read outside a Catch's Output and Assign",
    _SFN + "transforming-data.html",
    "synth",
)
CALLBACK_TOKEN = Rule(
    "callback-task-token",
    "a .waitForTaskToken Task whose request never carries the task token "
    "($states.context.Task.Token, or $$.Task.Token in JSONPath): nobody can answer it, so the "
    "execution waits until the Task's timeout",
    _SFN + "connect-to-resource.html",
    "synth",
)

RULES: tuple[Rule, ...] = (VARIABLE_SCOPE, STATES_FIELD, CALLBACK_TOKEN)

# Fields that hold a nested workflow, checked in their own scope, and fields never evaluated.
_NESTED = frozenset({"Branches", "ItemProcessor", "Iterator"})
_LITERAL = frozenset({"Type", "Comment", "Next", "End", "Default", "Resource", "QueryLanguage"})
# "transforming-data", Reserved variable $states: result in the Output and Assign of Task,
# Parallel and Map states; errorOutput in a Catch's Output and Assign.
_RESULT_STATES = frozenset({"Task", "Parallel", "Map"})
_RESULT_FIELDS = frozenset({"Output", "Assign"})
# A JSONPath reference to a variable: '$name' or '$name.path' ('$.x', '$$.x' and '$[0]' are
# input and context paths), also as an argument of an intrinsic function.
_PATH_VARIABLE = re.compile(r"(?<![\w$.'])\$([A-Za-z_][A-Za-z0-9_]*)")
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'")


def _jsonata_reads(body: str) -> tuple[set[str], set[str]]:
    """``(variables read, $states fields read)`` by one JSONata expression body: the names of
    every ``$name`` that is not bound inside the expression (``:=``, a function's parameters,
    ``@$x``/``#$i``) nor a built-in function."""
    from jsonata import Jsonata  # type: ignore[import-untyped]
    from jsonata.jexception import JException  # type: ignore[import-untyped]

    try:
        tree = Jsonata(body).ast
    except (JException, RecursionError, ValueError, TypeError, IndexError):
        return set(), set()  # jsonata-syntax reports an expression that does not parse
    read: set[str] = set()
    bound: set[str] = set()
    fields: set[str] = set()
    stack: list[Any] = [tree]
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if node is None or not hasattr(node, "type") or id(node) in seen:
            continue
        seen.add(id(node))
        kind = node.type
        if kind == "variable" and isinstance(node.value, str):
            read.add(node.value)
        elif kind == "bind" and getattr(node.lhs, "type", None) == "variable":
            bound.add(str(node.lhs.value))
        elif kind == "lambda":
            bound.update(str(arg.value) for arg in node.arguments or [] if arg is not None)
        elif kind == "path":
            steps = node.steps or []
            if (
                len(steps) > 1
                and getattr(steps[0], "type", None) == "variable"
                and steps[0].value == "states"
                and getattr(steps[1], "type", None) == "name"
            ):
                fields.add(str(steps[1].value))
        for attribute in ("focus", "index"):
            name = getattr(node, attribute, None)
            if isinstance(name, str):
                bound.add(name)
        for attribute, child in vars(node).items():
            if attribute not in ("_outer_instance", "_jsonata_lambda") and (
                isinstance(child, list) or hasattr(child, "type")
            ):
                stack.append(child)
    names = {
        name
        for name in read - bound
        if name.isidentifier() and name not in BUILT_IN_FUNCTIONS and name not in RESERVED_VARIABLES
    }
    return names, fields


def _jsonpath_reads(key: str, text: str) -> set[str]:
    """Variables a JSONPath-state string reads: a ``.$`` value, a ``*Path`` field or a Choice
    ``Variable`` that is a variable path or an intrinsic function over one."""
    if not (key.endswith(".$") or key.endswith("Path") or key == "Variable"):
        return set()
    return set(_PATH_VARIABLE.findall(_QUOTED.sub("''", text)))


def _strings(value: Any, key: str = "") -> Iterator[tuple[str, str]]:
    """``(key, text)`` for every string of a JSON value (the key it sits under)."""
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, Mapping):
        for child_key, child in value.items():
            if isinstance(child_key, str) and is_expression(child_key):
                yield "", child_key
            yield from _strings(child, str(child_key))
    elif isinstance(value, list):
        for child in value:
            yield from _strings(child, key)


def _fields(state: Mapping[str, Any]) -> Iterator[tuple[str, str, Any]]:
    """``(label, field, value)`` of every evaluated field of a state, its catchers' and its
    Choice rules' included (``field`` is the field's own name, for where ``$states`` reads)."""
    for field, value in state.items():
        if field in _NESTED or field in _LITERAL:
            continue
        if field == "Catch" and isinstance(value, list):
            for index, catcher in enumerate(value):
                for sub in ("Output", "Assign"):
                    if isinstance(catcher, Mapping) and sub in catcher:
                        yield f"Catch[{index}].{sub}", f"Catch.{sub}", catcher[sub]
            continue
        if field == "Choices" and isinstance(value, list):
            for index, choice in enumerate(value):
                if isinstance(choice, Mapping):
                    for sub, inner in choice.items():
                        if sub != "Next":
                            yield f"Choices[{index}].{sub}", f"Choices.{sub}", inner
            continue
        yield field, field, value


def _assigned(definition: Mapping[str, Any]) -> set[str]:
    """The variables any state of one scope assigns (its own Assign, its catchers', its
    Choice rules'); not those of nested Map iterations or Parallel branches."""
    names: set[str] = set()
    for state in (definition.get("States") or {}).values():
        holders = [state, *(state.get("Catch") or []), *(state.get("Choices") or [])]
        for holder in holders:
            assign = holder.get("Assign") if isinstance(holder, Mapping) else None
            if isinstance(assign, Mapping):
                # a JSONPath Assign names a variable 'count.$' whose value is a path
                names.update(str(name).removesuffix(".$") for name in assign)
    return names


def _scope_violations(
    definition: Mapping[str, Any], language: str, outer: frozenset[str], where: str
) -> Iterator[Violation]:
    visible = outer | _assigned(definition)
    for name, state in (definition.get("States") or {}).items():
        state_language = str(state.get("QueryLanguage") or language)
        for label, field, value in _fields(state):
            for key, text in _strings(value, field):
                if state_language == "JSONata":
                    if not is_expression(text):
                        continue
                    reads, states_fields = _jsonata_reads(text[2:-2])
                    yield from _states_field(name, state, label, field, text, states_fields)
                else:
                    reads = _jsonpath_reads(key, text)
                for variable in sorted(reads - visible):
                    yield Violation(
                        VARIABLE_SCOPE,
                        name,
                        label,
                        f"${variable}",
                        _scope_hint(variable, visible, where),
                    )
        yield from _callback_token(name, state)
        for branch in state.get("Branches") or []:
            yield from _scope_violations(branch, state_language, visible, " (a Parallel branch)")
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            if is_distributed(state):
                # "workflow-variables": a Distributed Map's child workflows cannot read the
                # variables of the workflow that runs them; pass values in ItemSelector.
                inner: frozenset[str] = frozenset()
                inside = f" (the child workflow of Distributed Map {name!r})"
            else:
                inner, inside = visible, f" (an iteration of Map {name!r})"
            yield from _scope_violations(processor, state_language, inner, inside)


def _scope_hint(variable: str, visible: frozenset[str], where: str) -> str:
    known = ", ".join(f"${name}" for name in sorted(visible)) or "none"
    if where.startswith(" (the child workflow"):
        reason = (
            f"a variable assigned in this scope{where}: a Distributed Map's children cannot "
            "read their parent's variables (pass the value in ItemSelector)"
        )
    else:
        reason = (
            f"a variable that a state of this scope{where} or an enclosing one assigns "
            "(variables assigned inside a Map iteration or Parallel branch are not visible "
            "outside it: return them in its Output)"
        )
    return f"{reason}; variables in scope: {known}"


def _states_field(
    name: str,
    state: Mapping[str, Any],
    label: str,
    field: str,
    text: str,
    read: set[str],
) -> Iterator[Violation]:
    if "result" in read and not (state.get("Type") in _RESULT_STATES and field in _RESULT_FIELDS):
        yield Violation(
            STATES_FIELD,
            name,
            label,
            text,
            "$states.result only in the Output or Assign of a Task, Map or Parallel state (the "
            "previous state's result is this state's $states.input, or a variable it assigned)",
        )
    if "errorOutput" in read and field not in ("Catch.Output", "Catch.Assign"):
        yield Violation(
            STATES_FIELD,
            name,
            label,
            text,
            "$states.errorOutput only in a Catch's Output or Assign (the state a Catch goes to "
            "reads the error as its $states.input)",
        )


def _callback_token(name: str, state: Mapping[str, Any]) -> Iterator[Violation]:
    resource = str(state.get("Resource") or "")
    if state.get("Type") != "Task" or not resource.endswith(".waitForTaskToken"):
        return
    request = {field: state.get(field) for field in ("Arguments", "Parameters")}
    # "connect-to-resource", Wait for a Callback with Task Token: the token is read from the
    # context object; only a request that carries it lets anyone call SendTaskSuccess.
    if "Task.Token" not in json.dumps(request):
        yield Violation(
            CALLBACK_TOKEN,
            name,
            "Resource",
            resource,
            "a callback Task whose Arguments (Parameters in JSONPath) pass the task token: "
            '\'{% $states.context.Task.Token %}\' in JSONata, "TaskToken.$": "$$.Task.Token" '
            "in JSONPath (the receiver calls SendTaskSuccess or SendTaskFailure with it), or the "
            "request-response Resource without .waitForTaskToken",
        )


def check_machine(machine: Machine) -> list[Violation]:
    """``variable-not-in-scope`` (only on a whole definition), ``states-field-unavailable``
    and ``callback-task-token`` on every state."""
    top = str(machine.definition.get("QueryLanguage") or "JSONPath")
    found = list(_scope_violations(machine.definition, top, frozenset(), ""))
    if not machine.whole:
        found = [violation for violation in found if violation.rule is not VARIABLE_SCOPE]
    return found
