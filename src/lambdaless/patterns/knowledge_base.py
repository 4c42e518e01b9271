"""``KnowledgeBaseSync``: ingest a data source into a knowledge base, wait until it is queryable,
and optionally ask it a question, all through direct SDK integrations.

States::

    Start (bedrockagent:startIngestionJob)
      -> Wait (grows: initial x rate^polls, capped) -> Poll (bedrockagent:getIngestionJob)
      -> Check: FAILED / STOPPED -> Fail "IngestionFailed"
                not COMPLETE, polls >= max_polls -> Fail "IngestionTimedOut"
                not COMPLETE -> Wait
                otherwise (COMPLETE) -> Ask (bedrockagentruntime:retrieveAndGenerate), or
                                        Done (Pass) without a question -> next

The loop is bounded by ``max_polls``, so the execution history cannot grow without limit: see
:func:`worst_case_history_events`, checked against Standard's 25,000 events at construction.

SDK integration parameters and results are the API's member names in PascalCase
(``KnowledgeBaseId``, ``IngestionJob.Status``) (AWS docs, "Learning to use AWS service SDK
integrations in Step Functions"); job statuses are STARTING, IN_PROGRESS, COMPLETE, FAILED,
STOPPING, STOPPED (Amazon Bedrock API reference, "IngestionJob").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from lambdaless._errors import LambdalessError, at_path, require
from lambdaless.limits import HISTORY_MAX_EVENTS
from lambdaless.models import BedrockModel, ModelLike
from lambdaless.patterns._common import partition, region_arn, variable_prefix
from lambdaless.patterns.capacity import ModelCapacity
from lambdaless.prompts import Inference, check_text
from lambdaless.retry import RetryPolicy
from lambdaless.steps._task import DirectTask

_ID = re.compile(r"^[0-9a-zA-Z]{10}$")  # knowledge base and data source ids (API reference)

# Events per state (AWS docs, "HistoryEvent" in the Step Functions API reference): every state
# logs <Type>StateEntered and <Type>StateExited; each attempt of a Task logs TaskScheduled,
# TaskStarted and TaskSucceeded or TaskFailed; a Fail state logs FailStateEntered and the
# execution ExecutionFailed; ExecutionStarted and ExecutionSucceeded frame the run.
_STATE_EVENTS = 2
_ATTEMPT_EVENTS = 3


def _task_events(retries: Sequence[RetryPolicy]) -> int:
    attempts = 1 + sum(r.max_attempts for r in retries)
    return _STATE_EVENTS + _ATTEMPT_EVENTS * attempts


def worst_case_history_events(
    *,
    max_polls: int,
    start_retry: Sequence[RetryPolicy] = (),
    poll_retry: Sequence[RetryPolicy] = (),
    ask_retry: Sequence[RetryPolicy] | None = None,
    capacity: ModelCapacity | None = None,
) -> int:
    """The most history events one sync can log: every poll used, every retry exhausted but
    the last attempt, and the longest way out (``ask_retry=None``: no RetrieveAndGenerate).

    ``1 (ExecutionStarted) + start + max_polls x (wait + poll + check) + end``, where a Task
    logs ``2 + 3 x attempts``, a Wait, Choice or Pass 2, the end a Fail (2) or the Ask or
    Done state and ExecutionSucceeded; with a ``capacity`` the Ask's acquire (every wait
    used) and release come on top.
    """
    require(
        isinstance(max_polls, int) and max_polls >= 1, "max_polls", max_polls, "an integer >= 1"
    )
    per_poll = _STATE_EVENTS + _task_events(poll_retry) + _STATE_EVENTS
    done = _STATE_EVENTS if ask_retry is None else _task_events(ask_retry)
    if ask_retry is not None and capacity is not None:
        transient = [RetryPolicy.dynamodb_transient()]
        done += _task_events([capacity.wait, *transient]) + _task_events(transient)
    end = max(2, done + 1)
    return 1 + _task_events(start_retry) + max_polls * per_poll + end


def wait_schedule(
    *, max_polls: int, initial_seconds: int, backoff_rate: float, max_wait_seconds: int
) -> list[int]:
    """The Wait before each poll: ``min(max_wait, round(initial x rate^n))`` for poll n."""
    return [
        min(max_wait_seconds, round(initial_seconds * backoff_rate**n)) for n in range(max_polls)
    ]


# Why the poll is a Wait + Task + Choice loop (3 transitions a poll) and not the Poll Task's own
# Retry (1 transition a poll: a JSONata $error() in its Assign while STARTING/IN_PROGRESS, retried
# on States.QueryEvaluationError with a growing interval). Checked for issue 6:
# * AWS: every JSONata failure, $error() included, fails the state as States.QueryEvaluationError
#   (ASL spec, Appendix A; Step Functions API reference, EvaluationFailedEventDetails), which a
#   Catch matches. That a Retry matches it too is only implied (AWS's agent-toolkit-for-aws Step
#   Functions skill, references/error-handling.md, pairs it with a `MaxAttempts: 0` retrier so a
#   States.ALL retrier does not back off on it); the Developer Guide says nothing either way.
# * FAILED/STOPPED cannot fail promptly from the Poll itself: JSONata raises no error name but
#   States.QueryEvaluationError, so "still running" and "failed" would share one retrier. The
#   check has to move downstream (the Ask's Arguments, or a Choice when there is no question).
# * moto 5.2.5 (the local runner) reports a JSONata error as the uncatchable States.Runtime, and
#   evaluates a Task's Output after its Retry/Catch handling (Assign inside it): the loop could
#   not run offline without a change to lambdaless.testing._moto_hooks.


class KnowledgeBaseSync(sfn.StateMachineFragment):
    """Start an ingestion job and poll it, with growing waits and a bounded number of polls.

    Output: the final ``IngestionJob`` (``Status``, ``Statistics``...) or, with ``question``,
    ``{"text", "citations", "sessionId"}`` from RetrieveAndGenerate.

    On COMPLETE the fragment continues with whatever follows it (``sync.next(...)``), or ends
    the workflow when nothing follows.

    Attributes:
        start, poll, ask: the Task states (``ask`` is ``None`` without ``question``).
        wait, check: the Wait and Choice states of the loop.
        done: without ``question``, the Pass state the COMPLETE branch leads to (``None``
            with ``question``: the Ask step ends the fragment).
        worst_case_history_events: :func:`worst_case_history_events` of this configuration.
        worst_case_wait_seconds: the sum of every wait when all polls are used.
    """

    @at_path
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        knowledge_base_id: str,
        data_source_id: str,
        initial_wait: cdk.Duration | None = None,
        max_wait: cdk.Duration | None = None,
        backoff_rate: float = 2.0,
        max_polls: int = 60,
        question: str | None = None,
        model: ModelLike | None = None,
        max_tokens: int | None = None,
        retry: Sequence[RetryPolicy] | None = None,
        capacity: ModelCapacity | None = None,
        variable_prefix_: str | None = None,
    ) -> None:
        """
        Args:
            knowledge_base_id: the knowledge base id (10 letters and digits, or a token such
                as ``CfnKnowledgeBase.attr_knowledge_base_id``).
            data_source_id: the data source to ingest (same format).
            initial_wait: the first wait before polling; 10 seconds by default.
            max_wait: the cap of any wait; 5 minutes by default.
            backoff_rate: factor applied to the wait after each poll (>= 1); 2.0 by default.
            max_polls: polls before failing with ``IngestionTimedOut``; 60 by default (with
                the default waits, about 4.6 hours).
            question: ask the knowledge base this (literal or ``{% ... %}``) once ingested,
                with RetrieveAndGenerate; not asked by default.
            model: the model generating the answer to ``question``.
            max_tokens: the answer's ``maxTokens`` (RetrieveAndGenerate's
                ``generationConfiguration.inferenceConfig.textInferenceConfig``); the model's
                default by default, 1,024 (``Inference()``'s) with ``capacity``, whose weight it
                sets.
            retry: retriers of the bedrock-agent calls; by default
                :meth:`RetryPolicy.agent_transient` (the Ask step uses
                :meth:`RetryPolicy.agent_runtime_transient`).
            capacity: a :class:`~lambdaless.ModelCapacity` of ``model`` the question acquires
                before RetrieveAndGenerate and releases after it, on every path (weighted by
                the quota's input estimate + ``max_tokens``); only with ``question``. None by
                default.
            variable_prefix_: prefix of the JSONata variables the loop keeps (``<prefix>Job``,
                ``<prefix>Polls``); by default derived from ``id``.
        """
        super().__init__(scope, id)
        for name, value in (
            ("knowledge_base_id", knowledge_base_id),
            ("data_source_id", data_source_id),
        ):
            require(
                isinstance(value, str)
                and (cdk.Token.is_unresolved(value) or bool(_ID.match(value))),
                name,
                value,
                "an id of 10 letters and digits, or a CloudFormation token",
            )
        initial = _seconds("initial_wait", initial_wait or cdk.Duration.seconds(10))
        cap = _seconds("max_wait", max_wait or cdk.Duration.minutes(5))
        require(cap >= initial, "max_wait", f"{cap} s", f"at least initial_wait ({initial} s)")
        require(
            isinstance(backoff_rate, int | float)
            and not isinstance(backoff_rate, bool)
            and 1.0 <= backoff_rate <= 10.0,
            "backoff_rate",
            backoff_rate,
            "a number from 1.0 to 10.0",
        )
        require(
            isinstance(max_polls, int) and not isinstance(max_polls, bool) and max_polls >= 1,
            "max_polls",
            max_polls,
            "an integer >= 1",
        )
        if question is not None:
            check_text("question", question)
            require(model is not None, "model", model, "a model to answer question=")
        else:
            require(model is None, "model", model, "None unless question= is given")
        for option, given in {"max_tokens": max_tokens, "capacity": capacity}.items():
            require(
                given is None or question is not None,
                option,
                given,
                "None unless question= is given",
            )
        require(
            capacity is None or isinstance(capacity, ModelCapacity),
            "capacity",
            capacity,
            "None or a ModelCapacity",
        )
        if capacity is not None and max_tokens is None:
            max_tokens = Inference().max_tokens
        require(
            max_tokens is None
            or (
                isinstance(max_tokens, int) and not isinstance(max_tokens, bool) and max_tokens >= 1
            ),
            "max_tokens",
            max_tokens,
            "None or an integer >= 1",
        )
        retries = list(retry) if retry is not None else [RetryPolicy.agent_transient()]
        ask_retries = [RetryPolicy.agent_runtime_transient()]
        self.worst_case_history_events = worst_case_history_events(
            max_polls=max_polls,
            start_retry=retries,
            poll_retry=retries,
            ask_retry=ask_retries if question is not None else None,
            capacity=capacity,
        )
        if self.worst_case_history_events >= HISTORY_MAX_EVENTS:
            raise LambdalessError(
                f"max_polls={max_polls} is not allowed: in the worst case the sync logs "
                f"{self.worst_case_history_events} history events, over the "
                f"{HISTORY_MAX_EVENTS:,} of a Standard execution; lower max_polls or the retries, "
                "or raise initial_wait / max_wait to poll less often"
            )
        schedule = wait_schedule(
            max_polls=max_polls,
            initial_seconds=initial,
            backoff_rate=backoff_rate,
            max_wait_seconds=cap,
        )
        self.worst_case_wait_seconds = sum(schedule)

        prefix = variable_prefix_ or variable_prefix(id)
        job_var, polls_var = f"{prefix}Job", f"{prefix}Polls"
        kb_arn = region_arn(self, "bedrock", f"knowledge-base/{knowledge_base_id}")
        ids = {"KnowledgeBaseId": knowledge_base_id, "DataSourceId": data_source_id}
        sdk = f"arn:{partition(self)}:states:::aws-sdk"

        # IAM: the IngestionJob actions are authorized on the knowledge base (Bedrock user
        # guide, "Set up permissions for a user or role to create and manage knowledge bases").
        self.start = DirectTask(
            self,
            f"{id}Start",
            resource=f"{sdk}:bedrockagent:startIngestionJob",
            arguments={
                **ids,
                # Same token for every retry of this state entry, so a retried call that had in
                # fact succeeded does not start a second job (ClientToken: 33-256 characters).
                "ClientToken": (
                    "{% $hash($states.context.Execution.Id & $states.context.State.Name"
                    " & $states.context.State.EnteredTime, 'SHA-256') %}"
                ),
            },
            output="{% $states.result.IngestionJob %}",
            assign={
                job_var: "{% $states.result.IngestionJob.IngestionJobId %}",
                polls_var: 0,
            },
            policy_statements=[
                iam.PolicyStatement(actions=["bedrock:StartIngestionJob"], resources=[kb_arn])
            ],
            retries=retries,
            timeout=None,
            comment="Start ingesting the data source",
        )
        wait_seconds = (
            f"{{% $min([{cap}, $round({initial} * $power({backoff_rate:g}, ${polls_var}))]) %}}"
        )
        self.wait = sfn.Wait(
            self,
            f"{id}Wait",
            query_language=sfn.QueryLanguage.JSONATA,
            time=sfn.WaitTime.seconds(wait_seconds),
            # The loop's bound, declared for lambdaless.analysis (history and cost worst cases).
            comment=(
                f"{initial} s growing x{backoff_rate:g} per poll, at most {cap} s; "
                f"lambdaless:max-iterations={max_polls}"
            ),
        )
        self.poll = DirectTask(
            self,
            f"{id}Poll",
            resource=f"{sdk}:bedrockagent:getIngestionJob",
            arguments={**ids, "IngestionJobId": f"{{% ${job_var} %}}"},
            output="{% $states.result.IngestionJob %}",
            assign={polls_var: f"{{% ${polls_var} + 1 %}}"},
            policy_statements=[
                iam.PolicyStatement(actions=["bedrock:GetIngestionJob"], resources=[kb_arn])
            ],
            retries=retries,
            timeout=None,
            comment="Read the ingestion job's status",
        )
        failed = sfn.Fail(
            self,
            f"{id}Failed",
            query_language=sfn.QueryLanguage.JSONATA,
            error="IngestionFailed",
            cause=(
                "{% $count($states.input.FailureReasons) > 0 ? "
                "$join($states.input.FailureReasons, '; ') : "
                "'ingestion job ' & $states.input.IngestionJobId & ' ' & $states.input.Status %}"
            ),
        )
        timed_out = sfn.Fail(
            self,
            f"{id}TimedOut",
            query_language=sfn.QueryLanguage.JSONATA,
            error="IngestionTimedOut",
            cause=(
                f"{{% 'ingestion job ' & ${job_var} & ' still ' & $states.input.Status & "
                f"' after {max_polls} polls' %}}"
            ),
        )
        # Its states speak JSONata inside a JSONPath machine too (a JSONPath Choice rule has no
        # Condition, and CreateStateMachine refuses one: "state-choice").
        self.check = sfn.Choice(
            self,
            f"{id}Check",
            comment="Done, failed, out of polls, or wait",
            query_language=sfn.QueryLanguage.JSONATA,
        )
        self.check.when(
            sfn.Condition.jsonata("{% $states.input.Status in ['FAILED', 'STOPPED'] %}"),
            failed,
        )
        self.check.when(
            sfn.Condition.jsonata(
                f"{{% $states.input.Status != 'COMPLETE' and ${polls_var} >= {max_polls} %}}"
            ),
            timed_out,
        )
        self.check.when(
            sfn.Condition.jsonata("{% $states.input.Status != 'COMPLETE' %}"), self.wait
        )
        self.start.next(self.wait)
        self.wait.next(self.poll)
        self.poll.next(self.check)

        self.ask: DirectTask | None = None
        self.done: sfn.Pass | None = None
        self._end: list[sfn.INextable]
        if question is not None:
            answer_model = BedrockModel.of(model)  # type: ignore[arg-type]
            answer_model.check_end_of_life(scope, "model", model)
            # RetrieveAndGenerate needs bedrock:Retrieve on the knowledge base,
            # bedrock:RetrieveAndGenerate on "*" (the action has no resource-level permissions)
            # and bedrock:InvokeModel on the generating model (Bedrock user guide,
            # "knowledge-base-prereq-permissions-general", querying section). "*" is the one
            # wildcard AWS leaves us: see lambdaless._nag.UNAVOIDABLE_WILDCARDS.
            generation: dict[str, Any] = {
                "KnowledgeBaseId": knowledge_base_id,
                "ModelArn": answer_model.invoke_arn(self),
            }
            if max_tokens is not None:
                # Bedrock API reference, "GenerationConfiguration" / "TextInferenceConfig"
                generation["GenerationConfiguration"] = {
                    "InferenceConfig": {"TextInferenceConfig": {"MaxTokens": max_tokens}}
                }
            self.ask = _Ask(
                self,
                f"{id}Ask",
                model=answer_model,
                max_tokens=max_tokens,
                capacity=capacity,
                resource=f"{sdk}:bedrockagentruntime:retrieveAndGenerate",
                arguments={
                    "Input": {"Text": question},
                    "RetrieveAndGenerateConfiguration": {
                        "Type": "KNOWLEDGE_BASE",
                        "KnowledgeBaseConfiguration": generation,
                    },
                },
                output=(
                    "{% {'text': $states.result.Output.Text, 'citations': "
                    "$states.result.Citations, 'sessionId': $states.result.SessionId} %}"
                ),
                policy_statements=[
                    iam.PolicyStatement(actions=["bedrock:Retrieve"], resources=[kb_arn]),
                    iam.PolicyStatement(actions=["bedrock:RetrieveAndGenerate"], resources=["*"]),
                    *answer_model.policy_statements(self),
                ],
                wildcard_resources=["*"],
                retries=ask_retries,
                timeout=None,
                assign=None,
                comment="Ask the freshly synced knowledge base",
            )
            self.check.otherwise(self.ask)  # its acquire, with a capacity
            self._end = self.ask.end_states
        else:
            # A Choice cannot end an execution, and one whose rules all miss fails it with
            # States.NoChoiceMatched (Step Functions developer guide, "state-choice"): COMPLETE
            # goes to this Pass, which ends the workflow or leads to whatever follows the
            # fragment. One transition per sync, only on success.
            self.done = sfn.Pass(self, f"{id}Done", comment="Ingestion COMPLETE")
            self.check.otherwise(self.done)
            self._end = [self.done]
        self.max_polls = max_polls
        self.wait_schedule = schedule

    @property
    def start_state(self) -> sfn.State:
        """The StartIngestionJob Task state."""
        return self.start

    @property
    def end_states(self) -> list[sfn.INextable]:
        """The Ask Task, or the Pass state of the Choice's COMPLETE branch."""
        return self._end


class _Ask(DirectTask):
    """The RetrieveAndGenerate Task, carrying the generating model and its ``max_tokens`` (what
    a :class:`ModelCapacity` weighs the call by)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        model: BedrockModel,
        max_tokens: int | None,
        capacity: ModelCapacity | None,
        **task: Any,
    ) -> None:
        self.model = model
        self.max_tokens = max_tokens
        super().__init__(scope, id, capacity=capacity, **task)


def _seconds(argument: str, value: cdk.Duration) -> int:
    require(isinstance(value, cdk.Duration), argument, value, "an aws_cdk.Duration")
    seconds = value.to_milliseconds() / 1000
    require(
        seconds == int(seconds) and 1 <= seconds <= 86_400,
        argument,
        f"{seconds:g} s",
        "whole seconds from 1 to 86400",
    )
    return int(seconds)
