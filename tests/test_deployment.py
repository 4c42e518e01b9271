"""Versions and aliases: what each deployment strategy synthesizes, when a version is published,
who may start executions through the alias, and what bad input is refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template
from syrupy.assertion import SnapshotAssertion

from lambdaless import BedrockModel, Deployment, InvokeBedrock, LambdalessError, Workflow
from lambdaless.analysis.rollout import (
    ALARM_TYPE,
    ALIAS_TYPE,
    VERSION_TYPE,
    rollouts,
    worst_case_minutes,
)
from lambdaless.cli import main

MODEL = BedrockModel.of("us.anthropic.claude-3-5-haiku-20241022-v1:0")
PROMPT = "{% 'Summarize:\n\n' & $states.input.document %}"

STRATEGIES = {
    "canary": lambda: Deployment.canary(percent=10, interval=cdk.Duration.minutes(10)),
    "linear": lambda: Deployment.linear(percent=20, interval=cdk.Duration.minutes(30)),
    "all_at_once": lambda: Deployment.all_at_once(alias_name="prod"),
}


def build(
    stack: cdk.Stack,
    deployment: Deployment | None,
    *,
    prompt: str = PROMPT,
    express: bool = False,
    alarms: bool = True,
) -> Workflow:
    step = InvokeBedrock(stack, "Summarize", model=MODEL, prompt=prompt)
    return Workflow(
        stack, "Summarizer", definition=step, deployment=deployment, express=express, alarms=alarms
    )


def of_type(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def synth(prompt: str = PROMPT, tmp: Path | None = None) -> dict[str, Any]:
    app = cdk.App(outdir=str(tmp) if tmp else None)
    stack = cdk.Stack(app, "Stack")
    build(stack, STRATEGIES["canary"](), prompt=prompt)
    return Template.from_stack(stack).to_json()


# -- what each strategy synthesizes ----------------------------------------------------------
@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_version_and_alias_per_strategy(
    strategy: str, stack: cdk.Stack, snapshot_json: SnapshotAssertion
) -> None:
    build(stack, STRATEGIES[strategy]())
    template = Template.from_stack(stack).to_json()
    versions, aliases = of_type(template, VERSION_TYPE), of_type(template, ALIAS_TYPE)
    assert len(versions) == 1
    assert len(aliases) == 1
    ((version_id, version),) = versions.items()
    ((_, alias),) = aliases.items()
    machine_id = next(iter(of_type(template, "AWS::StepFunctions::StateMachine")))
    # published from the revision this deployment created, kept when a newer one replaces it
    assert version["Properties"]["StateMachineArn"] == {"Ref": machine_id}
    assert version["Properties"]["StateMachineRevisionId"] == {
        "Fn::GetAtt": [machine_id, "StateMachineRevisionId"]
    }
    assert version["DeletionPolicy"] == version["UpdateReplacePolicy"] == "Retain"
    preference = alias["Properties"]["DeploymentPreference"]
    assert preference["StateMachineVersionArn"] == {"Fn::GetAtt": [version_id, "Arn"]}
    # DeploymentPreference and RoutingConfiguration are mutually exclusive
    assert "RoutingConfiguration" not in alias["Properties"]
    assert {version_id: version, "alias": alias} == snapshot_json


def test_alarms_are_names_of_alarms_in_the_same_template(stack: cdk.Stack) -> None:
    extra = cloudwatch.Alarm(
        stack,
        "P99",
        metric=cloudwatch.Metric(namespace="AWS/States", metric_name="ExecutionTime"),
        threshold=60_000,
        evaluation_periods=1,
    )
    cloudwatch.Alarm(
        stack,
        "Named",
        alarm_name="summaries-too-short",
        metric=cloudwatch.Metric(namespace="Summaries", metric_name="Short"),
        threshold=1,
        evaluation_periods=1,
    )
    workflow = build(
        stack,
        Deployment.canary(
            percent=5, interval=cdk.Duration.minutes(15), alarms=[extra, "summaries-too-short"]
        ),
    )
    template = Template.from_stack(stack).to_json()
    alarms = of_type(template, ALARM_TYPE)
    names_by_ref = {logical_id: {"Ref": logical_id} for logical_id in alarms}
    literal_names = {a["Properties"].get("AlarmName") for a in alarms.values()}
    ((alias),) = of_type(template, ALIAS_TYPE).values()
    listed = alias["Properties"]["DeploymentPreference"]["Alarms"]
    for entry in listed:
        # a Ref to an AWS::CloudWatch::Alarm resolves to its name; a literal must name one
        assert entry in names_by_ref.values() or entry in literal_names, entry
        assert "arn:" not in json.dumps(entry)
    assert workflow.monitoring is not None
    own = [stack.resolve(workflow.monitoring.alarms[k].alarm_name) for k in ("failed", "timed_out")]
    assert own[0] in listed
    assert own[1] in listed
    assert stack.resolve(extra.alarm_name) in listed
    assert "summaries-too-short" in listed
    assert "summaries-too-short" in literal_names
    # the Bedrock throttle alarms count other callers of the model: they do not guard
    throttles = [
        stack.resolve(a.alarm_name)
        for k, a in workflow.monitoring.alarms.items()
        if k.startswith("bedrock_throttles")
    ]
    assert throttles
    assert not any(t in listed for t in throttles)


# -- a version when, and only when, the definition changes -----------------------------------
def test_prompt_change_publishes_a_version_and_keeps_the_alias(tmp_path: Path) -> None:
    first = synth(tmp=tmp_path / "a")
    again = synth(tmp=tmp_path / "b")
    reworded = synth(prompt=PROMPT.replace("Summarize", "Summarise"), tmp=tmp_path / "c")
    assert first == again  # nothing changed: same template, CloudFormation publishes nothing
    assert set(of_type(first, VERSION_TYPE)) != set(of_type(reworded, VERSION_TYPE))
    assert of_type(first, ALIAS_TYPE).keys() == of_type(reworded, ALIAS_TYPE).keys()
    ((alias_a,),) = [list(of_type(first, ALIAS_TYPE).values())]
    ((alias_c,),) = [list(of_type(reworded, ALIAS_TYPE).values())]
    assert alias_a["Properties"]["Name"] == alias_c["Properties"]["Name"] == "live"
    assert (
        alias_a["Properties"]["DeploymentPreference"]["StateMachineVersionArn"]
        != alias_c["Properties"]["DeploymentPreference"]["StateMachineVersionArn"]
    )


def test_role_and_configuration_are_part_of_the_version_identity(stack: cdk.Stack) -> None:
    from aws_cdk import aws_stepfunctions as sfn

    from lambdaless.deployment import _digest

    workflow = build(stack, STRATEGIES["canary"]())
    assert workflow.rollout is not None
    machine = workflow.state_machine
    cfn = machine.node.default_child
    assert isinstance(cfn, sfn.CfnStateMachine)
    assert _digest(machine) == workflow.rollout.digest
    cfn.role_arn = "arn:aws:iam::111122223333:role/another-role"
    assert _digest(machine) != workflow.rollout.digest
    other = cdk.Stack(cdk.App(), "Untraced")
    step = InvokeBedrock(other, "Summarize", model=MODEL, prompt=PROMPT)
    untraced = Workflow(
        other, "Summarizer", definition=step, tracing=False, deployment=STRATEGIES["canary"]()
    )
    assert untraced.rollout is not None
    assert untraced.rollout.digest != workflow.rollout.digest


# -- starting executions through the alias ---------------------------------------------------
def test_grant_start_execution_is_scoped_to_the_alias(us_stack: cdk.Stack) -> None:
    workflow = build(us_stack, STRATEGIES["canary"]())
    caller = iam.Role(us_stack, "Caller", assumed_by=iam.AccountRootPrincipal())
    assert workflow.rollout is not None
    workflow.rollout.grant_start_execution(caller)
    template = Template.from_stack(us_stack).to_json()
    policies = [
        p
        for p in of_type(template, "AWS::IAM::Policy").values()
        if p["Properties"]["Roles"] == [{"Ref": us_stack.get_logical_id(caller.node.default_child)}]  # type: ignore[arg-type]
    ]
    ((policy,),) = [policies]
    machine_id = next(iter(of_type(template, "AWS::StepFunctions::StateMachine")))
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {
            "Action": "states:StartExecution",
            "Effect": "Allow",
            # Step Functions authorizes an alias with the unqualified state machine ARN and
            # the states:StateMachineQualifier key ("auth-version-alias")
            "Resource": {"Ref": machine_id},
            "Condition": {"StringEquals": {"states:StateMachineQualifier": "live"}},
        }
    ]
    arn = us_stack.resolve(workflow.rollout.alias_arn)
    assert arn == {"Fn::Join": ["", [{"Ref": machine_id}, ":live"]]}
    assert workflow.alias is workflow.rollout.alias


def test_express_workflows_deploy_through_an_alias_too(stack: cdk.Stack) -> None:
    workflow = build(stack, STRATEGIES["linear"](), express=True)
    template = Template.from_stack(stack).to_json()
    assert len(of_type(template, ALIAS_TYPE)) == 1
    assert workflow.express
    assert workflow.alias is not None


def test_no_deployment_no_version(stack: cdk.Stack) -> None:
    workflow = build(stack, None)
    template = Template.from_stack(stack).to_json()
    assert not of_type(template, VERSION_TYPE)
    assert not of_type(template, ALIAS_TYPE)
    assert workflow.alias is None
    assert workflow.rollout is None


# -- bad input -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("make", "argument"),
    [
        (lambda: Deployment.canary(percent=0, interval=cdk.Duration.minutes(5)), "percent=0"),
        (lambda: Deployment.canary(percent=100, interval=cdk.Duration.minutes(5)), "percent=100"),
        (lambda: Deployment.linear(percent=True, interval=cdk.Duration.minutes(5)), "percent="),
        (lambda: Deployment.linear(percent=7.5, interval=cdk.Duration.minutes(5)), "percent="),
        (lambda: Deployment.canary(percent=10, interval=cdk.Duration.minutes(0)), "interval="),
        (lambda: Deployment.canary(percent=10, interval=cdk.Duration.minutes(2101)), "interval="),
        (lambda: Deployment.canary(percent=10, interval=cdk.Duration.seconds(90)), "interval="),
        (lambda: Deployment.linear(percent=10, interval=10), "interval="),  # type: ignore[arg-type]
        (lambda: Deployment.all_at_once(alias_name="42"), "alias_name="),
        (lambda: Deployment.all_at_once(alias_name="my alias"), "alias_name="),
        (lambda: Deployment.all_at_once(alias_name="x" * 81), "alias_name="),
        (
            lambda: Deployment.all_at_once(
                alarms=["arn:aws:cloudwatch:us-east-1:111122223333:alarm:Errors"]
            ),
            "alarms[0]=",
        ),
        (lambda: Deployment.all_at_once(alarms=[42]), "alarms[0]="),  # type: ignore[list-item]
        (lambda: Deployment.all_at_once(alarms="Errors"), "alarms="),  # type: ignore[arg-type]
    ],
)
def test_bad_input_names_the_argument(make: Any, argument: str) -> None:
    with pytest.raises(LambdalessError) as raised:
        make()
    assert argument in str(raised.value)


def test_alarm_arn_error_says_why_and_which_name() -> None:
    with pytest.raises(LambdalessError, match=r"not an ARN.*never roll back.*'Errors'"):
        Deployment.canary(
            percent=10,
            interval=cdk.Duration.minutes(5),
            alarms=["arn:aws:cloudwatch:us-east-1:111122223333:alarm:Errors"],
        )


def test_ranges_are_inclusive() -> None:
    assert Deployment.canary(percent=1, interval=cdk.Duration.minutes(1)).percent == 1
    assert Deployment.linear(percent=99, interval=cdk.Duration.hours(35)).interval_minutes == 2100


def test_deployment_without_alarms_is_refused(stack: cdk.Stack) -> None:
    with pytest.raises(
        LambdalessError,
        match=r"deployment='CANARY' is not allowed: expected at least one alarm to roll back on",
    ):
        build(stack, STRATEGIES["canary"](), alarms=False)


def test_deployment_with_own_alarms_only_is_allowed(stack: cdk.Stack) -> None:
    build(stack, Deployment.all_at_once(alarms=["errors-elsewhere"]), alarms=False)
    ((alias,),) = [list(of_type(Template.from_stack(stack).to_json(), ALIAS_TYPE).values())]
    assert alias["Properties"]["DeploymentPreference"]["Alarms"] == ["errors-elsewhere"]


def test_deployment_must_be_a_deployment(stack: cdk.Stack) -> None:
    with pytest.raises(LambdalessError, match=r"deployment='canary' is not allowed"):
        build(stack, "canary")  # type: ignore[arg-type]


# -- the rollout read back from the template (inspect) ---------------------------------------
def test_worst_case_time_to_full_rollout() -> None:
    assert worst_case_minutes("CANARY", 10, 10) == 10
    assert worst_case_minutes("LINEAR", 20, 600) == 3000  # 5 steps of 20%
    assert worst_case_minutes("LINEAR", 30, 10) == 40  # 30, 60, 90, 100
    assert worst_case_minutes("ALL_AT_ONCE", None, None) == 0
    assert Deployment.linear(percent=10, interval=cdk.Duration.minutes(3)).worst_case_minutes == 30


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_rollouts_read_from_the_template(strategy: str, stack: cdk.Stack) -> None:
    deployment = STRATEGIES[strategy]()
    build(stack, deployment)
    template = Template.from_stack(stack).to_json()
    machine_id = next(iter(of_type(template, "AWS::StepFunctions::StateMachine")))
    (found,) = rollouts(template, machine_id)
    assert found.strategy == deployment.strategy
    assert found.alias == deployment.alias_name
    assert found.worst_case_minutes == deployment.worst_case_minutes
    assert [a.split(" ")[0] for a in found.alarms] == [
        e["Ref"]
        for e in template["Resources"][next(iter(of_type(template, ALIAS_TYPE)))]["Properties"][
            "DeploymentPreference"
        ]["Alarms"]
    ]
    assert any("(ExecutionsFailed)" in a for a in found.alarms)


def test_inspect_shows_strategy_alarms_and_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = synth(tmp=tmp_path / "out")
    path = tmp_path / "Stack.template.json"
    path.write_text(json.dumps(template))
    assert main(["inspect", str(path)]) == 0
    out = capsys.readouterr().out
    assert (
        "deployment: alias 'live': CANARY 10% for 10 min, then 100%; full rollout at most 10 min"
        in out
    )
    assert "rolls back on: " in out
    assert "(ExecutionsFailed)" in out
    assert main(["inspect", str(path), "--json"]) == 0
    (report,) = json.loads(capsys.readouterr().out)
    assert report["deployments"][0]["worst_case_minutes"] == 10
    assert len(report["deployments"][0]["alarms"]) == 3


# -- malformed input, property-tested --------------------------------------------------------
def test_malformed_deployments_are_refused_by_name() -> None:
    """200 cases per constructor: each builds a valid Deployment or raises LambdalessError
    naming an argument the case set; nothing else (no jsii or type error)."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    junk = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(10**6), 10**6),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=12),
        st.lists(st.integers(), max_size=2),
    )
    durations = st.one_of(
        st.builds(
            lambda kind, n: getattr(cdk.Duration, kind)(n),
            st.sampled_from(["seconds", "minutes", "hours", "millis"]),
            st.integers(0, 10**5),
        ),
        junk,
    )
    alarms = st.one_of(
        junk,
        st.lists(
            st.one_of(
                st.sampled_from(
                    ["errors", "arn:aws:cloudwatch:us-east-1:1:alarm:x", "", "x" * 300]
                ),
                junk,
            ),
            max_size=3,
        ),
    )
    names = st.one_of(st.sampled_from(["live", "prod-2", "7", "a b", "x" * 81]), junk)
    counts = {"built": 0, "refused": 0}

    @settings(
        max_examples=200,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(
        strategy=st.sampled_from(["canary", "linear", "all_at_once"]),
        kwargs=st.fixed_dictionaries(
            {"percent": st.one_of(st.integers(-5, 105), junk), "interval": durations},
            optional={"alias_name": names, "alarms": alarms},
        ),
    )
    def case(strategy: str, kwargs: dict[str, Any]) -> None:
        if strategy == "all_at_once":
            kwargs = {k: v for k, v in kwargs.items() if k in ("alias_name", "alarms")}
        message = ""
        try:
            deployment = getattr(Deployment, strategy)(**kwargs)
        except LambdalessError as error:
            message = str(error)
        if message:
            assert any(name in message for name in kwargs), (message, kwargs)
            counts["refused"] += 1
        else:
            assert deployment.worst_case_minutes >= 0
            counts["built"] += 1

    case()
    assert counts["built"] > 0
    assert counts["refused"] > 0


def test_redrive_matches_executions_started_through_the_alias(stack: cdk.Stack) -> None:
    from lambdaless import Redrive

    workflow = build(stack, STRATEGIES["canary"]())
    Redrive(stack, "Redrive", workflow=workflow)
    template = Template.from_stack(stack).to_json()
    (rule,) = of_type(template, "AWS::Events::Rule").values()
    machine_id = stack.get_logical_id(workflow.state_machine.node.default_child)  # type: ignore[arg-type]
    assert rule["Properties"]["EventPattern"]["detail"]["stateMachineArn"] == [
        {"Ref": machine_id},
        {"prefix": {"Fn::Join": ["", [{"Ref": machine_id}, ":"]]}},
    ]


def test_workflow_grants_start_through_the_alias() -> None:
    statements = []
    for deployment, express, grant in (
        (STRATEGIES["canary"](), False, Workflow.grant_start_execution),
        (STRATEGIES["linear"](), True, Workflow.grant_start_sync_execution),
        (None, False, Workflow.grant_start_execution),
    ):
        owner = cdk.Stack(cdk.App(), "Owner")
        workflow = build(owner, deployment, express=express)
        caller = iam.Role(owner, "Caller", assumed_by=iam.AccountRootPrincipal())
        grant(workflow, caller)
        policies = of_type(Template.from_stack(owner).to_json(), "AWS::IAM::Policy")
        (policy,) = [
            p for p in policies.values() if "Caller" in json.dumps(p["Properties"]["Roles"])
        ]
        statements.append(policy["Properties"]["PolicyDocument"]["Statement"])
    alias_only = {"StringEquals": {"states:StateMachineQualifier": "live"}}
    assert statements[0][0]["Action"] == "states:StartExecution"
    assert statements[0][0]["Condition"] == alias_only
    assert statements[1][0]["Action"] == "states:StartSyncExecution"
    assert statements[1][0]["Condition"] == alias_only
    assert "Condition" not in statements[2][0]  # no alias: the state machine itself
