"""Safe rollouts: a state machine version per definition change and an alias that moves to it
gradually, rolling back on alarms.

``Workflow(..., deployment=Deployment.canary(percent=10, interval=Duration.minutes(10)))``
adds a :class:`Rollout`:

* an ``AWS::StepFunctions::StateMachineVersion`` of the state machine, published from the
  revision just deployed (``StateMachineRevisionId`` is the state machine's own
  ``StateMachineRevisionId``). Its logical id ends in a hash of what makes a revision, the
  definition and configuration ("A revision is an immutable, read-only snapshot of a state
  machine's definition and configuration", CloudFormation User Guide,
  "aws-resource-stepfunctions-statemachineversion"; Step Functions developer guide,
  "concepts-cd-aliasing-versioning"): an unchanged app synthesizes the same
  resource, so CloudFormation publishes nothing; a changed prompt changes the logical id, so
  CloudFormation creates (publishes) a new version. Old versions are retained, not deleted:
  the same page warns that executions may still reference them, and Step Functions deletes all
  versions and aliases with the state machine ("auth-version-alias"). A state machine holds at
  most 1,000 versions;
* an ``AWS::StepFunctions::StateMachineAlias`` (``live`` by default) whose
  ``DeploymentPreference`` shifts executions from the version it points to to the new one:
  ``CANARY``, ``LINEAR`` or ``ALL_AT_ONCE``, ``Percentage`` 1-99, ``Interval`` 1-2,100 minutes,
  rolling back when any of ``Alarms`` enters ``ALARM`` (CloudFormation User Guide,
  "aws-properties-stepfunctions-statemachinealias-deploymentpreference").
  ``RoutingConfiguration`` and ``DeploymentPreference`` are mutually exclusive ("aws-resource-
  stepfunctions-statemachinealias"): lambdaless writes only the latter.

``Alarms`` takes alarm **names**: CloudWatch treats an alarm that does not exist as ``OK``, so an
ARN or a misspelt name silently disables the rollback. lambdaless writes the workflow's own
execution alarms (failed, timed out, aborted) by ``Ref``, which CloudFormation resolves to the
name, and refuses ARNs. The Bedrock throttle alarms do not guard a rollout: they count every
caller of the model in the account and region, so another application's burst would roll back
a good version.

Starting executions through the alias: Step Functions authorizes a version or alias with the
state machine's own (unqualified) ARN, and the ``states:StateMachineQualifier`` condition key
scopes a grant to one alias (Step Functions developer guide, "auth-version-alias");
:meth:`Rollout.grant_start_execution` writes exactly that. Executions started with the alias
ARN (``arn:<partition>:states:<region>:<account>:stateMachine:<name>:<alias>``) run the
version the alias routes them to ("execution-alias-version-associate").
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct, Node

from lambdaless._errors import require
from lambdaless.analysis.rollout import worst_case_minutes
from lambdaless.monitoring import WorkflowMonitoring
from lambdaless.rules import deployments as rules


class Deployed(Protocol):
    """What a rollout reads of its workflow: a :class:`~lambdaless.Workflow` (typed by what it
    offers, so that this module does not import the one that creates it)."""

    @property
    def node(self) -> Node:
        """The workflow's construct node (its path names the rollout)."""
        ...

    @property
    def state_machine(self) -> sfn.StateMachine:
        """The state machine that is versioned."""
        ...

    @property
    def monitoring(self) -> WorkflowMonitoring | None:
        """The workflow's alarms, which guard the rollout."""
        ...


DEFAULT_ALIAS = "live"
#: The workflow's own alarms that guard a rollout (see the module docstring).
GUARDING_ALARMS = ("failed", "timed_out", "aborted")

AlarmLike = cloudwatch.IAlarm | str


@dataclass(frozen=True)
class Deployment:
    """How a :class:`~lambdaless.Workflow`'s alias moves to a new version. Build one with
    :meth:`canary`, :meth:`linear` or :meth:`all_at_once`."""

    strategy: str
    percent: int | None
    interval_minutes: int | None
    alias_name: str
    alarms: tuple[AlarmLike, ...]

    @classmethod
    def canary(
        cls,
        *,
        percent: int,
        interval: cdk.Duration,
        alias_name: str = DEFAULT_ALIAS,
        alarms: Sequence[AlarmLike] = (),
    ) -> Deployment:
        """``percent`` of executions run the new version for ``interval``, then all of them.

        Args:
            percent: the canary's share of executions, 1 to 99.
            interval: how long the canary runs before the rest moves, in whole minutes from
                1 to 2,100.
            alias_name: the alias executions start through; ``live`` by default.
            alarms: alarms (``aws_cloudwatch.IAlarm`` or alarm names, never ARNs) that roll
                the deployment back, besides the workflow's own; none by default.
        """
        return cls._make("CANARY", percent, interval, alias_name, alarms)

    @classmethod
    def linear(
        cls,
        *,
        percent: int,
        interval: cdk.Duration,
        alias_name: str = DEFAULT_ALIAS,
        alarms: Sequence[AlarmLike] = (),
    ) -> Deployment:
        """``percent`` more of the executions move to the new version every ``interval``.

        Args:
            percent: the share added at each step, 1 to 99.
            interval: the time between steps, in whole minutes from 1 to 2,100.
            alias_name: the alias executions start through; ``live`` by default.
            alarms: extra alarms that roll the deployment back (names or ``IAlarm``); none by
                default.
        """
        return cls._make("LINEAR", percent, interval, alias_name, alarms)

    @classmethod
    def all_at_once(
        cls, *, alias_name: str = DEFAULT_ALIAS, alarms: Sequence[AlarmLike] = ()
    ) -> Deployment:
        """All executions move to the new version at once; CloudFormation still rolls back if
        an alarm fires during the deployment.

        Args:
            alias_name: the alias executions start through; ``live`` by default.
            alarms: extra alarms that roll the deployment back (names or ``IAlarm``); none by
                default.
        """
        return cls._make("ALL_AT_ONCE", None, None, alias_name, alarms)

    @classmethod
    def _make(
        cls,
        strategy: str,
        percent: Any,
        interval: Any,
        alias_name: Any,
        alarms: Any,
    ) -> Deployment:
        minutes: int | None = None
        if strategy != "ALL_AT_ONCE":
            percent = rules.check_percent(percent)
            minutes = rules.check_interval(interval)
        rules.check_alias_name(alias_name)
        require(
            isinstance(alarms, list | tuple), "alarms", alarms, "a list of alarms or alarm names"
        )
        for index, alarm in enumerate(alarms):
            rules.check_alarm(f"alarms[{index}]", alarm)
        return cls(strategy, percent, minutes, alias_name, tuple(alarms))

    @property
    def worst_case_minutes(self) -> int:
        """Minutes until the new version takes every execution, if no alarm fires."""
        return worst_case_minutes(self.strategy, self.percent, self.interval_minutes)


