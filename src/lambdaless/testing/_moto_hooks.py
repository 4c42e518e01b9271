"""The local runner's engine: every hook into moto's private Step Functions engine, in this
one module.

moto (:data:`MOTO_VERSIONS`) ships a port of LocalStack's ASL interpreter
(``moto.stepfunctions.parser``). It runs state machines for real but, out of the box, evaluates
no JSONata, rejects ``http:invoke``, really sleeps in Wait states and Retry back-offs, and
ignores its own mock-config machinery. This module fixes that, and nothing else in
:mod:`lambdaless.testing` imports moto. The runner sees only its interface: :class:`Mocker`
(what the runner answers), :func:`parse`, :class:`Execution` (run, outcome, history),
:class:`ScriptedReturn`/:class:`ScriptedThrow`, :func:`states_error_names`, :func:`payload_bytes`.

The hooks are moto's only while a local execution runs: :func:`active` applies them when the
first run starts and undoes every one (attributes restored, log filters removed) when the last
one ends, so moto used directly in the same process behaves as moto. Before the first run,
:func:`check_moto_internals` compares every internal they touch with what they expect
(existence, signatures, kinds, instance attributes) and raises one error naming the moto
version and every difference. Hooks:

1. JSONata: ``parser.asl.jsonata.jsonata._eval_jsonata`` (the evaluator moto leaves ``None``) is
   set to a ``jsonata-python`` evaluator, and ``encode_jsonata_variable_declarations`` (bound by
   name in ``parser.asl.eval.states`` and ``parser.asl.eval.variable_store``) is replaced by one
   that JSON-escapes string values: moto writes ``"<value>"`` unescaped, so any variable holding a
   quote or a backslash (common in model output) broke every later expression. ``$uuid`` and
   ``$hash``, which moto stubs, and ``$partition``, which moto miscounts, are provided natively
   (their declarations are dropped from
   ``parser.asl.component.intrinsic.jsonata._DECLARATION_BY_VARIABLE_REFERENCE``). A JSONata
   error of a Task or Map/Parallel field is a catchable ``States.QueryEvaluationError`` (section
   4; a Task's ``Output`` is evaluated inside its Retry/Catch handling, as on AWS); elsewhere
   (a Pass or Choice) it surfaces as ``States.Runtime`` whose cause names it.
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
5. Distributed Maps (section 6): :func:`parse` takes out of the definition what moto's grammar
   refuses or misreads (``ItemBatcher``; ``ResultWriter`` with ``Arguments`` or ``WriterConfig``;
   ``ToleratedFailure*``; ItemReader ``InputType: "JSONL"``, read as ``"JSON"``) and hangs it on
   the parsed Map state.
   ``ResourceOutputTransformerJson._eval_body`` reads a JSONL object line by line;
   ``DistributedIterationComponent._map_run`` batches the items, runs every child and writes the
   results (or fails the Map over the tolerated failure threshold), and
   ``DistributedItemProcessorWorker._eval_job`` reports each child's status, error and cause
   (moto made a failed child's output ``null`` and carried on). The rules themselves are plain
   functions in :mod:`lambdaless.testing._map_run`. Every Map worker's ``_eval_pool`` runs its
   items in a loop instead of moto's recursion, which killed a worker past the recursion limit
   and left the execution waiting.
6. JSONPath: ``extract_json`` (bound by name in four modules) gives a definite path's one value,
   where moto gave a list for any path through an index.
   An ItemReader that cannot read its source fails the Map with ``States.ItemReaderFailed``
   (``ItemReader._eval_body``), not moto's uncatchable S3 client error.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import importlib
import inspect
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Protocol

from lambdaless.limits import PAYLOAD_MAX_BYTES
from lambdaless.testing._map_run import (
    OUTPUT_TYPES,
    TRANSFORMATIONS,
    ChildRun,
    MapRunError,
    batches,
    read_jsonl,
    result_files,
    threshold_exceeded,
    transformed,
)

#: The moto versions on which :func:`check_moto_internals` and the runner's tests pass (see
#: CONTRIBUTING.md, "Moving to a new moto version"); pyproject.toml's ``testing`` extra
#: requires the same range.
MOTO_VERSIONS = ">=5.1.10,<=5.2.5"
_PARSER = "moto.stepfunctions.parser"

Expected = tuple[str, ...] | str

#: The modules that call moto's JSONPath ``extract_json`` (each bound it by name); see
#: :func:`_install_definite_paths`.
_EXTRACT_JSON_USERS = (
    f"{_PARSER}.asl.utils.json_path",
    f"{_PARSER}.asl.component.common.string.string_expression",
    f"{_PARSER}.asl.component.intrinsic.argument.argument",
    f"{_PARSER}.asl.component.state.choice.comparison.operator.implementations.timestamp_operators",
)

#: The Map iteration workers whose ``_eval_pool`` runs one job, then calls itself for the next
#: (module under ``state_map.iteration``, class); see :func:`_install_iterative_pools`.
_POOL_WORKERS = (
    ("iteration_worker", "IterationWorker"),
    ("itemprocessor.distributed_item_processor_worker", "DistributedItemProcessorWorker"),
    ("iterator.distributed_iterator_worker", "DistributedIteratorWorker"),
)

#: What this module relies on in moto: (module, attribute, expected), where expected is the
#: parameter names of a function (``self`` included) or of a class's constructor (``self``
#: left out), or ``"class"``, ``"None"``, ``"list"``, ``"dict"``, ``"str"``, ``"module"`` or
#: ``"any"`` (only that it exists). Checked by :func:`check_moto_internals`.
_INTERNALS: tuple[tuple[str, str, Expected], ...] = (
    *((module, "extract_json", ("path", "data")) for module in _EXTRACT_JSON_USERS),
    (
        f"{_PARSER}.asl.component.state.exec.state_map.item_reader.item_reader_decl",
        "ItemReader._eval_body",
        ("self", "env"),
    ),
    *(
        (
            f"{_PARSER}.asl.component.state.exec.state_map.iteration.{module}",
            f"{cls}._eval_pool",
            ("self", "job", "worker_frame"),
        )
        for module, cls in _POOL_WORKERS
    ),
    (f"{_PARSER}.asl.jsonata.jsonata", "_eval_jsonata", "None"),
    (f"{_PARSER}.asl.jsonata.jsonata", "eval_jsonata_expression", ("jsonata_expression",)),
    (f"{_PARSER}.asl.jsonata.jsonata", "encode_jsonata_variable_declarations", ("bindings",)),
    (f"{_PARSER}.asl.jsonata.jsonata", "JSONataException", ("error", "details")),
    (f"{_PARSER}.asl.eval.states", "encode_jsonata_variable_declarations", ("bindings",)),
    (f"{_PARSER}.asl.eval.variable_store", "encode_jsonata_variable_declarations", ("bindings",)),
    (f"{_PARSER}.asl.component.intrinsic.jsonata", "_DECLARATION_BY_VARIABLE_REFERENCE", "dict"),
    (
        f"{_PARSER}.asl.component.common.error_name.custom_error_name",
        "CustomErrorName.__init__",
        ("self", "error_name"),
    ),
    (
        f"{_PARSER}.asl.component.common.error_name.error_name",
        "ErrorName.__init__",
        ("self", "error_name"),
    ),
    (
        f"{_PARSER}.asl.component.state.exec.state_task.service.state_task_service_aws_sdk",
        "StateTaskServiceAwsSdk._eval_service_task",
        ("self", "env", "resource_runtime_part", "normalised_parameters", "state_credentials"),
    ),
    (
        f"{_PARSER}.asl.component.state.exec.state_task.service.state_task_service_aws_sdk",
        "_SERVICE_ERROR_NAMES",
        "dict",
    ),
    (
        f"{_PARSER}.asl.eval.environment",
        "Environment",
        (
            "aws_execution_details",
            "execution_type",
            "context",
            "event_history_context",
            "cloud_watch_logging_session",
            "activity_store",
            "variable_store",
            "mock_test_case",
        ),
    ),
    (f"{_PARSER}.asl.eval.environment", "Environment.is_mocked_mode", ("self",)),
    (f"{_PARSER}.asl.eval.environment", "Environment.get_current_mocked_response", ("self",)),
    (
        f"{_PARSER}.asl.eval.environment",
        "Environment.as_inner_frame_of",
        ("env", "variable_store", "event_history_frame_cache"),
    ),
    (
        f"{_PARSER}.asl.eval.environment",
        "Environment.as_frame_of",
        ("env", "event_history_frame_cache"),
    ),
    (f"{_PARSER}.asl.eval.environment", "Environment.program_state", ("self",)),
    (f"{_PARSER}.asl.eval.environment", "Environment.set_timed_out", ("self",)),
    (
        f"{_PARSER}.mocking.mock_config",
        "MockTestCase",
        ("state_machine_name", "test_case_name", "state_mocked_responses_list"),
    ),
    (
        f"{_PARSER}.mocking.mock_config",
        "MockedResponseReturn",
        ("range_start", "range_end", "payload"),
    ),
    (
        f"{_PARSER}.mocking.mock_config",
        "MockedResponseThrow",
        ("range_start", "range_end", "error", "cause"),
    ),
    (
        f"{_PARSER}.asl.component.state.exec.state_task.mock_eval_utils",
        "eval_mocked_response",
        ("env", "mocked_response"),
    ),
    (
        f"{_PARSER}.asl.component.state.exec.state_task.state_task",
        "StateTask._eval_parameters",
        ("self", "env"),
    ),
    (
        f"{_PARSER}.asl.component.state.exec.state_task.state_task_factory",
        "state_task_service_for",
        ("service_name",),
    ),
    (
        f"{_PARSER}.asl.component.state.exec.state_task.service.state_task_service",
        "StateTaskService._eval_service_task",
        ("self", "env", "resource_runtime_part", "normalised_parameters", "state_credentials"),
    ),
    (
        f"{_PARSER}.asl.component.state.exec.state_task.service.state_task_service",
        "StateTaskService._validate_service_integration_is_supported",
        ("self",),
    ),
    (
        f"{_PARSER}.asl.component.state.exec.state_task.service.state_task_service",
        "StateTaskService._eval_body",
        ("self", "env"),
    ),
    (
        f"{_PARSER}.asl.component.state.exec.state_task.service.state_task_service_callback",
        "StateTaskServiceCallback._eval_body",
        ("self", "env"),
    ),
    (
        f"{_PARSER}.asl.component.state.exec.state_task.service.resource",
        "ResourceCondition.Sync",
        "str",
    ),
    (
        f"{_PARSER}.asl.component.state.exec.state_task.service.resource",
        "ResourceCondition.Sync2",
        "str",
    ),
    (
        f"{_PARSER}.asl.component.state.exec.state_task.mock_eval_utils",
        "_eval_mocked_response_throw",
        ("env", "mocked_response"),
    ),
    (
        f"{_PARSER}.asl.component.common.error_name.states_error_name",
        "StatesErrorName.from_name",
        ("error_name",),
    ),
    (
        f"{_PARSER}.asl.component.common.error_name.states_error_name_type",
        "StatesErrorNameType",
        "class",
    ),
    (
        f"{_PARSER}.asl.component.common.error_name.states_error_name_type",
        "StatesErrorNameType.to_name",
        ("self",),
    ),
    (
        f"{_PARSER}.asl.component.common.error_name.failure_event",
        "FailureEvent",
        ("env", "error_name", "event_type", "event_details"),
    ),
    (
        f"{_PARSER}.asl.component.common.error_name.failure_event",
        "FailureEventException",
        ("failure_event",),
    ),
    (
        f"{_PARSER}.asl.component.state.exec.state_task.service.state_task_service_dynamodb",
        "StateTaskServiceDynamoDB._from_error",
        ("self", "env", "ex"),
    ),
    (f"{_PARSER}.asl.eval.event.event_detail", "EventDetails", "class"),
    (f"{_PARSER}.api", "HistoryEventType.TaskFailed", "any"),
    (f"{_PARSER}.api", "HistoryEventType.TaskTimedOut", "any"),
    (f"{_PARSER}.api", "TaskFailedEventDetails", "class"),
    (f"{_PARSER}.api", "TaskTimedOutEventDetails", "class"),
    (f"{_PARSER}.asl.component.state.wait.wait_function.wait_function", "WaitFunction", "class"),
    (
        f"{_PARSER}.asl.component.state.wait.wait_function.wait_function",
        "WaitFunction._wait_interval",
        ("self", "env", "wait_seconds"),
    ),
    (
        f"{_PARSER}.asl.component.common.retry.retrier_decl",
        "RetrierDecl._eval_body",
        ("self", "env"),
    ),
    (f"{_PARSER}.asl.component.common.retry.retrier_decl", "time", "module"),
    (f"{_PARSER}.asl.parse.asl_parser", "AmazonStateLanguageParser.parse", ("definition",)),
    (f"{_PARSER}.backend.execution_worker", "ExecutionWorker._execution_logic", ("self",)),
    (
        f"{_PARSER}.backend.execution_worker",
        "ExecutionWorker._get_evaluation_environment",
        ("self",),
    ),
    (
        f"{_PARSER}.backend.execution_worker",
        "ExecutionWorker._get_evaluation_entrypoint",
        ("self",),
    ),
    (f"{_PARSER}.backend.execution_worker_comm", "ExecutionWorkerCommunication", "class"),
    (
        f"{_PARSER}.asl.eval.evaluation_details",
        "EvaluationDetails",
        ("aws_execution_details", "execution_details", "state_machine_details"),
    ),
    (
        f"{_PARSER}.asl.eval.evaluation_details",
        "AWSExecutionDetails",
        ("account", "region", "role_arn"),
    ),
    (
        f"{_PARSER}.asl.eval.evaluation_details",
        "ExecutionDetails",
        ("arn", "name", "role_arn", "inpt", "start_time"),
    ),
    (
        f"{_PARSER}.asl.eval.evaluation_details",
        "StateMachineDetails",
        ("arn", "name", "typ", "definition"),
    ),
    (f"{_PARSER}.asl.eval.program_state", "ProgramEnded", "class"),
    (f"{_PARSER}.asl.eval.program_state", "ProgramError", ("error",)),
    (f"{_PARSER}.asl.eval.program_state", "ProgramStopped", ("stop_date", "error", "cause")),
    (f"{_PARSER}.asl.eval.program_state", "ProgramTimedOut", "class"),
    (f"{_PARSER}.api", "StateMachineType", "class"),
    (f"{_PARSER}.utils", "TMP_THREADS", "list"),
    (
        f"{_PARSER}.asl.component.common.error_name.error_equals_decl",
        "ErrorEqualsDecl._eval_body",
        ("self", "env"),
    ),
    (
        f"{_PARSER}.asl.component.state.exec.execute_state",
        "ExecutionState._from_error",
        ("self", "env", "ex"),
    ),
    (
        f"{_PARSER}.asl.component.state.exec.execute_state",
        "ExecutionState._evaluate_with_timeout",
        ("self", "env"),
    ),
    (
        f"{_PARSER}.asl.component.state.exec.execute_state",
        "ExecutionState._eval_state_output",
        ("self", "env"),
    ),
    (
        f"{_PARSER}.asl.component.state.exec.state_map.max_concurrency",
        "MaxConcurrencyDecl._eval_body",
        ("self", "env"),
    ),
    (f"{_PARSER}.asl.component.state.state", "is_within_size_quota", ("value",)),
    (
        f"{_PARSER}.asl.component.state.exec.state_task.service.state_task_service",
        "is_within_size_quota",
        ("value",),
    ),
    (
        f"{_PARSER}.backend.execution_worker",
        "ExecutionWorker",
        (
            "evaluation_details",
            "exec_comm",
            "cloud_watch_logging_session",
            "activity_store",
            "mock_test_case",
        ),
    ),
    # section 6, Distributed Map
    (f"{_PARSER}.asl.component.state.exec.state_map.state_map", "StateMap", "class"),
    (
        f"{_PARSER}.asl.component.state.exec.state_map.iteration.distributed_iteration_component",
        "DistributedIterationComponent._map_run",
        ("self", "env", "eval_input"),
    ),
    (
        f"{_PARSER}.asl.component.state.exec.state_map.iteration.distributed_iteration_component",
        "DistributedIterationComponent._get_iteration_program",
        ("self",),
    ),
    (
        f"{_PARSER}.asl.component.state.exec.state_map.iteration.distributed_iteration_component",
        "DistributedIterationComponent._launch_worker",
        ("self", "env", "eval_input", "job_pool"),
    ),
    (
        f"{_PARSER}.asl.component.state.exec.state_map.iteration.job",
        "JobPool",
        ("job_program", "job_inputs"),
    ),
    (
        f"{_PARSER}.asl.component.state.exec.state_map.iteration.job",
        "JobPool.await_jobs",
        ("self",),
    ),
    (
        f"{_PARSER}.asl.component.state.exec.state_map.iteration.job",
        "JobPool.get_worker_exception",
        ("self",),
    ),
    (
        f"{_PARSER}.asl.component.state.exec.state_map.iteration.job",
        "JobPool.get_closed_jobs",
        ("self",),
    ),
    (
        f"{_PARSER}.asl.component.state.exec.state_map.iteration.itemprocessor."
        "distributed_item_processor_worker",
        "DistributedItemProcessorWorker._eval_job",
        ("self", "env", "job"),
    ),
    (
        f"{_PARSER}.asl.component.state.exec.state_map.iteration.itemprocessor."
        "distributed_item_processor_worker",
        "DistributedItemProcessorWorker._eval_input",
        ("self", "env_frame"),
    ),
    (
        f"{_PARSER}.asl.component.state.exec.state_map.item_reader.eval."
        "resource_output_transformer.transformer_json",
        "ResourceOutputTransformerJson._eval_body",
        ("self", "env"),
    ),
    (f"{_PARSER}.asl.eval.states", "MapData", "class"),
    (f"{_PARSER}.asl.eval.states", "ItemData", "class"),
    (f"{_PARSER}.asl.component.common.timeouts.timeout", "EvalTimeoutError", "class"),
    (
        f"{_PARSER}.asl.utils.boto_client",
        "boto_client_for",
        ("region", "service", "state_credentials"),
    ),
    (
        f"{_PARSER}.asl.eval.environment",
        "Environment.open_inner_frame",
        ("self", "event_history_context"),
    ),
    (f"{_PARSER}.asl.eval.environment", "Environment.delete_frame", ("self", "frame")),
    (
        f"{_PARSER}.asl.component.common.error_name.failure_event",
        "FailureEventException.extract_error_cause_pair",
        ("self",),
    ),
    (f"{_PARSER}.api", "MapRunFailedEventDetails", "class"),
    (f"{_PARSER}.api", "HistoryEventType.MapRunFailed", "any"),
)

#: Attributes the hooks read on moto's objects: (module, class, attributes), each set in the
#: class's (or a base's) source as ``self.<name>`` or declared on the class.
_ATTRIBUTES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        f"{_PARSER}.asl.eval.environment",
        "Environment",
        ("next_state_name", "states", "stack", "mock_test_case", "event_manager"),
    ),
    (f"{_PARSER}.asl.eval.states", "States", ("context_object",)),
    (f"{_PARSER}.asl.eval.states", "ContextObject", ("context_object_data",)),
    (f"{_PARSER}.backend.execution_worker", "ExecutionWorker", ("env",)),
    (f"{_PARSER}.asl.component.state.state", "CommonStateField", ("name", "output")),
    (
        f"{_PARSER}.asl.component.state.exec.state_task.service.state_task_service",
        "StateTaskService",
        ("resource",),
    ),
    (f"{_PARSER}.asl.component.state.exec.state_task.service.resource", "Resource", ()),
    (
        f"{_PARSER}.asl.component.state.exec.state_task.service.resource",
        "ServiceResource",
        ("condition",),
    ),
    (
        f"{_PARSER}.asl.component.common.error_name.error_equals_decl",
        "ErrorEqualsDecl",
        ("error_names",),
    ),
    (f"{_PARSER}.asl.component.common.error_name.error_name", "ErrorName", ("error_name",)),
    (f"{_PARSER}.mocking.mock_config", "MockedResponseThrow", ("error", "cause")),
    (f"{_PARSER}.asl.jsonata.jsonata", "JSONataException", ("details",)),
    # section 6, Distributed Map
    (
        f"{_PARSER}.asl.component.state.exec.state_map.state_map",
        "StateMap",
        ("iteration_component", "item_reader"),
    ),
    (
        f"{_PARSER}.asl.component.state.exec.state_map.item_reader.item_reader_decl",
        "ItemReader",
        ("resource_output_transformer",),
    ),
    (
        f"{_PARSER}.asl.component.state.exec.state_map.iteration.itemprocessor."
        "distributed_item_processor_worker",
        "DistributedItemProcessorWorker",
        ("_map_run_record",),
    ),
    (
        f"{_PARSER}.asl.component.state.exec.state_map.iteration.itemprocessor.map_run_record",
        "MapRunRecord",
        ("map_run_arn", "map_state_machine_arn"),
    ),
    (
        f"{_PARSER}.asl.component.state.exec.state_map.iteration.distributed_iteration_component",
        "DistributedIterationComponentEvalInput",
        (
            "item_selector",
            "parameters",
            "map_run_record",
        ),
    ),
    (
        f"{_PARSER}.asl.component.state.exec.state_map.iteration.job",
        "Job",
        ("job_index", "job_input", "job_output", "job_program"),
    ),
    (
        f"{_PARSER}.asl.component.state.exec.state_map.iteration.job",
        "JobClosed",
        ("job_index", "job_output"),
    ),
    (f"{_PARSER}.asl.eval.environment", "Environment", ("aws_execution_details",)),
    (f"{_PARSER}.asl.eval.evaluation_details", "AWSExecutionDetails", ("region",)),
    (f"{_PARSER}.asl.eval.program_state", "ProgramError", ("error",)),
    (f"{_PARSER}.asl.eval.program_state", "ProgramStopped", ("error", "cause")),
    (f"{_PARSER}.asl.component.state.exec.state_task.state_task", "StateTask", ("parargs",)),
    (f"{_PARSER}.asl.component.program.program", "Program", ("states",)),
    (f"{_PARSER}.asl.component.program.states", "States", ("states",)),
)


class MotoInternalsError(RuntimeError):
    """moto's private Step Functions engine no longer has something the local runner hooks."""


