"""A burst of 1,000 prompts against a tokens-per-minute quota, simulated with Step Functions'
documented retry semantics, comparing:

* **lambdaless**: Map concurrency from the quota by Little's law
  (``lambdaless.quotas.concurrency_for_quota``) and ``RetryPolicy.bedrock_transient()``
  (2 s doubling, 6 retries, capped at 60 s, full jitter);
* **aws-cdk-lib defaults**: ``add_retry()`` (interval 1 s, 3 retries, backoff 2, no jitter) and an
  inline Map with no MaxConcurrency (40 iterations at once).

Retry semantics (AWS docs, "Handling errors in Step Functions workflows"): retry n waits
``min(IntervalSeconds x BackoffRate^(n-1), MaxDelaySeconds)``, drawn uniformly from [0, that]
with ``JitterStrategy: FULL``; after ``MaxAttempts`` retries the error goes to Catch. An inline
Map holds an iteration's slot while it waits to retry.

The quota is modelled as a token bucket: ``tokens_per_minute / 60`` tokens per second, holding at
most one minute's worth; a call takes its tokens when it starts or is throttled (429) at once.
This is a model of Bedrock's quota, not a measurement of it. Every item catches its own failure
(as FanOut does), so the share completed is meaningful for both; without a Catch the aws-cdk-lib
Map would fail as a whole at the first exhausted item (reported as ``first_failure_s``).

Rerun: ``.venv/bin/python benchmarks/throttling.py``
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

ITEMS = 1_000
TOKENS_PER_MINUTE = 200_000
REQUESTS_PER_MINUTE = 500
TOKENS_PER_ITEM = 2_000
LATENCY_SECONDS = 12.0
THROTTLE_SECONDS = 0.2  # a 429 comes back quickly
SEEDS = range(5)


@dataclass(frozen=True)
class Retry:
    interval: float
    attempts: int
    rate: float
    cap: float | None
    jitter: bool

    def delay(self, retry: int, rng: random.Random) -> float:
        d = self.interval * self.rate ** (retry - 1)
        if self.cap is not None:
            d = min(d, self.cap)
        return rng.uniform(0, d) if self.jitter else d


def simulate(concurrency: int, retry: Retry, seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    rate = TOKENS_PER_MINUTE / 60
    capacity = float(TOKENS_PER_MINUTE)
    tokens, last = capacity, 0.0
    calls = throttled = completed = failed = 0
    first_failure: float | None = None
    # Events: (time, sequence, item, retry number); the Map starts `concurrency` items.
    events: list[tuple[float, int, int, int]] = []
    next_item = 0
    seq = 0
    for _ in range(min(concurrency, ITEMS)):
        heapq.heappush(events, (0.0, seq, next_item, 0))
        seq += 1
        next_item += 1
    makespan = 0.0
    while events:
        now, _, item, retry_no = heapq.heappop(events)
        tokens = min(capacity, tokens + (now - last) * rate)
        last = now
        calls += 1
        if tokens >= TOKENS_PER_ITEM:
            tokens -= TOKENS_PER_ITEM
            done_at = now + LATENCY_SECONDS
            completed += 1
        elif retry_no < retry.attempts:
            throttled += 1
            at = now + THROTTLE_SECONDS + retry.delay(retry_no + 1, rng)
            heapq.heappush(events, (at, seq, item, retry_no + 1))
            seq += 1
            continue
        else:
            throttled += 1
            failed += 1
            done_at = now + THROTTLE_SECONDS
            first_failure = done_at if first_failure is None else first_failure
        makespan = max(makespan, done_at)
        if next_item < ITEMS:  # the slot frees: the Map starts the next item
            heapq.heappush(events, (done_at, seq, next_item, 0))
            seq += 1
            next_item += 1
    return {
        "completed_share": completed / ITEMS,
        "makespan_s": makespan,
        "calls": calls,
        "throttled_share": throttled / calls,
        "first_failure_s": first_failure if first_failure is not None else -1.0,
    }


def ideal_makespan() -> float:
    """The quota's ideal: every token used as it refills (after the first minute's bucket),
    plus one call's latency for the last item."""
    per_second = min(TOKENS_PER_MINUTE / TOKENS_PER_ITEM, REQUESTS_PER_MINUTE) / 60
    burst = TOKENS_PER_MINUTE / TOKENS_PER_ITEM
    return max(0.0, (ITEMS - burst) / per_second) + LATENCY_SECONDS


def main() -> None:
    from lambdaless.quotas import concurrency_for_quota
    from lambdaless.retry import RetryPolicy

    preset = RetryPolicy.bedrock_transient()
    scenarios: dict[str, tuple[int, Retry]] = {
        "lambdaless": (
            concurrency_for_quota(
                requests_per_minute=REQUESTS_PER_MINUTE,
                tokens_per_minute=TOKENS_PER_MINUTE,
                input_tokens=0,
                max_tokens=TOKENS_PER_ITEM,
                latency_seconds=LATENCY_SECONDS,
            ),
            Retry(
                preset.interval_seconds,
                preset.max_attempts,
                preset.backoff_rate,
                preset.max_delay_seconds,
                preset.full_jitter,
            ),
        ),
        "aws-cdk-lib defaults": (40, Retry(1, 3, 2.0, None, False)),
    }
    ideal = ideal_makespan()
    results: dict[str, Any] = {
        "setup": {
            "items": ITEMS,
            "tokens_per_minute": TOKENS_PER_MINUTE,
            "requests_per_minute": REQUESTS_PER_MINUTE,
            "tokens_per_item": TOKENS_PER_ITEM,
            "latency_seconds": LATENCY_SECONDS,
            "seeds": list(SEEDS),
            "ideal_makespan_s": ideal,
        },
        "targets": {"completed_share": 1.0, "makespan_vs_ideal_max": 1.10, "throttled_max": 0.05},
        "scenarios": {},
    }
    lines = [
        f"{ITEMS:,} prompts x {TOKENS_PER_ITEM:,} tokens, quota {TOKENS_PER_MINUTE:,} tokens/min "
        f"and {REQUESTS_PER_MINUTE} requests/min, {LATENCY_SECONDS:g} s per call; ideal makespan "
        f"{ideal:,.0f} s; mean of {len(SEEDS)} seeds.",
        "",
        "| scenario | Map concurrency | completed | makespan | vs ideal | throttled calls | "
        "targets met |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, (concurrency, retry) in scenarios.items():
        runs = [simulate(concurrency, retry, seed) for seed in SEEDS]
        mean = {k: statistics.fmean(r[k] for r in runs) for k in runs[0]}
        ratio = mean["makespan_s"] / ideal
        met = mean["completed_share"] >= 1.0 and ratio <= 1.10 and mean["throttled_share"] <= 0.05
        results["scenarios"][name] = {
            "max_concurrency": concurrency,
            "retry": retry.__dict__,
            **mean,
            "makespan_vs_ideal": ratio,
            "targets_met": met,
            "runs": runs,
        }
        lines.append(
            f"| {name} | {concurrency} | {mean['completed_share']:.1%} | "
            f"{mean['makespan_s']:,.0f} s | {ratio:.2f}x | {mean['throttled_share']:.1%} | "
            f"{'yes' if met else 'no'} |"
        )
    write("throttling", results, lines)


if __name__ == "__main__":
    main()
