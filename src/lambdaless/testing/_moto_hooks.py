"""Every hook into moto's private Step Functions engine, kept in this one module.

moto 5.2.5 ships a port of LocalStack's ASL interpreter (``moto.stepfunctions.parser``). It runs
state machines for real but, out of the box, evaluates no JSONata, rejects ``http:invoke``,
really sleeps in Wait states and Retry back-offs, and ignores its own mock-config machinery.
This module fixes that, and nothing else in :mod:`lambdaless.testing` imports moto.

Hooks, all installed by :func:`install` (idempotent) and all verified by
:func:`check_moto_internals`:

1. JSONata: ``parser.asl.jsonata.jsonata._eval_jsonata`` (the evaluator moto leaves ``None``) is
   set to a ``jsonata-python`` evaluator, and ``encode_jsonata_variable_declarations`` (bound by
   name in ``parser.asl.eval.states`` and ``parser.asl.eval.variable_store``) is replaced by one
   that JSON-escapes string values: moto writes ``"<value>"`` unescaped, so any variable holding a
   quote or a backslash (common in model output) broke every later expression. ``$uuid`` and
   ``$hash``, which moto stubs, are provided natively (their stub declarations are dropped from
   ``parser.asl.component.intrinsic.jsonata._DECLARATION_BY_VARIABLE_REFERENCE``). A JSONata
   error surfaces as ``States.Runtime`` whose cause names ``States.QueryEvaluationError``.
2. Task mocking: executions run in a ``LocalEnvironment`` (a subclass of moto's ``Environment``
   that every frame moto opens for Map/Parallel/Task keeps: its ``as_frame_of`` re-applies the
   subclass, which moto's builds through the base class) whose
   ``is_mocked_mode``/``get_current_mocked_response`` ask the runner's :class:`Mocker` instead of
   moto's ``MockTestCase`` lookup; moto's own ``mock_eval_utils`` then returns or throws.
   ``StateTask._eval_parameters`` is wrapped to hand the evaluated task arguments to the mocker.
   ``state_task_factory.state_task_service_for`` is wrapped so ``arn:aws:states:::http:invoke``
   parses (moto raises "Unknown service 'http'"), and ``CustomErrorName.__init__`` accepts the
   ``States.Http.*`` error names of HTTP Tasks (moto refuses any custom name starting with
   ``States.``, so ``ErrorEquals: ["States.Http.StatusCode.429"]`` failed to parse).
   ``.sync``/``.sync:2`` tasks: ``StateTaskServiceCallback._eval_body`` refuses every pattern
   but ``.waitForTaskToken`` for services it has no poller for (``bedrock``, ``sagemaker``,
   ``codebuild``...) before any mock is consulted; in a local execution a *mocked* ``.sync``
   task skips that check (``StateTaskService._eval_body`` runs instead) and, as in Step
   Functions Local, the mocked response is the task's final (describe) result, a Throw its
   failure. Unmocked, moto's own behaviour is kept.
   Mocked ``States.*`` errors: ``mock_eval_utils._eval_mocked_response_throw`` builds a
   ``CustomErrorName``, which refuses ``States.*``; for local executions a Throw naming one of
   moto's ``StatesErrorNameType`` names (``States.Timeout``, ``States.HeartbeatTimeout``,
   ``States.TaskFailed``...) raises a ``StatesErrorName`` instead, so ``ErrorEquals`` matches it
   as it would the real error (``States.Timeout``/``States.HeartbeatTimeout`` are recorded as a
   ``TaskTimedOut`` event, like moto's own timeouts; ``States.TaskFailed`` does not catch them).
3. Virtual time: ``WaitFunction._wait_interval`` and the ``time.sleep`` inside
   ``RetrierDecl._eval_body`` record the requested seconds instead of sleeping, but only for
   executions running in a :class:`LocalEnvironment`; other moto users keep real time.
4. Threads: ``LocalExecutionWorker`` (a subclass of ``backend.execution_worker.ExecutionWorker``)
   runs a pre-parsed program on the worker's thread and signals an event when done, so the runner
   waits synchronously with a deadline; finished threads are pruned from ``parser.utils.
   TMP_THREADS``, which moto only ever appends to. moto's parse-time warning that it would
   forward ``bedrock:*`` tasks to the real service is filtered out (the runner never does).
"""

from __future__ import annotations

import copy
import hashlib
import importlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Protocol

from lambdaless.limits import PAYLOAD_MAX_BYTES

MOTO_VERSION = "5.2.5"
_PARSER = "moto.stepfunctions.parser"

