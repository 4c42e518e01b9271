"""N executions of the same ``FanOut`` at once against one Bedrock quota, with and without a shared
``ModelCapacity``, simulated with Bedrock's token accounting and Step Functions' retry semantics.

Everything the workflow decides is read from the synthesized ASL, not retyped: each Map's
``MaxConcurrency``, the Bedrock Task's retriers and ``max_tokens``, the acquire Task's retrier
and the capacity's budget and weight (its ``ConditionExpression`` values).

The quota, as Bedrock counts it (Bedrock user guide, "How tokens are counted in Amazon Bedrock"):
a tokens-per-minute bucket and a requests-per-minute bucket, each refilling continuously and
holding at most one minute's worth. A call starts only if the token bucket holds its
reservation (input + ``max_tokens``) and the request bucket one request; otherwise it is
throttled at once (429). When it ends, the call is settled at input + output x the output
burndown (5 for Claude 4): the difference from the reservation is returned (or taken). This is a
model of Bedrock's quota, not a measurement of it.

Retry semantics (AWS docs, "Handling errors in Step Functions workflows"): retry n waits
``min(IntervalSeconds x BackoffRate^(n-1), MaxDelaySeconds)``, drawn uniformly from [0, that]
with ``JitterStrategy: FULL``; after ``MaxAttempts`` retries the error goes to Catch, which
lists the item in ``failures``. An inline Map holds an iteration's slot while it waits.

With the capacity, an item first acquires its weight with a conditional update (refused while
``used > budget - weight``, retried with the acquire Task's own retrier), calls the model, and
releases; each DynamoDB request takes ``DYNAMODB_SECONDS``.

Rerun: ``.venv/bin/python benchmarks/throttling.py`` (add ``--write`` to save the results)
"""

from __future__ import annotations

import heapq
import os
import random
import statistics
from dataclasses import dataclass
from typing import Any

from _results import write

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

MODEL = "us.anthropic.claude-sonnet-4-20250514-v1:0"  # output burndown 5
ITEMS = 1_000  # per execution
TOKENS_PER_MINUTE = 200_000
REQUESTS_PER_MINUTE = 100
INPUT_TOKENS = 1_000
OUTPUT_TOKENS = 200  # settled: 1,000 + 5 x 200 = 2,000 quota tokens
MAX_TOKENS = 1_024  # reserved: 1,000 + 1,024 = 2,024
LATENCY_SECONDS = 8.0
THROTTLE_SECONDS = 0.2  # a 429 comes back quickly
DYNAMODB_SECONDS = 0.02  # one UpdateItem round trip
EXECUTIONS = (1, 2, 5, 10)
SEEDS = range(3)
#: us-east-1 prices: Standard transitions; DynamoDB on-demand write request units
#: (https://aws.amazon.com/step-functions/pricing/, https://aws.amazon.com/dynamodb/pricing/).
PER_TRANSITION = 0.025 / 1000
PER_WRITE = 0.625 / 1_000_000
TARGETS = {"completed_share": 1.0, "makespan_vs_ideal_max": 1.15, "throttled_max": 0.05}
N1_SLOWDOWN_MAX = 1.10


@dataclass(frozen=True)
class Retry:
    """One ASL retrier."""

    interval: float
    attempts: int
    rate: float
    cap: float | None
    jitter: bool

    @classmethod
    def of(cls, retrier: dict[str, Any]) -> Retry:
        return cls(
            float(retrier.get("IntervalSeconds", 1)),
            int(retrier.get("MaxAttempts", 3)),
            float(retrier.get("BackoffRate", 2.0)),
            retrier.get("MaxDelaySeconds"),
            retrier.get("JitterStrategy") == "FULL",
        )

    def delay(self, retry: int, rng: random.Random) -> float:
        d = self.interval * self.rate ** (retry - 1)
        if self.cap is not None:
            d = min(d, float(self.cap))
        return rng.uniform(0, d) if self.jitter else d


@dataclass(frozen=True)
class Workflow:
    """What the simulation reads from one synthesized FanOut."""

    concurrency: int
    max_tokens: int
    throttle_retry: Retry
    wait_retry: Retry | None  # None: no capacity
    budget: int
    weight: int


