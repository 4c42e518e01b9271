"""Rules about the service features each workflow type (Standard, Express) supports, and the
query language each state is written in. No CDK import."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from lambdaless.analysis.asl import iter_states
from lambdaless.limits import EXPRESS_MAX_SECONDS, STANDARD_MAX_SECONDS
from lambdaless.rules._graph import Machine, Violation
from lambdaless.rules._rule import Rule
from lambdaless.rules.expressions import JSONPATH_IN_JSONATA

_CHOOSING = (
    'Step Functions developer guide, "choosing-workflow-type" '
    "(https://docs.aws.amazon.com/step-functions/latest/dg/choosing-workflow-type.html)"
)

EXPRESS_CALLBACK = Rule(
    "express-no-callback",
    "a .waitForTaskToken task in an Express workflow (or in a Distributed Map's Express "
    "children): Express supports only the request-response pattern",
    'Step Functions developer guide, "connect-to-resource" '
    "(https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html)",
    "synth",
)
EXPRESS_SYNC = Rule(
    "express-no-sync",
    "a .sync (run a job) task in an Express workflow (or in a Distributed Map's Express children)",
    'Step Functions developer guide, "connect-to-resource" '
    "(https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html)",
    "synth",
)
EXPRESS_DISTRIBUTED_MAP = Rule(
    "express-no-distributed-map",
    "a Distributed Map in an Express workflow: Distributed mode needs a Standard parent",
    'Step Functions developer guide, "state-map-distributed" '
    "(https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html)",
    "synth",
)
TIMEOUT_RANGE = Rule(
    "workflow-timeout-range",
    "a workflow timeout beyond its type's maximum duration (Express 5 minutes, Standard one year)",
    _CHOOSING,
    "construct",
)
QUERY_LANGUAGE = Rule(
    "query-language-fields",
    "a state whose fields belong to the other query language: Arguments/Output/Items or a "
    "Choice rule's Condition in a JSONPath state, or Parameters/ResultSelector/*Path fields "
    "(InputPath, ResultPath, ItemsPath, TimeoutSecondsPath, ...) or a Choice rule's Variable "
    "and comparison operators in a JSONata state",
    'Step Functions developer guide, "transforming-data" '
    "(https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html)",
    "synth",
)
FAN_OUT_CATCH = Rule(
    "fan-out-step-catches-all",
    "a FanOut step= that already catches States.ALL: FanOut's own catcher, which keeps each "
    "failed item beside its error, would come after it and never run (and ASL wants States.ALL "
    "in the last catcher)",
    'Step Functions developer guide, "concepts-error-handling" '
    "(https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html)",
    "construct",
)

WAIT_TIMESTAMP = Rule(
    "wait-timestamp-format",
    "a Wait state's literal Timestamp that is not an RFC 3339 date and time with an uppercase "
    "T and a Z or numeric offset (2026-12-01T09:00:00Z)",
    'Step Functions developer guide, "state-wait" '
    "(https://docs.aws.amazon.com/step-functions/latest/dg/state-wait.html)",
    "synth",
)

RULES: tuple[Rule, ...] = (
    EXPRESS_CALLBACK,
    EXPRESS_SYNC,
    EXPRESS_DISTRIBUTED_MAP,
    TIMEOUT_RANGE,
    QUERY_LANGUAGE,
    FAN_OUT_CATCH,
    WAIT_TIMESTAMP,
)

#: Fields only a JSONPath state has, and only a JSONata state has ("transforming-data";
#: "state-map", "state-wait", "state-task" and "state-fail" name each *Path field JSONPath only,
#: and Items JSONata only).
JSONPATH_FIELDS = (
    "Parameters",
    "InputPath",
    "ResultSelector",
    "ResultPath",
    "OutputPath",
    "ItemsPath",
    "SecondsPath",
    "TimestampPath",
    "TimeoutSecondsPath",
    "HeartbeatSecondsPath",
    "MaxConcurrencyPath",
    "ToleratedFailureCountPath",
    "ToleratedFailurePercentagePath",
    "ErrorPath",
    "CausePath",
)
JSONATA_FIELDS = ("Arguments", "Output", "Items")
#: A Choice rule's fields: JSONata rules are {Condition, Next, Assign, Output}; JSONPath rules
#: compare a Variable or combine rules with And/Or/Not ("state-choice").
JSONATA_CHOICE_FIELDS = ("Condition",)
JSONPATH_CHOICE_FIELDS = ("Variable", "And", "Or", "Not")
#: "state-wait": RFC 3339 with an uppercase T between date and time and an uppercase Z when no
#: numeric offset is given.
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def timeout_limit(*, express: bool) -> tuple[int, str]:
    """The longest execution of a workflow type, and how to say it."""
    if express:
        return EXPRESS_MAX_SECONDS, "for an Express workflow (5 minutes)"
    return STANDARD_MAX_SECONDS, "for a Standard workflow (one year)"


def is_distributed(state: Mapping[str, Any]) -> bool:
    """Whether ``state`` is a Map in Distributed mode."""
    processor = state.get("ItemProcessor") or {}
    return str((processor.get("ProcessorConfig") or {}).get("Mode", "")).upper() == "DISTRIBUTED"


def _express_scopes(
    definition: Mapping[str, Any], express: bool, where: str = ""
) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    """``(where, name, state)`` for every state that runs in an Express execution: all of an
    Express workflow's, and those of a Distributed Map whose children are Express."""
    for name, state in (definition.get("States") or {}).items():
        if express:
            yield where, name, state
        for branch in state.get("Branches") or []:
            yield from _express_scopes(branch, express, where)
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            config = processor.get("ProcessorConfig") or {}
            children_express = is_distributed(state) and (
                str(config.get("ExecutionType", "")).upper() == "EXPRESS"
            )
            inner = f" (Express children of Map {name!r})" if children_express else where
            yield from _express_scopes(processor, express or children_express, inner)


