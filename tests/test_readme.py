"""Every Python block of the README runs.

A block whose first line is ``# <file>.py`` belongs to a user's project: the blocks are written
to those files (in README order) and pytest runs them in a fresh directory, once writing the
snapshots and once checking them, as a new team copying them would. Any other block is a
fragment of a stack's ``__init__``: it runs with ``self`` a real Stack, a step it leaves outside
a workflow goes into one, and the stack is synthesized. Names a fragment leaves to the reader
are given below, per name.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_stepfunctions as sfn

from lambdaless import InvokeBedrock, Workflow
from lambdaless.steps._task import DirectTask
from lambdaless.synthesized import load

README = Path(__file__).resolve().parent.parent / "README.md"
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
_FILE = re.compile(r"^# (?P<name>[\w/]+\.py)\n")
MAX_TEST_LINES = 15

pytest_plugins = ["pytester"]


def _blocks() -> list[str]:
    return _BLOCK.findall(README.read_text())


def _fragments() -> list[str]:
    return [block for block in _blocks() if not _FILE.match(block)]


def _files() -> dict[str, str]:
    files: dict[str, str] = {}
    for block in _blocks():
        match = _FILE.match(block)
        if match:
            files[match["name"]] = files.get(match["name"], "") + block[match.end() :] + "\n\n"
    return files


#: What the fragments take as given (imports, or states, roles and ARNs defined elsewhere), built
#: only for the fragments that use them.
GIVEN: dict[str, Callable[[cdk.Stack], Any]] = {
    "SecretValue": lambda _: cdk.SecretValue,
    "not_found": lambda stack: sfn.Pass(stack, "NotFound"),
    "outage": lambda stack: sfn.Pass(stack, "Outage"),
    "summarize": lambda stack: InvokeBedrock(
        stack, "GivenStep", model="amazon.nova-lite-v1:0", prompt="hi"
    ),
    "caller_role": lambda stack: iam.Role(
        stack, "Caller", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com")
    ),
    "profile_arn": lambda _: (
        "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/ab1"
    ),
    "provisioned_arn": lambda _: "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/ab1",
}


def test_the_readme_has_blocks_of_both_kinds() -> None:
    assert len(_fragments()) >= 3
    assert set(_files()) == {"summarizer.py", "test_summarizer.py"}


@pytest.mark.parametrize("index", range(len(_fragments())))
def test_fragment_runs_inside_a_stack(index: int, app: cdk.App) -> None:
    stack = cdk.Stack(app, "ReadmeStack")
    code = compile(_fragments()[index], f"README.md block {index}", "exec")
    names = {"self": stack} | {n: GIVEN[n](stack) for n in code.co_names if n in GIVEN}
    exec(code, names)
    # A step the fragment leaves outside a workflow goes into one, as the reader's would.
    used = {id(step) for w in stack.node.find_all() if isinstance(w, Workflow) for step in w.steps}
    for value in list(names.values()):
        if isinstance(value, DirectTask) and id(value) not in used:
            Workflow(stack, f"Around{value.node.id}", definition=value)
    load(stack)  # synthesizes


def test_copied_tests_are_short() -> None:
    tests = re.split(r"\n(?=def |class |\S)", _files()["test_summarizer.py"])
    bodies = [t for t in tests if t.startswith("def test_")]
    assert len(bodies) >= 4
    for body in bodies:
        assert len(body.strip().splitlines()) < MAX_TEST_LINES, body


def test_copied_project_passes(pytester: pytest.Pytester) -> None:
    for name, text in _files().items():
        pytester.makefile(".py", **{name.removesuffix(".py"): text})
    # The snapshot is written in this process; the whole project then runs in a fresh one, as
    # a user's would (pytester's in-process runs re-import moto, which the runner's hooks
    # patch once per process).
    written = pytester.runpytest_inprocess("-q", "-k", "asl", "--snapshot-update")
    written.assert_outcomes(passed=1, deselected=3)
    snapshot = pytester.path / "__snapshots__" / "test_summarizer" / "test_asl_is_reviewed.json"
    assert '"Summarize"' in snapshot.read_text()
    checked = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    checked.assert_outcomes(passed=4)