def _resolve(module_name: str, attribute: str) -> Any:
    module: Any = importlib.import_module(module_name)
    value = module
    for part in attribute.split("."):
        value = getattr(value, part)
    return value


def _drift(value: Any, expected: Expected) -> str | None:
    """How ``value`` differs from what the hooks expect, or ``None``."""
    if isinstance(expected, tuple):
        target = value.__init__ if inspect.isclass(value) else value
        try:
            found = tuple(inspect.signature(target).parameters)
        except (TypeError, ValueError):
            return "has no readable signature"
        found = found[1:] if inspect.isclass(value) else found
        if found != expected:
            return f"parameters are ({', '.join(found)}), expected ({', '.join(expected)})"
        return None
    checks: dict[str, Callable[[Any], bool]] = {
        "class": inspect.isclass,
        "None": lambda v: v is None,
        "list": lambda v: isinstance(v, list),
        "dict": lambda v: isinstance(v, dict),
        "str": lambda v: isinstance(v, str),
        "module": inspect.ismodule,
        "any": lambda v: True,
    }
    return None if checks[expected](value) else f"is {type(value).__name__}, expected {expected}"


def _sets_attribute(cls: type, name: str) -> bool:
    for klass in inspect.getmro(cls):
        if klass is object:
            continue
        if name in vars(klass) or name in getattr(klass, "__annotations__", {}):
            return True
        try:
            source = inspect.getsource(klass)
        except (OSError, TypeError):
            continue
        if re.search(rf"\bself\.{re.escape(name)}\s*(:[^=]*)?=", source):
            return True
    return False


