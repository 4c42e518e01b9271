"""Limits lint: where one execution of a synthesized state machine can break in production.

Rules (each finding names the state and the numbers):

``history-events``   a Standard execution's worst case exceeds 25,000 history events (error),
                     or 80% of it (warning); a Map without a bound says at how many items.
``unbounded-loop``   a loop (e.g. Choice -> Wait -> poll) with no declared bound: a Standard
                     execution can run into the history limit, an Express one into 5 minutes.
``express-duration`` an Express workflow's worst case exceeds 300 seconds.
``map-concurrency``  an inline Map without MaxConcurrency runs 40 iterations at once; a
                     Distributed Map runs up to 10,000 children (more is invalid).
``payload-size``     a model answer passed along without ``Output.S3Uri`` that can exceed, or
                     whose Map (inline or Distributed) collects answers that can exceed,
                     256 KiB; a Distributed Map without a ResultWriter.
``retry-budget``     a state's retries (back-off + attempts x TimeoutSeconds) outlast the
                     execution's TimeoutSeconds.
``model-legacy``     a Task calls a model in its Legacy period on Amazon Bedrock, or past its
                     EOL date (warning: construction refuses that unless acknowledged; see
                     :mod:`lambdaless.rules.lifecycle`), by the dates of
                     :mod:`lambdaless.analysis.model_lifecycle` on the lint's ``today``.

and every graph rule of :mod:`lambdaless.rules` (``retry-budget`` is one of them), as an error
named by the rule's id.

Findings can be acknowledged (see :mod:`lambdaless.analysis.annotations`).
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from lambdaless.analysis.annotations import Annotations, read
from lambdaless.analysis.asl import iter_states
from lambdaless.analysis.history import (
    Assumptions,
    Profile,
    Walker,
    is_distributed,
    profile,
    task_kind,
)
from lambdaless.analysis.model_lifecycle import lifecycle_of, today_utc
from lambdaless.limits import (
    DISTRIBUTED_MAP_MAX_CONCURRENCY,
    EXPRESS_MAX_SECONDS,
    HISTORY_MAX_EVENTS,
    INLINE_MAP_MAX_CONCURRENCY,
    PAYLOAD_MAX_BYTES,
)
from lambdaless.synthesized import SynthesizedStateMachine

Severity = Literal["error", "warning"]

#: A model named in a Task's arguments: a foundation-model or inference-profile ARN (region
#: group 1, id group 3), as every lambdaless step writes ``ModelId`` / ``BaseModelIdentifier``.
_MODEL_ARN = re.compile(r":bedrock:([^:]*):[^:]*:(foundation-model|inference-profile)/([^/]+)$")

#: Bytes per generated token assumed for answer sizes: about four characters of English per
#: token (Anthropic/Amazon tokenizer guidance), one byte each in UTF-8.
BYTES_PER_TOKEN = 4
HISTORY_WARNING_SHARE = 0.8

_MAX_TOKEN_KEYS = (
    "max_tokens",
    "maxTokens",
    "max_gen_len",
    "max_new_tokens",
    "maxTokenCount",
    "MaxTokens",
)


@dataclass(frozen=True)
class Finding:
    """One lint finding. ``acknowledged`` holds the user's reason when they accepted it."""

    rule: str
    severity: Severity
    state_machine: str
    state: str | None
    message: str
    acknowledged: str | None = None

    @property
    def blocking(self) -> bool:
        """An unacknowledged error: fails ``cdk synth``."""
        return self.severity == "error" and self.acknowledged is None

    def describe(self) -> str:
        where = f"{self.state_machine}" + (f" / {self.state}" if self.state else "")
        text = f"[{self.severity}] {self.rule} ({where}): {self.message}"
        if self.acknowledged is not None:
            text += f" -- acknowledged: {self.acknowledged}"
        return text


def max_tokens(state: Mapping[str, Any]) -> int | None:
    """The answer-length cap a Bedrock Task sends, wherever its model family puts it."""
    args = state.get("Arguments") or state.get("Parameters") or {}
    stack: list[Any] = [args]
    while stack:
        node = stack.pop()
        if isinstance(node, Mapping):
            for key, value in node.items():
                if key in _MAX_TOKEN_KEYS and isinstance(value, int):
                    return value
                stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)
    return None