#: (module, attribute) pairs this module relies on; checked by :func:`check_moto_internals`.
_INTERNALS: tuple[tuple[str, str], ...] = (
    (f"{_PARSER}.asl.jsonata.jsonata", "_eval_jsonata"),
    (f"{_PARSER}.asl.jsonata.jsonata", "eval_jsonata_expression"),
    (f"{_PARSER}.asl.jsonata.jsonata", "encode_jsonata_variable_declarations"),
    (f"{_PARSER}.asl.jsonata.jsonata", "JSONataException"),
    (f"{_PARSER}.asl.eval.states", "encode_jsonata_variable_declarations"),
    (f"{_PARSER}.asl.eval.variable_store", "encode_jsonata_variable_declarations"),
    (f"{_PARSER}.asl.component.intrinsic.jsonata", "_DECLARATION_BY_VARIABLE_REFERENCE"),
    (f"{_PARSER}.asl.component.common.error_name.custom_error_name", "CustomErrorName.__init__"),
    (f"{_PARSER}.asl.component.common.error_name.error_name", "ErrorName.__init__"),
    (f"{_PARSER}.asl.eval.environment", "Environment"),
    (f"{_PARSER}.asl.eval.environment", "Environment.is_mocked_mode"),
    (f"{_PARSER}.asl.eval.environment", "Environment.get_current_mocked_response"),
    (f"{_PARSER}.asl.eval.environment", "Environment.as_inner_frame_of"),
    (f"{_PARSER}.asl.eval.environment", "Environment.as_frame_of"),
    (f"{_PARSER}.asl.eval.environment", "Environment.program_state"),
    (f"{_PARSER}.asl.eval.environment", "Environment.set_timed_out"),
    (f"{_PARSER}.mocking.mock_config", "MockTestCase"),
    (f"{_PARSER}.mocking.mock_config", "MockedResponseReturn"),
    (f"{_PARSER}.mocking.mock_config", "MockedResponseThrow"),
    (f"{_PARSER}.asl.component.state.exec.state_task.mock_eval_utils", "eval_mocked_response"),
    (f"{_PARSER}.asl.component.state.exec.state_task.state_task", "StateTask._eval_parameters"),
    (
        f"{_PARSER}.asl.component.state.exec.state_task.state_task_factory",
        "state_task_service_for",
    ),
    (
        f"{_PARSER}.asl.component.state.exec.state_task.service.state_task_service",
        "StateTaskService._eval_service_task",
    ),
    (
        f"{_PARSER}.asl.component.state.exec.state_task.service.state_task_service",
        "StateTaskService._validate_service_integration_is_supported",
    ),
    (
        f"{_PARSER}.asl.component.state.exec.state_task.service.state_task_service",
        "StateTaskService._eval_body",
    ),
    (
        f"{_PARSER}.asl.component.state.exec.state_task.service.state_task_service_callback",
        "StateTaskServiceCallback._eval_body",
    ),
    (f"{_PARSER}.asl.component.state.exec.state_task.service.resource", "ResourceCondition.Sync"),
    (
        f"{_PARSER}.asl.component.state.exec.state_task.service.resource",
        "ResourceCondition.Sync2",
    ),
    (
        f"{_PARSER}.asl.component.state.exec.state_task.mock_eval_utils",
        "_eval_mocked_response_throw",
    ),
    (f"{_PARSER}.asl.component.common.error_name.states_error_name", "StatesErrorName.from_name"),
    (f"{_PARSER}.asl.component.common.error_name.states_error_name_type", "StatesErrorNameType"),
    (
        f"{_PARSER}.asl.component.common.error_name.states_error_name_type",
        "StatesErrorNameType.to_name",
    ),
    (f"{_PARSER}.asl.component.common.error_name.failure_event", "FailureEvent"),
    (f"{_PARSER}.asl.component.common.error_name.failure_event", "FailureEventException"),
    (f"{_PARSER}.asl.eval.event.event_detail", "EventDetails"),
    (f"{_PARSER}.api", "HistoryEventType.TaskFailed"),
    (f"{_PARSER}.api", "HistoryEventType.TaskTimedOut"),
    (f"{_PARSER}.api", "TaskFailedEventDetails"),
    (f"{_PARSER}.api", "TaskTimedOutEventDetails"),
    (f"{_PARSER}.asl.component.state.wait.wait_function.wait_function", "WaitFunction"),
    (
        f"{_PARSER}.asl.component.state.wait.wait_function.wait_function",
        "WaitFunction._wait_interval",
    ),
    (f"{_PARSER}.asl.component.common.retry.retrier_decl", "RetrierDecl._eval_body"),
    (f"{_PARSER}.asl.component.common.retry.retrier_decl", "time"),
    (f"{_PARSER}.asl.parse.asl_parser", "AmazonStateLanguageParser.parse"),
    (f"{_PARSER}.backend.execution_worker", "ExecutionWorker._execution_logic"),
    (f"{_PARSER}.backend.execution_worker", "ExecutionWorker._get_evaluation_environment"),
    (f"{_PARSER}.backend.execution_worker", "ExecutionWorker._get_evaluation_entrypoint"),
    (f"{_PARSER}.backend.execution_worker_comm", "ExecutionWorkerCommunication"),
    (f"{_PARSER}.asl.eval.evaluation_details", "EvaluationDetails"),
    (f"{_PARSER}.asl.eval.evaluation_details", "AWSExecutionDetails"),
    (f"{_PARSER}.asl.eval.evaluation_details", "ExecutionDetails"),
    (f"{_PARSER}.asl.eval.evaluation_details", "StateMachineDetails"),
    (f"{_PARSER}.asl.eval.program_state", "ProgramEnded"),
    (f"{_PARSER}.asl.eval.program_state", "ProgramError"),
    (f"{_PARSER}.asl.eval.program_state", "ProgramStopped"),
    (f"{_PARSER}.asl.eval.program_state", "ProgramTimedOut"),
    (f"{_PARSER}.api", "StateMachineType"),
    (f"{_PARSER}.utils", "TMP_THREADS"),
    (f"{_PARSER}.asl.component.common.error_name.error_equals_decl", "ErrorEqualsDecl._eval_body"),
    (f"{_PARSER}.asl.component.state.exec.execute_state", "ExecutionState._from_error"),
    (
        f"{_PARSER}.asl.component.state.exec.state_map.max_concurrency",
        "MaxConcurrencyDecl._eval_body",
    ),
    (f"{_PARSER}.asl.component.state.state", "is_within_size_quota"),
    (
        f"{_PARSER}.asl.component.state.exec.state_task.service.state_task_service",
        "is_within_size_quota",
    ),
)


