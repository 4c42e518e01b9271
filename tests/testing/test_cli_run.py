"""``lambdaless run`` and the CLI's number flags: clear errors naming the file and the flag,
exit codes that say whether anything ran."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lambdaless.cli import main
from lambdaless.testing import mocks

ECHO = {
    "QueryLanguage": "JSONata",
    "StartAt": "Call",
    "States": {
        "Call": {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
            "Arguments": {"Bucket": "b", "Key": "k"},
            "Output": "{% $states.input %}",
            "End": True,
        }
    },
}


@pytest.fixture
def project(tmp_path: Path, template_of: Any) -> Path:
    """A template file ``Echo.json`` and a mock file ``mocks/Echo.json`` with one case."""
    (tmp_path / "Echo.json").write_text(json.dumps(template_of(ECHO, "Echo")))
    (tmp_path / "mocks").mkdir()
    config = mocks.to_mock_config("Echo", {"Happy": {"Call": mocks.success({"ok": True})}})
    (tmp_path / "mocks" / "Echo.json").write_text(json.dumps(config))
    return tmp_path


def run(project: Path, *flags: str) -> int:
    return main(["run", str(project / "Echo.json"), "--mocks", str(project / "mocks"), *flags])


@pytest.mark.parametrize("value", ['[1, "two"]', '"text"', "42", "2.5", "true"])
def test_any_json_value_is_an_input(
    project: Path, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(project, "--input", value) == 0
    assert f"output: {json.dumps(json.loads(value))}" in capsys.readouterr().out


def test_malformed_input_names_the_flag(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(project, "--input", "{oops") == 2
    assert "--input '{oops': not valid JSON" in capsys.readouterr().err


def test_malformed_input_file_names_the_file_and_the_flag(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = project / "bad.json"
    bad.write_text("{")
    assert run(project, "--input", f"@{bad}") == 2
    assert f"--input {bad}: not valid JSON" in capsys.readouterr().err

    assert run(project, "--input", f"@{project / 'missing.json'}") == 2
    assert f"--input {project / 'missing.json'}: cannot read it" in capsys.readouterr().err


def test_malformed_mock_file_names_the_file_and_the_flag(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mock_file = project / "mocks" / "Echo.json"
    mock_file.write_text('{"StateMachines": ')
    assert run(project) == 2
    assert f"--mocks {mock_file}: not valid JSON" in capsys.readouterr().err

    mock_file.write_text('{"StateMachines": {}}')
    assert run(project) == 2
    assert f"--mocks {mock_file}: a mock config needs" in capsys.readouterr().err

    mock_file.write_text("[]")
    assert run(project) == 2
    assert f"--mocks {mock_file}: a mock config is a JSON object" in capsys.readouterr().err


def test_malformed_sample_input_names_the_file(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sample = project / "mocks" / "Echo.input.json"
    sample.write_text("nope")
    assert run(project) == 2
    assert f"{sample}: not valid JSON" in capsys.readouterr().err


def test_malformed_template_names_the_file(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "Echo.json").write_text("{")
    assert run(project) == 2
    assert f"{project / 'Echo.json'}: not a JSON template" in capsys.readouterr().err


def test_missing_mocks_path_is_named(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", str(project / "Echo.json"), "--mocks", str(project / "nowhere")])
    assert code == 2
    assert f"--mocks {project / 'nowhere'}: no such file or folder" in capsys.readouterr().err


def test_run_all_that_matches_no_mock_exits_non_zero(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "mocks" / "Echo.json").rename(project / "mocks" / "Other.json.bak")
    assert run(project, "--all") == 1
    captured = capsys.readouterr()
    assert "no mock file" in captured.out
    assert "no test case ran" in captured.err


def test_run_all_runs_every_case(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(project, "--all") == 0
    assert "Echo :: Happy  -> SUCCEEDED" in capsys.readouterr().out


def test_a_mock_that_runs_out_fails_unless_repeat_last(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    retry = [{"ErrorEquals": ["Throttled"], "MaxAttempts": 2}]
    definition = json.loads(json.dumps(ECHO))
    definition["States"]["Call"]["Retry"] = retry
    template = json.loads((project / "Echo.json").read_text())
    resource = next(iter(template["Resources"].values()))
    resource["Properties"]["DefinitionString"] = json.dumps(definition)
    (project / "Echo.json").write_text(json.dumps(template))
    config = mocks.to_mock_config("Echo", {"Throttled": {"Call": mocks.failure("Throttled")}})
    (project / "mocks" / "Echo.json").write_text(json.dumps(config))

    assert run(project) == 1
    assert "missing mock" in capsys.readouterr().out
    assert run(project, "--repeat-last") == 0
    assert "-> FAILED" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--model-latency", "-1"),
        ("--http-latency", "nan"),
        ("--map-items", "-3"),
        ("--map-items", "2.5"),
        ("--lambda-memory", "64"),
        ("--lambda-memory", "20000"),
    ],
)
def test_nonsensical_inspect_numbers_are_refused(
    flag: str, value: str, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["inspect", str(project / "Echo.json"), flag, value])
    assert exit_.value.code == 2
    assert f"argument {flag}: {value!r} is not" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["0", "-5", "inf"])
def test_nonsensical_run_timeout_is_refused(
    value: str, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        run(project, "--timeout", value)
    assert f"argument --timeout: {value!r} is not a number" in capsys.readouterr().err
