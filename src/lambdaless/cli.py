"""The ``lambdaless`` command: look at synthesized workflows before deploying them.

``inspect``  a table per state machine: states, worst-case transitions and history events, cost
             per million executions against a Lambda middleman, lint findings, and how a
             deployment reaches its alias (strategy, guarding alarms, worst-case time);
``diagram``  Mermaid, SVG or PNG pictures of each state machine;
``run``      run state machines offline with a Step Functions Local mock file.

Everything reads the synthesized templates in a cloud assembly (``cdk synth -o cdk.out``); nothing
here loads aws-cdk-lib, so the command starts fast.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO, TypeVar

from lambdaless._jsii_env import silence_node_banner
from lambdaless.analysis.batch import BatchCost, batch_cost, batch_jobs
from lambdaless.analysis.cost import MILLION, CostReport, Middleman, cost
from lambdaless.analysis.history import Assumptions
from lambdaless.analysis.lint import Finding, lint, machine_label
from lambdaless.analysis.model_cost import TokenAssumptions
from lambdaless.analysis.pricing import Prices, load_prices, prices_for
from lambdaless.analysis.rollout import AliasRollout, describe_minutes, rollouts
from lambdaless.limits import EXPRESS_MAX_SECONDS, HISTORY_MAX_EVENTS
from lambdaless.synthesized import SynthesizedStateMachine, load, templates_in

T = TypeVar("T")


# -- small terminal helpers -----------------------------------------------------------------------
def _progress(items: Sequence[T], label: str, stream: TextIO = sys.stderr) -> Iterator[T]:
    """Yield ``items``, showing ``label i/n`` on a terminal (nothing when piped)."""
    show = stream.isatty() and len(items) > 1
    for i, item in enumerate(items, 1):
        if show:
            stream.write(f"\r{label} {i}/{len(items)} ...")
            stream.flush()
        yield item
    if show:
        stream.write("\r" + " " * (len(label) + 20) + "\r")
        stream.flush()


def _count(value: float) -> str:
    return "unbounded" if math.isinf(value) else f"{value:,.0f}"


def _seconds(value: float) -> str:
    if math.isinf(value):
        return "unbounded"
    return f"{value:,.1f} s" if value < 100 else f"{value:,.0f} s"


def _usd(value: float) -> str:
    if math.isinf(value):
        return "unbounded"
    return f"${value:,.2f}" if value >= 1 else f"${value:,.4f}"


def _table(rows: Iterable[Sequence[str]], indent: str = "  ") -> str:
    """Left-aligned first column, right-aligned others."""
    rows = [list(r) for r in rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append(indent + "   ".join(cells).rstrip())
    return "\n".join(lines)


# -- inspect --------------------------------------------------------------------------------------
def _prices(args: argparse.Namespace) -> Prices:
    if args.prices:
        return load_prices(args.prices, args.region)
    return prices_for(args.region or "us-east-1")


def _model_overrides(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    from lambdaless.analysis.model_pricing import load_model_overrides

    return load_model_overrides(args.prices, args.region) if args.prices else {}


def _tokens(args: argparse.Namespace) -> TokenAssumptions:
    return TokenAssumptions(input_tokens=args.input_tokens, cache_hit_rate=args.cache_hit_rate)


def _assumptions(args: argparse.Namespace) -> Assumptions:
    return Assumptions(
        model_latency_seconds=args.model_latency,
        http_latency_seconds=args.http_latency,
        map_items=args.map_items,
    )


def _states_summary(machine: SynthesizedStateMachine) -> str:
    from lambdaless.analysis.asl import iter_states

    kinds: dict[str, int] = {}
    resources: set[str] = set()
    for _, _, state in iter_states(machine.definition):
        kind = str(state.get("Type"))
        kinds[kind] = kinds.get(kind, 0) + 1
        if kind == "Task":
            resources.add(str(state.get("Resource", "")).rsplit(":::", 1)[-1])
    total = sum(kinds.values())
    parts = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
    calls = f" -> {', '.join(sorted(resources))}" if resources else ""
    return f"{total} states ({parts}){calls}"


def _templates(source: str) -> dict[str, Any]:
    """Stack name -> template, named as :func:`~lambdaless.synthesized.load` names stacks."""
    path = Path(source)
    if path.is_file():
        return {path.stem: json.loads(path.read_text())}
    return templates_in(path)


def _rollouts(templates: dict[str, Any], machine: SynthesizedStateMachine) -> list[AliasRollout]:
    return rollouts(templates.get(machine.stack, {}), machine.logical_id)


def _deployment_lines(found: Sequence[AliasRollout]) -> list[str]:
    if not found:
        return ["  deployment: none (each deploy moves every new execution to the new definition)"]
    lines = []
    for rollout in found:
        lines.append(f"  deployment: {rollout.describe()}")
        lines.append(f"    rolls back on: {', '.join(rollout.alarms) or 'no alarm'}")
    return lines


def render_inspect(
    machine: SynthesizedStateMachine,
    report: CostReport,
    findings: list[Finding],
    deployments: Sequence[AliasRollout] = (),
) -> str:
    """The text block ``lambdaless inspect`` prints for one state machine."""
    from lambdaless.analysis.annotations import read
    from lambdaless.analysis.history import profile

    notes = read(machine.resource, machine.definition)
    prof = profile(machine.definition, assumptions=report.assumptions, bounds=notes.bounds)
    h, w = report.happy, report.worst
    express = report.type == "EXPRESS"
    rows: list[list[str]] = [["", "happy path", "worst case"]]
    rows.append(["state transitions", _count(h.transitions), _count(w.transitions)])
    if not express:
        rows.append(
            [
                f"history events (limit {HISTORY_MAX_EVENTS:,})",
                _count(prof.happy["events"]),
                _count(prof.worst["events"]),
            ]
        )
    rows.append(
        [
            "duration" + (f" (limit {EXPRESS_MAX_SECONDS} s)" if express else ""),
            _seconds(h.seconds),
            _seconds(w.seconds),
        ]
    )
    rows.append(["Bedrock + HTTP calls", _count(h.calls), _count(w.calls)])
    if w.dynamodb_requests:
        rows.append(["DynamoDB requests", _count(h.dynamodb_requests), _count(w.dynamodb_requests)])
    rows.append(["cost per 1M executions", "", ""])
    rows.append(["  lambdaless (direct)", _usd(h.direct * MILLION), _usd(w.direct * MILLION)])
    if w.dynamodb_requests:
        rows.append(
            ["    of which DynamoDB", _usd(h.dynamodb * MILLION), _usd(w.dynamodb * MILLION)]
        )
    rows.append(
        [
            "  with a Lambda middleman",
            _usd(h.with_middleman * MILLION),
            _usd(w.with_middleman * MILLION),
        ]
    )
    rows.append(
        [
            "  saving",
            f"{h.saving:.0%}",
            f"{w.saving:.0%}" if not math.isinf(w.with_middleman) else "-",
        ]
    )
    rows.extend(_model_rows(report))
    lines = [
        f"{machine_label(machine)}  [{machine.type}]",
        "  " + _states_summary(machine),
        _table(rows),
    ]
    if prof.assumed_maps:
        lines.append(
            f"  * Map {', '.join(prof.assumed_maps)}: {report.assumptions.map_items} items assumed"
            " (declare a bound with lambdaless:max-items=N)"
        )
    lines.extend(_model_lines(report))
    lines.extend(_deployment_lines(deployments))
    lines.extend("  " + c.describe() for c in _batch_costs(machine, report.prices))
    if findings:
        errors = sum(f.blocking for f in findings)
        lines.append(f"  lint: {len(findings)} finding(s), {errors} blocking")
        lines.extend("    " + f.describe() for f in findings)
    else:
        lines.append("  lint: no findings")
    return "\n".join(lines)


def _model_rows(report: CostReport) -> list[list[str]]:
    """Model tokens of a typical execution beside orchestration, and the whole bill."""
    model = report.model
    if model is None or not model.calls:
        return []
    rows = [["model tokens per 1M (typical)", _usd(model.per_execution * MILLION), ""]]
    for tier in ("flex", "priority"):
        if model.by_tier.get(tier) != model.by_tier.get("default"):
            rows.append([f"  at {tier} where sold", _usd(model.by_tier[tier] * MILLION), ""])
    rows.append(["whole bill per 1M (typical)", "", ""])
    rows.append(["  lambdaless", _usd(report.whole_direct * MILLION), ""])
    rows.append(["  with a Lambda middleman", _usd(report.whole_with_middleman * MILLION), ""])
    rows.append(["  saving", f"{report.whole_saving:.1%}", ""])
    return rows


def _model_prices_note() -> str:
    from lambdaless.analysis.model_pricing import BEDROCK_PRICING_URL, CHECKED

    return (
        f"us-east-1 on-demand, checked {CHECKED} ({BEDROCK_PRICING_URL}); per-model figures "
        'unverified, override them with --prices (a "models" object)'
    )


def _model_lines(report: CostReport) -> list[str]:
    model = report.model
    if model is None or not model.calls:
        return []
    lines = ["  model calls (tokens per call: input + cache read/write, output = max_tokens):"]
    for c in model.calls:
        tier = "" if c.call.tier == "default" else f", {c.call.tier} tier"
        cache = (
            f" + {c.cache_read:,.0f} cache read / {c.cache_write:,.0f} cache write"
            if c.call.cached_system
            else ""
        )
        price = f"${c.usd:.6f}" if c.prices is not None else "no price data"
        lines.append(
            f"    {c.call.state}: {c.call.model.rsplit('/', 1)[-1]}{tier}: "
            f"{c.input_tokens:,.0f}{cache} in, {c.output_tokens:,.0f} out = {price} per call"
        )
    return lines


def _batch_costs(machine: SynthesizedStateMachine, prices: Prices) -> list[BatchCost]:
    """Each batch inference job's model cost at the batch rate beside on demand, per 1,000
    items (10,000 items of 1,000 input tokens and max_tokens output, a 24 h job)."""
    costs = []
    for job in batch_jobs(machine.definition):
        try:
            costs.append(batch_cost(job, prices=prices, region=prices.region))
        except LookupError:  # a model without token prices: nothing to compare
            continue
    return costs


def _inspect(args: argparse.Namespace) -> int:
    machines = load(args.cdk_out)
    if not machines:
        print(f"no state machines in {args.cdk_out}", file=sys.stderr)
        return 1
    prices = _prices(args)
    assumptions = _assumptions(args)
    tokens = _tokens(args)
    model_overrides = _model_overrides(args)
    middleman = Middleman(memory_mb=args.lambda_memory)
    templates = _templates(args.cdk_out)
    blocking = 0
    as_json: list[dict[str, Any]] = []
    blocks: list[str] = []
    for machine in _progress(machines, "analysing state machine"):
        report = cost(
            machine,
            prices=prices,
            assumptions=assumptions,
            middleman=middleman,
            tokens=tokens,
            model_overrides=model_overrides,
        )
        findings = lint(machine, assumptions=assumptions)
        blocking += sum(f.blocking for f in findings)
        deployments = _rollouts(templates, machine)
        if args.json:
            as_json.append(_inspect_json(machine, report, findings, deployments))
        else:
            blocks.append(render_inspect(machine, report, findings, deployments))
    if args.json:
        print(json.dumps(as_json, indent=2, default=str))
    else:
        print("\n\n".join(blocks))
        a = assumptions
        print(
            f"\nAssumed: {a.model_latency_seconds:g} s per Bedrock call, {a.http_latency_seconds:g}"
            f" s per HTTP call, middleman Lambda {middleman.memory_mb} MB (x86) + "
            f"{middleman.overhead_seconds:g} s per call; worst case = every retry used, Catch "
            "paths followed, attempts lasting TimeoutSeconds when set; model tokens per call: "
            f"{tokens.input_tokens:g} input + the literal system prompt (cached ones read on "
            f"{tokens.cache_hit_rate:.0%} of calls), output = max_tokens.\n"
            f"Prices: {prices.describe()}.\n"
            f"Model prices: {_model_prices_note()}."
        )
    return 1 if args.strict and blocking else 0


def _inspect_json(
    machine: SynthesizedStateMachine,
    report: CostReport,
    findings: list[Finding],
    deployments: Sequence[AliasRollout] = (),
) -> dict[str, Any]:
    def line(cost_line: Any) -> dict[str, Any]:
        return {
            "transitions": cost_line.transitions,
            "seconds": cost_line.seconds,
            "calls": cost_line.calls,
            "dynamodb_requests": cost_line.dynamodb_requests,
            "dynamodb_per_million_usd": cost_line.dynamodb * MILLION,
            "direct_per_million_usd": cost_line.direct * MILLION,
            "middleman_per_million_usd": cost_line.with_middleman * MILLION,
            "saving": cost_line.saving,
        }

    return {
        "state_machine": machine_label(machine),
        "type": machine.type,
        "happy": line(report.happy),
        "worst": line(report.worst),
        "findings": [f.__dict__ for f in findings],
        "deployments": [
            {
                "alias": d.alias,
                "strategy": d.strategy,
                "percent": d.percent,
                "interval_minutes": d.interval_minutes,
                "alarms": list(d.alarms),
                "worst_case_minutes": d.worst_case_minutes,
                "worst_case": describe_minutes(d.worst_case_minutes),
            }
            for d in deployments
        ],
        "prices": report.prices.describe(),
        "model_tokens": None
        if report.model is None
        else {
            "per_million_usd": report.model_usd * MILLION,
            "by_tier_per_million_usd": {
                tier: usd * MILLION for tier, usd in report.model.by_tier.items()
            },
            "calls": [
                {
                    "state": c.call.state,
                    "model": c.call.model,
                    "tier": c.call.tier,
                    "input_tokens": c.input_tokens,
                    "cache_read_tokens": c.cache_read,
                    "cache_write_tokens": c.cache_write,
                    "output_tokens": c.output_tokens,
                    "usd_per_call": c.usd if c.prices is not None else None,
                    "prices": c.prices.describe() if c.prices is not None else None,
                }
                for c in report.model.calls
            ],
            "whole_direct_per_million_usd": report.whole_direct * MILLION,
            "whole_middleman_per_million_usd": report.whole_with_middleman * MILLION,
            "whole_saving": report.whole_saving,
        },
        "batch_inference": [
            {
                "state": c.job.state,
                "model": c.job.model,
                "items": c.items,
                "input_tokens_per_item": c.input_tokens,
                "output_tokens_per_item": c.output_tokens,
                "job_hours": c.hours,
                "model_batch_per_1000_items_usd": c.batch_per_1000,
                "model_on_demand_per_1000_items_usd": c.on_demand_per_1000,
                "orchestration_per_1000_items_usd": c.orchestration_per_1000,
                "transitions": c.transitions,
                "parent_history_events": c.parent_events,
            }
            for c in _batch_costs(machine, report.prices)
        ],
    }


# -- diagram --------------------------------------------------------------------------------------
def _diagram(args: argparse.Namespace) -> int:
    from lambdaless.analysis import diagram

    machines = load(args.cdk_out)
    if args.state_machine:
        machines = [m for m in machines if args.state_machine in machine_label(m)]
    if not machines:
        print(f"no matching state machines in {args.cdk_out}", file=sys.stderr)
        return 1
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for machine in _progress(machines, f"drawing {args.format}"):
        stem = machine_label(machine).replace("/", "-")
        path = out / f"{stem}.{'mmd' if args.format == 'mermaid' else args.format}"
        if args.format == "mermaid":
            path.write_text(diagram.mermaid(machine.definition))
        elif args.format == "svg":
            path.write_text(diagram.svg(machine.definition, title=machine_label(machine)))
        else:
            path.write_bytes(diagram.png(machine.definition, title=machine_label(machine)))
        print(path)
    return 0


# -- run ------------------------------------------------------------------------------------------
def _mock_files(mocks: Path, machine: SynthesizedStateMachine) -> Path | None:
    if mocks.is_file():
        return mocks
    for candidate in (machine.stack, machine.name, machine.logical_id):
        path = mocks / f"{candidate}.json"
        if path.is_file():
            return path
    return None


def _path(states: Sequence[str], keep: int = 12) -> str:
    """``A -> B -> ... (40 more) ... -> Y -> Z`` for long paths (loops)."""
    if len(states) <= keep:
        return " -> ".join(states)
    head, tail = states[: keep // 2], states[-keep // 2 :]
    hidden = len(states) - len(head) - len(tail)
    return " -> ".join(head) + f" -> ... ({hidden} more) ... -> " + " -> ".join(tail)


def _read_json(path: Path, flag: str) -> Any:
    """The JSON document in ``path``; a missing or malformed file is an error naming both."""
    try:
        text = path.read_text()
    except OSError as error:
        raise ValueError(f"{flag} {path}: cannot read it ({error.strerror or error})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{flag} {path}: not valid JSON ({error})") from None


def _input(raw: str | None) -> tuple[bool, Any]:
    """(given, value) of ``--input``: any JSON value, inline or ``@file.json``."""
    if raw is None:
        return False, None
    if raw.startswith("@"):
        return True, _read_json(Path(raw[1:]), "--input")
    try:
        return True, json.loads(raw)
    except json.JSONDecodeError as error:
        raise ValueError(f"--input {raw!r}: not valid JSON ({error})") from None


def _run(args: argparse.Namespace) -> int:
    # Imported here: the local runner loads moto, which the other commands never need.
    from lambdaless.testing import (
        LocalRunner,
        MissingMockError,
        MockConfig,
        MockConfigError,
        MockShapeError,
        S3Seeds,
    )
    from lambdaless.testing._local_s3 import summary

    runner = LocalRunner(args.cdk_out)
    if args.all:
        machines = list(runner.machines)
        if args.state_machine:
            machines = [runner.state_machine(args.state_machine)]
    else:
        machines = [runner.state_machine(args.state_machine)]
    given, payload = _input(args.input)
    mocks = Path(args.mocks)
    if not mocks.exists():
        raise ValueError(f"--mocks {mocks}: no such file or folder")
    failures = 0
    ran = 0
    for machine in machines:
        mock_file = _mock_files(mocks, machine)
        if mock_file is None:
            print(f"{machine_label(machine)}: no mock file in {mocks}, skipped")
            continue
        document = _read_json(mock_file, "--mocks")
        try:
            config = MockConfig.load(document)
            key = config.machine_key([machine.name, machine.logical_id, machine.path])
        except MockConfigError as error:
            raise ValueError(f"--mocks {mock_file}: {error}") from None
        # Without --input, a sample input beside the mock file: <Name>.input.json.
        sample = mock_file.with_name(mock_file.stem + ".input.json")
        machine_input = payload if given or not sample.is_file() else _read_json(sample, "input")
        # S3 seeds beside it, <Name>.s3.json: the objects present before each run.
        seed_file = mock_file.with_name(mock_file.stem + ".s3.json")
        seeds = S3Seeds.load(seed_file) if seed_file.is_file() else None
        if seeds is not None:
            seeds.check_test_cases(c for cases in config.state_machines.values() for c in cases)
        cases = sorted(config.state_machines[key]) if args.all else [args.test_case]
        for case in cases:
            title = f"{machine_label(machine)} :: {case or 'default'}"
            try:
                result = runner.run(
                    machine.path,
                    machine_input,
                    mock_config=config,
                    test_case=case,
                    timeout_seconds=args.timeout,
                    repeat_last=args.repeat_last,
                    s3=seeds,
                )
            except (MissingMockError, MockShapeError) as error:
                failures += 1
                kind = "missing mock" if isinstance(error, MissingMockError) else "mock shape"
                print(f"{title}\n  {kind}: {error}")
                continue
            ran += 1
            print(f"{title}  -> {result.status}")
            print(f"  path: {_path(result.states)}")
            print(
                f"  transitions: {result.transitions} states entered + {result.retries} retries"
                f" = {result.billed_transitions} billed"
            )
            if result.status == "SUCCEEDED":
                print(f"  output: {json.dumps(result.output)[:400]}")
            else:
                print(f"  error: {result.error}: {(result.cause or '')[:300]}")
            if result.s3 is not None and result.s3.written:
                print(f"  s3 written: {len(result.s3.written)} object(s)")
                for line in summary(result.s3, keep=3):
                    print(f"    {line}")
    print(f"{ran} run(s), {failures} with missing or misshapen mocks")
    if ran + failures == 0:
        # Nothing ran: no state machine had a mock file (or a test case) to run.
        print(f"lambdaless run: no test case ran; --mocks {mocks} matched none", file=sys.stderr)
        return 1
    return 1 if failures else 0


# -- parser ---------------------------------------------------------------------------------------
def _number(kind: type[float] | type[int], low: float, high: float = math.inf) -> Any:
    """An argparse type: a finite ``kind`` from ``low`` to ``high``, else a message saying so."""

    def parse(text: str) -> float | int:
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not math.isfinite(value) or not low <= value <= high:
            upper = "" if math.isinf(high) else f" to {high:g}"
            noun = "a whole number" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"{text!r} is not {noun} from {low:g}{upper}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (kept separate so tests can drive it)."""
    parser = argparse.ArgumentParser(
        prog="lambdaless",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    commands = parser.add_subparsers(dest="command", required=True)

    inspect = commands.add_parser(
        "inspect", help="states, worst cases, cost vs a Lambda middleman, and lint findings"
    )
    inspect.add_argument("cdk_out", help="a cloud assembly folder (cdk.out) or a template file")
    inspect.add_argument("--region", help="price region (default us-east-1)")
    inspect.add_argument("--prices", help="a JSON file of prices (see lambdaless.analysis.pricing)")
    inspect.add_argument(
        "--model-latency",
        type=_number(float, 0),
        default=5.0,
        help="seconds per Bedrock call (default 5)",
    )
    inspect.add_argument(
        "--http-latency",
        type=_number(float, 0),
        default=1.0,
        help="seconds per HTTP call (default 1)",
    )
    inspect.add_argument(
        "--map-items",
        type=_number(int, 0),
        default=10,
        help="items per Map without a declared bound (default 10)",
    )
    inspect.add_argument(
        "--lambda-memory",
        # AWS Lambda developer guide, "Lambda quotas": 128 MB to 10,240 MB of memory.
        type=_number(int, 128, 10_240),
        default=256,
        help="memory of the middleman Lambda in MB (default 256)",
    )
    inspect.add_argument(
        "--input-tokens",
        type=_number(float, 0),
        default=1000.0,
        help="uncached input tokens per model call, besides a literal system prompt (default 1000)",
    )
    inspect.add_argument(
        "--cache-hit-rate",
        type=_number(float, 0, 1),
        default=0.9,
        help="share of calls that read a cached system prompt; the rest write it (default 0.9)",
    )
    inspect.add_argument("--json", action="store_true", help="print JSON instead of tables")
    inspect.add_argument(
        "--strict", action="store_true", help="exit 1 when there are unacknowledged errors"
    )
    inspect.set_defaults(handler=_inspect)

    diagram = commands.add_parser("diagram", help="draw each state machine")
    diagram.add_argument("cdk_out", help="a cloud assembly folder (cdk.out) or a template file")
    diagram.add_argument("--format", choices=("mermaid", "svg", "png"), default="svg")
    diagram.add_argument("--out", default="diagrams", help="output folder (default diagrams/)")
    diagram.add_argument("--state-machine", help="only state machines whose path contains this")
    diagram.set_defaults(handler=_diagram)

    run = commands.add_parser("run", help="run state machines offline with mocked tasks")
    run.add_argument("cdk_out", help="a cloud assembly folder (cdk.out) or a template file")
    run.add_argument("--state-machine", help="logical id, construct path or name")
    run.add_argument(
        "--input",
        help="execution input as JSON, or @file.json (default: <mock file stem>.input.json "
        "beside the mock file, else {})",
    )
    run.add_argument(
        "--mocks",
        required=True,
        help="a mock-config file, or a folder of <StackName>.json mock files; S3 seeds "
        "<stem>.s3.json beside a mock file are written to moto's S3 before each run",
    )
    run.add_argument("--test-case", help="the test case to run (optional when there is one)")
    run.add_argument(
        "--all",
        action="store_true",
        help="run every test case of every state machine with a mock file",
    )
    run.add_argument(
        "--timeout",
        type=_number(float, 0.001),
        default=30.0,
        help="wall-clock seconds per run before it is reported TIMED_OUT (default 30)",
    )
    run.add_argument(
        "--repeat-last",
        action="store_true",
        help="let a state's last mocked response answer every later invocation (by default an "
        "invocation beyond the mocked responses fails the run, as in Step Functions Local)",
    )
    run.set_defaults(handler=_run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``lambdaless`` console script."""
    silence_node_banner()  # before any subcommand starts aws-cdk-lib's jsii runtime
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except (FileNotFoundError, ValueError) as error:
        print(f"lambdaless {args.command}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
