"""Mermaid output, SVG/PNG layouts whose edges never cross a box, and the CLI on a cdk.out
synthesized in-process from the examples."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.conftest import ExampleApp

from lambdaless.analysis.diagram import Box, Layout, Point, Route, layout, mermaid, png, svg
from lambdaless.cli import main
from lambdaless.synthesized import load

from .test_lint import poll_loop

RETRYING = {
    "StartAt": "Ask",
    "States": {
        "Ask": {
            "Type": "Task",
            "Resource": "arn:aws:states:::bedrock:invokeModel",
            "Retry": [{"ErrorEquals": ["Bedrock.ThrottlingException"], "MaxAttempts": 2}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Failed"}],
            "End": True,
        },
        "Failed": {"Type": "Fail"},
    },
}


def test_mermaid_shows_retries_and_dashed_catches() -> None:
    text = mermaid(RETRYING)
    assert text.startswith("flowchart TD\n")
    assert 's_Ask["Ask<br/>bedrock:invokeModel<br/>retry 2, &lt;= 3 s"]' in text
    assert 's_Ask -.->|"catch ALL"| s_Failed' in text
    assert 's_Ask --> s_end(("end"))' in text


def test_mermaid_loop_and_svg_png() -> None:
    loop = poll_loop()
    assert 's_Done_ -->|"default"| s_Wait' in mermaid(loop)
    drawing = svg(loop, title="poll")
    assert drawing.startswith("<svg")
    assert "stroke-dasharray" not in drawing
    assert "stroke-dasharray" in svg(RETRYING)
    assert png(RETRYING)[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def cdk_out(example_app: ExampleApp) -> Path:
    """The session's one synthesis of the examples (and hardening fixtures), with path metadata."""
    return example_app.outdir


def test_cli_inspect_prints_a_table_per_state_machine(
    cdk_out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["inspect", str(cdk_out), "--strict"]) == 0
    text = capsys.readouterr().out
    assert "DocumentSummarizer/Summarizer" in text
    assert "history events (limit 25,000)" in text
    assert "with a Lambda middleman" in text
    assert "Prices: us-east-1 prices checked" in text
    # the summarizer deploys with a canary; the others switch at once
    assert "deployment: alias 'live': CANARY 10% for 10 min, then 100%" in text
    assert "deployment: none" in text


def test_cli_diagram_writes_every_format(cdk_out: Path, tmp_path: Path) -> None:
    for fmt in ("mermaid", "svg", "png"):
        assert main(["diagram", str(cdk_out), "--format", fmt, "--out", str(tmp_path)]) == 0
    names = sorted(p.suffix for p in tmp_path.iterdir())
    assert {".mmd", ".svg", ".png"} <= set(names)


def test_cli_inspect_flags_an_unbounded_poll_loop(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    template = {
        "Resources": {
            "Poll": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {"DefinitionString": json.dumps(poll_loop())},
            }
        }
    }
    path = tmp_path / "Poll.template.json"
    path.write_text(json.dumps(template))
    assert main(["inspect", str(path), "--strict"]) == 1
    out = capsys.readouterr().out
    assert "[error] unbounded-loop (" in out
    assert "Poll / Wait): loop Wait -> Check -> Done?" in out


def test_synth_validation_fails_then_acknowledgement_passes(tmp_path: Path) -> None:
    from aws_cdk import aws_stepfunctions as sfn

    from lambdaless import Workflow
    from lambdaless.analysis.annotations import acknowledge

    def poll_app(ack: bool) -> cdk.App:
        app = cdk.App(outdir=str(tmp_path / f"out{ack}"))
        stack = cdk.Stack(app, "Poll")
        wait = sfn.Wait(stack, "Wait", time=sfn.WaitTime.duration(cdk.Duration.seconds(30)))
        done = sfn.Choice(stack, "Done?").when(
            sfn.Condition.jsonata("{% $states.input.done %}"), sfn.Succeed(stack, "Ok")
        )
        workflow = Workflow(stack, "Poll", definition=wait.next(done.otherwise(wait)))
        if ack:
            acknowledge(workflow, "unbounded-loop", state="Wait", reason="ends within minutes")
        return app

    with pytest.raises(Exception, match="unbounded-loop"):
        poll_app(False).synth()
    poll_app(True).synth()


def test_the_printed_acknowledgement_works(tmp_path: Path) -> None:
    """Each synth-time finding prints the statement that accepts it; running that statement,
    as printed, makes the next synth pass (issue 12, item 11)."""
    import re

    from aws_cdk import aws_stepfunctions as sfn

    from lambdaless import Workflow

    def poll_app(name: str) -> tuple[cdk.App, Workflow]:
        app = cdk.App(outdir=str(tmp_path / name))
        stack = cdk.Stack(app, "Poll")
        wait = sfn.Wait(stack, "Wait", time=sfn.WaitTime.duration(cdk.Duration.seconds(30)))
        done = sfn.Choice(stack, "Done?").when(
            sfn.Condition.jsonata("{% $states.input.done %}"), sfn.Succeed(stack, "Ok")
        )
        return app, Workflow(stack, "Poller", definition=wait.next(done.otherwise(wait)))

    app, _ = poll_app("failing")
    with pytest.raises(Exception, match="unbounded-loop") as failure:
        app.synth()
    found = re.search(
        r"To accept it, give the reason it cannot happen: (from lambdaless\.analysis import "
        r"acknowledge; acknowledge\(workflow, .*?reason='<why>'\)) where workflow is the "
        r"Workflow (\S+)\.",
        str(failure.value),
    )
    assert found, str(failure.value)
    statement, path = found.groups()
    assert path == "Poll/Poller"
    app, workflow = poll_app("acknowledged")
    exec(statement, {"workflow": workflow})  # the printed instruction, run as is
    app.synth()