def check_moto_internals() -> None:
    """Check every moto internal the hooks use: it exists, functions and constructors take the
    parameters the hooks pass or receive, values have the expected kind, and the instance
    attributes the hooks read are still set. Raises one :class:`MotoInternalsError` naming the
    installed moto version, the versions these checks passed on, and every difference."""
    problems: list[str] = []
    for module_name, attribute, expected in _INTERNALS:
        try:
            value = _resolve(module_name, attribute)
        except (ImportError, AttributeError) as error:
            problems.append(f"{module_name}.{attribute} ({type(error).__name__}: {error})")
            continue
        drift = _drift(value, expected)
        if drift is not None:
            problems.append(f"{module_name}.{attribute} {drift}")
    for module_name, class_name, names in _ATTRIBUTES:
        try:
            cls = _resolve(module_name, class_name)
        except (ImportError, AttributeError) as error:
            problems.append(f"{module_name}.{class_name} ({type(error).__name__}: {error})")
            continue
        missing = [name for name in names if not _sets_attribute(cls, name)]
        if missing:
            problems.append(f"{module_name}.{class_name} no longer sets {', '.join(missing)}")
    if problems:
        from importlib.metadata import version

        raise MotoInternalsError(
            f"lambdaless.testing runs on moto{MOTO_VERSIONS} (installed: moto "
            f"{version('moto')}); the installed moto's Step Functions engine differs in: "
            + "; ".join(problems)
            + " (see CONTRIBUTING.md, 'Moving to a new moto version')"
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


_MISSING = object()


@dataclass
class _AttributePatch:
    """One attribute of a moto module or class, replaced during local runs."""

    owner: Any
    name: str
    replacement: Any
    original: Any  # the owner's own value (``_MISSING`` when it inherited the attribute)

    def apply(self) -> None:
        setattr(self.owner, self.name, self.replacement)

    def undo(self) -> None:
        if self.original is _MISSING:
            delattr(self.owner, self.name)
        else:
            setattr(self.owner, self.name, self.original)


# The patches (built once, on the first local run) and how many local runs are in progress:
# the one piece of process state the engine keeps, so that moto is patched exactly while at
# least one local execution runs and is moto again after the last one ends.
_patches: list[_AttributePatch | _LogFilter] = []
_runs_in_progress = 0
_patch_lock = threading.Lock()
_thread = threading.local()


def _patch(owner: Any, name: str, replacement: Any) -> None:
    original = vars(owner).get(name, _MISSING)
    _patches.append(_AttributePatch(owner, name, replacement, original))


def _build_patches() -> None:
    check_moto_internals()
    _install_jsonata()
    _install_task_hooks()
    _install_virtual_time()
    _install_strictness()
    _install_distributed_map()
    _install_iterative_pools()
    _install_definite_paths()
    _install_item_reader_failures()


@contextmanager
def active() -> Iterator[None]:
    """Apply every hook for the duration of the block and undo them after the last block in
    progress ends. Raises :class:`MotoInternalsError` if moto moved."""
    global _runs_in_progress
    with _patch_lock:
        if not _patches:
            try:
                _build_patches()
            except BaseException:
                _patches.clear()
                raise
        if _runs_in_progress == 0:
            for patch in _patches:
                patch.apply()
        _runs_in_progress += 1
    try:
        yield
    finally:
        with _patch_lock:
            _runs_in_progress -= 1
            if _runs_in_progress == 0:
                for patch in reversed(_patches):
                    patch.undo()


def patched_attributes() -> list[tuple[Any, str]]:
    """(owner, attribute) of every moto attribute the hooks replace (for tests)."""
    with active():
        return [(p.owner, p.name) for p in _patches if isinstance(p, _AttributePatch)]


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


def _native_partition(array: Any, chunk_size: Any) -> list[Any]:
    """Step Functions' ``$partition(array, size)``: consecutive chunks of ``size`` items, the
    last one shorter when the items run out (AWS docs, "Transforming data with JSONata in Step
    Functions", and ``States.ArrayPartition`` in "Intrinsic functions": a non-zero positive
    integer size). moto's declaration miscounts the chunks whenever ``len(array) % size`` is
    above 1: 100 items in chunks of 19 gave 10 chunks, the last 4 empty."""
    if not isinstance(array, list):
        raise ValueError(f"$partition: the first argument must be an array, not {array!r}")
    whole = isinstance(chunk_size, int | float) and not isinstance(chunk_size, bool)
    if not whole or chunk_size != int(chunk_size) or chunk_size < 1:
        raise ValueError(
            f"$partition: the chunk size must be a positive integer, not {chunk_size!r}"
        )
    size = int(chunk_size)
    return [list(array[first : first + size]) for first in range(0, len(array), size)]


def _eval_jsonata(expression: str) -> Any:
    """Evaluate one composed JSONata expression (moto inlines every binding as a declaration)."""
    import jsonata  # type: ignore[import-untyped]
    from moto.stepfunctions.parser.asl.jsonata.jsonata import JSONataException

    try:
        compiled = jsonata.Jsonata(expression)
        compiled.register_lambda("uuid", _native_uuid)
        compiled.register_lambda("hash", _native_hash)
        compiled.register_lambda("partition", _native_partition)
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
    _patch(jsonata_module, "_eval_jsonata", _eval_jsonata)
    for module_name in (
        f"{_PARSER}.asl.jsonata.jsonata",
        f"{_PARSER}.asl.eval.states",
        f"{_PARSER}.asl.eval.variable_store",
    ):
        module = importlib.import_module(module_name)
        _patch(module, "encode_jsonata_variable_declarations", _encode_declarations)
    # moto declares stub bodies for $uuid and $hash that return "not supported" strings, and a
    # $partition that miscounts; dropping the declarations lets the natively registered
    # functions answer instead.
    intrinsics = importlib.import_module(f"{_PARSER}.asl.component.intrinsic.jsonata")
    declarations: dict[str, str] = intrinsics._DECLARATION_BY_VARIABLE_REFERENCE
    native = ("$uuid", "$hash", "$partition")
    kept = {name: body for name, body in declarations.items() if name not in native}
    _patch(intrinsics, "_DECLARATION_BY_VARIABLE_REFERENCE", kept)


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


class _LogFilter(logging.Filter):
    """Drops a moto logger's records while local runs are active (see
    :func:`_install_task_hooks`)."""

    def __init__(self, logger: logging.Logger) -> None:
        super().__init__()
        self.logger = logger

    def filter(self, record: logging.LogRecord) -> bool:
        del record
        return False

    def apply(self) -> None:
        self.logger.addFilter(self)

    def undo(self) -> None:
        self.logger.removeFilter(self)


def _install_task_hooks() -> None:
    _local_classes()
    # moto logs every failure event of the workflow (a Catch route, a throttle to retry) at
    # ERROR with a dump of the whole component tree, and warns about integrations it would
    # forward: expected outcomes here, reported by the RunResult instead. Filtered during local
    # runs only; no logger's level changes.
    for logger in (
        f"{_PARSER}.asl.component.state.exec.state_task.service.state_task_service_unsupported",
        f"{_PARSER}.asl.component.eval_component",
        f"{_PARSER}.asl.component.state.exec.execute_state",
    ):
        _patches.append(_LogFilter(logging.getLogger(logger)))
    factory_module: Any = importlib.import_module(
        f"{_PARSER}.asl.component.state.exec.state_task.state_task_factory"
    )
    original_factory: Callable[[str], Any] = factory_module.state_task_service_for
    http_task = _http_task_class()

    def state_task_service_for(service_name: str) -> Any:
        if service_name == "http":
            return http_task()
        return original_factory(service_name)

    _patch(factory_module, "state_task_service_for", state_task_service_for)

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

    _patch(custom_error_name, "__init__", error_name_init)

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

    _patch(state_task, "_eval_parameters", _eval_parameters)

    _install_sync_hook()
    _install_states_error_throw()
    _install_dynamodb_mocked_errors()
    _install_aws_sdk_streams()
    _install_aws_sdk_error_names()


#: Error-name prefixes of the AWS SDK integrations the runner lets through to moto, beyond
#: moto's own table. AWS docs, "Learning to use AWS service SDK integrations in Step
#: Functions": the error is ``ServiceName.ErrorName``, both in PascalCase, with an
#: ``Exception`` suffix (``S3.NoSuchKeyException``); moto wrote the lowercase ``s3.``, which
#: no Retry or Catch naming the documented error matched.
_SDK_ERROR_SERVICES = {"s3": "S3"}


def _install_aws_sdk_error_names() -> None:
    module = importlib.import_module(
        f"{_PARSER}.asl.component.state.exec.state_task.service.state_task_service_aws_sdk"
    )
    names: dict[str, str] = module._SERVICE_ERROR_NAMES
    _patch(module, "_SERVICE_ERROR_NAMES", {**names, **_SDK_ERROR_SERVICES})


def _install_aws_sdk_streams() -> None:
    """An AWS SDK integration's result is JSON: a streaming member (S3 GetObject's ``Body``)
    reaches the state as its text, as Step Functions returns it; moto left the botocore stream
    object, which JSONata saw as the text ``<botocore...StreamingChecksumBody object>``."""
    sdk: Any = _resolve(
        f"{_PARSER}.asl.component.state.exec.state_task.service.state_task_service_aws_sdk",
        "StateTaskServiceAwsSdk",
    )
    original = sdk._eval_service_task

    def _eval_service_task(self: Any, env: Any, *args: Any, **kwargs: Any) -> None:
        original(self, env, *args, **kwargs)
        response = env.stack[-1] if env.stack else None
        if isinstance(response, dict):
            for key, value in list(response.items()):
                if hasattr(value, "read"):
                    response[key] = value.read().decode("utf-8")

    _patch(sdk, "_eval_service_task", _eval_service_task)


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

    _patch(callback, "_eval_body", _eval_body)


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

    _patch(mock_eval, "_eval_mocked_response_throw", _eval_mocked_response_throw)


def _install_dynamodb_mocked_errors() -> None:
    """A mocked Throw on a DynamoDB Task keeps its error name, as in Step Functions Local.

    moto's DynamoDB integration reports every exception that is not a botocore ClientError as
    ``DynamoDB.AmazonDynamoDBException``, the mocked Throw's own FailureEventException included,
    so a mocked ``DynamoDB.ConditionalCheckFailedException`` matched no Retry or Catch naming it.
    """
    dynamodb: Any = _resolve(
        f"{_PARSER}.asl.component.state.exec.state_task.service.state_task_service_dynamodb",
        "StateTaskServiceDynamoDB",
    )
    failure: Any = importlib.import_module(
        f"{_PARSER}.asl.component.common.error_name.failure_event"
    )
    original_from_error = dynamodb._from_error

    def _from_error(self: Any, env: Any, ex: Exception) -> Any:
        if _is_local(env) and isinstance(ex, failure.FailureEventException):
            return ex.failure_event
        return original_from_error(self, env, ex)

    _patch(dynamodb, "_from_error", _from_error)


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

    _patch(wait_function, "_wait_interval", _wait_interval)

    retrier_module: Any = importlib.import_module(
        f"{_PARSER}.asl.component.common.retry.retrier_decl"
    )
    _patch(retrier_module, "time", _VirtualTime(time))
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

    _patch(retrier, "_eval_body", _retrier_eval_body)


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


def _is_definite(expression: Any) -> bool:
    """Whether a parsed JSONPath names at most one value: only ``$``/``@``, single field names
    and single indexes (no wildcard, slice, filter, union or ``..``)."""
    from jsonpath_ng import jsonpath

    if isinstance(expression, jsonpath.Root | jsonpath.This):
        return True
    if type(expression) is jsonpath.Child:
        return _is_definite(expression.left) and _is_definite(expression.right)
    if type(expression) is jsonpath.Fields:
        return len(expression.fields) == 1 and expression.fields[0] != "*"
    if type(expression) is jsonpath.Index:
        return len(expression.indices) == 1
    return False


def _install_definite_paths() -> None:
    """A definite JSONPath (``$.Body.content[0].text``) gives its one value, as on AWS (Step
    Functions developer guide, "Using JSONPath paths": a reference path selects a single
    node); moto gave a one-item list whenever the path went through an index, so aws-cdk-lib's
    ``result_selector={"text.$": "$.Body.content[0].text"}`` read ``["..."]`` locally. Other
    paths (wildcards, filters, slices) keep moto's answer."""
    from jsonpath_ng.ext.parser import parse as parse_path

    json_path: Any = importlib.import_module(f"{_PARSER}.asl.utils.json_path")
    original = json_path.extract_json
    missing = json_path.NoSuchJsonPathError

    def extract_json(path: str, data: Any) -> Any:
        expression = parse_path(path)
        if not _is_definite(expression):
            return original(path, data)
        matches = expression.find(data)
        if not matches:
            raise missing(json_path=path, data=data)
        return matches[0].value

    for module_name in _EXTRACT_JSON_USERS:
        _patch(importlib.import_module(module_name), "extract_json", extract_json)


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

    _patch(error_equals, "_eval_body", _error_equals_eval_body)

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

    _patch(execute_state, "_from_error", _from_error)

    # A Task's JSONata Output fails the state like its Arguments and Assign do: the error is
    # States.QueryEvaluationError, which the state's own Retry and Catch match (AWS docs,
    # "Handling errors in Step Functions workflows"; Step Functions API reference,
    # "EvaluationFailedEventDetails": a JSONata error is reported for the state, whichever
    # field). moto evaluates a Task's Output after its Retry/Catch loop, where any error fails
    # the execution; for local executions the Output is evaluated at the end of each attempt
    # instead, once, and not again after the loop.
    state_task: Any = _resolve(
        f"{_PARSER}.asl.component.state.exec.state_task.state_task", "StateTask"
    )
    original_attempt = execute_state._evaluate_with_timeout
    original_state_output = execute_state._eval_state_output

    def _jsonata_task_output(self: Any, env: Any) -> bool:
        return (
            _is_local(env)
            and isinstance(self, state_task)
            and self.output is not None
            and not self._is_language_query_jsonpath()
        )

    def _evaluate_with_timeout(self: Any, env: Any) -> None:
        original_attempt(self, env)
        if _jsonata_task_output(self, env):
            self.output.eval(env=env)

    def _eval_state_output(self: Any, env: Any) -> None:
        if not _jsonata_task_output(self, env):
            original_state_output(self, env)

    _patch(execute_state, "_evaluate_with_timeout", _evaluate_with_timeout)
    _patch(execute_state, "_eval_state_output", _eval_state_output)

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

    _patch(max_concurrency, "_eval_body", _max_concurrency_eval_body)

    for module_name in (
        f"{_PARSER}.asl.component.state.state",
        f"{_PARSER}.asl.component.state.exec.state_task.service.state_task_service",
    ):
        _patch(importlib.import_module(module_name), "is_within_size_quota", _within_payload_limit)


# --------------------------------------------------------------------------------------------
# 6. Distributed Map: JSON Lines reader, ItemBatcher, ResultWriter, tolerated failures
# --------------------------------------------------------------------------------------------

_MAP = f"{_PARSER}.asl.component.state.exec.state_map"
_BATCHER_FIELDS = ("MaxItemsPerBatch", "MaxInputBytesPerBatch", "BatchInput")
_TOLERANCE_FIELDS = ("ToleratedFailureCount", "ToleratedFailurePercentage")


@dataclass
class DistributedMap:
    """What moto's parser cannot hold of one Distributed Map state, kept on its program.

    :func:`parse` takes ``ItemBatcher``, ``ResultWriter`` and the ``ToleratedFailure*`` fields
    out of the definition moto parses (its grammar has no ``ItemBatcher``, no ``Arguments`` and
    no ``WriterConfig`` in a ResultWriter, refuses an integer ``ToleratedFailurePercentage``, and
    its preprocessor reads a JSONata ``ToleratedFailureCount`` as the percentage) and reads
    ``InputType: "JSONL"`` as ``"JSON"`` (moto knows no JSONL), then hangs this on the Map's
    iteration component, where the Map Run (section 6) reads it.
    """

    name: str
    jsonata: bool
    jsonl: bool = False
    batcher: dict[str, Any] | None = None
    writer: dict[str, Any] | None = None
    #: ToleratedFailureCount/Percentage and their Path forms, as written
    tolerance: dict[str, Any] = dataclasses.field(default_factory=dict)
    #: field -> moto payload template evaluating ``{"v": <field's value>}`` (see _template)
    templates: dict[str, Any] | None = None


def _split_distributed_maps(definition: dict[str, Any]) -> dict[str, DistributedMap]:
    """Remove (in place) the Distributed Map fields moto's parser refuses; return them by Map
    state name (state names are unique in a state machine, nested ones included)."""
    found: dict[str, DistributedMap] = {}
    top = definition.get("QueryLanguage", "JSONPath")

    def walk(states: dict[str, Any]) -> None:
        for name, state in states.items():
            processor = state.get("ItemProcessor") or {}
            config = processor.get("ProcessorConfig") or {}
            if state.get("Type") == "Map" and config.get("Mode") == "DISTRIBUTED":
                reader = (state.get("ItemReader") or {}).get("ReaderConfig") or {}
                jsonl = reader.get("InputType") == "JSONL"
                if jsonl:
                    reader["InputType"] = "JSON"
                found[name] = DistributedMap(
                    name=name,
                    jsonata=state.get("QueryLanguage", top) == "JSONata",
                    jsonl=jsonl,
                    batcher=state.pop("ItemBatcher", None),
                    writer=state.pop("ResultWriter", None),
                    tolerance={
                        key: state.pop(key)
                        for key in list(state)
                        if key.startswith("ToleratedFailure")
                    },
                )
            walk(processor.get("States") or (state.get("Iterator") or {}).get("States") or {})
            for branch in state.get("Branches") or []:
                walk(branch.get("States") or {})

    walk(definition.get("States") or {})
    return found


def _template(value: Any, *, jsonata: bool, path: bool = False) -> Any:
    """moto's evaluator for one field value: a Task's ``Arguments`` (JSONata) or ``Parameters``
    (JSONPath; ``path`` for a ``...Path`` field) holding ``{"v": value}``."""
    parser: Any = _resolve(f"{_PARSER}.asl.parse.asl_parser", "AmazonStateLanguageParser")
    if jsonata:
        task = {"Arguments": {"v": value}}
    else:
        task = {"Parameters": {"v.$": value} if path else {"v": value}}
    definition = {
        "QueryLanguage": "JSONata" if jsonata else "JSONPath",
        "StartAt": "T",
        "States": {
            "T": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:putObject", **task}
            | {"End": True}
        },
    }
    program, _tree = parser.parse(json.dumps(definition))
    return program.states.states["T"].parargs


def _compile(spec: DistributedMap) -> None:
    templates: dict[str, Any] = {}
    for field_name in _BATCHER_FIELDS:
        for key in (field_name, f"{field_name}Path"):
            if spec.batcher is not None and key in spec.batcher:
                templates[field_name] = _template(
                    spec.batcher[key], jsonata=spec.jsonata, path=key.endswith("Path")
                )
    for field_name in _TOLERANCE_FIELDS:
        for key in (field_name, f"{field_name}Path"):
            if key in spec.tolerance:
                templates[field_name] = _template(
                    spec.tolerance[key], jsonata=spec.jsonata, path=key.endswith("Path")
                )
    writer = spec.writer or {}
    arguments = writer.get("Arguments" if spec.jsonata else "Parameters")
    if arguments is not None:
        templates["ResultWriter"] = _template(arguments, jsonata=spec.jsonata)
    spec.templates = templates


def _attach_distributed_maps(program: Any, maps: dict[str, DistributedMap]) -> None:
    """Hang each Map's :class:`DistributedMap` on its parsed Map state."""
    state_map: Any = _resolve(f"{_MAP}.state_map", "StateMap")
    seen: set[int] = set()

    def visit(node: Any) -> None:
        if id(node) in seen:
            return
        seen.add(id(node))
        if isinstance(node, state_map) and node.name in maps:
            spec = maps[node.name]
            node.iteration_component.lambdaless_map = spec
            if spec.jsonl:
                node.item_reader.resource_output_transformer.lambdaless_jsonl = True
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list | tuple):
            children = node
        elif type(node).__module__.startswith("moto.") and hasattr(node, "__dict__"):
            children = vars(node).values()
        else:
            return
        for child in children:
            visit(child)

    visit(program)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


