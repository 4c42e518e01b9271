"""Bedrock batch inference jobs found in synthesized ASL, and what their items cost.

A ``BatchInference`` (:mod:`lambdaless.patterns.batch`) leaves everything this needs in its ASL:
the ``aws-sdk:bedrock:createModelInvocationJob`` Task (``ModelId``, the first wait in its
``Assign``), the Wait state doubling the wait up to a cap (``$min([$wait * 2, cap])``), and the
Distributed Map writing the records' files (an ``aws-sdk:s3:putObject`` child), each of
``records_per_file`` records carrying the model's ``max_tokens``: the Map iterates over
``$partition(items, records_per_file)`` (items from the state) or batches the items it reads
from S3 with an ItemBatcher of ``MaxItemsPerBatch`` = ``records_per_file``.

Costs per 1,000 items: the model's tokens at the batch rate beside the same tokens on demand
(:mod:`lambdaless.analysis.model_pricing`: batch is 50% of on-demand), and the orchestration
of one run, in billed Standard transitions (:mod:`lambdaless.analysis.pricing`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lambdaless.analysis.asl import iter_states
from lambdaless.analysis.model_pricing import model_identifier, model_prices_for
from lambdaless.analysis.pricing import Prices, prices_for

_SUBMIT = ":::aws-sdk:bedrock:createModelInvocationJob"
_PUT_OBJECT = ":::aws-sdk:s3:putObject"
_CAP = re.compile(r"\$min\(\[\$\w+ \* 2, (\d+)\]\)")
_PARTITION = re.compile(r"\$partition\(.*, (\d+)\)\s*%}$")
_MAX_TOKENS = re.compile(r'\\?"(?:max_tokens|maxTokens|maxTokenCount|max_gen_len)\\?": (\d+)')

#: Billed transitions of each part of a run (states entered; BatchInference's ASL):
#: Count, Write, Submit, Read, Check, Counted once (Count before Write, or after it for items
#: read from S3); one WriteFile per file; per poll Wait, Poll,
#: Status; per output file FileKind, ReadFile, SaveAnswers; the manifest FileKind, ReadManifest.
_FIXED = 6
_PER_POLL = 3
_PER_FILE = 1 + 3
_MANIFEST = 2
#: History events of the parent (Step Functions history event types): a Wait 2 (entered,
#: exited), a Task 5 (entered, scheduled, started, succeeded, exited), a Choice 2, a Pass 2, a
#: Distributed Map 6 (entered, MapRunStarted, started, succeeded, MapRunSucceeded, exited), plus
#: ExecutionStarted and ExecutionSucceeded. Children keep their own histories.
_PARENT_FIXED_EVENTS = 2 + 2 + 6 + 5 + 6 + 2 + 2
_PARENT_EVENTS_PER_POLL = 2 + 5 + 2


def poll_schedule(first: int, cap: int, horizon: int) -> list[int]:
    """The waits (seconds) of the polls made within ``horizon`` seconds: ``first``, doubling,
    at most ``cap`` each."""
    waits: list[int] = []
    wait, total = first, 0
    while total < horizon:
        waits.append(wait)
        total += wait
        wait = min(wait * 2, cap)
    return waits


@dataclass(frozen=True)
class BatchJob:
    """One batch inference job of a state machine, as its ASL states it."""

    state: str
    model: str
    max_tokens: int | None
    records_per_file: int | None
    first_poll: int | None
    max_poll: int | None

    def polls(self, hours: float) -> int:
        """Polls of a job that ends after ``hours`` (60 s doubling to 900 s if not stated)."""
        return len(poll_schedule(self.first_poll or 60, self.max_poll or 900, int(hours * 3600)))

    def files(self, items: int) -> int:
        """Input files (and output files) of ``items`` records."""
        return math.ceil(items / (self.records_per_file or 1))

    def transitions(self, items: int, polls: int) -> int:
        """Billed transitions of one run of ``items`` items whose job ends after ``polls``."""
        return _FIXED + self.files(items) * _PER_FILE + _MANIFEST + polls * _PER_POLL

    def parent_transitions(self, polls: int) -> int:
        """The parent execution's share of :meth:`transitions` (children bill their own)."""
        return _FIXED + polls * _PER_POLL

    def parent_events(self, polls: int) -> int:
        """History events of the parent execution (the Maps' children have their own)."""
        return _PARENT_FIXED_EVENTS + polls * _PARENT_EVENTS_PER_POLL


