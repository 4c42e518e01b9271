"""Step Functions Local mock-config files, read exactly as Step Functions Local reads them.

Format (AWS docs, "Using mocked service integrations for testing in Step Functions Local" and
"Configuration file for mocked service integrations in Step Functions")::

    {"StateMachines": {"<name>": {"TestCases": {"<case>": {"<State>": "<Response>"}}}},
     "MockedResponses": {"<Response>": {"0": {"Return": {...}},
                                        "1-2": {"Throw": {"Error": "...", "Cause": "..."}}}}}

Each key of a mocked response is an invocation number or an inclusive range of them, starting
at 0 and consecutive; each value holds exactly one of ``Return`` or ``Throw``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from lambdaless.testing.mocks import MockedResponse, Return, Throw

__all__ = ["MockConfig", "MockConfigError"]


class MockConfigError(ValueError):
    """A mock-config document that Step Functions Local would not accept, or a lookup in it that
    names no state machine or test case."""


def _parse_range(key: str, where: str) -> tuple[int, int]:
    parts = key.strip().split("-")
    try:
        numbers = [int(part) for part in parts]
    except ValueError:
        numbers = []
    if len(numbers) == 1:
        return numbers[0], numbers[0]
    if len(numbers) == 2 and 0 <= numbers[0] < numbers[1]:
        return numbers[0], numbers[1]
    raise MockConfigError(
        f"{where}: key {key!r} is not an invocation number ('0') or a range ('1-2')"
    )


def _parse_response(entry: Any, where: str) -> MockedResponse:
    if not isinstance(entry, Mapping) or len(entry) != 1 or not {"Return", "Throw"} & set(entry):
        raise MockConfigError(f"{where}: expected exactly one of 'Return' or 'Throw'")
    if "Return" in entry:
        return Return(entry["Return"])
    throw = entry["Throw"]
    if not isinstance(throw, Mapping) or "Error" not in throw:
        raise MockConfigError(f"{where}: 'Throw' needs an 'Error' (and usually a 'Cause')")
    return Throw(str(throw["Error"]), str(throw.get("Cause", "")))


def parse_mocked_response(name: str, entries: Any) -> list[MockedResponse]:
    """One named mocked response, expanded to one entry per invocation."""
    if not isinstance(entries, Mapping) or not entries:
        raise MockConfigError(f"MockedResponses.{name}: expected an object of numbered responses")
    ranges = sorted(
        (
            (_parse_range(str(key), f"MockedResponses.{name}"), value)
            for key, value in entries.items()
        ),
        key=lambda item: item[0],
    )
    expanded: list[MockedResponse] = []
    for (first, last), value in ranges:
        if first != len(expanded):
            raise MockConfigError(
                f"MockedResponses.{name}: responses must be numbered consecutively from 0; "
                f"expected {len(expanded)} next, found {first}"
            )
        response = _parse_response(value, f"MockedResponses.{name}.{first}")
        expanded.extend([response] * (last - first + 1))
    return expanded


class MockConfig:
    """A parsed Step Functions Local mock-config document."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        if not isinstance(document, Mapping):
            raise MockConfigError(f"a mock config is a JSON object, not {type(document).__name__}")
        machines = document.get("StateMachines")
        responses = document.get("MockedResponses")
        if not isinstance(machines, Mapping) or not isinstance(responses, Mapping):
            raise MockConfigError(
                "a mock config needs top-level 'StateMachines' and 'MockedResponses' objects"
            )
        self.document: Mapping[str, Any] = document
        self.responses: dict[str, list[MockedResponse]] = {
            name: parse_mocked_response(name, entries) for name, entries in responses.items()
        }
        self.state_machines: dict[str, dict[str, dict[str, str]]] = {}
        for machine, body in machines.items():
            cases = body.get("TestCases") if isinstance(body, Mapping) else None
            if not isinstance(cases, Mapping):
                raise MockConfigError(f"StateMachines.{machine}: expected a 'TestCases' object")
            self.state_machines[machine] = {}
            for case, states in cases.items():
                if not isinstance(states, Mapping):
                    raise MockConfigError(
                        f"StateMachines.{machine}.TestCases.{case}: expected "
                        "an object of state name -> mocked response name"
                    )
                for state, response in states.items():
                    if response not in self.responses:
                        raise MockConfigError(
                            f"StateMachines.{machine}.TestCases.{case}.{state} names mocked "
                            f"response {response!r}, which MockedResponses does not define"
                        )
                self.state_machines[machine][case] = {str(k): str(v) for k, v in states.items()}

    @classmethod
    def load(cls, source: MockConfig | Mapping[str, Any] | str | Path) -> MockConfig:
        """From a parsed document, a path to a JSON file, or a JSON string."""
        if isinstance(source, MockConfig):
            return source
        if not isinstance(source, str | Path):
            return cls(source)  # a parsed document; the constructor says what is wrong
        text = str(source)
        where = "the mock config text"
        if not text.lstrip().startswith("{"):
            where = str(source)
            text = Path(source).read_text()
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            raise MockConfigError(f"{where}: not valid JSON ({error})") from None
        return cls(document)

    def machine_key(self, candidates: Iterable[str]) -> str:
        """The ``StateMachines`` key for a state machine known by any of ``candidates`` (name,
        logical id, construct path): an exact match first, then the one key that begins a
        candidate (CDK logical ids start with the construct id, e.g. ``Summarizer`` for
        ``SummarizerStateMachine72945174``), then the only key when the file holds one."""
        names = [name for name in candidates if name]
        for name in names:
            if name in self.state_machines:
                return name
        prefixes = [key for key in self.state_machines if any(n.startswith(key) for n in names)]
        if len(prefixes) == 1:
            return prefixes[0]
        if len(self.state_machines) == 1:
            return next(iter(self.state_machines))
        raise MockConfigError(
            f"the mock config has no state machine named {' or '.join(map(repr, names))}; "
            f"it has {sorted(self.state_machines)}"
        )

    def test_case(self, machine: str, case: str | None) -> dict[str, list[MockedResponse]]:
        """State name -> responses per invocation for one test case (``case`` may be omitted
        when the state machine has exactly one)."""
        cases = self.state_machines[machine]
        if case is None:
            if len(cases) != 1:
                raise MockConfigError(
                    f"state machine {machine!r} has test cases {sorted(cases)}; pass test_case="
                )
            case = next(iter(cases))
        if case not in cases:
            raise MockConfigError(
                f"state machine {machine!r} has no test case {case!r}; it has {sorted(cases)}"
            )
        return {state: list(self.responses[name]) for state, name in cases[case].items()}