def _map_run_failure(env: Any, error: str, cause: str) -> BaseException:
    """The Map Run's failure (a ``MapRunFailed`` event in the parent, then the Map state fails
    with ``error``, which its Retry and Catch see)."""
    failure: Any = importlib.import_module(
        f"{_PARSER}.asl.component.common.error_name.failure_event"
    )
    states_error_name: Any = _resolve(
        f"{_PARSER}.asl.component.common.error_name.states_error_name", "StatesErrorName"
    )
    event_detail: Any = importlib.import_module(f"{_PARSER}.asl.eval.event.event_detail")
    api: Any = importlib.import_module(f"{_PARSER}.api")
    return failure.FailureEventException(  # type: ignore[no-any-return]
        failure_event=failure.FailureEvent(
            env=env,
            error_name=states_error_name.from_name(error),
            event_type=api.HistoryEventType.MapRunFailed,
            event_details=event_detail.EventDetails(
                mapRunFailedEventDetails=api.MapRunFailedEventDetails(error=error, cause=cause)
            ),
        )
    )


def _evaluate(env: Any, template: Any) -> Any:
    template.eval(env=env)
    return env.stack.pop()["v"]


def _positive(name: str, value: Any, most: int) -> int:
    """A batcher maximum: an integer from 1 to ``most`` (JSONata numbers may come as floats)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
        raise MapRunError(
            "States.Runtime",
            f"ItemBatcher {name} is {value!r}; expected an integer from 1 to {most:,}",
        )
    return value


def _batcher_settings(env: Any, spec: DistributedMap) -> dict[str, Any]:
    """MaxItemsPerBatch, MaxInputBytesPerBatch (or their Path/JSONata forms) and BatchInput,
    evaluated on the Map state's input (AWS docs, "ItemBatcher (Map)": at most 256 KiB a
    batch; a batcher with neither maximum is bounded by that)."""
    templates = spec.templates or {}
    values = {
        name: _evaluate(env, templates[name]) for name in _BATCHER_FIELDS if name in templates
    }
    max_items = values.get("MaxItemsPerBatch")
    max_bytes = values.get("MaxInputBytesPerBatch")
    return {
        "max_items": None
        if max_items is None
        else _positive("MaxItemsPerBatch", max_items, 100_000_000),
        "max_bytes": PAYLOAD_MAX_BYTES
        if max_bytes is None
        else _positive("MaxInputBytesPerBatch", max_bytes, PAYLOAD_MAX_BYTES),
        "batch_input": values.get("BatchInput"),
    }


def _tolerance(env: Any, spec: DistributedMap) -> tuple[int | None, float | None]:
    """ToleratedFailureCount (an integer from 0) and ToleratedFailurePercentage (0 to 100), or
    their Path/JSONata forms, evaluated on the Map state's input; ``None`` when not set."""
    templates = spec.templates or {}
    values = {n: _evaluate(env, templates[n]) for n in _TOLERANCE_FIELDS if n in templates}
    count = values.get("ToleratedFailureCount")
    percentage = values.get("ToleratedFailurePercentage")
    if isinstance(count, float) and count.is_integer():
        count = int(count)
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 0):
        raise MapRunError(
            "States.Runtime", f"ToleratedFailureCount is {count!r}; expected an integer from 0"
        )
    if percentage is not None and (
        isinstance(percentage, bool)
        or not isinstance(percentage, int | float)
        or not 0 <= percentage <= 100
    ):
        raise MapRunError(
            "States.Runtime",
            f"ToleratedFailurePercentage is {percentage!r}; expected a number from 0 to 100",
        )
    return count, None if percentage is None else float(percentage)


