"""Gradual deployments read back from a synthesized template (no aws-cdk-lib).

A :class:`~lambdaless.Workflow` with ``deployment=`` publishes an
``AWS::StepFunctions::StateMachineVersion`` of its state machine and points an
``AWS::StepFunctions::StateMachineAlias`` at it through ``DeploymentPreference``. This module
finds that pair for one state machine and says what CloudFormation will do with it
(CloudFormation User Guide, "aws-properties-stepfunctions-statemachinealias-deploymentpreference"
and "aws-resource-stepfunctions-statemachinealias"):

* ``CANARY``: ``Percentage`` of executions go to the new version, the rest after ``Interval``
  minutes if no alarm fired;
* ``LINEAR``: ``Percentage`` more every ``Interval`` minutes until 100%;
* ``ALL_AT_ONCE``: 100% at once; CloudFormation still rolls back if an alarm fires.

Any alarm in ``Alarms`` (names, not ARNs) entering ``ALARM`` rolls the alias back.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

VERSION_TYPE = "AWS::StepFunctions::StateMachineVersion"
ALIAS_TYPE = "AWS::StepFunctions::StateMachineAlias"
ALARM_TYPE = "AWS::CloudWatch::Alarm"
#: The strategies ``DeploymentPreference.Type`` accepts.
STRATEGIES = ("CANARY", "LINEAR", "ALL_AT_ONCE")


def worst_case_minutes(strategy: str, percent: int | None, interval_minutes: int | None) -> int:
    """Minutes until the new version takes all traffic, when no alarm fires (an upper bound).

    CANARY waits one interval; LINEAR shifts ``percent`` per interval, so at most
    ``ceil(100 / percent)`` intervals; ALL_AT_ONCE shifts at once.
    """
    if strategy == "CANARY":
        return interval_minutes or 0
    if strategy == "LINEAR":
        return math.ceil(100 / (percent or 100)) * (interval_minutes or 0)
    return 0


def describe_minutes(minutes: int) -> str:
    """``95 min (1 h 35 min)`` style."""
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{minutes:,} min ({hours} h" + (f" {rest} min)" if rest else ")")


@dataclass(frozen=True)
class AliasRollout:
    """How one state machine's alias moves to a new version."""

    alias: str
    version_logical_id: str
    strategy: str
    percent: int | None
    interval_minutes: int | None
    #: the guarding alarms, as :func:`alarm_label` shows them
    alarms: tuple[str, ...]

    @property
    def worst_case_minutes(self) -> int:
        """Minutes to full rollout when no alarm fires."""
        return worst_case_minutes(self.strategy, self.percent, self.interval_minutes)

    def describe(self) -> str:
        """One line: strategy, steps and worst-case time."""
        if self.strategy == "CANARY":
            how = f"CANARY {self.percent}% for {self.interval_minutes} min, then 100%"
        elif self.strategy == "LINEAR":
            how = f"LINEAR +{self.percent}% every {self.interval_minutes} min"
        else:
            how = "ALL_AT_ONCE"
        return (
            f"alias {self.alias!r}: {how}; full rollout at most "
            f"{describe_minutes(self.worst_case_minutes)}"
        )


def _refers_to(value: Any, logical_id: str) -> bool:
    if isinstance(value, Mapping):
        if value.get("Ref") == logical_id:
            return True
        att = value.get("Fn::GetAtt")
        if isinstance(att, list) and att and att[0] == logical_id:
            return True
        return any(_refers_to(v, logical_id) for v in value.values())
    if isinstance(value, list):
        return any(_refers_to(v, logical_id) for v in value)
    return False


def alarm_label(value: Any, resources: Mapping[str, Any]) -> str:
    """An entry of ``Alarms`` for people: a literal name as is; a ``Ref`` to an alarm of the
    template as its ``AlarmName`` (or logical id, when CloudFormation names it) and metric."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and isinstance(value.get("Ref"), str):
        target = resources.get(value["Ref"], {})
        props = target.get("Properties", {})
        name = props.get("AlarmName")
        label = name if isinstance(name, str) else value["Ref"]
        metric = props.get("MetricName")
        if target.get("Type") != ALARM_TYPE:
            return f"{label} (not an alarm!)"
        return f"{label} ({metric})" if isinstance(metric, str) else label
    return json.dumps(value)


def rollouts(template: Mapping[str, Any], state_machine: str) -> list[AliasRollout]:
    """The aliases that shift traffic between versions of the state machine ``state_machine``
    (a logical id) through ``DeploymentPreference``."""
    resources: Mapping[str, Any] = template.get("Resources", {})
    versions = {
        logical_id
        for logical_id, resource in resources.items()
        if resource.get("Type") == VERSION_TYPE
        and _refers_to(resource.get("Properties", {}).get("StateMachineArn"), state_machine)
    }
    found = []
    for resource in resources.values():
        if resource.get("Type") != ALIAS_TYPE:
            continue
        props = resource.get("Properties", {})
        preference = props.get("DeploymentPreference") or {}
        target = next(
            (v for v in versions if _refers_to(preference.get("StateMachineVersionArn"), v)), None
        )
        if target is None:
            continue
        found.append(
            AliasRollout(
                alias=str(props.get("Name", "")),
                version_logical_id=target,
                strategy=str(preference.get("Type", "")),
                percent=preference.get("Percentage"),
                interval_minutes=preference.get("Interval"),
                alarms=tuple(alarm_label(a, resources) for a in preference.get("Alarms") or []),
            )
        )
    return found
