"""``WorkflowMonitoring``: alarms and a dashboard for one :class:`~lambdaless.Workflow`.

``Workflow`` creates one by default (``alarms=True``). It holds:

* four execution alarms on the ``AWS/States`` metrics of the state machine (AWS docs, "Monitoring
  Step Functions metrics using Amazon CloudWatch"): ``ExecutionsFailed``, ``ExecutionsTimedOut``,
  ``ExecutionThrottled`` and ``ExecutionsAborted``, each raised by one occurrence in a period;
* one alarm per Bedrock model the workflow calls, on ``AWS/Bedrock`` ``InvocationThrottles``
  with dimension ``ModelId`` (AWS docs, "Monitor bedrock-runtime inference using CloudWatch
  metrics"). Bedrock's metrics are per account and region, not per workflow: the alarm also
  counts other callers of the model. Throttles the steps retry successfully count too, so the
  threshold defaults to a sustained rate, not one occurrence;
* an optional SNS topic notified when any alarm fires and when it recovers;
* with ``dashboard=True`` (``Workflow(dashboard=True)``), a CloudWatch dashboard: executions,
  duration, alarms, and Bedrock calls per model. Off by default: each dashboard is billed per
  month (AWS docs, "Amazon CloudWatch pricing"), and the alarms need none.

The models come from the synthesized definition (``Workflow.definition()``): every
``bedrock:invokeModel`` and ``aws-sdk:bedrockruntime:converse`` Task whose ``ModelId`` is
literal. A ``ModelId`` computed at run time (a JSONata expression) cannot be alarmed on by name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from lambdaless._errors import LambdalessError, at_path, require, require_type
from lambdaless.analysis.asl import iter_states

#: Task resources that call a Bedrock model, and the field naming it.
_BEDROCK_RESOURCES = re.compile(
    r":states:::(bedrock:invokeModel|aws-sdk:bedrockruntime:(converse|converseStream))$"
)
# Foundation models and system profiles report their id as the ModelId dimension; application
# profiles and provisioned models are kept as the ARN the Task passes.
_ID_FROM_ARN = re.compile(r":(foundation-model|inference-profile)/(?P<id>[^/]+)$")
BEDROCK_NAMESPACE = "AWS/Bedrock"
DEFAULT_PERIOD = cdk.Duration.minutes(5)


class Monitored(Protocol):
    """What monitoring reads of a workflow: a :class:`~lambdaless.Workflow` (typed by what it
    offers, so that this module does not import the one that creates it)."""

    @property
    def state_machine(self) -> sfn.StateMachine:
        """The state machine whose metrics are watched."""
        ...

    def definition(self) -> dict[str, Any]:
        """The synthesized ASL, read for the Bedrock models it calls."""
        ...


def bedrock_model_ids(definition: Mapping[str, Any]) -> list[str]:
    """The ``ModelId`` dimension values of every Bedrock call in an ASL definition, in order."""
    found: list[str] = []
    for _, _, state in iter_states(definition):
        if state.get("Type") != "Task" or not _BEDROCK_RESOURCES.search(
            str(state.get("Resource", ""))
        ):
            continue
        fields = state.get("Arguments") or state.get("Parameters") or {}
        model = fields.get("ModelId") if isinstance(fields, Mapping) else None
        if not isinstance(model, str) or model.startswith("{%") or "${" in model.split("/")[-1]:
            continue  # computed at run time, or a reference resolved only at deploy time
        match = _ID_FROM_ARN.search(model)
        model_id = match["id"] if match else model
        if model_id not in found:
            found.append(model_id)
    return found


class WorkflowMonitoring(Construct):
    """Execution and Bedrock throttle alarms, an optional topic, and an optional dashboard.

    Attributes:
        alarms: every alarm, by name (``failed``, ``timed_out``, ``throttled``, ``aborted``,
            ``bedrock_throttles:<model id>``).
        dashboard: the CloudWatch dashboard, or ``None`` (the default, ``dashboard=False``).
        model_ids: the Bedrock models alarmed on.
    """

    @at_path
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        workflow: Monitored,
        topic: sns.ITopic | None = None,
        period: cdk.Duration = DEFAULT_PERIOD,
        bedrock_throttle_threshold: int = 10,
        model_ids: Sequence[str] | None = None,
        dashboard: bool = False,
        dashboard_name: str | None = None,
    ) -> None:
        """
        Args:
            workflow: the workflow to watch.
            topic: an SNS topic told when an alarm fires and when it recovers; none by default
                (the alarms are visible in the console and on the dashboard). An encrypted
                topic's key must let CloudWatch use it: a ``kms.Key`` of this app gets the
                grant, an AWS-managed key (``alias/aws/sns``) or an imported key is refused
                (see :func:`allow_cloudwatch_to_use_topic_key`).
            period: the evaluation period of every alarm; five minutes by default.
            bedrock_throttle_threshold: throttled Bedrock calls per period (all callers of the
                model in the account and region) that raise the model's alarm; 10 by default.
            model_ids: the ``ModelId`` dimension values to alarm on; by default those read
                from the workflow's definition.
            dashboard: add a CloudWatch dashboard; off by default.
            dashboard_name: the dashboard's name (with ``dashboard=True``); CloudFormation
                generates one by default.
        """
        super().__init__(scope, id)
        seconds = period.to_seconds(integral=False) if isinstance(period, cdk.Duration) else 0
        require(
            seconds % 60 == 0 and 60 <= seconds <= 86_400,
            "period",
            period,
            "an aws_cdk.Duration of whole minutes, from 1 minute to 1 day",
        )
        require(
            isinstance(bedrock_throttle_threshold, int)
            and not isinstance(bedrock_throttle_threshold, bool)
            and bedrock_throttle_threshold >= 1,
            "bedrock_throttle_threshold",
            bedrock_throttle_threshold,
            "an integer of at least 1",
        )
        require(
            topic is None or hasattr(topic, "topic_arn"),
            "topic",
            topic,
            "None or an aws_sns.ITopic",
        )
        require(
            model_ids is None or isinstance(model_ids, list | tuple),
            "model_ids",
            model_ids,
            "None or a list of Bedrock model ids",
        )
        require_type(dashboard, bool, "dashboard", "True or False")
        require_type(
            dashboard_name, (str, type(None)), "dashboard_name", "None or a dashboard name"
        )
        require(
            dashboard or dashboard_name is None,
            "dashboard_name",
            dashboard_name,
            "None when dashboard=False",
        )
        ids = list(model_ids) if model_ids is not None else bedrock_model_ids(workflow.definition())
        require(
            all(isinstance(m, str) and m for m in ids),
            "model_ids",
            ids,
            "Bedrock model ids, profile ids or ARNs",
        )
        self.model_ids = ids
        machine = workflow.state_machine
        executions = {
            "failed": (machine.metric_failed(period=period), "Executions failed"),
            "timed_out": (machine.metric_timed_out(period=period), "Executions timed out"),
            "throttled": (
                machine.metric_throttled(period=period),
                "StartExecution calls throttled by Step Functions",
            ),
            "aborted": (machine.metric_aborted(period=period), "Executions aborted"),
        }
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        for name, (metric, what) in executions.items():
            self.alarms[name] = self._alarm(name, metric, 1, f"{what} in {_minutes(period)}.")
        self._throttle_metrics: dict[str, cloudwatch.Metric] = {}
        for index, model_id in enumerate(ids):
            metric = self.metric_bedrock("InvocationThrottles", model_id, period=period)
            self._throttle_metrics[model_id] = metric
            self.alarms[f"bedrock_throttles:{model_id}"] = self._alarm(
                f"BedrockThrottles{index}",
                metric,
                bedrock_throttle_threshold,
                f"Bedrock throttled {model_id} at least {bedrock_throttle_threshold} times in "
                f"{_minutes(period)} (all callers in this account and region); the workflow's "
                "steps retry throttles, so executions fail only if this persists.",
            )
        if topic is not None:
            allow_cloudwatch_to_use_topic_key(topic)
            action = actions.SnsAction(topic)
            for alarm in self.alarms.values():
                alarm.add_alarm_action(action)
                alarm.add_ok_action(action)
        self.dashboard: cloudwatch.Dashboard | None = (
            self._dashboard(workflow, period, dashboard_name) if dashboard else None
        )

    @staticmethod
    def metric_bedrock(
        metric_name: str, model_id: str, *, period: cdk.Duration = DEFAULT_PERIOD
    ) -> cloudwatch.Metric:
        """An ``AWS/Bedrock`` runtime metric of one model (summed over ``period``)."""
        return cloudwatch.Metric(
            namespace=BEDROCK_NAMESPACE,
            metric_name=metric_name,
            dimensions_map={"ModelId": model_id},
            statistic="Sum" if metric_name != "InvocationLatency" else "p90",
            period=period,
        )

    def _alarm(
        self, name: str, metric: cloudwatch.IMetric, threshold: int, description: str
    ) -> cloudwatch.Alarm:
        construct_id = "".join(part.capitalize() for part in name.split("_"))
        return cloudwatch.Alarm(
            self,
            construct_id,
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )

    def _dashboard(
        self, workflow: Monitored, period: cdk.Duration, name: str | None
    ) -> cloudwatch.Dashboard:
        machine = workflow.state_machine
        dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=name)
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Executions",
                left=[
                    machine.metric_started(period=period),
                    machine.metric_succeeded(period=period),
                    machine.metric_failed(period=period),
                    machine.metric_timed_out(period=period),
                    machine.metric_aborted(period=period),
                    machine.metric_throttled(period=period),
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Execution time",
                left=[
                    machine.metric_time(period=period, statistic="p50"),
                    machine.metric_time(period=period, statistic="p99"),
                ],
                width=12,
            ),
        )
        dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(alarms=list(self.alarms.values()), width=24)
        )
        if self.model_ids:
            dashboard.add_widgets(
                cloudwatch.GraphWidget(
                    title="Bedrock invocations and throttles (account-wide, per model)",
                    left=[
                        self.metric_bedrock(metric, model_id, period=period)
                        for model_id in self.model_ids
                        for metric in ("Invocations", "InvocationThrottles")
                    ],
                    width=12,
                ),
                cloudwatch.GraphWidget(
                    title="Bedrock latency p90 (ms)",
                    left=[
                        self.metric_bedrock("InvocationLatency", model_id, period=period)
                        for model_id in self.model_ids
                    ],
                    width=12,
                ),
            )
        return dashboard


#: What CloudWatch needs on an encrypted topic's key to publish alarm notifications (SNS
#: developer guide, "sns-key-management", compatibility with AWS services: kms:Decrypt and
#: kms:GenerateDataKey*; the one GenerateDataKey action SNS calls to encrypt a message, written
#: out so that no policy holds a wildcard action).
CLOUDWATCH_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")
CLOUDWATCH_PRINCIPAL = "cloudwatch.amazonaws.com"


def allow_cloudwatch_to_use_topic_key(topic: sns.ITopic) -> None:
    """Let CloudWatch alarms publish to ``topic`` when it is encrypted with a KMS key.

    * no key, or a topic imported without one (``Topic.from_topic_arn``): nothing to do;
    * an AWS-managed key (``alias/aws/sns``): refused, its key policy cannot be changed, so
      CloudWatch could never use it and every alarm notification would be lost;
    * a ``kms.Key`` of this app (or an ``Alias`` of one): its key policy gets the statement;
    * an imported key: refused, with the statement to add to its policy by hand.
    """
    key = getattr(topic, "master_key", None)
    if key is None:
        return
    target = getattr(key, "alias_target_key", None) if isinstance(key, kms.Alias) else key
    names = [str(getattr(key, "alias_name", "") or ""), str(getattr(key, "key_arn", "") or "")]
    if any(n.startswith("alias/aws/") or ":alias/aws/" in n for n in names):
        raise LambdalessError(
            f"alarm_topic={topic.node.path!r} is encrypted with the AWS-managed key "
            f"{next(n for n in names if 'alias/aws/' in n)!r}: its key policy cannot allow "
            f"{CLOUDWATCH_PRINCIPAL} to use it, so every alarm notification would be dropped "
            "(SNS developer guide, sns-key-management). Encrypt the topic with a "
            "customer-managed kms.Key instead; lambdaless then adds the grant CloudWatch needs."
        )
    if isinstance(target, kms.Key):
        target.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal(CLOUDWATCH_PRINCIPAL)],
                actions=list(CLOUDWATCH_KEY_ACTIONS),
                resources=["*"],
            )
        )
        return
    raise LambdalessError(
        f"alarm_topic={topic.node.path!r} is encrypted with an imported key lambdaless cannot "
        f"edit: CloudWatch needs its key policy to allow {CLOUDWATCH_PRINCIPAL} "
        f"{' and '.join(CLOUDWATCH_KEY_ACTIONS)} (SNS developer guide, sns-key-management), "
        "or alarm notifications are dropped. Add this statement to the key policy: "
        + json.dumps(
            {
                "Effect": "Allow",
                "Principal": {"Service": CLOUDWATCH_PRINCIPAL},
                "Action": list(CLOUDWATCH_KEY_ACTIONS),
                "Resource": "*",
            }
        )
        + "; then pass the "
        "topic imported without its key (sns.Topic.from_topic_arn), which is not checked."
    )


def _minutes(period: cdk.Duration) -> str:
    minutes = period.to_minutes()
    return f"{minutes:g} minute" + ("" if minutes == 1 else "s")