def _selected_item(env: Any, selector: Any, index: int, item: Any) -> Any:
    """One item after the Map's ItemSelector (or legacy Parameters), evaluated as for a child:
    ``$states.input`` is the Map state's input, ``$states.context.Map.Item`` the item."""
    states: Any = importlib.import_module(f"{_PARSER}.asl.eval.states")
    map_input = env.states.get_input()
    frame = env.open_inner_frame()
    try:
        frame.states.context_object.context_object_data["Map"] = states.MapData(
            Item=states.ItemData(Index=index, Value=item)
        )
        frame.states.reset(input_value=map_input)
        frame.stack.append(map_input)
        selector.eval(frame)
        return copy.deepcopy(frame.stack[-1])
    finally:
        env.delete_frame(frame)


def _write_results(
    env: Any, spec: DistributedMap, map_run_arn: str, children: list[ChildRun]
) -> Any:
    """The ResultWriter's work and the Map's result (AWS docs, "ResultWriter (Map)")."""
    writer = spec.writer or {}
    config = writer.get("WriterConfig") or {}
    exporting = "Resource" in writer
    # NONE is the default when exporting to S3, COMPACT when the results stay in the state.
    transformation = config.get("Transformation", "NONE" if exporting else "COMPACT")
    output_type = config.get("OutputType", "JSON")
    if transformation not in TRANSFORMATIONS or output_type not in OUTPUT_TYPES:
        raise MapRunError(
            "States.ResultWriterFailed",
            f"WriterConfig {config!r}: Transformation is one of {TRANSFORMATIONS}, OutputType "
            f"one of {OUTPUT_TYPES}",
        )
    if not exporting:
        return transformed(children, transformation)
    if not str(writer["Resource"]).endswith(":states:::s3:putObject"):
        raise MapRunError(
            "States.ResultWriterFailed",
            f"ResultWriter Resource {writer['Resource']!r}: the ResultWriter writes with "
            "arn:aws:states:::s3:putObject",
        )
    template = (spec.templates or {}).get("ResultWriter")
    arguments = _evaluate(env, template) if template is not None else {}
    bucket, prefix = arguments.get("Bucket"), arguments.get("Prefix", "")
    if not isinstance(bucket, str) or not bucket or not isinstance(prefix, str):
        raise MapRunError(
            "States.ResultWriterFailed",
            f"ResultWriter {'Arguments' if spec.jsonata else 'Parameters'} {arguments!r}: "
            "expected a Bucket name and a string Prefix",
        )
    objects, manifest_key = result_files(
        children,
        bucket=bucket,
        prefix=prefix,
        map_run_arn=map_run_arn,
        transformation=transformation,
        output_type=output_type,
    )
    boto: Any = importlib.import_module(f"{_PARSER}.asl.utils.boto_client")
    client = boto.boto_client_for(region=env.aws_execution_details.region, service="s3")
    try:
        for key, body in objects:
            client.put_object(Bucket=bucket, Key=key, Body=body)
    except Exception as error:  # the bucket is missing, or refuses the write
        raise MapRunError("States.ResultWriterFailed", str(error)) from error
    return {
        "MapRunArn": map_run_arn,
        "ResultWriterDetails": {"Bucket": bucket, "Key": manifest_key},
    }