def synthesize() -> dict[str, Workflow]:
    import aws_cdk as cdk
    from aws_cdk import aws_s3 as s3
    from aws_cdk.assertions import Template

    from lambdaless import FanOut, ModelCapacity, ModelQuota, RetryPolicy, S3Path
    from lambdaless import Workflow as Wf
    from lambdaless.prompts import Inference
    from lambdaless.synthesized import load

    app = cdk.App(outdir=os.environ.get("CDK_OUTDIR", "/tmp/lambdaless-throttling"))
    stack = cdk.Stack(app, "Throttling")
    quota = ModelQuota(
        tokens_per_minute=TOKENS_PER_MINUTE,
        requests_per_minute=REQUESTS_PER_MINUTE,
        input_tokens=INPUT_TOKENS,
        output_tokens=OUTPUT_TOKENS,
        latency_seconds=LATENCY_SECONDS,
    )
    # A backlog of N x 1,000 items can keep a caller waiting for most of the run: the wait is
    # bounded at 600 tries (about 5 hours at most), inside a 6-hour workflow timeout.
    capacity = ModelCapacity(
        stack, "Claude", model=MODEL, quota=quota, wait=RetryPolicy.capacity_wait(max_attempts=600)
    )
    bucket = s3.Bucket(stack, "Results", enforce_ssl=True)
    options: dict[str, Any] = {
        "prompt": "{% $states.input.text %}",
        "model": MODEL,
        "inference": Inference(max_tokens=MAX_TOKENS),
        "quota": quota,
        # 1,000 items and their waits would overflow an inline Map's 25,000-event history
        "distributed": True,
        "results_to": S3Path(bucket, "fan-out/"),
    }
    timeout = cdk.Duration.hours(6)
    Wf(stack, "Today", definition=FanOut(stack, "Plain", **options), alarms=False, timeout=timeout)
    Wf(
        stack,
        "Shared",
        definition=FanOut(stack, "Guarded", capacity=capacity, **options),
        alarms=False,
        timeout=timeout,
    )
    template = Template.from_stack(stack).to_json()
    machines = {m.logical_id: m.definition for m in load(template)}
    found: dict[str, Workflow] = {}
    for name, map_name in (("today", "Plain"), ("shared", "Guarded")):
        definition = next(d for d in machines.values() if map_name in d["States"])
        fan = definition["States"][map_name]
        states = fan["ItemProcessor"]["States"]
        call = states[f"{map_name}Item"]
        throttle = next(
            r for r in call["Retry"] if "Bedrock.ThrottlingException" in r["ErrorEquals"]
        )
        acquire = states.get(f"{map_name}Acquire")
        budget = weight = 0
        wait = None
        if acquire is not None:
            values = acquire["Arguments"]["ExpressionAttributeValues"]
            weight = int(values[":w"]["N"])
            budget = int(values[":room"]["N"]) + weight
            wait = Retry.of(acquire["Retry"][0])
        found[name] = Workflow(
            concurrency=int(fan["MaxConcurrency"]),
            max_tokens=int(call["Arguments"]["Body"]["max_tokens"]),
            throttle_retry=Retry.of(throttle),
            wait_retry=wait,
            budget=budget,
            weight=weight,
        )
    return found


