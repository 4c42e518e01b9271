"""10,000 items at full scale, one function per approach, one table.

``fan_out``: the full-scale ``FanOut`` example (``examples/documents_at_scale.py``), a
Distributed Map over a 10,000-line JSON Lines object in S3 writing its results to S3. Its figures
come from the synthesized ASL through ``lambdaless.analysis`` (what ``lambdaless inspect`` prints,
happy path, the ItemReader's ``MaxItems`` as the bound) and the model cost from the dated price
table (``analysis.model_pricing``, on demand) at the example's token estimates. The example's
own state machine then runs offline over all ``ITEMS`` documents in moto S3 (the JSON Lines
ItemReader, one child per document, the model answered by scripted responses, the ResultWriter's
manifest and result files): its wall time is measured (about 3 minutes on this project's shared
2-core machines), and the parent's billed transitions and history events must equal the ASL's
exactly.

``batch_inference``: a ``BatchInference`` run offline end to end on the local runner over moto
S3: the records written by the Write Map's children, the job submitted and polled as for a
24-hour job (99 polls; Wait states cost no wall time), and the records read back from the
``.jsonl.out`` files Bedrock would write (one record failed). Every JSONata evaluation in the
runner carries the state's whole input (moto inlines each binding), so the Write Map's children
slow down with the item count: 10,000 items had not finished after 29 minutes of CPU on this
project's shared 2-core machines. It runs ``RUN_ITEMS`` items and
checks the ASL's counts (:mod:`lambdaless.analysis.batch`) against that run: the parent's
billed transitions and history events must match exactly. The 10,000-item figures are those
counts: billed transitions (parent and children), history events of the parent, orchestration
and model cost per 1,000 items (batch rate and on demand, from the dated price table); the wall
time is the measured run's.

Like for like: both rows call the example's model (``MODEL``) at its token estimates
(``QUOTA.input_tokens`` / ``QUOTA.output_tokens`` per item), read from
``examples/documents_at_scale.py``.

Run: ``.venv/bin/python benchmarks/scale.py`` (prints); ``--write`` saves
``benchmarks/results/scale.{json,md}``.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _results import write

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the examples package
from examples.documents_at_scale import MODEL, QUOTA

ITEMS = 10_000
RUN_ITEMS = 500
#: per item, in both approaches: the example's estimates
INPUT_TOKENS, OUTPUT_TOKENS = int(QUOTA.input_tokens), int(QUOTA.output_tokens or 0)
JOB_HOURS = 24
BUCKET = "scale-benchmark"


def batch_inference() -> dict[str, Any]:
    """BatchInference: RUN_ITEMS items run on the local runner and moto S3; counts for ITEMS."""
    import aws_cdk as cdk
    import boto3
    from aws_cdk import aws_s3 as s3
    from moto import mock_aws

    from lambdaless import BatchInference, S3Path, Workflow
    from lambdaless.analysis.batch import batch_cost, batch_jobs
    from lambdaless.synthesized import LOCAL_PSEUDO_PARAMETERS
    from lambdaless.testing import LocalRunner, mocks

    app = cdk.App(outdir=tempfile.mkdtemp(prefix="scale-"))
    stack = cdk.Stack(app, "Scale", env=cdk.Environment(account="111122223333", region="us-east-1"))
    bucket = s3.Bucket.from_bucket_name(stack, "Work", BUCKET)
    fragment = BatchInference(
        stack,
        "Summaries",
        prompt="{% 'Summarize the document ' & $states.input %}",
        model=MODEL,
        work=S3Path(bucket, "batch/"),
    )
    Workflow(stack, "Scale", definition=fragment, timeout=cdk.Duration.days(3))
    runner = LocalRunner(stack, passthrough=True)
    (job,) = batch_jobs(runner.state_machine().definition)
    polls = job.polls(JOB_HOURS)
    items = [f"doc-{i:05d}" for i in range(RUN_ITEMS)]
    per_file = fragment.records_per_file
    run = "scale-run"
    job_arn = "arn:aws:bedrock:us-east-1:111122223333:model-invocation-job/abcdefghijkl"
    with mock_aws():
        client = boto3.client("s3", region_name=LOCAL_PSEUDO_PARAMETERS["AWS::Region"])
        client.create_bucket(Bucket=BUCKET)
        folder = f"batch/output/{run}/abcdefghijkl/"
        for first in range(0, RUN_ITEMS, per_file):
            lines = []
            for index in range(first, min(first + per_file, RUN_ITEMS)):
                record = {"recordId": f"{index:011d}", "modelInput": {}}
                if index == 42:
                    record["error"] = {"errorCode": 400, "errorMessage": "Malformed input"}
                else:
                    record["modelOutput"] = {
                        "content": [{"type": "text", "text": f"summary {index}"}],
                        "stop_reason": "end_turn",
                        "usage": {"input_tokens": INPUT_TOKENS, "output_tokens": OUTPUT_TOKENS},
                    }
                lines.append(json.dumps(record))
            body = "\n".join(lines) + "\n"
            client.put_object(Bucket=BUCKET, Key=f"{folder}{first:011d}.jsonl.out", Body=body)
        manifest = {"totalRecordCount": RUN_ITEMS, "errorRecordCount": 1}
        body = json.dumps(manifest)
        client.put_object(Bucket=BUCKET, Key=f"{folder}manifest.json.out", Body=body)
        started = time.perf_counter()
        result = runner.run(
            input={"items": items},
            execution_name=run,
            responses={
                "SummariesSubmit": mocks.Return({"JobArn": job_arn}),
                "SummariesPoll": [mocks.Return({"Status": "InProgress"})] * (polls - 1)
                + [mocks.Return({"Status": "Completed"})],
            },
            timeout_seconds=3600,
        )
        wall = time.perf_counter() - started
    if result.status != "SUCCEEDED":
        raise RuntimeError(f"the run {result.status}: {result.error}: {result.cause}")
    # The ASL's counts are the runner's, exactly, on the measured run.
    if result.billed_transitions != job.parent_transitions(polls):
        raise RuntimeError(f"parent transitions {result.billed_transitions} != the ASL's")
    if len(result.history) != job.parent_events(polls):
        raise RuntimeError(f"parent history events {len(result.history)} != the ASL's")
    priced = batch_cost(
        job, items=ITEMS, input_tokens=INPUT_TOKENS, output_tokens=OUTPUT_TOKENS, hours=JOB_HOURS
    )
    return {
        "approach": "BatchInference",
        "items": ITEMS,
        "run_items": RUN_ITEMS,
        "run_results": result.output["results"],
        "run_failures": result.output["failures"],
        "run_billed_transitions": result.billed_transitions,
        "files": job.files(ITEMS),
        "polls": polls,
        "parent_billed_transitions": job.parent_transitions(polls),
        "billed_transitions": job.transitions(ITEMS, polls),
        "parent_history_events": job.parent_events(polls),
        "orchestration_per_1000_usd": priced.orchestration_per_1000,
        "model_per_1000_usd": priced.batch_per_1000,
        "model_on_demand_per_1000_usd": priced.on_demand_per_1000,
        "wall_seconds": round(wall, 1),
        "model_prices": priced.model_prices,
        "prices": priced.prices.describe(),
    }


def fan_out() -> dict[str, Any]:
    """The Distributed Map ``FanOut`` of ``examples/documents_at_scale.py``: counts from its ASL
    for ITEMS, and the same ITEMS documents run on the local runner and moto S3."""
    import aws_cdk as cdk
    import boto3
    from aws_cdk.assertions import Template
    from examples.documents_at_scale import INPUT_KEY, DocumentsAtScaleStack
    from moto import mock_aws

    from lambdaless.analysis.annotations import read
    from lambdaless.analysis.cost import cost
    from lambdaless.analysis.history import Assumptions, profile
    from lambdaless.analysis.model_pricing import model_prices_for
    from lambdaless.synthesized import LOCAL_PSEUDO_PARAMETERS, load
    from lambdaless.testing import LocalRunner, mocks

    stack = DocumentsAtScaleStack(cdk.App(), "DocumentsAtScale")
    (machine,) = load(Template.from_stack(stack).to_json())
    items = int(machine.definition["States"]["Summaries"]["ItemReader"]["ReaderConfig"]["MaxItems"])
    assert items == ITEMS, items
    assumptions = Assumptions(model_latency_seconds=QUOTA.latency_seconds)
    notes = read(machine.resource, machine.definition)
    happy = profile(machine.definition, assumptions=assumptions, bounds=notes.bounds).happy
    report = cost(machine, assumptions=assumptions)
    prices = model_prices_for(MODEL)
    per_item = prices.cost(input_tokens=INPUT_TOKENS, output_tokens=OUTPUT_TOKENS)

    # The same state machine, its bucket given a local name, over RUN_ITEMS documents.
    bucket_id = stack.get_logical_id(stack.bucket.node.default_child)  # type: ignore[arg-type]
    (local,) = load(stack, pseudo={**LOCAL_PSEUDO_PARAMETERS, bucket_id: BUCKET})
    documents = "\n".join(
        json.dumps({"id": f"doc-{n:05d}", "text": f"Document {n}."}) for n in range(ITEMS)
    )
    answers = [mocks.bedrock_text("anthropic", f"Summary {n}.") for n in range(ITEMS)]
    with mock_aws():
        client = boto3.client("s3", region_name=LOCAL_PSEUDO_PARAMETERS["AWS::Region"])
        client.create_bucket(Bucket=BUCKET)
        client.put_object(Bucket=BUCKET, Key=INPUT_KEY, Body=documents)
        started = time.perf_counter()
        result = LocalRunner(local.definition, passthrough=True).run(
            responses={"SummariesItem": answers}, timeout_seconds=3600
        )
        wall = time.perf_counter() - started
        written = client.list_objects_v2(Bucket=BUCKET, Prefix="results/").get("Contents", [])
    if result.status != "SUCCEEDED":
        raise RuntimeError(f"the run {result.status}: {result.error}: {result.cause}")
    if len(result.calls) != ITEMS or not written:
        raise RuntimeError(f"{len(result.calls)} model calls, {len(written)} result files")
    # The parent's counts do not grow with the items: the ASL's, exactly, on the measured run.
    if result.billed_transitions != 1:
        raise RuntimeError(f"parent transitions {result.billed_transitions} != 1 (the Map)")
    if len(result.history) != int(happy["events"]):
        raise RuntimeError(f"parent history events {len(result.history)} != the ASL's")
    return {
        "approach": "FanOut (Distributed Map)",
        "items": items,
        "run_items": ITEMS,
        "run_result_files": len(written),
        "parent_billed_transitions": 1,  # the Map state; its children bill their own
        "billed_transitions": int(happy["transitions"]),
        "parent_history_events": int(happy["events"]),
        "orchestration_per_1000_usd": report.happy.orchestration / items * 1_000,
        "model_per_1000_usd": per_item * 1_000,
        "model_on_demand_per_1000_usd": per_item * 1_000,
        "wall_seconds": round(wall, 1),
        "model_prices": f"{prices.model} {prices.region} on demand "
        f"({INPUT_TOKENS} in / {OUTPUT_TOKENS} out tokens), checked {prices.checked}",
    }


#: approach -> the function measuring it (one row each).
APPROACHES: dict[str, Callable[[], dict[str, Any]]] = {
    "FanOut": fan_out,
    "BatchInference": batch_inference,
}


def main() -> None:
    rows = [measure() for measure in APPROACHES.values()]
    lines = [
        f"{ITEMS:,} items, {INPUT_TOKENS:,} input + {OUTPUT_TOKENS:,} output tokens per item on "
        f"{MODEL} in both approaches (examples/documents_at_scale.py); a {JOB_HOURS} h batch job.",
        "",
        "| approach | billed transitions | parent history events | orchestration / 1,000 items"
        " | model / 1,000 items | model on demand / 1,000 items | runner wall time (items run) |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['approach']} | {row['billed_transitions']:,} "
            f"(parent {row['parent_billed_transitions']:,}) | {row['parent_history_events']:,} "
            f"| ${row['orchestration_per_1000_usd']:.4f} | ${row['model_per_1000_usd']:.4f} "
            f"| ${row['model_on_demand_per_1000_usd']:.4f} | "
            + f"{row['wall_seconds']:.1f} s ({row['run_items']:,}) |"
        )
    lines += ["", f"Prices: {rows[-1]['prices']}; " + "; ".join(r["model_prices"] for r in rows)]
    lines += [
        "Counts for 10,000 items come from each synthesized ASL (lambdaless.analysis, happy path)"
        f"; FanOut also ran all {ITEMS:,} items on the local runner over moto S3 and "
        f"BatchInference {RUN_ITEMS:,} (its JSONata record writing and reading is slow in "
        "jsonata-python: 10,000 items had not finished after 29 minutes of CPU), each with its "
        "parent's billed transitions and history events equal to the ASL's. Wall time is that "
        "run's, on a shared 2-core machine: a measure of the runner, not of AWS.",
    ]
    write("scale", {"rows": rows}, lines)


if __name__ == "__main__":
    main()