class MotoInternalsError(RuntimeError):
    """moto's private Step Functions engine no longer has something the local runner hooks."""


def _resolve(module_name: str, attribute: str) -> Any:
    module: Any = importlib.import_module(module_name)
    value = module
    for part in attribute.split("."):
        value = getattr(value, part)
    return value


def check_moto_internals() -> None:
    """Import every moto internal the runner patches; raise :class:`MotoInternalsError` naming
    each one that is missing (e.g. after a moto upgrade), with the pinned version to go back to.
    """
    missing: list[str] = []
    for module_name, attribute in _INTERNALS:
        try:
            _resolve(module_name, attribute)
        except (ImportError, AttributeError) as error:
            missing.append(f"{module_name}.{attribute} ({type(error).__name__}: {error})")
    if missing:
        from importlib.metadata import version

        raise MotoInternalsError(
            f"lambdaless.testing needs moto=={MOTO_VERSION} (installed: {version('moto')}); "
            "these internals of moto's Step Functions engine are missing: " + "; ".join(missing)
        )


# --------------------------------------------------------------------------------------------
# What the runner provides to the engine
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScriptedReturn:
    """A task result handed to the engine."""

    payload: Any


@dataclass(frozen=True)
class ScriptedThrow:
    """A task failure handed to the engine."""

    error: str
    cause: str


Scripted = ScriptedReturn | ScriptedThrow


class Mocker(Protocol):
    """The runner-side object that answers the engine for one execution."""

    def handles(self, state_name: str) -> bool:
        """Whether the task ``state_name`` is answered by the mocker (else moto runs it)."""

    def answer(self, state_name: str, task_token: str | None, arguments: Any) -> Scripted:
        """The outcome of one invocation of task ``state_name``."""

    def record_retry(self, state_name: str, seconds: float) -> None:
        """A Retry back-off of ``seconds`` was requested after ``state_name`` failed."""

    def record_wait(self, state_name: str, seconds: float) -> None:
        """Wait state ``state_name`` asked to wait ``seconds``."""


_installed = False
_install_lock = threading.Lock()
_thread = threading.local()


def install() -> None:
    """Apply every hook (idempotent). Raises :class:`MotoInternalsError` if moto moved."""
    global _installed
    with _install_lock:
        if _installed:
            return
        check_moto_internals()
        _install_jsonata()
        _install_task_hooks()
        _install_virtual_time()
        _install_strictness()
        _installed = True


# --------------------------------------------------------------------------------------------
# 1. JSONata
# --------------------------------------------------------------------------------------------


def _native_uuid() -> str:
    return str(uuid.uuid4())


# The algorithms Step Functions' $hash accepts (AWS docs, "Transforming data with JSONata in
# Step Functions": MD5, SHA-1, SHA-256, SHA-384, SHA-512).
_HASH_ALGORITHMS = {
    "MD5": "md5",
    "SHA-1": "sha1",
    "SHA-256": "sha256",
    "SHA-384": "sha384",
    "SHA-512": "sha512",
}


def _native_hash(value: Any, algorithm: Any = "SHA-256") -> str:
    name = _HASH_ALGORITHMS.get(str(algorithm))
    if name is None:
        raise ValueError(f"$hash algorithm {algorithm!r} is not one of {sorted(_HASH_ALGORITHMS)}")
    return hashlib.new(name, str(value).encode()).hexdigest()