def _run_map(component: Any, env: Any, eval_input: Any, spec: DistributedMap) -> None:
    """The Map Run of a local execution: items (batched), every child to its end, one at a
    time and in item order, then the results (inline or written to S3) or the threshold's
    failure."""
    job: Any = importlib.import_module(f"{_MAP}.iteration.job")
    items: list[Any] = env.stack.pop()
    tolerated_count, tolerated_percentage = _tolerance(env, spec)
    inputs: list[Any] = list(items)
    sizes = [1] * len(inputs)
    if spec.batcher is not None:
        selector = eval_input.item_selector or eval_input.parameters
        if selector is not None:
            # AWS docs, "ItemBatcher (Map)": ItemSelector shapes each item, then the items are
            # batched; the child's input is the batch as it is.
            items = [_selected_item(env, selector, i, item) for i, item in enumerate(items)]
            eval_input = copy.copy(eval_input)
            eval_input.item_selector = None
            eval_input.parameters = None
        inputs = batches(items, **_batcher_settings(env, spec))
        sizes = [len(batch["Items"]) for batch in inputs]
    pool = job.JobPool(job_program=component._get_iteration_program(), job_inputs=inputs)
    component._launch_worker(env=env, eval_input=eval_input, job_pool=pool)
    pool.await_jobs()
    worker_exception = pool.get_worker_exception()
    if worker_exception is not None:
        raise worker_exception
    children: list[ChildRun] = [
        dataclasses.replace(closed.job_output, items=sizes[closed.job_index])
        for closed in pool.get_closed_jobs()
    ]
    if spec.writer is not None:
        result = _write_results(env, spec, eval_input.map_run_record.map_run_arn, children)
    else:
        # Without a ResultWriter the results are COMPACT: each child's output, and a child that
        # failed (within the tolerated threshold) as its execution result (AWS docs,
        # "ResultWriter (Map)", Transformation). Never a silent null.
        result = transformed(children, "COMPACT")
    reason = threshold_exceeded(
        children, tolerated_count=tolerated_count, tolerated_percentage=tolerated_percentage
    )
    if reason is not None:
        # Every child has run (locally children run to the end; on AWS those still pending
        # when the threshold is crossed do not start), and with a ResultWriter the files are
        # written first, so the failures can be read where AWS puts them.
        raise MapRunError("States.ExceedToleratedFailureThreshold", reason)
    env.stack.append(result)


