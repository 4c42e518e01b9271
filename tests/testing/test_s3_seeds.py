"""S3 seeds: the seed format and its errors, local bucket names, runs on moto's S3 with the
seeds written (S3 Tasks use it, every other Task still needs a mock), and ``lambdaless run``
picking up ``<Name>.s3.json`` beside the mock file."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lambdaless.cli import main
from lambdaless.limits import S3_KEY_MAX_BYTES
from lambdaless.synthesized import SynthesizedStateMachine, TemplateBucket
from lambdaless.testing import LocalRunner, MissingMockError, S3SeedError, S3Seeds, mocks
from lambdaless.testing._local_s3 import local_bucket_name
from lambdaless.testing.s3_seeds import is_bucket_name

BUCKET_ID = "Docs1A2B3C4D"
DOCS = "docs1a2b3c4d"  # the local name of BUCKET_ID in a template of no stack


def _template(definition: dict[str, Any], *, more: dict[str, Any] | None = None) -> dict[str, Any]:
    """A template as CDK writes it: the definition's ``@Docs@``/``@Docs.Arn@`` are references
    to the bucket (``Ref`` / ``Fn::GetAtt``) inside an ``Fn::Join``."""
    parts: list[Any] = []
    for i, piece in enumerate(re.split(r"@(Docs(?:\.Arn)?)@", json.dumps(definition))):
        if i % 2 == 0:
            parts.append(piece)
        elif piece == "Docs":
            parts.append({"Ref": BUCKET_ID})
        else:
            parts.append({"Fn::GetAtt": [BUCKET_ID, "Arn"]})
    return {
        "Resources": {
            BUCKET_ID: {
                "Type": "AWS::S3::Bucket",
                "Metadata": {"aws:cdk:path": "TestStack/Docs/Resource"},
            },
            "Flow0A1B2C3D": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {"DefinitionString": {"Fn::Join": ["", parts]}},
                "Metadata": {"aws:cdk:path": "TestStack/Flow/Resource"},
            },
            **(more or {}),
        }
    }


#: Reads in/<execution>.txt, writes its upper case to out/<execution>.txt, asks a model.
FLOW = {
    "QueryLanguage": "JSONata",
    "StartAt": "Read",
    "States": {
        "Read": {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
            "Arguments": {
                "Bucket": "@Docs@",
                "Key": "{% 'in/' & $states.context.Execution.Name & '.txt' %}",
            },
            "Output": "{% $states.result.Body %}",
            "Next": "Write",
        },
        "Write": {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:s3:putObject",
            "Arguments": {
                "Bucket": "@Docs@",
                "Key": "{% 'out/' & $states.context.Execution.Name & '.txt' %}",
                "Body": "{% $uppercase($states.input) %}",
            },
            "Output": "{% $states.input %}",
            "Next": "Ask",
        },
        "Ask": {
            "Type": "Task",
            "Resource": "arn:aws:states:::bedrock:invokeModel",
            "Arguments": {
                "ModelId": "anthropic.claude-3-haiku-20240307-v1:0",
                "Body": {
                    "anthropic_version": "bedrock-2023-05-31",
                    "max_tokens": 10,
                    "messages": [{"role": "user", "content": "{% $states.input %}"}],
                },
            },
            "Output": "{% {'text': $states.result.Body.content[0].text, 'bucket': '@Docs.Arn@'} %}",
            "End": True,
        },
    },
}
ANSWER = mocks.bedrock_text("anthropic", "ok")
SEEDS = {"Objects": {"Docs": {"in/${Execution.Name}.txt": {"Text": "tides"}}}}


@pytest.fixture
def runner() -> LocalRunner:
    return LocalRunner(_template(FLOW))


# -- the format -------------------------------------------------------------------------------


def test_every_body_kind(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "blob.bin").write_bytes(b"\x00\x01raw")
    seed_file = tmp_path / "Flow.s3.json"
    seed_file.write_text(
        json.dumps(
            {
                "Objects": {
                    "Docs": {
                        "a.txt": {"Text": "héllo"},
                        "b.json": {"Json": {"n": 1, "s": "é"}},
                        "c.jsonl": {"JsonLines": [{"id": 1}, "two", [3]]},
                        "d.bin": {"File": "data/blob.bin"},
                        "e.jsonl": {"JsonLines": []},
                    },
                    "imported-bucket": {},
                },
                "TestCases": {"Other": {"Docs": {"a.txt": {"Text": "replaced"}}}},
            }
        )
    )
    seeds = S3Seeds.load(seed_file)
    bodies = {o.key: o.body for o in seeds.objects()}
    assert bodies == {
        "a.txt": "héllo".encode(),
        "b.json": '{"n": 1, "s": "é"}'.encode(),
        "c.jsonl": b'{"id": 1}\n"two"\n[3]\n',
        "d.bin": b"\x00\x01raw",
        "e.jsonl": b"",
    }
    assert {o.key: o.body for o in seeds.objects("Other")}["a.txt"] == b"replaced"
    assert seeds.buckets() == ["Docs", "imported-bucket"]
    assert seeds.buckets("Unknown") == ["Docs", "imported-bucket"]


@pytest.mark.parametrize(
    ("document", "where", "allowed"),
    [
        ([], "", "a JSON object with Objects and/or TestCases"),
        ({"Buckets": {}}, "", "only the keys Objects, TestCases"),
        ({"Objects": []}, "Objects", "an object of bucket -> {key: body}"),
        ({"Objects": {"Docs": []}}, "Objects.Docs", "an object of object key -> body"),
        (
            {"Objects": {"Docs": {"k": {"Body": "x"}}}},
            "Objects.Docs['k']",
            "a body: an object with exactly one of Text, Json, JsonLines, File",
        ),
        (
            {"Objects": {"Docs": {"k": {"Text": "x", "Json": 1}}}},
            "Objects.Docs['k']",
            "a body: an object with exactly one of Text, Json, JsonLines, File",
        ),
        ({"Objects": {"Docs": {"k": {"Text": 1}}}}, "Objects.Docs['k'].Text", "a string"),
        (
            {"Objects": {"Docs": {"k": {"JsonLines": {"a": 1}}}}},
            "Objects.Docs['k'].JsonLines",
            "a list of JSON values, one a line",
        ),
        (
            {"Objects": {"Docs": {"k": {"Json": float("nan")}}}},
            "Objects.Docs['k'].Json",
            "a JSON value",
        ),
        (
            {"Objects": {"Docs": {"k": {"File": "/etc/hostname"}}}},
            "Objects.Docs['k'].File",
            "a path relative to the seed file",
        ),
        (
            {"Objects": {"Docs": {"k": {"File": "missing.jsonl"}}}},
            "Objects.Docs['k'].File",
            "a readable file relative to the seed file",
        ),
        ({"Objects": {"Docs": {"": {"Text": ""}}}}, "Objects.Docs['']", "a non-empty object key"),
        (
            {"Objects": {"Docs": {"out/${Execution.Id}/x": {"Text": ""}}}},
            "Objects.Docs['out/${Execution.Id}/x']",
            "a key whose only placeholder is ${Execution.Name}",
        ),
        (
            {"TestCases": {"Happy": {"Docs": {"k": {"Text": 2}}}}},
            "TestCases.Happy.Docs['k'].Text",
            "a string",
        ),
        ({"TestCases": []}, "TestCases", "an object of test case name -> buckets"),
    ],
)
def test_bad_seeds_name_the_file_the_place_and_what_is_allowed(
    tmp_path: Path, document: Any, where: str, allowed: str
) -> None:
    seed_file = tmp_path / "Flow.s3.json"
    seed_file.write_text(json.dumps(document))
    with pytest.raises(S3SeedError) as raised:
        S3Seeds.load(seed_file)
    message = str(raised.value)
    assert message.startswith(f"{seed_file}: {where}".rstrip() + " "), message
    assert f"is not allowed: expected {allowed}" in message


def test_keys_fit_s3_with_the_longest_execution_name() -> None:
    room = S3_KEY_MAX_BYTES - 80
    S3Seeds({"Objects": {"Docs": {"${Execution.Name}" + "k" * room: {"Text": ""}}}})
    with pytest.raises(S3SeedError, match="at most 1024 bytes of UTF-8"):
        S3Seeds({"Objects": {"Docs": {"${Execution.Name}" + "k" * (room + 1): {"Text": ""}}}})
    with pytest.raises(S3SeedError, match="at most 1024 bytes of UTF-8"):
        S3Seeds({"Objects": {"Docs": {"é" * 513: {"Text": ""}}}})


def test_unreadable_or_malformed_seed_files(tmp_path: Path) -> None:
    with pytest.raises(S3SeedError, match=r"missing\.s3\.json: cannot read it"):
        S3Seeds.load(tmp_path / "missing.s3.json")
    bad = tmp_path / "bad.s3.json"
    bad.write_text("{")
    with pytest.raises(S3SeedError, match=r"bad\.s3\.json: not valid JSON"):
        S3Seeds.load(bad)


def test_test_cases_must_be_the_mock_files() -> None:
    seeds = S3Seeds({"TestCases": {"HappyPth": {}}})
    seeds.check_test_cases(["HappyPth", "Other"])
    with pytest.raises(S3SeedError, match=r"\['HappyPth'\] is not allowed: expected test cases"):
        seeds.check_test_cases(["HappyPath"])


# -- local bucket names -----------------------------------------------------------------------

IDS = st.text(alphabet=st.characters(codec="ascii"), max_size=300)


@given(stack=IDS, logical_id=IDS)
def test_local_bucket_names_are_valid_and_deterministic(stack: str, logical_id: str) -> None:
    name = local_bucket_name(stack, logical_id)
    assert is_bucket_name(name), name
    assert name == local_bucket_name(stack, logical_id)


def test_local_bucket_names_read_as_their_bucket() -> None:
    assert local_bucket_name("TestStack", BUCKET_ID) == "teststack-docs1a2b3c4d"
    assert local_bucket_name("", BUCKET_ID) == DOCS
    long_id = "Bucket" + "X" * 250 + "1A2B3C4D"
    name = local_bucket_name("DocumentsAtScale", long_id)
    assert len(name) == 63
    assert name.startswith("documentsatscale-bucketxxx")
    assert name != local_bucket_name("DocumentsAtScale", long_id + "9")


def test_the_definition_names_the_local_bucket(runner: LocalRunner) -> None:
    (machine,) = runner.machines
    assert machine.buckets == (TemplateBucket(BUCKET_ID, "TestStack/Docs/Resource", None),)
    states = machine.definition["States"]
    assert states["Read"]["Arguments"]["Bucket"] == DOCS
    assert f"'bucket': 'arn:aws:s3:::{DOCS}'" in states["Ask"]["Output"]


def test_a_literal_bucket_name_is_kept() -> None:
    template = _template(FLOW)
    template["Resources"][BUCKET_ID]["Properties"] = {"BucketName": "my-literal-bucket"}
    (machine,) = LocalRunner(template).machines
    assert machine.definition["States"]["Read"]["Arguments"]["Bucket"] == "my-literal-bucket"


# -- runs on moto's S3 ------------------------------------------------------------------------


def test_s3_tasks_read_and_write_moto_s3(runner: LocalRunner) -> None:
    result = runner.run(execution_name="run-1", responses={"Ask": ANSWER}, s3=SEEDS)
    assert result.status == "SUCCEEDED"
    assert result.output == {"text": "ok", "bucket": f"arn:aws:s3:::{DOCS}"}
    assert result.s3 is not None
    assert result.s3.written == ((DOCS, "out/run-1.txt"),)
    assert result.s3.text("Docs", "out/run-1.txt") == "TIDES"
    assert result.s3.text(BUCKET_ID, "in/run-1.txt") == "tides"  # by logical id too
    assert result.s3.keys("Docs") == ["in/run-1.txt", "out/run-1.txt"]
    (ask,) = result.calls_to("Ask")
    assert ask.arguments["Body"]["messages"] == [{"role": "user", "content": "tides"}]
    assert [c.state for c in result.calls] == ["Ask"]  # the S3 Tasks ran on moto, unmocked
    with pytest.raises(KeyError, match="does not exist; the bucket holds"):
        result.s3.body("Docs", "out/other.txt")


def test_every_run_starts_from_its_seeds(runner: LocalRunner) -> None:
    first = runner.run(execution_name="run-1", responses={"Ask": ANSWER}, s3=SEEDS)
    second = runner.run(execution_name="run-2", responses={"Ask": ANSWER}, s3=SEEDS)
    assert first.s3 is not None
    assert second.s3 is not None
    assert second.s3.keys("Docs") == ["in/run-2.txt", "out/run-2.txt"]


def test_a_missing_object_fails_as_s3_does(runner: LocalRunner) -> None:
    result = runner.run(
        execution_name="run-1",
        responses={"Ask": ANSWER},
        s3={"Objects": {"Docs": {"in/someone-else.txt": {"Text": "x"}}}},
    )
    assert (result.status, result.error) == ("FAILED", "S3.NoSuchKeyException")


def test_other_tasks_still_need_their_mock(runner: LocalRunner) -> None:
    with pytest.raises(MissingMockError, match="Task state 'Ask'"):
        runner.run(execution_name="run-1", s3=SEEDS)


def test_a_mocked_s3_task_stays_mocked(runner: LocalRunner) -> None:
    result = runner.run(
        execution_name="run-1",
        responses={"Write": mocks.failure("S3.AccessDenied", "no"), "Ask": ANSWER},
        s3=SEEDS,
    )
    assert (result.status, result.error) == ("FAILED", "S3.AccessDenied")
    assert result.s3 is not None
    assert result.s3.written == ()


def test_without_seeds_s3_tasks_need_mocks_and_say_how(runner: LocalRunner) -> None:
    with pytest.raises(MissingMockError, match=r"or run it on moto's S3 with seeds \(s3=\.\.\."):
        runner.run(responses={"Ask": ANSWER})


def test_test_case_seeds_add_to_and_replace_the_shared_ones(runner: LocalRunner) -> None:
    config = mocks.to_mock_config("Flow", {"Plain": {"Ask": ANSWER}, "Loud": {"Ask": ANSWER}})
    seeds = {
        "Objects": {"Docs": {"in/${Execution.Name}.txt": {"Text": "tides"}}},
        "TestCases": {
            "Loud": {
                "Docs": {"in/${Execution.Name}.txt": {"Text": "waves"}},
                "imported-archive": {"old/one.json": {"Json": [1]}},
            }
        },
    }
    plain = runner.run(execution_name="r", mock_config=config, test_case="Plain", s3=seeds)
    loud = runner.run(execution_name="r", mock_config=config, test_case="Loud", s3=seeds)
    assert plain.s3 is not None
    assert loud.s3 is not None
    assert plain.s3.text("Docs", "out/r.txt") == "TIDES"
    assert loud.s3.text("Docs", "out/r.txt") == "WAVES"
    assert loud.s3.json("imported-archive", "old/one.json") == [1]
    assert ("imported-archive", "old/one.json") not in plain.s3.objects

    only = mocks.to_mock_config("Flow", {"Loud": {"Ask": ANSWER}})
    implicit = runner.run(execution_name="r", mock_config=only, s3=seeds)  # the only case
    assert implicit.s3 is not None
    assert implicit.s3.text("Docs", "out/r.txt") == "WAVES"

    with pytest.raises(S3SeedError, match=r"\['Loud'\] is not allowed: expected test cases"):
        runner.run(mock_config=mocks.to_mock_config("Flow", {"Plain": {}}), s3=seeds)


def test_a_bucket_the_template_does_not_have_is_refused(runner: LocalRunner) -> None:
    with pytest.raises(S3SeedError) as raised:
        runner.run(responses={"Ask": ANSWER}, s3={"Objects": {"Documents": {}}})
    assert str(raised.value) == (
        "the S3 seeds: bucket 'Documents' is not allowed: expected the construct id or logical "
        f"id of an AWS::S3::Bucket of the template (Docs, {BUCKET_ID}), or the literal name of an "
        "imported bucket (3 to 63 lowercase letters, digits, dots and hyphens)"
    )


def test_two_buckets_with_one_construct_id_are_named_by_logical_id() -> None:
    template = _template(FLOW)
    template["Resources"]["Docs9F8E7D6C"] = {
        "Type": "AWS::S3::Bucket",
        "Metadata": {"aws:cdk:path": "TestStack/Archive/Docs/Resource"},
    }
    runner = LocalRunner(template)
    with pytest.raises(S3SeedError, match="bucket 'Docs' is not allowed"):
        runner.run(responses={"Ask": ANSWER}, s3=SEEDS)
    by_id = {"Objects": {BUCKET_ID: {"in/${Execution.Name}.txt": {"Text": "a"}}}}
    result = runner.run(execution_name="r", responses={"Ask": ANSWER}, s3=by_id)
    assert result.status == "SUCCEEDED"
    assert result.s3 is not None
    assert result.s3.buckets["TestStack/Archive/Docs"] == "docs9f8e7d6c"
    assert ("docs9f8e7d6c", "in/r.txt") not in result.s3.objects  # created, empty


def test_inside_a_callers_mock_aws_the_run_uses_that_world(runner: LocalRunner) -> None:
    import boto3
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=DOCS)
        client.put_object(Bucket=DOCS, Key="kept.txt", Body=b"mine")
        result = runner.run(execution_name="r", responses={"Ask": ANSWER}, s3=SEEDS)
        assert result.s3 is not None
        assert result.s3.written == ((DOCS, "out/r.txt"),)
        assert client.get_object(Bucket=DOCS, Key="out/r.txt")["Body"].read() == b"TIDES"
        assert client.get_object(Bucket=DOCS, Key="kept.txt")["Body"].read() == b"mine"


def test_a_bare_definition_has_no_buckets() -> None:
    machine = LocalRunner({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    assert machine.machines[0].buckets == ()
    assert isinstance(machine.machines[0], SynthesizedStateMachine)


# -- lambdaless run ---------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """``Flow.json`` (a template), ``mocks/Flow.json`` and ``mocks/Flow.s3.json``."""
    (tmp_path / "Flow.json").write_text(json.dumps(_template(FLOW)))
    (tmp_path / "mocks").mkdir()
    config = mocks.to_mock_config("Flow", {"Happy": {"Ask": ANSWER}})
    (tmp_path / "mocks" / "Flow.json").write_text(json.dumps(config))
    (tmp_path / "mocks" / "Flow.s3.json").write_text(json.dumps(SEEDS))
    return tmp_path


def _run(project: Path) -> int:
    return main(["run", str(project / "Flow.json"), "--mocks", str(project / "mocks"), "--all"])


def test_cli_seeds_from_beside_the_mock_file(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(project) == 0
    out = capsys.readouterr().out
    assert "Flow :: Happy  -> SUCCEEDED" in out
    assert "  s3 written: 1 object(s)\n" in out
    # a template file's stack is its file name: Flow
    assert re.search(rf"    s3://flow-{DOCS}/out/local-\d+-[0-9a-f]{{8}}\.txt \(5 B\)\n", out), out


def test_cli_names_a_bad_seed_file(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed_file = project / "mocks" / "Flow.s3.json"
    seed_file.write_text(json.dumps({"Objects": {"Docs": {"k": {"Yaml": "x"}}}}))
    assert _run(project) == 2
    err = capsys.readouterr().err
    assert f"lambdaless run: {seed_file}: Objects.Docs['k'] ['Yaml'] is not allowed" in err

    seed_file.write_text(json.dumps({"TestCases": {"Hapy": {}}}))
    assert _run(project) == 2
    assert f"{seed_file}: TestCases ['Hapy'] is not allowed: expected test cases" in (
        capsys.readouterr().err
    )
