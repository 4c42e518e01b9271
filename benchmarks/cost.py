"""Transitions and cost per execution of each example against its Lambda-middleman equivalent.

Synthesizes the example app in-process, then reads the templates back like ``lambdaless
inspect`` does (:mod:`lambdaless.analysis.cost`, default assumptions: 5 s per Bedrock call, 1 s
per HTTP call, a 256 MB x86 middleman Lambda, us-east-1 prices). Checks the target "on the
happy path of every example, the transitions equal its service calls", and sets the saving
against the whole bill: the model tokens of a typical execution (:mod:`lambdaless.analysis.
model_cost`: 1,000 input tokens per call plus the literal system prompt, output = max_tokens,
each model's dated on-demand price at its step's tier) next to the orchestration.

Rerun: ``.venv/bin/python benchmarks/cost.py`` (add ``--write`` to save the results)
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from _results import write

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    import aws_cdk as cdk
    from examples.app import build

    from lambdaless.analysis.annotations import read
    from lambdaless.analysis.cost import MILLION, cost_of_profile
    from lambdaless.analysis.history import profile
    from lambdaless.analysis.lint import machine_label
    from lambdaless.analysis.model_cost import model_cost
    from lambdaless.analysis.model_pricing import BEDROCK_PRICING_URL, CHECKED
    from lambdaless.analysis.pricing import prices_for
    from lambdaless.synthesized import load

    prices = prices_for("us-east-1")
    with tempfile.TemporaryDirectory() as tmp:
        app = cdk.App(outdir=tmp, context={"aws:cdk:enable-path-metadata": True})
        build(app)
        app.synth()
        machines = load(tmp)
        rows: list[dict[str, Any]] = []
        for machine in machines:
            notes = read(machine.resource, machine.definition)
            prof = profile(machine.definition, bounds=notes.bounds)
            report = cost_of_profile(prof, type=machine.type, prices=prices)
            tokens = model_cost(machine.definition, bounds=notes.bounds)
            whole_direct = report.happy.direct + tokens.per_execution
            whole_middleman = report.happy.with_middleman + tokens.per_execution
            rows.append(
                {
                    "state_machine": machine_label(machine),
                    "type": machine.type,
                    "happy_transitions": prof.happy["transitions"],
                    "happy_service_calls": prof.happy["task_calls"],
                    "transitions_equal_calls": prof.happy["transitions"]
                    == prof.happy["task_calls"],
                    "worst_transitions": prof.worst["transitions"],
                    "direct_usd_per_execution": report.happy.direct,
                    "middleman_usd_per_execution": report.happy.with_middleman,
                    "saving": report.happy.saving,
                    "worst_direct_usd_per_execution": report.worst.direct,
                    "worst_middleman_usd_per_execution": report.worst.with_middleman,
                    "model_usd_per_execution": tokens.per_execution,
                    "model_usd_per_execution_by_tier": dict(tokens.by_tier),
                    "unpriced_models": list(tokens.unpriced),
                    "whole_saving": (whole_middleman - whole_direct) / whole_middleman
                    if whole_middleman
                    else 0.0,
                }
            )
    lines = [
        f"Happy path per execution; {prices.describe()}; 5 s per Bedrock call, 1 s per HTTP "
        "call, middleman Lambda 256 MB.",
        "",
        f"Model tokens: 1,000 input tokens per call + the literal system prompt, output = "
        f"max_tokens, on-demand prices checked {CHECKED} ({BEDROCK_PRICING_URL}; per-model "
        "figures unverified).",
        "",
        "| state machine | transitions | service calls | = ? | lambdaless $/1M | "
        "middleman $/1M | saving | model tokens $/1M | saving of the whole bill |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        unpriced = (
            " (unpriced: " + ", ".join(r["unpriced_models"]) + ")" if r["unpriced_models"] else ""
        )
        lines.append(
            f"| {r['state_machine']} | {r['happy_transitions']:.0f} | "
            f"{r['happy_service_calls']:.0f} | {'yes' if r['transitions_equal_calls'] else 'NO'} | "
            f"{r['direct_usd_per_execution'] * MILLION:,.2f} | "
            f"{r['middleman_usd_per_execution'] * MILLION:,.2f} | {r['saving']:.0%} | "
            f"{r['model_usd_per_execution'] * MILLION:,.2f}{unpriced} | {r['whole_saving']:.1%} |"
        )
    met = all(r["transitions_equal_calls"] for r in rows)
    lines += [
        "",
        f"Target (transitions = service calls on every happy path): {'met' if met else 'MISSED'}.",
    ]
    write("cost", {"prices": prices.describe(), "examples": rows, "target_met": met}, lines)


if __name__ == "__main__":
    main()