def _child_run(worker: Any, env: Any, job: Any) -> ChildRun:
    """Run one child workflow execution of a Map Run and report how it ended."""
    states: Any = importlib.import_module(f"{_PARSER}.asl.eval.states")
    program_state: Any = importlib.import_module(f"{_PARSER}.asl.eval.program_state")
    failure: Any = importlib.import_module(
        f"{_PARSER}.asl.component.common.error_name.failure_event"
    )
    timeout: Any = importlib.import_module(f"{_PARSER}.asl.component.common.timeouts.timeout")
    record = worker._map_run_record
    name = str(uuid.uuid4())
    start = _now()
    child_input: Any = job.job_input
    status, output, error, cause = "FAILED", None, None, None
    try:
        env.states.context_object.context_object_data["Map"] = states.MapData(
            Item=states.ItemData(Index=job.job_index, Value=job.job_input)
        )
        env.states.reset(job.job_input)
        env.stack.append(env.states.get_input())
        worker._eval_input(env_frame=env)
        child_input = copy.deepcopy(env.states.get_input())
        job.job_program.eval(env)
        end = env.program_state()
        if isinstance(end, program_state.ProgramError):
            error, cause = (end.error or {}).get("error"), (end.error or {}).get("cause")
        elif isinstance(end, program_state.ProgramStopped):
            status, error, cause = "ABORTED", end.error, end.cause
        elif isinstance(end, program_state.ProgramTimedOut):
            status, error = "TIMED_OUT", "States.Timeout"
        else:
            status, output = "SUCCEEDED", copy.deepcopy(env.states.get_input())
    except timeout.EvalTimeoutError:
        status, error = "TIMED_OUT", "States.Timeout"
    except failure.FailureEventException as failed:
        error, cause = failed.extract_error_cause_pair() or (None, None)
    machine = record.map_state_machine_arn
    return ChildRun(
        index=job.job_index,
        name=name,
        execution_arn=f"{machine.replace(':stateMachine:', ':execution:')}:{name}",
        state_machine_arn=machine,
        input=child_input,
        status=status,
        start_date=start,
        stop_date=_now(),
        output=output,
        error=error,
        cause=cause,
    )