def _eval_jsonata(expression: str) -> Any:
    """Evaluate one composed JSONata expression (moto inlines every binding as a declaration)."""
    import jsonata  # type: ignore[import-untyped]
    from moto.stepfunctions.parser.asl.jsonata.jsonata import JSONataException

    try:
        compiled = jsonata.Jsonata(expression)
        compiled.register_lambda("uuid", _native_uuid)
        compiled.register_lambda("hash", _native_hash)
        return compiled.evaluate(None)
    except Exception as error:
        raise JSONataException("States.QueryEvaluationError", str(error)) from error


def _encode_declarations(bindings: dict[str, Any]) -> str:
    """``$name:=<json>;`` for every binding, with strings JSON-escaped (JSONata accepts JSON's
    string escapes), unlike moto's encoder which wraps strings in quotes unescaped."""
    return "".join(
        f"{name}:={json.dumps(value, separators=(',', ':'), default=str)};"
        for name, value in bindings.items()
    )


def _install_jsonata() -> None:
    jsonata_module = importlib.import_module(f"{_PARSER}.asl.jsonata.jsonata")
    jsonata_module._eval_jsonata = _eval_jsonata  # type: ignore[attr-defined]
    for module_name in (
        f"{_PARSER}.asl.jsonata.jsonata",
        f"{_PARSER}.asl.eval.states",
        f"{_PARSER}.asl.eval.variable_store",
    ):
        module = importlib.import_module(module_name)
        module.encode_jsonata_variable_declarations = _encode_declarations  # type: ignore[attr-defined]
    # moto declares stub bodies for these that return "not supported" strings; dropping the
    # declarations lets the natively registered functions answer instead.
    declarations: dict[str, str] = _resolve(
        f"{_PARSER}.asl.component.intrinsic.jsonata", "_DECLARATION_BY_VARIABLE_REFERENCE"
    )
    declarations.pop("$uuid", None)
    declarations.pop("$hash", None)


# --------------------------------------------------------------------------------------------
# 2. Task mocking
# --------------------------------------------------------------------------------------------


def _environment_base() -> type:
    return _resolve(f"{_PARSER}.asl.eval.environment", "Environment")  # type: ignore[no-any-return]


def _mock_test_case_base() -> type:
    return _resolve(f"{_PARSER}.mocking.mock_config", "MockTestCase")  # type: ignore[no-any-return]


_classes: dict[str, type] = {}


def _local_classes() -> dict[str, type]:
    """Build (once) the subclasses of moto classes; deferred so that importing this module does
    not import moto."""
    if _classes:
        return _classes
    environment: Any = _environment_base()
    mock_test_case: Any = _mock_test_case_base()
    mock_config = importlib.import_module(f"{_PARSER}.mocking.mock_config")
    worker_module = importlib.import_module(f"{_PARSER}.backend.execution_worker")
    comm_module = importlib.import_module(f"{_PARSER}.backend.execution_worker_comm")

    class MockerCarrier(mock_test_case):  # type: ignore[misc]
        """Carries the runner's mocker to every frame (moto copies ``mock_test_case`` over)."""

        def __init__(self, mocker: Mocker, state_machine_name: str) -> None:
            super().__init__(
                state_machine_name=state_machine_name,
                test_case_name="lambdaless",
                state_mocked_responses_list=[],
            )
            self.mocker = mocker

    class LocalEnvironment(environment):  # type: ignore[misc]
        """moto's Environment, answering task mocks from the runner's mocker."""

        lambdaless_arguments: Any = None

        @classmethod
        def as_frame_of(cls, env: Any, event_history_frame_cache: Any = None) -> Any:
            # moto builds these frames through ``Environment.as_inner_frame_of``, which would
            # drop the subclass; Map, Parallel and every Task evaluation run in such frames.
            frame = super().as_frame_of(
                env=env, event_history_frame_cache=event_history_frame_cache
            )
            frame.__class__ = cls
            return frame

        @property
        def mocker(self) -> Mocker:
            return self.mock_test_case.mocker  # type: ignore[no-any-return]

        def is_mocked_mode(self) -> bool:
            name = self.next_state_name
            return name is not None and self.mocker.handles(name)

        def get_current_mocked_response(self) -> Any:
            name = str(self.next_state_name)
            task = self.states.context_object.context_object_data.get("Task") or {}
            outcome = self.mocker.answer(name, task.get("Token"), self.lambdaless_arguments)
            if isinstance(outcome, ScriptedThrow):
                return mock_config.MockedResponseThrow(0, 0, outcome.error, outcome.cause)
            return mock_config.MockedResponseReturn(0, 0, copy.deepcopy(outcome.payload))

    class DoneSignal(comm_module.ExecutionWorkerCommunication):  # type: ignore[misc, name-defined]
        def terminated(self) -> None:
            """The runner reads the outcome from the environment once the worker is done."""

    class LocalExecutionWorker(worker_module.ExecutionWorker):  # type: ignore[misc, name-defined]
        """moto's worker with a pre-parsed program, a LocalEnvironment and a done event."""

        def __init__(self, program: Any, done: threading.Event, **kwargs: Any) -> None:
            super().__init__(exec_comm=DoneSignal(), **kwargs)
            self._program = program
            self._done = done
            self.crash: BaseException | None = None

        def _get_evaluation_entrypoint(self) -> Any:
            return self._program

        def _get_evaluation_environment(self) -> Any:
            env = super()._get_evaluation_environment()
            # Same state, our behaviour: LocalEnvironment adds methods, no fields, and moto
            # builds every later frame with ``cls(...)``, so they are LocalEnvironments too.
            env.__class__ = LocalEnvironment
            return env

        def _execution_logic(self) -> None:
            try:
                super()._execution_logic()
            except BaseException as error:  # surfaced by the runner
                self.crash = error
            finally:
                self._done.set()

    _classes.update(
        MockerCarrier=MockerCarrier,
        LocalEnvironment=LocalEnvironment,
        LocalExecutionWorker=LocalExecutionWorker,
    )
    return _classes


