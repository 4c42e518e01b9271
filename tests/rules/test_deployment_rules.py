"""The deployment rules: each refuses what AWS refuses and accepts the edges it allows."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from tests.rules._support import accepted, refused

from lambdaless import BedrockModel, Deployment, InvokeBedrock, Workflow

MINUTES = cdk.Duration.minutes


def test_percentage() -> None:
    for bad in (0, 100, -1, True, 7.5, "10"):
        refused(
            "deployment-percentage",
            lambda bad=bad: Deployment.canary(percent=bad, interval=MINUTES(5)),
            argument="percent",
            value=bad,
        )
    accepted(lambda: Deployment.linear(percent=1, interval=MINUTES(5)))
    accepted(lambda: Deployment.canary(percent=99, interval=MINUTES(5)))


def test_interval() -> None:
    for bad in (MINUTES(0), MINUTES(2101), cdk.Duration.seconds(90), cdk.Duration.millis(10), 10):
        refused(
            "deployment-interval",
            lambda bad=bad: Deployment.linear(percent=10, interval=bad),
            argument="interval",
        )
    accepted(lambda: Deployment.canary(percent=10, interval=MINUTES(1)))
    accepted(lambda: Deployment.canary(percent=10, interval=cdk.Duration.hours(35)))


def test_alarm_name() -> None:
    arn = "arn:aws:cloudwatch:us-east-1:111122223333:alarm:Errors"
    error = refused(
        "deployment-alarm-name",
        lambda: Deployment.all_at_once(alarms=[arn]),
        argument="alarms[0]",
        value=arn,
    )
    assert "'Errors'" in str(error)
    for bad in ("", "x" * 257, 42, None):
        refused(
            "deployment-alarm-name",
            lambda bad=bad: Deployment.all_at_once(alarms=["ok", bad]),
            argument="alarms[1]",
        )
    accepted(lambda: Deployment.all_at_once(alarms=["Errors", "x" * 256]))
    stack = cdk.Stack(cdk.App(), "S")
    alarm = cloudwatch.Alarm.from_alarm_arn(stack, "A", arn)
    accepted(lambda: Deployment.all_at_once(alarms=[alarm]))


def test_alias_name() -> None:
    for bad in ("42", "", "a b", "x" * 81, "live:1", None):
        refused(
            "deployment-alias-name",
            lambda bad=bad: Deployment.all_at_once(alias_name=bad),
            argument="alias_name",
        )
    for good in ("live", "PROD", "v2", "blue-green_1.0", "x" * 80):
        accepted(lambda good=good: Deployment.all_at_once(alias_name=good))


def test_alarms() -> None:
    def build(*, alarms: bool, extra: list[str]) -> Workflow:
        stack = cdk.Stack(cdk.App(), "S")
        step = InvokeBedrock(
            stack, "Ask", model=BedrockModel.of("amazon.nova-lite-v1:0"), prompt="hi"
        )
        return Workflow(
            stack,
            "W",
            definition=step,
            alarms=alarms,
            deployment=Deployment.all_at_once(alarms=extra),
        )

    refused("deployment-alarms", lambda: build(alarms=False, extra=[]), argument="deployment")
    refused(
        "deployment-alarms",
        lambda: build(alarms=True, extra=[f"a{i}" for i in range(98)]),  # 3 own + 98
        argument="alarms",
        value="101 alarms",
    )
    accepted(lambda: build(alarms=True, extra=[f"a{i}" for i in range(97)]))
    accepted(lambda: build(alarms=False, extra=["errors-elsewhere"]))