def simulate(flow: Workflow, executions: int, seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    tpm, rpm = float(TOKENS_PER_MINUTE), float(REQUESTS_PER_MINUTE)
    tokens, requests, last = tpm, rpm, 0.0
    reservation = INPUT_TOKENS + flow.max_tokens
    settlement = INPUT_TOKENS + 5 * OUTPUT_TOKENS
    used = 0  # the capacity item
    calls = throttled = completed = failed = waits = 0
    # events: (time, seq, kind, execution, attempt); kinds: "acquire", "call", "end", "release"
    events: list[tuple[float, int, str, int, int]] = []
    seq = 0
    next_item = [0] * executions
    makespan = 0.0

    def push(at: float, kind: str, execution: int, attempt: int) -> None:
        nonlocal seq
        heapq.heappush(events, (at, seq, kind, execution, attempt))
        seq += 1

    def start_item(at: float, execution: int) -> None:
        if next_item[execution] < ITEMS:
            next_item[execution] += 1
            push(at, "acquire" if flow.wait_retry else "call", execution, 0)

    def finish_item(at: float, execution: int) -> None:
        nonlocal makespan
        makespan = max(makespan, at)
        start_item(at, execution)  # the Map slot frees

    for execution in range(executions):
        for _ in range(flow.concurrency):
            start_item(0.0, execution)
    while events:
        now, _, kind, execution, attempt = heapq.heappop(events)
        tokens = min(tpm, tokens + (now - last) * tpm / 60)
        requests = min(rpm, requests + (now - last) * rpm / 60)
        last = now
        if kind == "acquire":
            assert flow.wait_retry is not None
            if used <= flow.budget - flow.weight:
                used += flow.weight
                push(now + DYNAMODB_SECONDS, "call", execution, 0)
            elif attempt < flow.wait_retry.attempts:
                waits += 1
                delay = flow.wait_retry.delay(attempt + 1, rng)
                push(now + DYNAMODB_SECONDS + delay, "acquire", execution, attempt + 1)
            else:
                failed += 1
                finish_item(now + DYNAMODB_SECONDS, execution)
        elif kind == "call":
            calls += 1
            if tokens >= reservation and requests >= 1:
                tokens -= reservation
                requests -= 1
                push(now + LATENCY_SECONDS, "end", execution, 0)
            elif attempt < flow.throttle_retry.attempts:
                throttled += 1
                delay = flow.throttle_retry.delay(attempt + 1, rng)
                push(now + THROTTLE_SECONDS + delay, "call", execution, attempt + 1)
            else:
                throttled += 1
                failed += 1
                push(now + THROTTLE_SECONDS, "release", execution, 0)
        elif kind == "end":
            tokens += reservation - settlement  # settled after the call
            completed += 1
            push(now, "release", execution, 0)
        elif kind == "release":
            if flow.wait_retry is not None:
                used -= flow.weight
                finish_item(now + DYNAMODB_SECONDS, execution)
            else:
                finish_item(now, execution)
    total = ITEMS * executions
    guarded = flow.wait_retry is not None
    transitions = (2 * total + waits) if guarded else 0
    writes = (2 * total + waits) if guarded else 0
    return {
        "completed_share": completed / total,
        "failed": failed,
        "makespan_s": makespan,
        "calls": calls,
        "throttled_calls": throttled,
        "throttled_share": throttled / calls,
        "capacity_waits": waits,
        "extra_usd_per_item": (transitions * PER_TRANSITION + writes * PER_WRITE) / total,
    }


def ideal_makespan(executions: int, weight: float) -> float:
    """The quota's ideal: the first minute's bucket at once, then the sustainable rate, plus one
    call's latency for the last item."""
    per_minute = min(REQUESTS_PER_MINUTE, TOKENS_PER_MINUTE / weight)
    total = ITEMS * executions
    return max(0.0, (total - per_minute) / (per_minute / 60)) + LATENCY_SECONDS


def main() -> None:
    flows = synthesize()
    weight = max(INPUT_TOKENS + MAX_TOKENS, INPUT_TOKENS + 5 * OUTPUT_TOKENS)
    results: dict[str, Any] = {
        "setup": {
            "model": MODEL,
            "items_per_execution": ITEMS,
            "tokens_per_minute": TOKENS_PER_MINUTE,
            "requests_per_minute": REQUESTS_PER_MINUTE,
            "input_tokens": INPUT_TOKENS,
            "output_tokens": OUTPUT_TOKENS,
            "output_burndown": 5,
            "latency_seconds": LATENCY_SECONDS,
            "seeds": list(SEEDS),
            "from_asl": {
                name: flow.__dict__
                | {
                    "throttle_retry": flow.throttle_retry.__dict__,
                    "wait_retry": flow.wait_retry and flow.wait_retry.__dict__,
                }
                for name, flow in flows.items()
            },
        },
        "targets": TARGETS | {"n1_makespan_vs_today_max": N1_SLOWDOWN_MAX},
        "runs": {},
    }
    lines = [
        f"{ITEMS:,} prompts per execution, N executions at once, Claude Sonnet 4 (output "
        f"burndown 5): {INPUT_TOKENS:,} input, {OUTPUT_TOKENS} output, max_tokens "
        f"{flows['today'].max_tokens:,} (reserved {INPUT_TOKENS + flows['today'].max_tokens:,}, "
        f"settled {INPUT_TOKENS + 5 * OUTPUT_TOKENS:,}); quota {TOKENS_PER_MINUTE:,} tokens/min "
        f"and {REQUESTS_PER_MINUTE} requests/min, {LATENCY_SECONDS:g} s per call; Map "
        f"concurrency {flows['today'].concurrency} per execution (from the quota); shared "
        f"capacity {flows['shared'].budget:,} tokens in flight, {flows['shared'].weight:,} per "
        f"call; mean of {len(SEEDS)} seeds.",
        "",
        "| N | capacity | completed | makespan | vs ideal | throttled calls | waits per item "
        "| extra cost per item | targets met |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    today_n1 = 0.0
    for executions in EXECUTIONS:
        ideal = ideal_makespan(executions, weight)
        for name in ("today", "shared"):
            runs = [simulate(flows[name], executions, seed) for seed in SEEDS]
            mean = {k: statistics.fmean(r[k] for r in runs) for k in runs[0]}
            ratio = mean["makespan_s"] / ideal
            if executions == 1 and name == "today":
                today_n1 = mean["makespan_s"]
            met = (
                mean["completed_share"] >= TARGETS["completed_share"]
                and ratio <= TARGETS["makespan_vs_ideal_max"]
                and mean["throttled_share"] <= TARGETS["throttled_max"]
            )
            entry = {
                **mean,
                "ideal_makespan_s": ideal,
                "makespan_vs_ideal": ratio,
                "targets_met": met,
            }
            if executions == 1 and name == "shared":
                entry["makespan_vs_today"] = mean["makespan_s"] / today_n1
            results["runs"][f"{name}@{executions}"] = entry
            lines.append(
                f"| {executions} | {'shared' if name == 'shared' else 'none (today)'} | "
                f"{mean['completed_share']:.2%} ({mean['failed']:g} failed) | "
                f"{mean['makespan_s']:,.0f} s | {ratio:.2f}x | "
                f"{mean['throttled_share']:.1%} | "
                f"{mean['capacity_waits'] / (ITEMS * executions):.2f} | "
                f"${mean['extra_usd_per_item']:.7f} | {'yes' if met else 'no'} |"
            )
    n1 = results["runs"]["shared@1"]["makespan_vs_today"]
    lines += [
        "",
        f"At N = 1 the shared capacity takes {n1:.3f}x today's makespan (target <= "
        f"{N1_SLOWDOWN_MAX:.2f}x). Extra cost per item: two transitions and two DynamoDB "
        "writes (acquire, release), plus one of each per wait.",
    ]
    write("throttling", results, lines)


if __name__ == "__main__":
    main()