def _is_local(env: Any) -> bool:
    local = _classes.get("LocalEnvironment")
    return local is not None and isinstance(env, local)


def _http_task_class() -> type:
    service_module = importlib.import_module(
        f"{_PARSER}.asl.component.state.exec.state_task.service.state_task_service"
    )

    class StateTaskServiceHttp(service_module.StateTaskService):  # type: ignore[misc, name-defined]
        """``arn:aws:states:::http:invoke``: parses, and only ever runs mocked."""

        def _validate_service_integration_is_supported(self) -> None:
            """Every http:invoke parses; its arguments are kept whole for the mocks to see."""

        def _eval_service_task(self, env: Any, *args: Any, **kwargs: Any) -> None:
            raise RuntimeError(
                "http:invoke cannot call the network from the local runner; mock this state"
            )

    return StateTaskServiceHttp


class _QuietUnsupportedIntegration(logging.Filter):
    """moto warns at parse time that it would forward ``bedrock:*`` to the real service; the
    runner never lets it (it answers every such Task itself), so the warning is noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Unsupported Optimised service integration" not in record.getMessage()


def _install_task_hooks() -> None:
    _local_classes()
    logging.getLogger(
        f"{_PARSER}.asl.component.state.exec.state_task.service.state_task_service_unsupported"
    ).addFilter(_QuietUnsupportedIntegration())
    # moto logs every failure event of the workflow (a Catch route, a throttle to retry) at
    # ERROR with a dump of the whole component tree: expected outcomes here, reported by the
    # RunResult instead.
    logging.getLogger(f"{_PARSER}.asl.component.eval_component").setLevel(logging.CRITICAL)
    factory_module: Any = importlib.import_module(
        f"{_PARSER}.asl.component.state.exec.state_task.state_task_factory"
    )
    original_factory: Callable[[str], Any] = factory_module.state_task_service_for
    http_task = _http_task_class()

    def state_task_service_for(service_name: str) -> Any:
        if service_name == "http":
            return http_task()
        return original_factory(service_name)

    factory_module.state_task_service_for = state_task_service_for

    error_names: Any = importlib.import_module(
        f"{_PARSER}.asl.component.common.error_name.custom_error_name"
    )
    custom_error_name = error_names.CustomErrorName
    original_error_name_init = custom_error_name.__init__

    known = states_error_names()

    def error_name_init(self: Any, error_name: str | None) -> None:
        # AWS docs, "Call HTTPS APIs in Step Functions workflows": HTTP Tasks fail with
        # States.Http.StatusCode.<code> and States.Http.Socket. A failed Map iteration re-raises
        # its error by name, States.* names included (moto refused those, turning e.g. an
        # iteration's States.DataLimitExceeded into an unrelated ValueError).
        allowed = error_name in known or str(error_name).startswith("States.Http.")
        if error_name is not None and allowed:
            super(custom_error_name, self).__init__(error_name=error_name)
        else:
            original_error_name_init(self, error_name)

    custom_error_name.__init__ = error_name_init

    state_task: Any = _resolve(
        f"{_PARSER}.asl.component.state.exec.state_task.state_task", "StateTask"
    )
    original_eval_parameters = state_task._eval_parameters

    def _eval_parameters(self: Any, env: Any) -> Any:
        parameters = original_eval_parameters(self, env)
        if _is_local(env):
            # AWS docs, "Handling errors in Step Functions workflows": States.DataLimitExceeded
            # also when a state's input is over the quota after Parameters (Arguments).
            if not _within_payload_limit(parameters):
                raise _data_limit_failure(env, self.name, "was given arguments")
            env.lambdaless_arguments = copy.deepcopy(parameters)
        return parameters

    state_task._eval_parameters = _eval_parameters

    _install_sync_hook()
    _install_states_error_throw()


def _install_sync_hook() -> None:
    callback: Any = _resolve(
        f"{_PARSER}.asl.component.state.exec.state_task.service.state_task_service_callback",
        "StateTaskServiceCallback",
    )
    condition: Any = _resolve(
        f"{_PARSER}.asl.component.state.exec.state_task.service.resource", "ResourceCondition"
    )
    sync_conditions = (condition.Sync, condition.Sync2)
    original_eval_body = callback._eval_body

    def _eval_body(self: Any, env: Any) -> None:
        if self.resource.condition in sync_conditions and _is_local(env) and env.is_mocked_mode():
            # Skip moto's integration-pattern check (and its task token, which AWS gives only
            # to .waitForTaskToken tasks): the mocked response is the final result, as in Step
            # Functions Local, and moto's callback never polls in mocked mode.
            super(callback, self)._eval_body(env)
            return
        original_eval_body(self, env)

    callback._eval_body = _eval_body


def states_error_names() -> frozenset[str]:
    """The ``States.*`` error names a mocked Throw may use (moto's ``StatesErrorNameType``)."""
    names: Any = _resolve(
        f"{_PARSER}.asl.component.common.error_name.states_error_name_type", "StatesErrorNameType"
    )
    return frozenset(member.to_name() for member in names)


#: Errors that end a Task by timing out (AWS docs, "Handling errors in Step Functions
#: workflows"): their history event is TaskTimedOut, not TaskFailed.
_TIMEOUT_ERRORS = ("States.Timeout", "States.HeartbeatTimeout")


def _install_states_error_throw() -> None:
    mock_eval: Any = importlib.import_module(
        f"{_PARSER}.asl.component.state.exec.state_task.mock_eval_utils"
    )
    states_error_name: Any = _resolve(
        f"{_PARSER}.asl.component.common.error_name.states_error_name", "StatesErrorName"
    )
    failure: Any = importlib.import_module(
        f"{_PARSER}.asl.component.common.error_name.failure_event"
    )
    event_detail: Any = importlib.import_module(f"{_PARSER}.asl.eval.event.event_detail")
    api: Any = importlib.import_module(f"{_PARSER}.api")
    known = states_error_names()
    original_throw = mock_eval._eval_mocked_response_throw

    def _eval_mocked_response_throw(env: Any, mocked_response: Any) -> None:
        error: str = mocked_response.error
        if not _is_local(env) or error not in known:
            original_throw(env, mocked_response)
            return
        details = {"error": error, "cause": mocked_response.cause}
        if error in _TIMEOUT_ERRORS:
            event_type = api.HistoryEventType.TaskTimedOut
            event_details = event_detail.EventDetails(
                taskTimedOutEventDetails=api.TaskTimedOutEventDetails(**details)
            )
        else:
            event_type = api.HistoryEventType.TaskFailed
            event_details = event_detail.EventDetails(
                taskFailedEventDetails=api.TaskFailedEventDetails(**details)
            )
        raise failure.FailureEventException(
            failure_event=failure.FailureEvent(
                env=env,
                error_name=states_error_name.from_name(error),
                event_type=event_type,
                event_details=event_details,
            )
        )

    mock_eval._eval_mocked_response_throw = _eval_mocked_response_throw


# --------------------------------------------------------------------------------------------
# 3. Virtual time
# --------------------------------------------------------------------------------------------


def _state_name(env: Any) -> str:
    state = env.states.context_object.context_object_data.get("State") or {}
    return str(state.get("Name", env.next_state_name))


class _VirtualTime:
    """Stands in for ``time`` inside moto's retrier module: a Retry back-off requested by a
    local execution is recorded, not slept; anyone else's sleep is real."""

    def __init__(self, real: ModuleType) -> None:
        self._real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def sleep(self, seconds: float) -> None:
        record: Callable[[float], None] | None = getattr(_thread, "record_retry", None)
        if record is None:
            self._real.sleep(seconds)
        else:
            record(seconds)


def _install_virtual_time() -> None:
    wait_function: Any = _resolve(
        f"{_PARSER}.asl.component.state.wait.wait_function.wait_function", "WaitFunction"
    )
    original_wait = wait_function._wait_interval

    def _wait_interval(self: Any, env: Any, wait_seconds: int) -> None:
        if not _is_local(env):
            original_wait(self, env, wait_seconds)
            return
        env.mocker.record_wait(_state_name(env), max(float(wait_seconds), 0.0))

    wait_function._wait_interval = _wait_interval

    retrier_module: Any = importlib.import_module(
        f"{_PARSER}.asl.component.common.retry.retrier_decl"
    )
    retrier_module.time = _VirtualTime(time)
    retrier = retrier_module.RetrierDecl
    original_retrier = retrier._eval_body

    def _retrier_eval_body(self: Any, env: Any) -> None:
        if not _is_local(env):
            original_retrier(self, env)
            return
        name = _state_name(env)
        mocker: Mocker = env.mocker
        _thread.record_retry = lambda seconds: mocker.record_retry(name, float(seconds))
        try:
            original_retrier(self, env)
        finally:
            _thread.record_retry = None

    retrier._eval_body = _retrier_eval_body


# --------------------------------------------------------------------------------------------
# 4. As strict as AWS
# --------------------------------------------------------------------------------------------

#: Errors no ``States.ALL`` (or ``States.TaskFailed``) matches (AWS docs, "Handling errors in
#: Step Functions workflows": States.ALL "can't catch the States.DataLimitExceeded terminal
#: error type and runtime error types"; a States.Runtime error "isn't retriable, and will always
#: cause the execution to fail"). ``States.DataLimitExceeded`` still matches a Retrier or
#: Catcher that names it.
TERMINAL_ERRORS = ("States.Runtime", "States.DataLimitExceeded")
_NAMED_ONLY = "States.DataLimitExceeded"


def payload_bytes(value: Any) -> int:
    """Size of a state's data as Step Functions counts it: its JSON text in UTF-8 (a string
    value with its quotes)."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    return len(text.encode("utf-8"))


def _within_payload_limit(value: Any) -> bool:
    # AWS docs, "Step Functions service quotas": at most 256 KiB (262,144 bytes) of input or
    # output per task, state or execution; moto refuses exactly 262,144 bytes too.
    return payload_bytes(value) <= PAYLOAD_MAX_BYTES


def _data_limit_failure(env: Any, state_name: str, what: str) -> BaseException:
    failure: Any = importlib.import_module(
        f"{_PARSER}.asl.component.common.error_name.failure_event"
    )
    states_error_name: Any = _resolve(
        f"{_PARSER}.asl.component.common.error_name.states_error_name", "StatesErrorName"
    )
    event_detail: Any = importlib.import_module(f"{_PARSER}.asl.eval.event.event_detail")
    api: Any = importlib.import_module(f"{_PARSER}.api")
    cause = (
        f"The state/task '{state_name}' {what} with a size exceeding the maximum number of "
        "bytes service limit."
    )
    return failure.FailureEventException(  # type: ignore[no-any-return]
        failure_event=failure.FailureEvent(
            env=env,
            error_name=states_error_name.from_name(_NAMED_ONLY),
            event_type=api.HistoryEventType.TaskFailed,
            event_details=event_detail.EventDetails(
                taskFailedEventDetails=api.TaskFailedEventDetails(error=_NAMED_ONLY, cause=cause)
            ),
        )
    )


def _install_strictness() -> None:
    error_equals: Any = _resolve(
        f"{_PARSER}.asl.component.common.error_name.error_equals_decl", "ErrorEqualsDecl"
    )
    original_error_equals = error_equals._eval_body

    def _error_equals_eval_body(self: Any, env: Any) -> None:
        name = getattr(env.stack[-1], "error_name", None) if env.stack else None
        if not _is_local(env) or name not in TERMINAL_ERRORS:
            original_error_equals(self, env)
            return
        env.stack.pop()
        named = any(getattr(n, "error_name", None) == name for n in self.error_names)
        env.stack.append(name == _NAMED_ONLY and named)

    error_equals._eval_body = _error_equals_eval_body

    # A JSONata error is States.QueryEvaluationError, which Retry/Catch can match (AWS docs,
    # "Handling errors in Step Functions workflows"); moto reports any non-ASL exception from a
    # Task as the uncatchable States.Runtime.
    execute_state: Any = _resolve(
        f"{_PARSER}.asl.component.state.exec.execute_state", "ExecutionState"
    )
    jsonata_exception: Any = _resolve(f"{_PARSER}.asl.jsonata.jsonata", "JSONataException")
    original_from_error = execute_state._from_error

    def _from_error(self: Any, env: Any, ex: Exception) -> Any:
        if not (_is_local(env) and isinstance(ex, jsonata_exception)):
            return original_from_error(self, env, ex)
        failure: Any = importlib.import_module(
            f"{_PARSER}.asl.component.common.error_name.failure_event"
        )
        states_error_name: Any = _resolve(
            f"{_PARSER}.asl.component.common.error_name.states_error_name", "StatesErrorName"
        )
        event_detail: Any = importlib.import_module(f"{_PARSER}.asl.eval.event.event_detail")
        api: Any = importlib.import_module(f"{_PARSER}.api")
        error = "States.QueryEvaluationError"
        return failure.FailureEvent(
            env=env,
            error_name=states_error_name.from_name(error),
            event_type=api.HistoryEventType.TaskFailed,
            event_details=event_detail.EventDetails(
                taskFailedEventDetails=api.TaskFailedEventDetails(
                    error=error, cause=str(ex.details or "")
                )
            ),
        )

    execute_state._from_error = _from_error

    # Map iterations one at a time, in item order: on AWS the order of concurrent iterations is
    # not defined, so item order is one order AWS may produce, and the only one that gives each
    # item the same mocked responses on every run.
    max_concurrency: Any = _resolve(
        f"{_PARSER}.asl.component.state.exec.state_map.max_concurrency", "MaxConcurrencyDecl"
    )
    original_max_concurrency = max_concurrency._eval_body

    def _max_concurrency_eval_body(self: Any, env: Any) -> None:
        original_max_concurrency(self, env)
        if _is_local(env):
            env.stack[-1] = 1

    max_concurrency._eval_body = _max_concurrency_eval_body

    for module_name in (
        f"{_PARSER}.asl.component.state.state",
        f"{_PARSER}.asl.component.state.exec.state_task.service.state_task_service",
    ):
        importlib.import_module(module_name).is_within_size_quota = _within_payload_limit  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------------------
# 5. Running one execution
# --------------------------------------------------------------------------------------------


def parse(definition: str) -> Any:
    """moto's program for an ASL definition (its ANTLR parse costs most of a short run; the
    program holds no execution state, so one parse serves every execution)."""
    install()
    parser: Any = _resolve(f"{_PARSER}.asl.parse.asl_parser", "AmazonStateLanguageParser")
    program, _tree = parser.parse(definition)
    return program


class Execution:
    """One execution on moto's engine, started on the engine's own thread."""

    def __init__(
        self,
        *,
        definition: str,
        state_machine_name: str,
        state_machine_type: str,
        execution_name: str,
        execution_input: Any,
        mocker: Mocker,
        account: str,
        region: str,
        program: Any = None,
    ) -> None:
        """``program``: :func:`parse` of ``definition``, when the caller keeps it for reuse."""
        install()
        classes = _local_classes()
        details: Any = importlib.import_module(f"{_PARSER}.asl.eval.evaluation_details")
        api: Any = importlib.import_module(f"{_PARSER}.api")
        program = parse(definition) if program is None else program
        role_arn = f"arn:aws:iam::{account}:role/lambdaless-local"
        machine_arn = f"arn:aws:states:{region}:{account}:stateMachine:{state_machine_name}"
        execution_arn = (
            f"arn:aws:states:{region}:{account}:execution:{state_machine_name}:{execution_name}"
        )
        # The context object's Execution.StartTime is an ISO 8601 string (AWS docs, "Accessing
        # execution data from the Context object in Step Functions").
        start_time = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        self.done = threading.Event()
        self.worker: Any = classes["LocalExecutionWorker"](
            program=program,
            done=self.done,
            evaluation_details=details.EvaluationDetails(
                aws_execution_details=details.AWSExecutionDetails(
                    account=account, region=region, role_arn=role_arn
                ),
                execution_details=details.ExecutionDetails(
                    arn=execution_arn,
                    name=execution_name,
                    role_arn=role_arn,
                    inpt=execution_input,
                    start_time=start_time,
                ),
                state_machine_details=details.StateMachineDetails(
                    arn=machine_arn,
                    name=state_machine_name,
                    typ=api.StateMachineType(state_machine_type),
                    definition=definition,
                ),
            ),
            cloud_watch_logging_session=None,
            activity_store={},
            mock_test_case=classes["MockerCarrier"](mocker, state_machine_name),
        )

    def run(self, timeout_seconds: float) -> bool:
        """Start and wait; ``False`` if the execution is still running after the deadline."""
        self.worker.start()
        finished = self.done.wait(timeout_seconds)
        if not finished and self.worker.env is not None:
            self.worker.env.set_timed_out()
        _prune_finished_threads()
        return finished

    def outcome(self) -> tuple[str, Any, str | None, str | None]:
        """(status, output, error, cause) as moto's execution backend would report them."""
        if self.worker.crash is not None:
            raise self.worker.crash
        env = self.worker.env
        state: Any = env.program_state()
        states: Any = importlib.import_module(f"{_PARSER}.asl.eval.program_state")
        if isinstance(state, states.ProgramEnded):
            return "SUCCEEDED", env.states.get_input(), None, None
        if isinstance(state, states.ProgramError):
            error = state.error or {}
            return "FAILED", None, error.get("error"), error.get("cause")
        if isinstance(state, states.ProgramTimedOut):
            return "TIMED_OUT", None, "States.Timeout", None
        if isinstance(state, states.ProgramStopped):
            return "ABORTED", None, state.error, state.cause
        return "RUNNING", None, None, None

    def history(self) -> list[dict[str, Any]]:
        """The execution's history events as plain dicts, in order."""
        env = self.worker.env
        if env is None:
            return []
        return [dict(event) for event in env.event_manager.get_event_history()]


def _prune_finished_threads() -> None:
    """moto appends every engine thread to a module-level list and never clears it."""
    threads: list[threading.Thread] = _resolve(f"{_PARSER}.utils", "TMP_THREADS")
    threads[:] = [thread for thread in threads if thread.is_alive()]