def _query_language_violations(
    definition: Mapping[str, Any], inherited: str
) -> Iterator[Violation]:
    for name, state in (definition.get("States") or {}).items():
        language = str(state.get("QueryLanguage") or inherited)
        wrong: tuple[str, ...]
        if language == "JSONata":
            wrong, right = JSONPATH_FIELDS, "Arguments and Output (a JSONata state)"
        else:
            wrong, right = (
                JSONATA_FIELDS,
                (
                    "Parameters, ResultSelector, ResultPath (a JSONPath state), or "
                    '"QueryLanguage": "JSONata" on the state'
                ),
            )
        for field in wrong:
            if field in state:
                yield Violation(QUERY_LANGUAGE, name, field, state[field], right)
        for index, catcher in enumerate(state.get("Catch") or []):
            for field in wrong:
                if field in catcher:
                    label = f"Catch[{index}].{field}"
                    yield Violation(QUERY_LANGUAGE, name, label, catcher[field], right)
        if language == "JSONata":
            yield from _jsonpath_keys(name, state)
        choice_wrong = JSONPATH_CHOICE_FIELDS if language == "JSONata" else JSONATA_CHOICE_FIELDS
        choice_right = (
            "a rule with Condition: '{% ... %}' (a JSONata state)"
            if language == "JSONata"
            else 'a rule with Variable and a comparison (a JSONPath state), or "QueryLanguage": '
            '"JSONata" on the state'
        )
        for index, choice in enumerate(state.get("Choices") or []):
            for field in choice_wrong:
                if isinstance(choice, Mapping) and field in choice:
                    label = f"Choices[{index}].{field}"
                    yield Violation(QUERY_LANGUAGE, name, label, choice[field], choice_right)
        for branch in state.get("Branches") or []:
            yield from _query_language_violations(branch, language)
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            yield from _query_language_violations(processor, language)


def check_fan_out_step(argument: str, catchers: Sequence[Mapping[str, Any]]) -> None:
    """Refuse a FanOut ``step=`` whose catchers already include ``States.ALL``."""
    for catcher in catchers:
        errors = list(catcher.get("ErrorEquals") or [])
        FAN_OUT_CATCH.require(
            "States.ALL" not in errors,
            f"{argument} Catch",
            {"ErrorEquals": errors, "Next": catcher.get("Next")},
            "catchers of named errors only: FanOut catches every other error itself and keeps "
            "the failed item beside its error (remove the step's States.ALL catcher, or "
            "handle the error inside a Parallel given as step=)",
        )