def _digest(machine: sfn.StateMachine) -> str:
    """A hash of the state machine's definition and configuration, as CloudFormation gets them."""
    cfn = machine.node.default_child
    assert isinstance(cfn, sfn.CfnStateMachine)
    stack = cdk.Stack.of(machine)
    revision = {
        "definition": cfn.definition_string,
        "substitutions": cfn.definition_substitutions,
        "role": cfn.role_arn,
        "type": cfn.state_machine_type,
        "logging": cfn.logging_configuration,
        "tracing": cfn.tracing_configuration,
        "encryption": cfn.encryption_configuration,
    }
    text = json.dumps(stack.resolve(revision), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class Rollout(Construct):
    """The version and alias of a :class:`~lambdaless.Workflow` with ``deployment=``.

    Attributes:
        deployment: the :class:`Deployment`.
        version: the ``CfnStateMachineVersion`` of the current definition.
        alias: the ``CfnStateMachineAlias`` executions start through.
        alias_arn: ``arn:...:stateMachine:<name>:<alias>``, what callers pass to
            ``StartExecution``.
        alarm_names: the names (or ``Ref`` tokens) in ``DeploymentPreference.Alarms``.
        digest: the hash of the definition and configuration in the version's logical id.
    """

    def __init__(
        self, scope: Construct, id: str, *, workflow: Deployed, deployment: Deployment
    ) -> None:
        """
        Args:
            workflow: the workflow whose state machine is versioned.
            deployment: how its alias moves to a new version.
        """
        super().__init__(scope, id)
        require(
            isinstance(deployment, Deployment),
            "deployment",
            deployment,
            "Deployment.canary(...), Deployment.linear(...) or Deployment.all_at_once(...)",
        )
        own = workflow.monitoring.alarms if workflow.monitoring is not None else {}
        alarms = [own[key] for key in GUARDING_ALARMS if key in own] + list(deployment.alarms)
        rules.check_alarm_count(workflow.node.path, deployment.strategy, len(alarms))
        self.deployment = deployment
        self.alarm_names: list[str] = [a if isinstance(a, str) else a.alarm_name for a in alarms]
        machine = workflow.state_machine
        cfn = machine.node.default_child
        assert isinstance(cfn, sfn.CfnStateMachine)
        self.digest = _digest(machine)
        self.version = sfn.CfnStateMachineVersion(
            self,
            f"Version{self.digest}",
            state_machine_arn=machine.state_machine_arn,
            state_machine_revision_id=cfn.attr_state_machine_revision_id,
            description=f"lambdaless: definition and configuration sha256 {self.digest}",
        )
        self.version.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        self.alias = sfn.CfnStateMachineAlias(
            self,
            "Alias",
            name=deployment.alias_name,
            description=f"{deployment.strategy} rollout of {workflow.node.path}",
            deployment_preference=sfn.CfnStateMachineAlias.DeploymentPreferenceProperty(
                state_machine_version_arn=self.version.attr_arn,
                type=deployment.strategy,
                percentage=deployment.percent,
                interval=deployment.interval_minutes,
                alarms=self.alarm_names,
            ),
        )
        self.alias_arn = f"{machine.state_machine_arn}:{deployment.alias_name}"
        self._state_machine_arn = machine.state_machine_arn

    def grant_start_execution(
        self, grantee: iam.IGrantable, action: str = "states:StartExecution"
    ) -> iam.Grant:
        """Let ``grantee`` start executions through the alias only: ``action`` on the state
        machine's ARN with ``states:StateMachineQualifier`` equal to the alias name (AWS docs,
        "auth-version-alias"); starting the unqualified state machine or a version stays
        denied."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=[action],
            resource_arns=[self._state_machine_arn],
            conditions={
                "StringEquals": {"states:StateMachineQualifier": self.deployment.alias_name}
            },
        )
