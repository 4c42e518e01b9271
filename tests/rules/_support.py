"""Shared by every rule test: assert that a call is refused by one rule, or accepted.

A rule's error reads ``argument=value is not allowed: expected ... [rule <id>; AWS: <page>]``
(:meth:`lambdaless.rules.Rule.refuse`); :func:`refused` checks the rule id, the argument and
the value, so a test cannot pass because some other check happened to refuse the input.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lambdaless._errors import LambdalessError
from lambdaless.rules import BY_ID

TESTS = Path(__file__).resolve().parents[1]
_UNSET: Any = object()


def refused(
    rule: str,
    call: Callable[[], object],
    *,
    argument: str | None = None,
    value: Any = _UNSET,
) -> LambdalessError:
    """Run ``call``; assert it raises ``rule``'s error, naming ``argument`` and ``value``
    (its ``repr``) when given. Returns the error for further checks."""
    assert rule in BY_ID, f"{rule!r} is not in lambdaless.rules.CATALOGUE"
    with pytest.raises(LambdalessError) as caught:
        call()
    message = str(caught.value)
    assert f"[rule {rule}; AWS: {BY_ID[rule].doc}]" in message, message
    if argument is not None:
        assert argument in message, message
    if value is not _UNSET:
        assert repr(value) in message or str(value) in message, message
    return caught.value


def accepted(call: Callable[[], object]) -> object:
    """Run ``call`` and return its result; a refusal fails the test with the message."""
    try:
        return call()
    except LambdalessError as error:  # pragma: no cover - the failure path of a test
        pytest.fail(f"refused a valid input: {error}")


def rule_ids_in_tests(*, exclude: tuple[str, ...] = ()) -> set[str]:
    """The rule ids quoted (``"id"`` or ``'id'``) in test files, except the files named."""
    quoted = re.compile(r"""["']([a-z0-9]+(?:-[a-z0-9]+)+)["']""")
    return {
        match
        for path in _test_files()
        if path.name not in exclude
        for match in quoted.findall(path.read_text(encoding="utf-8"))
    }


def _test_files() -> Iterator[Path]:
    yield from TESTS.rglob("test_*.py")
