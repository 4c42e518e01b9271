"""Synth time: an app of 50 workflows built with lambdaless against the same ASL built with plain
aws-cdk-lib, measured side by side in one process, interleaved.

* lambdaless: ``InvokeBedrock`` (retries, catch, IAM for a cross-region profile) in a ``Workflow``
  (logs, tracing, retry-budget check and the limits lint as a synth validation);
* plain aws-cdk-lib: ``sfn.CustomState`` holding the very state JSON lambdaless rendered, in an
  ``sfn.StateMachine`` with the same log group, tracing, timeout and IAM statements.

The target ratio compares like for like (``Workflow(alarms=False)``: no alarms or dashboard,
which the plain variant does not build either); the ratio with Workflow's defaults is reported
beside it.

Each round builds a fresh ``App`` with 50 stacks' worth of workflows (in one stack) per variant
and times construction + ``app.synth()``; variants alternate order every round. The ratio is
the median of per-round ratios. Peak memory: Python heap peak (tracemalloc, a separate
untimed round per variant) and the jsii Node process's high-water mark (shared by both).

Rerun: ``.venv/bin/python benchmarks/synth_time.py`` (add ``--write`` to save the results)
"""

from __future__ import annotations

import gc
import os
import re
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _results import write

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

WORKFLOWS = 50
ROUNDS = int(os.environ.get("SYNTH_BENCH_ROUNDS", "5"))


def _node_high_water_mb() -> float | None:
    """VmHWM of the jsii Node child process (Linux only)."""
    me = os.getpid()
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(me) and "node" in fields.get("Name", ""):
            return int(fields.get("VmHWM", "0 kB").split()[0]) / 1024
    return None


def _check_same_output(variants: dict[str, Callable[[str], Any]], names: tuple[str, ...]) -> None:
    """The compared apps must synthesize the same state machines and IAM policies."""
    import json

    def essentials(name: str) -> str:
        with tempfile.TemporaryDirectory() as out:
            variants[name](out).synth()
            template = json.loads((Path(out) / "Bench.template.json").read_text())
        kept = {"AWS::StepFunctions::StateMachine", "AWS::IAM::Policy", "AWS::Logs::LogGroup"}
        resources = [r for r in template["Resources"].values() if r["Type"] in kept]
        for resource in resources:
            resource.pop("DependsOn", None)
            resource.pop("Metadata", None)
            document = resource["Properties"].get("PolicyDocument")
            if document:  # the same statements; CDK orders them by when they were added
                document["Statement"].sort(key=lambda st: json.dumps(st, sort_keys=True))
        # Logical ids differ (Workflow adds a level to the paths): compare without them.
        logical_id = re.compile(r"\b[A-Z][A-Za-z0-9]*[0-9A-F]{8}\b")
        return "\n".join(
            sorted(logical_id.sub("ID", json.dumps(r, sort_keys=True)) for r in resources)
        )

    reference = essentials(names[0])
    for name in names[1:]:
        other = essentials(name)
        if other != reference:
            a, b = reference.splitlines(), other.splitlines()
            first = next(i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y)
            at = next(
                (i for i, (x, y) in enumerate(zip(a[first], b[first], strict=False)) if x != y),
                min(len(a[first]), len(b[first])),
            )
            around = slice(max(0, at - 80), at + 160)
            raise AssertionError(
                f"{name} does not build what {names[0]} builds: "
                f"{a[first][around]!r} != {b[first][around]!r}"
            )