@dataclass(frozen=True)
class BatchCost:
    """Per 1,000 items: model cost at the batch rate and on demand, and orchestration."""

    job: BatchJob
    items: int
    input_tokens: int
    output_tokens: int
    hours: float
    batch_per_1000: float
    on_demand_per_1000: float
    orchestration_per_1000: float
    transitions: int
    parent_events: int
    prices: Prices
    model_prices: str

    @property
    def ratio(self) -> float:
        """Batch model cost / on-demand model cost."""
        return self.batch_per_1000 / self.on_demand_per_1000 if self.on_demand_per_1000 else 0.0

    def describe(self) -> str:
        """Two lines for ``lambdaless inspect``."""
        return (
            f"batch inference {self.job.state} ({model_identifier(self.job.model)}), per 1,000 "
            "items of "
            f"{self.input_tokens:,} input + {self.output_tokens:,} output tokens: model "
            f"${self.batch_per_1000:,.4f} at the batch rate vs ${self.on_demand_per_1000:,.4f} "
            f"on demand ({self.ratio:.2f}x); orchestration ${self.orchestration_per_1000:,.4f} "
            f"({self.transitions:,} transitions and {self.parent_events:,} parent history "
            f"events for {self.items:,} items and a {self.hours:g} h job)\n"
            f"    model prices: {self.model_prices}"
        )


def batch_jobs(definition: Mapping[str, Any]) -> list[BatchJob]:
    """Every ``createModelInvocationJob`` Task, with what the ASL says about its job."""
    states = list(iter_states(definition))
    jobs: list[BatchJob] = []
    for _, name, state in states:
        if state.get("Type") != "Task" or not str(state.get("Resource", "")).endswith(_SUBMIT):
            continue
        arguments = state.get("Arguments") or {}
        assigned = [v for v in (state.get("Assign") or {}).values() if isinstance(v, int)]
        caps = [
            int(m.group(1))
            for _, _, s in states
            if s.get("Type") == "Wait"
            for v in (s.get("Assign") or {}).values()
            if (m := _CAP.search(str(v)))
        ]
        per_file = [n for _, _, s in states if (n := _records_per_file(s)) is not None]
        tokens = [int(m.group(1)) for m in _MAX_TOKENS.finditer(json.dumps(definition))]
        jobs.append(
            BatchJob(
                state=name,
                model=str(arguments.get("ModelId", "")),
                max_tokens=tokens[0] if tokens else None,
                records_per_file=per_file[0] if per_file else None,
                first_poll=assigned[0] if assigned else None,
                max_poll=caps[0] if caps else None,
            )
        )
    return jobs


def _records_per_file(state: Mapping[str, Any]) -> int | None:
    """A Write Map's records per file: its ``$partition(items, n)``, or the ``MaxItemsPerBatch``
    of its ItemBatcher when its children put objects (items read from S3)."""
    if state.get("Type") != "Map":
        return None
    if m := _PARTITION.search(str(state.get("Items", ""))):
        return int(m.group(1))
    batch = (state.get("ItemBatcher") or {}).get("MaxItemsPerBatch")
    processor = json.dumps(state.get("ItemProcessor") or {})
    if isinstance(batch, int) and not isinstance(batch, bool) and _PUT_OBJECT in processor:
        return batch
    return None


def batch_cost(
    job: BatchJob,
    *,
    items: int = 10_000,
    input_tokens: int = 1_000,
    output_tokens: int | None = None,
    hours: float = 24,
    prices: Prices | None = None,
    region: str = "us-east-1",
    model_overrides: Mapping[str, Any] | None = None,
) -> BatchCost:
    """The cost of ``items`` items through ``job`` per 1,000 items.

    Args:
        job: from :func:`batch_jobs`.
        items: items in one run (default 10,000).
        input_tokens: input tokens per item (default 1,000).
        output_tokens: output tokens per item; by default the job's ``max_tokens`` (or 200).
        hours: how long the job runs, for the polls (default 24).
        prices: orchestration prices (default us-east-1).
        region: the region of the model prices (default us-east-1).
        model_overrides: overrides of the model's token prices (``model_prices_for``).
    """
    out = output_tokens if output_tokens is not None else (job.max_tokens or 200)
    model = model_prices_for(job.model, region, model_overrides)
    on_demand = model.cost(input_tokens=input_tokens, output_tokens=out) * 1000
    batch = model.cost(input_tokens=input_tokens, output_tokens=out, batch=True) * 1000
    p = prices or prices_for(region)
    polls = job.polls(hours)
    transitions = job.transitions(items, polls)
    return BatchCost(
        job=job,
        items=items,
        input_tokens=input_tokens,
        output_tokens=out,
        hours=hours,
        batch_per_1000=batch,
        on_demand_per_1000=on_demand,
        orchestration_per_1000=transitions * p.standard_per_transition * 1000 / items,
        transitions=transitions,
        parent_events=job.parent_events(polls),
        prices=p,
        model_prices=model.describe(),
    )
