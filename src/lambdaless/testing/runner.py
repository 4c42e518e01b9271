"""Run synthesized state machines offline, in-process, on moto's Step Functions interpreter.

The runner feeds the definition exactly as CloudFormation would receive it (via
:mod:`lambdaless.synthesized`) to moto's ASL engine with the hooks of
:mod:`lambdaless.testing._moto_hooks`: JSONata is evaluated, every Task is answered from scripted
responses, Wait states and Retry back-offs take no wall time (their delays are recorded), and
``run`` returns once the execution has finished.

``.sync`` and ``.sync:2`` tasks (e.g. ``bedrock:createModelCustomizationJob.sync``) run mocked
like any Task: as in Step Functions Local, the mocked response is the task's *final* result (what
the job's describe call returns once it has finished), and a ``Throw`` fails the task with that
error.

Timeouts need no waiting: a ``Throw`` whose error is a ``States.*`` name
(``Throw("States.Timeout")``, ``Throw("States.HeartbeatTimeout")``, ``Throw("States.TaskFailed")``)
fails the task with that very error, so ``Catch``/``Retry`` on it match as on AWS
(``States.TaskFailed`` does not match ``States.Timeout``). A ``.waitForTaskToken`` task can be
answered the same way, or with ``task_tokens={"WaitForApproval": ("timeout",)}`` (the task times
out: ``States.Timeout``) or ``("heartbeat_timeout",)`` (``States.HeartbeatTimeout``), at once.

Distributed Maps read and write S3 as on AWS (with ``s3=`` seeds, or with ``passthrough=True``
inside moto's ``mock_aws()``): the ItemReader (JSON, JSON Lines, CSV, S3 listings;
``MaxItems``), the ``ItemBatcher``, the ResultWriter (``manifest.json`` and the
``SUCCEEDED_0``/``FAILED_0`` files; the Map's result names the manifest) and the tolerated
failure threshold (over it the Map fails with ``States.ExceedToleratedFailureThreshold``); see
:mod:`lambdaless.testing._map_run`.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from lambdaless._errors import invalid, require
from lambdaless.limits import PAYLOAD_MAX_BYTES
from lambdaless.synthesized import LOCAL_PSEUDO_PARAMETERS, SynthesizedStateMachine, load
from lambdaless.testing._local_s3 import LocalS3, localize, plan
from lambdaless.testing.mock_config import MockConfig
from lambdaless.testing.mocks import (
    MockedResponse,
    Return,
    Throw,
    check_shape,
    responses_from,
    service_refusal,
)
from lambdaless.testing.s3_seeds import S3Contents, S3Seeds

__all__ = [
    "LocalRunner",
    "MissingMockError",
    "MockShapeError",
    "RunResult",
    "TaskCall",
    "TaskTokenAnswer",
    "TaskTokenRequest",
]

Status = Literal["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"]


class MissingMockError(LookupError):
    """A Task ran with no scripted response (or an unanswered task token) for its state, or
    was invoked more times than its mocked responses cover."""


class MockShapeError(ValueError):
    """A mocked result that the Task's integration could never return (see
    :func:`lambdaless.testing.mocks.check_shape`)."""


@dataclass(frozen=True)
class TaskCall:
    """One invocation of a Task state: what it sent and which invocation of that state it was."""

    state: str
    resource: str
    arguments: Any
    invocation: int
    task_token: str | None = None


@dataclass(frozen=True)
class TaskTokenRequest:
    """A ``.waitForTaskToken`` task waiting for an answer: its token and the arguments it sent
    (which normally carry ``$states.context.Task.Token`` to whoever must answer)."""

    state: str
    resource: str
    token: str
    arguments: Any


#: How a test answers a task token: ``("success", output)``, ``("failure", error, cause)``,
#: ``("timeout",)`` (``States.Timeout``), ``("heartbeat_timeout",)``
#: (``States.HeartbeatTimeout``), or a :data:`~lambdaless.testing.mocks.MockedResponse`.
TaskTokenAnswer = tuple[str] | tuple[str, Any] | tuple[str, str, str] | MockedResponse
TaskTokenHandler = Callable[[TaskTokenRequest], TaskTokenAnswer | None]


@dataclass(frozen=True)
class RunResult:
    """What one local execution did.

    ``transitions`` counts ``*StateEntered`` history events: one per state entered, including
    every state inside each Map iteration and Parallel branch, which is the unit Standard
    workflows bill. AWS's pricing page also bills each retry attempt as a transition; that count
    is ``billed_transitions`` (``transitions + retries``).
    """

    status: Status
    output: Any
    error: str | None
    cause: str | None
    states: list[str]
    transitions: int
    retry_delays: list[tuple[str, float]]
    wait_delays: list[float]
    history: list[dict[str, Any]]
    calls: list[TaskCall] = field(default_factory=list)
    #: with ``s3=`` seeds: every object after the run and those it wrote; else ``None``
    s3: S3Contents | None = None

    @property
    def retries(self) -> int:
        """Retry attempts made (one per back-off requested)."""
        return len(self.retry_delays)

    @property
    def billed_transitions(self) -> int:
        """State transitions as AWS bills Standard workflows: states entered plus retries."""
        return self.transitions + self.retries

    def calls_to(self, state: str) -> list[TaskCall]:
        """Every invocation of Task ``state``, in order."""
        return [call for call in self.calls if call.state == state]


# Tasks the runner never lets through to moto's own integrations: moto has no backend for them
# (Bedrock runtime, HTTPS endpoints), so an unmocked call could only fail obscurely.
_ALWAYS_MOCKED = (":::bedrock:", ":::aws-sdk:bedrock", ":::http:")
# With S3 seeds, unmocked Tasks of the S3 SDK integration run against moto's S3.
_S3_TASK = ":::aws-sdk:s3:"


def _task_resources(states: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    for name, state in states.items():
        if state.get("Type") == "Task":
            yield name, str(state.get("Resource", ""))
        for branch in state.get("Branches", []):
            yield from _task_resources(branch.get("States", {}))
        for key in ("ItemProcessor", "Iterator"):
            if key in state:
                yield from _task_resources(state[key].get("States", {}))


class _Session:
    """Answers the engine for one execution (implements ``_moto_hooks.Mocker``)."""

    def __init__(
        self,
        tasks: Mapping[str, str],
        responses: Mapping[str, list[MockedResponse]],
        task_tokens: TaskTokenHandler | Mapping[str, Any] | None,
        passthrough: bool,
        repeat_last: bool,
        s3: bool = False,
    ) -> None:
        self.tasks = tasks
        self.responses = responses
        self.task_tokens = task_tokens
        self.passthrough = passthrough
        self.s3 = s3
        self.repeat_last = repeat_last
        self.lock = threading.Lock()
        self.counts: dict[str, int] = {}
        self.calls: list[TaskCall] = []
        self.retry_delays: list[tuple[str, float]] = []
        self.wait_delays: list[float] = []
        self.missing: dict[str, str] = {}
        self.misshapen: dict[str, str] = {}

    def _is_token_task(self, state: str) -> bool:
        return self.tasks.get(state, "").endswith(".waitForTaskToken")

    def handles(self, state_name: str) -> bool:
        if state_name in self.responses or self._is_token_task(state_name):
            return True
        resource = self.tasks.get(state_name, "")
        if self.s3 and _S3_TASK in resource:
            return False
        return not (self.passthrough and not any(m in resource for m in _ALWAYS_MOCKED))

    def answer(self, state_name: str, task_token: str | None, arguments: Any) -> Any:
        from lambdaless.testing._moto_hooks import (
            ScriptedReturn,
            ScriptedThrow,
        )

        resource = self.tasks.get(state_name, "")
        token = task_token if self._is_token_task(state_name) else None
        with self.lock:
            invocation = self.counts.get(state_name, 0)
            self.counts[state_name] = invocation + 1
            self.calls.append(TaskCall(state_name, resource, arguments, invocation, token))
        refused = service_refusal(resource, arguments) if token is None else None
        if refused is not None:  # AWS refuses the request itself: no mock answers it
            return ScriptedThrow(refused.error, refused.cause)
        response = self._scripted(state_name, resource, token, arguments, invocation)
        if response is None:
            message = self._missing_message(state_name, resource, token is not None, invocation)
            with self.lock:
                self.missing.setdefault(state_name, message)
            # moto turns this into a States.Runtime failure of the state, with this cause;
            # run() then raises MissingMockError whatever the state machine caught.
            raise MissingMockError(message)
        problem = check_shape(resource, arguments, response) if token is None else None
        if problem is not None:
            message = f"the mock of Task state {state_name!r} (invocation {invocation}): {problem}"
            with self.lock:
                self.misshapen.setdefault(state_name, message)
            raise MockShapeError(message)
        if isinstance(response, Throw):
            return ScriptedThrow(response.error, response.cause)
        return ScriptedReturn(response.payload)

    def _scripted(
        self, state: str, resource: str, token: str | None, arguments: Any, invocation: int
    ) -> MockedResponse | None:
        scripted = self.responses.get(state)
        if scripted:
            # Response n answers invocation n. As in Step Functions Local, an invocation beyond
            # the last response has no mock; repeat_last=True opts into the last one answering
            # every later invocation.
            if invocation < len(scripted):
                return scripted[invocation]
            return scripted[-1] if self.repeat_last else None
        if token is None or self.task_tokens is None:
            return None
        handler = self.task_tokens
        if isinstance(handler, Mapping):
            if state not in handler:
                return None
            handler = handler[state]
        request = TaskTokenRequest(state, resource, token, arguments)
        answer = handler(request) if callable(handler) else handler
        return None if answer is None else _token_answer(state, answer)

    def _missing_message(
        self, state: str, resource: str, is_token_task: bool, invocation: int
    ) -> str:
        scripted = self.responses.get(state)
        if scripted:
            last = len(scripted) - 1
            covered = "invocation 0" if last == 0 else f"invocations 0-{last}"
            return (
                f"Task state {state!r} ({resource}) was invoked {invocation + 1} times (retries "
                f"count) but its mocked responses cover only {covered}: add a response for "
                f'invocation {invocation} (in a mock config, the key "{invocation}"), or pass '
                "repeat_last=True to let the last response answer every later invocation"
            )
        how = f"responses={{{state!r}: ...}} or a mock config test case entry for {state!r}"
        if is_token_task:
            how += f", or answer its task token with task_tokens={{{state!r}: ...}}"
        if _S3_TASK in resource:
            how += (
                ", or run it on moto's S3 with seeds (s3=..., or <Name>.s3.json beside the "
                "mock file for `lambdaless run`)"
            )
        return f"Task state {state!r} ({resource}) ran without a mock: pass {how}"

    def record_retry(self, state_name: str, seconds: float) -> None:
        with self.lock:
            self.retry_delays.append((state_name, seconds))

    def record_wait(self, state_name: str, seconds: float) -> None:
        del state_name
        with self.lock:
            self.wait_delays.append(seconds)


#: Timeout answers to a task token -> the error the task fails with (AWS docs, "Handling errors
#: in Step Functions workflows": TimeoutSeconds -> States.Timeout, HeartbeatSeconds ->
#: States.HeartbeatTimeout).
_TOKEN_TIMEOUTS = {"timeout": "States.Timeout", "heartbeat_timeout": "States.HeartbeatTimeout"}


def _token_answer(state: str, answer: Any) -> MockedResponse:
    if isinstance(answer, Return | Throw):
        return answer
    if isinstance(answer, tuple) and len(answer) == 1 and answer[0] in _TOKEN_TIMEOUTS:
        return Throw(_TOKEN_TIMEOUTS[answer[0]])
    if isinstance(answer, tuple) and answer and answer[0] == "success" and len(answer) == 2:
        return Return(answer[1])
    if isinstance(answer, tuple) and answer and answer[0] == "failure" and 2 <= len(answer) <= 3:
        return Throw(str(answer[1]), str(answer[2]) if len(answer) == 3 else "")
    raise ValueError(
        f"task token answer for {state!r} is {answer!r}; expected ('success', output), "
        "('failure', error, cause), ('timeout',), ('heartbeat_timeout',), Return(...) or Throw(...)"
    )


def _check_mocks(scripted: Mapping[str, list[MockedResponse]]) -> None:
    """Every Return is JSON (no NaN, Decimal, sets...), and a Throw may name a ``States.*`` error
    only if Step Functions has it (``States.Http.*`` are the errors of HTTP Tasks)."""
    from lambdaless.testing._moto_hooks import states_error_names

    known = states_error_names()
    for state, responses in scripted.items():
        for response in responses:
            if isinstance(response, Return):
                try:
                    json.dumps(response.payload, allow_nan=False)
                except (TypeError, ValueError) as problem:
                    raise invalid(
                        f"the mock of {state!r}", response.payload, f"a JSON value ({problem})"
                    ) from None
            error = response.error if isinstance(response, Throw) else ""
            if (
                error.startswith("States.")
                and not error.startswith("States.Http.")
                and error not in known
            ):
                raise ValueError(
                    f"the mock of {state!r} throws {error!r}, which is not a Step Functions "
                    f"error; the States.* errors are {', '.join(sorted(known))}"
                )


def _execution_input(value: Any) -> Any:
    """The execution input as StartExecution takes it: any JSON text of at most 256 KiB."""
    if value is None:
        return {}
    try:
        text = json.dumps(value, allow_nan=False, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError) as error:
        raise invalid("input", value, f"a JSON value ({error})") from None
    size = len(text.encode("utf-8"))
    # AWS docs, "Step Functions service quotas": execution input at most 256 KiB.
    require(
        size <= PAYLOAD_MAX_BYTES,
        "input",
        f"{size:,} bytes of JSON",
        f"at most {PAYLOAD_MAX_BYTES:,} bytes (StartExecution refuses more)",
    )
    return json.loads(text)


def _plain_json(value: Any) -> Any:
    """JSONata results may be list subclasses; hand tests plain JSON values."""
    return json.loads(json.dumps(value, default=str))


def _event_type(event: Mapping[str, Any]) -> str:
    kind = event.get("type")
    return str(getattr(kind, "value", kind))


_run_numbers = itertools.count(1)


class LocalRunner:
    """Runs the state machines of a CDK ``Stack``, a template dict, a template file, a cdk.out
    folder, or a bare ASL definition dict (``{"StartAt": ..., "States": ...}``)."""

    def __init__(
        self,
        source: Any,
        *,
        passthrough: bool = False,
        account: str = LOCAL_PSEUDO_PARAMETERS["AWS::AccountId"],
        region: str = LOCAL_PSEUDO_PARAMETERS["AWS::Region"],
    ) -> None:
        """``passthrough``: unmocked Tasks other than Bedrock, HTTP and activities run moto's
        own integrations (use inside moto's ``mock_aws()``); by default they raise
        :class:`MissingMockError` (except S3 Tasks of a run with ``s3=`` seeds).
        ``account``/``region`` fill ARNs and the context object. The template's S3 buckets get
        local names (see :mod:`lambdaless.testing._local_s3`) wherever the definitions name
        them."""
        if isinstance(source, Mapping) and "States" in source and "StartAt" in source:
            self.machines = [
                SynthesizedStateMachine(
                    stack="",
                    logical_id="StateMachine",
                    path="StateMachine",
                    type="STANDARD",
                    definition=json.loads(json.dumps(source)),
                    resource={},
                )
            ]
        else:
            self.machines = [
                dataclasses.replace(
                    machine,
                    definition=localize(
                        machine.definition,
                        machine,
                        partition=LOCAL_PSEUDO_PARAMETERS["AWS::Partition"],
                        region=region,
                    ),
                )
                for machine in load(source, pseudo=LOCAL_PSEUDO_PARAMETERS)
            ]
        if not self.machines:
            raise ValueError(f"source={source!r} holds no AWS::StepFunctions::StateMachine")
        self.passthrough = passthrough
        self.account = account
        self.region = region
        # Parsed programs by definition text, for this runner's executions only.
        self._programs: dict[str, Any] = {}

    def state_machine(self, selector: str | None = None) -> SynthesizedStateMachine:
        """The state machine named by logical id, construct path or name (exact first, then a
        unique substring); ``None`` when there is only one."""
        if selector is None:
            if len(self.machines) == 1:
                return self.machines[0]
            raise ValueError(
                "state_machine= is required: the source holds "
                + ", ".join(m.path for m in self.machines)
            )
        for machine in self.machines:
            if selector in (machine.logical_id, machine.path, machine.name):
                return machine
        matches = [m for m in self.machines if selector in m.path or selector in m.logical_id]
        if len(matches) == 1:
            return matches[0]
        known = ", ".join(m.path for m in self.machines)
        if not matches:
            raise ValueError(f"state_machine={selector!r} matches none of: {known}")
        raise ValueError(f"state_machine={selector!r} matches several of: {known}")

    def run(
        self,
        state_machine: str | None = None,
        input: Any = None,
        *,
        mock_config: MockConfig | Mapping[str, Any] | str | Path | None = None,
        test_case: str | None = None,
        responses: Mapping[str, Sequence[MockedResponse] | MockedResponse | Any] | None = None,
        task_tokens: TaskTokenHandler | Mapping[str, Any] | None = None,
        timeout_seconds: float = 30,
        repeat_last: bool = False,
        execution_name: str | None = None,
        s3: S3Seeds | Mapping[str, Any] | str | Path | None = None,
    ) -> RunResult:
        """Run one execution to its end and report it.

        ``input``: the execution input, any JSON value (object, array, string, number, boolean
        or null, as StartExecution accepts); ``None`` (the default) is ``{}``.
        ``mock_config``/``test_case``: a Step Functions Local mock-config file (path, JSON string
        or dict) and the test case to use (optional when there is one). Its ``StateMachines`` key
        is the state machine's name or logical id, or the only key in the file.
        ``responses``: state name -> responses, one per invocation of that state (retries
        included). Merged over the test case. Invocations are counted per state across the whole
        execution, in the order they happen; Map iterations run one at a time in item order, so
        the same item gets the same responses on every run.
        ``repeat_last``: let a state's last response answer every invocation beyond its
        responses; by default such an invocation has no mock, as in Step Functions Local.
        ``task_tokens``: answers for ``.waitForTaskToken`` tasks without a scripted response,
        either a callable receiving a :class:`TaskTokenRequest` or a mapping of state name to an
        answer or such a callable; an answer is ``("success", output)``,
        ``("failure", error, cause)``, ``("timeout",)``, ``("heartbeat_timeout",)``, ``Return``
        or ``Throw`` (see the module docstring for timeouts).
        ``timeout_seconds``: wall-clock limit; past it the result is ``TIMED_OUT``.
        ``execution_name``: the execution's name (``$states.context.Execution.Name``), as
        StartExecution's ``name``: 1 to 80 characters; by default a unique ``local-...`` name.
        ``s3``: S3 seeds (a seed file's path, JSON text, a parsed document or ``S3Seeds``; see
        :mod:`lambdaless.testing.s3_seeds`): the run happens in moto's S3 (``mock_aws()``)
        with the template's buckets created and the seeds of ``test_case`` written, and its
        S3 Tasks and Map readers and writers use that S3; every other Task still needs a mock.
        The result's ``s3`` holds every object after the run and those it wrote.

        Raises :class:`MissingMockError` if any Task ran without a mock, and
        :class:`MockShapeError` if a mocked result has a shape its integration never returns.
        """
        from lambdaless.testing import _moto_hooks

        machine = self.state_machine(state_machine)
        seeds = None if s3 is None else S3Seeds.load(s3)
        scripted: dict[str, list[MockedResponse]] = {}
        case = test_case
        if mock_config is not None:
            config = MockConfig.load(mock_config)
            key = config.machine_key([machine.name, machine.logical_id, machine.path])
            scripted.update(config.test_case(key, test_case))
            if case is None:  # the only test case, which config.test_case has just checked
                case = next(iter(config.state_machines[key]))
            if seeds is not None:
                seeds.check_test_cases(c for cases in config.state_machines.values() for c in cases)
        elif test_case is not None:
            raise ValueError("test_case= needs mock_config=")
        for state, value in (responses or {}).items():
            scripted[state] = responses_from(value)

        tasks = dict(_task_resources(machine.definition.get("States", {})))
        activities = sorted(state for state, resource in tasks.items() if ":activity:" in resource)
        if activities:
            # moto's activity tasks wait for a real worker and ignore mocks.
            raise NotImplementedError(
                f"activity Task states {activities} cannot run locally; mock a service task instead"
            )
        unknown = sorted(set(scripted) - set(tasks))
        if unknown:
            raise ValueError(
                f"mocks name {unknown}, which are not Task states of {machine.path}; "
                f"its Task states are {sorted(tasks)}"
            )
        _check_mocks(scripted)
        require(
            isinstance(timeout_seconds, int | float) and timeout_seconds > 0,
            "timeout_seconds",
            timeout_seconds,
            "a number of seconds above 0",
        )
        execution_input = _execution_input(input)
        session = _Session(
            tasks, scripted, task_tokens, self.passthrough, repeat_last, s3=seeds is not None
        )
        if execution_name is None:
            execution_name = f"local-{next(_run_numbers)}-{uuid.uuid4().hex[:8]}"
        # Step Functions API reference, StartExecution: name, 1 to 80 characters.
        require(
            isinstance(execution_name, str) and 1 <= len(execution_name) <= 80,
            "execution_name",
            execution_name,
            "a name of 1 to 80 characters (StartExecution's name)",
        )
        definition = json.dumps(machine.definition)
        if definition not in self._programs:
            self._programs[definition] = _moto_hooks.parse(definition)
        execution = _moto_hooks.Execution(
            program=self._programs[definition],
            definition=definition,
            state_machine_name=machine.name,
            state_machine_type=machine.type,
            execution_name=execution_name,
            execution_input=execution_input,
            mocker=session,
            account=self.account,
            region=self.region,
        )
        world: AbstractContextManager[LocalS3 | None] = nullcontext()
        if seeds is not None:
            world = plan(
                machine,
                seeds,
                test_case=case,
                execution_name=execution_name,
                region=self.region,
            )
        with world as local_s3:
            finished = execution.run(timeout_seconds)
            contents = local_s3.contents() if local_s3 is not None else None
        status, output, error, cause = execution.outcome()
        if not finished:
            status, error = "TIMED_OUT", "LocalRunner.Timeout"
            cause = (
                f"the execution was still running after timeout_seconds={timeout_seconds} of "
                "wall time (an unanswered task token, or a loop that never ends?)"
            )
        if session.missing:
            raise MissingMockError("\n".join(session.missing.values()))
        if session.misshapen:
            raise MockShapeError("\n".join(session.misshapen.values()))

        history = execution.history()
        entered = [
            event["stateEnteredEventDetails"]["name"]
            for event in history
            if _event_type(event).endswith("StateEntered")
        ]
        return RunResult(
            status=status,  # type: ignore[arg-type]
            output=_plain_json(output) if status == "SUCCEEDED" else None,
            error=error,
            cause=cause,
            states=entered,
            transitions=len(entered),
            retry_delays=list(session.retry_delays),
            wait_delays=list(session.wait_delays),
            history=history,
            calls=list(session.calls),
            s3=contents,
        )