def test_synth_lint_takes_cdk_acknowledgements_and_skips_plain_state_machines(
    tmp_path: Path,
) -> None:
    """The lint runs as an aws-cdk-lib validation plugin: its findings can be acknowledged the
    aws-cdk-lib way too, and a plain StateMachine beside a Workflow is not linted."""
    from aws_cdk import aws_stepfunctions as sfn

    from lambdaless import Workflow

    def poll(stack: cdk.Stack, prefix: str) -> sfn.IChainable:
        wait = sfn.Wait(stack, f"{prefix}Wait", time=sfn.WaitTime.duration(cdk.Duration.seconds(5)))
        done = sfn.Choice(stack, f"{prefix}Done?").when(
            sfn.Condition.jsonata("{% $states.input.done %}"), sfn.Succeed(stack, f"{prefix}Ok")
        )
        return wait.next(done.otherwise(wait))

    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Poll")
    sfn.StateMachine(
        stack, "Plain", definition_body=sfn.DefinitionBody.from_chainable(poll(stack, "P"))
    )
    workflow = Workflow(stack, "Flow", definition=poll(stack, "W"), alarms=False)
    cdk.Validations.of(workflow).acknowledge(
        cdk.Acknowledgment(id="lambdaless::unbounded-loop", reason="the job ends within minutes")
    )
    app.synth()  # neither the acknowledged Workflow nor the plain machine fails it


# -- layout: edges never pass through a box they do not connect ----------------------------------
def _crosses(p: Point, q: Point, box: Box, margin: float = 0.5) -> bool:
    """Whether segment ``p``-``q`` enters the interior of ``box`` (Liang-Barsky clipping)."""
    (x0, y0), (x1, y1) = p, q
    dx, dy = x1 - x0, y1 - y0
    low, high = 0.0, 1.0
    for step, room in (
        (-dx, x0 - (box.x + margin)),
        (dx, box.x + box.w - margin - x0),
        (-dy, y0 - (box.y + margin)),
        (dy, box.y + box.h - margin - y0),
    ):
        if step == 0:
            if room <= 0:
                return False
        elif step < 0:
            low = max(low, room / step)
        else:
            high = min(high, room / step)
    return low < high


def crossings(lay: Layout, where: str = "") -> list[str]:
    """Every edge segment that passes through a box other than its ends, in every scope."""
    found = [
        f"{where}{route.source} -> {route.target} through {name}"
        for route in lay.routes
        for p, q in itertools.pairwise(route.points)
        for name, box in lay.boxes.items()
        if name not in (route.source, route.target) and _crosses(p, q, box)
    ]
    for box in lay.boxes.values():
        for inner in box.inner:
            found += crossings(inner, f"{where}{box.name}/")
    return found


def test_the_crossing_check_sees_a_crossing() -> None:
    lay = layout(RETRYING)
    ask, failed = lay.boxes["Ask"], lay.boxes["Failed"]
    through = (ask.x + ask.w / 2, ask.y - 10), (ask.x + ask.w / 2, ask.y + ask.h + 10)
    lay.routes.append(Route("(start)", "Failed", "", "next", through, (0, 0)))
    assert crossings(lay) == ["(start) -> Failed through Ask"]
    assert not _crosses((failed.x, failed.y - 5), (failed.x + failed.w, failed.y - 5), failed)


def test_no_edge_of_any_example_crosses_a_box(cdk_out: Path) -> None:
    machines = load(cdk_out)
    assert len(machines) >= 8
    for machine in machines:
        lay = layout(machine.definition)
        assert crossings(lay) == [], machine.path


@st.composite
def state_machines(draw: st.DrawFn) -> dict[str, Any]:
    """Random graphs of Tasks (with catches) and Choices, loops and long jumps included."""
    count = draw(st.integers(2, 12))
    names = [f"S{i}" for i in range(count)]
    target = st.sampled_from([*names, "Done", "Failed"])
    states: dict[str, Any] = {"Done": {"Type": "Succeed"}, "Failed": {"Type": "Fail"}}
    for name in names:
        if draw(st.booleans()):
            rules = draw(st.lists(target, min_size=1, max_size=4))
            states[name] = {
                "Type": "Choice",
                "Choices": [
                    {"Condition": f"{{% $x = {i} %}}", "Next": n} for i, n in enumerate(rules)
                ],
                "Default": draw(target),
            }
        else:
            catches = draw(st.lists(target, max_size=2))
            states[name] = {
                "Type": "Task",
                "Resource": "arn:aws:states:::bedrock:invokeModel",
                "Next": draw(target),
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": n} for n in catches],
            }
    return {"StartAt": "S0", "States": states}


@settings(max_examples=150, deadline=None)
@given(state_machines())
def test_no_edge_crosses_a_box_in_any_graph(definition: dict[str, Any]) -> None:
    lay = layout(definition)
    assert crossings(lay) == []
    edges = sum(
        len(state.get("Choices", [])) + len(state.get("Catch", [])) + 1
        for state in definition["States"].values()
    )
    assert len(lay.routes) == edges  # each transition once, and the start (Fail has none)