def _calls_managed_prompt(state: Mapping[str, Any]) -> bool:
    """A Converse Task whose ``ModelId`` is a Prompt management prompt ARN (its inference
    configuration lives in the prompt: API_runtime_Converse)."""
    args = state.get("Arguments") or state.get("Parameters") or {}
    model = args.get("ModelId") if isinstance(args, Mapping) else None
    return isinstance(model, str) and ":prompt/" in model


def _max_items(state: Mapping[str, Any]) -> int | None:
    """A Map's item bound from its ItemReader's ``ReaderConfig.MaxItems``, if literal."""
    config = (state.get("ItemReader") or {}).get("ReaderConfig") or {}
    items = config.get("MaxItems")
    return items if isinstance(items, int) and not isinstance(items, bool) else None


def offloads_output(state: Mapping[str, Any]) -> bool:
    """Whether a Bedrock Task writes its answer to S3 (``Output.S3Uri``)."""
    args = state.get("Arguments") or state.get("Parameters") or {}
    output = args.get("Output") if isinstance(args, Mapping) else None
    return isinstance(output, Mapping) and any(k.startswith("S3Uri") for k in output)


class _Linter:
    def __init__(
        self,
        name: str,
        definition: Mapping[str, Any],
        kind: str,
        notes: Annotations,
        assumptions: Assumptions,
        today: datetime.date,
    ) -> None:
        self.name = name
        self.today = today
        self.definition = definition
        self.express = kind.upper() == "EXPRESS"
        self.notes = notes
        self.assumptions = assumptions
        self.profile: Profile = profile(definition, assumptions=assumptions, bounds=notes.bounds)
        self.findings: list[Finding] = []

    def add(self, rule: str, severity: Severity, state: str | None, message: str) -> None:
        self.findings.append(
            Finding(rule, severity, self.name, state, message, self.notes.acknowledged(rule, state))
        )

    def run(self) -> list[Finding]:
        self.loops()
        if not self.express:
            self.history()
        else:
            self.duration()
        self.maps()
        self.payloads()
        self.catalogue()
        self.lifecycles()
        return self.findings

    def lifecycles(self) -> None:
        """Warn about each model a Task calls that is Legacy, or past its EOL date, today."""
        for _, name, state in iter_states(self.definition):
            if state.get("Type") != "Task":
                continue
            seen: set[str] = set()
            for text in _strings(state.get("Arguments") or state.get("Parameters") or {}):
                match = _MODEL_ARN.search(text)
                if match is None or match.group(3) in seen:
                    continue
                seen.add(match.group(3))
                region = match.group(1) if match.group(2) == "foundation-model" else ""
                lifecycle = lifecycle_of(match.group(3))
                if lifecycle.eol_date is None:
                    continue
                literal = region if re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", region) else None
                status = lifecycle.status_on(self.today, literal)
                eol = lifecycle.eol_date.isoformat()
                if status == "legacy" and lifecycle.eol_date > self.today:
                    message = (
                        f"model {lifecycle.model} is Legacy on Amazon Bedrock: it reaches its "
                        f"end of life on {eol}, after which every call fails; move to an Active "
                        "model before then"
                    )
                elif status in ("legacy", "end-of-life"):
                    message = (
                        f"model {lifecycle.model} reached its end of life on Amazon Bedrock on "
                        f"{eol}"
                        + (
                            f" (it stays available in {', '.join(lifecycle.still_available_in)})"
                            if lifecycle.still_available_in
                            else ""
                        )
                        + ": calls fail wherever it is gone; the app acknowledged it or runs "
                        "it where it stays"
                    )
                else:
                    continue
                self.add(
                    "model-legacy",
                    "warning",
                    name,
                    f"{message} (as of {self.today.isoformat()}; {lifecycle.describe()}).",
                )

    def loops(self) -> None:
        for loop in self.profile.unbounded_loops:
            per_pass = self.profile.per_state_worst
            events = sum(per_pass[s]["events"] for s in loop)
            seconds = sum(per_pass[s]["seconds"] for s in loop)
            path = " -> ".join(loop)
            if self.express:
                self.add(
                    "unbounded-loop",
                    "warning",
                    loop[0],
                    f"loop {path} has no bound; it can run until the {EXPRESS_MAX_SECONDS} s "
                    f"Express limit ({seconds:g} s per pass). Declare one with "
                    f"lambdaless:max-iterations=N or bound().",
                )
            else:
                passes = math.floor(HISTORY_MAX_EVENTS / events) if events else 0
                self.add(
                    "unbounded-loop",
                    "error",
                    loop[0],
                    f"loop {path} has no bound: {events:,.0f} history events per pass in the "
                    f"worst case, so about {passes:,} passes exhaust the {HISTORY_MAX_EVENTS:,}-"
                    "event history. Count iterations and exit, then declare the bound "
                    "(lambdaless:max-iterations=N in the Comment, or bound()).",
                )

    def history(self) -> None:
        worst = self.profile.worst["events"]
        if not math.isinf(worst):
            severity: Severity | None = None
            if worst > HISTORY_MAX_EVENTS:
                severity = "error"
            elif worst > HISTORY_WARNING_SHARE * HISTORY_MAX_EVENTS:
                severity = "warning"
            if severity:
                assumed = (
                    f" (assuming {self.assumptions.map_items} items for Map "
                    f"{', '.join(self.profile.assumed_maps)})"
                    if self.profile.assumed_maps
                    else ""
                )
                self.add(
                    "history-events",
                    severity,
                    None,
                    f"worst case {worst:,.0f} history events{assumed}, limit "
                    f"{HISTORY_MAX_EVENTS:,}: the execution fails when it reaches the limit.",
                )
        for path, name, state in iter_states(self.definition):
            if state.get("Type") != "Map" or is_distributed(state) or name in self.notes.bounds:
                continue
            if any(p in self.profile.assumed_maps for p in path):
                continue  # the outer Map's finding covers it
            per_item = self._per_item_events(state)
            if math.isinf(per_item):
                continue
            items = math.floor(HISTORY_MAX_EVENTS / per_item) if per_item else 0
            self.add(
                "history-events",
                "warning",
                name,
                f"inline Map with no item bound: each item adds up to {per_item:,.0f} "
                f"history events, so above about {items:,} items one execution exceeds "
                f"{HISTORY_MAX_EVENTS:,}. Declare a bound (lambdaless:max-items=N) or use a "
                "Distributed Map.",
            )

    def _per_item_events(self, state: Mapping[str, Any]) -> float:
        processor = state.get("ItemProcessor") or state.get("Iterator") or {}
        walker = Walker("worst", self.assumptions, self.notes.bounds)
        return 2 + walker.scope(processor).totals["events"]

    def duration(self) -> None:
        worst = self.profile.worst["seconds"]
        happy = self.profile.happy["seconds"]
        if math.isinf(worst) or worst <= EXPRESS_MAX_SECONDS:
            return
        a = self.assumptions
        self.add(
            "express-duration",
            "error" if happy > EXPRESS_MAX_SECONDS else "warning",
            None,
            f"worst case {worst:,.0f} s (happy path {happy:,.0f} s; every retry used, "
            f"attempts taking TimeoutSeconds or {a.model_latency_seconds:g} s per model call)"
            f" vs the {EXPRESS_MAX_SECONDS} s Express limit: the execution would time out. "
            "Shorten retries/timeouts or use a Standard workflow.",
        )

    def maps(self) -> None:
        for _, name, state in iter_states(self.definition):
            if state.get("Type") != "Map":
                continue
            concurrency = int(state.get("MaxConcurrency") or 0)
            processor = state.get("ItemProcessor") or state.get("Iterator") or {}
            calls = sorted({task_kind(s) for _, _, s in iter_states(processor)} - {"", "other"})
            what = " and ".join("Bedrock" if c == "model" else "HTTP" for c in calls)
            if is_distributed(state):
                if concurrency > DISTRIBUTED_MAP_MAX_CONCURRENCY:
                    self.add(
                        "map-concurrency",
                        "error",
                        name,
                        f"MaxConcurrency {concurrency:,} exceeds the Distributed Map limit of "
                        f"{DISTRIBUTED_MAP_MAX_CONCURRENCY:,} child executions.",
                    )
                elif not concurrency and not state.get("MaxConcurrencyPath") and calls:
                    self.add(
                        "map-concurrency",
                        "warning",
                        name,
                        f"Distributed Map without MaxConcurrency runs up to "
                        f"{DISTRIBUTED_MAP_MAX_CONCURRENCY:,} children at once, each calling "
                        f"{what}: set MaxConcurrency from the quota.",
                    )
            elif not concurrency and not state.get("MaxConcurrencyPath") and calls:
                self.add(
                    "map-concurrency",
                    "warning",
                    name,
                    f"inline Map with MaxConcurrency 0/absent runs up to "
                    f"{INLINE_MAP_MAX_CONCURRENCY} iterations at once, each calling {what}: "
                    "set MaxConcurrency from the quota (e.g. tokens per minute / tokens per "
                    "call x minutes per call).",
                )

    def payloads(self) -> None:
        limit = PAYLOAD_MAX_BYTES
        sized_maps: set[str] = set()  # Maps whose collected answers were sized below
        for path, name, state in iter_states(self.definition):
            if task_kind(state) != "model" or offloads_output(state):
                continue
            tokens = max_tokens(state)
            if tokens is None and _calls_managed_prompt(state):
                self.add(
                    "payload-size",
                    "warning",
                    name,
                    "model answer of a Prompt management prompt, whose maxTokens is set in the "
                    f"prompt (not visible here), vs {limit:,} bytes per state: keep it under "
                    f"{limit // BYTES_PER_TOKEN:,} tokens and acknowledge this with the reason.",
                )
                continue
            if tokens is None:
                self.add(
                    "payload-size",
                    "warning",
                    name,
                    "model answer passed along with no max tokens set: its size is bounded "
                    f"only by the model's output limit, vs {limit:,} bytes per state. Set "
                    "max tokens or write the answer to S3 (Output.S3Uri).",
                )
                continue
            size = tokens * BYTES_PER_TOKEN
            if size > limit:
                self.add(
                    "payload-size",
                    "error",
                    name,
                    f"answer up to {tokens:,} tokens x {BYTES_PER_TOKEN} bytes = {size:,} "
                    f"bytes exceeds {limit:,} bytes (States.DataLimitExceeded, not "
                    "catchable by States.ALL): write it to S3 (Output.S3Uri).",
                )
                continue
            for outer in path:
                parent = self._state(outer)
                if parent is None or parent.get("Type") != "Map":
                    continue
                if parent.get("ResultWriter"):
                    continue
                sized_maps.add(outer)
                fits = limit // size
                items = self.notes.bounds.get(outer, _max_items(parent))
                if items is not None and items <= fits:
                    continue
                severity: Severity = "error" if items is not None else "warning"
                bound = f"its bound of {items:,} items" if items is not None else "no item bound"
                self.add(
                    "payload-size",
                    severity,
                    name,
                    f"Map {outer} collects one answer per item (up to {tokens:,} tokens x "
                    f"{BYTES_PER_TOKEN} = {size:,} bytes each): above {fits:,} items its "
                    f"output exceeds {limit:,} bytes ({bound}). Write answers to S3 "
                    "(Output.S3Uri"
                    + (", or a ResultWriter" if is_distributed(parent) else "")
                    + ") or keep only what later states need.",
                )
        # A Distributed Map without a ResultWriter returns every child's output inline
        # (AWS docs, "state-map-distributed", "input-output-resultwriter"); its items may come
        # from S3 in any number, so even small outputs can add up past the limit.
        for _, name, state in iter_states(self.definition):
            if (
                state.get("Type") != "Map"
                or not is_distributed(state)
                or state.get("ResultWriter")
                or name in sized_maps
            ):
                continue
            items, each = self.notes.bounds.get(name), self.notes.item_output_bytes.get(name)
            if items is not None and each is not None:
                # Declared: at most `items` outputs of `each` bytes, plus a comma apiece.
                total = items * (each + 1) + 2
                if total > limit:
                    self.add(
                        "payload-size",
                        "error",
                        name,
                        f"Distributed Map without a ResultWriter collects up to {items:,} "
                        f"outputs of {each:,} bytes inline ({total:,} bytes), above {limit:,} "
                        "bytes (States.DataLimitExceeded, not catchable by States.ALL).",
                    )
                continue
            self.add(
                "payload-size",
                "warning",
                name,
                "Distributed Map without a ResultWriter returns every child's output inline: "
                f"once they add up to more than {limit:,} bytes the execution fails with "
                "States.DataLimitExceeded, which States.ALL cannot catch, and every result is "
                "lost. Write the results to S3 with a ResultWriter (FanOut(results_to=...)), or "
                "declare lambdaless:max-items=N and lambdaless:max-item-output-bytes=B in its "
                "Comment.",
            )

    def _state(self, name: str) -> Mapping[str, Any] | None:
        for _, n, state in iter_states(self.definition):
            if n == name:
                return state
        return None

    def catalogue(self) -> None:
        """The graph rules of :mod:`lambdaless.rules` against the execution's timeout."""
        # imported here: some rule modules read this module's limits at import
        from lambdaless.rules.graph import Machine, check_machine
        from lambdaless.rules.workflow_types import timeout_limit

        timeout = self.definition.get("TimeoutSeconds")
        limit, _ = timeout_limit(express=self.express)
        source = f"the {'Express' if self.express else 'Standard'} execution's limit"
        if isinstance(timeout, int | float) and not isinstance(timeout, bool) and timeout < limit:
            limit, source = int(timeout), "the execution's TimeoutSeconds"
        machine = Machine(self.definition, self.express, limit, source)
        for violation in check_machine(machine):
            self.add(violation.rule.id, "error", violation.state, violation.message)