def check_machine(machine: Machine) -> list[Violation]:
    """The Express rules and ``query-language-fields`` on every state."""
    found: list[Violation] = []
    for where, name, state in _express_scopes(machine.definition, machine.express):
        resource = str(state.get("Resource") or "") if state.get("Type") == "Task" else ""
        suffix = where or " (an Express workflow)"
        if resource.endswith(".waitForTaskToken"):
            found.append(
                Violation(
                    EXPRESS_CALLBACK,
                    name,
                    "Resource",
                    resource,
                    "a request-response integration" + suffix + ", or a Standard workflow",
                )
            )
        elif ".sync" in resource.rsplit(":::", 1)[-1]:
            found.append(
                Violation(
                    EXPRESS_SYNC,
                    name,
                    "Resource",
                    resource,
                    "a request-response integration" + suffix + ", or a Standard workflow",
                )
            )
        if machine.express and not where and is_distributed(state):
            found.append(
                Violation(
                    EXPRESS_DISTRIBUTED_MAP,
                    name,
                    "ItemProcessor.ProcessorConfig.Mode",
                    "DISTRIBUTED",
                    "an inline Map in an Express workflow, or a Standard workflow",
                )
            )
    top = str(machine.definition.get("QueryLanguage") or "JSONPath")
    found.extend(_query_language_violations(machine.definition, top))
    found.extend(_timestamp_violations(machine.definition))
    return found


#: The fields of a JSONata state whose objects Step Functions evaluates ("transforming-data").
_JSONATA_OBJECTS = ("Arguments", "Output", "Assign", "ItemSelector", "Items")


def _dollar_keys(value: Any, where: str) -> Iterator[tuple[str, str]]:
    """``(where, key)`` of every key ending in '.$' inside ``value``."""
    if isinstance(value, Mapping):
        for key, child in value.items():
            if isinstance(key, str) and key.endswith(".$"):
                yield where, key
            yield from _dollar_keys(child, f"{where}.{key}")
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _dollar_keys(child, f"{where}[{index}]")


def _jsonpath_keys(name: str, state: Mapping[str, Any]) -> Iterator[Violation]:
    """A JSONata state evaluates '{% %}' strings only: a JSONPath '.$' key is sent as it is,
    with its path as literal text."""
    holders = [(field, state.get(field)) for field in _JSONATA_OBJECTS]
    for index, catcher in enumerate(state.get("Catch") or []):
        holders += [(f"Catch[{index}].{f}", catcher.get(f)) for f in ("Output", "Assign")]
    for field, value in holders:
        for where, key in _dollar_keys(value, field):
            yield Violation(
                JSONPATH_IN_JSONATA,
                name,
                where,
                key,
                f"a key without '.$' whose value is a JSONata expression, e.g. "
                f"{{{key[:-2]!r}: '{{% ... %}}'}} (a JSONata state), or \"QueryLanguage\": "
                '"JSONPath" on the state',
            )


def _timestamp_violations(definition: Mapping[str, Any]) -> Iterator[Violation]:
    for _, name, state in iter_states(definition):
        stamp = state.get("Timestamp") if state.get("Type") == "Wait" else None
        if not isinstance(stamp, str) or stamp.strip().startswith("{%"):
            continue  # a JSONata expression is evaluated at run time
        valid = bool(_TIMESTAMP.fullmatch(stamp))
        if valid:
            try:
                datetime.fromisoformat(stamp.replace("Z", "+00:00"))
            except ValueError:
                valid = False  # 2026-02-30T00:00:00Z
        if not valid:
            yield Violation(
                WAIT_TIMESTAMP,
                name,
                "Timestamp",
                stamp,
                "an RFC 3339 date and time with an uppercase T and a Z or a numeric offset, "
                "e.g. '2026-12-01T09:00:00Z' or '2026-12-01T10:00:00+01:00'",
            )