def main() -> None:
    import aws_cdk as cdk
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_logs as logs
    from aws_cdk import aws_stepfunctions as sfn

    from lambdaless import BedrockModel, InvokeBedrock, Workflow

    model = BedrockModel.cross_region_profile("us.anthropic.claude-sonnet-4-5-20250929-v1:0")
    prompt = "{% 'Summarize:\\n\\n' & $states.input.document %}"

    def lambdaless_app(outdir: str, alarms: bool = True) -> cdk.App:
        app = cdk.App(outdir=outdir)
        stack = cdk.Stack(
            app, "Bench", env=cdk.Environment(account="111122223333", region="us-east-1")
        )
        for i in range(WORKFLOWS):
            ask = InvokeBedrock(stack, f"Ask{i}", model=model, prompt=prompt)
            failed = sfn.Fail(stack, f"Failed{i}")
            ask.add_catch(failed, errors=InvokeBedrock.PERMANENT_ERRORS)
            Workflow(stack, f"Flow{i}", definition=ask, alarms=alarms)
        return app

    # The reference ASL and IAM, rendered once by lambdaless.
    probe = cdk.App(outdir=tempfile.mkdtemp())
    probe_stack = cdk.Stack(
        probe, "Probe", env=cdk.Environment(account="111122223333", region="us-east-1")
    )
    probe_ask = InvokeBedrock(probe_stack, "Ask", model=model, prompt=prompt)
    # The state JSON with its tokens (partition, region, account) left for each stack to resolve.
    request = {k: v for k, v in probe_ask.state_json.items() if k != "Retry"}
    retries = probe_ask.retries
    statements = [s.to_json() for s in model.policy_statements(probe_stack)]

    def plain_app(outdir: str, hand_written: bool = True) -> cdk.App:
        """The same workflow in aws-cdk-lib: a CustomState holding the request JSON, with its
        retriers added by ``add_retry`` and its grants written next to each state machine, as a
        CDK user writes them (``hand_written``); or the cheapest possible build, a lower bound:
        retriers pre-rendered into the state JSON and one set of statement objects shared by
        every state machine."""
        app = cdk.App(outdir=outdir)
        stack = cdk.Stack(
            app, "Bench", env=cdk.Environment(account="111122223333", region="us-east-1")
        )
        shared = [iam.PolicyStatement.from_json(s) for s in statements]
        for i in range(WORKFLOWS):
            if hand_written:
                ask = sfn.CustomState(stack, f"Ask{i}", state_json=request)
                for retry in retries:
                    ask.add_retry(
                        errors=list(retry.errors),
                        interval=cdk.Duration.seconds(retry.interval_seconds),
                        max_attempts=retry.max_attempts,
                        backoff_rate=retry.backoff_rate,
                        max_delay=(
                            cdk.Duration.seconds(retry.max_delay_seconds)
                            if retry.max_delay_seconds is not None
                            else None
                        ),
                        jitter_strategy=sfn.JitterType.FULL if retry.full_jitter else None,
                    )
            else:
                ask = sfn.CustomState(stack, f"Ask{i}", state_json=probe_ask.state_json)
            ask.add_catch(sfn.Fail(stack, f"Failed{i}"), errors=InvokeBedrock.PERMANENT_ERRORS)
            log_group = logs.LogGroup(
                stack,
                f"Logs{i}",
                retention=logs.RetentionDays.ONE_YEAR,
                removal_policy=cdk.RemovalPolicy.RETAIN,
            )
            machine = sfn.StateMachine(
                stack,
                f"Flow{i}",
                definition_body=sfn.DefinitionBody.from_chainable(ask),
                state_machine_type=sfn.StateMachineType.STANDARD,
                timeout=cdk.Duration.hours(1),
                query_language=sfn.QueryLanguage.JSONATA,
                tracing_enabled=True,
                logs=sfn.LogOptions(
                    destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False
                ),
            )
            grants = (
                [iam.PolicyStatement.from_json(s) for s in statements] if hand_written else shared
            )
            for statement in grants:
                machine.add_to_role_policy(statement)
        return app

    variants: dict[str, Callable[[str], cdk.App]] = {
        "lambdaless": lambdaless_app,
        "lambdaless alarms=False": lambda out: lambdaless_app(out, alarms=False),
        "aws-cdk-lib": plain_app,
        "aws-cdk-lib pre-rendered": lambda out: plain_app(out, hand_written=False),
    }
    _check_same_output(
        variants, ("lambdaless alarms=False", "aws-cdk-lib", "aws-cdk-lib pre-rendered")
    )

    def timed(build: Callable[[str], cdk.App]) -> float:
        with tempfile.TemporaryDirectory() as out:
            gc.collect()
            start = time.perf_counter()
            build(out).synth()
            return time.perf_counter() - start

    for build in variants.values():  # warm-up: jsii loads modules on first use
        timed(build)
    times: dict[str, list[float]] = {name: [] for name in variants}
    ratios: list[float] = []  # like for like: lambdaless without alarms / aws-cdk-lib
    bound_ratios: list[float] = []  # lambdaless without alarms / pre-rendered aws-cdk-lib
    default_ratios: list[float] = []  # lambdaless defaults (alarms + dashboard) / aws-cdk-lib
    names = list(variants)
    for round_no in range(ROUNDS):
        order = names if round_no % 2 == 0 else names[::-1]
        this_round = {name: timed(variants[name]) for name in order}
        for name, seconds in this_round.items():
            times[name].append(seconds)
        ratios.append(this_round["lambdaless alarms=False"] / this_round["aws-cdk-lib"])
        bound_ratios.append(
            this_round["lambdaless alarms=False"] / this_round["aws-cdk-lib pre-rendered"]
        )
        default_ratios.append(this_round["lambdaless"] / this_round["aws-cdk-lib"])
        print(
            f"round {round_no + 1}: " + ", ".join(f"{n} {s:.2f} s" for n, s in this_round.items())
        )
    peaks: dict[str, float] = {}
    for name, build in variants.items():
        with tempfile.TemporaryDirectory() as out:
            tracemalloc.start()
            build(out).synth()
            peaks[name] = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
    ratio = statistics.median(ratios)
    node_mb = _node_high_water_mb()
    results: dict[str, Any] = {
        "workflows": WORKFLOWS,
        "rounds": ROUNDS,
        "seconds": times,
        "median_seconds": {n: statistics.median(t) for n, t in times.items()},
        "ratios": ratios,
        "median_ratio": ratio,
        "ratio_definition": "lambdaless alarms=False / aws-cdk-lib written by hand (same ASL, "
        "IAM, logs, tracing; checked equal)",
        "lower_bound_ratios": bound_ratios,
        "median_lower_bound_ratio": statistics.median(bound_ratios),
        "default_ratios": default_ratios,
        "median_default_ratio": statistics.median(default_ratios),
        "target_ratio_max": 1.05,
        "target_met": ratio <= 1.05,
        "python_heap_peak_mib": peaks,
        "jsii_node_high_water_mib": node_mb,
    }
    med = results["median_seconds"]
    lines = [
        f"{WORKFLOWS} workflows in one app, {ROUNDS} interleaved rounds after a warm-up.",
        "",
        "| variant | median synth time | Python heap peak |",
        "|---|---|---|",
        *(f"| {n} | {med[n]:.2f} s | {peaks[n]:.1f} MiB |" for n in variants),
        "",
        "Like for like (templates checked identical: ASL, IAM, log group, tracing; "
        "`alarms=False`), median of per-round ratios: "
        f"**{ratio:.2f}x** aws-cdk-lib written by hand (CustomState + `add_retry` per retrier "
        f"+ `add_catch`; target <= 1.05: {'met' if ratio <= 1.05 else 'MISSED'}); "
        f"{statistics.median(bound_ratios):.2f}x the cheapest possible aws-cdk-lib build "
        "(retriers pre-rendered into the state JSON, statement objects shared).",
        "With Workflow's defaults (alarms + a dashboard per workflow, which the plain variant "
        f"does not build): {statistics.median(default_ratios):.2f}x.",
        "jsii Node process high-water mark (both variants): "
        + (f"{node_mb:.0f} MiB." if node_mb else "not available."),
    ]
    write("synth_time", results, lines)


if __name__ == "__main__":
    main()