def lint_definition(
    definition: Mapping[str, Any],
    *,
    name: str = "StateMachine",
    type: str = "STANDARD",
    annotations: Annotations | None = None,
    assumptions: Assumptions | None = None,
    today: datetime.date | None = None,
) -> list[Finding]:
    """Lint one ASL definition (``type``: ``STANDARD`` or ``EXPRESS``). Bounds declared in state
    Comments always apply; ``annotations`` add acknowledgements and bounds on top. Model
    lifecycles are judged on ``today`` (default: today's UTC date)."""
    notes = read({}, definition)
    if annotations is not None:
        notes = Annotations(
            annotations.acknowledgements,
            {**notes.bounds, **annotations.bounds},
            {**notes.item_output_bytes, **annotations.item_output_bytes},
        )
    linter = _Linter(
        name,
        definition,
        type,
        notes,
        assumptions or Assumptions(),
        today if today is not None else today_utc(),
    )
    return linter.run()


def lint(
    machine: SynthesizedStateMachine,
    *,
    assumptions: Assumptions | None = None,
    today: datetime.date | None = None,
) -> list[Finding]:
    """Lint one synthesized state machine, honouring its acknowledgements and bounds (model
    lifecycles on ``today``, by default today's UTC date)."""
    notes = read(machine.resource, machine.definition)
    return lint_definition(
        machine.definition,
        name=machine_label(machine),
        type=machine.type,
        annotations=notes,
        assumptions=assumptions,
        today=today,
    )


def _strings(node: Any) -> list[str]:
    """Every string value under ``node`` (dicts and lists walked)."""
    found: list[str] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, Mapping):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def machine_label(machine: SynthesizedStateMachine) -> str:
    """``Stack/Construct`` path of a state machine, without the trailing ``/Resource`` (the
    stack and logical id when the template carries no path metadata)."""
    if "/" not in machine.path and machine.stack:
        return f"{machine.stack}/{machine.path}"
    return machine.path.removesuffix("/Resource")
