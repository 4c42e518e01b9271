"""Rules about gradual deployments through a state machine alias (``Workflow(deployment=)``)."""

from __future__ import annotations

import re
from typing import Any

import aws_cdk as cdk

from lambdaless.rules._rule import Rule

_PREFERENCE = (
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/"
    "aws-properties-stepfunctions-statemachinealias-deploymentpreference.html"
)
PERCENTAGE = Rule(
    "deployment-percentage",
    "a canary or linear deployment's percentage outside 1 to 99 (DeploymentPreference.Percentage)",
    _PREFERENCE,
    "construct",
)
INTERVAL = Rule(
    "deployment-interval",
    "a canary or linear deployment's interval that is not a whole number of minutes from 1 to "
    "2,100 (DeploymentPreference.Interval)",
    _PREFERENCE,
    "construct",
)
ALARM_NAME = Rule(
    "deployment-alarm-name",
    "a rollback alarm given by ARN, or not an alarm or alarm name: CloudWatch treats an unknown "
    "alarm as OK, so the deployment would never roll back (DeploymentPreference.Alarms)",
    _PREFERENCE,
    "construct",
)
ALIAS_NAME = Rule(
    "deployment-alias-name",
    "an alias name that is not 1 to 80 letters, digits, '-', '_' or '.', or is a bare number "
    "(which reads as a version)",
    "https://docs.aws.amazon.com/step-functions/latest/apireference/API_CreateStateMachineAlias.html",
    "construct",
)
ALARMS = Rule(
    "deployment-alarms",
    "a deployment with no alarm to roll back on (alarms=False and no alarms=[...]), or with "
    "more than 100 alarms (DeploymentPreference.Alarms)",
    _PREFERENCE,
    "synth",
)
RULES: tuple[Rule, ...] = (PERCENTAGE, INTERVAL, ALARM_NAME, ALIAS_NAME, ALARMS)

PERCENT_RANGE = (1, 99)
INTERVAL_MINUTES_RANGE = (1, 2100)
MAX_ALARMS = 100
MAX_ALARM_NAME = 256
_ALIAS = re.compile(r"^(?=.*[A-Za-z_.\-])[A-Za-z0-9_.\-]{1,80}$")


def check_percent(percent: Any) -> int:
    """``percent``: an integer from 1 to 99."""
    low, high = PERCENT_RANGE
    PERCENTAGE.require(
        isinstance(percent, int) and not isinstance(percent, bool) and low <= percent <= high,
        "percent",
        percent,
        f"an integer from {low} to {high}",
    )
    return int(percent)


def check_interval(interval: Any) -> int:
    """``interval``: an ``aws_cdk.Duration`` of whole minutes from 1 to 2,100; in minutes."""
    low, high = INTERVAL_MINUTES_RANGE
    allowed = f"an aws_cdk.Duration of whole minutes from {low} to {high:,}"
    to_seconds = getattr(interval, "to_seconds", None)
    INTERVAL.require(callable(to_seconds), "interval", interval, allowed)
    assert to_seconds is not None
    seconds = float(to_seconds(integral=False))
    INTERVAL.require(
        seconds % 60 == 0 and low * 60 <= seconds <= high * 60,
        "interval",
        f"{seconds / 60:g} minutes",
        allowed,
    )
    return int(seconds // 60)


def check_alias_name(name: Any) -> str:
    """``alias_name``: 1-80 of ``[A-Za-z0-9_.-]``, not only digits."""
    ALIAS_NAME.require(
        isinstance(name, str) and bool(_ALIAS.match(name)),
        "alias_name",
        name,
        "1 to 80 letters, digits, '-', '_' or '.', not only digits",
    )
    return str(name)


def check_alarm(argument: str, alarm: Any) -> None:
    """One rollback alarm: an ``aws_cloudwatch.IAlarm`` or an alarm name, never an ARN."""
    if isinstance(alarm, str):
        if cdk.Token.is_unresolved(alarm):
            return
        if alarm.startswith("arn:"):
            raise ALARM_NAME.refuse(
                argument,
                alarm,
                "an alarm name, not an ARN: CloudWatch treats an unknown alarm as OK, so the "
                f"deployment would never roll back (the name here is {alarm.split(':')[-1]!r})",
            )
        ALARM_NAME.require(
            1 <= len(alarm) <= MAX_ALARM_NAME,
            argument,
            alarm,
            f"an alarm name of 1 to {MAX_ALARM_NAME} characters",
        )
        return
    ALARM_NAME.require(
        hasattr(alarm, "alarm_name") and hasattr(alarm, "alarm_arn"),
        argument,
        alarm,
        "an aws_cloudwatch.IAlarm or an alarm name",
    )


def check_alarm_count(workflow_path: str, strategy: str, count: int) -> None:
    """A deployment needs 1 to 100 alarms in all."""
    ALARMS.require(
        count >= 1,
        "deployment",
        strategy,
        f"at least one alarm to roll back on for workflow {workflow_path!r}: keep alarms=True "
        "(the default) or pass Deployment.<strategy>(..., alarms=[...])",
    )
    ALARMS.require(
        count <= MAX_ALARMS,
        "alarms",
        f"{count} alarms",
        f"at most {MAX_ALARMS} alarms in all",
    )
