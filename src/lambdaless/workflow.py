"""``Workflow``: a Step Functions state machine with the defaults a security review expects."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from lambdaless._errors import (
    at_path,
    invalid,
    require,
    require_type,
)
from lambdaless._nag import default_policy_resource, finding_text, wildcard_reason
from lambdaless._stack_env import StackEnv
from lambdaless.analysis.asl import iter_states
from lambdaless.deployment import Deployment, Rollout
from lambdaless.monitoring import WorkflowMonitoring, bedrock_model_ids
from lambdaless.rules.graph import Machine, check_machine
from lambdaless.rules.integrations import MACHINE_NAME_UNIQUE, check_state_machine_name
from lambdaless.rules.models import check_steps_in_stack
from lambdaless.rules.retries import MAX_INTEGER, whole_seconds
from lambdaless.rules.workflow_types import TIMEOUT_RANGE, timeout_limit
from lambdaless.steps._task import DirectTask, steps_in
from lambdaless.synth_lint import at_synth
from lambdaless.synthesized import resolve

DEFAULT_STANDARD_TIMEOUT = cdk.Duration.hours(1)
DEFAULT_EXPRESS_TIMEOUT = cdk.Duration.minutes(5)
_DEFAULT_TIMEOUT_SECONDS = {False: 3600, True: 300}  # the two defaults above, by ``express``
#: The attribute of an app (Stage) holding the state machine names its Workflows gave so far:
#: (account, region, name) -> construct path. It lives and dies with the construct tree.
_NAMES_ATTRIBUTE = "_lambdaless_state_machine_names"


class Workflow(Construct):
    """A state machine over ``definition`` with secure, observable defaults.

    * JSONata query language;
    * CloudWatch Logs for every event, without execution data (prompts and answers are often
      sensitive) unless ``include_execution_data=True``;
    * X-Ray tracing;
    * an optional customer-managed KMS key for the state machine and its logs;
    * a timeout (one hour for Standard, five minutes for Express, by default);
    * a retry budget check: a state whose retries cannot finish within the workflow's timeout
      fails synth with the state's name and the numbers;
    * alarms (failed, timed-out, throttled, aborted executions; Bedrock throttles per model),
      unless ``alarms=False``; a CloudWatch dashboard with ``dashboard=True`` (a dashboard has a
      monthly price, so it is opt-in);
    * with ``deployment=``, a version per definition change and an alias that moves to it
      gradually, rolling back on the alarms (:mod:`lambdaless.deployment`).

    Like ``sfn.StateMachine``, a workflow grants (``grant_start_execution``, ``grant_read``,
    ``grant_task_response``, ...) and gives metrics (``metric_failed(period=...)``, ...).

    Attributes:
        state_machine: the ``sfn.StateMachine``.
        role: its IAM role, holding the least-privilege statements of every lambdaless step.
        log_group: the log group executions are logged to.
        monitoring: the alarms (and the dashboard), or ``None`` with ``alarms=False``.
        rollout: the version and alias, or ``None`` without ``deployment=``.
    """

    @at_path
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        definition: sfn.IChainable,
        express: bool = False,
        timeout: cdk.Duration | None = None,
        state_machine_name: str | None = None,
        query_language: sfn.QueryLanguage = sfn.QueryLanguage.JSONATA,
        include_execution_data: bool = False,
        log_level: sfn.LogLevel = sfn.LogLevel.ALL,
        log_group: logs.ILogGroup | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        tracing: bool = True,
        encryption_key: kms.IKey | None = None,
        comment: str | None = None,
        alarms: bool = True,
        alarm_topic: sns.ITopic | None = None,
        deployment: Deployment | None = None,
        dashboard: bool = False,
    ) -> None:
        """
        Args:
            definition: the first state or chain of the workflow.
            express: an Express workflow (at most five minutes, billed per request and
                duration) instead of Standard (billed per state transition).
            timeout: the execution timeout; by default one hour (Standard) or five minutes
                (Express). Express allows at most five minutes, Standard one year.
            state_machine_name: a physical name; CloudFormation generates one by default.
            query_language: JSONata by default; JSONPath for older definitions (lambdaless
                steps declare JSONata for themselves either way).
            include_execution_data: log state inputs and outputs; off by default.
            log_level: which events to log; ``ALL`` by default.
            log_group: where to log; by default a new group kept ``log_retention``.
            log_retention: retention of the default log group; one year by default.
            tracing: X-Ray tracing; on by default.
            encryption_key: a customer-managed KMS key for the execution data and the default
                log group; AWS-owned keys by default.
            comment: the definition's Comment.
            alarms: a :class:`~lambdaless.monitoring.WorkflowMonitoring` (alarms on failed,
                timed-out, throttled and aborted executions and on Bedrock throttles of each
                model called); on by default, ``False`` for none.
            alarm_topic: an SNS topic the alarms notify; none by default.
            deployment: publish a version on every definition change and shift the alias
                ``live`` (or ``alias_name``) to it with ``Deployment.canary(...)``,
                ``linear(...)`` or ``all_at_once()``, rolling back on the failed, timed-out and
                aborted alarms plus the deployment's own; none by default (executions start
                the state machine's latest revision).
            dashboard: a CloudWatch dashboard of executions, durations, alarms and Bedrock calls
                per model (needs ``alarms``); off by default.
        """
        super().__init__(scope, id)
        if not hasattr(type(definition), "start_state"):  # the class: no jsii call
            raise invalid("definition", definition, "a state, chain or fragment", wrong_type=True)
        for flag, value in (
            ("express", express),
            ("include_execution_data", include_execution_data),
            ("tracing", tracing),
            ("alarms", alarms),
            ("dashboard", dashboard),
        ):
            require_type(value, bool, flag, "True or False")
        require_type(comment, (str, type(None)), "comment", "None or text")
        if state_machine_name is not None and not cdk.Token.is_unresolved(state_machine_name):
            check_state_machine_name("state_machine_name", state_machine_name)
            self._claim_name(state_machine_name)
        limit, kind = timeout_limit(express=express)
        if timeout is None:
            timeout = DEFAULT_EXPRESS_TIMEOUT if express else DEFAULT_STANDARD_TIMEOUT
            seconds = _DEFAULT_TIMEOUT_SECONDS[express]
        else:
            seconds = whole_seconds("timeout", timeout, MAX_INTEGER)
            TIMEOUT_RANGE.require(
                seconds <= limit, "timeout", f"{seconds} s", f"at most {limit} s {kind}"
            )
        self.express = express
        self.timeout = timeout
        self.timeout_seconds = seconds
        self.log_group = log_group or self._default_log_group(log_retention, encryption_key)
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            state_machine_type=(
                sfn.StateMachineType.EXPRESS if express else sfn.StateMachineType.STANDARD
            ),
            state_machine_name=state_machine_name,
            timeout=timeout,
            query_language=query_language,
            comment=comment,
            tracing_enabled=tracing,
            logs=sfn.LogOptions(
                destination=self.log_group,
                level=log_level,
                include_execution_data=include_execution_data,
            ),
            encryption_configuration=(
                sfn.CustomerManagedEncryptionConfiguration(encryption_key)
                if encryption_key is not None
                else None
            ),
        )
        #: the lambdaless steps of the definition, inside Map and Parallel too
        self.steps: list[DirectTask] = steps_in(definition)
        # a capacity's reclaim listens to the executions of the machines that acquire it
        for step in self.steps:
            if step.acquires is not None:
                step.acquires.watch(self.state_machine)  # once per machine
        check_steps_in_stack(StackEnv.of(scope), self.steps, where=f"Workflow {id!r}")
        #: cdk-nag finding texts of the qualified state machine ARNs granted to HTTP steps
        self._endpoint_wildcards: list[str] = []
        rendered = self.definition()  # once, for the HTTP grants, alarms and nag reasons
        self._grant_http_endpoints(deployment is not None, rendered)
        self._check_rules()
        require(alarms or alarm_topic is None, "alarm_topic", alarm_topic, "None when alarms=False")
        require(alarms or not dashboard, "dashboard", dashboard, "False when alarms=False")
        self.monitoring: WorkflowMonitoring | None = (
            WorkflowMonitoring(
                self,
                "Monitoring",
                workflow=self,
                topic=alarm_topic,
                model_ids=bedrock_model_ids(rendered),
                dashboard=dashboard,
            )
            if alarms
            else None
        )
        self.rollout: Rollout | None = (
            Rollout(self, "Deployment", workflow=self, deployment=deployment)
            if deployment is not None
            else None
        )
        at_synth(scope, id, self, self._nag_acknowledgements(tracing, rendered))

    @property
    def alias(self) -> sfn.CfnStateMachineAlias | None:
        """The alias executions start through (``deployment=``), else ``None``."""
        return self.rollout.alias if self.rollout is not None else None

    @property
    def role(self) -> iam.IRole:
        """The state machine's role, holding the statements of every lambdaless step."""
        return self.state_machine.role

    # -- defaults --------------------------------------------------------------------------
    def _default_log_group(
        self, retention: logs.RetentionDays, key: kms.IKey | None
    ) -> logs.ILogGroup:
        if isinstance(key, kms.Key):
            # CloudWatch Logs must be allowed to use the key for this account's log groups
            # (AWS docs, "Encrypt log data in CloudWatch Logs using AWS KMS").
            stack = cdk.Stack.of(self)
            key.add_to_resource_policy(
                iam.PolicyStatement(
                    principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
                    # The exact actions behind the docs' Encrypt*/Decrypt*/ReEncrypt*/
                    # GenerateDataKey*/Describe* patterns: no wildcard actions anywhere.
                    actions=[
                        "kms:Encrypt",
                        "kms:Decrypt",
                        "kms:ReEncryptFrom",
                        "kms:ReEncryptTo",
                        "kms:GenerateDataKey",
                        "kms:GenerateDataKeyWithoutPlaintext",
                        "kms:DescribeKey",
                    ],
                    resources=["*"],
                    conditions={
                        "ArnLike": {
                            "kms:EncryptionContext:aws:logs:arn": (
                                f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:*"
                            )
                        }
                    },
                )
            )
        return logs.LogGroup(
            self,
            "Logs",
            retention=retention,
            encryption_key=key,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )

    def _grant_http_endpoints(self, versioned: bool, rendered: dict[str, Any]) -> None:
        """``states:InvokeHTTPEndpoint`` for every HTTP step, on this state machine only, as
        AWS's example scopes it (AWS docs, "call-https-apis", IAM permissions).

        The role's default policy cannot name the state machine (the state machine depends on
        it: a circular dependency), so the statements go into a policy of their own on the role,
        as aws-cdk-lib does for a Distributed Map's grants. Executions of the alias and versions
        a ``deployment=`` publishes run as ``<arn>:<qualifier>``, and a Distributed Map's child
        executions as ``<arn>/<map run label or UUID>`` (Step Functions API reference,
        StartExecution: qualified state machine ARNs; developer guide, "concepts-examine-map-run"):
        those forms are added only when the workflow has them.
        """
        from lambdaless.steps.http import CallHttpApi

        calls = [step for step in self.steps if isinstance(step, CallHttpApi)]
        if not calls:
            return
        arn = self.state_machine.state_machine_arn
        arns = [arn]
        if versioned:
            arns.append(f"{arn}:*")
        if '"DISTRIBUTED"' in json.dumps(rendered):
            arns.append(f"{arn}/*")
        stack = cdk.Stack.of(self)
        self._endpoint_wildcards = [finding_text(stack.resolve(a)) for a in arns[1:]]
        iam.Policy(
            self,
            "HttpEndpoints",
            roles=[self.state_machine.role],
            statements=[call.endpoint_statement(arns) for call in calls],
        )

    def _result_writer_acknowledgements(self, rendered: dict[str, Any]) -> dict[str, str]:
        """A Distributed Map's ResultWriter grant is a key prefix: Step Functions names the
        objects it writes (``<prefix>/<map run id>/manifest.json``, ``SUCCEEDED_0.json``...;
        AWS docs, "input-output-resultwriter"). Found in the role's policy by the exact actions
        FanOut grants for it."""
        if not any("ResultWriter" in state for _, _, state in iter_states(rendered)):
            return {}
        from lambdaless.patterns._common import RESULT_WRITER_ACTIONS

        policy = default_policy_resource(self.role)
        if policy is None:
            return {}
        document = cdk.Stack.of(self).resolve(policy.policy_document)
        reasons: dict[str, str] = {}
        for statement in document.get("Statement", []):
            actions = statement.get("Action")
            if sorted(actions if isinstance(actions, list) else [actions]) != sorted(
                RESULT_WRITER_ACTIONS
            ):
                continue
            resources = statement.get("Resource")
            for resource in resources if isinstance(resources, list) else [resources]:
                reasons[f"AwsSolutions-IAM5[Resource::{finding_text(resource)}]"] = (
                    "A Distributed Map's ResultWriter writes objects whose names Step Functions "
                    "chooses (<prefix>/<map run id>/...), so the grant is the results prefix."
                )
        return reasons

    def _distributed_map_acknowledgements(self) -> dict[str, str]:
        """aws-cdk-lib grants a Distributed Map's parent describe, stop and redrive on the child
        executions it starts, in a policy of their own (``DistributedMapPolicy``): their ids are
        chosen at run time, under this state machine's name only."""
        found = self.state_machine.node.try_find_child("DistributedMapPolicy")
        policy = found.node.default_child if found is not None else None
        if not isinstance(policy, iam.CfnPolicy):
            return {}
        document = cdk.Stack.of(self).resolve(policy.policy_document)
        reasons: dict[str, str] = {}
        for statement in document.get("Statement", []):
            resources = statement.get("Resource")
            for resource in resources if isinstance(resources, list) else [resources]:
                text = finding_text(resource)
                if text.endswith("*"):
                    reasons[f"AwsSolutions-IAM5[Resource::{text}]"] = (
                        "A Distributed Map's child executions get ids Step Functions chooses "
                        "at run time: aws-cdk-lib grants describe, stop and redrive on the "
                        "executions of this one state machine (AWS docs, 'IAM policies for "
                        "using Distributed Map states')."
                    )
        return reasons

    def _nag_acknowledgements(self, tracing: bool, rendered: dict[str, Any]) -> dict[str, str]:
        """The role's only wildcard resources are those AWS imposes (cdk-nag IAM5), each
        acknowledged with its reason on this Workflow, which holds the role and its policy
        (recorded at synth when cdk-nag runs: see :mod:`lambdaless.synth_lint`)."""
        reason = (
            "Resource '*' only for actions without resource-level permissions, as the Step "
            "Functions docs prescribe: CloudWatch Logs vended-log delivery "
            "(logs:CreateLogDelivery, GetLogDelivery, UpdateLogDelivery, DeleteLogDelivery, "
            "ListLogDeliveries, PutResourcePolicy, DescribeResourcePolicies, DescribeLogGroups)"
        )
        if tracing:
            reason += (
                " and X-Ray (xray:PutTraceSegments, PutTelemetryRecords, GetSamplingRules, "
                "GetSamplingTargets; docs: step-functions/latest/dg/xray-iam.html)"
            )
        reasons = {"AwsSolutions-IAM5[Resource::*]": reason + "."}
        reasons.update(self._result_writer_acknowledgements(rendered))
        reasons.update(self._distributed_map_acknowledgements())
        # Wildcards a step grants because AWS generates the ARN at run time (see
        # lambdaless._nag.UNAVOIDABLE_WILDCARDS), each with its own reason.
        # A step's Resource '*' shares the finding id of the role's own, so its reason is added
        # to that finding's reason rather than replacing it.
        for text in self._endpoint_wildcards:
            finding = f"AwsSolutions-IAM5[Resource::{text}]"
            reasons[finding] = (
                "states:InvokeHTTPEndpoint on this state machine's own qualified ARNs (its "
                "alias and versions, or its Distributed Map's child executions), narrowed to "
                "one endpoint and method by conditions."
            )
        stack = cdk.Stack.of(self)
        for step in self.steps:
            for prefix, prefix_reason in step.nag_prefixes.items():
                # resolved as the policy is: a bucket's ARN token becomes <Bucket.Arn>
                text = finding_text(stack.resolve(prefix))
                reasons[f"AwsSolutions-IAM5[Resource::{text}]"] = prefix_reason
            for text in step.nag_wildcards:
                finding = f"AwsSolutions-IAM5[Resource::{text}]"
                reason = wildcard_reason(text)
                if reason not in reasons.get(finding, ""):
                    reasons[finding] = (
                        reasons[finding] + " " if finding in reasons else ""
                    ) + reason
        return reasons

    # -- checks ----------------------------------------------------------------------------
    def definition(self) -> dict[str, Any]:
        """The ASL as synthesized, with CloudFormation references as ``${...}`` placeholders."""
        cfn = self.state_machine.node.default_child
        assert isinstance(cfn, sfn.CfnStateMachine)
        rendered = resolve(cdk.Stack.of(self).resolve(cfn.definition_string))
        return dict(json.loads(rendered))

    def _check_rules(self) -> None:
        """The catalogue's graph rules on each lambdaless step, at construction, from the steps'
        own state JSON (no jsii call); the synth-time lint checks every state of the
        definition."""
        machine = Machine(
            # lambdaless steps always speak JSONata (they declare it inside JSONPath machines)
            definition={
                "QueryLanguage": "JSONata",
                "States": {step.step_name: step.state_json for step in self.steps},
            },
            express=self.express,
            timeout_seconds=self.timeout_seconds,
            timeout_source=(f"the {'Express' if self.express else 'Standard'} workflow's timeout"),
            whole=False,
        )
        for violation in check_machine(machine):
            raise violation.error()

    def _claim_name(self, name: str) -> None:
        """Refuse a ``state_machine_name`` another Workflow of this app already has in the same
        account and region."""
        stack = cdk.Stack.of(self)
        stage = cdk.Stage.of(self) or stack
        names: dict[tuple[str, str, str], str] | None = getattr(stage, _NAMES_ATTRIBUTE, None)
        if names is None:
            names = {}
            setattr(stage, _NAMES_ATTRIBUTE, names)
        key = (stack.account, stack.region, name)
        other = names.setdefault(key, self.node.path)
        MACHINE_NAME_UNIQUE.require(
            other == self.node.path,
            "state_machine_name",
            name,
            f"a name no other Workflow of this app uses in the same account and region "
            f"({other} has it)",
        )

    # -- grants (aws-cdk-lib's, on the state machine) ---------------------------------------
    def grant_start_execution(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` start executions (``states:StartExecution``); with ``deployment=``,
        through the alias only (:meth:`~lambdaless.deployment.Rollout.grant_start_execution`)."""
        if self.rollout is not None:
            return self.rollout.grant_start_execution(grantee)
        return self.state_machine.grant_start_execution(grantee)

    def grant_start_sync_execution(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` run synchronous Express executions (``states:StartSyncExecution``);
        with ``deployment=``, through the alias only."""
        require(self.express, "grant_start_sync_execution", self.node.path, "an Express workflow")
        if self.rollout is not None:
            return self.rollout.grant_start_execution(grantee, "states:StartSyncExecution")
        return self.state_machine.grant_start_sync_execution(grantee)

    def grant_read(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` list and describe executions and read their history."""
        return self.state_machine.grant_read(grantee)

    def grant_task_response(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` answer callback tasks (``states:SendTaskSuccess``, ``SendTaskFailure``,
        ``SendTaskHeartbeat``), e.g. the approver of a :class:`~lambdaless.HumanApproval`."""
        return self.state_machine.grant_task_response(grantee)

    def grant_execution(self, grantee: iam.IGrantable, *actions: str) -> iam.Grant:
        """Let ``grantee`` perform ``actions`` (``states:StopExecution``, ...) on executions."""
        return self.state_machine.grant_execution(grantee, *actions)

    def grant_redrive_execution(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` redrive failed executions (``states:RedriveExecution``; Standard only,
        AWS docs "Redriving state machines")."""
        require(not self.express, "grant_redrive_execution", self.node.path, "a Standard workflow")
        return self.state_machine.grant_redrive_execution(grantee)

    def grant(self, grantee: iam.IGrantable, *actions: str) -> iam.Grant:
        """Let ``grantee`` perform ``actions`` on the state machine itself."""
        return self.state_machine.grant(grantee, *actions)

    # -- metrics (aws-cdk-lib's, with the same options) ------------------------------------
    def metric(
        self, metric_name: str, props: cloudwatch.MetricOptions | None = None, **options: Any
    ) -> cloudwatch.Metric:
        """Any ``AWS/States`` metric of the state machine; ``props`` or keyword options
        (``period=``, ``statistic=``, ... as ``cloudwatch.MetricOptions``) pass through."""
        return self.state_machine.metric(metric_name, **metric_options(props, options))

    def metric_failed(
        self, props: cloudwatch.MetricOptions | None = None, **options: Any
    ) -> cloudwatch.Metric:
        """Executions that failed."""
        return self.state_machine.metric_failed(**metric_options(props, options))

    def metric_timed_out(
        self, props: cloudwatch.MetricOptions | None = None, **options: Any
    ) -> cloudwatch.Metric:
        """Executions that timed out."""
        return self.state_machine.metric_timed_out(**metric_options(props, options))

    def metric_throttled(
        self, props: cloudwatch.MetricOptions | None = None, **options: Any
    ) -> cloudwatch.Metric:
        """StartExecution calls throttled by Step Functions."""
        return self.state_machine.metric_throttled(**metric_options(props, options))

    def metric_aborted(
        self, props: cloudwatch.MetricOptions | None = None, **options: Any
    ) -> cloudwatch.Metric:
        """Executions that were aborted."""
        return self.state_machine.metric_aborted(**metric_options(props, options))

    def metric_succeeded(
        self, props: cloudwatch.MetricOptions | None = None, **options: Any
    ) -> cloudwatch.Metric:
        """Executions that succeeded."""
        return self.state_machine.metric_succeeded(**metric_options(props, options))

    def metric_started(
        self, props: cloudwatch.MetricOptions | None = None, **options: Any
    ) -> cloudwatch.Metric:
        """Executions started."""
        return self.state_machine.metric_started(**metric_options(props, options))

    def metric_time(
        self, props: cloudwatch.MetricOptions | None = None, **options: Any
    ) -> cloudwatch.Metric:
        """Execution duration."""
        return self.state_machine.metric_time(**metric_options(props, options))


#: The fields of ``cloudwatch.MetricOptions`` (aws-cdk-lib's metric props, flattened to keyword
#: arguments in Python).
METRIC_OPTIONS = (
    "account",
    "color",
    "dimensions_map",
    "id",
    "label",
    "period",
    "region",
    "stack_account",
    "stack_region",
    "statistic",
    "unit",
    "visible",
)


def metric_options(
    props: cloudwatch.MetricOptions | None, options: dict[str, Any]
) -> dict[str, Any]:
    """``props`` and keyword ``options`` merged (keywords win), as aws-cdk-lib's keywords."""
    if props is not None and not isinstance(props, cloudwatch.MetricOptions):
        raise invalid("props", props, "None or an aws_cloudwatch.MetricOptions", wrong_type=True)
    unknown = sorted(set(options) - set(METRIC_OPTIONS))
    require(
        not unknown,
        "options",
        unknown,
        "keywords of cloudwatch.MetricOptions: " + ", ".join(METRIC_OPTIONS),
    )
    merged = {
        name: getattr(props, name)
        for name in METRIC_OPTIONS
        if props is not None and getattr(props, name) is not None
    }
    merged.update(options)
    return merged