def _iterative(original: Callable[..., None]) -> Callable[..., None]:
    """``original`` (a worker's ``_eval_pool``, whose last act is calling itself for the next
    job) run as a loop: the self-call made inside it is queued and run once it has returned.
    The order and the frames are moto's; the stack no longer grows with every item."""

    def _eval_pool(self: Any, job: Any, worker_frame: Any) -> None:
        queued: list[tuple[Any, Any]] | None = self.__dict__.get("_lambdaless_queued")
        if queued is not None:  # the tail call of the run below
            queued.append((job, worker_frame))
            return
        queued = self.__dict__["_lambdaless_queued"] = []
        try:
            original(self, job, worker_frame)
            while queued:
                original(self, *queued.pop())
        finally:
            del self.__dict__["_lambdaless_queued"]

    return _eval_pool


def _install_item_reader_failures() -> None:
    """An ItemReader that cannot read its source (no such object or bucket, access denied)
    fails the Map with ``States.ItemReaderFailed``, the error a Catch or Retry names for it
    (Step Functions developer guide, "Handling errors in Step Functions workflows"); moto
    raised the S3 client's exception, which became an uncatchable ``States.Runtime``."""
    reader: Any = _resolve(f"{_MAP}.item_reader.item_reader_decl", "ItemReader")
    failure: Any = importlib.import_module(
        f"{_PARSER}.asl.component.common.error_name.failure_event"
    )
    original = reader._eval_body

    def _eval_body(self: Any, env: Any) -> None:
        if not _is_local(env):
            original(self, env)
            return
        try:
            original(self, env)
        except failure.FailureEventException:
            raise
        except Exception as error:  # the S3 client's, e.g. NoSuchKey
            raise _map_run_failure(env, "States.ItemReaderFailed", str(error)) from None

    _patch(reader, "_eval_body", _eval_body)


def _install_iterative_pools() -> None:
    """moto's Map workers take the next job by recursion: a worker that runs more than about
    1,000 items (10,000 items at a MaxConcurrency of 17) died of RecursionError and left the
    execution waiting forever, where AWS runs such a Map to its end."""
    for module, name in _POOL_WORKERS:
        worker: Any = _resolve(f"{_MAP}.iteration.{module}", name)
        _patch(worker, "_eval_pool", _iterative(worker.__dict__["_eval_pool"]))


def _install_distributed_map() -> None:
    component: Any = _resolve(
        f"{_MAP}.iteration.distributed_iteration_component", "DistributedIterationComponent"
    )
    original_map_run = component._map_run

    def _map_run(self: Any, env: Any, eval_input: Any) -> None:
        # Every Distributed Map with an ItemProcessor has its DistributedMap (parse); the
        # legacy Iterator form, which AWS does not run in Distributed mode, stays moto's.
        spec = getattr(self, "lambdaless_map", None)
        if not _is_local(env) or spec is None:
            original_map_run(self, env, eval_input)
            return
        try:
            _run_map(self, env, eval_input, spec)
        except MapRunError as failed:
            raise _map_run_failure(env, failed.error, failed.cause) from None

    _patch(component, "_map_run", _map_run)

    worker: Any = _resolve(
        f"{_MAP}.iteration.itemprocessor.distributed_item_processor_worker",
        "DistributedItemProcessorWorker",
    )
    original_eval_job = worker._eval_job

    def _eval_job(self: Any, env: Any, job: Any) -> None:
        if not _is_local(env):
            original_eval_job(self, env, job)
            return
        job.job_output = _child_run(self, env, job)

    _patch(worker, "_eval_job", _eval_job)

    reader: Any = _resolve(
        f"{_MAP}.item_reader.eval.resource_output_transformer.transformer_json",
        "ResourceOutputTransformerJson",
    )
    original_json = reader._eval_body

    def _eval_body(self: Any, env: Any) -> None:
        if not (_is_local(env) and getattr(self, "lambdaless_jsonl", False)):
            original_json(self, env)
            return
        config = env.stack.pop()
        text = env.stack.pop()
        try:
            items = read_jsonl(text, config["MaxItemsValue"])
        except MapRunError as failed:
            raise _map_run_failure(env, failed.error, failed.cause) from None
        env.stack.append(items)

    _patch(reader, "_eval_body", _eval_body)


# --------------------------------------------------------------------------------------------
# 5. Running one execution
# --------------------------------------------------------------------------------------------


def parse(definition: str) -> Any:
    """moto's program for an ASL definition (its ANTLR parse costs most of a short run; the
    program holds no execution state, so one parse serves every execution)."""
    parsed = json.loads(definition)
    maps = _split_distributed_maps(parsed)
    with active():  # http:invoke and States.Http.* names parse only with the hooks
        parser: Any = _resolve(f"{_PARSER}.asl.parse.asl_parser", "AmazonStateLanguageParser")
        program, _tree = parser.parse(json.dumps(parsed))
        for spec in maps.values():
            _compile(spec)
    _attach_distributed_maps(program, maps)
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
        """Start and wait, with the hooks applied; ``False`` if the execution is still running
        after the deadline."""
        with active():
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
