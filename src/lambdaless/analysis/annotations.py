"""What the user knows better than the lint: acknowledged findings and declared bounds.

Both live in the synthesized template, so the lint stays template-only:

* on the ``AWS::StepFunctions::StateMachine`` resource, ``Metadata["lambdaless:analysis"]``::

      {"acknowledge": [{"rule": "unbounded-loop", "state": "PollJob", "reason": "..."}],
       "bounds": {"PollJob": 40, "SummarizeEach": 500}}

  written from a CDK app with :func:`acknowledge` and :func:`bound`;
* in a state's ``Comment``, ``lambdaless:max-iterations=N`` (a loop through that state runs at
  most N times) or ``lambdaless:max-items=N`` (a Map gets at most N items), and on a Map
  ``lambdaless:max-item-output-bytes=B`` (each item's output is at most B bytes of JSON), so a
  reusable fragment can declare its own bounds without reaching the state machine.

A bound replaces "unbounded" with a number in every worst case; an acknowledgement keeps the
finding visible in reports but stops it from failing ``cdk synth``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lambdaless._errors import invalid, require
from lambdaless.analysis.asl import iter_states

METADATA_KEY = "lambdaless:analysis"
_COMMENT_BOUND = re.compile(r"lambdaless:max-(?:iterations|items)\s*=\s*(\d+)")
_COMMENT_OUTPUT = re.compile(r"lambdaless:max-item-output-bytes\s*=\s*(\d+)")

#: The lint's rules (see :mod:`lambdaless.analysis.lint`): the ids a finding is acknowledged by.
RULES: dict[str, str] = {
    "history-events": "worst-case history events of one Standard execution vs 25,000",
    "unbounded-loop": "a loop with no declared bound",
    "express-duration": "worst-case duration of an Express execution vs 300 s",
    "map-concurrency": "Map concurrency bounds (inline 40, Distributed 10,000)",
    "payload-size": "model answers, and Distributed Map results, kept in the state vs 256 KiB",
    "retry-budget": "a state's retries vs the execution timeout",
    "model-legacy": "a model in its Legacy period, or past its EOL date, on Amazon Bedrock",
}


@dataclass(frozen=True)
class Acknowledgement:
    """A finding the user accepts: ``rule`` on ``state`` (every state when ``None``)."""

    rule: str
    reason: str
    state: str | None = None

    def covers(self, rule: str, state: str | None) -> bool:
        """Whether this acknowledgement applies to a finding of ``rule`` on ``state``."""
        return self.rule == rule and (self.state is None or self.state == state)


@dataclass(frozen=True)
class Annotations:
    """Acknowledgements, bounds (state name -> max loop iterations or Map items) and Maps'
    declared largest item output (state name -> bytes)."""

    acknowledgements: tuple[Acknowledgement, ...] = ()
    bounds: Mapping[str, int] = field(default_factory=dict)
    item_output_bytes: Mapping[str, int] = field(default_factory=dict)

    def acknowledged(self, rule: str, state: str | None) -> str | None:
        """The reason a finding is acknowledged, or ``None``."""
        for ack in self.acknowledgements:
            if ack.covers(rule, state):
                return ack.reason
        return None


def read(resource: Mapping[str, Any], definition: Mapping[str, Any]) -> Annotations:
    """Annotations of one state machine from its template resource and its ASL."""
    raw = (resource.get("Metadata") or {}).get(METADATA_KEY) or {}
    acks = tuple(
        Acknowledgement(
            rule=str(entry["rule"]),
            reason=str(entry.get("reason", "")),
            state=None if entry.get("state") is None else str(entry["state"]),
        )
        for entry in raw.get("acknowledge", [])
    )
    bounds: dict[str, int] = {}
    outputs: dict[str, int] = {}
    for _, name, state in iter_states(definition):
        comment = str(state.get("Comment", ""))
        match = _COMMENT_BOUND.search(comment)
        if match:
            bounds[name] = int(match.group(1))
        match = _COMMENT_OUTPUT.search(comment)
        if match:
            outputs[name] = int(match.group(1))
    bounds.update({str(k): int(v) for k, v in (raw.get("bounds") or {}).items()})
    return Annotations(acks, bounds, outputs)


# -- the CDK side (no aws_cdk import: it works on the constructs it is given) --------------------


def _cfn_state_machine(target: Any) -> Any:
    """The ``CfnStateMachine`` of a ``Workflow``, ``StateMachine`` or ``CfnStateMachine``."""
    node = getattr(target, "state_machine", target)
    if not hasattr(node, "add_metadata"):
        node = node.node.default_child
    if node is None or not hasattr(node, "add_metadata"):
        raise invalid("target", target, "a Workflow, an sfn.StateMachine or its CfnStateMachine")
    return node


def _update(target: Any, key: str, value: Any) -> None:
    cfn = _cfn_state_machine(target)
    current = dict(cfn.get_metadata(METADATA_KEY) or {})
    if key == "acknowledge":
        current[key] = [*current.get(key, []), value]
    else:
        current[key] = {**current.get(key, {}), **value}
    cfn.add_metadata(METADATA_KEY, current)


def acknowledge(target: Any, rule: str, *, reason: str, state: str | None = None) -> None:
    """Accept a lint finding of ``rule`` (on ``state``, or on every state) for ``target``.

    The finding is still reported, marked with ``reason``, but no longer fails ``cdk synth``.
    ``target`` is a ``Workflow``, an ``sfn.StateMachine`` or its ``CfnStateMachine``.
    """
    require(rule in RULES, "rule", rule, f"a lint rule, one of {sorted(RULES)}")
    require(
        isinstance(reason, str) and bool(reason.strip()),
        "reason",
        reason,
        "text saying why the finding cannot happen",
    )
    require(state is None or isinstance(state, str), "state", state, "None or a state name")
    entry: dict[str, str] = {"rule": rule, "reason": reason}
    if state is not None:
        entry["state"] = state
    _update(target, "acknowledge", entry)


def bound(target: Any, state: str, maximum: int) -> None:
    """Declare that a loop through ``state`` runs at most ``maximum`` times, or that Map
    ``state`` gets at most ``maximum`` items; worst cases then use the number."""
    require(
        isinstance(maximum, int) and not isinstance(maximum, bool) and maximum >= 1,
        "maximum",
        maximum,
        "an integer of at least 1",
    )
    _update(target, "bounds", {state: maximum})
